"""PutMetricData, GetMetricStatistics and ListMetrics, and the aggregation they share."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from server import errors
from server.cloudwatch import values as v
from server.cloudwatch.protocols import Map, Timestamp
from server.cloudwatch.store import Bucket, Dims, Series
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.cloudwatch.service import CloudWatch

MAX_DATUMS = 1000
MAX_VALUES = 150
MAX_DATAPOINTS = 1440
#: AWS accepts magnitudes in this range (or zero).
MIN_MAGNITUDE = 8.515920e-109
MAX_MAGNITUDE = 1.174271e+108
PAST_LIMIT = 14 * 86400.0
FUTURE_LIMIT = 2 * 3600.0
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,2})?|100)$")
LIST_PAGE = 500


def cw(ctx: Context) -> CloudWatch:
    """The CloudWatch component of the request's cloud."""
    out: CloudWatch = ctx.cloud.components["cloudwatch"]
    return out


def _check_value(value: Any, name: str) -> float:
    x = v.number(value, name)
    if x != 0 and not MIN_MAGNITUDE <= abs(x) <= MAX_MAGNITUDE:
        raise v.invalid(value, name)
    return x


# -- PutMetricData ----------------------------------------------------------------------------
def put_metric_data(ctx: Context) -> Any:
    """PutMetricData: validate every datum first, then store them all (all or nothing)."""
    p = ctx.params.raw()
    namespace = v.text(p, "Namespace", required=True)
    assert namespace is not None
    if namespace.startswith("AWS/") or not re.fullmatch(r"[^:].*", namespace):
        raise v.invalid(namespace, "Namespace")
    data = v.items(p, "MetricData")
    if not data:
        raise errors.MissingParameter("The parameter MetricData is required.")
    if len(data) > MAX_DATUMS:
        raise errors.InvalidParameterValue(
            f"The collection MetricData must not have a size greater than {MAX_DATUMS}.")
    now = ctx.cloud.clock.now()
    datums = [parse_datum(d, n, now) for n, d in enumerate(data, 1)]
    store_datums(cw(ctx), ctx.account_id, namespace, datums, now)
    return None


Datum = tuple[str, Dims, float, str, int, list[tuple[float, float]],
              tuple[float, float, float, float] | None]


def parse_datum(raw: Any, n: int, now: float) -> Datum:
    """One MetricData member, validated as AWS does."""
    base = f"MetricData.member.{n}"
    d = v.struct(raw, base)
    name = v.text(d, "MetricName", f"{base}.MetricName", required=True)
    assert name is not None
    dims = v.dimensions(d, "Dimensions", f"{base}.Dimensions")
    unit = v.text(d, "Unit", f"{base}.Unit") or "None"
    if unit not in v.UNITS:
        raise v.invalid(unit, f"{base}.Unit")
    res = v.integer(d.get("StorageResolution", 60), f"{base}.StorageResolution")
    if res not in (1, 60):
        raise v.invalid(res, f"{base}.StorageResolution")
    ts = now
    if d.get("Timestamp") not in (None, ""):
        ts = v.timestamp(d["Timestamp"], f"{base}.Timestamp")
        if ts < now - PAST_LIMIT:
            raise errors.InvalidParameterValue(
                f"The parameter {base}.Timestamp must specify a time no more than two weeks "
                "in the past.")
        if ts > now + FUTURE_LIMIT:
            raise errors.InvalidParameterValue(
                f"The parameter {base}.Timestamp must specify a time no more than two hours "
                "in the future.")
    has_value = d.get("Value") not in (None, "")
    vals = v.items(d, "Values")
    counts = v.items(d, "Counts")
    stats_raw = d.get("StatisticValues")
    has_stats = stats_raw not in (None, "", {})
    given = [k for k, present in (("Value", has_value), ("Values", bool(vals)),
                                  ("StatisticValues", has_stats)) if present]
    if len(given) > 1:
        raise errors.InvalidParameterCombination(
            f"The parameters {base}.{given[0]} and {base}.{given[1]} are mutually exclusive "
            "and you have specified both.")
    if not given:
        raise errors.MissingParameter(
            f"The parameter {base}.Value, {base}.Values or {base}.StatisticValues is required.")
    pairs: list[tuple[float, float]] = []
    stats = None
    if has_value:
        pairs = [(_check_value(d["Value"], f"{base}.Value"), 1.0)]
    elif vals:
        if len(vals) > MAX_VALUES:
            raise errors.InvalidParameterValue(
                f"The collection {base}.Values must not have a size greater than {MAX_VALUES}.")
        if counts and len(counts) != len(vals):
            raise errors.InvalidParameterValue(
                f"The parameters {base}.Values and {base}.Counts must be of the same size.")
        cs = [v.number(c, f"{base}.Counts.member.{i}") for i, c in enumerate(counts, 1)]
        if any(c < 0 for c in cs):
            raise errors.InvalidParameterValue(f"The parameter {base}.Counts must be positive.")
        pairs = [(_check_value(x, f"{base}.Values.member.{i}"), cs[i - 1] if cs else 1.0)
                 for i, x in enumerate(vals, 1)]
        pairs = [pr for pr in pairs if pr[1] > 0]
    else:
        sv = v.struct(stats_raw, f"{base}.StatisticValues")
        got = []
        for key in ("SampleCount", "Sum", "Minimum", "Maximum"):
            if sv.get(key) in (None, ""):
                raise errors.MissingParameter(
                    f"The parameter {base}.StatisticValues.{key} is required.")
            got.append(_check_value(sv[key], f"{base}.StatisticValues.{key}"))
        count, total, lo, hi = got
        if count <= 0:
            raise errors.InvalidParameterValue(
                f"The parameter {base}.StatisticValues.SampleCount must be greater than 0.")
        if lo > hi:
            raise errors.InvalidParameterValue(
                f"The parameter {base}.StatisticValues.Maximum must be greater than or equal "
                f"to {base}.StatisticValues.Minimum.")
        stats = (count, total, lo, hi)
    return (name, dims, ts, unit, res, pairs, stats)


