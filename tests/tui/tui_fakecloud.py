"""A fake cloud with fixed data, for the TUI's snapshot tests only (real IDs and times vary)."""

from __future__ import annotations

import base64
import threading
from datetime import datetime
from typing import Any

from euca2ools.exceptions import ServiceConnectionError, ServiceError

FIXED_NOW = datetime(2026, 1, 2, 12, 34, 56)


def fixed_clock() -> datetime:
    """The snapshot tests' clock."""
    return FIXED_NOW


def _instance(n: int, state: str, node: int, itype: str = "m1.small", name: str = "",
              key: str = "ops") -> dict[str, Any]:
    inst: dict[str, Any] = {
        "instanceId": f"i-{n:017x}", "imageId": "emi-0a1b2c3d",
        "instanceState": {"code": "16", "name": state}, "instanceType": itype,
        "launchTime": f"2026-01-02T10:{n:02d}:00.000Z", "keyName": key,
        "placement": {"availabilityZone": "zone-1", "tenancy": "default", "hostId": f"zone-1-node-{node:02d}"},
        "privateIpAddress": f"10.1.0.{n + 1}", "ipAddress": f"198.51.100.{n + 9}" if state == "running" else "",
        "groupSet": [{"groupId": "sg-00000000000000001", "groupName": "default"}],
        "rootDeviceType": "instance-store", "rootDeviceName": "/dev/sda1", "blockDeviceMapping": "",
        "architecture": "x86_64", "tagSet": [{"key": "Name", "value": name}] if name else [],
    }
    return inst


def _node(n: int, used: int, power: str = "on", state: str = "UP") -> dict[str, Any]:
    return {"name": f"zone-1-node-{n:02d}", "zoneName": "zone-1", "state": state, "powerState": power,
            "coresTotal": "8", "coresUsed": str(used), "memoryTotal": "16384",
            "memoryUsed": str(used * 256), "diskTotal": "200", "diskUsed": str(used * 5),
            "hypervisor": "virtual", "instances": [{"instanceId": "x"}] * used or ""}


def _alarm(name: str, state: str, metric: str, dims: list[tuple[str, str]], threshold: str,
           changed: str, reason: str, op: str = "GreaterThanThreshold") -> dict[str, Any]:
    return {"AlarmName": name, "Namespace": "AWS/EC2" if "Instance" in str(dims) else "AWS/AutoScaling",
            "MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
            "Statistic": "Average", "ComparisonOperator": op, "Threshold": threshold, "Period": "60",
            "EvaluationPeriods": "2", "StateValue": state, "StateReason": reason,
            "StateUpdatedTimestamp": changed}


def _member(n: int, group: str, state: str = "InService") -> dict[str, Any]:
    return {"InstanceId": f"i-{n:017x}", "AvailabilityZone": "zone-1", "LifecycleState": state,
            "HealthStatus": "Healthy", "LaunchConfigurationName": f"{group}-lc"}


def _activity(n: int, group: str, status: str, description: str, cause: str) -> dict[str, Any]:
    return {"ActivityId": f"{n:08d}-0000-4000-8000-000000000000", "AutoScalingGroupName": group,
            "StatusCode": status, "Description": description, "Cause": cause, "Progress": "100",
            "StartTime": f"2026-01-02T12:{n:02d}:00.000Z", "EndTime": f"2026-01-02T12:{n:02d}:30.000Z"}


def _listener(protocol: str, port: int, back: str, back_port: int, policies: list[str],
              cert: str = "") -> dict[str, Any]:
    lsn = {"Protocol": protocol, "LoadBalancerPort": str(port), "InstanceProtocol": back,
           "InstancePort": str(back_port)}
    if cert:
        lsn["SSLCertificateId"] = cert
    return {"Listener": lsn, "PolicyNames": policies}


def _health(n: int, state: str) -> dict[str, Any]:
    failed = state == "OutOfService"
    return {"InstanceId": f"i-{n:017x}", "State": state,
            "ReasonCode": "Instance" if failed else "N/A",
            "Description": "Instance has failed at least the UnhealthyThreshold number of health "
                           "checks consecutively." if failed else "N/A"}


