"""Clocks: the only source of time for component logic.

Component logic (``server/cc``, ``server/nc``, the stateful parts of ``server/sc``)
never reads the wall clock.  The server hands it a :class:`RealClock` on its asyncio
loop; the simulator hands it a simpy-backed clock.  Both satisfy :class:`Clock`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


class Cancel(Protocol):
    """A handle that cancels a scheduled call."""

    def cancel(self) -> None:
        """Cancel the call if it has not run yet."""


class Clock(Protocol):
    """Time as component logic sees it: read it, and run something later."""

    def now(self) -> float:
        """Seconds since the clock's epoch (Unix time for the real clock)."""

    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancel:
        """Run ``fn`` after ``delay`` seconds of this clock's time."""


class RealClock:
    """Wall-clock time on an asyncio loop, optionally accelerated.

    With ``speed = 10`` a ten-second boot takes one real second, and ``now()``
    advances ten times faster than the wall clock (from the moment of creation).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, speed: float = 1.0):
        self._loop = loop
        self.speed = float(speed)
        self._t0_wall = time.time()
        self._t0_mono = time.monotonic()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop calls are scheduled on (the running loop if none was given)."""
        if self._loop is None:
            self._loop = asyncio.get_event_loop()
        return self._loop

    def now(self) -> float:
        """Unix time, accelerated by ``speed`` since this clock was made."""
        if self.speed == 1.0:
            return time.time()
        return self._t0_wall + (time.monotonic() - self._t0_mono) * self.speed

    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancel:
        """Schedule ``fn`` on the loop after ``delay`` clock seconds."""
        return self.loop.call_later(max(0.0, delay) / self.speed, fn)

    def call_soon_threadsafe(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop from another thread (drivers' worker threads)."""
        self.loop.call_soon_threadsafe(fn)


def loop_of(clock: Clock) -> asyncio.AbstractEventLoop:
    """The asyncio loop network clients of a component should use: a real clock's own
    loop, or (for a virtual clock, which has none) the current one."""
    if isinstance(clock, RealClock):
        return clock.loop
    return asyncio.get_event_loop()


def call_from_thread(clock: Clock, fn: Callable[[], None]) -> None:
    """Run ``fn`` on the control loop from a worker thread: through a real clock's loop,
    or at once for a clock without one (a virtual clock runs no worker threads of its own)."""
    if isinstance(clock, RealClock):
        clock.call_soon_threadsafe(fn)
    else:
        fn()


class ManualClock:
    """A clock advanced by hand; for unit tests of component logic."""

    def __init__(self, start: float = 0.0):
        self._now = start
        self._queue: list[tuple[float, int, Callable[[], None], _ManualHandle]] = []
        self._seq = 0

    def now(self) -> float:
        """The current manual time."""
        return self._now

    def call_later(self, delay: float, fn: Callable[[], None]) -> Cancel:
        """Queue ``fn`` to run when the clock passes ``now + delay``."""
        import heapq

        handle = _ManualHandle()
        self._seq += 1
        heapq.heappush(self._queue, (self._now + max(0.0, delay), self._seq, fn, handle))
        return handle

    def advance(self, seconds: float) -> None:
        """Move time forward, running every call that falls due, in order."""
        import heapq

        until = self._now + seconds
        while self._queue and self._queue[0][0] <= until:
            when, _, fn, handle = heapq.heappop(self._queue)
            self._now = when
            if not handle.cancelled:
                fn()
        self._now = until


class _ManualHandle:
    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
