"""GetMetricData: metric-stat queries and metric math over them.

A time series is a dict of period start to value.  Expressions combine series, arrays of
series (``METRICS()``) and scalars with ``+ - * / ^`` and the functions SUM, AVG, MIN, MAX
(across an array per timestamp, or over a single series to a scalar), FILL, RATE, DIFF
and ABS, as CloudWatch's metric math does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server import errors
from server.cloudwatch import values as v
from server.cloudwatch.metrics import _PERCENTILE, aggregate, check_period, cw, statistic
from server.cloudwatch.protocols import Timestamp
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.cloudwatch.service import CloudWatch

MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100800
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_TOKENS = re.compile(r'\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|'
                     r'"([^"]*)"|(\S))')

Series = dict[float, float]


class Labeled:
    """A series with the label it is shown with."""

    __slots__ = ("label", "points")

    def __init__(self, label: str, points: Series):
        self.label = label
        self.points = points


Value = float | Labeled | list[Labeled]


def parse_queries(raw: list[Any], name: str, *, for_alarm: bool = False) -> list[dict[str, Any]]:
    """Validated MetricDataQuery structures."""
    if not raw:
        raise errors.MissingParameter(f"The parameter {name} is required.")
    if len(raw) > MAX_QUERIES:
        raise errors.InvalidParameterValue(
            f"The collection {name} must not have a size greater than {MAX_QUERIES}.")
    out = []
    seen = set()
    for n, q in enumerate(raw, 1):
        base = f"{name}.member.{n}"
        q = v.struct(q, base)
        qid = v.text(q, "Id", f"{base}.Id", required=True)
        if not _ID.match(str(qid)):
            raise errors.ValidationError(
                f"The value {qid} for parameter {base}.Id is invalid: it must start with a "
                "lowercase letter and contain only letters, numbers and underscores.")
        if qid in seen:
            raise errors.ValidationError(f"The value {qid} for parameter {base}.Id is not unique.")
        seen.add(qid)
        stat_raw = q.get("MetricStat")
        expr = v.text(q, "Expression", f"{base}.Expression", max_len=2048)
        if (stat_raw not in (None, "", {})) == (expr is not None):
            raise errors.ValidationError(
                f"Exactly one of MetricStat and Expression must be given in {base}.")
        item: dict[str, Any] = {
            "Id": qid, "Label": v.text(q, "Label", f"{base}.Label", max_len=1024),
            "ReturnData": v.boolean(q.get("ReturnData"), f"{base}.ReturnData", True),
            "Period": check_period(q["Period"], f"{base}.Period")
            if q.get("Period") not in (None, "") else None}
        if expr is not None:
            item["Expression"] = expr
        else:
            ms = v.struct(stat_raw, f"{base}.MetricStat")
            metric = v.struct(ms.get("Metric"), f"{base}.MetricStat.Metric")
            ns = v.text(metric, "Namespace", f"{base}.MetricStat.Metric.Namespace", required=True)
            mn = v.text(metric, "MetricName", f"{base}.MetricStat.Metric.MetricName",
                        required=True)
            dims = v.dimensions(metric, "Dimensions", f"{base}.MetricStat.Metric.Dimensions")
            if ms.get("Period") in (None, ""):
                raise errors.MissingParameter(f"The parameter {base}.MetricStat.Period is required.")
            stat = v.text(ms, "Stat", f"{base}.MetricStat.Stat", required=True)
            if stat not in v.STATISTICS and not _PERCENTILE.match(str(stat)):
                raise v.invalid(stat, f"{base}.MetricStat.Stat")
            unit = v.text(ms, "Unit", f"{base}.MetricStat.Unit")
            if unit is not None and unit not in v.UNITS:
                raise v.invalid(unit, f"{base}.MetricStat.Unit")
            item.update(Metric=(ns, mn, dims), Stat=stat, Unit=unit,
                        Period=check_period(ms["Period"], f"{base}.MetricStat.Period"))
        out.append(item)
    if for_alarm and sum(1 for q in out if q["ReturnData"]) != 1:
        raise errors.ValidationError("Exactly one element of the metrics list should return data.")
    return out


def run_queries(watch: CloudWatch, account: str, queries: list[dict[str, Any]], start: float,
                end: float) -> dict[str, Value]:
    """Every query's result, metric stats first, expressions in dependency order."""
    results: dict[str, Value] = {}
    stat_periods = [q["Period"] for q in queries if "Metric" in q]
    grid_period = min(stat_periods) if stat_periods else 60
    for q in queries:
        if "Metric" not in q:
            continue
        ns, mn, dims = q["Metric"]
        s = watch.metrics.series.get((account, ns, mn, dims))
        start_q = math.floor(start / q["Period"]) * q["Period"]
        points = {ts: statistic(b, q["Stat"]) for ts, b, _u in
                  aggregate([s] if s else [], start_q, end, q["Period"], q["Unit"])}
        results[q["Id"]] = Labeled(q["Label"] or mn, {t: x for t, x in points.items()
                                                       if x is not None})
    pending = [q for q in queries if "Expression" in q]
    grid_start = math.floor(start / grid_period) * grid_period
    grid = [float(grid_start + i * grid_period)
            for i in range(max(0, math.ceil((end - grid_start) / grid_period)))]
    expr_ids = frozenset(q["Id"] for q in pending)
    stats_only = {q["Id"]: results[q["Id"]] for q in queries if "Metric" in q}
    for _ in range(len(pending) + 1):
        left = []
        for q in pending:
            try:
                value = Expression(q["Expression"], results, stats_only, grid,
                                   expr_ids).evaluate()
            except _NotYet:
                left.append(q)
                continue
            if isinstance(value, Labeled) and q["Label"]:
                value.label = q["Label"]
            elif isinstance(value, Labeled) and value.label == "":
                value.label = q["Id"]
            results[q["Id"]] = value
        if not left:
            break
        pending = left
    if pending and any(q["Id"] not in results for q in pending):
        ids = ", ".join(q["Id"] for q in pending if q["Id"] not in results)
        raise errors.ValidationError(f"Circular or unknown references in expressions: {ids}")
    return results


