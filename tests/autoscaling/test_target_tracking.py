"""Target tracking over hours of quiet load, on a virtual cloud clock.

The server's own Auto Scaling and CloudWatch (alarms, their 3- and 15-minute evaluation,
the policy's capacity formula) run in a ``Cloud`` on the simulator's clock, so hours of
cloud time take seconds and every run is the same.
"""

from __future__ import annotations

from typing import Any

from simulator.elasticity import ElasticityRun
from simulator.experiment import parse


def _run(load: list[list[float]], hours: float) -> dict[str, Any]:
    """One group (1 to 4 one-core instances, each serving 100 requests/s at 100 % CPU)
    tracking 50 % average CPU under ``load`` (requests/s over seconds)."""
    policy = {"PolicyName": "cpu50", "PolicyType": "TargetTrackingScaling",
              "EstimatedInstanceWarmup": 60,
              "TargetTrackingConfiguration": {
                  "PredefinedMetricSpecification": {
                      "PredefinedMetricType": "ASGAverageCPUUtilization"},
                  "TargetValue": 50}}
    exp = parse({
        "experiment": {"name": "quiet", "duration": hours * 3600, "sample_interval": 60},
        "cluster": {"policy": "GREEDY", "nodes": 2, "boot_seconds": 30,
                    "node": {"cores": 4, "memory_mb": 8192, "disk_gb": 100,
                             "power": {"linear": [100, 200]}}},
        "autoscaling": {"load": load, "capacity_per_instance": 100, "warmup": 300,
                        "groups": [{"name": "g", "MinSize": 1, "MaxSize": 4,
                                    "DesiredCapacity": 1, "DefaultCooldown": 300,
                                    "policies": [policy]}]},
    }, name="quiet")
    metrics, _ = ElasticityRun(exp).run()
    return dict(metrics["groups"]["g"])


def test_quiet_load_between_one_and_two_instances_does_not_flap() -> None:
    """60 requests/s: one instance runs at 60 % (above the 50 % target), so the group
    scales out to two during the run's warm-up, each at 30 %: below AlarmLow's 45 %, but
    one instance would be back above the target, so it stays at two for the three hours
    measured, where rounding the scale-in down went 2 -> 1 -> 2 twenty times."""
    g = _run([[0, 60], [3 * 3600, 60]], hours=3.0)
    assert g["final_desired"] == 2
    assert g["scaling_actions"] == 0
    assert g["launches"] == 0 and g["terminations"] == 0
    assert g["instance_hours"] == 6.0


def test_load_one_instance_carries_under_the_target_scales_in() -> None:
    """80 requests/s scale out to two; then 20: two instances at ~10 % each, and one
    alone at ~20 % stays under the target, so the group scales in (conservative is not
    never), once."""
    g = _run([[0, 80], [1800, 80], [1801, 20], [3 * 3600, 20]], hours=3.0)
    assert g["final_desired"] == 1
    assert g["scaling_actions"] == 1 and g["terminations"] == 1
