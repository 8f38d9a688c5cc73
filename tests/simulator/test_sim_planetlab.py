"""The PlanetLab validation model on small slices (fast) and in full (slow, opt-in)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from server.cc.consolidation import InterQuartileRange, StaticThreshold
from server.cc.loadmodel import HostLoad, VmLoad
from simulator.planetlab import (
    PlanetLabConfig,
    PlanetLabRun,
    _AtCreation,
    find_trace_dir,
    load_traces,
    read_trace_order,
)
from simulator.power import power_model

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


REFERENCE_DIR = Path(__file__).resolve().parents[2] / "simulator" / "reference"


def cloudsim_rows() -> list[dict[str, str]]:
    """CloudSim 3.0.3's figures (simulator/reference/cloudsim-3.0.3-20110303.csv)."""
    with open(REFERENCE_DIR / "cloudsim-3.0.3-20110303.csv", encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def cloudsim(policy: str, order: str = "sorted") -> dict[str, str]:
    return next(r for r in cloudsim_rows()
                if r["experiment"].lower() == policy and r["order"] == order)


def run_like_cloudsim(policy: str, order: str) -> dict:  # type: ignore[type-arg]
    names = read_trace_order(str(REFERENCE_DIR / "orders" / f"{order}.txt"))
    return run(policy, trace_order=names)


def assert_within_targets(policy: str, m: dict, ref: dict[str, str]) -> None:  # type: ignore[type-arg]
    # The issue's targets: NPA and DVFS energy within 2 %; consolidation within 10 % energy
    # and 25 % migrations, SLATAH and PDM in the same range.
    if policy in ("npa", "dvfs"):
        assert m["energy_kwh"] == pytest.approx(float(ref["energy_kwh"]), rel=0.02)
        assert m["migrations"] == 0
        return
    assert m["energy_kwh"] == pytest.approx(float(ref["energy_kwh"]), rel=0.10)
    assert m["migrations"] == pytest.approx(int(ref["migrations"]), rel=0.25)
    assert m["slatah_pct"] == pytest.approx(float(ref["slatah"]), rel=0.25)
    assert m["pdm_pct"] == pytest.approx(float(ref["pdm"]), rel=0.25)


def test_full_day_baselines_equal_cloudsims() -> None:
    # A full day of NPA and DVFS takes about a second each: they match CloudSim 3.0.3 to
    # the printed digits (energy and host shutdowns).
    for policy in ("npa", "dvfs"):
        ref = cloudsim(policy)
        m = run_like_cloudsim(policy, "sorted")
        assert m["energy_kwh"] == pytest.approx(float(ref["energy_kwh"]), abs=1e-6)
        assert m["host_shutdowns"] == int(ref["host_shutdowns"])


def test_at_creation_only_the_new_vms_request_counts() -> None:
    # CloudSim creates the VMs at 0 s; one created earlier holds its MIPS but asks for
    # nothing until its cloudlet arrives, so PABFD's overload check sees the new VM alone.
    g5 = HostLoad(1, "host-001", 2, 2660.0, 4096.0, 1000.0, power_model("hp-proliant-ml110-g5").watts)
    g5.add(VmLoad("i-0263", 263, 2000.0, 1740.0, 100.0))
    new = VmLoad("i-0400", 400, 2000.0, 1740.0, 100.0)
    detector = InterQuartileRange(1.5)  # no history yet: its THR 0.7 fallback
    assert detector.overloaded(g5, new)  # 4000 / 5320 MIPS, were both asking
    assert not _AtCreation(detector).overloaded(g5, new)  # 2000 / 5320
    assert _AtCreation(StaticThreshold(0.3)).overloaded(g5, new)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("EUCA_SIM_SLOW"),
                    reason="set EUCA_SIM_SLOW=1 (5-10 s per run)")
@pytest.mark.parametrize("row", cloudsim_rows() if (REFERENCE_DIR / "orders").is_dir() else [],
                         ids=lambda r: f"{r['experiment']}-{r['order']}")
def test_full_day_matches_cloudsim_within_the_issue_tolerances(row: dict[str, str]) -> None:
    policy = row["experiment"].lower()
    if policy.split("-")[1:2] == ["rs"]:
        pytest.skip("CloudSim draws RS from an unseeded Random: one run is no reference")
    assert_within_targets(policy, run_like_cloudsim(policy, row["order"]), row)
