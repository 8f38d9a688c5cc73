"""Turn AWS query-protocol XML responses into nested dicts and lists.

Rules (the same for EC2 and IAM-style services):

* an element whose children are all ``item`` or ``member`` becomes a list;
* an empty element named ``...Set`` or listed in :data:`LIST_TAGS` becomes ``[]``;
* any other element with children becomes a dict keyed by local name;
* a leaf becomes its text (``""`` when empty); namespaces are dropped.

The response wrapper is stripped: ``<XResponse>`` (and a single ``<XResult>`` inside
it) disappears, as do ``requestId`` and ``ResponseMetadata``.

Two builders produce the same values: :func:`parse_response` uses defusedxml
(the library path), :func:`parse_response_fast` drives pyexpat directly with DTDs
refused (the start-up fast path, where importing ElementTree costs too much).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - importing typing costs start-up time
    from typing import Any

LIST_TAGS = frozenset(
    {
        "Users",
        "Groups",
        "AccessKeyMetadata",
        "Accounts",
        "PolicyNames",
        "Roles",
        "InstanceProfiles",
        "ServerCertificateMetadataList",
        "Certificates",
        "AccountAliases",
        "MFADevices",
    }
)
_LIST_ITEMS = ("item", "member")
_DROP = ("requestId", "ResponseMetadata", "RequestId")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fold(tag: str, text: str, children: list[tuple[str, Any]]) -> Any:
    """Build the value of one element from its tag, text and (name, value) children."""
    if not children:
        if not text.strip():
            return [] if (tag.endswith("Set") or tag in LIST_TAGS) else ""
        return text
    if all(name in _LIST_ITEMS for name, _ in children):
        return [value for _, value in children]
    out: dict[str, Any] = {}
    for name, value in children:
        if name in out:
            # A repeated element that is not item/member: keep every occurrence.
            prev = out[name]
            if isinstance(prev, list) and getattr(prev, "_repeated", False):
                prev.append(value)
            else:
                rep = _Repeated([prev, value])
                out[name] = rep
        else:
            out[name] = value
    return out


class _Repeated(list):  # type: ignore[type-arg]
    """A list made from repeated sibling elements (as opposed to an item list)."""

    _repeated = True


def _strip(tag: str, value: Any) -> Any:
    """Remove the response wrapper around the useful content."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in _DROP}
        if len(value) == 1:
            (key, inner), = value.items()
            if key.endswith("Result"):
                return inner if inner != "" else {}
        return value
    if value == "":
        return {}
    return value


def parse_response(body: bytes | str) -> Any:
    """Parse a response body with defusedxml and strip its wrapper."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(body)

    def convert(elem: Any) -> Any:
        children = [(_local(c.tag), convert(c)) for c in elem]
        return _fold(_local(elem.tag), elem.text or "", children)

    return _strip(_local(root.tag), convert(root))


class _UnsafeXML(ValueError):
    """The document declares a DTD or entities, which responses never need."""


def parse_response_fast(body: bytes) -> Any:
    """Parse a response body with pyexpat (no DTDs allowed) and strip its wrapper."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()
    stack: list[tuple[str, list[str], list[tuple[str, Any]]]] = [("", [], [])]

    def start(name: str, attrs: dict[str, str]) -> None:
        stack.append((_local(name.split(" ")[-1]), [], []))

    def end(name: str) -> None:
        tag, text, children = stack.pop()
        stack[-1][2].append((tag, _fold(tag, "".join(text), children)))

    def chars(data: str) -> None:
        stack[-1][1].append(data)

    def refuse(*_args: Any) -> None:
        raise _UnsafeXML("DTDs and entity declarations are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.Parse(body, True)
    tag, value = stack[0][2][0]
    return _strip(tag, value)


def parse_error(body: bytes, status: int, reason: str) -> tuple[str, str]:
    """(code, message) of an error response; a non-XML body is the message, on one line
    (an HTML error page, as a proxy or a web framework sends, by its title)."""
    try:
        root = parse_response_fast(body)
    except Exception:  # any parse failure: show the body itself, on one line
        return str(status), (_plain_text(body.decode("utf-8", "replace")) or reason)
    error = _find_error(root)
    if error:
        return str(error.get("Code") or status), str(error.get("Message") or reason)
    return str(status), reason


def _plain_text(text: str) -> str:
    """A non-XML error body as one line: an HTML page's title (a web server's or a
    framework's 500 page), else the text with its whitespace collapsed."""
    import re

    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title and "<html" in text[:1000].lower():
        text = title.group(1)
    return " ".join(text.split())


def _find_error(value: Any) -> dict[str, Any] | None:
    """Find the first ``Error`` dict (``Response/Errors/Error`` or ``Error``)."""
    if isinstance(value, dict):
        if "Code" in value and ("Message" in value or len(value) <= 3):
            return value
        for key in ("Errors", "Error"):
            if key in value:
                found = _find_error(value[key])
                if found:
                    return found
    if isinstance(value, list):
        for sub in value:
            found = _find_error(sub)
            if found:
                return found
    return None


def as_list(value: Any) -> list[Any]:
    """A parsed value as a list (``""``/None -> ``[]``, a lone dict -> ``[dict]``)."""
    if value is None or value == "" or value == {}:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]
