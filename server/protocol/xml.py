"""XML rendering for the query protocols (EC2 ``item`` lists, IAM-style ``member`` lists)."""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Any

_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(text: str) -> str:
    """Escape text for XML element content and attributes."""
    # Most text has nothing to escape, and the test is much cheaper than translate.
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.translate(_ESC)
    return text


@lru_cache(maxsize=8192)
def iso8601(ts: float) -> str:
    """Unix time as AWS's ``2026-11-24T06:57:50.000Z``."""
    t = _dt.datetime.fromtimestamp(ts, _dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Raw(str):
    """Pre-rendered XML, inserted as is (cached fragments of large listings)."""


def render(value: Any, out: list[str], item_tag: str) -> None:
    """Append the XML of ``value`` to ``out``: dicts are elements, lists repeat ``item_tag``."""
    if isinstance(value, dict):
        for key, sub in value.items():
            kind = type(sub)
            if kind is str:  # the common leaf, without a recursive call
                out.append(f"<{key}>{escape(sub)}</{key}>")
                continue
            if sub is None:
                continue
            if kind is Raw:  # large fragments are appended, not copied into a new string
                out.append(f"<{key}>")
                out.append(sub)
                out.append(f"</{key}>")
                continue
            out.append(f"<{key}>")
            render(sub, out, item_tag)
            out.append(f"</{key}>")
    elif isinstance(value, list):
        for sub in value:
            if isinstance(sub, Raw):
                out.append(sub)
                continue
            out.append(f"<{item_tag}>")
            render(sub, out, item_tag)
            out.append(f"</{item_tag}>")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, Raw):
        out.append(value)
    elif isinstance(value, str):
        out.append(escape(value))
    elif isinstance(value, float):
        out.append(repr(value))
    else:
        out.append(str(value))


def fragment(value: Any, item_tag: str = "item") -> Raw:
    """Render ``value`` once into a reusable :class:`Raw` fragment."""
    out: list[str] = []
    render(value, out, item_tag)
    return Raw("".join(out))
