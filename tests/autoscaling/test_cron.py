"""Recurrence of scheduled actions: cron fields, names, steps and time zones."""

from __future__ import annotations

import datetime as dt

import pytest

from server.autoscaling.cron import CronError, next_time


def _utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def test_next_time_in_utc_and_steps() -> None:
    """Minute steps, ranges of weekdays by name, and strictly-after semantics."""
    assert next_time("*/15 * * * *", _utc(2026, 1, 5, 10, 0)) == _utc(2026, 1, 5, 10, 15)
    # 2026-01-09 is a Friday: next weekday 09:00 is Monday the 12th.
    assert next_time("0 9 * * mon-fri", _utc(2026, 1, 9, 9, 0)) == _utc(2026, 1, 12, 9, 0)
    assert next_time("30 2 1 jan *", _utc(2026, 6, 1)) == _utc(2027, 1, 1, 2, 30)


def test_time_zone_and_daylight_saving() -> None:
    """09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer."""
    assert next_time("0 9 * * *", _utc(2026, 1, 10), "Europe/Paris") == _utc(2026, 1, 10, 8)
    assert next_time("0 9 * * *", _utc(2026, 7, 10), "Europe/Paris") == _utc(2026, 7, 10, 7)


@pytest.mark.parametrize("expr", ["61 * * * *", "* * *", "* * 0 * *", "x * * * *"])
def test_invalid_expressions(expr: str) -> None:
    """Out-of-range values, missing fields and junk are refused."""
    with pytest.raises(CronError):
        next_time(expr, 0.0)
