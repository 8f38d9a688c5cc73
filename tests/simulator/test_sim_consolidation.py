"""Dynamic consolidation in the CC: statistics, detectors, selectors, PABFD, a round's plan."""

from __future__ import annotations

import pytest

from server.cc.consolidation import (
    InterQuartileRange,
    LocalRegression,
    LocalRegressionRobust,
    MaximumCorrelation,
    MedianAbsoluteDeviation,
    MinimumMigrationTime,
    MinimumUtilisation,
    StaticThreshold,
    find_host,
    make_consolidator,
)
from server.cc.loadmodel import HostLoad, VmLoad
from server.cc.stats import (
    iqr,
    least_squares_r2,
    mad,
    robust_regression,
    simple_regression,
    tricube_weights,
)
from simulator.power import SPECPOWER_TABLES, SpecPower, interval_energy_j

G4 = SpecPower(SPECPOWER_TABLES["hp-proliant-ml110-g4"])
G5 = SpecPower(SPECPOWER_TABLES["hp-proliant-ml110-g5"])


def host(i: int, model: SpecPower = G5, pe: float = 2660) -> HostLoad:
    return HostLoad(i, f"h{i}", 2, pe, 4096, 1000, model.watts)


def vm(i: int, mips: float, demand: float, ram: float = 613, history: list[float] | None = None
       ) -> VmLoad:
    v = VmLoad(f"v{i}", i, mips, ram, 100)
    v.demand = demand
    v.history = list(history or [])
    return v