def alarm_series(watch: CloudWatch, account: str, metrics: list[Any], start: float,
                 end: float, period: int) -> Series:
    """The series a metric-math alarm watches (its one ReturnData query)."""
    queries = parse_queries(metrics, "Metrics", for_alarm=True)
    results = run_queries(watch, account, queries, start, end)
    chosen = next(q for q in queries if q["ReturnData"])
    value = results.get(chosen["Id"])
    if isinstance(value, Labeled):
        return value.points
    if isinstance(value, list) and value:
        return value[0].points
    return {}


def get_metric_data(ctx: Context) -> Any:
    """GetMetricData: up to 500 queries, ordered by ScanBy, paged by MaxDatapoints."""
    p = ctx.params.raw()
    queries = parse_queries(v.items(p, "MetricDataQueries"), "MetricDataQueries")
    for key in ("StartTime", "EndTime"):
        if p.get(key) in (None, ""):
            raise errors.MissingParameter(f"The parameter {key} is required.")
    start = v.timestamp(p["StartTime"], "StartTime")
    end = v.timestamp(p["EndTime"], "EndTime")
    if start >= end:
        raise errors.ValidationError("The parameter StartTime must be less than the parameter "
                                     "EndTime.")
    scan = v.text(p, "ScanBy") or "TimestampDescending"
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise v.invalid(scan, "ScanBy")
    limit = v.integer(p.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS, "MaxDatapoints")
    if limit < 1:
        raise v.invalid(limit, "MaxDatapoints")
    results = run_queries(cw(ctx), ctx.account_id, queries, start, end)
    rows: list[tuple[str, str, list[tuple[float, float]]]] = []
    for q in queries:
        if not q["ReturnData"]:
            continue
        value = results.get(q["Id"])
        if isinstance(value, list):
            for i, one in enumerate(value):
                rows.append((q["Id"] if i == 0 else f"{q['Id']}_{i}", one.label,
                             _window(one.points, start, end, scan)))
        elif isinstance(value, Labeled):
            rows.append((q["Id"], value.label, _window(value.points, start, end, scan)))
        else:
            raise errors.ValidationError(
                f"The expression of {q['Id']} must return a time series, not a scalar.")
    offset = v.page_offset(p.get("NextToken"))
    budget = limit
    out_rows = []
    skipped = 0
    more = False
    for qid, label, points in rows:
        take: list[tuple[float, float]] = []
        for point in points:
            if skipped < offset:
                skipped += 1
                continue
            if budget == 0:
                more = True
                break
            take.append(point)
            budget -= 1
        out_rows.append({"Id": qid, "Label": label,
                         "Timestamps": [Timestamp(t) for t, _x in take],
                         "Values": [x for _t, x in take],
                         "StatusCode": "PartialData" if more else "Complete"})
    result: dict[str, Any] = {"MetricDataResults": out_rows, "Messages": []}
    if more:
        result["NextToken"] = v.page_token(offset + limit)
    return result


