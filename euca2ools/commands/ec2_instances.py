"""Instance commands: run, describe, terminate, stop/start/reboot, console, attributes, status."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import get, print_reservation, print_state_change
from ..xmlparse import as_list
from .types import (
    INSTANCE_FILTERS,
    base64_text,
    block_device_mapping,
    flexible_bool,
    network_interface,
    read_file_b64,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


# -- euca-run-instances ------------------------------------------------------------------
def _prepare_run(inv: Invocation) -> None:
    """Turn the friendly run-instances options into RunInstances parameters."""
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    count = a.get("instance_count") or "1"
    try:
        low, _, high = count.partition("-")
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise ArgumentError(f"argument -n/--instance-count: invalid count '{count}'") from None
    # MIN above MAX goes to the server as given: it answers InvalidParameterValue (as AWS),
    # where swapping them would launch what the user did not ask for.
    if lo < 1 or hi < 1:
        raise ArgumentError("argument -n/--instance-count: instance count must be positive")
    p["MinCount"], p["MaxCount"] = lo, hi
    groups = a.get("group") or []
    names = [g for g in groups if not g.startswith("sg-")]
    ids = [g for g in groups if g.startswith("sg-")]
    if a.get("user_data"):
        import os

        if os.path.isfile(a["user_data"]):
            raise ArgumentError(
                "argument -d/--user-data: to pass the contents of a file as user data, use "
                "-f/--user-data-file.  To pass the literal value instead, use --user-data-force."
            )
        p["UserData"] = base64_text(a["user_data"])
    elif a.get("user_data_force"):
        p["UserData"] = base64_text(a["user_data_force"])
    elif a.get("user_data_file"):
        p["UserData"] = read_file_b64(a["user_data_file"])
    if not a.get("KeyName") and inv.command.service == "ec2":
        default_key = inv.session.config.get_region(inv.session.region, "ec2-default-keypair")
        if default_key:
            p["KeyName"] = default_key
    if a.get("block_device_mapping"):
        p["BlockDeviceMapping"] = [block_device_mapping(m) for m in a["block_device_mapping"]]
    profile = a.get("iam_profile")
    if profile:
        p["IamInstanceProfile." + ("Arn" if profile.startswith("arn:") else "Name")] = profile
    if a.get("monitor"):
        p["Monitoring.Enabled"] = "true"
    if a.get("associate_public_ip_address") is not None or a.get("secondary_count") or a.get("secondary_address"):
        # VPC options that only exist on a network interface: build NetworkInterface.1.
        eni: dict[str, Any] = {"DeviceIndex": 0}
        if a.get("associate_public_ip_address") is not None:
            eni["AssociatePublicIpAddress"] = a["associate_public_ip_address"]
        if p.pop("SubnetId", None):
            eni["SubnetId"] = a["SubnetId"]
        if p.pop("PrivateIpAddress", None):
            eni["PrivateIpAddress"] = a["PrivateIpAddress"]
        if ids:
            eni["SecurityGroupId"] = ids
            ids = []
        if a.get("secondary_count"):
            eni["SecondaryPrivateIpAddressCount"] = a["secondary_count"]
        if a.get("secondary_address"):
            eni["PrivateIpAddresses"] = [{"PrivateIpAddress": x, "Primary": False}
                                         for x in a["secondary_address"]]
        p["NetworkInterface"] = [eni]
    elif a.get("network_interface"):
        p["NetworkInterface"] = [network_interface(spec) for spec in a["network_interface"]]
    if names:
        p["SecurityGroup"] = names
    if ids:
        p["SecurityGroupId"] = ids


def _print_run(inv: Invocation, result: Any) -> None:
    print_reservation(inv, result)


def _print_describe(inv: Invocation, result: Any) -> None:
    for reservation in as_list(result.get("reservationSet")):
        print_reservation(inv, reservation)


def _print_console(inv: Invocation, result: Any) -> None:
    """Instance ID, timestamp, then the decoded console text (control chars as ^X)."""
    import base64

    inv.echo(result.get("instanceId") or "")
    inv.echo(result.get("timestamp") or "")
    raw = base64.b64decode(result.get("output") or "")
    text = raw.decode("utf-8", "replace").replace("\ufffd", "?")
    if not inv.args.get("raw_console_output"):
        text = "".join(
            ch if ch in "\t\n\r" or (32 <= ord(ch) != 127)
            else ("^?" if ord(ch) == 127 else "^" + chr(ord(ch) + 64))
            for ch in text
        )
    text = text.rstrip("\n")
    if text:  # the console's last line ends with the newline flush() adds, never twice
        inv.echo(text)


_ATTRS = [
    ("-b", "--block-device-mapping", "blockDeviceMapping"),
    (None, "--disable-api-termination", "disableApiTermination"),
    (None, "--ebs-optimized", "ebsOptimized"),
    ("-g", "--group-id", "groupSet"),
    ("-p", "--product-code", "productCodes"),
    (None, "--instance-initiated-shutdown-behavior", "instanceInitiatedShutdownBehavior"),
    ("-t", "--instance-type", "instanceType"),
    (None, "--kernel", "kernel"),
    (None, "--ramdisk", "ramdisk"),
    (None, "--root-device-name", "rootDeviceName"),
    (None, "--source-dest-check", "sourceDestCheck"),
    (None, "--user-data", "userData"),
]


def _attr_args() -> Group:
    args = []
    for short, long, attr in _ATTRS:
        flags = (short, long) if short else (long,)
        args.append(Arg(*flags, name=f"attr_{attr}", flag=True,
                        help=f"display the instance's {attr} attribute"))
    return Group(*args, required=True)


def _prepare_describe_attr(inv: Invocation) -> None:
    for _short, _long, attr in _ATTRS:
        if inv.args.get(f"attr_{attr}"):
            inv.params["Attribute"] = attr


def _print_describe_attr(inv: Invocation, result: Any) -> None:
    """One line per attribute in euca2ools' forms (BLOCKDEVICE, groupSet, userData...)."""
    import base64

    iid = result.get("instanceId")
    attr = inv.params["Attribute"]
    if attr == "blockDeviceMapping":
        for m in as_list(result.get("blockDeviceMapping")):
            ebs = m.get("ebs") or {}
            inv.emit("BLOCKDEVICE", m.get("deviceName"), ebs.get("volumeId"),
                     ebs.get("attachTime"), ebs.get("deleteOnTermination"))
    elif attr == "groupSet":
        groups = [g.get("groupId") or g.get("groupName") for g in as_list(result.get("groupSet"))]
        inv.emit("groupSet", iid, ", ".join(g for g in groups if g))
    elif attr == "productCodes":
        codes = [c.get("productCode") for c in as_list(result.get("productCodes"))]
        inv.emit("productCodes", iid, ", ".join(c for c in codes if c))
    elif attr == "userData":
        inv.emit("userData", iid)
        data = get(result, "userData", "value")
        if data:
            inv.echo(base64.b64decode(data).decode("utf-8", "replace"))
    else:
        inv.emit(attr, iid, get(result, attr, "value"))