def store_datums(watch: CloudWatch, account_id: str, namespace: str, datums: list[Datum],
                 now: float) -> None:
    """Add validated datums and commit them (the cloud's own metrics come here too)."""
    store = watch.metrics
    for name, dims, ts, unit, res, pairs, stats in datums:
        s = store.get_series(account_id, namespace, name, dims, now)
        store.add(s, ts, unit, res, now, pairs, stats)
    store.commit()


# -- aggregation -------------------------------------------------------------------------------
def aggregate(series: list[Series], start: float, end: float, period: int,
              unit: str | None = None) -> list[tuple[float, Bucket, str]]:
    """``(period start, merged bucket, unit)`` of every period of ``[start, end)`` with data,
    over every resolution the data lives in and every series given."""
    out: dict[float, Bucket] = {}
    units: dict[float, set[str]] = {}
    for s in series:
        for res in list(s.res):
            for ts, by_unit in s.window(res, start - (res - 1 if res > period else 0), end):
                slot = start + math.floor((max(ts, start) - start) / period) * period
                for u, b in by_unit.items():
                    if unit is not None and u != unit:
                        continue
                    acc = out.get(slot)
                    if acc is None:
                        acc = out[slot] = Bucket()
                        units[slot] = set()
                    acc.merge(b, cap=None)  # a query's percentiles see every kept value
                    units[slot].add(u)
    result = []
    for slot in sorted(out):
        u = unit or (next(iter(units[slot])) if len(units[slot]) == 1 else "None")
        result.append((slot, out[slot], u))
    return result


def statistic(b: Bucket, stat: str) -> float | None:
    """One statistic of a bucket (``Average``, ``p99``...); None when it has none."""
    if b.count <= 0:
        return None
    if stat == "SampleCount":
        return b.count
    if stat == "Sum":
        return b.sum
    if stat == "Average":
        return b.sum / b.count
    if stat == "Minimum":
        return b.min
    if stat == "Maximum":
        return b.max
    m = _PERCENTILE.match(stat)
    if m and b.values:
        vals = sorted(b.values)
        q = float(m.group(1))
        rank = max(1, math.ceil(q / 100.0 * len(vals)))
        return vals[min(rank, len(vals)) - 1]
    return None


def align_start(start: float, now: float, period: int) -> float:
    """StartTime rounded down as CloudWatch does for the data's age."""
    age = now - start
    if age <= 15 * 86400:
        step = 1 if period < 60 else 60
    elif age <= 63 * 86400:
        step = 300
    else:
        step = 3600
    return math.floor(start / step) * step


def check_period(period: Any, name: str = "Period") -> int:
    """A Period: 1, 5, 10, 30 or a multiple of 60."""
    p = v.integer(period, name)
    if p < 1:
        raise errors.InvalidParameterValue(f"The parameter {name} must be greater than 0.")
    if p not in (1, 5, 10, 30) and p % 60:
        raise errors.InvalidParameterValue(f"The parameter {name} must be a multiple of 60.")
    return p


