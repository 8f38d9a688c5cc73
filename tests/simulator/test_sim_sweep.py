"""``euca-sim sweep`` on Dask distributed: same bytes as a local process pool, failures kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.sweep import grid_of, run_cells, sweep

distributed = pytest.importorskip("distributed")

EXPERIMENT = Path(__file__).resolve().parents[2] / "simulator" / "experiments" / "trace-replay.toml"


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    # Two in-process workers (in-process transport, no sockets): a real scheduler and
    # real workers, quick to start.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.mark.timeout(120)
def test_dask_results_are_byte_identical_to_a_process_pool(tmp_path: Path, client) -> None:  # type: ignore[no-untyped-def]
    kw = {"policies": ["GREEDY", "ROUNDROBIN"], "nodes": [3, 6], "seeds": [1, 2], "plots": False}
    done: list[tuple[float, float]] = []
    table, failures = sweep(str(EXPERIMENT), str(tmp_path / "dask"), client=client,
                            done=lambda n, total: done.append((n, total)), **kw)  # type: ignore[arg-type]
    assert failures == [] and "GREEDY" in table
    sweep(str(EXPERIMENT), str(tmp_path / "pool"), jobs=2, use_dask=False, **kw)  # type: ignore[arg-type]
    for name in ("comparison.csv", "comparison.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "pool" / name).read_bytes()
    rows = (tmp_path / "dask" / "comparison.csv").read_text().splitlines()[1:]
    assert [r.split(",")[:3] for r in rows] == [  # grid order, whatever finished first
        [p, n, s] for p in ("GREEDY", "ROUNDROBIN") for n in ("3", "6") for s in ("1", "2")]
    assert done[-1] == (8, 8) and [n for n, _ in done] == list(range(1, 9))


@pytest.mark.timeout(120)
def test_a_failing_cell_is_reported_and_the_others_kept(tmp_path: Path, client) -> None:  # type: ignore[no-untyped-def]
    grid = grid_of(str(EXPERIMENT), ["GREEDY", "NO-SUCH-POLICY", "ROUNDROBIN"], [3], [1])
    results = run_cells(grid, client=client)
    assert [r["policy"] for r in results] == ["GREEDY", "NO-SUCH-POLICY", "ROUNDROBIN"]
    assert "error" not in results[0] and "error" not in results[2]
    assert "NO-SUCH-POLICY" in results[1]["error"] or "policy" in results[1]["error"].lower()
    _, failures = sweep(str(EXPERIMENT), str(tmp_path / "out"), client=client, plots=False,
                        policies=["GREEDY", "NO-SUCH-POLICY"], nodes=[3], seeds=[1])
    assert len(failures) == 1 and failures[0].startswith("NO-SUCH-POLICY/3/1: ")
    lines = (tmp_path / "out" / "comparison.csv").read_text().splitlines()
    assert len(lines) == 3 and lines[1].startswith("GREEDY,3,1,")
