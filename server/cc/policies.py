"""CC scheduling policies (reference §3.1), registered by their Eucalyptus names.

A policy picks a node for one instance from the CC's fit indices; the CC does the
bookkeeping.  GREEDY packs low-index nodes, waking an asleep node only when no awake
node fits; ROUNDROBIN rotates a cursor past each chosen node; POWERSAVE places like
GREEDY and additionally lets the CC power idle nodes down.
"""

from __future__ import annotations

from typing import Protocol

from server.cc.index import NodeIndex


class Policy(Protocol):
    """Chooses a node index for one placement."""

    name: str
    powers_down: bool

    def choose(self, awake: NodeIndex, asleep: NodeIndex) -> int | None:
        """A node that fits: ``awake`` (UP or WAKING) and ``asleep`` nodes that fit."""

    def placed(self, node: int, size: int) -> None:
        """Called after a successful placement on ``node`` (of ``size`` nodes)."""


class Greedy:
    """First fit in configuration order; wake the first asleep node only if none awake fits."""

    name = "GREEDY"
    powers_down = False

    def choose(self, awake: NodeIndex, asleep: NodeIndex) -> int | None:
        """The lowest awake node that fits, else the lowest asleep one."""
        found = awake.first()
        return found if found is not None else asleep.first()

    def placed(self, node: int, size: int) -> None:
        """GREEDY keeps no state."""


class RoundRobin:
    """First fit scanning from a cursor that moves past each chosen node, wrapping once."""

    name = "ROUNDROBIN"
    powers_down = False

    def __init__(self) -> None:
        self.cursor = 0

    def choose(self, awake: NodeIndex, asleep: NodeIndex) -> int | None:
        """The first node at or after the cursor (awake or asleep), wrapping."""
        cursor = self.cursor
        for start in (cursor, 0) if cursor else (0,):  # from the cursor, then wrap once
            a = awake.first_from(start)
            s = asleep.first_from(start)
            if a is not None:
                return a if s is None or a < s else s
            if s is not None:
                return s
        return None

    def placed(self, node: int, size: int) -> None:
        """Move the cursor to the node after the chosen one."""
        self.cursor = (node + 1) % size if size else 0


class PowerSave(Greedy):
    """GREEDY placement; idle nodes are powered down and woken on demand."""

    name = "POWERSAVE"
    powers_down = True


POLICIES: dict[str, type[Greedy] | type[RoundRobin]] = {
    "GREEDY": Greedy,
    "ROUNDROBIN": RoundRobin,
    "POWERSAVE": PowerSave,
}


def make_policy(name: str) -> Policy:
    """The policy called ``name`` (GREEDY, ROUNDROBIN or POWERSAVE)."""
    try:
        return POLICIES[name.upper()]()
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}; choose one of {sorted(POLICIES)}") from None