# -- GetMetricStatistics ----------------------------------------------------------------------
def get_metric_statistics(ctx: Context) -> Any:
    """GetMetricStatistics: Statistics and ExtendedStatistics per period."""
    p = ctx.params.raw()
    namespace = v.text(p, "Namespace", required=True)
    name = v.text(p, "MetricName", required=True)
    for key in ("StartTime", "EndTime", "Period"):
        if p.get(key) in (None, ""):
            raise errors.MissingParameter(f"The parameter {key} is required.")
    start = v.timestamp(p["StartTime"], "StartTime")
    end = v.timestamp(p["EndTime"], "EndTime")
    period = check_period(p["Period"])
    if start >= end:
        raise errors.InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.")
    stats = [str(s) for s in v.items(p, "Statistics")]
    ext = [str(s) for s in v.items(p, "ExtendedStatistics")]
    if not stats and not ext:
        raise errors.InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics.")
    if len(stats) > 5:
        raise errors.InvalidParameterValue(
            "The collection Statistics must not have a size greater than 5.")
    if len(ext) > 10:
        raise errors.InvalidParameterValue(
            "The collection ExtendedStatistics must not have a size greater than 10.")
    for i, s in enumerate(stats, 1):
        if s not in v.STATISTICS:
            raise v.invalid(s, f"Statistics.member.{i}")
    for s in ext:
        m = _PERCENTILE.match(s)
        if not m or float(m.group(1)) > 100:
            raise errors.InvalidParameterValue(
                f"The value {s} for parameter ExtendedStatistics is not a valid percentile.")
    unit = v.text(p, "Unit")
    if unit is not None and unit not in v.UNITS:
        raise v.invalid(unit, "Unit")
    dims = v.dimensions(p, "Dimensions", "Dimensions")
    now = ctx.cloud.clock.now()
    start = align_start(start, now, period)
    wanted = math.ceil((end - start) / period)
    if wanted > MAX_DATAPOINTS:
        raise errors.InvalidParameterCombination(
            f"You have requested up to {wanted} datapoints, which exceeds the limit of "
            f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, "
            "or decreasing the time range.")
    assert namespace is not None and name is not None
    found = cw(ctx).metrics.series.get((ctx.account_id, namespace, name, dims))
    points = []
    for slot, b, u in aggregate([found] if found else [], start, end, period, unit):
        point: dict[str, Any] = {"Timestamp": Timestamp(slot)}
        for stat in stats:
            point[stat] = float(statistic(b, stat) or 0.0)
        if ext:
            point["ExtendedStatistics"] = v_map(
                {e: statistic(b, e) for e in ext if statistic(b, e) is not None})
        point["Unit"] = u
        points.append(point)
    return {"Label": name, "Datapoints": points}


def v_map(data: dict[str, Any]) -> Map:
    """Mark ``data`` as a map for the serializers."""
    return Map(data)


# -- ListMetrics --------------------------------------------------------------------------------
def list_metrics(ctx: Context) -> Any:
    """ListMetrics: metrics with data in the last two weeks (or three hours), paged by 500."""
    p = ctx.params.raw()
    namespace = v.text(p, "Namespace")
    name = v.text(p, "MetricName")
    filters = v.dimensions(p, "Dimensions", "Dimensions", max_count=10, values_required=False)
    recently = v.text(p, "RecentlyActive")
    if recently is not None and recently != "PT3H":
        raise v.invalid(recently, "RecentlyActive")
    now = ctx.cloud.clock.now()
    since = now - (3 * 3600 if recently else PAST_LIMIT)
    found = []
    for (acct, ns, mn, dims), s in cw(ctx).metrics.series.items():
        if acct != ctx.account_id or s.last_put < since:
            continue
        if (namespace and ns != namespace) or (name and mn != name):
            continue
        have = dict(dims)
        if any(fn not in have or (fv and have[fn] != fv) for fn, fv in filters):
            continue
        found.append((ns, mn, dims))
    found.sort()
    offset = v.page_offset(p.get("NextToken"))
    page = found[offset:offset + LIST_PAGE]
    out: dict[str, Any] = {"Metrics": [
        {"Namespace": ns, "MetricName": mn,
         "Dimensions": [{"Name": dn, "Value": dv} for dn, dv in dims]} for ns, mn, dims in page]}
    if offset + LIST_PAGE < len(found):
        out["NextToken"] = v.page_token(offset + LIST_PAGE)
    return out
