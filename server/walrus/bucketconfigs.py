"""Stored bucket configurations: logging, notification, ownership controls, transfer
acceleration and request payment.

Each is validated as S3 validates it, kept as one JSON document in the bucket's ``configs``
column (:meth:`WalrusStore.set_bucket_config`) and rendered back on GET.  Logging is acted
on (:mod:`server.walrus.accesslog` delivers the access logs), and so are ownership
controls, where objects are written and access is decided
(:func:`server.walrus.acl.new_object_acl`, ``S3Context.allowed``).  Notification,
acceleration and request payment change nothing in how Walrus serves requests: there is no
SNS, SQS or Lambda to notify, no acceleration endpoint and no billing.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus.context import Row, S3Context
from server.walrus.xmlio import children, doc, el, find_text, local_name, parse_xml

LIMIT = 64 * 1024
LOGGING_PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE")
#: Event types S3 accepts in a notification configuration.
EVENTS = frozenset({
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*", "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
})
#: Notification destination kinds: (configuration element, destination element).
DESTINATIONS = (("TopicConfiguration", "Topic"), ("QueueConfiguration", "Queue"),
                ("CloudFunctionConfiguration", "CloudFunction"))
OWNERSHIP = acls.OWNERSHIP
_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$")


def _root(body: bytes, name: str) -> ET.Element:
    root = parse_xml(body)
    if local_name(root) != name:
        raise e.MalformedXML()
    return root


def _owner_only(ctx: S3Context, action: str) -> Row:
    """The bucket, after checking ``action`` (bucket owner, or a bucket policy grant)."""
    bucket = ctx.bucket()
    ctx.authorize(action, bucket)
    return bucket


# -- logging -----------------------------------------------------------------------------------
def parse_logging(ctx: S3Context, bucket: Row, body: bytes) -> dict[str, Any] | None:
    """A ``BucketLoggingStatus`` document as a stored config (None: logging disabled).

    The target bucket must exist and belong to the source bucket's owner
    (InvalidTargetBucketForLogging otherwise).  An empty ``LoggingEnabled`` disables
    logging, as an absent one does.
    """
    root = _root(body, "BucketLoggingStatus")
    enabled = next(children(root, "LoggingEnabled"), None)
    if enabled is None or len(enabled) == 0:
        return None
    target = find_text(enabled, "TargetBucket")
    if not target or next(children(enabled, "TargetPrefix"), None) is None:
        raise e.MalformedXML()
    row = ctx.walrus.store.bucket_or_none(target)
    if row is None:
        raise e.InvalidTargetBucketForLogging("The target bucket for logging does not exist",
                                              TargetBucket=target)
    if row["account_id"] != bucket["account_id"]:
        raise e.InvalidTargetBucketForLogging("The owner for the bucket to be logged and the "
                                              "target bucket must be the same.",
                                              TargetBucket=target)
    grants: list[list[str]] = []
    for holder in children(enabled, "TargetGrants"):
        for grant in children(holder, "Grant"):
            grants.append(_logging_grant(ctx, grant))
    config: dict[str, Any] = {"target_bucket": target,
                              "target_prefix": find_text(enabled, "TargetPrefix"),
                              "grants": grants}
    key_format = next(children(enabled, "TargetObjectKeyFormat"), None)
    if key_format is not None:
        partitioned = next(children(key_format, "PartitionedPrefix"), None)
        if partitioned is not None:
            source = find_text(partitioned, "PartitionDateSource") or "EventTime"
            if source not in ("EventTime", "DeliveryTime"):
                raise e.MalformedXML()
            config["partitioned"] = source
        elif next(children(key_format, "SimplePrefix"), None) is None:
            raise e.MalformedXML()
    return config


def _logging_grant(ctx: S3Context, grant: ET.Element) -> list[str]:
    grantee = next(children(grant, "Grantee"), None)
    permission = find_text(grant, "Permission")
    if grantee is None or permission not in LOGGING_PERMISSIONS:
        raise e.MalformedXML()
    kind = grantee.get(f"{{{acls.XSI}}}type", "")
    accounts = ctx.walrus.accounts
    if kind == "Group":
        uri = find_text(grantee, "URI")
        if not uri:
            raise e.MalformedXML()
        return ["group", uri, permission]
    if kind == "AmazonCustomerByEmail":
        email = find_text(grantee, "EmailAddress")
        account = accounts.resolve_email(email)
        if account is None:
            raise e.UnresolvableGrantByEmailAddress(EmailAddress=email)
        return ["id", account, permission]
    if kind == "CanonicalUser":
        ref = find_text(grantee, "ID")
        account = accounts.resolve(ref) if ref else None
        if account is None:
            raise e.InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID",
                                    ArgumentValue=ref)
        return ["id", account, permission]
    raise e.MalformedXML()


def render_logging(ctx: S3Context, config: dict[str, Any] | None) -> bytes:
    """A ``BucketLoggingStatus`` document."""
    if not config:
        return doc("BucketLoggingStatus")
    parts = [el("TargetBucket", config["target_bucket"])]
    if config["grants"]:
        grants = []
        for kind, value, permission in config["grants"]:
            if kind == "group":
                who = f'xsi:type="Group">{el("URI", value)}'
            else:
                who = (f'xsi:type="CanonicalUser">{el("ID", acls.canonical_id(value))}'
                       f'{el("DisplayName", ctx.walrus.accounts.display_name(value))}')
            grants.append(f'<Grant><Grantee xmlns:xsi="{acls.XSI}" {who}</Grantee>'
                          f'{el("Permission", permission)}</Grant>')
        parts.append(f"<TargetGrants>{''.join(grants)}</TargetGrants>")
    parts.append(el("TargetPrefix", config["target_prefix"]))
    if "partitioned" in config:
        parts.append("<TargetObjectKeyFormat><PartitionedPrefix>"
                     f"{el('PartitionDateSource', config['partitioned'])}"
                     "</PartitionedPrefix></TargetObjectKeyFormat>")
    return doc("BucketLoggingStatus", f"<LoggingEnabled>{''.join(parts)}</LoggingEnabled>")


async def bucket_logging(ctx: S3Context) -> Response:
    """Get/PutBucketLogging (bucket owner only)."""
    if ctx.request.method == "GET":
        bucket = _owner_only(ctx, "s3:GetBucketLogging")
        return ctx.response(200, render_logging(ctx, ctx.walrus.store.bucket_config(
            bucket, "logging")))
    bucket = _owner_only(ctx, "s3:PutBucketLogging")
    config = parse_logging(ctx, bucket, await ctx.body(LIMIT))
    ctx.walrus.store.set_bucket_config(bucket["name"], "logging", config)
    return ctx.response(200)


# -- notification ------------------------------------------------------------------------------
def parse_notification(body: bytes) -> list[dict[str, Any]]:
    """A ``NotificationConfiguration`` document as stored rules.

    Events and filter rules are validated as S3 does; destinations only need to look like
    ARNs, because there is no SNS, SQS or Lambda here to check them against (or to notify).
    """
    root = _root(body, "NotificationConfiguration")
    rules: list[dict[str, Any]] = []
    ids: set[str] = set()
    for element, dest_name in DESTINATIONS:
        for conf in children(root, element):
            rule_id = find_text(conf, "Id") or str(uuid.uuid4())
            if rule_id in ids:
                raise e.InvalidArgument("Configuration ids must be unique", ArgumentName="Id",
                                        ArgumentValue=rule_id)
            ids.add(rule_id)
            dest = find_text(conf, dest_name)
            if not dest:
                raise e.MalformedXML()
            if not _ARN.match(dest):
                raise e.InvalidArgument("The ARN is not well formed", ArgumentName=dest_name,
                                        ArgumentValue=dest)
            events = [(ev.text or "").strip() for ev in children(conf, "Event")]
            if not events:
                raise e.MalformedXML()
            for event in events:
                if event not in EVENTS:
                    raise e.InvalidArgument("The event is not supported for notifications",
                                            ArgumentName=event, ArgumentValue=event)
            rules.append({"kind": element, "id": rule_id, "dest": dest, "events": events,
                          "filter": _notification_filter(conf)})
    if next(children(root, "EventBridgeConfiguration"), None) is not None:
        rules.append({"kind": "EventBridgeConfiguration"})
    return rules


def _notification_filter(conf: ET.Element) -> list[list[str]]:
    out: list[list[str]] = []
    for filt in children(conf, "Filter"):
        for key in children(filt, "S3Key"):
            for rule in children(key, "FilterRule"):
                name = find_text(rule, "Name")
                if name.lower() not in ("prefix", "suffix"):
                    raise e.InvalidArgument("filter rule name must be either prefix or suffix",
                                            ArgumentName="FilterRule.Name", ArgumentValue=name)
                if any(n.lower() == name.lower() for n, _ in out):
                    raise e.InvalidArgument("Cannot specify more than one " + name.lower()
                                            + " rule in a filter.",
                                            ArgumentName="FilterRule.Name",
                                            ArgumentValue=name)
                out.append([name, find_text(rule, "Value")])
    return out


def render_notification(rules: list[dict[str, Any]] | None) -> bytes:
    """A ``NotificationConfiguration`` document."""
    parts = []
    for r in rules or []:
        if r["kind"] == "EventBridgeConfiguration":
            parts.append("<EventBridgeConfiguration/>")
            continue
        dest_name = dict(DESTINATIONS)[r["kind"]]
        inner = [el("Id", r["id"]), el(dest_name, r["dest"])]
        inner += [el("Event", ev) for ev in r["events"]]
        if r["filter"]:
            filt = "".join(f"<FilterRule>{el('Name', n)}{el('Value', v)}</FilterRule>"
                           for n, v in r["filter"])
            inner.append(f"<Filter><S3Key>{filt}</S3Key></Filter>")
        parts.append(f"<{r['kind']}>{''.join(inner)}</{r['kind']}>")
    return doc("NotificationConfiguration", *parts)


async def bucket_notification(ctx: S3Context) -> Response:
    """Get/PutBucketNotificationConfiguration (stored and returned only: Walrus has no
    SNS, SQS or Lambda, so no event is ever sent)."""
    if ctx.request.method == "GET":
        bucket = _owner_only(ctx, "s3:GetBucketNotification")
        return ctx.response(200, render_notification(ctx.walrus.store.bucket_config(
            bucket, "notification")))
    bucket = _owner_only(ctx, "s3:PutBucketNotification")
    rules = parse_notification(await ctx.body(LIMIT))
    ctx.walrus.store.set_bucket_config(bucket["name"], "notification", rules or None)
    return ctx.response(200)


# -- ownership controls ------------------------------------------------------------------------
async def ownership_controls(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketOwnershipControls.

    Switching to BucketOwnerEnforced is refused (InvalidBucketAclWithObjectOwnership) while
    the bucket ACL grants anything to anyone but the bucket owner, as S3 does: those grants
    must move to a bucket policy first.
    """
    method = ctx.request.method
    if method == "GET":
        bucket = _owner_only(ctx, "s3:GetBucketOwnershipControls")
        setting = ctx.walrus.store.bucket_config(bucket, "ownership")
        if not setting:
            raise e.OwnershipControlsNotFoundError(BucketName=bucket["name"])
        return ctx.response(200, doc("OwnershipControls",
                                     f"<Rule>{el('ObjectOwnership', setting)}</Rule>"))
    bucket = _owner_only(ctx, "s3:PutBucketOwnershipControls")
    if method == "DELETE":
        ctx.walrus.store.set_bucket_config(bucket["name"], "ownership", None)
        return ctx.response(204)
    root = _root(await ctx.body(LIMIT), "OwnershipControls")
    rules = list(children(root, "Rule"))
    if len(rules) != 1:
        raise e.MalformedXML()
    setting = find_text(rules[0], "ObjectOwnership")
    if setting not in OWNERSHIP:
        raise e.MalformedXML()
    if setting == acls.ENFORCED and \
            not acls.owner_only(json.loads(bucket["acl"] or "{}"), bucket["account_id"]):
        raise e.InvalidBucketAclWithObjectOwnership()
    ctx.walrus.store.set_bucket_config(bucket["name"], "ownership", setting)
    return ctx.response(200)


