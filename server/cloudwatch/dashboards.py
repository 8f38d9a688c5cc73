"""Dashboards: JSON documents stored per account and validated as CloudWatch does."""

from __future__ import annotations

import json
import re
from typing import Any

from server import errors
from server.cloudwatch import values as v
from server.cloudwatch.metrics import cw
from server.cloudwatch.protocols import Timestamp
from server.db.store import Store
from server.protocol.query import Context

KIND = "cw_dashboard"
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
MAX_BODY = 1024 * 1024
PAGE = 1000


class DashboardBook:
    """The dashboards of every account, kept in the cloud's store."""

    def __init__(self, store: Store):
        self.store = store
        self.dashboards: dict[tuple[str, str], dict[str, Any]] = {}
        for _rid, account, doc in store.load(KIND):
            self.dashboards[(account, doc["DashboardName"])] = doc

    def save(self, account: str, doc: dict[str, Any]) -> None:
        """Keep ``doc`` (written at the request's flush)."""
        self.dashboards[(account, doc["DashboardName"])] = doc
        self.store.put(KIND, f"{account}/{doc['DashboardName']}", account, doc)

    def remove(self, account: str, name: str) -> None:
        """Delete one dashboard."""
        self.dashboards.pop((account, name), None)
        self.store.delete(KIND, f"{account}/{name}")


def _invalid(message: str, path: str = "") -> errors.AWSError:
    exc = errors.AWSError("The dashboard body is invalid, there are 1 validation errors: "
                          + message, code="InvalidParameterInput", status=400)
    exc.extra = {"dashboardValidationMessages": [  # type: ignore[attr-defined]
        {"dataPath": path or "/", "message": message}]}
    return exc


def validate_body(body: str) -> list[dict[str, str]]:
    """Check a DashboardBody; returns CloudWatch's warnings (none: everything is known)."""
    if len(body.encode()) > MAX_BODY:
        raise _invalid("Should be at most 1 MB")
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _invalid(f"Should be a valid JSON document ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise _invalid("Should be of type object")
    widgets = doc.get("widgets")
    if widgets is None:
        raise _invalid("Should have required property 'widgets'")
    if not isinstance(widgets, list):
        raise _invalid("Should be array", "/widgets")
    if len(widgets) > 500:
        raise _invalid("Should NOT have more than 500 items", "/widgets")
    for i, w in enumerate(widgets):
        if not isinstance(w, dict):
            raise _invalid("Should be object", f"/widgets/{i}")
        if "type" not in w:
            raise _invalid("Should have required property 'type'", f"/widgets/{i}")
        if w["type"] not in ("metric", "text", "log", "alarm", "explorer", "custom"):
            raise _invalid("Should be equal to one of the allowed values", f"/widgets/{i}/type")
        for key in ("x", "y", "width", "height"):
            if key in w and not (isinstance(w[key], int) and w[key] >= 0):
                raise _invalid("Should be integer", f"/widgets/{i}/{key}")
        if w["type"] in ("metric", "text", "alarm") and not isinstance(w.get("properties"), dict):
            raise _invalid("Should have required property 'properties'", f"/widgets/{i}")
    return []


def put_dashboard(ctx: Context) -> Any:
    """PutDashboard: create or replace."""
    p = ctx.params.raw()
    name = v.text(p, "DashboardName", required=True)
    body = v.text(p, "DashboardBody", required=True, max_len=MAX_BODY)
    assert name is not None and body is not None
    if not _NAME.match(name):
        raise errors.AWSError("The value for field DashboardName contains invalid characters. "
                              "It can only contain alphanumerics, dash (-) and underscore (_).",
                              code="InvalidParameterInput")
    messages = validate_body(body)
    doc = {"DashboardName": name, "DashboardBody": body,
           "DashboardArn": f"arn:aws:cloudwatch::{ctx.account_id}:dashboard/{name}",
           "LastModified": ctx.cloud.clock.now(), "Size": len(body.encode())}
    cw(ctx).dashboards.save(ctx.account_id, doc)
    return {"DashboardValidationMessages": messages}


def _get(ctx: Context, name: str) -> dict[str, Any]:
    doc = cw(ctx).dashboards.dashboards.get((ctx.account_id, name))
    if doc is None:
        raise v.ResourceNotFound(f"Dashboard {name} does not exist")
    return doc


def get_dashboard(ctx: Context) -> Any:
    """GetDashboard."""
    name = v.text(ctx.params.raw(), "DashboardName", required=True)
    assert name is not None
    doc = _get(ctx, name)
    return {"DashboardArn": doc["DashboardArn"], "DashboardBody": doc["DashboardBody"],
            "DashboardName": doc["DashboardName"]}


def list_dashboards(ctx: Context) -> Any:
    """ListDashboards: by name prefix, paged."""
    p = ctx.params.raw()
    prefix = v.text(p, "DashboardNamePrefix") or ""
    found = [doc for (acct, name), doc in sorted(cw(ctx).dashboards.dashboards.items())
             if acct == ctx.account_id and name.startswith(prefix)]
    offset = v.page_offset(p.get("NextToken"))
    out: dict[str, Any] = {"DashboardEntries": [
        {"DashboardName": d["DashboardName"], "DashboardArn": d["DashboardArn"],
         "LastModified": Timestamp(d["LastModified"]), "Size": d["Size"]}
        for d in found[offset:offset + PAGE]]}
    if offset + PAGE < len(found):
        out["NextToken"] = v.page_token(offset + PAGE)
    return out


def delete_dashboards(ctx: Context) -> Any:
    """DeleteDashboards: all or none."""
    names = [str(n) for n in v.items(ctx.params.raw(), "DashboardNames")]
    if not names:
        raise errors.MissingParameter("The parameter DashboardNames is required.")
    for name in names:
        _get(ctx, name)
    for name in names:
        cw(ctx).dashboards.remove(ctx.account_id, name)
    return {}
