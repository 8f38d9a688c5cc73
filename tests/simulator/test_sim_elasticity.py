"""Elasticity experiments: the server's Auto Scaling and CloudWatch code in virtual time.

Small one-group experiments over a step in the request load.  Besides the metrics, the
tests show that the decisions are the server's: a policy's cooldown and an alarm's
threshold change the outcome exactly as ``server/autoscaling`` and ``server/cloudwatch``
decide, and the group's activities and alarm history are the server's own records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from simulator.elasticity import ElasticityRun
from simulator.experiment import parse

#: 50 requests/s for ten minutes, then 350: a one-core instance serves 100 at 100 % CPU.
STEP_LOAD = [[0, 50], [600, 50], [601, 350], [3600, 350]]


def experiment(policies: list[dict[str, Any]], *, load: list[list[float]] | None = None,
               duration: float = 3600.0, cooldown: int = 300) -> Any:
    """One group ``g`` (1 to 8 m1.small) in a zone of 2 four-core nodes."""
    return parse({
        "experiment": {"name": "t", "duration": duration, "sample_interval": 60},
        "cluster": {"policy": "GREEDY", "nodes": 2, "boot_seconds": 30,
                    "node": {"cores": 4, "memory_mb": 8192, "disk_gb": 100,
                             "power": {"linear": [100, 200]}}},
        "autoscaling": {"load": load or STEP_LOAD, "capacity_per_instance": 100,
                        "warmup": 300,
                        "groups": [{"name": "g", "MinSize": 1, "MaxSize": 8,
                                    "DesiredCapacity": 1, "DefaultCooldown": cooldown,
                                    "policies": policies}]},
    }, name="t")


def simple_out(cooldown: int, threshold: float = 70.0) -> dict[str, Any]:
    """+1 instance when average CPU is above ``threshold`` for one minute."""
    return {"PolicyName": "out", "PolicyType": "SimpleScaling",
            "AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1,
            "Cooldown": cooldown,
            "alarm": {"ComparisonOperator": "GreaterThanThreshold", "Threshold": threshold,
                      "EvaluationPeriods": 1}}


def run(exp: Any) -> tuple[ElasticityRun, dict[str, Any], list[dict[str, Any]]]:
    """Run and keep the run (its cloud's records stay readable)."""
    sim = ElasticityRun(exp)
    metrics, series = sim.run()
    return sim, metrics, series


def launch_times(sim: ElasticityRun) -> list[float]:
    """When the server's controller recorded its launch activities (after warm-up)."""
    acts = next(iter(sim.scaling.activities.values()))
    return sorted(a.start - sim.start for a in acts
                  if a.description.startswith("Launching") and a.start >= sim.start)


def test_step_load_scales_out_and_the_metrics_add_up() -> None:
    sim, m, series = run(experiment([simple_out(60)]))
    g = m["groups"]["g"]
    assert g["policy_types"] == ["SimpleScaling"]
    # 350 requests/s need 4 instances at 87.5 % CPU: above 70 %, so a fifth comes.
    assert g["final_desired"] == 5 and g["launches"] == 4 and g["terminations"] == 0
    assert g["scaling_actions"] == 4
    # Under-provisioned from the step until the fourth instance serves: minutes, not 0.
    assert 120 <= g["under_provisioned_s"] <= 900
    assert 0 < g["unserved_pct"] < 30
    # Instance-hours: 1 instance for the first 10 minutes, then 1..5, then 5.
    assert 1.0 < g["instance_hours"] < 5.0
    assert g["energy_kwh"] > 0 and m["energy_kwh"] == g["energy_kwh"]
    assert g["alarm_transitions"] >= 1
    assert series[0]["time_s"] == 0 and series[-1]["g_desired"] == 5
    # The series' in-service capacity never exceeds what the group's instances serve.
    assert all(r["g_capacity_rps"] == 100 * r["g_in_service"] for r in series)


def test_the_policy_cooldown_paces_scale_out_as_the_server_does() -> None:
    fast, m_fast, _ = run(experiment([simple_out(60)]))
    slow, m_slow, _ = run(experiment([simple_out(600)]))
    # The server's execute() refuses the alarm's repeated runs during the cooldown:
    # launches are at least the cooldown apart, so reaching 4 takes longer.
    gaps = [b - a for a, b in zip(launch_times(slow), launch_times(slow)[1:], strict=False)]
    assert gaps and min(gaps) >= 600
    fast_gaps = [b - a for a, b in zip(launch_times(fast), launch_times(fast)[1:],
                                       strict=False)]
    assert min(fast_gaps) < 600
    assert m_slow["groups"]["g"]["under_provisioned_s"] > \
        m_fast["groups"]["g"]["under_provisioned_s"] + 600


def test_the_alarm_threshold_decides_as_the_server_evaluates() -> None:
    # 80 requests/s on one instance: 80 % CPU.  Above a 70 % threshold, below a 90 % one.
    flat = [[0, 80], [3600, 80]]
    _, low, _ = run(experiment([simple_out(60, threshold=70)], load=flat, duration=1200))
    sim, high, _ = run(experiment([simple_out(60, threshold=90)], load=flat, duration=1200))
    assert low["groups"]["g"]["final_desired"] == 2
    assert high["groups"]["g"]["final_desired"] == 1
    assert high["groups"]["g"]["scaling_actions"] == 0
    # The server's alarm book holds the alarm, OK at 80 % against 90.
    alarm = sim.watch.alarms.alarms[(sim._account, "g-out")]
    assert alarm["StateValue"] == "OK" and float(alarm["Threshold"]) == 90.0


def test_target_tracking_settles_where_the_servers_formula_puts_it() -> None:
    policy = {"PolicyName": "cpu50", "PolicyType": "TargetTrackingScaling",
              "EstimatedInstanceWarmup": 60,
              "TargetTrackingConfiguration": {
                  "PredefinedMetricSpecification": {
                      "PredefinedMetricType": "ASGAverageCPUUtilization"},
                  "TargetValue": 50}}
    sim, m, _ = run(experiment([policy], load=[[0, 50], [600, 50], [601, 300], [3600, 300]]))
    g = m["groups"]["g"]
    # 300 requests/s at 50 % of 100 each: 6 instances (ceil(n * cpu / target)).
    assert g["final_desired"] == 6 and g["policy_types"] == ["TargetTrackingScaling"]
    # The policy's own alarms (created by the server's target-tracking code) fired.
    names = [name for (_acct, name) in sim.watch.alarms.alarms]
    assert any(n.startswith("TargetTracking-g-AlarmHigh-") for n in names)


def test_unknown_policy_keys_are_a_readable_error() -> None:
    exp = experiment([dict(simple_out(60), Colldown=5)])
    with pytest.raises(ValueError, match="unknown keys Colldown"):
        ElasticityRun(exp).run()


def test_euca_sim_runs_the_example_and_plots(tmp_path: Any) -> None:
    """The shipped example, shortened, through the command (metrics and both plots)."""
    pytest.importorskip("matplotlib")
    here = os.path.dirname(os.path.abspath(__file__))
    example = os.path.join(here, "..", "..", "simulator", "experiments",
                           "elasticity-policies.toml")
    text = open(example, encoding="utf-8").read().replace("duration = 21600",
                                                          "duration = 1800")
    short = tmp_path / "elasticity-policies.toml"
    short.write_text(text.replace('load = "elasticity-load.csv"',
                                  'load = [[0, 60], [600, 400], [1800, 400]]'))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "run", str(short),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert sorted(metrics["groups"]) == ["simple", "step", "target"]
    assert {k for g in metrics["groups"].values() for k in g["policy_types"]} == \
        {"SimpleScaling", "StepScaling", "TargetTrackingScaling"}
    assert all(g["launches"] > 0 for g in metrics["groups"].values())
    assert (out / "elasticity.png").stat().st_size > 0
    assert (out / "elasticity_summary.png").stat().st_size > 0


def test_same_file_and_seed_give_the_same_results() -> None:
    """Server IDs (which break ties between equal instances) come from the seed."""
    exp = experiment([simple_out(60), dict(simple_out(60), PolicyName="in",
                                           ScalingAdjustment=-1,
                                           alarm={"ComparisonOperator": "LessThanThreshold",
                                                  "Threshold": 40, "EvaluationPeriods": 2})],
                     load=[[0, 50], [300, 450], [900, 450], [901, 50], [2400, 50]],
                     duration=2400)
    first = run(exp)[1:]
    assert first == run(exp)[1:]
    assert first[0]["groups"]["g"]["terminations"] > 0


def test_step_scaling_takes_the_step_the_breach_falls_in() -> None:
    """At 100 % CPU against a 60 % threshold the breach is 40: the [35, inf) step, +4."""
    steps = [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20,
              "ScalingAdjustment": 1},
             {"MetricIntervalLowerBound": 20, "MetricIntervalUpperBound": 35,
              "ScalingAdjustment": 2},
             {"MetricIntervalLowerBound": 35, "ScalingAdjustment": 4}]
    policy = {"PolicyName": "out", "PolicyType": "StepScaling",
              "AdjustmentType": "ChangeInCapacity", "StepAdjustments": steps,
              "alarm": {"ComparisonOperator": "GreaterThanThreshold", "Threshold": 60,
                        "EvaluationPeriods": 1}}
    sim, m, series = run(experiment([policy], load=[[0, 50], [600, 50], [601, 400],
                                                    [1800, 400]], duration=1800))
    desired = [r["g_desired"] for r in series]
    assert desired[0] == 1 and 5 in desired  # one jump of 4, not four of 1
    assert desired[desired.index(5) - 1] == 1
    # Then 400 requests/s on 5 is 80 %: a breach of 20, the [20, 35) step, +2; 7 run at 57 %.
    assert m["groups"]["g"]["final_desired"] == 7 and m["groups"]["g"]["scaling_actions"] == 2
