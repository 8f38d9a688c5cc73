"""Auto Scaling records: launch configurations, groups, policies, scheduled actions,
activities and lifecycle hooks, persisted as JSON documents through the CLC's Store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from server.clc.model import Record

#: Every scaling process a group can suspend.
PROCESSES = ("Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance",
             "AlarmNotification", "ScheduledActions", "AddToLoadBalancer",
             "InstanceRefresh")
TERMINATION_POLICIES = ("Default", "OldestInstance", "NewestInstance",
                        "OldestLaunchConfiguration", "OldestLaunchTemplate",
                        "ClosestToNextInstanceHour", "AllocationStrategy")
#: The tag by which a group finds its instances (also after a restart).
GROUP_TAG = "aws:autoscaling:groupName"


@dataclass
class LaunchConfig(Record):
    """A launch configuration: what a group's instances are launched from."""

    KIND: ClassVar[str] = "as_launch_config"
    id: str  # "ACCOUNT/NAME"
    account_id: str
    name: str
    image_id: str
    instance_type: str
    created: float
    arn: str = ""
    key_name: str = ""
    security_groups: list[str] = field(default_factory=list)
    user_data: str = ""  # base64
    kernel_id: str = ""
    ramdisk_id: str = ""
    monitoring: bool = True
    iam_profile: str = ""
    public_ip: bool | None = None
    ebs_optimized: bool = False
    block_devices: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Member:
    """One instance of a group, as the group sees it."""

    id: str
    zone: str
    lifecycle: str = "Pending"  # Pending, InService, Standby, Terminating, ...
    health: str = "Healthy"
    protected: bool = False
    launch_config: str = ""
    launch_template: dict[str, str] | None = None
    launched: float = 0.0
    instance_type: str = ""
    #: The activity launching or terminating this member (finished when its state settles).
    activity: str = ""
    #: While a lifecycle hook holds the member (Pending:Wait, Terminating:Wait).
    hook_deadline: float = 0.0
    hook_token: str = ""
    hook_started: float = 0.0


@dataclass
class Group(Record):
    """An Auto Scaling group and its members."""

    KIND: ClassVar[str] = "as_group"
    id: str  # "ACCOUNT/NAME"
    account_id: str
    name: str
    arn: str
    min_size: int
    max_size: int
    desired: int
    zones: list[str]
    created: float
    launch_config: str = ""
    launch_template: dict[str, str] | None = None  # {"id", "name", "version"}
    default_cooldown: int = 300
    health_check_type: str = "EC2"
    grace_period: int = 0
    termination_policies: list[str] = field(default_factory=lambda: ["Default"])
    protect_new: bool = False
    load_balancers: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)  # Key, Value, PropagateAtLaunch
    suspended: dict[str, str] = field(default_factory=dict)  # process -> reason
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Member fields
    cooldown_until: float = 0.0
    retry_at: float = 0.0
    failures: int = 0
    failed_zones: dict[str, float] = field(default_factory=dict)  # zone -> until
    metrics: list[str] = field(default_factory=list)
    granularity: str = ""
    notifications: dict[str, list[str]] = field(default_factory=dict)  # topic -> types
    deleting: bool = False
    #: Why the group's sizes last changed (the first half of the next activities' cause).
    cause: str = ""
    placement_group: str = ""
    vpc_zone_identifier: str = ""


@dataclass
class Policy(Record):
    """A scaling policy of a group."""

    KIND: ClassVar[str] = "as_policy"
    id: str  # "ACCOUNT/GROUP/NAME"
    account_id: str
    name: str
    group: str
    arn: str
    policy_type: str = "SimpleScaling"
    adjustment_type: str = "ChangeInCapacity"
    scaling_adjustment: int | None = None
    min_adjustment_magnitude: int | None = None
    cooldown: int | None = None
    metric_aggregation: str = "Average"
    steps: list[dict[str, Any]] = field(default_factory=list)
    warmup: int | None = None
    target_tracking: dict[str, Any] | None = None
    alarms: list[dict[str, str]] = field(default_factory=list)
    enabled: bool = True
    #: Step scaling: the desired capacity before its last alarm-driven scale-out, and the
    #: end of that scale-out's warm-up (cloud clock).
    warming_from: int | None = None
    warming_until: float = 0.0


@dataclass
class ScheduledAction(Record):
    """A one-time or recurrent change of a group's sizes."""

    KIND: ClassVar[str] = "as_scheduled"
    id: str  # "ACCOUNT/GROUP/NAME"
    account_id: str
    name: str
    group: str
    arn: str
    start: float | None = None
    end: float | None = None
    recurrence: str = ""
    time_zone: str = ""
    min_size: int | None = None
    max_size: int | None = None
    desired: int | None = None
    next_run: float | None = None


@dataclass
class Activity(Record):
    """One scaling activity, with its cause and outcome."""

    KIND: ClassVar[str] = "as_activity"
    id: str
    account_id: str
    group: str
    description: str
    cause: str
    start: float
    end: float | None = None
    status: str = "InProgress"  # Successful, Failed, Cancelled, InProgress, ...
    message: str = ""
    progress: int = 0
    details: str = "{}"


@dataclass
class LifecycleHook(Record):
    """A lifecycle hook: instances wait in Pending:Wait / Terminating:Wait."""

    KIND: ClassVar[str] = "as_hook"
    id: str  # "ACCOUNT/GROUP/NAME"
    account_id: str
    name: str
    group: str
    transition: str
    heartbeat_timeout: int = 3600
    default_result: str = "ABANDON"
    metadata: str = ""
    target_arn: str = ""
    role_arn: str = ""
