"""The PlanetLab validation model on small slices (fast) and in full (slow, opt-in)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.planetlab import PlanetLabConfig, PlanetLabRun, load_traces

TRACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "planetlab" / "20110303"
pytestmark = pytest.mark.skipif(not TRACES.is_dir(), reason="PlanetLab traces not available")


def run(policy: str, **kw: int) -> dict:  # type: ignore[type-arg]
    cfg = PlanetLabConfig(str(TRACES), policy=policy, **kw)  # type: ignore[arg-type]
    return PlanetLabRun(cfg).run()[0]


def test_traces_are_taken_in_byte_sorted_order() -> None:
    names = [name for name, _ in load_traces(str(TRACES))]
    assert len(names) == 1052 and names == sorted(names)
    assert sum(" " in n for n in names) == 50


def test_npa_is_every_host_at_full_power() -> None:
    m = run("npa", hosts=10, vms=12, steps=13)
    assert m["energy_kwh"] == pytest.approx(5 * (117 + 135) * 12 * 300 / 3.6e6)
    assert m["migrations"] == 0


def test_dvfs_uses_less_energy_than_npa_and_never_migrates() -> None:
    npa, dvfs = run("npa", hosts=40, vms=60, steps=24), run("dvfs", hosts=40, vms=60, steps=24)
    assert 0 < dvfs["energy_kwh"] < npa["energy_kwh"]
    assert dvfs["migrations"] == 0 and dvfs["slatah_pct"] == 0.0


@pytest.mark.parametrize("policy", ["thr-mmt-0.8", "thr-mc-0.8", "iqr-mmt-1.5", "mad-mc-2.5",
                                    "lr-mmt-1.2", "lr-mc-1.2"])
def test_consolidation_saves_energy_through_cc_migrations(policy: str) -> None:
    dvfs = run("dvfs", hosts=40, vms=60, steps=36)
    m = run(policy, hosts=40, vms=60, steps=36)
    assert m["energy_kwh"] < dvfs["energy_kwh"]
    assert m["migrations"] > 0
    assert m["cc_migrations_completed"] <= m["migrations"]  # repeats in a round collapse
    assert m["slav_pct"] == pytest.approx(m["slatah_pct"] * m["pdm_pct"] / 100, rel=1e-4)


def test_same_inputs_same_numbers() -> None:
    assert run("mad-mmt-2.5", hosts=30, vms=40, steps=20) == run("mad-mmt-2.5", hosts=30, vms=40,
                                                                 steps=20)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("EUCA_SIM_SLOW"), reason="set EUCA_SIM_SLOW=1 (~10 s)")
def test_full_day_thr_mmt_is_in_the_published_range() -> None:
    m = run("thr-mmt-0.8")
    assert 100 < m["energy_kwh"] < 250            # NPA 2410.8, DVFS ~920 for the same day
    assert m["migrations"] > 1000
    assert 0 < m["slatah_pct"] < 20 and 0 < m["pdm_pct"] < 1