def _prepare_modify_attr(inv: Invocation) -> None:
    a, p = inv.args, inv.params
    if a.get("block_device_mapping"):
        mappings = []
        for spec in a["block_device_mapping"]:
            device, _, rest = spec.partition("=")
            dot = rest.split(":")[-1] if rest else ""
            mappings.append({"DeviceName": device, "Ebs": {"DeleteOnTermination": flexible_bool(dot)}})
        p["BlockDeviceMapping"] = mappings
    if a.get("user_data_file"):
        p["UserData.Value"] = read_file_b64(a["user_data_file"])


def _print_monitor(inv: Invocation, result: Any) -> None:
    for item in as_list(result.get("instancesSet")):
        inv.emit(item.get("instanceId"), "monitoring-" + (get(item, "monitoring", "state") or ""))


def _print_status(inv: Invocation, result: Any) -> None:
    """INSTANCE, SYSTEMSTATUS/INSTANCESTATUS and EVENT lines."""
    for st in as_list(result.get("instanceStatusSet")):
        inst_status = get(st, "instanceStatus", "status")
        sys_status = get(st, "systemStatus", "status")
        if inv.args.get("hide_healthy") and inst_status == "ok" and sys_status == "ok":
            continue
        retirement = [e for e in as_list(st.get("eventsSet")) if e.get("code") == "instance-retirement"]
        inv.emit("INSTANCE", st.get("instanceId"), st.get("availabilityZone"),
                 get(st, "instanceState", "name"), get(st, "instanceState", "code"),
                 inst_status, sys_status,
                 retirement[0].get("code") if retirement else None,
                 retirement[0].get("notBefore") if retirement else None)
        for key, word in (("systemStatus", "SYSTEMSTATUS"), ("instanceStatus", "INSTANCESTATUS")):
            for detail in as_list(get(st, key, "details")):
                inv.emit(word, detail.get("name"), detail.get("status"), detail.get("impairedSince"))
        for event in as_list(st.get("eventsSet")):
            inv.emit("EVENT", event.get("code"), event.get("notBefore"), event.get("notAfter"),
                     event.get("description"))


