"""Static website hosting: Put/Get/DeleteBucketWebsite and the website endpoint.

A bucket's website configuration is stored in its ``configs`` column.  Website requests
arrive on a host name with an ``s3-website`` label (``BUCKET.s3-website.DOMAIN``,
``BUCKET.s3-website-REGION.DOMAIN`` or ``BUCKET.s3-website.REGION.DOMAIN``) and are served
by :class:`WebsiteService`, anonymously and for GET and HEAD only, as S3's website
endpoints do:

* no such bucket: 404 NoSuchBucket; no website configuration: 404
  NoSuchWebsiteConfiguration;
* ``RedirectAllRequestsTo``: every request is answered with a 301 to that host;
* routing rules without an error-code condition redirect before the object is looked up,
  those with ``HttpErrorCodeReturnedEquals`` redirect instead of that error;
* ``/`` and keys ending in ``/`` serve the index document under that "directory"; a key
  that is missing but has an index document below it redirects (302) to ``KEY/``;
* objects are read with the anonymous caller's rights (bucket policy, then ACLs): a
  missing key is 404 NoSuchKey only when anonymous callers may list the bucket, 403
  AccessDenied otherwise;
* an object's ``x-amz-website-redirect-location`` turns it into a 301 redirect;
* 4xx errors serve the error document (with the error's status) when it exists and is
  publicly readable, otherwise a small HTML page naming the error.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from html import escape as html_escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from server.auth.identity import ANONYMOUS
from server.ids import request_id
from server.protocol.http import Request, Response
from server.walrus import errors as e
from server.walrus import objects
from server.walrus.auth import Auth
from server.walrus.context import Row, S3Context, loads
from server.walrus.xmlio import children, doc, el, find_text, local_name, parse_xml

if TYPE_CHECKING:
    from server.walrus.service import Walrus

log = logging.getLogger(__name__)

LIMIT = 128 * 1024
MAX_RULES = 50
REDIRECT_CODES = frozenset({"301", "302", "303", "304", "305", "307", "308"})
_PROTOCOL_ERROR = ("Invalid protocol, protocol can be http or https. If not defined the "
                   "protocol will be selected automatically.")


# -- configuration -----------------------------------------------------------------------------
def _protocol(parent: ET.Element) -> str:
    protocol = find_text(parent, "Protocol")
    if protocol not in ("", "http", "https"):
        raise e.InvalidRequest(_PROTOCOL_ERROR)
    return protocol


def parse_website(body: bytes) -> dict[str, Any]:
    """A ``WebsiteConfiguration`` document as a stored config, validated as S3 does."""
    root = parse_xml(body)
    if local_name(root) != "WebsiteConfiguration":
        raise e.MalformedXML()
    config: dict[str, Any] = {}
    redirect_all = next(children(root, "RedirectAllRequestsTo"), None)
    index = next(children(root, "IndexDocument"), None)
    error = next(children(root, "ErrorDocument"), None)
    rules_el = next(children(root, "RoutingRules"), None)
    if redirect_all is not None:
        if index is not None or error is not None or rules_el is not None:
            raise e.InvalidArgument("RedirectAllRequestsTo cannot be provided in conjunction "
                                    "with other Routing Rules.",
                                    ArgumentName="RedirectAllRequestsTo")
        host = find_text(redirect_all, "HostName")
        if not host:
            raise e.MalformedXML()
        config["redirect_all"] = {"host": host, "protocol": _protocol(redirect_all)}
        return config
    if index is None:
        raise e.InvalidArgument("A value for IndexDocument Suffix must be provided if "
                                "RedirectAllRequestsTo is empty",
                                ArgumentName="IndexDocument")
    suffix = find_text(index, "Suffix")
    if not suffix or "/" in suffix:
        raise e.InvalidArgument("The IndexDocument Suffix is not well formed",
                                ArgumentName="IndexDocument", ArgumentValue=suffix)
    config["index"] = suffix
    if error is not None:
        key = find_text(error, "Key")
        if not key:
            raise e.InvalidArgument("The ErrorDocument Key is not well formed",
                                    ArgumentName="ErrorDocument")
        config["error"] = key
    rules = [_routing_rule(r) for r in children(rules_el, "RoutingRule")] \
        if rules_el is not None else []
    if len(rules) > MAX_RULES:
        raise e.InvalidArgument(f"The number of routing rules must not exceed {MAX_RULES}",
                                ArgumentName="RoutingRules")
    if rules:
        config["rules"] = rules
    return config


def _routing_rule(rule: ET.Element) -> dict[str, str]:
    out: dict[str, str] = {}
    condition = next(children(rule, "Condition"), None)
    if condition is not None:
        if next(children(condition, "KeyPrefixEquals"), None) is not None:
            out["prefix"] = find_text(condition, "KeyPrefixEquals")
        code = find_text(condition, "HttpErrorCodeReturnedEquals")
        if code:
            if not (code.isdigit() and len(code) == 3 and code[0] in "45"):
                raise e.InvalidRequest(f"The provided HTTP error code ({code}) is not valid. "
                                       "Valid codes are 4XX or 5XX.")
            out["error_code"] = code
        if not out:
            raise e.InvalidRequest("Condition cannot be empty. To redirect all requests "
                                   "without a condition, the condition element shouldn't "
                                   "be present.")
    redirect = next(children(rule, "Redirect"), None)
    if redirect is None:
        raise e.MalformedXML()
    protocol = _protocol(redirect)
    if protocol:
        out["protocol"] = protocol
    for tag, name in (("HostName", "host"), ("ReplaceKeyPrefixWith", "replace_prefix"),
                      ("ReplaceKeyWith", "replace_key")):
        if next(children(redirect, tag), None) is not None:
            out[name] = find_text(redirect, tag)
    if "replace_prefix" in out and "replace_key" in out:
        raise e.InvalidRequest("You can only define ReplaceKeyPrefix or ReplaceKey but not "
                               "both.")
    code = find_text(redirect, "HttpRedirectCode")
    if code:
        if code not in REDIRECT_CODES:
            raise e.InvalidRequest(f"The provided HTTP redirect code ({code}) is not valid. "
                                   "Valid codes are 3XX except 300.")
        out["code"] = code
    if not any(k in out for k in ("protocol", "host", "replace_prefix", "replace_key",
                                  "code")):
        raise e.InvalidRequest("Redirect must contain at least one of the following: "
                               "HostName, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith "
                               "or HttpRedirectCode.")
    return out


def render_website(config: dict[str, Any]) -> bytes:
    """A ``WebsiteConfiguration`` document."""
    if "redirect_all" in config:
        ra = config["redirect_all"]
        inner = el("HostName", ra["host"]) + (el("Protocol", ra["protocol"])
                                              if ra["protocol"] else "")
        return doc("WebsiteConfiguration",
                   f"<RedirectAllRequestsTo>{inner}</RedirectAllRequestsTo>")
    parts = [f"<IndexDocument>{el('Suffix', config['index'])}</IndexDocument>"]
    if "error" in config:
        parts.append(f"<ErrorDocument>{el('Key', config['error'])}</ErrorDocument>")
    if config.get("rules"):
        rules = []
        for r in config["rules"]:
            cond = ""
            if "prefix" in r:
                cond += el("KeyPrefixEquals", r["prefix"])
            if "error_code" in r:
                cond += el("HttpErrorCodeReturnedEquals", r["error_code"])
            redirect = "".join(el(tag, r[name]) for tag, name in (
                ("Protocol", "protocol"), ("HostName", "host"),
                ("ReplaceKeyPrefixWith", "replace_prefix"), ("ReplaceKeyWith", "replace_key"),
                ("HttpRedirectCode", "code")) if name in r)
            rules.append("<RoutingRule>" + (f"<Condition>{cond}</Condition>" if cond else "")
                         + f"<Redirect>{redirect}</Redirect></RoutingRule>")
        parts.append(f"<RoutingRules>{''.join(rules)}</RoutingRules>")
    return doc("WebsiteConfiguration", *parts)


async def bucket_website(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketWebsite (bucket owner, or a bucket policy grant)."""
    bucket = ctx.bucket()
    method = ctx.request.method
    ctx.authorize({"GET": "s3:GetBucketWebsite", "PUT": "s3:PutBucketWebsite"}.get(
        method, "s3:DeleteBucketWebsite"), bucket)
    store = ctx.walrus.store
    if method == "GET":
        config = store.bucket_config(bucket, "website")
        if not config:
            raise e.NoSuchWebsiteConfiguration(BucketName=bucket["name"])
        return ctx.response(200, render_website(config))
    if method == "PUT":
        config = parse_website(await ctx.body(LIMIT))
        store.set_bucket_config(bucket["name"], "website", config)
        return ctx.response(200)
    store.set_bucket_config(bucket["name"], "website", None)
    return ctx.response(204)


