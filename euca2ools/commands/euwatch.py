"""euwatch-* CloudWatch commands: metrics, statistics and alarms.

Lists go on the wire as ``Name.member.N`` (the Query protocol's form for CloudWatch).
Alarm lines have no type prefix: name, state, alarm actions, namespace, metric name,
period, statistic, evaluation periods, comparison operator, threshold; ``--show-long``
adds the description, the OK and insufficient-data actions, dimensions, unit, state
reason, state reason data and whether actions are enabled.
"""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .query import flat, members

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

_STATISTICS = ("Average", "Sum", "SampleCount", "Maximum", "Minimum")
_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
_OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
              "LessThanOrEqualToThreshold")


def dimension_list(spec: str) -> list[dict[str, str]]:
    """``KEY1=VALUE1,KEY2=VALUE2`` as CloudWatch dimensions."""
    out = []
    for part in spec.split(","):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise ValueError(f"dimension '{part}' must have form KEY=VALUE")
        out.append({"Name": key, "Value": value})
    return out


def comma_list(spec: str) -> list[str]:
    """``A,B,C`` as a list."""
    return [x for x in spec.split(",") if x]


def statistic_set(spec: str) -> dict[str, float]:
    """``Sum=N,Maximum=N,Minimum=N,SampleCount=N`` (all four) as StatisticValues."""
    out: dict[str, float] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or key not in ("Sum", "Maximum", "Minimum", "SampleCount"):
            raise ValueError(f"statistic '{part}' must have form KEY=VALUE with KEY one of "
                             "Sum, Maximum, Minimum, SampleCount")
        out[key] = float(value)
    missing = {"Sum", "Maximum", "Minimum", "SampleCount"} - set(out)
    if missing:
        raise ValueError("the statistic set needs " + ", ".join(sorted(missing)))
    return out




def _dims_text(dims: Any) -> str | None:
    pairs = [f"{d.get('Name')}={d.get('Value')}" for d in as_list(dims)]
    return "{" + ",".join(pairs) + "}" if pairs else None


def _print_alarm(inv: Invocation, alarm: dict[str, Any]) -> None:
    long = inv.args.get("show_long")
    bits: list[Any] = [alarm.get("AlarmName"), alarm.get("StateValue")]
    if long:
        bits.append(alarm.get("AlarmDescription"))
    bits.append(",".join(as_list(alarm.get("AlarmActions"))) or None)
    if long:
        bits.append(",".join(as_list(alarm.get("OKActions"))) or None)
        bits.append(",".join(as_list(alarm.get("InsufficientDataActions"))) or None)
    bits += [alarm.get("Namespace"), alarm.get("MetricName")]
    if long:
        bits.append(_dims_text(alarm.get("Dimensions")))
    bits += [alarm.get("Period"), alarm.get("Statistic") or alarm.get("ExtendedStatistic")]
    if long:
        bits.append(alarm.get("Unit"))
    bits += [alarm.get("EvaluationPeriods"), alarm.get("ComparisonOperator"),
             alarm.get("Threshold")]
    if long:
        bits += [alarm.get("StateReason"), alarm.get("StateReasonData"),
                 alarm.get("ActionsEnabled")]
    inv.emit(*bits)


def _print_alarms(inv: Invocation, result: Any) -> None:
    for alarm in as_list(result.get("MetricAlarms")):
        _print_alarm(inv, alarm)


def _describe_alarms(inv: Invocation) -> None:
    """Every page of DescribeAlarms."""
    params = dict(inv.params)
    names = flat(inv.args.get("alarm_names"))
    if names:
        params["AlarmNames"] = members(names)
    for result in inv.pages("DescribeAlarms", params):
        _print_alarms(inv, result)


def _print_history(inv: Invocation, result: Any) -> None:
    for item in as_list(result.get("AlarmHistoryItems")):
        bits = [item.get("AlarmName"), item.get("Timestamp"), item.get("HistoryItemType"),
                item.get("HistorySummary")]
        if inv.args.get("show_long"):
            bits.append(item.get("HistoryData"))
        inv.emit(*bits)