# CPU of the instances in the last hour, one point a minute (a morning peak on web-1).
CPU_POINTS = [5.0 + 3 * (n % 7) + (60.0 if 20 <= n < 30 else 0.0) for n in range(60)]

VM_TYPES = [("m1.small", 1, 256, 5), ("c1.medium", 2, 512, 10), ("m1.xlarge", 2, 1024, 10),
            ("m3.2xlarge", 4, 4096, 30), ("cc2.8xlarge", 16, 6144, 120)]


def _service(kind: str, zone: str, name: str, state: str = "ENABLED") -> dict[str, Any]:
    return {"serviceId": {"type": kind, "partition": zone, "name": name, "host": "10.0.0.1"},
            "localState": state}


def _service_event(n: int, stamp: str, severity: str, name: str, message: str) -> dict[str, Any]:
    return {"id": f"ev-{n}", "timestamp": stamp, "severity": severity, "serviceName": name,
            "message": message}


class FakeCloud:
    """Answers the dashboard's calls from fixed data; ``down`` makes every call fail to connect."""

    label = "admin@fake  http://cloud.example:8773/services/compute"
    is_aws = False

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.instances = [
            _instance(1, "running", 1, name="web-1"), _instance(2, "running", 1, name="web-2"),
            _instance(3, "pending", 2, "c1.medium", name="db"), _instance(4, "stopped", 3, key=""),
            _instance(5, "terminated", 4, name="old"), _instance(6, "running", 2, "m1.xlarge"),
        ]
        self.nodes = [_node(1, 2), _node(2, 3), _node(3, 0), _node(4, 0, "off", "DOWN")]
        self.alarms = [
            _alarm("web-cpu-high", "ALARM", "CPUUtilization", [("AutoScalingGroupName", "web")], "70.0",
                   "2026-01-02T12:20:00.000Z", "Threshold Crossed: 2 datapoints were greater than 70.0"),
            _alarm("web-cpu-low", "OK", "CPUUtilization", [("AutoScalingGroupName", "web")], "10.0",
                   "2026-01-02T11:00:00.000Z", "Threshold Crossed: 1 datapoint was not less than 10.0",
                   "LessThanThreshold"),
            _alarm("db-status", "INSUFFICIENT_DATA", "StatusCheckFailed",
                   [("InstanceId", "i-00000000000000003")], "1.0", "2026-01-02T10:03:00.000Z",
                   "Insufficient Data: 2 datapoints were unknown.", "GreaterThanOrEqualToThreshold"),
        ]
        self.scaling_groups = [
            {"AutoScalingGroupName": "web", "LaunchConfigurationName": "web-lc", "MinSize": "1",
             "MaxSize": "4", "DesiredCapacity": "3", "AvailabilityZones": ["zone-1"],
             "Instances": [_member(1, "web"), _member(2, "web"), _member(7, "web", "Pending")]},
            {"AutoScalingGroupName": "batch", "LaunchConfigurationName": "batch-lc", "MinSize": "0",
             "MaxSize": "10", "DesiredCapacity": "0", "AvailabilityZones": ["zone-1"], "Instances": []},
        ]
        self.activities = [
            _activity(21, "web", "InProgress", "Launching a new EC2 instance: i-00000000000000007",
                      "an alarm web-cpu-high in state ALARM triggered policy web-scale-out "
                      "changing the desired capacity from 2 to 3."),
            _activity(5, "batch", "Successful", "Terminating EC2 instance: i-00000000000000009",
                      "a user request explicitly set group desired capacity changing from 1 to 0."),
            _activity(2, "web", "Successful", "Launching a new EC2 instance: i-00000000000000002",
                      "a user request created an AutoScalingGroup changing the desired capacity from 0 to 2."),
            _activity(1, "web", "Successful", "Launching a new EC2 instance: i-00000000000000001",
                      "a user request created an AutoScalingGroup changing the desired capacity from 0 to 2."),
        ]
        self.cpu = {"i-00000000000000001": CPU_POINTS}
        self.services = [
            _service("eucalyptus", "eucalyptus", "eucalyptus"),
            _service("compute", "eucalyptus", "compute"),
            _service("walrusbackend", "eucalyptus", "walrus"),
            _service("cluster", "zone-1", "zone-1-cc"),
            _service("storage", "zone-1", "zone-1-sc"),
            _service("node", "zone-1", "zone-1-node-01"),
            _service("node", "zone-1", "zone-1-node-02", "DISABLED"),
            _service("node", "zone-1", "zone-1-node-04", "NOTREADY"),
        ]
        self.service_events = [
            _service_event(1, "2026-01-02T09:00:00.000Z", "INFO", "eucalyptus",
                           "cloud started with 8 local services"),
            _service_event(2, "2026-01-02T11:30:00.000Z", "INFO", "zone-1-node-02",
                           "state changed from ENABLED to DISABLED (stop by the administrator)"),
            _service_event(3, "2026-01-02T12:10:00.000Z", "ERROR", "zone-1-node-04",
                           "node stopped reporting to the CC of zone-1: its capacity left the zone "
                           "(0 instances kept)"),
        ]
        self.load_balancers = [
            {"LoadBalancerName": "web", "DNSName": "web-000000000001.lb.cloud.example",
             "Scheme": "internet-facing", "AvailabilityZones": ["zone-1"],
             "CreatedTime": "2026-01-02T09:00:00.000Z",
             "ListenerDescriptions": [
                 _listener("HTTP", 80, "HTTP", 8080, ["web-sticky"]),
                 _listener("HTTPS", 443, "HTTP", 8080, [],
                           "arn:aws:iam::000000000001:server-certificate/web")]},
            {"LoadBalancerName": "db", "DNSName": "internal-db-000000000001.lb.cloud.example",
             "Scheme": "internal", "AvailabilityZones": ["zone-1"],
             "CreatedTime": "2026-01-02T09:30:00.000Z",
             "ListenerDescriptions": [_listener("TCP", 5432, "TCP", 5432, [])]},
        ]
        self.instance_health = {"web": [_health(1, "InService"), _health(2, "OutOfService")],
                                "db": []}

    def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """One EC2 action from the fixed data."""
        with self.lock:
            self.calls.append((action, params or {}))
        if self.down:
            raise ServiceConnectionError("connection error (Connection refused)")
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            raise ServiceError("InvalidAction", f"The action {action} is not valid for this web service.", 400)
        return handler(params or {})

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """One CloudWatch or Auto Scaling action from the fixed data."""
        return self.call(action, params)

    def list_buckets(self) -> list[dict[str, str]]:
        """Two buckets."""
        if self.down:
            raise ServiceConnectionError("connection error (Connection refused)")
        return [{"name": "backups", "created": "2026-01-01T00:00:00.000Z"},
                {"name": "logs", "created": "2026-01-02T08:00:00.000Z"}]

    def _DescribeInstances(self, params: dict[str, Any]) -> Any:
        return {"reservationSet": [{"reservationId": "r-1", "groupSet": [], "instancesSet": self.instances}]}

    def _DescribeAvailabilityZones(self, params: dict[str, Any]) -> Any:
        info = [{"zoneName": "zone-1", "zoneState": "available", "regionName": "fake"}]
        if params.get("ZoneName") == ["verbose"]:
            info.append({"zoneName": "|- vm types", "zoneState": "free / max   cpu   ram  disk"})
            for name, cpu, ram, disk in VM_TYPES:
                total = 32 // cpu
                free = max(0, total - 5 * cpu)
                info.append({"zoneName": f"|- {name}", "zoneState": f"{free:04d} / {total:04d}   {cpu}  {ram}  {disk}"})
        return {"availabilityZoneInfo": info}

    def _DescribeServices(self, params: dict[str, Any]) -> Any:
        return {"serviceStatuses": self.services}

    def _DescribeEvents(self, params: dict[str, Any]) -> Any:
        return {"events": self.service_events}

    def _DescribeNodes(self, params: dict[str, Any]) -> Any:
        return {"nodeSet": self.nodes}

    def _DescribeImages(self, params: dict[str, Any]) -> Any:
        return {"imagesSet": [{"imageId": "emi-0a1b2c3d", "name": "default-image", "imageState": "available",
                               "imageOwnerId": "000000000001", "isPublic": "true", "architecture": "x86_64",
                               "imageType": "machine", "rootDeviceType": "instance-store",
                               "imageLocation": "eucalyptus-images/default-image.manifest.xml"}]}

    def _DescribeKeyPairs(self, params: dict[str, Any]) -> Any:
        return {"keySet": [{"keyName": "ops", "keyFingerprint": "1f:2e:3d:4c:5b:6a:79:88:97:a6:b5:c4:d3:e2:f1:00"}]}

    def _DescribeSecurityGroups(self, params: dict[str, Any]) -> Any:
        return {"securityGroupInfo": [
            {"groupId": "sg-00000000000000001", "groupName": "default", "groupDescription": "default group",
             "ownerId": "000000000001", "ipPermissions": [
                 {"ipProtocol": "tcp", "fromPort": "22", "toPort": "22", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]},
                 {"ipProtocol": "icmp", "fromPort": "-1", "toPort": "-1",
                  "groups": [{"groupName": "default"}]}]}]}

    def _DescribeAddresses(self, params: dict[str, Any]) -> Any:
        return {"addressesSet": [{"publicIp": "198.51.100.200", "allocationId": "eipalloc-0000000000000001",
                                  "instanceId": "i-00000000000000001", "domain": "standard"}]}

    def _DescribeInstanceTypes(self, params: dict[str, Any]) -> Any:
        return {"instanceTypeSet": [{"instanceType": name} for name, *_ in VM_TYPES]}

    def _TerminateInstances(self, params: dict[str, Any]) -> Any:
        return {"instancesSet": [{"instanceId": i} for i in params.get("InstanceId", [])]}

    def _GetConsoleOutput(self, params: dict[str, Any]) -> Any:
        text = f"[    0.000000] Booting {params.get('InstanceId')}\nlogin:\n"
        return {"output": base64.b64encode(text.encode()).decode()}

    def _DescribeAlarms(self, params: dict[str, Any]) -> Any:
        return {"MetricAlarms": self.alarms}

    def _GetMetricStatistics(self, params: dict[str, Any]) -> Any:
        iid = params["Dimensions"]["member"][0]["Value"]
        points = self.cpu.get(iid, [])
        # The fixed clock's hour, whatever StartTime says: snapshots must not depend on today.
        return {"Label": "CPUUtilization", "Datapoints": [
            {"Timestamp": f"2026-01-02T11:{n:02d}:00Z", "Average": str(v), "Unit": "Percent"}
            for n, v in reversed(list(enumerate(points)))]}

    def _DescribeAutoScalingGroups(self, params: dict[str, Any]) -> Any:
        return {"AutoScalingGroups": self.scaling_groups}

    def _DescribeScalingActivities(self, params: dict[str, Any]) -> Any:
        return {"Activities": self.activities}

    def _DescribeLoadBalancers(self, params: dict[str, Any]) -> Any:
        return {"LoadBalancerDescriptions": self.load_balancers}

    def _DescribeInstanceHealth(self, params: dict[str, Any]) -> Any:
        name = params["LoadBalancerName"]
        if name not in self.instance_health:
            raise ServiceError("LoadBalancerNotFound", f"There is no ACTIVE Load Balancer named '{name}'", 400)
        return {"InstanceStates": self.instance_health[name]}

    def _RegisterInstancesWithLoadBalancer(self, params: dict[str, Any]) -> Any:
        name = params["LoadBalancerName"]
        for inst in params["Instances.member"]:
            n = int(inst["InstanceId"].split("-")[1], 16)
            self.instance_health[name] = [*self.instance_health[name], _health(n, "InService")]
        return {"Instances": [{"InstanceId": s["InstanceId"]} for s in self.instance_health[name]]}

    def _DeregisterInstancesFromLoadBalancer(self, params: dict[str, Any]) -> Any:
        name = params["LoadBalancerName"]
        gone = {inst["InstanceId"] for inst in params["Instances.member"]}
        self.instance_health[name] = [s for s in self.instance_health[name] if s["InstanceId"] not in gone]
        return {"Instances": [{"InstanceId": s["InstanceId"]} for s in self.instance_health[name]]}
