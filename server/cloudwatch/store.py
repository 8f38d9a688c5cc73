"""Metric storage: statistic buckets per metric, in memory and written through to SQL.

A metric is (account, namespace, name, dimensions).  Its datapoints are kept as buckets of
statistics (sample count, sum, min, max and, for percentiles, a bounded list of the raw
values) at the resolution CloudWatch keeps for the data's age: 1-second buckets for
high-resolution data during 3 hours, 1-minute buckets for 15 days, 5-minute buckets for 63
days, 1-hour buckets for 455 days.  :meth:`MetricStore.roll_up` merges aged buckets into the
next resolution and drops what is past retention, so the store is bounded by time.

Each :meth:`MetricStore.commit` writes the touched buckets in one transaction before the
request that put them is acknowledged: a restart loses no acknowledged datapoint.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

series_table = sa.Table(
    "cw_series", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("namespace", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("dimensions", sa.Text, nullable=False),
    sa.Column("last_put", sa.Float, nullable=False),
)

buckets_table = sa.Table(
    "cw_buckets", metadata,
    sa.Column("series_id", sa.Integer, primary_key=True),
    sa.Column("resolution", sa.Integer, primary_key=True),
    sa.Column("ts", sa.Float, primary_key=True),
    sa.Column("unit", sa.String(32), primary_key=True),
    sa.Column("count", sa.Float, nullable=False),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("min", sa.Float, nullable=False),
    sa.Column("max", sa.Float, nullable=False),
    sa.Column("vals", sa.Text, nullable=False),
)

#: (resolution seconds, how long data of that resolution is kept), finest first.
RETENTION: tuple[tuple[int, float], ...] = (
    (1, 3 * 3600.0),
    (60, 15 * 86400.0),
    (300, 63 * 86400.0),
    (3600, 455 * 86400.0),
)
#: Raw values kept per bucket for percentiles; beyond it every other value is dropped.
MAX_VALUES = 1000
#: Raw values kept per bucket of 5-minute and 1-hour data.
ROLLED_VALUES = 250

Dims = tuple[tuple[str, str], ...]
MetricKey = tuple[str, str, str, Dims]


@dataclass(slots=True)
class Bucket:
    """Statistics of the datapoints of one metric, unit and period start."""

    count: float = 0.0
    sum: float = 0.0
    min: float = float("inf")
    max: float = float("-inf")
    #: raw values (with repetitions by count) for percentiles; empty for statistic sets
    values: list[float] = field(default_factory=list)

    def add(self, value: float, count: float = 1.0) -> None:
        """Add ``count`` occurrences of ``value``."""
        self.count += count
        self.sum += value * count
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        self.values.extend([value] * int(min(count, 150)))
        if len(self.values) > MAX_VALUES:
            self.values.sort()
            del self.values[::2]

    def add_set(self, count: float, total: float, lo: float, hi: float) -> None:
        """Add a statistic set (no raw values: percentiles are unavailable for it)."""
        self.count += count
        self.sum += total
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)

    def merge(self, other: Bucket, cap: int | None = MAX_VALUES) -> None:
        """Fold ``other`` into this bucket (keeping at most ``cap`` raw values)."""
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.values.extend(other.values)
        while cap is not None and len(self.values) > cap:
            self.values.sort()
            del self.values[::2]


class Series:
    """One metric: its buckets per resolution, each with sorted period starts."""

    __slots__ = ("account_id", "dims", "id", "last_put", "name", "namespace", "res")

    def __init__(self, sid: int, account_id: str, namespace: str, name: str, dims: Dims,
                 last_put: float):
        self.id = sid
        self.account_id = account_id
        self.namespace = namespace
        self.name = name
        self.dims = dims
        self.last_put = last_put
        #: resolution -> (sorted starts, {start: {unit: Bucket}})
        self.res: dict[int, tuple[list[float], dict[float, dict[str, Bucket]]]] = {}

    def bucket(self, resolution: int, ts: float, unit: str) -> Bucket:
        """The bucket of ``ts`` at ``resolution`` for ``unit`` (created if missing)."""
        starts, by_start = self.res.setdefault(resolution, ([], {}))
        start = float(int(ts // resolution) * resolution)
        units = by_start.get(start)
        if units is None:
            units = by_start[start] = {}
            if not starts or starts[-1] < start:
                starts.append(start)
            else:
                bisect.insort(starts, start)
        b = units.get(unit)
        if b is None:
            b = units[unit] = Bucket()
        return b

    def window(self, resolution: int, start: float, end: float
               ) -> Iterator[tuple[float, dict[str, Bucket]]]:
        """``(start, {unit: bucket})`` of buckets starting in ``[start, end)``."""
        got = self.res.get(resolution)
        if not got:
            return
        starts, by_start = got
        i = bisect.bisect_left(starts, start)
        j = bisect.bisect_left(starts, end)
        for ts in starts[i:j]:
            yield ts, by_start[ts]


class MetricStore:
    """Every metric of the cloud; writes go to SQL at :meth:`commit`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.series: dict[MetricKey, Series] = {}
        self.by_id: dict[int, Series] = {}
        self._next_id = 1
        self._dirty: set[tuple[int, int, float, str]] = set()
        self._dirty_series: set[int] = set()
        self._deleted: set[tuple[int, int, float, str]] = set()
        #: metrics whose every datapoint has passed retention, to delete at the next commit
        self._gone: set[int] = set()
        self._load()

    def _load(self) -> None:
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(series_table)).all():
                dims = tuple(tuple(d) for d in json.loads(row.dimensions))
                s = Series(row.id, row.account_id, row.namespace, row.name,
                           dims, row.last_put)
                self.series[(row.account_id, row.namespace, row.name, s.dims)] = s
                self.by_id[row.id] = s
                self._next_id = max(self._next_id, row.id + 1)
            for row in conn.execute(sa.select(buckets_table)).all():
                b = row._mapping
                owner = self.by_id.get(b["series_id"])
                if owner is None:
                    continue
                bucket = owner.bucket(b["resolution"], b["ts"], b["unit"])
                bucket.merge(Bucket(b["count"], b["sum"], b["min"], b["max"],
                                    json.loads(b["vals"])))

    # -- writing ----------------------------------------------------------------------------
    def get_series(self, account_id: str, namespace: str, name: str, dims: Dims,
                   now: float) -> Series:
        """The metric (created when new), marked as put at ``now``."""
        key = (account_id, namespace, name, dims)
        s = self.series.get(key)
        if s is None:
            s = Series(self._next_id, account_id, namespace, name, dims, now)
            self._next_id += 1
            self.series[key] = s
            self.by_id[s.id] = s
        s.last_put = max(s.last_put, now)
        self._dirty_series.add(s.id)
        return s

    def add(self, s: Series, ts: float, unit: str, resolution: int, now: float,
            values: Iterable[tuple[float, float]] = (),
            stats: tuple[float, float, float, float] | None = None) -> None:
        """Add values (``(value, count)`` pairs) or a statistic set at ``ts``."""
        # High-resolution data is kept per second while young; everything else per minute
        # (PutMetricData accepts nothing older than two weeks).
        res = 1 if resolution == 1 and now - ts < RETENTION[0][1] else 60
        b = s.bucket(res, ts, unit)
        if stats is not None:
            b.add_set(*stats)
        for value, count in values:
            b.add(value, count)
        self._dirty.add((s.id, res, float(int(ts // res) * res), unit))

    def commit(self) -> None:
        """Write the touched metrics and buckets in one transaction."""
        if not (self._dirty or self._dirty_series or self._deleted or self._gone):
            return
        dirty, self._dirty = self._dirty, set()
        dseries, self._dirty_series = self._dirty_series, set()
        deleted, self._deleted = self._deleted, set()
        gone, self._gone = sorted(self._gone), set()
        rows = []
        for sid, res, ts, unit in dirty:
            s = self.by_id[sid]
            b = s.res[res][1][ts][unit]
            rows.append({"series_id": sid, "resolution": res, "ts": ts, "unit": unit,
                         "count": b.count, "sum": b.sum, "min": b.min, "max": b.max,
                         "vals": json.dumps(b.values)})
        srows = [{"id": s.id, "account_id": s.account_id, "namespace": s.namespace,
                  "name": s.name, "dimensions": json.dumps(s.dims), "last_put": s.last_put}
                 for s in (self.by_id[i] for i in dseries)]
        bt = buckets_table
        with self.engine.begin() as conn:
            if srows:
                conn.execute(series_table.delete().where(
                    series_table.c.id.in_([r["id"] for r in srows])))
                conn.execute(series_table.insert(), srows)
            keys = [{"s": sid, "r": res, "t": ts, "u": unit}
                    for sid, res, ts, unit in list(dirty) + list(deleted)]
            if keys:
                conn.execute(bt.delete().where(
                    (bt.c.series_id == sa.bindparam("s")) & (bt.c.resolution == sa.bindparam("r"))
                    & (bt.c.ts == sa.bindparam("t")) & (bt.c.unit == sa.bindparam("u"))), keys)
            if gone:
                conn.execute(series_table.delete().where(series_table.c.id.in_(gone)))
            if rows:
                conn.execute(bt.insert(), rows)

    # -- roll-ups ---------------------------------------------------------------------------
    def roll_up(self, now: float) -> int:
        """Merge buckets older than their resolution's retention into the next resolution
        and drop those past the last; returns how many buckets moved or went."""
        moved = 0
        for s in self.by_id.values():
            for i, (res, keep) in enumerate(RETENTION):
                got = s.res.get(res)
                if not got:
                    continue
                starts, by_start = got
                cut = bisect.bisect_left(starts, now - keep)
                if cut == 0:
                    continue
                old = starts[:cut]
                del starts[:cut]
                for ts in old:
                    for unit, b in by_start.pop(ts).items():
                        self._deleted.add((s.id, res, ts, unit))
                        self._dirty.discard((s.id, res, ts, unit))
                        moved += 1
                        if i + 1 < len(RETENTION):
                            nres = RETENTION[i + 1][0]
                            # Buckets of 5-minute and 1-hour data keep fewer raw values
                            # (evenly by rank), enough for percentiles of older data.
                            s.bucket(nres, ts, unit).merge(
                                b, MAX_VALUES if nres <= 60 else ROLLED_VALUES)
                            self._dirty.add((s.id, nres, float(int(ts // nres) * nres), unit))
        # A metric without datapoints left is forgotten: the store is bounded by retention.
        for s in list(self.by_id.values()):
            if not any(starts for starts, _ in s.res.values()) and \
                    s.last_put < now - RETENTION[-1][1]:
                del self.by_id[s.id]
                self.series.pop((s.account_id, s.namespace, s.name, s.dims), None)
                self._dirty_series.discard(s.id)
                self._gone.add(s.id)
        return moved

    def resolutions_for(self, age: float) -> list[int]:
        """Resolutions that may hold data ``age`` seconds old, finest first."""
        return [r for r, keep in RETENTION if age < keep] or [RETENTION[-1][0]]

    def stats(self) -> dict[str, Any]:
        """Sizes, for the operator."""
        return {"series": len(self.by_id),
                "buckets": sum(len(v[0]) for s in self.by_id.values() for v in s.res.values())}
