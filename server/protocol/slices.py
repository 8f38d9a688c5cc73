"""Big answers without holding the event loop: one at a time, in slices that yield.

Every request of every service is served on one event loop. A handler that builds a large
answer (a page of 1,000 instances) would keep every other request waiting for as long as
it works, so such handlers are coroutines (the query dispatcher awaits them) that take
their :class:`Lane`'s turn and call :meth:`Pacer.pace` between items: at most one big
answer is in progress at a time, and it gives the loop back every ``slice_seconds``.
Small requests (GetCallerIdentity, a lookup by id) then wait for at most one slice, not for
all the big answers in progress.

Threads would not help here: rendering is Python code, and a rendering thread holding the
GIL delays the loop thread just as much.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from server.protocol.xml import fragment


class Pacer:
    """Yields to the event loop when the current slice has used its time."""

    __slots__ = ("slice_seconds", "until")

    def __init__(self, slice_seconds: float):
        self.slice_seconds = slice_seconds
        self.until = time.perf_counter() + slice_seconds

    async def pace(self) -> None:
        """Let the loop serve others if this slice is over; cheap when it is not."""
        if time.perf_counter() >= self.until:
            await asyncio.sleep(0)
            self.until = time.perf_counter() + self.slice_seconds


class Lane:
    """Big answers take turns here (first come, first served)."""

    def __init__(self, slice_seconds: float = 0.001):
        self.slice_seconds = slice_seconds
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Pacer]:
        """Wait for the lane, then work in slices paced by the yielded :class:`Pacer`."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a lock serves one loop
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            # Even when no one waited: the requests that arrived with this one (their first
            # steps run in the same turn of the loop) go first, and so do small ones.
            await asyncio.sleep(0)
            yield Pacer(self.slice_seconds)
        # The caller then joins, encodes and sends the answer: in a turn of its own too.
        await asyncio.sleep(0)


#: Answers with more items than this are rendered in a lane's slices.
SMALL_ANSWER = 100


async def rendered(lane: Lane, items: list[Any], item_tag: str = "item") -> list[Any]:
    """The items of a list answer (dicts built at once, from one view of the records) as
    XML fragments rendered in ``lane``'s slices; small answers are left as they are."""
    if len(items) <= SMALL_ANSWER:
        return items
    async with lane.turn() as pacer:
        out: list[Any] = []
        for item in items:
            out.append(fragment([item], item_tag))
            await pacer.pace()
        return out
