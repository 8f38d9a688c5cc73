"""euwatch-* and awscli against the real cloud: custom metrics and statistics round-trip,
alarms are created, described, moved and deleted; errors are one line with exit 1."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def euwatch(cloud: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an installed euwatch-* script with the cloud's euca2ools.ini."""
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], env=cloud.env(), capture_output=True,
                          text=True, timeout=60)
    if check:
        assert proc.returncode == 0, (args, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc


def aws(cloud: Any, *args: str) -> Any:
    """``aws cloudwatch ...`` with the admin's credentials, JSON output parsed."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", HOME=str(cloud.data_dir))
    proc = subprocess.run([str(BIN / "aws"), "--endpoint-url", cloud.url + "/services/CloudWatch",
                           "--output", "json", "cloudwatch", *args], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def _minute(offset: int) -> str:
    t = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_euwatch_metrics_round_trip(cloud: Any) -> None:
    """put-data (value and statistic set), get-stats, list-metrics."""
    stamp = _minute(-2)
    euwatch(cloud, "euwatch-put-data", "-n", "Cli", "-m", "Jobs", "-v", "4", "-d", "Queue=q1",
            "-t", stamp, "-u", "Count")
    euwatch(cloud, "euwatch-put-data", "-n", "Cli", "-m", "Jobs", "-d", "Queue=q1", "-t", stamp,
            "-s", "Sum=6,Maximum=5,Minimum=1,SampleCount=2", "-u", "Count")
    out = euwatch(cloud, "euwatch-get-stats", "Jobs", "-n", "Cli", "-s", "Sum,Maximum,SampleCount",
                  "-d", "Queue=q1", "--start-time", stamp, "--end-time", _minute(1)).stdout
    assert out.splitlines() == [f"{stamp[:-1]}.000Z\t10.0\t5.0\t3.0\tCount"]
    out = euwatch(cloud, "euwatch-list-metrics", "-n", "Cli").stdout
    assert out.splitlines() == ["Jobs\tCli\t{Queue=q1}"]
    bad = euwatch(cloud, "euwatch-put-data", "-n", "AWS/Mine", "-m", "x", "-v", "1", check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("euwatch-put-data: error (InvalidParameterValue): The value "
                                  "AWS/Mine for parameter Namespace is invalid.")


def test_euwatch_alarms(cloud: Any) -> None:
    """put-metric-alarm, describe-alarms (short and long), set-alarm-state, history,
    enable/disable actions, describe-alarms-for-metric, delete-alarms."""
    euwatch(cloud, "euwatch-put-metric-alarm", "cli-alarm", "--comparison-operator",
            "GreaterThanThreshold", "--evaluation-periods", "3", "--metric-name", "Jobs",
            "--namespace", "CliAlarm", "--period", "300", "--statistic", "Maximum",
            "--threshold", "90", "-d", "Queue=q1", "--alarm-description", "deep queue")
    line = euwatch(cloud, "euwatch-describe-alarms", "cli-alarm").stdout.splitlines()
    assert line == ["cli-alarm\tINSUFFICIENT_DATA\t\tCliAlarm\tJobs\t300\tMaximum\t3\t"
                    "GreaterThanThreshold\t90.0"]
    long = euwatch(cloud, "euwatch-describe-alarms", "--show-long").stdout.split("\t")
    assert "deep queue" in long and "{Queue=q1}" in long
    euwatch(cloud, "euwatch-set-alarm-state", "cli-alarm", "--state-value", "ALARM",
            "--state-reason", "drill")
    assert euwatch(cloud, "euwatch-describe-alarms", "--state-value", "ALARM").stdout.startswith(
        "cli-alarm\tALARM")
    history = euwatch(cloud, "euwatch-describe-alarm-history", "cli-alarm",
                      "--history-item-type", "StateUpdate").stdout.splitlines()
    assert history[0].split("\t")[2:] == ["StateUpdate",
                                          "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    euwatch(cloud, "euwatch-disable-alarm-actions", "cli-alarm")
    euwatch(cloud, "euwatch-enable-alarm-actions", "cli-alarm")
    out = euwatch(cloud, "euwatch-describe-alarms-for-metric", "--metric-name", "Jobs",
                  "--namespace", "CliAlarm", "-d", "Queue=q1").stdout
    assert out.startswith("cli-alarm\t")
    euwatch(cloud, "euwatch-delete-alarms", "cli-alarm")
    assert euwatch(cloud, "euwatch-describe-alarms", "cli-alarm").stdout == ""
    gone = euwatch(cloud, "euwatch-delete-alarms", "cli-alarm", check=False)
    assert gone.returncode == 1 and "(ResourceNotFound)" in gone.stderr


def test_awscli_round_trip(cloud: Any) -> None:
    """awscli's cloudwatch commands: put-metric-data, get-metric-statistics, list-metrics."""
    stamp = _minute(-1)
    aws(cloud, "put-metric-data", "--namespace", "Aws", "--metric-name", "Lat", "--value", "12",
        "--unit", "Milliseconds", "--timestamp", stamp, "--dimensions", "Svc=api")
    got = aws(cloud, "get-metric-statistics", "--namespace", "Aws", "--metric-name", "Lat",
              "--dimensions", "Name=Svc,Value=api", "--start-time", stamp, "--end-time",
              _minute(1), "--period", "60", "--statistics", "Average")
    assert [(p["Average"], p["Unit"]) for p in got["Datapoints"]] == [(12.0, "Milliseconds")]
    listed = aws(cloud, "list-metrics", "--namespace", "Aws")["Metrics"]
    assert listed == [{"Namespace": "Aws", "MetricName": "Lat",
                       "Dimensions": [{"Name": "Svc", "Value": "api"}]}]