def test_statistics() -> None:
    assert iqr([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) == 6  # positions 3 and 9
    assert mad([1, 1, 2, 2, 4, 6, 9]) == 1
    assert simple_regression([1.0, 2.0, 3.0]) == (0.0, 1.0)
    assert least_squares_r2([[1.0, 2.0, 3.0, 4.0]], [2.0, 4.0, 6.0, 8.0]) == pytest.approx(1.0)


def test_specpower_interpolation_and_energy() -> None:
    assert G4.watts(0.0) == 86.0 and G4.watts(1.0) == 117.0
    assert G4.watts(0.25) == pytest.approx(94.3)
    assert interval_energy_j(G5, 0.0, 0.5, 300) == 0.0  # off at the start: nothing
    assert interval_energy_j(G5, 0.5, 0.5, 300) == pytest.approx(116.0 * 300)


def test_detectors() -> None:
    h = host(0)
    h.add(vm(1, 2500, 2200, history=[0.88] * 5))
    h.add(vm(2, 2500, 2200, history=[0.88] * 5))
    assert StaticThreshold(0.8).overloaded(h)          # 4400 / 5320 = 0.83
    assert not StaticThreshold(0.9).overloaded(h)
    assert InterQuartileRange(1.5).overloaded(h)       # short history: THR 0.7 fallback
    flat = host(1)
    flat.add(vm(3, 2500, 2000, history=[0.8] * 12))
    assert not MedianAbsoluteDeviation(2.5).overloaded(flat)  # MAD 0: threshold 1.0
    rising = host(2)
    rising.add(vm(4, 5000, 4500, history=[0.9 - 0.05 * k for k in range(12)]))
    assert LocalRegression(1.2).overloaded(rising)


def test_selectors() -> None:
    h = host(0)
    big, small = vm(1, 2000, 1000, ram=1740), vm(2, 500, 100, ram=613)
    h.add(big)
    h.add(small)
    assert MinimumMigrationTime().select(h) is small
    assert MaximumCorrelation().select(h) is small  # too little history: MMT fallback


def test_power_aware_best_fit_prefers_cheapest_power_increase() -> None:
    hosts = [host(0, G4, 1860), host(1, G5), host(2, G5)]
    busy = hosts[2]
    busy.add(vm(9, 2500, 1000))
    busy.start_round()
    v = vm(1, 1000, 500)
    assert find_host(v, hosts, set(), StaticThreshold(0.8)) is hosts[1]
    assert find_host(v, hosts, {1}, StaticThreshold(0.8)) is hosts[2]


def test_a_round_relieves_overload_then_empties_the_least_loaded_host() -> None:
    hosts = [host(i) for i in range(3)]
    hot = [vm(1, 2500, 2400), vm(2, 2500, 2400)]
    for v in hot:
        hosts[0].add(v)
    cool = vm(3, 500, 100)
    hosts[1].add(cool)
    hosts[2].add(vm(4, 1000, 900))
    plan = make_consolidator("thr", "mmt", 0.8).plan(hosts)
    assert [(m.vm.id, m.source.name, m.dest.name) for m in plan] == [
        ("v1", "h0", "h1"),   # overload: MMT takes the first smallest-RAM VM, best fit
        # Underload: h1 has the lowest utilisation *at the start of the round* (CloudSim
        # judges by it), so it is emptied, including the VM it was just given.
        ("v1", "h1", "h2"),
        ("v3", "h1", "h2"),
    ]
    assert [len(h.vms) for h in hosts] == [2, 1, 1]  # the plan leaves hosts unchanged


def test_minimum_utilisation_takes_the_least_busy_vm_first_on_ties() -> None:
    h = host(0)
    a, b, c = vm(1, 2000, 500), vm(2, 500, 100), vm(3, 1000, 200)  # 25 %, 20 %, 20 %
    for v in (a, b, c):
        h.add(v)
    assert MinimumUtilisation().select(h) is b
    assert make_consolidator("thr", "mu", 0.8).selector.select(h) is b


def test_robust_regression_is_the_plain_line_unless_the_median_residual_is_zero() -> None:
    ys = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.5, 0.8, 0.7, 0.9]
    assert robust_regression(ys) == pytest.approx(simple_regression(ys))
    w = tricube_weights(10)
    assert w[0] == w[1] == w[2] and w[9] == 1.0 and all(x > 0 for x in w)
    flat = [0.5] * 10  # every residual 0: NaN ratios give huge weights, still the plain line
    assert robust_regression(flat) == pytest.approx((0.5, 0.0))
    h = host(0)
    h.add(vm(1, 5000, 4000, history=[0.9 - 0.05 * k for k in range(12)]))
    assert LocalRegressionRobust(1.2).overloaded(h) == LocalRegression(1.2).overloaded(h)
    assert make_consolidator("lrr", "mmt", 1.2).detector == LocalRegressionRobust(1.2)


def test_pabfd_prices_a_host_by_what_it_was_given_earlier_in_the_round() -> None:
    # CloudSim 3.0.3: power after = allocation now + the VM; power before = round start.
    hosts = [host(0), host(1)]
    for h in hosts:
        h.add(vm(10 + h.index, 1000, 500))
        h.start_round()
    first = vm(1, 1000, 800)
    assert find_host(first, hosts, set(), None) is hosts[0]  # tie: the lowest index
    hosts[0].add(first)
    second = vm(2, 1000, 800)
    assert find_host(second, hosts, set(), None) is hosts[1]  # h0 now costs more


def test_unknown_names_are_one_readable_error() -> None:
    with pytest.raises(ValueError, match="selectors"):
        make_consolidator("thr", "nope", 0.8)


def test_random_selection_is_seeded() -> None:
    h = HostLoad(0, "h", 2, 1000.0, 4096.0, 1000.0, lambda u: u)
    vms = [VmLoad(f"i-{k}", k, 500.0, 512.0, 100.0) for k in range(8)]
    for vm in vms:
        h.add(vm)
    picks = [make_consolidator("thr", "rs", 0.8, seed=7).selector.select(h) for _ in range(2)]
    assert picks[0] is picks[1]  # same seed, same draw
    drawn = {make_consolidator("thr", "rs", 0.8, seed=s).selector.select(h) for s in range(20)}
    assert len(drawn) > 1 and drawn <= set(vms)
