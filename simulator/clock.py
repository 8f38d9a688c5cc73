"""A :class:`~server.clock.Clock` over a simpy environment: component logic in virtual time.

``call_later`` schedules a bare simpy event whose callback runs the function, so the
CC and NC state machines run unchanged inside ``env.run()``; simpy processes (workload
generators, failure injectors) share the same timeline.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

import simpy

NORMAL = 1  # simpy.core.NORMAL: the priority of ordinary events


def _fire(event: Any) -> None:
    """simpy callback for a :class:`_Call` (when plain ``env.run`` drives the queue)."""
    fn = event.fn
    if fn is not None:
        event.fn = None
        fn()


_CALLBACKS = (_fire,)  # shared: simpy only iterates an event's callbacks


class _Call:
    """A scheduled call, itself the simpy event (duck-typed: ``callbacks`` and ``_ok``).

    Skipping ``simpy.Event``'s constructor, a separate handle and a per-call callback
    list saves allocations on the hottest path of a million-instance run.
    """

    __slots__ = ("callbacks", "fn")
    _ok = True      # simpy reads these two; as class attributes they cost nothing per call
    _value = None

    def __init__(self, fn: Callable[[], None] | None):
        self.fn = fn
        self.callbacks: Any = _CALLBACKS

    def cancel(self) -> None:
        """Drop the call if it has not run yet."""
        self.fn = None


class SimpyClock:
    """Virtual time for server components, backed by ``simpy.Environment``."""

    def __init__(self, env: simpy.Environment | None = None):
        self.env = env if env is not None else simpy.Environment(initial_time=0.0)
        # Bound once: the hot path of a million-lifecycle run schedules ~5 calls each.
        self._schedule = self.env.schedule

    def now(self) -> float:
        """The simulation time in seconds."""
        # simpy's own attribute, read directly: `Environment.now` is a property, and this
        # is called for every state change the components make.
        now: float = self.env._now
        return now

    def call_later(self, delay: float, fn: Callable[[], None]) -> _Call:
        """Run ``fn`` ``delay`` virtual seconds from now."""
        call = _Call(fn)
        self._schedule(call, NORMAL, delay if delay > 0 else 0.0)  # type: ignore[arg-type,unused-ignore]
        return call

    def run(self, until: float | None = None) -> None:
        """Advance the simulation to ``until`` (or until nothing is scheduled).

        Events due before ``until`` run in simpy's order; then the time is ``until``.
        ``until`` may equal the current time (calls already due run).  Our own calls are
        dispatched inline; any other simpy event (processes, timeouts) goes through the
        same steps ``Environment.step`` performs.
        """
        env = self.env
        queue: list[Any] = env._queue  # simpy's heap of (time, priority, id, event)
        limit = math.inf if until is None else until
        inclusive = until is not None and until <= env.now
        pop = heapq.heappop
        while queue:
            when = queue[0][0]
            if when > limit or (when == limit and not inclusive):
                break
            when, _, _, event = pop(queue)
            env._now = when
            if type(event) is _Call:
                fn = event.fn
                if fn is not None:
                    event.fn = None
                    fn()
                continue
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        if until is not None and until > env.now:
            env._now = until
