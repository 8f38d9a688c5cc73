"""The PlanetLab validation model on small slices (fast) and in full (slow, opt-in)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.planetlab import (
    PlanetLabConfig,
    PlanetLabRun,
    find_trace_dir,
    load_traces,
    read_trace_order,
)

TRACES = Path(find_trace_dir() or "/nonexistent")
pytestmark = pytest.mark.skipif(not TRACES.is_dir(), reason="PlanetLab traces not available")


SORTED = sorted(os.listdir(TRACES)) if TRACES.is_dir() else []


def run(policy: str, **kw: object) -> dict:  # type: ignore[type-arg]
    kw.setdefault("trace_order", SORTED)  # the same VMs whatever the file system lists
    cfg = PlanetLabConfig(str(TRACES), policy=policy, **kw)  # type: ignore[arg-type]
    return PlanetLabRun(cfg).run()[0]


def test_traces_follow_the_listing_or_a_given_order(tmp_path: Path) -> None:
    names = [name for name, _ in load_traces(str(TRACES))]
    assert len(names) == 1052 and names == os.listdir(TRACES)  # what CloudSim's listFiles sees
    assert sum(" " in n for n in names) == 50
    order = tmp_path / "order.txt"
    chosen = sorted(names, reverse=True)[:5]
    order.write_text("\n".join(chosen) + "\n")
    assert read_trace_order(str(order)) == chosen  # names with spaces survive
    assert [n for n, _ in load_traces(str(TRACES), order=read_trace_order(str(order)))] == chosen
    order.write_text("no-such-trace\n")
    with pytest.raises(ValueError, match="no-such-trace"):
        load_traces(str(TRACES), order=read_trace_order(str(order)))


def test_vms_take_the_traces_in_the_given_order() -> None:
    names = sorted(os.listdir(TRACES))
    a = run("dvfs", hosts=10, vms=8, steps=13, trace_order=names[:8])
    b = run("dvfs", hosts=10, vms=8, steps=13, trace_order=names[8:16])
    assert a["energy_kwh"] != b["energy_kwh"]
    assert a == run("dvfs", hosts=10, vms=8, steps=13, trace_order=names[:8])


def test_npa_is_every_host_at_full_power_until_the_last_update() -> None:
    m = run("npa", hosts=10, vms=12, steps=13)
    # CloudSim's datacentre events come at 0.1 + 300 k s; the last before 13 x 300 s.
    assert m["energy_kwh"] == pytest.approx(5 * (117 + 135) * (12 * 300 + 0.1) / 3.6e6)
    assert m["migrations"] == 0


def test_dvfs_uses_less_energy_than_npa_and_never_migrates() -> None:
    npa, dvfs = run("npa", hosts=40, vms=60, steps=24), run("dvfs", hosts=40, vms=60, steps=24)
    assert 0 < dvfs["energy_kwh"] < npa["energy_kwh"]
    assert dvfs["migrations"] == 0 and dvfs["slatah_pct"] == 0.0


@pytest.mark.parametrize("policy", ["thr-mmt-0.8", "thr-mc-0.8", "iqr-mmt-1.5", "mad-mc-2.5",
                                    "lr-mmt-1.2", "lr-mc-1.2", "thr-mu-0.8", "iqr-mu-1.5",
                                    "mad-mu-2.5", "lr-mu-1.2", "lrr-mmt-1.2"])
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


def test_idle_vms_finish_and_leave_as_in_cloudsim() -> None:
    # A VM whose trace is 0 at an update asks for nothing: CloudSim counts it finished.
    m = run("dvfs", hosts=40, vms=60, steps=36)
    assert 0 < m["finished_vms"] < 60
    assert m["failed_creations"] == 0


def test_vm_histories_follow_cloudsims_event_times() -> None:
    # PowerVm records only at updates 0.1 s after a multiple of the interval (CloudSim's
    # event times): with updates 0.01 s after, no history is kept, so IQR is its THR 0.7
    # fallback; at CloudSim's 0.1 s it is not.
    kw: dict[str, object] = {"hosts": 40, "vms": 60, "steps": 36}
    iqr = run("iqr-mmt-1.5", event_offset=0.01, **kw)
    thr = run("thr-mmt-0.7", event_offset=0.01, **kw)
    for key in ("energy_kwh", "migrations", "slatah_pct", "pdm_pct"):
        assert iqr[key] == thr[key], key
    assert run("iqr-mmt-1.5", **kw)["energy_kwh"] != run("thr-mmt-0.7", **kw)["energy_kwh"]


def test_unknown_policy_is_one_readable_error() -> None:
    with pytest.raises(ValueError, match="unknown consolidation"):
        run("thr-xyz-0.8", hosts=4, vms=4, steps=3)


#: CloudSim 3.0.3 on 20110303 with the VMs taking the traces in sorted order, as far
#: as known (simulator/README.md, "Reference values"): NPA as measured, the others
#: as implied by the deltas measured against our previous model.
REFERENCE = {"npa": (2410.80, None), "dvfs": (803.91, None), "thr-mmt-0.8": (191.8, 30433),
             "iqr-mc-1.5": (173.5, None), "lr-mmt-1.2": (170.0, None)}


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("EUCA_SIM_SLOW"), reason="set EUCA_SIM_SLOW=1 (~1 min)")
@pytest.mark.parametrize("policy", sorted(REFERENCE))
def test_full_day_matches_cloudsim_within_the_issue_tolerances(policy: str) -> None:
    energy, migrations = REFERENCE[policy]
    m = run(policy)
    baseline = policy in ("npa", "dvfs")
    assert m["energy_kwh"] == pytest.approx(energy, rel=0.02 if baseline else 0.10)
    if migrations is not None:
        assert m["migrations"] <= migrations  # "more than twice" ours was 60,867
        assert 0 < m["slatah_pct"] < 20 and 0 < m["pdm_pct"] < 1