# -- the website endpoint ----------------------------------------------------------------------
def website_bucket(host: str) -> str | None:
    """The bucket a website endpoint host names (``BUCKET.s3-website[-REGION].DOMAIN``),
    or None when ``host`` is not a website endpoint."""
    host = host.strip().lower()
    if host.startswith("["):
        return None
    host = host.rsplit(":", 1)[0]
    labels = host.split(".")
    for i in range(len(labels) - 1, 0, -1):
        if labels[i] == "s3-website" or labels[i].startswith("s3-website-"):
            return ".".join(labels[:i])
    return None


class _Redirect(Exception):
    def __init__(self, status: int, location: str):
        super().__init__(location)
        self.status = status
        self.location = location


class WebsiteService:
    """Serves ``BUCKET.s3-website...`` hosts: GET and HEAD of website content."""

    path = ""
    signing_names: tuple[str, ...] = ()

    def __init__(self, walrus: Walrus):
        self.walrus = walrus

    def claims(self, request: Request) -> bool:
        """Requests whose Host is a website endpoint."""
        return website_bucket(request.header("host")) is not None

    async def handle(self, request: Request) -> Response:
        """Serve one website request; errors become HTML pages (or the error document)."""
        rid = request_id().replace("-", "")[:16].upper()
        started = time.monotonic()
        name = website_bucket(request.header("host")) or ""
        seen: list[Row] = []  # the bucket row, once read (for the access log)
        try:
            response = await self._serve(request, name, rid, seen)
        except _Redirect as r:
            response = Response(r.status, b"", [("location", r.location),
                                                ("x-amz-request-id", rid)], content_type="")
        except e.S3Error as exc:
            response = _error_page(exc, rid)
        except Exception:
            log.exception("internal error serving website %s %s", request.method, request.path)
            response = _error_page(e.S3Error(), rid)
        if seen:
            key = request.path[1:] if request.path.startswith("/") else request.path
            self.walrus.access_log.record(self._context(request, seen[0], key or None, rid),
                                          response, started, api="WEBSITE")
        response.headers.append(("date", formatdate(self.walrus.cloud.clock.now(),
                                                    usegmt=True)))
        if request.method not in ("GET", "HEAD"):
            # The body (if any) is never read: it must not be parsed as the next request.
            response.headers.append(("connection", "close"))
        return response

    async def _serve(self, request: Request, name: str, rid: str,
                     seen: list[Row]) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise e.MethodNotAllowed(Method=request.method, ResourceType="OBJECT")
        store = self.walrus.store
        bucket = store.bucket_or_none(name) if name else None
        if bucket is None:
            raise e.NoSuchBucket(BucketName=name)
        seen.append(bucket)
        config = store.bucket_config(bucket, "website")
        if not config:
            raise e.NoSuchWebsiteConfiguration(BucketName=name)
        scheme = request.scope.get("scheme", "http")
        host = request.header("host")
        path = request.path
        if "redirect_all" in config:
            ra = config["redirect_all"]
            raise _Redirect(301, f"{ra['protocol'] or scheme}://{ra['host']}"
                                 f"{quote(path, safe='/~')}")
        key = path[1:] if path.startswith("/") else path
        rules = config.get("rules", [])
        for rule in rules:
            if "error_code" not in rule and key.startswith(rule.get("prefix", "")):
                raise _Redirect(*_rule_target(rule, key, scheme, host))
        head = request.method == "HEAD"
        target = key + config["index"] if key == "" or key.endswith("/") else key
        obj = self._head(bucket, target)
        if obj is None and target == key and \
                self._head(bucket, f"{key}/{config['index']}") is not None:
            # A "directory" named without its slash: send the browser to its index.
            raise _Redirect(302, f"/{quote(key, safe='/~')}/")
        try:
            return await self._object(request, bucket, target, obj, rid, head)
        except e.S3Error as exc:
            for rule in rules:
                if rule.get("error_code") == str(exc.status) and \
                        key.startswith(rule.get("prefix", "")):
                    raise _Redirect(*_rule_target(rule, key, scheme, host)) from None
            if "error" in config and 400 <= exc.status < 500:
                page = await self._error_document(request, bucket, config["error"], rid, exc)
                if page is not None:
                    return page
            raise

    def _context(self, request: Request, bucket: Row, key: str | None,
                 rid: str) -> S3Context:
        # Website endpoints are anonymous: a signature, if any, is ignored, and the query
        # string (versions, parts, response overrides) is not S3's API here.
        return S3Context(self.walrus, request, Auth(ANONYMOUS), bucket["name"], key, rid, {},
                         _bucket=bucket)

    def _head(self, bucket: Row, key: str) -> Row | None:
        """The key's current version, or None (missing, or a delete marker)."""
        try:
            return self.walrus.store.head(bucket["name"], key)
        except e.S3Error:
            return None

    async def _object(self, request: Request, bucket: Row, key: str, obj: Row | None,
                      rid: str, head: bool) -> Response:
        """The object (``obj``: its row, already read), as GetObject answers an anonymous
        caller, or its website redirect; a missing ``obj`` is left to GetObject's answer
        (NoSuchKey or AccessDenied)."""
        ctx = self._context(request, bucket, key, rid)
        if obj is not None:
            location = loads(obj["headers"], {}).get("x-amz-website-redirect-location")
            if location:
                ctx.authorize("s3:GetObject", bucket, obj)
                raise _Redirect(301, location)
        return await objects.get_object(ctx, head=head)

    async def _error_document(self, request: Request, bucket: Row, key: str, rid: str,
                              exc: e.S3Error) -> Response | None:
        """The error document served with ``exc``'s status, if it can be read anonymously."""
        ctx = self._context(request, bucket, key, rid)
        try:
            obj = self.walrus.store.head(bucket["name"], key)
            if not ctx.allowed("s3:GetObject", bucket, obj):
                return None
            response = await objects.get_object(ctx, head=request.method == "HEAD")
        except e.S3Error:
            return None
        if response.status != 200:
            return None
        response.status = exc.status
        response.headers += [("x-amz-error-code", exc.code),
                             ("x-amz-error-message", exc.message)]
        return response


