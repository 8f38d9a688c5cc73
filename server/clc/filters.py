"""Describe filters (``Filter.N.Name``/``Value.M``, wildcards, ``tag:``) and result paging."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from server import errors
from server.protocol.params import Params
from server.util import loads_json

T = TypeVar("T")
Getter = Callable[[Any], Any]


@lru_cache(maxsize=1024)
def _pattern(value: str) -> re.Pattern[str] | None:
    if "*" not in value and "?" not in value:
        return None
    return re.compile(fnmatch.translate(value), re.DOTALL)


def _matches(wanted: list[str], actual: Any) -> bool:
    if actual is None:
        return False
    if isinstance(actual, bool):
        values = ["true" if actual else "false"]
    elif isinstance(actual, (list, tuple, set, frozenset)):
        values = [str(v) for v in actual if v is not None and v != ""]
    else:
        values = [str(actual)]
    for want in wanted:
        pat = _pattern(want)
        for have in values:
            if (pat.match(have) is not None) if pat else have == want:
                return True
    return False


class Filters:
    """A resource kind's filter names and how to read each from a record."""

    def __init__(self, getters: dict[str, Getter], tags_of: Callable[[Any], dict[str, str]]):
        self.getters = getters
        self.tags_of = tags_of

    def check(self, filters: dict[str, list[str]]) -> None:
        """Refuse unknown filter names with InvalidParameterValue, as EC2 does."""
        for name in filters:
            if name in self.getters or name in ("tag-key", "tag-value") or name.startswith("tag:"):
                continue
            raise errors.InvalidParameterValue(f"The filter '{name}' is invalid")

    def apply(self, items: Iterable[T], filters: dict[str, list[str]]) -> list[T]:
        """The items that match every filter (any value of each)."""
        self.check(filters)
        return [i for i in items if self.matches(i, filters)]

    def matches(self, item: Any, filters: dict[str, list[str]]) -> bool:
        """True if ``item`` matches every filter (names already checked)."""
        for name, wanted in filters.items():
            if not wanted:
                continue
            actual: Any
            if name.startswith("tag:"):
                actual = self.tags_of(item).get(name[4:])
            elif name == "tag-key":
                actual = list(self.tags_of(item))
            elif name == "tag-value":
                actual = list(self.tags_of(item).values())
            else:
                actual = self.getters[name](item)
            if not _matches(wanted, actual):
                return False
        return True


def paging(params: Params, *, low: int = 5, high: int = 1000, ids_given: bool = False,
           clamp: bool = False, ids_name: str = "instancesSet") -> tuple[int | None, Any]:
    """Check ``MaxResults`` (low..high, not with a list of ids) and ``NextToken``; return
    the page size (None: no paging asked, answer everything) and the token's position
    (None: from the start).

    With ``clamp``, a ``MaxResults`` above ``high`` means ``high`` instead of an error (as
    AWS's DescribeVolumes, DescribeSnapshots and DescribeTags do)."""
    max_results = params.int("MaxResults")
    token = params.str("NextToken")
    if max_results is None and token is None:
        return None, None
    if ids_given and max_results is not None:
        raise errors.InvalidParameterCombination(
            f"The parameter {ids_name} cannot be used with the parameter maxResults")
    if clamp and max_results is not None and max_results > high:
        max_results = high
    if max_results is not None and not low <= max_results <= high:
        raise errors.InvalidParameterValue(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Expecting a value between {low} and {high}.")
    position = None
    if token:
        try:
            position = loads_json(base64.urlsafe_b64decode(token.encode()))["o"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise errors.InvalidPaginationToken(f"Invalid pagination token: {token}") from None
    return max_results or high, position


def next_token(position: Any) -> str:
    """The opaque ``NextToken`` for a position (an offset or the last item's sort key)."""
    return base64.urlsafe_b64encode(json.dumps({"o": position}).encode()).decode()


def page(items: Sequence[T], params: Params, *, low: int = 5, high: int = 1000,
         ids_given: bool = False, clamp: bool = False,
         ids_name: str = "instancesSet") -> tuple[list[T], str | None]:
    """AWS paging by offset: ``MaxResults`` (low..high) and an opaque ``NextToken``."""
    size, start = paging(params, low=low, high=high, ids_given=ids_given, clamp=clamp,
                         ids_name=ids_name)
    if size is None:
        return list(items), None
    if start is None:
        start = 0
    if not isinstance(start, int) or start < 0:
        raise errors.InvalidPaginationToken(f"Invalid pagination token: {params.str('NextToken')}")
    chunk = list(items[start:start + size])
    nxt = None
    if start + size < len(items):
        nxt = next_token(start + size)
    return chunk, nxt
