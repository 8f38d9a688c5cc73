"""Security groups: create, delete, describe, authorize and revoke rules (EC2-Classic style)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from server import errors, ids
from server.auth.authz import action, arn, fixed
from server.clc.filters import Filters, page
from server.clc.model import SecurityGroup
from server.clc.render import group_xml, permissions_xml
from server.clc.tags import apply_tags, tag_specifications
from server.protocol.params import Params
from server.protocol.query import Context
from server.protocol.slices import rendered

InvalidGroupNotFound = errors._error("InvalidGroupNotFound", "InvalidGroup.NotFound")
InvalidGroupDuplicate = errors._error("InvalidGroupDuplicate", "InvalidGroup.Duplicate")
InvalidGroupInUse = errors._error("InvalidGroupInUse", "InvalidGroup.InUse")
InvalidGroupIdMalformed = errors._error("InvalidGroupIdMalformed", "InvalidGroupId.Malformed")
InvalidPermissionDuplicate = errors._error("InvalidPermissionDuplicate",
                                           "InvalidPermission.Duplicate")
InvalidPermissionNotFound = errors._error("InvalidPermissionNotFound",
                                          "InvalidPermission.NotFound")
InvalidPermissionMalformed = errors._error("InvalidPermissionMalformed",
                                           "InvalidPermission.Malformed")
InvalidGroupReserved = errors._error("InvalidGroupReserved", "InvalidGroup.Reserved")
CannotDelete = errors._error("CannotDelete", "CannotDelete")

_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
              "-1": "-1", "all": "-1"}
#: What a rule's description may hold (AWS: up to 255 of these).
_DESCRIPTION = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}$")
#: Rules a group may hold in each direction (AWS's default quota): each CIDR and each
#: source group of a permission counts as one.
RULES_PER_GROUP = 60
RulesPerSecurityGroupLimitExceeded = errors._error("RulesPerSecurityGroupLimitExceeded",
                                                   "RulesPerSecurityGroupLimitExceeded")


def _description(entry: Params) -> str | None:
    """A rule's Description (None: not given), checked as AWS checks it."""
    text: str | None = entry.str("Description")
    if text is not None and not _DESCRIPTION.match(text):
        raise errors.InvalidParameterValue(
            f"Invalid rule description. Valid descriptions are strings less than 256 "
            f"characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{{}}!$* "
            f"(got {text!r})")
    return text


def find_group(ctx: Context, name: str | None = None, gid: str | None = None) -> SecurityGroup:
    """One of the caller's groups by name or ID (``default`` is created on demand)."""
    clc = ctx.cloud.clc
    if not gid and not name:
        raise errors.MissingParameter("The request must contain the parameter GroupName or "
                                      "GroupId")
    if gid:
        sg = clc.groups.get(gid)
        if sg is None or (sg.account_id != ctx.account_id and not ctx.is_admin):
            if not ids.well_formed(gid, "sg"):
                raise InvalidGroupIdMalformed(f"Invalid id: \"{gid}\" (expecting \"sg-...\")")
            raise InvalidGroupNotFound(f"The security group '{gid}' does not exist")
        return sg
    if name == "default":
        return clc.default_group(ctx.account_id)
    found = clc.group_names.get((ctx.account_id, name or ""))
    if found is None:
        raise InvalidGroupNotFound(f"The security group '{name}' does not exist")
    return clc.groups[found]


