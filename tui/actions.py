"""What the operator can do from the keyboard: launch, stop/start/reboot/terminate, keys, addresses,
volumes and snapshots, tags, instances of load balancers."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App

from . import elbv2
from .cells import as_list
from .cloud import CloudAPI, ServiceConnectionError, ServiceError
from .model import instance_state, instances_of, parse_zones
from .screens import ConfirmScreen, Field, FormScreen
from .table import plain
from .views import LoadBalancersView

if TYPE_CHECKING:
    from .views import View

T = TypeVar("T")

# Offered when the cloud cannot list its instance types (older Eucalyptus, restricted users).
FALLBACK_TYPES = ("t1.micro", "m1.small", "m1.medium", "c1.medium", "m1.large", "m1.xlarge",
                  "c1.xlarge", "m2.xlarge", "m3.xlarge", "m2.2xlarge", "m3.2xlarge")

INSTANCE_ACTIONS = {
    "terminate": ("TerminateInstances", "Terminate"),
    "stop": ("StopInstances", "Stop"),
    "start": ("StartInstances", "Start"),
    "reboot": ("RebootInstances", "Reboot"),
}


class ActionsApp(App[None]):
    """Keyboard actions of :class:`~tui.app.EucaApp`; every cloud call runs in a worker thread."""

    cloud: CloudAPI

    # Provided by EucaApp, which owns the views and the refresh loop.
    def view(self, name: str) -> View:
        """The view widget of a tab."""
        raise NotImplementedError

    def current_view(self) -> View:
        """The view on screen."""
        raise NotImplementedError

    def log_event(self, resource: str, event: str, style: str = "") -> None:
        """Append to the event log."""
        raise NotImplementedError

    def wake_poller(self) -> None:
        """Make the refresh loop run now."""
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------------
    def run_call(self, what: str, call: Callable[[], T],
                 done: Callable[[T], None] | None = None, resource: str = "") -> None:
        """Run ``call`` in a worker thread; failures become one-line notifications (and, with a
        ``resource``, event log lines), ``done`` runs on the UI thread."""

        def failed(message: str) -> None:
            self.notify(message, title=f"{what} failed", severity="error", timeout=8)
            if resource:
                self.log_event(resource, f"{what.lower()} failed: {message}", "bold red")

        def job() -> None:
            try:
                result = call()
            except ServiceError as err:
                self.call_from_thread(failed, one_line(f"{err.message} ({err.code})"))
                return
            except ServiceConnectionError as err:
                self.call_from_thread(failed, one_line(f"cloud unreachable: {err}"))
                return
            except Exception as err:  # noqa: BLE001 - an operator's action must never crash the app
                self.call_from_thread(failed, one_line(f"{type(err).__name__}: {err}"))
                return
            if done is not None:
                self.call_from_thread(done, result)
            self.wake_poller()

        # A daemon thread, like the refresh loop's, so that quitting never waits for the cloud.
        threading.Thread(target=job, name=f"euca-tui {what}", daemon=True).start()

    def selected(self, view: str) -> str | None:
        """The key of the cursor row in a view's main table."""
        table = self.view(view).tables()[0]
        return table.selected_key

    # -- instances --------------------------------------------------------------------------
    def action_launch(self) -> None:
        """Open the launch form (images, types, keys, groups and zones are fetched first)."""

        def choices() -> dict[str, Any]:
            cloud = self.cloud
            images = [i for i in as_list(cloud.call("DescribeImages").get("imagesSet"))
                      if i.get("imageType", "machine") == "machine"] if not getattr(cloud, "is_aws", False) \
                else as_list(cloud.call("DescribeImages", {"Owner": ["self"]}).get("imagesSet"))
            try:
                types = [t.get("instanceType", "") for t in
                         as_list(cloud.call("DescribeInstanceTypes").get("instanceTypeSet"))]
            except ServiceError:
                types = []
            keys = [k.get("keyName", "") for k in as_list(cloud.call("DescribeKeyPairs").get("keySet"))]
            groups = [g.get("groupName", "") for g in
                      as_list(cloud.call("DescribeSecurityGroups").get("securityGroupInfo"))]
            zones, _ = parse_zones(cloud.call("DescribeAvailabilityZones"))
            return {"images": images, "types": [t for t in types if t] or list(FALLBACK_TYPES),
                    "keys": keys, "groups": groups, "zones": [z["name"] for z in zones]}

        self.run_call("Launch", choices, self._open_launch_form)

    def _open_launch_form(self, c: dict[str, Any]) -> None:
        if not c["images"]:
            self.notify("No machine image is registered.", title="Launch", severity="warning")
            return
        images = [(f"{i.get('imageId')}  {i.get('name', '')}", str(i.get("imageId"))) for i in c["images"]]
        fields = [
            Field("image", "Image", images[0][1], images),
            Field("type", "Instance type", "m1.small", [(t, t) for t in c["types"]]),
            Field("count", "Count", "1"),
            Field("key", "Key pair", "", [("(none)", "")] + [(k, k) for k in c["keys"]]),
            Field("group", "Security group", "default", [(g, g) for g in c["groups"]] or [("default", "default")]),
            Field("zone", "Availability zone", "", [("(any)", "")] + [(z, z) for z in c["zones"]]),
        ]
        self.push_screen(FormScreen("Launch instances", fields, "Launch", focus="count"), self._launch)

    def _launch(self, values: dict[str, str] | None) -> None:
        if not values:
            return
        try:
            count = int(values["count"])
            if count < 1:
                raise ValueError
        except ValueError:
            self.notify(f"Count must be a positive number, not {values['count']!r}.",
                        title="Launch", severity="error")
            return
        params = {"ImageId": values["image"], "InstanceType": values["type"], "MinCount": count,
                  "MaxCount": count, "KeyName": values["key"] or None,
                  "SecurityGroup": [values["group"]] if values["group"] else None,
                  "Placement": {"AvailabilityZone": values["zone"] or None}}

        def launched(result: dict[str, Any]) -> None:
            ids = [i.get("instanceId", "") for i in as_list(result.get("instancesSet"))]
            self.notify(", ".join(ids), title=f"Launched {len(ids)} instance(s)")
            for iid in ids:
                self.log_event(iid, f"launch requested ({values['type']})", "cyan")

        self.run_call("Launch", lambda: self.cloud.call("RunInstances", params), launched)

    def action_instance_action(self, kind: str) -> None:
        """Terminate, stop, start or reboot the marked instances (or the cursor's), after confirming."""
        table = self.view("instances").tables()[0]
        ids = table.targets()
        if not ids:
            self.notify("Select an instance first.", severity="warning")
            return
        action, verb = INSTANCE_ACTIONS[kind]
        raw = getattr(self.view("instances"), "raw", {})
        labels = [iid + (f" ({n})" if (n := _name_tag(raw.get(iid, {}))) else "") for iid in ids]
        what = f"instance {labels[0]}" if len(ids) == 1 else f"{len(ids)} instances: {', '.join(labels)}"

        def done(_: Any) -> None:
            table.clear_marks()
            for iid in ids:
                self.log_event(iid, f"{kind} requested", "cyan")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_call(verb, lambda: self.cloud.call(action, {"InstanceId": ids}), done)

        self.push_screen(ConfirmScreen(f"{verb} {what}?"), confirmed)

    # -- tags -------------------------------------------------------------------------------
    def action_tag(self) -> None:
        """Add or change a tag on the selected resource of the current view."""
        key = self.current_view().current_table().selected_key
        if not key:
            self.notify("Select a resource first.", severity="warning")
            return

        def tag(values: dict[str, str] | None) -> None:
            if values and values["key"]:
                self.run_call("Tag", lambda: self.cloud.call(
                    "CreateTags", {"ResourceId": [key], "Tag": [{"Key": values["key"], "Value": values["value"]}]}),
                    lambda _: self.notify(f"{key}: {values['key']}={values['value']}", title="Tagged"))

        self.push_screen(FormScreen(f"Tag {key}", [Field("key", "Key", "Name"), Field("value", "Value")],
                                    "Tag", focus="value"), tag)

    # -- key pairs --------------------------------------------------------------------------
    def action_create_key(self) -> None:
        """Create a key pair and save its private key to a file (mode 0600)."""

        def create(values: dict[str, str] | None) -> None:
            if not values or not values["name"]:
                return
            name = values["name"]
            path = Path(os.path.expanduser(values["path"] or f"{name}.pem")).absolute()
            if path.exists():
                self.notify(f"{path} exists; not overwriting it.", title="Create key pair", severity="error")
                return

            def call() -> str:
                material = self.cloud.call("CreateKeyPair", {"KeyName": name}).get("keyMaterial", "")
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as out:
                        out.write(material if material.endswith("\n") else material + "\n")
                except OSError:
                    # A key pair whose private key is lost is useless: do not leave it behind.
                    self.cloud.call("DeleteKeyPair", {"KeyName": name})
                    raise
                return str(path)

            self.run_call("Create key pair", call,
                          lambda saved: self.notify(f"private key saved to {saved}", title=f"Key pair {name}"))

        self.push_screen(FormScreen("Create key pair", [
            Field("name", "Name", placeholder="my-key"),
            Field("path", "Save the private key to", placeholder="NAME.pem in the current directory"),
        ], "Create", focus="name"), create)

    def confirm_call(self, question: str, what: str, action: str, params: dict[str, str],
                     done: Callable[[Any], None], resource: str = "") -> None:
        """Ask ``question``; on yes, call the cloud's ``action`` (as :meth:`run_call` does)."""

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_call(what, lambda: self.cloud.call(action, params), done,
                              resource=resource)

        self.push_screen(ConfirmScreen(question), confirmed)

    def requested(self, resource: str, title: str, event: str) -> Callable[[Any], None]:
        """A ``done`` callback: notify ``title`` and log ``event`` for ``resource``."""

        def done(_: Any) -> None:
            self.notify(resource, title=title)
            self.log_event(resource, event, "cyan")

        return done

    def action_delete_key(self) -> None:
        """Delete the selected key pair, after confirming."""
        name = self.selected("keys")
        if not name:
            return
        self.confirm_call(f"Delete key pair {name}?", "Delete key pair", "DeleteKeyPair",
                          {"KeyName": name}, lambda _: self.notify(name, title="Key pair deleted"))

    # -- addresses --------------------------------------------------------------------------
    def _address_params(self, ip: str, vpc_key: str, vpc_field: int) -> dict[str, str]:
        """PublicIp for classic addresses, the allocation/association id for VPC ones."""
        cells = self.view("addresses").tables()[0].cells_of(ip) or ()
        domain = str(cells[4]) if len(cells) > 4 else "standard"
        if domain == "vpc" and len(cells) > vpc_field and str(cells[vpc_field]):
            return {vpc_key: str(cells[vpc_field])}
        return {"PublicIp": ip}

    def action_allocate(self) -> None:
        """Allocate an elastic IP."""
        self.run_call("Allocate address", lambda: self.cloud.call("AllocateAddress"),
                      lambda r: self.notify(str(r.get("publicIp", "")), title="Address allocated"))

    def action_associate(self) -> None:
        """Associate the selected address with an instance (the instances view's selection by default)."""
        ip = self.selected("addresses")
        if not ip:
            return
        default = self.selected("instances") or ""

        def associate(values: dict[str, str] | None) -> None:
            if values and values["instance"]:
                params = {**self._address_params(ip, "AllocationId", 1), "InstanceId": values["instance"]}
                self.run_call("Associate address", lambda: self.cloud.call("AssociateAddress", params),
                              lambda _: self.notify(f"{ip} -> {values['instance']}", title="Associated"))

        self.push_screen(FormScreen(f"Associate {ip}", [Field("instance", "Instance", default)],
                                    "Associate", focus="instance"), associate)

    def action_disassociate(self) -> None:
        """Disassociate the selected address from its instance."""
        ip = self.selected("addresses")
        if ip:
            params = {"PublicIp": ip}
            self.run_call("Disassociate address", lambda: self.cloud.call("DisassociateAddress", params),
                          lambda _: self.notify(ip, title="Disassociated"))

    def action_release(self) -> None:
        """Release the selected address, after confirming."""
        ip = self.selected("addresses")
        if not ip:
            return
        self.confirm_call(f"Release address {ip}?", "Release address", "ReleaseAddress",
                          self._address_params(ip, "AllocationId", 1),
                          lambda _: self.notify(ip, title="Address released"))


    # -- volumes and snapshots --------------------------------------------------------------
    def _cell(self, view: str, key: str, index: int) -> str:
        """The text of one cell of a view's main table ('' when absent)."""
        cells = self.view(view).tables()[0].cells_of(key) or ()
        return plain(cells[index]) if len(cells) > index else ""

    def _zones(self) -> list[str]:
        """The availability zones the cloud reports (call from a worker thread)."""
        zones, _ = parse_zones(self.cloud.call("DescribeAvailabilityZones"))
        return [z["name"] for z in zones if z["name"]]

    def _volume_form(self, title: str, zones: list[str], snapshot: str = "", size_hint: str = "",
                     zone: str = "") -> FormScreen:
        """The create-volume form: size, snapshot (only when not given) and zone."""
        fields = [Field("size", "Size (GiB)", "" if snapshot else "1",
                        placeholder=f"the snapshot's size{f' ({size_hint} GiB)' if size_hint else ''}")]
        if not snapshot:
            fields.append(Field("snapshot", "From snapshot", placeholder="snap-... (optional)"))
        fields.append(Field("zone", "Availability zone", zone, [(z, z) for z in zones]))
        return FormScreen(title, fields, "Create", focus="size")

    def _create_volume(self, values: dict[str, str] | None, snapshot: str = "") -> None:
        """CreateVolume from the form's values."""
        if not values:
            return
        snapshot = snapshot or values.get("snapshot", "")
        size = values["size"]
        if not size and not snapshot:
            self.notify("Give a size or a snapshot.", title="Create volume", severity="error")
            return
        if size and (not size.isdigit() or int(size) < 1):
            self.notify(f"Size must be a positive number of GiB, not {size!r}.",
                        title="Create volume", severity="error")
            return
        params = {"AvailabilityZone": values["zone"], "Size": int(size) if size else None,
                  "SnapshotId": snapshot or None}

        def created(result: dict[str, Any]) -> None:
            vid = str(result.get("volumeId", ""))
            self.notify(vid, title="Volume created")
            source = f"from {snapshot}" if snapshot else f"{size} GiB"
            self.log_event(vid, f"create requested ({source}, {values['zone']})", "cyan")

        self.run_call("Create volume", lambda: self.cloud.call("CreateVolume", params), created,
                      resource=snapshot or "volume")

    def action_create_volume(self) -> None:
        """Open the create-volume form (the zones are fetched first)."""
        zone = self._cell("volumes", self.selected("volumes") or "", 4)

        def open_form(zones: list[str]) -> None:
            if not zones:
                self.notify("The cloud reports no availability zone.", title="Create volume", severity="warning")
                return
            self.push_screen(self._volume_form("Create volume", zones, zone=zone), self._create_volume)

        self.run_call("Create volume", self._zones, open_form)

    def action_volume_from_snapshot(self) -> None:
        """Create a volume from the selected snapshot, in a zone chosen from the cloud's."""
        snap = self.selected("snapshots")
        if not snap:
            self.notify("Select a snapshot first.", severity="warning")
            return
        size = self._cell("snapshots", snap, 4)

        def open_form(zones: list[str]) -> None:
            if not zones:
                self.notify("The cloud reports no availability zone.", title="Create volume", severity="warning")
                return
            self.push_screen(self._volume_form(f"Create a volume from {snap}", zones, snapshot=snap,
                                               size_hint=size),
                             lambda values: self._create_volume(values, snap))

        self.run_call("Create volume", self._zones, open_form, resource=snap)

    def action_delete_volume(self) -> None:
        """Delete the selected volume, after confirming."""
        vid = self.selected("volumes")
        if not vid:
            self.notify("Select a volume first.", severity="warning")
            return
        attached = self._cell("volumes", vid, 6)
        note = f" (attached to {attached})" if attached else ""
        self.confirm_call(f"Delete volume {vid}{note}?", "Delete volume", "DeleteVolume",
                          {"VolumeId": vid}, self.requested(vid, "Volume deleted", "delete requested"),
                          resource=vid)

    def action_attach_volume(self) -> None:
        """Attach the selected volume to a running instance of its zone (picked from a list)."""
        vid = self.selected("volumes")
        if not vid:
            self.notify("Select a volume first.", severity="warning")
            return
        zone = self._cell("volumes", vid, 4)

        def running() -> list[dict[str, Any]]:
            return [i for i in instances_of(self.cloud.call("DescribeInstances"))
                    if instance_state(i) == "running" and (not zone or _zone_of(i) == zone)]

        def open_form(instances: list[dict[str, Any]]) -> None:
            if not instances:
                self.notify(f"No running instance in {zone or 'its zone'}.",
                            title=f"Attach {vid}", severity="warning")
                return
            default = self.selected("instances") or ""
            options = [(str(i.get("instanceId")) + (f"  {n}" if (n := _name_tag(i)) else ""),
                        str(i.get("instanceId"))) for i in instances]
            self.push_screen(FormScreen(f"Attach {vid}", [
                Field("instance", f"Running instance in {zone}" if zone else "Running instance", default, options),
                Field("device", "Device", "/dev/sdf"),
            ], "Attach", focus="device"), attach)

        def attach(values: dict[str, str] | None) -> None:
            if not values or not values["instance"]:
                return
            params = {"VolumeId": vid, "InstanceId": values["instance"], "Device": values["device"] or "/dev/sdf"}

            def done(_: Any) -> None:
                self.notify(f"{vid} -> {params['InstanceId']} as {params['Device']}", title="Attaching")
                self.log_event(vid, f"attach requested ({params['InstanceId']} {params['Device']})", "cyan")

            self.run_call("Attach volume", lambda: self.cloud.call("AttachVolume", params), done, resource=vid)

        self.run_call("Attach volume", running, open_form, resource=vid)

    def action_detach_volume(self) -> None:
        """Detach the selected volume from its instance, after confirming."""
        vid = self.selected("volumes")
        if not vid:
            self.notify("Select a volume first.", severity="warning")
            return
        attached = self._cell("volumes", vid, 6)
        self.confirm_call(f"Detach volume {vid}{f' from {attached}' if attached else ''}?",
                          "Detach volume", "DetachVolume", {"VolumeId": vid},
                          self.requested(vid, "Detaching", "detach requested"), resource=vid)

    def action_snapshot_volume(self) -> None:
        """Snapshot the selected volume, with an optional description."""
        vid = self.selected("volumes")
        if not vid:
            self.notify("Select a volume first.", severity="warning")
            return

        def snapshot(values: dict[str, str] | None) -> None:
            if values is None:
                return
            params = {"VolumeId": vid, "Description": values["description"] or None}

            def done(result: dict[str, Any]) -> None:
                sid = str(result.get("snapshotId", ""))
                self.notify(f"{sid} of {vid}", title="Snapshot started")
                self.log_event(sid, f"snapshot of {vid} requested", "cyan")

            self.run_call("Create snapshot", lambda: self.cloud.call("CreateSnapshot", params), done,
                          resource=vid)

        self.push_screen(FormScreen(f"Snapshot {vid}", [
            Field("description", "Description", placeholder="(optional)"),
        ], "Snapshot", focus="description"), snapshot)

    def action_delete_snapshot(self) -> None:
        """Delete the selected snapshot, after confirming."""
        sid = self.selected("snapshots")
        if not sid:
            self.notify("Select a snapshot first.", severity="warning")
            return
        self.confirm_call(f"Delete snapshot {sid}?", "Delete snapshot", "DeleteSnapshot",
                          {"SnapshotId": sid},
                          self.requested(sid, "Snapshot deleted", "delete requested"), resource=sid)


    # -- services (cloud admin) -------------------------------------------------------------
    def action_toggle_service(self) -> None:
        """Stop the selected service (a node: maintenance, no new instances) or start it
        again, after confirming (euserv-modify-service)."""
        name = self.selected("services")
        if not name:
            self.notify("Select a service first.", severity="warning")
            return
        enabled = self._cell("services", name, 4) == "ENABLED"
        kind = self._cell("services", name, 0)
        state = "stop" if enabled else "start"
        question = (f"Put node {name} in maintenance (no new instances)?" if kind == "node"
                    and enabled else f"{state.capitalize()} {kind} service {name}?")

        def done(result: Any) -> None:
            self.notify(name, title=f"Service {state} requested")
            self.log_event(name, f"{state} requested", "cyan")
            self.wake_poller()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_call(f"{state.capitalize()} service", lambda: self.cloud.call_service(
                    "bootstrap", "ModifyService", {"Name": name, "State": state}), done,
                    resource=name)

        self.push_screen(ConfirmScreen(question), confirmed)
    # -- load balancers ---------------------------------------------------------------------
    def _balancer_call(self, action: str, balancer: str, instance: str) -> Any:
        return self.cloud.call_service("elasticloadbalancing", action, {
            "LoadBalancerName": balancer, "Instances.member": [{"InstanceId": instance}]})

    def action_register_instance(self) -> None:
        """Register a running instance (picked from a list) with the selected balancer."""
        balancer = self.selected("loadbalancers")
        if not balancer:
            self.notify("Select a load balancer first.", severity="warning")
            return
        if elbv2.is_v2(balancer):
            self._register_target()
            return
        states = getattr(self.view("loadbalancers"), "health", {}).get(balancer)
        registered = {str(st.get("InstanceId")) for st in states} if isinstance(states, list) else set()

        def running() -> list[dict[str, Any]]:
            return [i for i in instances_of(self.cloud.call("DescribeInstances"))
                    if instance_state(i) == "running" and str(i.get("instanceId")) not in registered]

        def open_form(instances: list[dict[str, Any]]) -> None:
            if not instances:
                self.notify("No running instance left to register.", title=f"Register with {balancer}",
                            severity="warning")
                return
            options = [(str(i.get("instanceId")) + (f"  {n}" if (n := _name_tag(i)) else ""),
                        str(i.get("instanceId"))) for i in instances]
            self.push_screen(FormScreen(f"Register with {balancer}", [
                Field("instance", "Running instance", str(options[0][1]), options)], "Register"), register)

        def register(values: dict[str, str] | None) -> None:
            if not values or not values["instance"]:
                return
            iid = values["instance"]
            self.run_call("Register instance",
                          lambda: self._balancer_call("RegisterInstancesWithLoadBalancer", balancer, iid),
                          self.requested(f"{balancer}/{iid}", "Registered", "registered"),
                          resource=f"{balancer}/{iid}")

        self.run_call("Register instance", running, open_form, resource=balancer)

    def action_deregister_instance(self) -> None:
        """Deregister the selected instance from the selected balancer, after confirming."""
        balancer = self.selected("loadbalancers")
        if elbv2.is_v2(balancer):
            self._deregister_target()
            return
        instances = self.view("loadbalancers").table("lb-instances")
        iid = instances.selected_key if instances is not None else None
        if not balancer or not iid:
            self.notify("Select an instance of a load balancer first.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_call("Deregister instance",
                              lambda: self._balancer_call("DeregisterInstancesFromLoadBalancer", balancer, iid),
                              self.requested(f"{balancer}/{iid}", "Deregistered", "deregistered"),
                              resource=f"{balancer}/{iid}")

        self.push_screen(ConfirmScreen(f"Deregister {iid} from {balancer}?"), confirmed)

    def _target_group(self) -> tuple[str, dict[str, Any]] | None:
        """The ARN and description of the target group under the cursor, or None (said)."""
        view = self.view("loadbalancers")
        group = view.selected_group() if isinstance(view, LoadBalancersView) else None
        detail = view.details.get(self.selected("loadbalancers") or "") \
            if isinstance(view, LoadBalancersView) else None
        found = next((g for g in (detail or {}).get("groups", []) if g.get("TargetGroupArn") == group), None)
        if not group or found is None:
            self.notify("Select a target group of the balancer first.", severity="warning")
            return None
        return group, found

    def _register_target(self) -> None:
        """Register a target with the selected target group: a running instance picked from a
        list (an ``ip`` group: an address typed in), on the group's port unless another is given."""
        picked = self._target_group()
        if picked is None:
            return
        group, desc = picked
        name = elbv2.group_name(group)
        title = f"Register a target with {name}"
        port = str(desc.get("Port", ""))

        def register(values: dict[str, str] | None) -> None:
            if not values or not values["target"].strip():
                return
            target, at = values["target"].strip(), values["port"].strip()
            shown = f"{name}/{target}"
            self.run_call("Register target",
                          lambda: elbv2.call(self.cloud, "RegisterTargets",
                                             elbv2.target_params(group, target, at)),
                          self.requested(shown, "Registered", "registered"), resource=shown)

        port_field = Field("port", "Port", port, placeholder="(the group's port)")
        if desc.get("TargetType") == "ip":
            self.push_screen(FormScreen(title, [Field("target", "IP address", placeholder="10.0.0.10"),
                                                port_field], "Register", focus="target"), register)
            return

        def running() -> list[dict[str, Any]]:
            return [i for i in instances_of(self.cloud.call("DescribeInstances"))
                    if instance_state(i) == "running"]

        def open_form(instances: list[dict[str, Any]]) -> None:
            if not instances:
                self.notify("No running instance to register.", title=title, severity="warning")
                return
            options = [(str(i.get("instanceId")) + (f"  {n}" if (n := _name_tag(i)) else ""),
                        str(i.get("instanceId"))) for i in instances]
            self.push_screen(FormScreen(title, [
                Field("target", "Running instance", str(options[0][1]), options), port_field],
                "Register"), register)

        self.run_call("Register target", running, open_form, resource=name)

    def _deregister_target(self) -> None:
        """Deregister the selected target from its group, after confirming."""
        picked = self._target_group()
        if picked is None:
            return
        targets = self.view("loadbalancers").table("targets")
        key = targets.selected_key if targets is not None else None
        cells = targets.cells_of(key) if targets is not None and key else None
        if not cells:
            self.notify("Select a target of the group first.", severity="warning")
            return
        group = picked[0]
        name = elbv2.group_name(group)
        target, port = plain(cells[0]), plain(cells[1])
        shown = f"{name}/{target}"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_call("Deregister target",
                              lambda: elbv2.call(self.cloud, "DeregisterTargets",
                                                 elbv2.target_params(group, target, port)),
                              self.requested(shown, "Deregistered", "deregistered"), resource=shown)

        self.push_screen(ConfirmScreen(f"Deregister {target} (port {port}) from {name}?"), confirmed)


def one_line(message: str) -> str:
    """A cloud's error message as one line (servers may wrap or indent theirs)."""
    return " ".join(message.split())


def _zone_of(inst: dict[str, Any]) -> str:
    placement = inst.get("placement")
    return str(placement.get("availabilityZone", "")) if isinstance(placement, dict) else ""


def _name_tag(inst: dict[str, Any]) -> str:
    for tag in as_list(inst.get("tagSet")):
        if tag.get("key") == "Name":
            return str(tag.get("value", ""))
    return ""
