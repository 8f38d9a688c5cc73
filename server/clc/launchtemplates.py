"""EC2 launch templates: Create/Describe/Delete/ModifyLaunchTemplate,
CreateLaunchTemplateVersion and DescribeLaunchTemplateVersions (``$Latest``/``$Default``).

Auto Scaling groups launch from them (:func:`resolve_for_launch`).  The templates are
held in ``cloud.components["launch_templates"]`` and persisted as CLC records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from server import errors, ids
from server.auth.authz import action, each_param
from server.clc.filters import Filters, page
from server.clc.model import Record
from server.protocol.params import Params
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.cloud import Cloud

_NAME = re.compile(r"^[a-zA-Z0-9().\-/_]{3,128}$")
MAX_VERSIONS = 10000

AlreadyExists = errors._error("LaunchTemplateAlreadyExists",
                              "InvalidLaunchTemplateName.AlreadyExistsException")
NameNotFound = errors._error("LaunchTemplateNameNotFound",
                             "InvalidLaunchTemplateName.NotFoundException")
IdNotFound = errors._error("LaunchTemplateIdNotFound", "InvalidLaunchTemplateId.NotFound")
IdMalformed = errors._error("LaunchTemplateIdMalformed", "InvalidLaunchTemplateId.Malformed")
VersionNotFound = errors._error("LaunchTemplateVersionNotFound",
                                "InvalidLaunchTemplateId.VersionNotFound")


@dataclass
class LaunchTemplate(Record):
    """A launch template and its numbered versions."""

    KIND: ClassVar[str] = "launch_template"
    id: str
    account_id: str
    name: str
    created: float
    created_by: str = ""
    default_version: int = 1
    #: [{"number", "description", "data" (RunInstances-shaped), "created"}]
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def latest(self) -> int:
        """The highest version number."""
        return max(int(v["number"]) for v in self.versions)

    def version(self, ref: str | None) -> dict[str, Any]:
        """A version by number, ``$Latest`` or ``$Default``."""
        if ref in (None, "", "$Default"):
            number = self.default_version
        elif ref == "$Latest":
            number = self.latest
        else:
            try:
                number = int(str(ref))
            except ValueError:
                raise errors.InvalidParameterValue(
                    f"Invalid launch template version {ref}") from None
        for v in self.versions:
            if v["number"] == number:
                return v
        raise VersionNotFound(f"Could not find launch template version {ref} of {self.id}")


def templates(cloud: Cloud) -> dict[str, LaunchTemplate]:
    """Every launch template (loaded from the store on first use)."""
    table: dict[str, LaunchTemplate] | None = cloud.components.get("launch_templates")
    if table is None:
        table = {}
        for _, _, doc in cloud.store.load(LaunchTemplate.KIND):
            lt = LaunchTemplate.from_doc(doc)
            table[lt.id] = lt
        cloud.components["launch_templates"] = table
    return table


def find_template(cloud: Cloud, account_id: str, template_id: str, name: str, *,
                  validation: bool = False) -> LaunchTemplate:
    """An account's template by ID or name (ValidationError for Auto Scaling's callers)."""
    table = templates(cloud)
    found: LaunchTemplate | None = None
    if template_id:
        found = table.get(template_id)
    elif name:
        found = next((t for t in table.values() if t.name == name
                      and t.account_id == account_id), None)
    else:
        if validation:
            raise errors.ValidationError("A launch template needs its LaunchTemplateId or "
                                         "LaunchTemplateName")
        raise errors.MissingParameter("The request must contain the parameter "
                                      "LaunchTemplateName or LaunchTemplateId")
    if found is None or found.account_id != account_id:
        if validation:
            raise errors.ValidationError(f"The specified launch template, with template ID "
                                         f"{template_id or name}, does not exist.")
        if template_id:
            raise IdNotFound(f"The specified launch template, with template ID {template_id}, "
                             "does not exist.")
        raise NameNotFound(f"The specified launch template, with template name {name}, does "
                           "not exist.")
    return found


def _flatten(data: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            _flatten(value, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(data, list):
        for n, value in enumerate(data, 1):
            _flatten(value, f"{prefix}.{n}", out)
    elif data is not None:
        out.append((prefix, str(data)))


#: LaunchTemplateData members and their RunInstances names (where they differ).
_RUN_NAMES = {"SecurityGroupId": "SecurityGroupId", "SecurityGroup": "SecurityGroup"}


def resolve_for_launch(cloud: Cloud, account_id: str,
                       spec: dict[str, str]) -> tuple[list[tuple[str, str]], str]:
    """RunInstances parameters of a group's template version, and the version number."""
    template = find_template(cloud, account_id, spec.get("id", ""), spec.get("name", ""),
                             validation=True)
    try:
        version = template.version(spec.get("version"))
    except errors.AWSError as exc:
        raise errors.ValidationError(exc.message) from None
    data = {k: v for k, v in version["data"].items()
            if k not in ("Placement", "TagSpecification", "NetworkInterface")}
    pairs: list[tuple[str, str]] = []
    _flatten(data, "", pairs)
    if not data.get("ImageId"):
        raise errors.ValidationError(f"Launch template {template.name} version "
                                     f"{version['number']} has no ImageId")
    return pairs, str(version["number"])