def _window(points: Series, start: float, end: float, scan: str) -> list[tuple[float, float]]:
    got = sorted((t, x) for t, x in points.items() if t < end)
    if scan == "TimestampDescending":
        got.reverse()
    return got


# -- metric math ------------------------------------------------------------------------------
class _NotYet(Exception):
    """An expression refers to another expression not evaluated yet."""


def _combine(a: Value, b: Value, op: Callable[[float, float], float]) -> Value:
    def safe(x: float, y: float) -> float | None:
        try:
            r = op(x, y)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return r if math.isfinite(r) else None

    if isinstance(a, list):
        return [_combine(x, b, op) for x in a]  # type: ignore[misc]
    if isinstance(b, list):
        return [_combine(a, y, op) for y in b]  # type: ignore[misc]
    if isinstance(a, Labeled) and isinstance(b, Labeled):
        pts = {t: safe(a.points[t], b.points[t]) for t in a.points if t in b.points}
        return Labeled("", {t: x for t, x in pts.items() if x is not None})
    if isinstance(a, Labeled):
        assert not isinstance(b, Labeled)
        pts = {t: safe(x, b) for t, x in a.points.items()}
        return Labeled(a.label, {t: x for t, x in pts.items() if x is not None})
    if isinstance(b, Labeled):
        pts = {t: safe(a, y) for t, y in b.points.items()}
        return Labeled(b.label, {t: x for t, x in pts.items() if x is not None})
    r = safe(a, b)
    if r is None:
        raise errors.ValidationError("The expression divides by zero or overflows.")
    return r


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
    "/": lambda x, y: x / y, "^": lambda x, y: float(x ** y)}
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum, "AVG": lambda xs: sum(xs) / len(xs), "MIN": min, "MAX": max}