_INSTANCES = Arg("INSTANCE", dest="InstanceId", nargs="+", complete="instance",
                 help="ID(s) of the instance(s)")
_ONE_INSTANCE = Arg("INSTANCE", dest="InstanceId", complete="instance",
                    help="ID of the instance")

COMMANDS = [
    Command(
        "euca-run-instances", "ec2", "RunInstances",
        "Launch instances of a machine image",
        [
            Arg("IMAGE", dest="ImageId", complete="image", help="ID of the image to instantiate"),
            Arg("-n", "--instance-count", name="instance_count", metavar="MIN[-MAX]",
                help="number of instances to launch. If this number of instances cannot be "
                "launched, no instances will launch. If specified as a range (min-max), the "
                "server will attempt to launch the maximum number, but no fewer than the minimum "
                "number."),
            Arg("-g", "--group", name="group", multiple=True, complete="group",
                help="name or ID of a security group to add the instances to (repeatable)"),
            Arg("-k", "--key", dest="KeyName", metavar="KEYPAIR", complete="keypair",
                help="name of a key pair to provide to the instances"),
            Group(
                Arg("-d", "--user-data", name="user_data", metavar="DATA",
                    help="user data to provide to the instances"),
                Arg("--user-data-force", name="user_data_force", metavar="DATA",
                    help="same as -d/--user-data, but without checking if a file by that name "
                    "exists first"),
                Arg("-f", "--user-data-file", name="user_data_file", metavar="FILE",
                    complete="file", help="file containing user data to provide to the instances"),
            ),
            Arg("--addressing", dest="AddressingType", choices=("public", "private"),
                help="[Eucalyptus only, non-VPC only] addressing scheme to launch the instance "
                "with. Use \"private\" to run an instance with no public address."),
            Arg("-t", "--instance-type", dest="InstanceType", metavar="TYPE",
                complete="instance-type", help="type of instance to launch"),
            Arg("-z", "--availability-zone", dest="Placement.AvailabilityZone", metavar="ZONE",
                complete="zone", help="availability zone to launch the instances in"),
            Arg("--kernel", dest="KernelId", metavar="KERNEL", complete="image",
                help="ID of the kernel to launch the instance(s) with"),
            Arg("--ramdisk", dest="RamdiskId", metavar="RAMDISK", complete="image",
                help="ID of the ramdisk to launch the instance(s) with"),
            Arg("-b", "--block-device-mapping", name="block_device_mapping", multiple=True,
                metavar="DEVICE=MAPPED",
                help="define a block device mapping for the instances, in the form "
                "DEVICE=MAPPED, where \"MAPPED\" is \"none\", \"ephemeral(0-3)\", or "
                "\"[SNAP-ID]:[GiB]:[true|false]:[standard|VOLTYPE[:IOPS]]\""),
            Arg("-m", "--monitor", name="monitor", flag=True,
                help="enable detailed monitoring for the instance(s)"),
            Arg("--disable-api-termination", dest="DisableApiTermination", flag=True,
                help="prevent API users from terminating the instance(s)"),
            Arg("--instance-initiated-shutdown-behavior",
                dest="InstanceInitiatedShutdownBehavior", choices=("stop", "terminate"),
                help="whether to \"stop\" (default) or terminate EBS instances when they shut down"),
            Arg("--placement-group", dest="Placement.GroupName", metavar="PLGROUP",
                help="name of a placement group to launch into"),
            Arg("--tenancy", dest="Placement.Tenancy", choices=("default", "dedicated"),
                help="[VPC only] \"dedicated\" to run on single-tenant hardware"),
            Arg("--client-token", dest="ClientToken", metavar="TOKEN",
                help="unique identifier to ensure request idempotency"),
            Arg("--ebs-optimized", dest="EbsOptimized", flag=True,
                help="optimize the new instance(s) for EBS I/O"),
            Arg("-p", "--iam-profile", name="iam_profile", metavar="IPROFILE",
                help="name or ARN of the IAM instance profile to associate with the new "
                "instance(s)"),
            Arg("-s", "--subnet", dest="SubnetId", metavar="SUBNET",
                help="[VPC only] subnet to create the instance's network interface in"),
            Arg("--associate-public-ip-address", name="associate_public_ip_address",
                metavar="{true,false}", type=flexible_bool,
                help="[VPC only] whether or not to assign a public address to the instance's "
                "network interface"),
            Arg("--private-ip-address", dest="PrivateIpAddress", metavar="ADDRESS",
                help="[VPC only] assign a specific primary private IP address to an instance's "
                "interface"),
            Arg("-a", "--network-interface", name="network_interface", multiple=True,
                metavar="INTERFACE",
                help="[VPC only] add a network interface to the new instance (repeatable). If "
                "the interface already exists, supply its ID and a numeric index for it, "
                "separated by \":\", in the form \"eni-NNNNNNNN:INDEX\". To create a new "
                "interface, supply a numeric index and subnet ID for it, along with (in order) "
                "an optional description, a primary private IP address, a list of security "
                "group IDs to associate with the interface, whether to delete the interface "
                "upon instance termination (\"true\" or \"false\"), a number of secondary "
                "private IP addresses to create automatically, and a list of secondary private "
                "IP addresses to assign to the interface, separated by \":\", in the form "
                "\":INDEX:SUBNET:[DESCRIPTION]:[PRIV_IP]:[GROUP1,GROUP2,...]:[true|false]:"
                "[SEC_IP_COUNT|:SEC_IP1,SEC_IP2,...]\"."),
            Group(
                Arg("--secondary-address", name="secondary_address", multiple=True,
                    metavar="ADDRESS", help="[VPC only] assign a specific secondary private IP "
                    "address to an instance's network interface (repeatable)"),
                Arg("--secondary-count", name="secondary_count", metavar="COUNT",
                    help="[VPC only] automatically assign a specific number of secondary private "
                    "IP addresses to an instance's network interface"),
            ),
        ],
        prepare=_prepare_run, output=_print_run,
    ),
    Command(
        "euca-describe-instances", "ec2", "DescribeInstances",
        "Show information about instances",
        [Arg("INSTANCE", dest="InstanceId", nargs="*", complete="instance",
             help="limit results to specific instances")],
        filters=INSTANCE_FILTERS, output=_print_describe,
    ),
    Command("euca-terminate-instances", "ec2", "TerminateInstances",
            "Terminate one or more instances", [_INSTANCES], output=print_state_change),
    Command("euca-stop-instances", "ec2", "StopInstances",
            "Stop one or more running instances",
            [_INSTANCES, Arg("-f", "--force", dest="Force", flag=True,
                             help="immediately stop the instance(s). Data may be lost")],
            output=print_state_change),
    Command("euca-start-instances", "ec2", "StartInstances",
            "Start one or more stopped instances", [_INSTANCES], output=print_state_change),
    Command("euca-reboot-instances", "ec2", "RebootInstances",
            "Reboot one or more instances", [_INSTANCES]),
    Command(
        "euca-get-console-output", "ec2", "GetConsoleOutput",
        "Retrieve console output for the specified instance",
        [_ONE_INSTANCE,
         Arg("-r", "--raw-console-output", name="raw_console_output", flag=True,
             help="display raw output without escaping control characters")],
        output=_print_console,
    ),
    Command(
        "euca-describe-instance-attribute", "ec2", "DescribeInstanceAttribute",
        "Show one of an instance's attributes",
        [_ONE_INSTANCE, _attr_args()],
        prepare=_prepare_describe_attr, output=_print_describe_attr,
    ),
    Command(
        "euca-modify-instance-attribute", "ec2", "ModifyInstanceAttribute",
        "Modify an attribute of an instance",
        [
            _ONE_INSTANCE,
            Group(
                Arg("-b", "--block-device-mapping", name="block_device_mapping", multiple=True,
                    metavar="DEVICE=::(true|false)",
                    help="change whether a volume attached to the instance will be deleted upon "
                    "the instance's termination"),
                Arg("--disable-api-termination", dest="DisableApiTermination.Value",
                    choices=("true", "false"),
                    help="change whether or not the instance may be terminated"),
                Arg("--ebs-optimized", dest="EbsOptimized.Value", choices=("true", "false"),
                    help="change whether or not the instance should be optimized for EBS I/O"),
                Arg("-g", "--group-id", dest="GroupId", multiple=True, metavar="GROUP",
                    complete="group",
                    help="[VPC only] change the instance's security groups (repeatable)"),
                Arg("--instance-initiated-shutdown-behavior",
                    dest="InstanceInitiatedShutdownBehavior.Value", choices=("stop", "terminate"),
                    help="whether to stop or terminate the EBS instance when it shuts down"),
                Arg("-t", "--instance-type", dest="InstanceType.Value", metavar="TYPE",
                    complete="instance-type", help="change the instance's type"),
                Arg("--kernel", dest="Kernel.Value", metavar="IMAGE", complete="image",
                    help="change the instance's kernel image"),
                Arg("--ramdisk", dest="Ramdisk.Value", metavar="IMAGE", complete="image",
                    help="change the instance's ramdisk image"),
                Arg("--source-dest-check", dest="SourceDestCheck.Value", choices=("true", "false"),
                    help="[VPC only] change whether source/destination address checking is enabled"),
                Arg("--sriov", dest="SriovNetSupport.Value", choices=("simple",),
                    help="enable enhanced networking for the instance and its descendants"),
                Arg("--user-data", dest="UserData.Value", metavar="DATA",
                    help="change the instance's user data (must be base64-encoded)"),
                Arg("--user-data-file", name="user_data_file", metavar="FILE", complete="file",
                    help="change the instance's user data to the contents of a file"),
                required=True,
            ),
        ],
        prepare=_prepare_modify_attr,
    ),
    Command(
        "euca-reset-instance-attribute", "ec2", "ResetInstanceAttribute",
        "Reset an attribute of an instance to its default value",
        [
            _ONE_INSTANCE,
            Group(
                Arg("--kernel", name="reset_kernel", flag=True, help="reset the instance's kernel"),
                Arg("--ramdisk", name="reset_ramdisk", flag=True,
                    help="reset the instance's ramdisk"),
                Arg("--source-dest-check", name="reset_sourceDestCheck", flag=True,
                    help="reset the instance's source-destination check"),
                required=True,
            ),
        ],
        prepare=lambda inv: inv.params.update(Attribute=next(
            k.split("_", 1)[1] for k in ("reset_kernel", "reset_ramdisk", "reset_sourceDestCheck")
            if inv.args.get(k))),
    ),
    Command(
        "euca-describe-instance-status", "ec2", "DescribeInstanceStatus",
        "Show information about instance status and scheduled events",
        [
            Arg("INSTANCE", dest="InstanceId", nargs="*", complete="instance",
                help="limit results to specific instances"),
            Arg("--hide-healthy", name="hide_healthy", flag=True,
                help="hide instances where all status checks pass"),
            Arg("--include-all-instances", dest="IncludeAllInstances", flag=True,
                help="show all instances, not just those that are running"),
        ],
        filters=("availability-zone", "event.code", "event.description", "event.not-after",
                 "event.not-before", "instance-state-code", "instance-state-name",
                 "instance-status.reachability", "instance-status.status",
                 "system-status.reachability", "system-status.status"),
        output=_print_status,
    ),
    Command("euca-monitor-instances", "ec2", "MonitorInstances",
            "Enable monitoring for one or more instances", [_INSTANCES], output=_print_monitor),
    Command("euca-unmonitor-instances", "ec2", "UnmonitorInstances",
            "Disable monitoring for one or more instances", [_INSTANCES], output=_print_monitor),
    Command(
        "euca-confirm-product-instance", "ec2", "ConfirmProductInstance",
        "Verify if a product code is associated with an instance",
        [Arg("CODE", dest="ProductCode", help="product code to confirm (required)"),
         Arg("-i", "--instance", dest="InstanceId", required=True, metavar="INSTANCE",
             complete="instance", help="ID of the instance to confirm (required)")],
        # No tag word: code, instance, whether it is associated, the owner of the instance.
        output=lambda inv, r: inv.emit(inv.args.get("ProductCode"), inv.args.get("InstanceId"),
                                       r.get("return"), r.get("ownerId")),
    ),
]