def run_parameters(ctx: Context) -> Params:
    """RunInstances' parameters with its ``LaunchTemplate``: the version's data, overridden
    by what the request gives itself (EC2's errors for a template that is not there)."""
    spec = ctx.params.struct("LaunchTemplate")
    tid = spec.str("LaunchTemplateId") or ""
    if tid and not ids.well_formed(tid, "lt"):
        raise IdMalformed(f"The launch template ID '{tid}' is malformed")
    template = find_template(ctx.cloud, ctx.account_id, tid,
                             spec.str("LaunchTemplateName") or "")
    data = {k: v for k, v in template.version(spec.str("Version"))["data"].items()
            if k not in ("TagSpecification", "NetworkInterface")}
    given = {k: v for k, v in ctx.params.raw().items() if k != "LaunchTemplate"}
    return Params({**data, **given})


def _template_xml(t: LaunchTemplate) -> dict[str, Any]:
    return {"launchTemplateId": t.id, "launchTemplateName": t.name,
            "createTime": iso8601(t.created), "createdBy": t.created_by,
            "defaultVersionNumber": t.default_version, "latestVersionNumber": t.latest}


def _version_xml(t: LaunchTemplate, v: dict[str, Any]) -> dict[str, Any]:
    return {"launchTemplateId": t.id, "launchTemplateName": t.name,
            "versionNumber": v["number"], "versionDescription": v.get("description") or None,
            "createTime": iso8601(v["created"]), "createdBy": t.created_by,
            "defaultVersion": v["number"] == t.default_version,
            "launchTemplateData": _data_xml(v["data"])}


