"""A set of node indices with O(1)-ish successor queries: a two-level bitset.

The CC keeps one per VM type ("nodes that can still take one of these"), so first-fit
placement probes a few machine words instead of scanning every node.
"""

from __future__ import annotations

_BLOCK = 64


class NodeIndex:
    """Node indices in ``[0, size)``; ``first_from(i)`` finds the smallest member >= i."""

    __slots__ = ("_blocks", "_summary", "size")

    def __init__(self, size: int):
        self.size = size
        self._blocks = [0] * ((size + _BLOCK - 1) // _BLOCK or 1)
        self._summary = 0  # bit b set <=> block b is non-empty

    def add(self, i: int) -> None:
        """Insert node ``i``."""
        b = i // _BLOCK
        if not self._blocks[b]:
            self._summary |= 1 << b
        self._blocks[b] |= 1 << (i % _BLOCK)

    def discard(self, i: int) -> None:
        """Remove node ``i`` if present."""
        b = i // _BLOCK
        block = self._blocks[b] & ~(1 << (i % _BLOCK))
        self._blocks[b] = block
        if not block and self._summary >> b & 1:
            self._summary &= ~(1 << b)

    def __contains__(self, i: object) -> bool:
        if not isinstance(i, int) or not 0 <= i < self.size:
            return False
        return bool(self._blocks[i // _BLOCK] >> (i % _BLOCK) & 1)

    def first_from(self, i: int = 0) -> int | None:
        """The smallest member >= ``i``, or None."""
        if i >= self.size:
            return None
        b = i // _BLOCK
        block = self._blocks[b] >> (i % _BLOCK)
        if block:
            return i + ((block & -block).bit_length() - 1)
        rest = self._summary >> (b + 1)
        if not rest:
            return None
        nb = b + 1 + ((rest & -rest).bit_length() - 1)
        block = self._blocks[nb]
        return nb * _BLOCK + ((block & -block).bit_length() - 1)

    def first(self) -> int | None:
        """The smallest member, or None."""
        return self.first_from(0)

    def first_wrapping(self, i: int) -> int | None:
        """The smallest member >= ``i``, wrapping around to the start once."""
        found = self.first_from(i)
        return found if found is not None else self.first_from(0)

    def __bool__(self) -> bool:
        return bool(self._summary)
