"""Small request-building helpers shared by the command modules."""

from __future__ import annotations

from typing import Any


def members(values: list[Any]) -> dict[str, Any]:
    """A list in the Query protocol's ``.member.N`` form."""
    return {"member": values}


def flat(values: Any) -> list[Any]:
    """The values of a repeatable option whose occurrences may each hold a list."""
    out: list[Any] = []
    for v in values or []:
        out.extend(v if isinstance(v, list) else [v])
    return out
