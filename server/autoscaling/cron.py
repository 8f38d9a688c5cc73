"""Recurrence of scheduled actions: five-field cron expressions in a time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Field ranges: minute, hour, day of month, month, day of week (0 = Sunday).
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
          "sep": 9, "oct": 10, "nov": 11, "dec": 12,
          "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class CronError(ValueError):
    """The expression is not a valid cron expression."""


def _value(text: str) -> int:
    text = text.lower()
    if text in _NAMES:
        return _NAMES[text]
    if not text.isdigit():
        raise CronError(f"invalid cron value {text!r}")
    return int(text)


def _field(text: str, low: int, high: int) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else 1
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise CronError(f"invalid step in {part!r}")
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _value(a), _value(b)
        else:
            first = _value(base)
            last = high if step_text else first
        if high == 6 and last == 7:
            last = 6
            out.add(0)
        if first < low or last > high or first > last:
            raise CronError(f"cron field {part!r} out of range {low}-{high}")
        out.update(range(first, last + 1, step))
    return frozenset(out)


def parse(expr: str) -> tuple[frozenset[int], ...]:
    """The five fields of ``expr`` as sets of values."""
    parts = expr.split()
    if len(parts) != 5:
        raise CronError("a cron expression has five fields: minute hour day month weekday")
    return tuple(_field(p, lo, hi) for p, (lo, hi) in zip(parts, _RANGES, strict=True))


def zone(name: str) -> dt.tzinfo:
    """A time zone by IANA name (UTC when empty)."""
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r}") from None


def next_time(expr: str, after: float, tz_name: str = "") -> float:
    """The first time strictly after ``after`` (Unix time) that ``expr`` matches."""
    minutes, hours, days, months, weekdays = parse(expr)
    tz = zone(tz_name)
    t = dt.datetime.fromtimestamp(after, tz).replace(second=0, microsecond=0)
    t += dt.timedelta(minutes=1)
    restricted_dom = len(days) < 31
    restricted_dow = len(weekdays) < 7
    for _ in range(200000):
        if t.month not in months:
            year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
            t = t.replace(year=year, month=month, day=1, hour=0, minute=0)
            continue
        dom_ok = t.day in days
        dow_ok = (t.isoweekday() % 7) in weekdays
        # As cron: when both day fields are restricted, either one matching is enough.
        day_ok = (dom_ok or dow_ok) if restricted_dom and restricted_dow else dom_ok and dow_ok
        if not day_ok:
            t = (t + dt.timedelta(days=1)).replace(hour=0, minute=0)
            continue
        if t.hour not in hours:
            t = (t + dt.timedelta(hours=1)).replace(minute=0)
            continue
        if t.minute not in minutes:
            t += dt.timedelta(minutes=1)
            continue
        return t.timestamp()
    raise CronError(f"cron expression {expr!r} never matches")
