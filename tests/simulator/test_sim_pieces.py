"""Small pieces: the simpy clock, distributions, workloads and the progress bar."""

from __future__ import annotations

import io
import random

from simulator.cli import ProgressBar
from simulator.clock import SimpyClock
from simulator.distributions import sampler, weighted_names
from simulator.workload import poisson


def test_clock_orders_calls_and_processes_and_cancels() -> None:
    clock = SimpyClock()
    log: list[tuple[str, float]] = []

    def proc(env):  # type: ignore[no-untyped-def]
        yield env.timeout(5)
        log.append(("process", env.now))

    clock.env.process(proc(clock.env))
    clock.call_later(3, lambda: log.append(("call", clock.now())))
    clock.call_later(4, lambda: log.append(("cancelled", clock.now()))).cancel()
    clock.call_later(5, lambda: log.append(("same time", clock.now())))
    clock.run(until=10)
    # Same time: scheduling order, as in simpy (the process schedules its timeout when it
    # starts running, after the calls above were scheduled).
    assert log == [("call", 3.0), ("same time", 5.0), ("process", 5)]
    assert clock.now() == 10.0


def test_distributions_are_seeded() -> None:
    a = sampler({"dist": "exponential", "mean": 30}, random.Random(1))
    b = sampler({"dist": "exponential", "mean": 30}, random.Random(1))
    assert [a() for _ in range(5)] == [b() for _ in range(5)]
    assert sampler(7, random.Random())() == 7.0
    assert 5 <= sampler({"dist": "uniform", "low": 5, "high": 6}, random.Random(2))() <= 6
    names = weighted_names({"a": 1, "b": 0}, random.Random(3))
    assert {names() for _ in range(20)} == {"a"}


def test_poisson_workload_rate_and_determinism() -> None:
    cfg = {"rate_per_hour": 3600, "lifetime": 60, "types": {"m1.small": 1}}
    reqs = list(poisson(cfg, random.Random(4), 1000.0))
    assert 900 < len(reqs) < 1100
    assert reqs == list(poisson(cfg, random.Random(4), 1000.0))
    assert all(r.vm_type == "m1.small" and r.lifetime == 60 for r in reqs)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar("run", stream)
        for k in range(5):
            bar(k + 1, 5)
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert "] 100% " in text and "\r" in text and text.endswith("\n") and "run: done in" in text