class Expression:
    """One metric-math expression, parsed and evaluated by recursive descent."""

    def __init__(self, text: str, results: dict[str, Value], stats: dict[str, Value],
                 grid: list[float], expr_ids: frozenset[str] = frozenset()):
        self.text = text
        self.expr_ids = expr_ids
        self.results = results
        self.stats = stats
        self.grid = grid
        self.tokens: list[tuple[str, str]] = []
        for m in _TOKENS.finditer(text):
            if m.group(1):
                self.tokens.append(("num", m.group(1)))
            elif m.group(2):
                self.tokens.append(("id", m.group(2)))
            elif m.group(3) is not None:
                self.tokens.append(("str", m.group(3)))
            elif m.group(4):
                self.tokens.append(("op", m.group(4)))
        self.pos = 0

    def fail(self, why: str) -> errors.AWSError:
        """A ValidationError naming the expression."""
        return errors.ValidationError(f"Error in expression '{self.text}': {why}")

    def evaluate(self) -> Value:
        """The expression's value."""
        if not self.tokens:
            raise self.fail("the expression is empty")
        value = self.expr()
        if self.pos != len(self.tokens):
            raise self.fail(f"unexpected '{self.tokens[self.pos][1]}'")
        return value

    def peek(self) -> tuple[str, str] | None:
        """The next token."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str) -> None:
        """Consume an expected operator token."""
        if self.peek() != ("op", value):
            raise self.fail(f"expected '{value}'")
        self.pos += 1

    def expr(self) -> Value:
        """Sums and differences."""
        left = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = _combine(left, self.term(), _OPS[op])
        return left

    def term(self) -> Value:
        """Products and quotients."""
        left = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = _combine(left, self.unary(), _OPS[op])
        return left

    def unary(self) -> Value:
        """Negation."""
        if self.peek() == ("op", "-"):
            self.pos += 1
            return _combine(-1.0, self.unary(), _OPS["*"])
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.pos += 1
            return _combine(base, self.unary(), _OPS["^"])
        return base

    def atom(self) -> Value:
        """Numbers, query ids, function calls and parentheses."""
        tok = self.peek()
        if tok is None:
            raise self.fail("unexpected end of expression")
        self.pos += 1
        kind, text = tok
        if kind == "num":
            return float(text)
        if tok == ("op", "("):
            value = self.expr()
            self.take(")")
            return value
        if kind == "id" and self.peek() == ("op", "("):
            self.pos += 1
            args: list[Any] = []
            while self.peek() != ("op", ")"):
                nxt = self.peek()
                if nxt is not None and nxt[0] in ("str",) or (
                        nxt is not None and nxt[0] == "id" and nxt[1] in ("REPEAT", "LINEAR")):
                    args.append(nxt[1])
                    self.pos += 1
                else:
                    args.append(self.expr())
                if self.peek() == ("op", ","):
                    self.pos += 1
                elif self.peek() != ("op", ")"):
                    raise self.fail("expected ',' or ')'")
            self.pos += 1
            return self.call(text.upper(), args)
        if kind == "id":
            if text in self.results:
                value = self.results[text]
                if isinstance(value, Labeled):
                    return Labeled(value.label, dict(value.points))
                return value
            if text in self.expr_ids:
                raise _NotYet(text)
            raise self.fail(f"unknown metric or expression id '{text}'")
        raise self.fail(f"unexpected '{text}'")

    def call(self, name: str, args: list[Any]) -> Value:
        """One metric-math function."""
        if name == "METRICS":
            wanted = args[0] if args else ""
            return [Labeled(x.label, dict(x.points)) for qid, x in self.stats.items()
                    if isinstance(x, Labeled) and (wanted in qid or wanted in x.label)]
        if not args:
            raise self.fail(f"{name} needs an argument")
        arg = args[0]
        if name in _REDUCERS:
            reduce = _REDUCERS[name]
            if isinstance(arg, list):
                stamps = sorted({t for s in arg for t in s.points})
                pts = {}
                for t in stamps:
                    xs = [s.points[t] for s in arg if t in s.points]
                    if xs:
                        pts[t] = reduce(xs)
                return Labeled("", pts)
            if isinstance(arg, Labeled):
                xs = list(arg.points.values())
                if not xs:
                    raise self.fail(f"{name} of a series without datapoints")
                return float(reduce(xs))
            return float(arg)
        if name == "ABS":
            return _map(arg, abs)
        if name == "FILL":
            if len(args) != 2:
                raise self.fail("FILL takes a series and a value, REPEAT or LINEAR")
            return _each(arg, lambda s: self.fill(s, args[1]))
        if name == "RATE":
            return _each(arg, lambda s: _rate(s, per_second=True))
        if name == "DIFF":
            return _each(arg, lambda s: _rate(s, per_second=False))
        raise self.fail(f"unknown function {name}")

    def fill(self, s: Labeled, how: Any) -> Labeled:
        """FILL over the query's period grid."""
        pts = dict(s.points)
        known = sorted(pts)
        for t in self.grid:
            if t in pts:
                continue
            if how == "REPEAT":
                before = [k for k in known if k < t]
                if before:
                    pts[t] = s.points[before[-1]]
            elif how == "LINEAR":
                before = [k for k in known if k < t]
                after = [k for k in known if k > t]
                if before and after:
                    a, b = before[-1], after[0]
                    pts[t] = s.points[a] + (s.points[b] - s.points[a]) * (t - a) / (b - a)
            elif isinstance(how, float):
                pts[t] = how
            else:
                raise self.fail("FILL's second argument must be a number, REPEAT or LINEAR")
        return Labeled(s.label, pts)


def _each(value: Value, fn: Callable[[Labeled], Labeled]) -> Value:
    if isinstance(value, list):
        return [fn(s) for s in value]
    if isinstance(value, Labeled):
        return fn(value)
    raise errors.ValidationError("The function needs a time series.")


def _map(value: Value, fn: Callable[[float], float]) -> Value:
    if isinstance(value, list):
        return [Labeled(s.label, {t: fn(x) for t, x in s.points.items()}) for s in value]
    if isinstance(value, Labeled):
        return Labeled(value.label, {t: fn(x) for t, x in value.points.items()})
    return fn(value)


def _rate(s: Labeled, *, per_second: bool) -> Labeled:
    stamps = sorted(s.points)
    out = {}
    for a, b in zip(stamps, stamps[1:], strict=False):
        delta = s.points[b] - s.points[a]
        out[b] = delta / (b - a) if per_second else delta
    return Labeled(s.label, out)
