"""Conditional requests (If-Match, If-None-Match, If-(Un)Modified-Since) and byte ranges."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from server.walrus import errors as e
from server.walrus.context import Row

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def quote_etag(etag: str) -> str:
    """An ETag as S3 sends it, in double quotes."""
    return f'"{etag}"'


def _parse_time(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def check_conditions(h: dict[str, str], obj: Row, prefix: str = "if-",
                     copy: bool = False) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, with S3's precedence."""
    etag = obj["etag"]
    modified = int(obj["last_modified"])
    if_match = h.get(prefix + "match")
    if_none = h.get(prefix + "none-match")
    if_unmod = h.get(prefix + "unmodified-since")
    if_mod = h.get(prefix + "modified-since")
    fail = e.PreconditionFailed(Condition=prefix)
    matched = None
    if if_match is not None:
        matched = etag_in(if_match, etag)
        if not matched:
            raise fail
    if if_unmod is not None and matched is None:
        t = _parse_time(if_unmod)
        if t is not None and modified > t:
            raise fail
    none_matched = None
    if if_none is not None:
        none_matched = not etag_in(if_none, etag)
        if not none_matched:
            if copy:
                raise fail
            raise e.NotModified(headers=[("etag", quote_etag(etag))])
    if if_mod is not None and none_matched is None:
        t = _parse_time(if_mod)
        if t is not None and modified <= t:
            if copy:
                raise fail
            raise e.NotModified(headers=[("etag", quote_etag(etag))])


def etag_in(header: str, etag: str) -> bool:
    """True when an If-Match/If-None-Match list names ``etag`` (or is ``*``)."""
    values = [v.strip().removeprefix("W/").strip('"') for v in header.split(",")]
    return "*" in values or etag in values


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """``(start, end_inclusive)`` of a single byte range; None to serve the whole object."""
    m = _RANGE.match(value.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        n = int(last)
        if n == 0:
            raise e.InvalidRange(RangeRequested=value, ActualObjectSize=str(size))
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise e.InvalidRange(RangeRequested=value, ActualObjectSize=str(size))
    return start, min(end, size - 1)


