"""Alarm evaluation as CloudWatch does it, free of clocks and I/O (the simulator reuses it).

A metric alarm looks at its last ``EvaluationPeriods`` periods; a period's value is the
alarm's statistic of the datapoints in it, or missing.  ``DatapointsToAlarm`` (M) of
those ``EvaluationPeriods`` (N) breaching make ALARM; ``TreatMissingData`` says what a
missing period counts as.  A composite alarm's rule is a boolean expression over other
alarms' states.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda x, t: x >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda x, t: x > t, "greater than"),
    "LessThanThreshold": (lambda x, t: x < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda x, t: x <= t, "less than or equal to"),
}
#: Operators comparing against a band (anomaly detection): the band comes from
#: ``ThresholdMetricId``'s values ``(lower, upper)``.
BAND_COMPARISONS: dict[str, tuple[Callable[[float, float, float], bool], str]] = {
    "LessThanLowerOrGreaterThanUpperThreshold": (
        lambda x, lo, hi: x < lo or x > hi, "outside the band"),
    "LessThanLowerThreshold": (lambda x, lo, hi: x < lo, "less than the lower threshold of"),
    "GreaterThanUpperThreshold": (lambda x, lo, hi: x > hi,
                                  "greater than the upper threshold of"),
}
TREAT_MISSING = ("missing", "ignore", "breaching", "notBreaching")


@dataclass(frozen=True)
class Outcome:
    """The state an evaluation leads to, with CloudWatch's reason text and data."""

    state: str
    reason: str
    #: what goes into StateReasonData (without the version and dates)
    evaluated: list[tuple[float, float | None]]


def _stamp(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def evaluate_metric(periods: Sequence[tuple[float, float | None]], *, threshold: float,
                    comparison: str, datapoints_to_alarm: int, treat_missing: str,
                    current: str, band: Sequence[tuple[float, float] | None] | None = None
                    ) -> Outcome:
    """The state after one evaluation of ``periods`` (``(period start, value or None)``,
    oldest first, as many as EvaluationPeriods)."""
    n = len(periods)
    m = datapoints_to_alarm
    present = [(ts, x) for ts, x in periods if x is not None]

    def breaches(i: int, x: float) -> bool:
        if comparison in COMPARISONS:
            return COMPARISONS[comparison][0](x, threshold)
        if band is None or band[i] is None:
            return False
        lo, hi = band[i]  # type: ignore[misc]
        return BAND_COMPARISONS[comparison][0](x, lo, hi)

    if not present:
        if treat_missing == "breaching":
            return Outcome(ALARM, f"Threshold Crossed: no datapoints were received for {n} "
                           "periods and " f"{n} missing datapoints were treated as [Breaching].",
                           list(periods))
        if treat_missing == "notBreaching":
            return Outcome(OK, f"Threshold Crossed: no datapoints were received for {n} periods "
                           f"and {n} missing datapoints were treated as [NonBreaching].",
                           list(periods))
        if treat_missing == "ignore":
            return Outcome(current, "", list(periods))
        return Outcome(INSUFFICIENT_DATA, f"Insufficient Data: {n} datapoints were unknown.",
                       list(periods))
    flags: list[bool] = []
    for i, (_ts, x) in enumerate(periods):
        if x is None:
            if treat_missing == "breaching":
                flags.append(True)
            elif treat_missing == "notBreaching":
                flags.append(False)
            continue
        flags.append(breaches(i, x))
    breaching = sum(flags)
    if treat_missing in ("missing", "ignore") and len(present) < m:
        # Fewer datapoints than DatapointsToAlarm: CloudWatch alarms when every datapoint
        # it has breaches, and is OK otherwise.
        m = len(present)
    word = (COMPARISONS[comparison][1] if comparison in COMPARISONS
            else BAND_COMPARISONS[comparison][1])
    shown = ", ".join(f"{x!r} ({_stamp(ts)})" for ts, x in reversed(present))
    if breaching >= m:
        state = ALARM
        verb = "were" if breaching != 1 else "was"
        reason = (f"Threshold Crossed: {breaching} out of the last {n} datapoints [{shown}] "
                  f"{verb} {word} the threshold ({threshold!r}) (minimum {m} datapoint"
                  f"{'s' if m != 1 else ''} for OK -> ALARM transition).")
    else:
        state = OK
        good = len(flags) - breaching
        reason = (f"Threshold Crossed: {good} out of the last {n} datapoints [{shown}] "
                  f"{'were' if good != 1 else 'was'} not {word} the threshold ({threshold!r}) "
                  f"(minimum {n - m + 1} datapoint{'s' if n - m + 1 != 1 else ''} for ALARM "
                  "-> OK transition).")
    return Outcome(state, reason, list(periods))


def period_starts(now: float, period: int, evaluation_periods: int) -> list[float]:
    """The starts of the last ``evaluation_periods`` complete periods before ``now``."""
    end = (now // period) * period
    return [end - period * (evaluation_periods - i) for i in range(evaluation_periods)]


# -- composite alarms -------------------------------------------------------------------------
_TOKEN = re.compile(r'\s*(?:(\()|(\))|(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"?([^")]*)"?\s*\)'
                    r"|(AND|OR|NOT|TRUE|FALSE))", re.IGNORECASE)


class RuleError(ValueError):
    """An AlarmRule that does not parse."""


def parse_rule(rule: str) -> list[tuple[str, str]]:
    """Tokens of an AlarmRule (``("state", name)``, ``("op", AND)``, ``("(", "")``...)."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = rule.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RuleError(f"Error in alarm rule near position {pos}")
        if m.group(1):
            tokens.append(("(", ""))
        elif m.group(2):
            tokens.append((")", ""))
        elif m.group(3):
            tokens.append((m.group(3).upper(), m.group(4).strip()))
        else:
            tokens.append(("op", m.group(5).upper()))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    # check it parses
    evaluate_rule(tokens, lambda name: OK)
    return tokens


def rule_alarms(tokens: list[tuple[str, str]]) -> list[str]:
    """The alarm names a rule refers to."""
    return [name for kind, name in tokens if kind in STATES]


def evaluate_rule(tokens: list[tuple[str, str]], state_of: Callable[[str], str]) -> bool:
    """True when the rule holds for the alarm states ``state_of`` gives."""
    pos = 0

    def expr() -> bool:
        nonlocal pos
        left = term()
        while pos < len(tokens) and tokens[pos] == ("op", "OR"):
            pos += 1
            right = term()
            left = left or right
        return left

    def term() -> bool:
        nonlocal pos
        left = factor()
        while pos < len(tokens) and tokens[pos] == ("op", "AND"):
            pos += 1
            right = factor()
            left = left and right
        return left

    def factor() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise RuleError("Unexpected end of alarm rule")
        kind, value = tokens[pos]
        pos += 1
        if kind == "op" and value == "NOT":
            return not factor()
        if kind == "op" and value in ("TRUE", "FALSE"):
            return value == "TRUE"
        if kind == "(":
            out = expr()
            if pos >= len(tokens) or tokens[pos][0] != ")":
                raise RuleError("Unbalanced parentheses in alarm rule")
            pos += 1
            return out
        if kind in STATES:
            return state_of(value) == kind
        raise RuleError(f"Unexpected {value or kind} in alarm rule")

    result = expr()
    if pos != len(tokens):
        raise RuleError("Unexpected text at the end of the alarm rule")
    return result