def create_security_group(ctx: Context) -> Any:
    """CreateSecurityGroup."""
    clc = ctx.cloud.clc
    name = ctx.params.str("GroupName", required=True)
    desc = ctx.params.str("GroupDescription", required=True)
    vpc = ctx.params.str("VpcId")
    if vpc:  # EC2-Classic: there are no VPCs
        raise errors.AWSError(f"The vpc ID '{vpc}' does not exist", code="InvalidVpcID.NotFound")
    if len(name) > 255 or len(desc) > 255:
        raise errors.InvalidParameterValue("Group names and descriptions are at most 255 "
                                           "characters")
    for param, value in (("groupName", name), ("groupDescription", desc)):
        if not value.isascii():  # EC2-Classic groups: ASCII only (AWS)
            raise errors.InvalidParameterValue(
                f"Value ({value}) for parameter {param} is invalid. Character sets beyond "
                "ASCII are not supported.")
    if name.startswith("sg-"):
        raise errors.InvalidParameterValue("Group names may not be in the format sg-*")
    if name == "default":
        raise InvalidGroupReserved("The security group 'default' is reserved")
    if (ctx.account_id, name) in clc.group_names:
        raise InvalidGroupDuplicate(f"The security group '{name}' already exists")
    tags = tag_specifications(ctx, ("security-group",))
    sg = SecurityGroup(ids.resource_id("sg"), ctx.account_id, name, desc)
    clc.groups[sg.id] = sg
    clc.group_names[(ctx.account_id, name)] = sg.id
    clc.save(sg)
    if tags:
        apply_tags(ctx, sg.id, sg.account_id, tags["security-group"])
    return {"return": True, "groupId": sg.id,
            "tagSet": [{"key": k, "value": v} for k, v in tags.get("security-group", [])]
            or None}


def delete_security_group(ctx: Context) -> Any:
    """DeleteSecurityGroup (refused for ``default`` and for groups in use)."""
    clc = ctx.cloud.clc
    if not ctx.params.str("GroupName") and not ctx.params.str("GroupId"):
        raise errors.MissingParameter("The request must contain the parameter GroupName or GroupId")
    sg = find_group(ctx, ctx.params.str("GroupName"), ctx.params.str("GroupId"))
    if sg.name == "default":
        raise CannotDelete("the specified group: \"default\" name: \"default\" cannot be deleted")
    for inst in clc.instances.values():
        if inst.state != "terminated" and any(g[0] == sg.id for g in inst.groups):
            raise InvalidGroupInUse(f"There are active instances using security group "
                                    f"'{sg.name}'")
    for other in clc.groups.values():
        if other.id != sg.id and any(g[1] == sg.id for r in other.ingress for g in r["groups"]):
            # EC2-Classic's answer (a VPC group would say DependencyViolation)
            raise InvalidGroupInUse(f"Group {sg.account_id}:{sg.name} is used by groups: "
                                    f"{other.account_id}:{other.name}")
    classic: Any = ctx.cloud.components.get("elb")
    apps: Any = ctx.cloud.components.get("elbv2")
    users = [*(classic.balancers.values() if classic is not None else ()),
             *(apps.lbs.values() if apps is not None else ())]
    if any(sg.id in lb.security_groups for lb in users):
        raise errors.AWSError(f"resource {sg.id} has a dependent object (a load balancer)",
                              code="DependencyViolation")
    del clc.groups[sg.id]
    clc.group_names.pop((sg.account_id, sg.name), None)
    clc.forget(sg)
    clc.delete_tags_of(sg.id)
    return None


def _filters(ctx: Context) -> Filters:
    clc = ctx.cloud.clc

    def rule_values(sg: SecurityGroup, key: str, egress: bool = False) -> list[str]:
        rules = sg.egress if egress else sg.ingress
        out: list[str] = []
        for r in rules:
            if key == "cidr":
                out.extend(r["cidrs"])
            elif key == "group-id":
                out.extend(g[1] for g in r["groups"])
            elif key == "group-name":
                out.extend(g[2] for g in r["groups"])
            elif key == "protocol":
                out.append(r["proto"])
            elif key == "from-port":
                out.append(str(r["from"]))
            elif key == "to-port":
                out.append(str(r["to"]))
            elif key == "user-id":
                out.extend(g[0] for g in r["groups"])
        return out

    g: dict[str, Any] = {
        "description": lambda s: s.description, "group-id": lambda s: s.id,
        "group-name": lambda s: s.name, "owner-id": lambda s: s.account_id,
        "vpc-id": lambda s: None,
        # EC2-Classic rules name neither IPv6 ranges nor prefix lists
        "ip-permission.ipv6-cidr": lambda s: None, "ip-permission.prefix-list-id": lambda s: None,
        "egress.ip-permission.ipv6-cidr": lambda s: None,
        "egress.ip-permission.prefix-list-id": lambda s: None,
    }
    for key in ("cidr", "group-id", "group-name", "protocol", "from-port", "to-port", "user-id"):
        g[f"ip-permission.{key}"] = lambda s, k=key: rule_values(s, k)
        g[f"egress.ip-permission.{key}"] = lambda s, k=key: rule_values(s, k, True)
    g["ip-permission.cidr"] = lambda s: rule_values(s, "cidr")
    return Filters(g, lambda s: clc.tags.get(s.id, {}))


