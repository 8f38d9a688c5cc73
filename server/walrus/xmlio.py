"""Request XML parsing (defusedxml, namespace-agnostic) and response XML helpers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import defusedxml.ElementTree as DET

from server.protocol.xml import escape, iso8601
from server.walrus import errors as e

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(body: bytes, error: type[e.S3Error] = e.MalformedXML) -> ET.Element:
    """Parse a request document (entities and DTDs refused), or raise ``error``."""
    if not body.strip():
        raise error()
    try:
        root: ET.Element = DET.fromstring(body)
    except Exception:
        raise error() from None
    return root


def children(el: ET.Element, name: str) -> Iterator[ET.Element]:
    """Direct children called ``name`` (any namespace)."""
    for child in el:
        if _local(child.tag) == name:
            yield child


def find_text(el: ET.Element, name: str, default: str = "") -> str:
    """Text of the first direct child called ``name``."""
    for child in children(el, name):
        return (child.text or "").strip()
    return default


def local_name(el: ET.Element) -> str:
    """The element's tag without namespace."""
    return _local(el.tag)


def el(tag: str, text: object) -> str:
    """``<tag>text</tag>`` with escaping."""
    return f"<{tag}>{escape(str(text))}</{tag}>"


def doc(root: str, *parts: str) -> bytes:
    """A namespaced S3 response document."""
    return f'{HEADER}<{root} xmlns="{XMLNS}">{"".join(parts)}</{root}>'.encode()


def timestamp(ts: float) -> str:
    """ISO-8601 with milliseconds, as S3 lists dates."""
    return iso8601(ts)


def iso_timestamp(text: str) -> float | None:
    """Unix time of an ISO 8601 date or date-time (``Z`` or an offset; naive means UTC),
    or None when ``text`` is not one."""
    import datetime as _dt

    try:
        when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.timestamp()