def _data_xml(data: dict[str, Any]) -> dict[str, Any]:
    """LaunchTemplateData in the response's lower-camel names."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = {"SecurityGroupId": "securityGroupIdSet", "SecurityGroup": "securityGroupSet"}.get(
            key, key[:1].lower() + key[1:])
        if isinstance(value, dict):
            value = _data_xml(value)
        out[name] = value
    return out


def _data(ctx: Context) -> dict[str, Any]:
    data = ctx.params.get("LaunchTemplateData")
    if not isinstance(data, dict):
        raise errors.MissingParameter("The request must contain the parameter "
                                      "LaunchTemplateData")
    image = data.get("ImageId")
    if image:
        from server.clc.instances import launchable_image

        launchable_image(ctx, image)
    vm_type = data.get("InstanceType")
    if vm_type and vm_type not in ctx.cloud.clc.vm_types:
        raise errors.InvalidParameterValue(f"Invalid value '{vm_type}' for InstanceType.")
    return dict(data)


def create_launch_template(ctx: Context) -> Any:
    """CreateLaunchTemplate: a template with its version 1 (the default)."""
    name = ctx.params.str("LaunchTemplateName", required=True)
    if not _NAME.match(name):
        raise errors.AWSError(
            f"A launch template name must be between 3 and 128 characters, and may contain "
            f"letters, numbers, and the following characters: - ( ) . / _ (got {name!r})",
            code="InvalidLaunchTemplateName.MalformedException")
    table = templates(ctx.cloud)
    if any(t.name == name and t.account_id == ctx.account_id for t in table.values()):
        raise AlreadyExists("Launch template name already in use.")
    now = ctx.cloud.clock.now()
    t = LaunchTemplate(ids.resource_id("lt"), ctx.account_id, name, now,
                       created_by=ctx.principal.arn())
    t.versions.append({"number": 1, "description": ctx.params.str("VersionDescription") or "",
                       "data": _data(ctx), "created": now})
    table[t.id] = t
    ctx.cloud.clc.save(t)
    return {"launchTemplate": _template_xml(t)}


def _target(ctx: Context) -> LaunchTemplate:
    tid = ctx.params.str("LaunchTemplateId") or ""
    if tid and not ids.well_formed(tid, "lt"):
        raise IdMalformed(f"The launch template ID '{tid}' is malformed")
    return find_template(ctx.cloud, ctx.account_id, tid,
                         ctx.params.str("LaunchTemplateName") or "")


def create_launch_template_version(ctx: Context) -> Any:
    """CreateLaunchTemplateVersion: optionally from a source version, overridden by data."""
    t = _target(ctx)
    if len(t.versions) >= MAX_VERSIONS:
        raise errors.AWSError("Too many versions", code="VersionLimitExceeded")
    data = _data(ctx)
    source = ctx.params.str("SourceVersion")
    if source:
        data = {**t.version(source)["data"], **data}
    number = t.latest + 1
    v = {"number": number, "description": ctx.params.str("VersionDescription") or "",
         "data": data, "created": ctx.cloud.clock.now()}
    t.versions.append(v)
    ctx.cloud.clc.save(t)
    return {"launchTemplateVersion": _version_xml(t, v)}


def modify_launch_template(ctx: Context) -> Any:
    """ModifyLaunchTemplate: change the default version."""
    t = _target(ctx)
    default = ctx.params.str("SetDefaultVersion") or ctx.params.str("DefaultVersion")
    if default:
        t.default_version = t.version(default)["number"]
        ctx.cloud.clc.save(t)
    return {"launchTemplate": _template_xml(t)}


def delete_launch_template(ctx: Context) -> Any:
    """DeleteLaunchTemplate (with all its versions)."""
    t = _target(ctx)
    del templates(ctx.cloud)[t.id]
    ctx.cloud.clc.forget(t)
    return {"launchTemplate": _template_xml(t)}


def describe_launch_templates(ctx: Context) -> Any:
    """DescribeLaunchTemplates: by ID or name, with the launch-template-name filter."""
    table = templates(ctx.cloud)
    wanted_ids = ctx.params.strings("LaunchTemplateId")
    wanted_names = ctx.params.strings("LaunchTemplateName")
    rows = sorted((t for t in table.values() if t.account_id == ctx.account_id),
                  key=lambda t: t.created)
    for tid in wanted_ids:
        if not ids.well_formed(tid, "lt"):
            raise IdMalformed(f"The launch template ID '{tid}' is malformed")
        if not any(t.id == tid for t in rows):
            raise IdNotFound(f"The specified launch template, with template ID {tid}, does "
                             "not exist.")
    for name in wanted_names:
        if not any(t.name == name for t in rows):
            raise NameNotFound("At least one of the launch templates specified in the request "
                               "does not exist.")
    if wanted_ids:
        rows = [t for t in rows if t.id in wanted_ids]
    if wanted_names:
        rows = [t for t in rows if t.name in wanted_names]
    filt = ctx.params.filters()
    if filt:
        rows = Filters({"launch-template-name": lambda t: t.name,
                        "create-time": lambda t: iso8601(t.created)},
                       lambda t: {}).apply(rows, filt)
    chunk, token = page(rows, ctx.params, low=1, high=200)
    return {"launchTemplates": [_template_xml(t) for t in chunk], "nextToken": token}


def describe_launch_template_versions(ctx: Context) -> Any:
    """DescribeLaunchTemplateVersions: given versions ($Latest/$Default) or all of them."""
    t = _target(ctx)
    refs = ctx.params.strings("LaunchTemplateVersion")
    versions = [t.version(r) for r in refs] if refs else sorted(
        t.versions, key=lambda v: -v["number"])
    low = ctx.params.str("MinVersion")
    high = ctx.params.str("MaxVersion")
    if low:
        versions = [v for v in versions if v["number"] >= int(low)]
    if high:
        versions = [v for v in versions if v["number"] <= int(high)]
    chunk, token = page(versions, ctx.params, low=1, high=200)
    return {"launchTemplateVersionSet": [_version_xml(t, v) for v in chunk],
            "nextToken": token}


_TEMPLATE = each_param("LaunchTemplateId", "launch-template")

ACTIONS = {
    "CreateLaunchTemplate": action(create_launch_template, "ec2:CreateLaunchTemplate"),
    "CreateLaunchTemplateVersion": action(create_launch_template_version,
                                          "ec2:CreateLaunchTemplateVersion",
                                          resources=_TEMPLATE),
    "ModifyLaunchTemplate": action(modify_launch_template, "ec2:ModifyLaunchTemplate",
                                   resources=_TEMPLATE),
    "DeleteLaunchTemplate": action(delete_launch_template, "ec2:DeleteLaunchTemplate",
                                   resources=_TEMPLATE),
    "DescribeLaunchTemplates": action(describe_launch_templates, "ec2:DescribeLaunchTemplates"),
    "DescribeLaunchTemplateVersions": action(describe_launch_template_versions,
                                             "ec2:DescribeLaunchTemplateVersions"),
}
