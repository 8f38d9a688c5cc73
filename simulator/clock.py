"""A :class:`~server.clock.Clock` over a simpy environment: component logic in virtual time.

``call_later`` queues the function for :meth:`SimpyClock.run`, which runs the CC and NC
state machines unchanged in virtual time; simpy processes (workload generators, failure
injectors) share the same timeline (drive it with ``clock.run``, not ``env.run``).
"""

from __future__ import annotations

import heapq
import math
from bisect import insort
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import Any

import simpy

NORMAL = 1  # simpy.core.NORMAL: the priority of ordinary events


class _Call(list):  # type: ignore[type-arg]
    """A scheduled call, ``[when, sequence, fn]``.  ``fn`` is None once the call ran or
    was cancelled.

    A list, so that scheduling builds one object in C rather than an entry and a handle.
    """

    __slots__ = ()

    def cancel(self) -> None:
        """Drop the call if it has not run yet."""
        self[2] = None


#: Width (virtual seconds) of the calendar queue's buckets.
BUCKET_SECONDS = 1.0
#: A call's time: the sort key of a bucket.
_WHEN = itemgetter(0)


class SimpyClock:
    """Virtual time for server components, backed by ``simpy.Environment``.

    Calls wait in a calendar queue of their own rather than simpy's heap: a bucket per
    ``BUCKET_SECONDS`` of virtual time (a list, appended to in O(1)), sorted by time only
    when time reaches it and then read in order.  A million-lifecycle run keeps about
    100,000 calls pending; popping them from one heap of that size cost more than all
    the component logic (each pop walks 17 levels of a structure far larger than the CPU
    caches).  Each call takes its sequence number from simpy's own event counter, and
    :meth:`run` merges the two queues by ``(time, priority, sequence)``, so calls and
    simpy processes interleave exactly as if every call were a simpy event.

    A bucket's calls are appended in sequence order, so a stable sort on time alone
    orders them by ``(time, sequence)``: the sort compares floats only (CPython's fast
    path), where a heap would compare whole entries at every pop.  A call scheduled into
    the bucket being run is inserted after every call of the same or an earlier time
    (its sequence is the newest), which is also after every call already run (those are
    not later than now).
    """

    def __init__(self, env: simpy.Environment | None = None):
        self.env = env if env is not None else simpy.Environment(initial_time=0.0)
        self._seq = self.env._eid  # simpy's counter: one order for calls and events
        self._current: list[_Call] = []  # the bucket being run, sorted
        self._pos = 0                    # its next call
        self._current_key: float = -math.inf
        self._buckets: dict[int, list[_Call]] = {}
        self._keys: list[int] = []  # heap of the keys of ``_buckets``
        # `now`, rebound to a C-level read of simpy's own attribute: the components call
        # it at every state change (5 times per instance lifecycle), and a Python frame
        # per call was a tenth of a large run.  (`Environment.now` is a property.)
        self.now = partial(getattr, self.env, "_now")  # type: ignore[method-assign]

    def now(self) -> float:
        """The simulation time in seconds."""
        now: float = self.env._now
        return now

    def call_later(self, delay: float, fn: Callable[[], None]) -> _Call:
        """Run ``fn`` ``delay`` virtual seconds from now."""
        now = self.env._now
        when = now + delay if delay > 0 else now
        call = _Call((when, next(self._seq), fn))
        key = int(when // BUCKET_SECONDS)
        if key <= self._current_key:
            insort(self._current, call, key=_WHEN)
        else:
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [call]
                heapq.heappush(self._keys, key)
            else:
                bucket.append(call)
        return call

    def _next_bucket(self) -> bool:
        """Make the earliest waiting bucket current (False when no call waits)."""
        if not self._keys:
            return False
        key = heapq.heappop(self._keys)
        current = self._buckets.pop(key)
        current.sort(key=_WHEN)
        self._current = current
        self._pos = 0
        self._current_key = key
        return True

    def run(self, until: float | None = None) -> None:
        """Advance the simulation to ``until`` (or until nothing is scheduled).

        Calls and events due before ``until`` run in simpy's order; then the time is
        ``until``.  ``until`` may equal the current time (calls already due run).  Any
        simpy event (processes, timeouts) goes through the same steps
        ``Environment.step`` performs.
        """
        env = self.env
        queue: list[Any] = env._queue  # simpy's heap of (time, priority, id, event)
        limit = math.inf if until is None else until
        inclusive = until is not None and until <= env.now
        pop = heapq.heappop
        current = self._current
        i = self._pos
        while True:
            if i >= len(current) and self._next_bucket():
                current = self._current
                i = 0
            head = current[i] if i < len(current) else None
            if queue and (head is None or queue[0][:3] < (head[0], NORMAL, head[1])):
                when = queue[0][0]
                if when > limit or (when == limit and not inclusive):
                    break
                when, _, _, event = pop(queue)
                env._now = when
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    raise exc
                continue
            if head is None:
                break
            when = head[0]
            if when > limit or (when == limit and not inclusive):
                break
            i += 1
            env._now = when
            fn = head[2]
            if fn is not None:
                head[2] = None
                fn()
        self._pos = i
        if until is not None and until > env.now:
            env._now = until