async def describe_security_groups(ctx: Context) -> Any:
    """DescribeSecurityGroups by name, ID and filters."""
    clc = ctx.cloud.clc
    clc.default_group(ctx.account_id)
    names = ctx.params.strings("GroupName")
    gids = ctx.params.strings("GroupId")
    everyone = ctx.is_admin and "verbose" in names
    names = [n for n in names if n != "verbose"]
    if names or gids:
        groups = [find_group(ctx, name=n) for n in names] + [find_group(ctx, gid=g) for g in gids]
    else:
        groups = [g for g in clc.groups.values() if everyone or g.account_id == ctx.account_id]
    filt = ctx.params.filters()
    if filt:
        groups = _filters(ctx).apply(groups, filt)
    groups.sort(key=lambda g: (g.account_id, g.name))
    groups, token = page(groups, ctx.params, low=5, high=1000, ids_given=bool(names or gids),
                         ids_name="groupIds" if gids else "groupNames")
    return {"securityGroupInfo": await rendered(clc.big_answers,
                                                [group_xml(clc, g) for g in groups]),
            "nextToken": token}


def _parse_permissions(ctx: Context, sg: SecurityGroup) -> list[dict[str, Any]]:
    """Rules from ``IpPermissions.N`` or the legacy flat parameters."""
    p = ctx.params
    perms = p.structs("IpPermissions")
    flat_given = [k for k in ("CidrIp", "IpProtocol", "FromPort", "ToPort",
                              "SourceSecurityGroupName", "SourceSecurityGroupOwnerId")
                  if p.get(k) is not None]
    if perms and flat_given:
        raise errors.InvalidParameterCombination(
            f"The parameter 'ipPermissions' may not be used in combination with "
            f"'{flat_given[0][0].lower()}{flat_given[0][1:]}'")
    if not perms:
        flat: dict[str, Any] = {}
        for key in ("IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName",
                    "SourceSecurityGroupOwnerId"):
            if p.get(key) is not None:
                flat[key] = p.get(key)
        if not flat:
            raise errors.MissingParameter("The request must contain the parameter IpPermissions")
        legacy: dict[str, Any] = {"IpProtocol": flat.get("IpProtocol", "-1" if "SourceSecurityGroupName" in flat and "IpProtocol" not in flat else "tcp")}
        for key in ("FromPort", "ToPort"):
            if key in flat:
                legacy[key] = flat[key]
        if "CidrIp" in flat:
            legacy["IpRanges"] = [{"CidrIp": flat["CidrIp"]}]
        if "SourceSecurityGroupName" in flat:
            legacy["Groups"] = [{"GroupName": flat["SourceSecurityGroupName"],
                               "UserId": flat.get("SourceSecurityGroupOwnerId", ctx.account_id)}]
        perms = [Params(legacy)]
    rules = []
    for perm in perms:
        proto_raw = (perm.str("IpProtocol") or "").lower()
        if proto_raw not in _PROTOCOLS and not (proto_raw.isdigit() and int(proto_raw) < 256):
            raise errors.InvalidParameterValue(f"Invalid value '{proto_raw}' for IP protocol. "
                                               "Unknown protocol.")
        proto = _PROTOCOLS.get(proto_raw, proto_raw)
        if proto in ("tcp", "udp"):
            lo = perm.int("FromPort")
            hi = perm.int("ToPort")
            if lo is None or hi is None:
                raise InvalidPermissionMalformed(f"Invalid ports for protocol {proto}: "
                                                 "FromPort and ToPort are required")
            if lo == -1 and hi == -1:
                lo, hi = 0, 65535
            if not (0 <= lo <= 65535 and 0 <= hi <= 65535 and lo <= hi):
                raise errors.InvalidParameterValue(f"Invalid TCP/UDP port range {lo}-{hi}")
        elif proto == "icmp":
            lo = perm.int("FromPort", -1)
            hi = perm.int("ToPort", -1)
            if not (-1 <= lo <= 255 and -1 <= hi <= 255):
                raise errors.InvalidParameterValue(f"Invalid ICMP type/code {lo}:{hi}")
        else:
            lo, hi = -1, -1
        cidrs = []
        notes: dict[str, str] = {}  # a CIDR's or a source group ID's description
        for rng in perm.structs("IpRanges"):
            cidr = rng.str("CidrIp", required=True)
            note = _description(rng)
            try:
                if "/" not in cidr:  # an address alone is no CIDR block (AWS)
                    raise ValueError(cidr)
                cidrs.append(str(ipaddress.IPv4Network(cidr, strict=False)))
                if note:
                    notes[cidrs[-1]] = note
            except ValueError:
                raise errors.InvalidParameterValue(f"Value ({cidr}) for parameter cidrIp is "
                                                   "invalid. This is not a valid CIDR block.") \
                    from None
        groups = []
        for src in perm.structs("Groups"):
            gid, gname = src.str("GroupId"), src.str("GroupName")
            owner = src.str("UserId") or ctx.account_id
            clc = ctx.cloud.clc
            if gid:
                other = clc.groups.get(gid)
            else:
                if gname == "default":
                    clc.default_group(owner)
                other_id = clc.group_names.get((owner, gname or ""))
                other = clc.groups.get(other_id) if other_id else None
            if other is None:
                raise InvalidGroupNotFound(f"The security group '{gid or gname}' does not exist")
            groups.append([other.account_id, other.id, other.name])
            note = _description(src)
            if note:
                notes[other.id] = note
        if not cidrs and not groups:
            cidrs = ["0.0.0.0/0"]
        rule = {"proto": proto, "from": lo, "to": hi, "cidrs": cidrs, "groups": groups}
        if notes:
            rule["notes"] = notes
        rules.append(rule)
    return rules


