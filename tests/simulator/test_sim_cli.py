"""``euca-sim run`` and ``sweep`` on shipped examples: outputs exist and are reproducible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.planetlab import find_trace_dir

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "simulator" / "experiments"
TRACES = Path(find_trace_dir() or "/nonexistent")


def euca_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_run_writes_metrics_series_and_plots_byte_identically(tmp_path: Path) -> None:
    outs = []
    for n in (1, 2):
        out = tmp_path / f"out{n}"
        euca_sim("run", str(EXPERIMENTS / "trace-replay.toml"), "--out", str(out), cwd=tmp_path)
        outs.append(out)
    files = sorted(p.name for p in outs[0].iterdir())
    assert files == ["energy.png", "metrics.json", "power.png", "powered_nodes.png",
                     "timeseries.csv", "utilisation.png"]
    for name in files:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    metrics = json.loads((outs[0] / "metrics.json").read_text())
    assert metrics["requests"] == metrics["placed"] + metrics["rejected"] > 0
    for key in ("rejection_rate", "mean_wait_s", "p95_wait_s", "utilisation", "energy_kwh",
                "node_hours_powered", "migrations"):
        assert key in metrics
    assert metrics["mean_wait_s"] == 12.0  # boot 12 s, no staging, immediate reports


def test_seed_changes_a_poisson_run(tmp_path: Path) -> None:
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        euca_sim("run", str(EXPERIMENTS / "stale-polling.toml"), "--out", str(out), "--seed", seed,
                 "--no-plots", cwd=tmp_path)
        runs.append(json.loads((out / "metrics.json").read_text()))
    assert runs[0]["placed"] != runs[1]["placed"]


def test_progress_and_hints_stay_off_a_pipe(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = euca_sim("run", str(EXPERIMENTS / "trace-replay.toml"), "--out", str(out),
                      "--no-plots", cwd=tmp_path)
    assert "[#" not in result.stderr and "ETA" not in result.stderr  # stderr is a pipe here


def test_progress_bar_on_a_terminal() -> None:
    import io

    from simulator.cli import ProgressBar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter([0.0, 10.0, 20.0])
    stream = Tty()
    bar = ProgressBar("day", stream, clock=lambda: next(ticks))
    bar(6 * 3600.0, 24 * 3600.0, events=1234)
    bar(24 * 3600.0, 24 * 3600.0, events=5000)
    text = stream.getvalue()
    assert "25%" in text and "6.0/24.0 h" in text and "1,234 events" in text
    assert "ETA 0:30" in text and "day: done in 0:20" in text
    quiet = io.StringIO()
    ProgressBar("day", quiet)(1.0, 2.0)
    assert quiet.getvalue() == ""


def test_without_matplotlib_a_run_writes_numbers_and_says_how_to_get_plots(tmp_path: Path
                                                                            ) -> None:
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", str(EXPERIMENTS / "trace-replay.toml"),
         "--out", str(out)], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": f"{tmp_path / 'blocker'}{os.pathsep}{ROOT}"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install 'eucalyptus[plots]'" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "timeseries.csv"]


def test_sweep_runs_a_grid_in_processes(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = euca_sim("sweep", str(EXPERIMENTS / "trace-replay.toml"), "--policies",
                      "GREEDY,ROUNDROBIN", "--nodes", "3,6", "--jobs", "2", "--out", str(out),
                      cwd=tmp_path)
    rows = (out / "comparison.csv").read_text().splitlines()
    assert rows[0].startswith("policy,nodes,seed,placed,rejected")
    assert [r.split(",")[:2] for r in rows[1:]] == [["GREEDY", "3"], ["GREEDY", "6"],
                                                   ["ROUNDROBIN", "3"], ["ROUNDROBIN", "6"]]
    assert (out / "comparison.png").exists()
    assert "rejection_rate" in result.stdout


@pytest.mark.skipif(not TRACES.is_dir(), reason="PlanetLab traces not available")
def test_planetlab_experiment_file_runs_with_trace_dir(tmp_path: Path) -> None:
    """A shipped PlanetLab file, shortened to 30 steps so the suite stays fast."""
    text = (EXPERIMENTS / "planetlab-20110303-thr-mmt-0.8.toml").read_text()
    short = tmp_path / "pl.toml"
    short.write_text(text.replace("steps = 288", "steps = 30"))
    out = tmp_path / "pl"
    euca_sim("run", str(short), "--trace-dir", str(TRACES), "--out", str(out), "--no-plots",
             cwd=tmp_path)
    m = json.loads((out / "metrics.json").read_text())
    assert m["vms"] == 1052 and m["hosts"] == 800 and m["steps"] == 30
    assert m["migrations"] > 0 and 0 < m["energy_kwh"] < 100
    for key in ("slatah_pct", "pdm_pct", "slav_pct"):
        assert m[key] >= 0


@pytest.mark.skipif(not TRACES.is_dir(), reason="PlanetLab traces not available")
def test_trace_order_file_decides_which_trace_each_vm_takes(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "planetlab-20110303-dvfs.toml").read_text()
    short = tmp_path / "pl.toml"
    short.write_text(text.replace("steps = 288", "steps = 12").replace(
        "hosts = 800", "hosts = 20\nvms = 30"))
    names = sorted(os.listdir(TRACES))
    results = []
    for i, chosen in enumerate((names[:30], names[-30:], names[:30])):
        order = tmp_path / f"order{i}.txt"
        order.write_text("".join(n + "\n" for n in chosen))
        out = tmp_path / f"out{i}"
        euca_sim("run", str(short), "--trace-dir", str(TRACES), "--trace-order", str(order),
                 "--out", str(out), "--no-plots", cwd=tmp_path)
        results.append((out / "metrics.json").read_bytes())
    assert results[0] == results[2] and results[0] != results[1]
    bad = tmp_path / "bad.txt"
    bad.write_text("no-such-file\n")
    failed = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(short),
                             "--trace-dir", str(TRACES), "--trace-order", str(bad), "--no-plots",
                             "--out", str(tmp_path / "x")], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert failed.returncode == 1 and failed.stderr.startswith("euca-sim: trace order names")
    assert "Traceback" not in failed.stderr
