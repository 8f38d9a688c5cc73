"""Small shared helpers: durable file writes, bounded JSON parsing."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

#: How deeply a client's JSON document (a policy, a token) may nest.  AWS's policy
#: grammar needs five levels; the bound keeps every recursive walk of a document far
#: from Python's recursion limit.
MAX_JSON_DEPTH = 64


def atomic_write(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` durably: temp file, fsync, rename, fsync the directory.

    Files are private (0600) unless ``mode`` says otherwise: they live in the data dir.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def loads_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for documents from clients: nesting deeper than ``max_depth`` (or
    too deep for the parser itself) is a ``ValueError`` like any other malformed JSON."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError("JSON document nested too deeply") from None
    return check_json_depth(doc, max_depth=max_depth)


def check_json_depth(doc: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``doc`` itself, or ``ValueError`` when its lists and objects nest deeper than
    ``max_depth`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise ValueError("JSON document nested too deeply")
        stack.extend((child, depth + 1) for child in children)
    return doc
