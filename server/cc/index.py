"""A set of node indices with O(1)-ish successor queries: a two-level bitset.

The CC keeps one per VM type ("nodes that can still take one of these"), so first-fit
placement probes a few machine words instead of scanning every node.
"""

from __future__ import annotations

#: Node indices per machine word (one bit each).
BLOCK = 64
_BLOCK = BLOCK


class NodeIndex:
    """Node indices in ``[0, size)``; ``first_from(i)`` finds the smallest member >= i."""

    __slots__ = ("_summary", "blocks", "size")

    def __init__(self, size: int):
        self.size = size
        #: One word per ``BLOCK`` indices, bit ``i % BLOCK`` of word ``i // BLOCK`` set for
        #: each member.  Read directly by the CC's reindex, to skip updates that change
        #: nothing; changed only through :meth:`add` and :meth:`discard`.
        self.blocks = [0] * ((size + _BLOCK - 1) // _BLOCK or 1)
        self._summary = 0  # bit b set <=> block b is non-empty

    def add(self, i: int) -> None:
        """Insert node ``i``."""
        b = i // _BLOCK
        if not self.blocks[b]:
            self._summary |= 1 << b
        self.blocks[b] |= 1 << (i % _BLOCK)

    def discard(self, i: int) -> None:
        """Remove node ``i`` if present."""
        b = i // _BLOCK
        block = self.blocks[b] & ~(1 << (i % _BLOCK))
        self.blocks[b] = block
        if not block and self._summary >> b & 1:
            self._summary &= ~(1 << b)

    def __contains__(self, i: object) -> bool:
        if not isinstance(i, int) or not 0 <= i < self.size:
            return False
        return bool(self.blocks[i // _BLOCK] >> (i % _BLOCK) & 1)

    def first_from(self, i: int = 0) -> int | None:
        """The smallest member >= ``i``, or None."""
        if i >= self.size:
            return None
        b = i // _BLOCK
        block = self.blocks[b] >> (i % _BLOCK)
        if block:
            return i + ((block & -block).bit_length() - 1)
        rest = self._summary >> (b + 1)
        if not rest:
            return None
        nb = b + 1 + ((rest & -rest).bit_length() - 1)
        block = self.blocks[nb]
        return nb * _BLOCK + ((block & -block).bit_length() - 1)

    def first(self) -> int | None:
        """The smallest member, or None."""
        summary = self._summary  # first_from(0), without its bounds and offset arithmetic
        if not summary:
            return None
        b = (summary & -summary).bit_length() - 1
        block = self.blocks[b]
        return b * _BLOCK + ((block & -block).bit_length() - 1)

    def first_wrapping(self, i: int) -> int | None:
        """The smallest member >= ``i``, wrapping around to the start once."""
        found = self.first_from(i)
        return found if found is not None else self.first_from(0)

    def __bool__(self) -> bool:
        return bool(self._summary)
