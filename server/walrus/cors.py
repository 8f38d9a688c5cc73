"""Bucket CORS: Get/Put/Delete, preflight OPTIONS, and headers on actual requests."""

from __future__ import annotations

import fnmatch
import json
import logging
from typing import TYPE_CHECKING, Any

from server.protocol.http import Response
from server.walrus import errors as e
from server.walrus.context import S3Context, loads
from server.walrus.xmlio import children, doc, el, find_text, parse_xml

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


# -- CORS ------------------------------------------------------------------------------------
def parse_cors(body: bytes) -> list[dict[str, Any]]:
    """Parse a ``CORSConfiguration`` document into rules."""
    root = parse_xml(body)
    rules = []
    for rule in children(root, "CORSRule"):
        methods = [(m.text or "").strip() for m in children(rule, "AllowedMethod")]
        origins = [(o.text or "").strip() for o in children(rule, "AllowedOrigin")]
        if not methods or not origins:
            raise e.MalformedXML()
        for m in methods:
            if m not in METHODS:
                raise e.InvalidRequest(f"Found unsupported HTTP method in CORS config. "
                                       f"Unsupported method is {m}")
        max_age = find_text(rule, "MaxAgeSeconds")
        rules.append({
            "id": find_text(rule, "ID"), "methods": methods, "origins": origins,
            "headers": [(h.text or "").strip() for h in children(rule, "AllowedHeader")],
            "expose": [(h.text or "").strip() for h in children(rule, "ExposeHeader")],
            "max_age": int(max_age) if max_age.isdigit() else None})
    if not rules:
        raise e.MalformedXML()
    return rules


def render_cors(rules: list[dict[str, Any]]) -> bytes:
    """A ``CORSConfiguration`` document."""
    out = []
    for r in rules:
        parts = [el("ID", r["id"])] if r["id"] else []
        parts += [el("AllowedMethod", m) for m in r["methods"]]
        parts += [el("AllowedOrigin", o) for o in r["origins"]]
        parts += [el("AllowedHeader", h) for h in r["headers"]]
        parts += [el("ExposeHeader", h) for h in r["expose"]]
        if r["max_age"] is not None:
            parts.append(el("MaxAgeSeconds", r["max_age"]))
        out.append(f"<CORSRule>{''.join(parts)}</CORSRule>")
    return doc("CORSConfiguration", *out)


def match_rule(rules: list[dict[str, Any]], origin: str, method: str,
               req_headers: list[str]) -> dict[str, Any] | None:
    """The first rule allowing ``origin``, ``method`` and every requested header."""
    for r in rules:
        if method not in r["methods"]:
            continue
        if not any(fnmatch.fnmatchcase(origin, o) for o in r["origins"]):
            continue
        allowed = [h.lower() for h in r["headers"]]
        if all(any(fnmatch.fnmatchcase(h.lower(), a) for a in allowed) for h in req_headers):
            return r
    return None


def actual_method(headers: dict[str, str], method: str) -> str:
    """The method an actual (non-preflight) request is matched against the rules with.

    A request that names one in ``Access-Control-Request-Method`` is matched as that
    method (as RGW and the s3-tests expect); otherwise its own method counts.
    """
    return headers.get("access-control-request-method", "").strip() or method


def cors_headers(rule: dict[str, Any], origin: str, method: str,
                 req_headers: list[str]) -> list[tuple[str, str]]:
    """Access-Control-* headers for a matching rule."""
    wildcard = rule["origins"] == ["*"]
    out = [("access-control-allow-origin", "*" if wildcard else origin),
           ("access-control-allow-methods", ", ".join(rule["methods"]))]
    if not wildcard:
        out.append(("vary", "Origin, Access-Control-Request-Headers, "
                            "Access-Control-Request-Method"))
        out.append(("access-control-allow-credentials", "true"))
    if req_headers:
        out.append(("access-control-allow-headers", ", ".join(req_headers)))
    if rule["expose"]:
        out.append(("access-control-expose-headers", ", ".join(rule["expose"])))
    if rule["max_age"] is not None:
        out.append(("access-control-max-age", str(rule["max_age"])))
    return out


async def bucket_cors(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketCors."""
    bucket = ctx.bucket()
    method = ctx.request.method
    ctx.authorize("s3:GetBucketCORS" if method == "GET" else "s3:PutBucketCORS", bucket)
    if method == "GET":
        rules = loads(bucket["cors"], None)
        if not rules:
            raise e.NoSuchCORSConfiguration(BucketName=bucket["name"])
        return ctx.response(200, render_cors(rules))
    if method == "PUT":
        rules = parse_cors(await ctx.body(64 * 1024))
        ctx.walrus.store.update_bucket(bucket["name"], cors=json.dumps(rules))
        return ctx.response(200)
    ctx.walrus.store.update_bucket(bucket["name"], cors=None)
    return ctx.response(204)


async def preflight(ctx: S3Context) -> Response:
    """OPTIONS: answer a CORS preflight from the bucket's rules (no signature needed)."""
    origin = ctx.headers.get("origin")
    method = ctx.headers.get("access-control-request-method")
    if not origin or not method:
        raise e.BadRequest("Insufficient information. Origin request header needed.")
    bucket = ctx.bucket()
    rules = loads(bucket["cors"], None)
    if not rules:
        raise e.AccessForbidden("CORSResponse: CORS is not enabled for this bucket.",
                                Method=method, ResourceType="BUCKET")
    req_headers = [h.strip() for h in ctx.headers.get("access-control-request-headers",
                                                      "").split(",") if h.strip()]
    rule = match_rule(rules, origin, method, req_headers)
    if rule is None:
        raise e.AccessForbidden("CORSResponse: This CORS request is not allowed. This is "
                                "usually because the evalution of Origin, request method / "
                                "Access-Control-Request-Method or Access-Control-Request-"
                                "Headers are not whitelisted by the resource's CORS spec.",
                                Method=method, ResourceType="OBJECT")
    return ctx.response(200, b"", cors_headers(rule, origin, method, req_headers))
