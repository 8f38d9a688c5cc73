"""Tag sets for buckets and objects: XML in and out, header form, S3's limits."""

from __future__ import annotations

from urllib.parse import parse_qsl

from server.walrus import errors as e
from server.walrus.xmlio import children, doc, el, find_text, local_name, parse_xml


def _check(tags: list[list[str]], limit: int) -> list[list[str]]:
    if len(tags) > limit:
        raise e.InvalidTag(f"Object tags cannot be greater than {limit}")
    keys = [k for k, _ in tags]
    if len(set(keys)) != len(keys):
        raise e.InvalidTag("Cannot provide multiple Tags with the same key")
    for k, v in tags:
        if not k or len(k) > 128:
            raise e.InvalidTag("The TagKey you have provided is invalid")
        if len(v) > 256:
            raise e.InvalidTag("The TagValue you have provided is too long, max 256")
    return tags


def parse_tagging(body: bytes, limit: int) -> list[list[str]]:
    """Parse a ``Tagging`` document into ``[[key, value], ...]``."""
    root = parse_xml(body)
    tag_sets = list(children(root, "TagSet"))
    if local_name(root) != "Tagging" or len(tag_sets) != 1:
        raise e.MalformedXML()
    tags = []
    for tag_set in tag_sets:
        for tag in children(tag_set, "Tag"):
            tags.append([find_text(tag, "Key"), find_text(tag, "Value")])
    return _check(tags, limit)


def parse_tagging_header(value: str) -> list[list[str]]:
    """Parse ``x-amz-tagging: k1=v1&k2=v2``."""
    return _check([[k, v] for k, v in parse_qsl(value, keep_blank_values=True)], 10)


def render_tagging(tags: list[list[str]]) -> bytes:
    """A ``Tagging`` document, tags in key order (as S3 returns them, whatever the order
    they were sent in)."""
    body = "".join(f"<Tag>{el('Key', k)}{el('Value', v)}</Tag>" for k, v in sorted(tags))
    return doc("Tagging", f"<TagSet>{body}</TagSet>")