def _prepare_dims(inv: Invocation) -> None:
    dims = flat(inv.args.get("dimensions"))
    if dims:
        inv.params["Dimensions"] = members(dims)
    else:
        inv.params.pop("Dimensions", None)


def _prepare_names(inv: Invocation) -> None:
    inv.params["AlarmNames"] = members(flat(inv.args.get("alarm_names")))


def _prepare_put_data(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    value = inv.args.get("value")
    stats = inv.args.get("statistic_values")
    if (value is None) == (stats is None):
        raise ArgumentError("exactly one of -v/--value and -s/--metric-datum is required")
    datum: dict[str, Any] = {"MetricName": inv.args["metric_name"]}
    if value is not None:
        datum["Value"] = value
    else:
        datum["StatisticValues"] = stats
    dims = flat(inv.args.get("dimensions"))
    if dims:
        datum["Dimensions"] = members(dims)
    if inv.args.get("timestamp"):
        datum["Timestamp"] = inv.args["timestamp"]
    if inv.args.get("unit"):
        datum["Unit"] = inv.args["unit"]
    inv.params["MetricData"] = members([datum])


def _prepare_get_stats(inv: Invocation) -> None:
    import datetime as dt

    inv.params["Statistics"] = members(flat(inv.args.get("statistics")))
    _prepare_dims(inv)
    end = inv.args.get("end_time")
    end_dt = (dt.datetime.fromisoformat(end.replace("Z", "+00:00")) if end
              else dt.datetime.now(dt.UTC))
    if end_dt.tzinfo is None:
        end_dt = end_dt.replace(tzinfo=dt.UTC)
    if not end:
        inv.params["EndTime"] = end_dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not inv.args.get("start_time"):
        inv.params["StartTime"] = (end_dt - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    inv.params.setdefault("Period", 60)


def _print_stats(inv: Invocation, result: Any) -> None:
    stats = flat(inv.args.get("statistics"))
    points = sorted(as_list(result.get("Datapoints")), key=lambda p: p.get("Timestamp", ""))
    for point in points:
        inv.emit(point.get("Timestamp"), *[point.get(s) for s in stats], point.get("Unit"))


def _print_metrics(inv: Invocation, result: Any) -> None:
    for metric in as_list(result.get("Metrics")):
        inv.emit(metric.get("MetricName"), metric.get("Namespace"),
                 _dims_text(metric.get("Dimensions")))


def _list_metrics(inv: Invocation) -> None:
    params = dict(inv.params)
    dims = flat(inv.args.get("dimensions"))
    if dims:
        params["Dimensions"] = members(dims)
    for result in inv.pages("ListMetrics", params):
        _print_metrics(inv, result)


def _prepare_alarm(inv: Invocation) -> None:
    _prepare_dims(inv)
    for key, name in (("alarm_actions", "AlarmActions"), ("ok_actions", "OKActions"),
                      ("insufficient_data_actions", "InsufficientDataActions")):
        values = flat(inv.args.get(key))
        if values:
            inv.params[name] = members(values)


_ALARM = Arg("ALARM", dest="AlarmName", help="name of the alarm")
_ALARMS = Arg("ALARM", name="alarm_names", nargs="+", help="names of the alarms")
_LONG = Arg("--show-long", name="show_long", flag=True,
            help="show all of the alarms' info")
_DIMS = Arg("-d", "--dimensions", name="dimensions", multiple=True, type=dimension_list,
            metavar="KEY1=VALUE1,KEY2=VALUE2,...", help="the metric's dimensions")

COMMANDS = [
    Command("euwatch-delete-alarms", "monitoring", "DeleteAlarms", "Delete alarms",
            [_ALARMS], prepare=_prepare_names, show_empty=True),
    Command(
        "euwatch-describe-alarm-history", "monitoring", "DescribeAlarmHistory",
        "Retrieve history for one alarm or all alarms",
        [Arg("ALARM", dest="AlarmName", nargs="?", help="limit results to a specific alarm"),
         Arg("--end-date", dest="EndDate", metavar="DATE",
             help="limit results to history before a given point in time"),
         Arg("--history-item-type", dest="HistoryItemType",
             choices=("ConfigurationUpdate", "StateUpdate", "Action"),
             help="limit results to a specific type of event"),
         _LONG,
         Arg("--start-date", dest="StartDate", metavar="DATE",
             help="limit results to history after a given point in time")],
        output=_print_history, show_empty=True),
    Command(
        "euwatch-describe-alarms", "monitoring", "DescribeAlarms", "Describe alarms",
        [Arg("ALARM", name="alarm_names", nargs="*", help="limit results to specific alarms"),
         Arg("--action-prefix", dest="ActionPrefix", metavar="PREFIX",
             help="limit results to alarms whose actions' ARNs begin with a given string"),
         Arg("--alarm-name-prefix", dest="AlarmNamePrefix", metavar="PREFIX",
             help="limit results to alarms whose names begin with a given string"),
         _LONG,
         Arg("--state-value", dest="StateValue", choices=_STATES,
             help="limit results to alarms in a specific state")],
        run=_describe_alarms, show_empty=True),
    Command(
        "euwatch-describe-alarms-for-metric", "monitoring", "DescribeAlarmsForMetric",
        "Describe alarms for a single metric",
        [Arg("--metric-name", dest="MetricName", required=True, metavar="METRIC",
             help="name of the metric (required)"),
         Arg("--namespace", dest="Namespace", required=True, metavar="NAMESPACE",
             help="namespace of the metric (required)"),
         _DIMS,
         Arg("--period", dest="Period", type=int, metavar="SECONDS",
             help="limit results to alarms of a specific period"),
         _LONG,
         Arg("--statistic", dest="Statistic", choices=_STATISTICS,
             help="limit results to alarms on a specific statistic"),
         Arg("--unit", dest="Unit", help="limit results to alarms of a specific unit")],
        prepare=_prepare_dims, output=_print_alarms, show_empty=True),
    Command("euwatch-disable-alarm-actions", "monitoring", "DisableAlarmActions",
            "Disable all actions for one or more alarms", [_ALARMS], prepare=_prepare_names,
            show_empty=True),
    Command("euwatch-enable-alarm-actions", "monitoring", "EnableAlarmActions",
            "Enable all actions for one or more alarms", [_ALARMS], prepare=_prepare_names,
            show_empty=True),
    Command(
        "euwatch-get-stats", "monitoring", "GetMetricStatistics",
        "Show a metric's statistics",
        [Arg("METRIC", dest="MetricName", help="name of the metric to get statistics for"),
         Arg("-n", "--namespace", dest="Namespace", required=True,
             help="namespace of the metric (required)"),
         Arg("-s", "--statistics", name="statistics", required=True, multiple=True,
             type=comma_list, metavar="STAT1,STAT2,...",
             help="statistics to show: Average, Sum, SampleCount, Maximum, Minimum (required)"),
         _DIMS,
         Arg("--start-time", dest="StartTime", metavar="YYYY-MM-DDThh:mm:ssZ",
             help="earliest time to retrieve data from (default: one hour ago)"),
         Arg("--end-time", dest="EndTime", metavar="YYYY-MM-DDThh:mm:ssZ",
             help="latest time to retrieve data from (default: now)"),
         Arg("--period", dest="Period", type=int, metavar="SECONDS",
             help="granularity of the returned data points (default: 60)"),
         Arg("--unit", dest="Unit", help="unit the metric is reported in")],
        prepare=_prepare_get_stats, output=_print_stats, show_empty=True),
    Command(
        "euwatch-list-metrics", "monitoring", "ListMetrics",
        "Show a list of monitoring metrics",
        [Arg("-d", "--dimensions", name="dimensions", multiple=True, type=dimension_list,
             metavar="KEY1=VALUE1,KEY2=VALUE2,...",
             help="limit results to metrics with specific dimensions"),
         Arg("-m", "--metric-name", dest="MetricName", metavar="METRIC",
             help="limit results to a specific metric"),
         Arg("-n", "--namespace", dest="Namespace", metavar="NAMESPACE",
             help="limit results to metrics in a specific namespace")],
        run=_list_metrics, show_empty=True),
    Command(
        "euwatch-put-data", "monitoring", "PutMetricData",
        "Add data values or statistics to a CloudWatch metric",
        [Arg("-n", "--namespace", dest="Namespace", required=True,
             help="namespace for the data (required)"),
         Arg("-v", "--value", name="value", type=float,
             help="data value for the metric"),
         Arg("-s", "--metric-datum", name="statistic_values", type=statistic_set,
             metavar="Sum=SUM,Maximum=MAX,Minimum=MIN,SampleCount=COUNT",
             help="statistic set for the metric (instead of -v)"),
         Arg("-m", "--metric-name", name="metric_name", required=True, metavar="METRIC",
             help="name of the metric to add data points to (required)"),
         _DIMS,
         Arg("-t", "--timestamp", name="timestamp", metavar="YYYY-MM-DDThh:mm:ssZ",
             help="timestamp of the data point (default: now)"),
         Arg("-u", "--unit", name="unit", help="unit the data is reported in")],
        prepare=_prepare_put_data, show_empty=True),
    Command(
        "euwatch-put-metric-alarm", "monitoring", "PutMetricAlarm",
        "Create or update an alarm",
        [_ALARM,
         Arg("--comparison-operator", dest="ComparisonOperator", required=True,
             choices=_OPERATORS, help="arithmetic operator with which the comparison with "
             "the threshold will be made (required)"),
         Arg("--evaluation-periods", dest="EvaluationPeriods", required=True, type=int,
             metavar="COUNT", help="number of consecutive periods for which the value of "
             "the metric needs to be compared to the threshold (required)"),
         Arg("--metric-name", dest="MetricName", required=True, metavar="METRIC",
             help="name of the metric this alarm is associated with (required)"),
         Arg("--namespace", dest="Namespace", required=True,
             help="namespace of the metric (required)"),
         Arg("--period", dest="Period", required=True, type=int, metavar="SECONDS",
             help="period of the metric statistic (required)"),
         Arg("--statistic", dest="Statistic", required=True, choices=_STATISTICS,
             help="statistic of the metric on which to trigger the alarm (required)"),
         Arg("--threshold", dest="Threshold", required=True, type=float, metavar="FLOAT",
             help="value to compare the statistic with (required)"),
         Arg("--actions-enabled", dest="ActionsEnabled", choices=("true", "false"),
             help="whether this alarm's actions should be executed"),
         Arg("--alarm-actions", name="alarm_actions", multiple=True, type=comma_list,
             metavar="ARN1,ARN2,...", help="ARNs of actions to run when the alarm enters "
             "the ALARM state"),
         Arg("--alarm-description", dest="AlarmDescription", metavar="DESCRIPTION",
             help="description of the alarm"),
         _DIMS,
         Arg("--insufficient-data-actions", name="insufficient_data_actions", multiple=True,
             type=comma_list, metavar="ARN1,ARN2,...", help="ARNs of actions to run when "
             "the alarm enters the INSUFFICIENT_DATA state"),
         Arg("--ok-actions", name="ok_actions", multiple=True, type=comma_list,
             metavar="ARN1,ARN2,...", help="ARNs of actions to run when the alarm enters "
             "the OK state"),
         Arg("--unit", dest="Unit", help="unit of the metric")],
        prepare=_prepare_alarm, show_empty=True),
    Command(
        "euwatch-set-alarm-state", "monitoring", "SetAlarmState",
        "Temporarily set the state of an alarm",
        [_ALARM,
         Arg("--state-value", dest="StateValue", required=True, choices=_STATES,
             help="state the alarm should take (required)"),
         Arg("--state-reason", dest="StateReason", required=True, metavar="REASON",
             help="human-readable reason why this state was set (required)"),
         Arg("--state-reason-data", dest="StateReasonData", metavar="JSON",
             help="machine-readable reason why this state was set")],
        show_empty=True),
]
