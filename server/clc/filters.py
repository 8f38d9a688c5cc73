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
        out = list(items)
        for name, wanted in filters.items():
            if not wanted:
                continue
            if name.startswith("tag:"):
                key = name[4:]
                out = [i for i in out if _matches(wanted, self.tags_of(i).get(key))]
            elif name == "tag-key":
                out = [i for i in out if _matches(wanted, list(self.tags_of(i)))]
            elif name == "tag-value":
                out = [i for i in out if _matches(wanted, list(self.tags_of(i).values()))]
            else:
                getter = self.getters[name]
                out = [i for i in out if _matches(wanted, getter(i))]
        return out


def page(items: Sequence[T], params: Params, *, low: int = 5, high: int = 1000,
         ids_given: bool = False, clamp: bool = False) -> tuple[list[T], str | None]:
    """AWS paging: ``MaxResults`` (low..high) and an opaque ``NextToken``.

    With ``clamp``, a ``MaxResults`` above ``high`` returns ``high`` items instead of an
    error (as AWS's DescribeVolumes, DescribeSnapshots and DescribeTags do)."""
    max_results = params.int("MaxResults")
    token = params.str("NextToken")
    if max_results is None and token is None:
        return list(items), None
    if ids_given and max_results is not None:
        raise errors.InvalidParameterCombination(
            "The parameter instancesSet cannot be used with the parameter maxResults")
    if clamp and max_results is not None and max_results > high:
        max_results = high
    if max_results is not None and not low <= max_results <= high:
        raise errors.InvalidParameterValue(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Expecting a value between {low} and {high}.")
    start = 0
    if token:
        try:
            start = int(loads_json(base64.urlsafe_b64decode(token.encode()))["o"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise errors.InvalidPaginationToken(f"Invalid pagination token: {token}") from None
    size = max_results or high
    chunk = list(items[start:start + size])
    nxt = None
    if start + size < len(items):
        nxt = base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode()
    return chunk, nxt