def _classic_only(sg: SecurityGroup, egress: bool) -> None:
    """Every group here is an EC2-Classic group, and those have no egress rules."""
    if egress:
        raise errors.InvalidParameterValue(
            f"The security group '{sg.id}' is an EC2-Classic group: egress rules apply only "
            "to VPC security groups")


def _authorize(ctx: Context, egress: bool) -> Any:
    clc = ctx.cloud.clc
    sg = find_group(ctx, ctx.params.str("GroupName"), ctx.params.str("GroupId"))
    _classic_only(sg, egress)
    target = sg.egress if egress else sg.ingress
    new = _parse_permissions(ctx, sg)
    for rule in new:
        for existing in target:
            if (existing["proto"], existing["from"], existing["to"]) == \
                    (rule["proto"], rule["from"], rule["to"]):
                dup = set(existing["cidrs"]) & set(rule["cidrs"]) or \
                    {g[1] for g in existing["groups"]} & {g[1] for g in rule["groups"]}
                if dup:
                    raise InvalidPermissionDuplicate(
                        f"the specified rule \"peer: {sorted(dup)[0]}, {rule['proto'].upper()}, "
                        f"from port: {rule['from']}, to port: {rule['to']}, ALLOW\" already "
                        "exists")
    held = sum(len(r["cidrs"]) + len(r["groups"]) for r in target)
    if held + sum(len(r["cidrs"]) + len(r["groups"]) for r in new) > RULES_PER_GROUP:
        raise RulesPerSecurityGroupLimitExceeded(
            f"The maximum number of rules per security group ({RULES_PER_GROUP}) has been "
            "reached.")
    for rule in new:
        merged = False
        for existing in target:
            if (existing["proto"], existing["from"], existing["to"]) == \
                    (rule["proto"], rule["from"], rule["to"]):
                existing["cidrs"].extend(rule["cidrs"])
                existing["groups"].extend(rule["groups"])
                if rule.get("notes"):
                    existing.setdefault("notes", {}).update(rule["notes"])
                merged = True
                break
        if not merged:
            target.append(rule)
    clc.save(sg)
    return {"return": True}


