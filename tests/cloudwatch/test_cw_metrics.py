"""Custom metrics through boto3 speaking Smithy RPC v2 CBOR, AWS JSON 1.0 and the Query protocol:
PutMetricData, GetMetricStatistics, ListMetrics, GetMetricData, validation and restarts."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(__file__))
from cw_helpers import call_json, call_query, cbor_client  # noqa: E402

UTC = dt.UTC


def _now() -> dt.datetime:
    # The cloud's clock is the wall clock here (clock_speed 1); round to a minute so all
    # datapoints of a test fall in one period.
    return dt.datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def cw(cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A boto3 CloudWatch client speaking Smithy RPC v2 CBOR (see cw_helpers.cbor_client)."""
    return cbor_client(cloud, tmp_path_factory.mktemp("botocore-data"))


def test_put_and_statistics_cbor(cw: Any) -> None:
    """Value, Values/Counts and StatisticValues round-trip into every statistic."""
    t = _now() - dt.timedelta(minutes=2)
    dims = [{"Name": "Host", "Value": "web-1"}]
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t, "Value": 10.0,
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t, "Values": [1.0, 2.0, 3.0],
         "Counts": [1, 1, 2], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t,
         "StatisticValues": {"SampleCount": 5, "Sum": 50, "Minimum": 5, "Maximum": 15},
         "Unit": "Milliseconds"}])
    r = cw.get_metric_statistics(
        Namespace="Shop", MetricName="Latency", Dimensions=dims, StartTime=t,
        EndTime=t + dt.timedelta(minutes=1), Period=60,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
    (point,) = r["Datapoints"]
    assert point["SampleCount"] == 10.0 and point["Sum"] == 69.0
    assert point["Minimum"] == 1.0 and point["Maximum"] == 15.0
    assert point["Average"] == pytest.approx(6.9) and point["Unit"] == "Milliseconds"
    assert point["Timestamp"] == t
    assert r["Label"] == "Latency"
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/cbor"
    assert headers["smithy-protocol"] == "rpc-v2-cbor"


def test_percentiles_and_periods(cw: Any) -> None:
    """ExtendedStatistics p50/p90/p99 over 100 values; one datapoint per period."""
    t = _now() - dt.timedelta(minutes=10)
    cw.put_metric_data(Namespace="Pct", MetricData=[
        {"MetricName": "Size", "Timestamp": t + dt.timedelta(minutes=i % 3),
         "Values": [float(x) for x in range(1, 101)]} for i in range(3)])
    r = cw.get_metric_statistics(Namespace="Pct", MetricName="Size", StartTime=t,
                                 EndTime=t + dt.timedelta(minutes=5), Period=60,
                                 ExtendedStatistics=["p50", "p90", "p99"])
    points = sorted(r["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [t + dt.timedelta(minutes=i) for i in range(3)]
    assert points[0]["ExtendedStatistics"] == {"p50": 50.0, "p90": 90.0, "p99": 99.0}
    r = cw.get_metric_statistics(Namespace="Pct", MetricName="Size", StartTime=t,
                                 EndTime=t + dt.timedelta(minutes=5), Period=300,
                                 Statistics=["SampleCount"])
    assert [p["SampleCount"] for p in r["Datapoints"]] == [300.0]


def test_list_metrics_filters_and_paging(cw: Any) -> None:
    """Namespace, name and dimension filters; NextToken pages of 500."""
    cw.put_metric_data(Namespace="Many", MetricData=[
        {"MetricName": "M", "Dimensions": [{"Name": "N", "Value": f"{i:04d}"}], "Value": 1.0}
        for i in range(600)])
    first = cw.list_metrics(Namespace="Many")
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cw.list_metrics(Namespace="Many", NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 100 and "NextToken" not in second
    one = cw.list_metrics(Namespace="Many", Dimensions=[{"Name": "N", "Value": "0007"}])
    assert one["Metrics"] == [{"Namespace": "Many", "MetricName": "M",
                               "Dimensions": [{"Name": "N", "Value": "0007"}]}]
    assert len(cw.list_metrics(Namespace="Many", RecentlyActive="PT3H")["Metrics"]) == 500
    assert cw.list_metrics(Namespace="Many", MetricName="Other")["Metrics"] == []
    with pytest.raises(ClientError) as err:
        cw.list_metrics(NextToken="garbage!")
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"


@pytest.mark.parametrize("datum,code", [
    ({"MetricName": "x", "Value": 1.0, "StatisticValues": {
        "SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}, "InvalidParameterCombination"),
    ({"MetricName": "x", "Value": 1.0, "StorageResolution": 5}, "InvalidParameterValue"),
    ({"MetricName": "x", "Values": [1.0] * 151}, "InvalidParameterValue"),
    ({"MetricName": "x", "Values": [1.0, 2.0], "Counts": [1.0]}, "InvalidParameterValue"),
    ({"MetricName": "x", "Value": 1.0, "Dimensions": [
        {"Name": f"d{i}", "Value": "v"} for i in range(31)]}, "InvalidParameterValue"),
    ({"MetricName": "x", "Value": 1.0,
      "Timestamp": dt.datetime(2020, 1, 1, tzinfo=UTC)}, "InvalidParameterValue"),
    ({"MetricName": "x", "Value": 1e200}, "InvalidParameterValue"),
])
def test_put_validation(cw: Any, datum: dict[str, Any], code: str) -> None:
    """AWS's validation of a datum: 4xx with its code."""
    with pytest.raises(ClientError) as err:
        cw.put_metric_data(Namespace="Bad", MetricData=[datum])
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_limits_and_statistics_validation(cw: Any) -> None:
    """1,000 datums per call; 1,440 datapoints per GetMetricStatistics; Period rules."""
    cw.put_metric_data(Namespace="Lim", MetricData=[{"MetricName": "m", "Value": 1.0}] * 1000)
    with pytest.raises(ClientError) as err:
        cw.put_metric_data(Namespace="Lim", MetricData=[{"MetricName": "m", "Value": 1.0}] * 1001)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    t = _now()
    for kwargs, code in [
            ({"Period": 60, "StartTime": t - dt.timedelta(days=2)}, "InvalidParameterCombination"),
            ({"Period": 90, "StartTime": t - dt.timedelta(hours=1)}, "InvalidParameterValue"),
            ({"Period": 60, "StartTime": t + dt.timedelta(hours=1)}, "InvalidParameterValue")]:
        with pytest.raises(ClientError) as err:
            cw.get_metric_statistics(Namespace="Lim", MetricName="m", EndTime=t,
                                     Statistics=["Sum"], **kwargs)
        assert err.value.response["Error"]["Code"] == code, kwargs
    with pytest.raises(ClientError) as err:
        cw.get_metric_statistics(Namespace="Lim", MetricName="m", EndTime=t, Period=60,
                                 StartTime=t - dt.timedelta(hours=1))
    assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_json_protocol(cloud: Any) -> None:
    """AWS JSON 1.0 (X-Amz-Target) at ``/``: put, statistics with epoch timestamps, errors."""
    t = _now().timestamp() - 60
    resp = call_json(cloud, "PutMetricData", {"Namespace": "Json", "MetricData": [
        {"MetricName": "Hits", "Timestamp": t, "Value": 4.0, "Unit": "Count"}]})
    assert resp.status_code == 200, resp.text
    resp = call_json(cloud, "GetMetricStatistics", {
        "Namespace": "Json", "MetricName": "Hits", "StartTime": t, "EndTime": t + 60,
        "Period": 60, "Statistics": ["Sum"]})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-amz-json-1.0"
    assert resp.json()["Datapoints"] == [{"Timestamp": t, "Sum": 4.0, "Unit": "Count"}]
    resp = call_json(cloud, "PutMetricData", {"Namespace": "Json"})
    assert resp.status_code == 400
    assert resp.json()["__type"] == "MissingParameter"
    resp = call_json(cloud, "NoSuchThing", {})
    assert resp.status_code == 400


def test_query_protocol(cloud: Any) -> None:
    """The Query protocol: form parameters in, XML out, ErrorResponse on errors."""
    t = _now() - dt.timedelta(minutes=1)
    stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    resp = call_query(cloud, "PutMetricData", {
        "Namespace": "Query", "MetricData.member.1.MetricName": "Q",
        "MetricData.member.1.Value": "2.5", "MetricData.member.1.Timestamp": stamp,
        "MetricData.member.1.Dimensions.member.1.Name": "A",
        "MetricData.member.1.Dimensions.member.1.Value": "b"})
    assert resp.status_code == 200, resp.text
    resp = call_query(cloud, "GetMetricStatistics", {
        "Namespace": "Query", "MetricName": "Q", "StartTime": stamp,
        "EndTime": (t + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Period": "60", "Statistics.member.1": "Maximum",
        "ExtendedStatistics.member.1": "p99",
        "Dimensions.member.1.Name": "A", "Dimensions.member.1.Value": "b"})
    assert resp.status_code == 200, resp.text
    assert "<Maximum>2.5</Maximum>" in resp.text
    assert "<entry><key>p99</key><value>2.5</value></entry>" in resp.text
    assert f"<Timestamp>{t.strftime('%Y-%m-%dT%H:%M:%S')}.000Z</Timestamp>" in resp.text
    resp = call_query(cloud, "GetMetricStatistics", {"Namespace": "Query"})
    assert resp.status_code == 400 and "<ErrorResponse" in resp.text
    assert "<Code>MissingParameter</Code>" in resp.text


def test_get_metric_data_math(cw: Any) -> None:
    """MetricStat queries and metric math: arithmetic, SUM/AVG/MAX of METRICS(), FILL, RATE."""
    t = _now() - dt.timedelta(minutes=10)
    for i in range(5):
        if i == 2:
            continue  # a gap for FILL
        cw.put_metric_data(Namespace="Math", MetricData=[
            {"MetricName": "A", "Timestamp": t + dt.timedelta(minutes=i), "Value": float(i)},
            {"MetricName": "B", "Timestamp": t + dt.timedelta(minutes=i), "Value": 10.0}])

    def stat(qid: str, name: str) -> dict[str, Any]:
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "Math", "MetricName": name},
                                          "Period": 60, "Stat": "Sum"}, "ReturnData": False}

    r = cw.get_metric_data(StartTime=t, EndTime=t + dt.timedelta(minutes=5),
                           ScanBy="TimestampAscending", MetricDataQueries=[
        stat("a", "A"), stat("b", "B"),
        {"Id": "total", "Expression": "a + b * 2", "Label": "Total"},
        {"Id": "s", "Expression": "SUM(METRICS())"},
        {"Id": "filled", "Expression": "FILL(a, 100)"},
        {"Id": "rate", "Expression": "RATE(a) * 60"},
        {"Id": "mx", "Expression": "MAX(METRICS())"}])
    res = {x["Id"]: x for x in r["MetricDataResults"]}
    assert res["total"]["Label"] == "Total"
    assert res["total"]["Values"] == [20.0, 21.0, 23.0, 24.0]
    assert res["s"]["Values"] == [10.0, 11.0, 13.0, 14.0]
    assert res["filled"]["Values"] == [0.0, 1.0, 100.0, 3.0, 4.0]
    assert res["rate"]["Values"] == [1.0, 1.0, 1.0]
    assert res["mx"]["Values"] == [10.0] * 4
    assert all(x["StatusCode"] == "Complete" for x in r["MetricDataResults"])
    # pagination by MaxDatapoints
    pages = []
    kwargs: dict[str, Any] = {}
    while True:
        r = cw.get_metric_data(StartTime=t, EndTime=t + dt.timedelta(minutes=5), MaxDatapoints=3,
                               MetricDataQueries=[{**stat("a", "A"), "ReturnData": True}],
                               **kwargs)
        pages.append(r["MetricDataResults"][0]["Values"])
        if "NextToken" not in r:
            break
        kwargs = {"NextToken": r["NextToken"]}
    assert pages == [[4.0, 3.0, 1.0], [0.0]]
    with pytest.raises(ClientError) as err:
        cw.get_metric_data(StartTime=t, EndTime=t + dt.timedelta(minutes=5),
                           MetricDataQueries=[stat("a", "A"), {"Id": "e", "Expression": "a +"}])
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_datapoints_survive_restart(make_cloud: Any) -> None:
    """An acknowledged PutMetricData is there after the cloud restarts."""
    c = make_cloud()
    client = c.client("cloudwatch", path="/")
    t = _now() - dt.timedelta(minutes=1)
    client.put_metric_data(Namespace="Durable", MetricData=[
        {"MetricName": "D", "Timestamp": t, "Value": 7.0}])
    client.put_metric_alarm(AlarmName="kept", Namespace="Durable", MetricName="D",
                            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold")
    client.put_dashboard(DashboardName="kept", DashboardBody='{"widgets": []}')
    c.restart()
    client = c.client("cloudwatch", path="/")
    r = client.get_metric_statistics(Namespace="Durable", MetricName="D", StartTime=t,
                                     EndTime=t + dt.timedelta(minutes=1), Period=60,
                                     Statistics=["Sum"])
    assert [p["Sum"] for p in r["Datapoints"]] == [7.0]
    assert client.list_metrics(Namespace="Durable")["Metrics"]
    assert [a["AlarmName"] for a in client.describe_alarms()["MetricAlarms"]] == ["kept"]
    assert client.describe_alarm_history(AlarmName="kept")["AlarmHistoryItems"]
    assert client.get_dashboard(DashboardName="kept")["DashboardBody"] == '{"widgets": []}'
