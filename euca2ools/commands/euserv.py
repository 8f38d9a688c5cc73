"""Eucalyptus cloud-admin service commands: the node controllers and live migration.

These call this cloud's Eucalyptus-extension EC2 actions ``DescribeNodes`` and
``MigrateInstances`` (cloud admin only).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_nodes(inv: Invocation, result: Any) -> None:
    """``NODE`` zone, name, state, power, cores/memory/disk used of total, then ``INSTANCE``s."""
    for node in as_list(result.get("nodeSet")):
        inv.emit("NODE", node.get("zoneName"), node.get("name"), node.get("state"),
                 node.get("powerState"),
                 f"{node.get('coresUsed')}/{node.get('coresTotal')}",
                 f"{node.get('memoryUsed')}/{node.get('memoryTotal')}",
                 f"{node.get('diskUsed')}/{node.get('diskTotal')}", node.get("hypervisor"))
        for inst in as_list(node.get("instances")):
            inv.emit("INSTANCE", inst.get("instanceId"))


def _prepare_migrate(inv: Invocation) -> None:
    include, exclude = inv.args.get("include_dest") or [], inv.args.get("exclude_dest") or []
    hosts = include or exclude
    for n, host in enumerate(hosts, 1):
        inv.params[f"DestinationHost.{n}"] = host
    if hosts:
        inv.params["AllowHosts"] = "true" if include else "false"


COMMANDS = [
    Command(
        "euserv-describe-node-controllers", "ec2", "DescribeNodes",
        "[Eucalyptus cloud admin only] Show information about node controllers",
        [Arg("ZONE", dest="ZoneName", nargs="*", complete="zone",
             help="limit results to node controllers in specific availability zones")],
        output=_print_nodes,
    ),
    Command(
        "euserv-migrate-instances", "ec2", "MigrateInstances",
        "[Eucalyptus cloud admin only] Migrate one instance, or evacuate a node controller",
        [
            Group(Arg("-s", "--source", dest="SourceHost", metavar="HOST",
                      help="remove all instances from a specific node controller"),
                  Arg("-i", "--instance", dest="InstanceId", metavar="INSTANCE",
                      complete="instance", help="migrate a specific instance"),
                  required=True),
            Group(Arg("--include-dest", name="include_dest", multiple=True, metavar="HOST",
                      help="allow migration to only the given host (repeatable)"),
                  Arg("--exclude-dest", name="exclude_dest", multiple=True, metavar="HOST",
                      help="exclude the given host as a migration destination (repeatable)")),
        ],
        prepare=_prepare_migrate,
    ),
]