# -- transfer acceleration and request payment ------------------------------------------------
async def accelerate(ctx: S3Context) -> Response:
    """Get/PutBucketAccelerateConfiguration (stored and returned; there is no
    acceleration endpoint)."""
    if ctx.request.method == "GET":
        bucket = _owner_only(ctx, "s3:GetAccelerateConfiguration")
        status = ctx.walrus.store.bucket_config(bucket, "accelerate")
        return ctx.response(200, doc("AccelerateConfiguration",
                                     el("Status", status) if status else ""))
    bucket = _owner_only(ctx, "s3:PutAccelerateConfiguration")
    status = find_text(_root(await ctx.body(LIMIT), "AccelerateConfiguration"), "Status")
    if status not in ("Enabled", "Suspended"):
        raise e.MalformedXML()
    if "." in bucket["name"]:
        # Accelerated endpoints are virtual-host style only, which a dotted name breaks.
        raise e.InvalidRequest("S3 Transfer Acceleration is not supported for buckets with "
                               "periods (.) in their names")
    ctx.walrus.store.set_bucket_config(bucket["name"], "accelerate", status)
    return ctx.response(200)


async def request_payment(ctx: S3Context) -> Response:
    """Get/PutBucketRequestPayment (stored and returned; nobody is billed)."""
    if ctx.request.method == "GET":
        bucket = _owner_only(ctx, "s3:GetBucketRequestPayment")
        payer = ctx.walrus.store.bucket_config(bucket, "requestPayment") or "BucketOwner"
        return ctx.response(200, doc("RequestPaymentConfiguration", el("Payer", payer)))
    bucket = _owner_only(ctx, "s3:PutBucketRequestPayment")
    payer = find_text(_root(await ctx.body(LIMIT), "RequestPaymentConfiguration"), "Payer")
    if payer not in ("Requester", "BucketOwner"):
        raise e.MalformedXML()
    ctx.walrus.store.set_bucket_config(bucket["name"], "requestPayment",
                                       None if payer == "BucketOwner" else payer)
    return ctx.response(200)