def _rule_target(rule: dict[str, str], key: str, scheme: str, host: str) -> tuple[int, str]:
    """(status, Location) of a routing rule's redirect for ``key``."""
    if "replace_key" in rule:
        new_key = rule["replace_key"]
    elif "replace_prefix" in rule:
        new_key = rule["replace_prefix"] + key[len(rule.get("prefix", "")):]
    else:
        new_key = key
    location = (f"{rule.get('protocol') or scheme}://{rule.get('host') or host}/"
                f"{quote(new_key, safe='/~')}")
    return int(rule.get("code", "301")), location


_REASONS = {301: "Moved Permanently", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed",
            416: "Requested Range Not Satisfiable", 500: "Internal Server Error",
            501: "Not Implemented"}


def _error_page(exc: e.S3Error, rid: str) -> Response:
    """The HTML page S3 website endpoints answer errors with (no body for 304)."""
    headers = [("x-amz-request-id", rid), *exc.headers]
    if exc.status == 304:
        return Response(304, b"", headers, content_type="")
    headers += [("x-amz-error-code", exc.code), ("x-amz-error-message", exc.message)]
    title = f"{exc.status} {_REASONS.get(exc.status, 'Error')}"
    items = [("Code", exc.code), ("Message", exc.message)]
    items += [(k, str(v)) for k, v in exc.fields.items()]
    items += [("RequestId", rid), ("HostId", rid)]
    lis = "".join(f"<li>{html_escape(k)}: {html_escape(v)}</li>\n" for k, v in items)
    body = (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n"
            f"<ul>\n{lis}</ul>\n<hr/>\n</body>\n</html>\n").encode()
    return Response(exc.status, body, headers, content_type="text/html; charset=utf-8")