def _revoke(ctx: Context, egress: bool) -> Any:
    """Remove the rules that match; as AWS does for EC2-Classic groups, the ones that match
    nothing are no error but come back in ``unknownIpPermissionSet``."""
    clc = ctx.cloud.clc
    sg = find_group(ctx, ctx.params.str("GroupName"), ctx.params.str("GroupId"))
    _classic_only(sg, egress)
    target = sg.egress if egress else sg.ingress
    unknown: list[dict[str, Any]] = []
    for rule in _parse_permissions(ctx, sg):
        existing = next((r for r in target if (r["proto"], r["from"], r["to"]) ==
                         (rule["proto"], rule["from"], rule["to"])), None)
        have_c = set(existing["cidrs"]) if existing else set()
        have_g = {g[1] for g in existing["groups"]} if existing else set()
        missing = {**rule, "cidrs": [c for c in rule["cidrs"] if c not in have_c],
                   "groups": [g for g in rule["groups"] if g[1] not in have_g]}
        if missing["cidrs"] or missing["groups"]:
            unknown.append(missing)
        if existing is not None:
            gone_g = {g[1] for g in rule["groups"]}
            existing["cidrs"] = [c for c in existing["cidrs"] if c not in rule["cidrs"]]
            existing["groups"] = [g for g in existing["groups"] if g[1] not in gone_g]
            for gone in [*rule["cidrs"], *gone_g]:
                existing.get("notes", {}).pop(gone, None)
    sg.ingress = [r for r in sg.ingress if r["cidrs"] or r["groups"]]
    sg.egress = [r for r in sg.egress if r["cidrs"] or r["groups"]]
    clc.save(sg)
    return {"return": True, "unknownIpPermissionSet": permissions_xml(unknown) or None}


def update_rule_descriptions(ctx: Context) -> Any:
    """UpdateSecurityGroupRuleDescriptionsIngress: new descriptions of rules the group has
    (each named by protocol, ports and CIDR or source group); one it lacks is
    InvalidPermission.NotFound and changes nothing."""
    clc = ctx.cloud.clc
    sg = find_group(ctx, ctx.params.str("GroupName"), ctx.params.str("GroupId"))
    changes = []
    for rule in _parse_permissions(ctx, sg):
        existing = next((r for r in sg.ingress if (r["proto"], r["from"], r["to"]) ==
                         (rule["proto"], rule["from"], rule["to"])), None)
        have = set(existing["cidrs"]) | {g[1] for g in existing["groups"]} if existing else set()
        named = [*rule["cidrs"], *(g[1] for g in rule["groups"])]
        if existing is None or not set(named) <= have:
            raise InvalidPermissionNotFound("The specified rule does not exist in this "
                                            "security group.")
        changes.append((existing, named, rule.get("notes", {})))
    for existing, named, notes in changes:
        kept = existing.setdefault("notes", {})
        for ref in named:
            if notes.get(ref):
                kept[ref] = notes[ref]
            else:
                kept.pop(ref, None)
    clc.save(sg)
    return {"return": True}


def _group_arns(ctx: Context) -> list[str]:
    """The security group a request names, by ID or (EC2-Classic) by name."""
    names = ctx.params.strings("GroupId") or ctx.params.strings("GroupName")
    return [arn(ctx, "ec2", f"security-group/{n}") for n in names] or ["*"]


ACTIONS = {
    "CreateSecurityGroup": action(create_security_group, "ec2:CreateSecurityGroup",
                                  resources=fixed("security-group/*")),
    "DeleteSecurityGroup": action(delete_security_group, "ec2:DeleteSecurityGroup",
                                  resources=_group_arns),
    "DescribeSecurityGroups": action(describe_security_groups, "ec2:DescribeSecurityGroups"),
    "AuthorizeSecurityGroupIngress": action(lambda ctx: _authorize(ctx, False),
                                            "ec2:AuthorizeSecurityGroupIngress",
                                            resources=_group_arns),
    "AuthorizeSecurityGroupEgress": action(lambda ctx: _authorize(ctx, True),
                                           "ec2:AuthorizeSecurityGroupEgress",
                                           resources=_group_arns),
    "RevokeSecurityGroupIngress": action(lambda ctx: _revoke(ctx, False),
                                         "ec2:RevokeSecurityGroupIngress",
                                         resources=_group_arns),
    "RevokeSecurityGroupEgress": action(lambda ctx: _revoke(ctx, True),
                                        "ec2:RevokeSecurityGroupEgress",
                                        resources=_group_arns),
    "UpdateSecurityGroupRuleDescriptionsIngress": action(
        update_rule_descriptions, "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        resources=_group_arns),
}
