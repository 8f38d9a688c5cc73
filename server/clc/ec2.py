"""The EC2 (compute) service: one action table assembled from the resource modules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from server.auth import sigv4
from server.clc import (
    addresses,
    attributes,
    bundletasks,
    ebs_launch,
    groups,
    images,
    instances,
    keypairs,
    launchtemplates,
    lifecycle,
    parameters,
    passwords,
    snapshots,
    tags,
    volumes,
    zones,
)
from server.protocol.params import Params
from server.protocol.query import Context, Handler, QueryService

if TYPE_CHECKING:
    from server.cloud import Cloud

API_VERSION = "2016-11-15"


def _volume(ctx: Context, volume_id: str) -> object:
    return ctx.cloud.ebs.volume(ctx, volume_id) if ctx.cloud.ebs is not None else None


def _snapshot(ctx: Context, snapshot_id: str) -> object:
    return ctx.cloud.ebs.snapshot(ctx, snapshot_id) if ctx.cloud.ebs is not None else None


#: The ID parameters a DryRun request's resources are looked up by (each lookup raises
#: the action's own Malformed or NotFound error).
_LOOKUPS: dict[str, Callable[[Context, str], object]] = {
    "InstanceId": instances.get_instance,
    "VolumeId": _volume,
    "SnapshotId": _snapshot,
    "ImageId": images.get_image,
    "GroupId": lambda ctx, gid: groups.find_group(ctx, gid=gid),
}


class EC2Service(QueryService):
    """EC2 Query API at ``/services/compute`` (SigV4 service ``ec2``)."""

    signing_names = ("ec2",)
    iam_prefix = "ec2"
    path = "/services/compute"
    api_version = API_VERSION
    xmlns = f"http://ec2.amazonaws.com/doc/{API_VERSION}/"
    style = "ec2"
    auth_errors = {
        sigv4.SigV4Error.MISSING: ("AuthFailure", 401),
        sigv4.SigV4Error.INCOMPLETE: ("AuthFailure", 401),
        sigv4.SigV4Error.UNKNOWN_KEY: ("AuthFailure", 401),
        sigv4.SigV4Error.MISMATCH: ("AuthFailure", 401),
        sigv4.SigV4Error.EXPIRED: ("RequestExpired", 400),
        sigv4.SigV4Error.NOT_YET: ("RequestExpired", 400),
    }
    #: EC2 refuses a wrong session token as it refuses a wrong key.
    token_errors = {"InvalidClientTokenId": ("AuthFailure", 401)}

    #: Modules whose ACTIONS tables make up the service; other components extend it.
    modules = [instances, lifecycle, attributes, images, keypairs, groups, addresses, tags, zones,
               passwords, bundletasks, launchtemplates, volumes, snapshots, ebs_launch]

    def __init__(self, cloud: Cloud):
        super().__init__(cloud)
        # AWS's model takes a few hundred ms to read: read it beside the start-up rather
        # than in the first EC2 request.
        threading.Thread(target=parameters.accepted, args=("DescribeRegions",),
                         name="ec2-parameters", daemon=True).start()

    def check_parameters(self, action: str, params: Params) -> None:
        """AWS's UnknownParameter for a parameter the action does not have, and
        InvalidParameterValue for a DryRun that is not a boolean."""
        parameters.check(action, params)
        params.bool("DryRun")

    def check_dry_run(self, ctx: Context) -> None:
        """A DryRun request is checked as the real one would be before it may answer
        DryRunOperation (AWS): the IDs it names must be well formed and name something
        the caller may use, and RunInstances' parameters must be valid."""
        if ctx.action == "RunInstances":
            instances.run_instances(ctx, check_only=True)
            return
        for name, lookup in _LOOKUPS.items():
            if name == "GroupId" and "SecurityGroup" not in ctx.action:
                continue  # ModifyInstanceAttribute's GroupId.N: its own checks come first
            for value in ctx.params.strings(name):
                if value != "verbose":  # Eucalyptus: the admin's "every account"
                    lookup(ctx, value)

    def action_table(self) -> dict[str, Handler]:
        """Every module's actions, plus those other components registered."""
        table: dict[str, Handler] = {}
        for module in self.modules:
            table.update(module.ACTIONS)
        table.update(self.cloud.components.get("ec2_actions", {}))
        return table
