"""Command declarations, one module per resource family.

Adding a command: append a :class:`~euca2ools.decl.Command` to a module's ``COMMANDS``
(or add a module to :data:`MODULES`), then run ``python -m euca2ools.generate`` to
refresh ``_index.py``, the man pages, the bash completion and the console-script list.
"""

from __future__ import annotations

MODULES = (
    "ec2_instances",
    "ec2_images",
    "ec2_keypairs",
    "ec2_groups",
    "ec2_addresses",
    "ec2_misc",
    "ec2_ebs",
    "ec2_passwords",
    "ec2_bundletasks",
    "ec2_vpcs",
    "ec2_subnets",
    "ec2_internet_gateways",
    "ec2_route_tables",
    "ec2_network_interfaces",
    "ec2_network_acls",
    "ec2_dhcp_options",
    "ec2_nat_gateways",
    "ec2_vpn",
    "ec2_vpc_peering",
    "ec2_imports",
    "iam",
    "iam_users",
    "iam_groups",
    "iam_roles",
    "iam_accounts",
    "iam_certs",
    "iam_sts",
    "euscale",
    "bundle",
    "bundle_vol",
    "euimage",
    "euserv",
    "euwatch",
    "elb",
    "euform_stacks",
    "euform_resources",
    "euform_templates",
    "euserv_signups",
    "euserv_services",
    "euctl",
    "local",
)


def all_commands() -> list:  # type: ignore[type-arg]
    """Every declared command, in module order."""
    import importlib

    out = []
    for name in MODULES:
        out.extend(importlib.import_module(f"{__name__}.{name}").COMMANDS)
    return out
