"""A :class:`~server.clock.Clock` over a simpy environment: component logic in virtual time.

``call_later`` schedules a bare simpy event whose callback runs the function, so the
CC and NC state machines run unchanged inside ``env.run()``; simpy processes (workload
generators, failure injectors) share the same timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.core import NORMAL
from simpy.events import Event


class _Call:
    """A scheduled call; cancelling it makes the simpy event a no-op."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], None] | None):
        self.fn = fn

    def cancel(self) -> None:
        """Drop the call if it has not run yet."""
        self.fn = None

    def fire(self, _event: Any) -> None:
        """simpy callback: run the function unless cancelled."""
        fn = self.fn
        if fn is not None:
            self.fn = None
            fn()


class SimpyClock:
    """Virtual time for server components, backed by ``simpy.Environment``."""

    def __init__(self, env: simpy.Environment | None = None):
        self.env = env if env is not None else simpy.Environment()
        # Bound once: the hot path of a million-lifecycle run schedules ~5 calls each.
        self._schedule = self.env.schedule

    def now(self) -> float:
        """The simulation time in seconds."""
        return float(self.env.now)

    def call_later(self, delay: float, fn: Callable[[], None]) -> _Call:
        """Run ``fn`` ``delay`` virtual seconds from now."""
        call = _Call(fn)
        event = Event(self.env)
        event._ok = True
        event._value = None
        event.callbacks.append(call.fire)  # type: ignore[union-attr]
        self._schedule(event, NORMAL, delay if delay > 0 else 0.0)
        return call

    def run(self, until: float | None = None) -> None:
        """Advance the simulation (to ``until``, or until nothing is scheduled).

        Unlike ``env.run``, ``until`` may equal the current time: calls already due run.
        """
        env = self.env
        if until is None:
            env.run()
        elif until > env.now:
            env.run(until=until)
        else:
            while env.peek() <= env.now:
                env.step()
