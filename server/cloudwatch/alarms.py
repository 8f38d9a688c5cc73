"""Metric and composite alarms: the API, their periodic evaluation and their actions.

Alarms are records in the cloud's store (kind ``cw_alarm``); their history is a table of
its own (``cw_history``).  Evaluation runs on the cloud's clock through the pure
functions of :mod:`server.cloudwatch.evaluation`; an alarm whose actions are enabled runs
the actions of the state it enters: EC2 actions through the CLC's own StopInstances,
TerminateInstances and RebootInstances for the alarm's account, Auto Scaling policies
through the ``scaling_policies`` hook when the cloud has Auto Scaling (again each minute
the alarm stays in the state, as CloudWatch does), SNS topics recorded as
attempted (this cloud has no SNS).
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from server import errors
from server.cloudwatch import evaluation as ev
from server.cloudwatch import values as v
from server.cloudwatch.metrics import aggregate, check_period, cw, statistic
from server.cloudwatch.protocols import Timestamp
from server.protocol.params import Params
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.cloudwatch.service import CloudWatch

log = logging.getLogger(__name__)

KIND = "cw_alarm"
#: Evaluation tick (cloud-clock seconds): alarms of 10 s and 30 s periods need it.
TICK = 10.0
MAX_ACTIONS = 5
#: Seconds between the repeated runs of an alarm's Auto Scaling actions in one state.
SCALING_REPEAT = 60.0
MAX_TAGS = 50
_EC2_ACTION = re.compile(r"^arn:aws:automate:([^:]+):ec2:(stop|terminate|reboot|recover)$")
_SWF_ACTION = re.compile(r"^arn:aws:swf:([^:]+):\d+:action/actions/AWS_EC2\.InstanceId\."
                         r"(Stop|Terminate|Reboot)/1\.0$")

history_table = sa.Table(
    "cw_history", sa.MetaData(),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("alarm_name", sa.String(255), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("doc", sa.Text, nullable=False),
)
#: History is kept for 30 days (as CloudWatch's alarm history).
HISTORY_DAYS = 30


class AlarmBook:
    """Every alarm of the cloud, keyed by (account, name)."""

    def __init__(self, watch: CloudWatch):
        self.watch = watch
        self.cloud = watch.cloud
        self.alarms: dict[tuple[str, str], dict[str, Any]] = {}
        for _rid, account, doc in self.cloud.store.load(KIND):
            self.alarms[(account, doc["AlarmName"])] = doc
        self._timer: Any = None
        #: (account, alarm) -> when its Auto Scaling actions last ran again (cloud clock)
        self._scaling_runs: dict[tuple[str, str], float] = {}

    # -- persistence ------------------------------------------------------------------------
    def save(self, account: str, doc: dict[str, Any]) -> None:
        """Record ``doc`` for the next flush."""
        self.alarms[(account, doc["AlarmName"])] = doc
        self.cloud.store.put(KIND, f"{account}/{doc['AlarmName']}", account, doc)

    def remove(self, account: str, name: str) -> None:
        """Forget an alarm."""
        self.alarms.pop((account, name), None)
        self.cloud.store.delete(KIND, f"{account}/{name}")

    def record(self, account: str, doc: dict[str, Any], kind: str, summary: str,
               data: dict[str, Any] | None = None) -> None:
        """Append one history item (written at once)."""
        now = self.cloud.clock.now()
        item = {"AlarmName": doc["AlarmName"], "AlarmType": doc.get("AlarmType", "MetricAlarm"),
                "Timestamp": now, "HistoryItemType": kind, "HistorySummary": summary,
                "HistoryData": json.dumps(data or {}, separators=(",", ":"))}
        with self.cloud.engine.begin() as conn:
            conn.execute(history_table.insert().values(
                account_id=account, alarm_name=doc["AlarmName"], ts=now, doc=json.dumps(item)))

    def prune(self, now: float) -> None:
        """Drop history items older than CloudWatch keeps them."""
        with self.cloud.engine.begin() as conn:
            conn.execute(history_table.delete().where(
                history_table.c.ts < now - HISTORY_DAYS * 86400))

    def history(self, account: str) -> list[dict[str, Any]]:
        """The account's history items, oldest first."""
        cutoff = self.cloud.clock.now() - HISTORY_DAYS * 86400
        t = history_table
        with self.cloud.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.doc).where(
                (t.c.account_id == account) & (t.c.ts >= cutoff)).order_by(t.c.seq)).all()
        return [json.loads(r.doc) for r in rows]

    # -- evaluation -------------------------------------------------------------------------
    def start(self) -> None:
        """Evaluate every alarm each tick of the cloud's clock."""
        self._timer = self.cloud.clock.call_later(TICK, self._tick)

    def stop(self) -> None:
        """Stop evaluating."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def after_request(self) -> None:
        """Hook run after each request (nothing to do: alarms run on the clock)."""

    def _tick(self) -> None:
        try:
            self.evaluate_all(self.cloud.clock.now())
            self.cloud.store.flush()
        except Exception:
            log.exception("alarm evaluation failed")
        self._timer = self.cloud.clock.call_later(TICK, self._tick)

    def evaluate_all(self, now: float) -> None:
        """One evaluation round: metric alarms, then composite alarms."""
        for kind in ("MetricAlarm", "CompositeAlarm"):
            for (account, name), doc in list(self.alarms.items()):
                if doc.get("AlarmType", "MetricAlarm") != kind:
                    continue
                try:  # one broken alarm must not stop the others
                    if kind == "MetricAlarm":
                        self.evaluate_metric_alarm(account, doc, now)
                    else:
                        self.evaluate_composite(account, doc)
                except Exception:
                    log.exception("evaluating alarm %s of %s failed", name, account)

    def period_values(self, account: str, doc: dict[str, Any], now: float
                      ) -> list[tuple[float, float | None]]:
        """``(period start, value)`` of the alarm's last EvaluationPeriods periods."""
        period = int(doc.get("Period") or 60)
        starts = ev.period_starts(now, period, int(doc["EvaluationPeriods"]))
        start, end = starts[0], starts[-1] + period
        if doc.get("Metrics"):
            from server.cloudwatch.metricdata import alarm_series

            series = alarm_series(self.watch, account, doc["Metrics"], start, end, period)
            return [(ts, series.get(ts)) for ts in starts]
        key = (account, doc["Namespace"], doc["MetricName"],
               tuple((d["Name"], d["Value"]) for d in doc.get("Dimensions", [])))
        s = self.watch.metrics.series.get(key)
        stat = str(doc.get("Statistic") or doc.get("ExtendedStatistic"))
        got = {ts: statistic(b, stat) for ts, b, _u in
               aggregate([s] if s else [], start, end, period, doc.get("Unit"))}
        return [(ts, got.get(ts)) for ts in starts]

    def evaluate_metric_alarm(self, account: str, doc: dict[str, Any], now: float) -> None:
        """Evaluate one metric alarm and move it if its state changes."""
        periods = self.period_values(account, doc, now)
        n = int(doc["EvaluationPeriods"])
        outcome = ev.evaluate_metric(
            periods, threshold=float(doc.get("Threshold", 0.0)),
            comparison=doc["ComparisonOperator"],
            datapoints_to_alarm=int(doc.get("DatapointsToAlarm") or n),
            treat_missing=doc.get("TreatMissingData", "missing"), current=doc["StateValue"])
        if outcome.state == doc["StateValue"]:
            self._repeat_scaling(account, doc, now)
            return
        data = {"version": "1.0", "queryDate": _iso(now),
                "statistic": doc.get("Statistic") or doc.get("ExtendedStatistic"),
                "period": doc.get("Period"),
                "recentDatapoints": [x for _ts, x in outcome.evaluated if x is not None],
                "threshold": doc.get("Threshold"),
                "evaluatedDatapoints": [
                    {"timestamp": _iso(ts), **({"value": x} if x is not None else {})}
                    for ts, x in reversed(outcome.evaluated)]}
        self.transition(account, doc, outcome.state, outcome.reason, data)

    def evaluate_composite(self, account: str, doc: dict[str, Any]) -> None:
        """Evaluate a composite alarm's rule over its children's states."""
        tokens = ev.parse_rule(doc["AlarmRule"])
        names = ev.rule_alarms(tokens)

        def state_of(name: str) -> str:
            if name.startswith("arn:"):
                name = name.rsplit(":", 1)[-1]
            child = self.alarms.get((account, name))
            return child["StateValue"] if child else ev.INSUFFICIENT_DATA

        holds = ev.evaluate_rule(tokens, state_of)
        state = ev.ALARM if holds else ev.OK
        if state != doc["StateValue"]:
            firing = [n for n in names if state_of(n) == ev.ALARM]
            reason = (f"{', '.join(firing)} transitioned to ALARM." if holds
                      else "The alarm rule is no longer TRUE.")
            self.transition(account, doc, state, reason,
                            {"triggeringAlarms": [n for n in names if state_of(n) == ev.ALARM]})

    def transition(self, account: str, doc: dict[str, Any], state: str, reason: str,
                   data: dict[str, Any]) -> None:
        """Move an alarm to ``state``: history, then the new state's actions."""
        old = doc["StateValue"]
        now = self.cloud.clock.now()
        doc.update(StateValue=state, StateReason=reason,
                   StateReasonData=json.dumps(data, separators=(",", ":")),
                   StateUpdatedTimestamp=now, StateTransitionedTimestamp=now)
        self.save(account, doc)
        self.record(account, doc, "StateUpdate", f"Alarm updated from {old} to {state}",
                    {"version": "1.0", "oldState": {"stateValue": old},
                     "newState": {"stateValue": state, "stateReason": reason}})
        self._run_actions(account, doc, state)
        if doc.get("AlarmType", "MetricAlarm") == "MetricAlarm":
            self._reevaluate_parents(account, doc["AlarmName"])

    def _reevaluate_parents(self, account: str, child: str) -> None:
        """Composite alarms change as soon as a child does."""
        for (acct, _name), parent in list(self.alarms.items()):
            if acct != account or parent.get("AlarmType") != "CompositeAlarm":
                continue
            kids = [k.rsplit(":", 1)[-1] for k in ev.rule_alarms(ev.parse_rule(parent["AlarmRule"]))]
            if child in kids:
                self.evaluate_composite(account, parent)

    def _run_actions(self, account: str, doc: dict[str, Any], state: str) -> None:
        if doc.get("ActionsEnabled", True):
            key = {ev.ALARM: "AlarmActions", ev.OK: "OKActions",
                   ev.INSUFFICIENT_DATA: "InsufficientDataActions"}[state]
            for target in doc.get(key, []):
                self.run_action(account, doc, target)

    def _repeat_scaling(self, account: str, doc: dict[str, Any], now: float) -> None:
        """Auto Scaling actions, unlike the others, run again each minute the alarm stays in
        its state (as CloudWatch does): how target tracking keeps following its metric.
        Repeats leave no history (a policy in its cooldown refuses most of them)."""
        if not doc.get("ActionsEnabled", True):
            return
        key = {ev.ALARM: "AlarmActions", ev.OK: "OKActions",
               ev.INSUFFICIENT_DATA: "InsufficientDataActions"}[doc["StateValue"]]
        targets = [t for t in doc.get(key, []) if t.startswith("arn:aws:autoscaling:")]
        name = (account, doc["AlarmName"])
        last = max(self._scaling_runs.get(name, 0.0),
                   float(doc.get("StateTransitionedTimestamp") or 0.0))
        if not targets or now - last < SCALING_REPEAT:
            return
        self._scaling_runs[name] = now
        for target in targets:
            try:
                self._execute(account, doc, target)
            except errors.AWSError as exc:
                log.debug("alarm %s: repeated action %s: %s", doc["AlarmName"], target,
                          exc.message)
            except Exception:
                log.exception("alarm action %s failed", target)

    def run_action(self, account: str, doc: dict[str, Any], target: str) -> None:
        """Execute one alarm action and record the outcome in the history."""
        try:
            detail = self._execute(account, doc, target)
        except errors.AWSError as exc:
            self.record(account, doc, "Action", f"Failed to execute action {target}. "
                        f"Received error: \"{exc.message}\"", {"actionState": "Failed",
                                                                "error": exc.code})
            return
        except Exception as exc:  # an action must never stop evaluation
            log.exception("alarm action %s failed", target)
            self.record(account, doc, "Action", f"Failed to execute action {target}: {exc}",
                        {"actionState": "Failed"})
            return
        self.record(account, doc, "Action", detail[0], {"actionState": detail[1]})

    def breach_value(self, account: str, doc: dict[str, Any]) -> float | None:
        """The newest datapoint the alarm evaluated (None for composite alarms, or when the
        alarm's state was set by hand over no data)."""
        if doc.get("AlarmType", "MetricAlarm") != "MetricAlarm":
            return None
        now = self.cloud.clock.now()
        for _ts, x in reversed(self.period_values(account, doc, now)):
            if x is not None:
                return float(x)
        return None

    def _execute(self, account: str, doc: dict[str, Any], target: str) -> tuple[str, str]:
        m = _EC2_ACTION.match(target) or _SWF_ACTION.match(target)
        if m:
            verb = m.group(2).lower()
            iid = next((d["Value"] for d in doc.get("Dimensions", [])
                        if d["Name"] == "InstanceId"), None)
            if iid is None:
                raise errors.AWSError("The alarm does not watch a single instance",
                                      code="InvalidParameterCombination")
            ec2_action(self.cloud, account, verb, iid)
            return f"Successfully executed action {target}", "Succeeded"
        if target.startswith("arn:aws:autoscaling:"):
            scaling = self.cloud.components.get("scaling_policies")
            if scaling is None:
                raise errors.AWSError("Auto Scaling is not available in this cloud",
                                      code="ServiceUnavailable")
            # Step and target-tracking policies scale by the breaching value.
            threshold = doc.get("Threshold")
            scaling.execute(target, metric_value=self.breach_value(account, doc),
                            breach_threshold=float(threshold) if threshold is not None else None,
                            alarm_name=doc["AlarmName"])
            return f"Successfully executed action {target}", "Succeeded"
        if target.startswith("arn:aws:sns:"):
            raise errors.AWSError("SNS is not available in this cloud; the notification was "
                                  "attempted", code="ServiceUnavailable")
        raise errors.AWSError(f"Unknown action {target}", code="InvalidParameterValue")


def ec2_action(cloud: Any, account: str, verb: str, instance_id: str) -> None:
    """Run an EC2 alarm action on ``instance_id`` as the alarm's account would."""
    from server.clc import lifecycle
    from server.ids import request_id

    principal = cloud.identity.admin_principal(cloud.identity.account(account))
    ctx = Context(cloud, principal, Params({"InstanceId": [instance_id]}),
                  verb.capitalize() + "Instances", request_id(), "", principal)
    fn = {"stop": lifecycle.stop_instances, "terminate": lifecycle.terminate_instances,
          "reboot": lifecycle.reboot_instances,
          # "recover" moves an instance off impaired hardware; here hosts are not impaired
          # independently of their instances, so recovery is a reboot in place.
          "recover": lifecycle.reboot_instances}[verb]
    fn(ctx)


def _iso(ts: float) -> str:
    from server.protocol.xml import iso8601

    return iso8601(ts).replace(".000Z", ".000+0000")


# -- PutMetricAlarm ---------------------------------------------------------------------------
def _actions(p: dict[str, Any], key: str, region: str) -> list[str]:
    out = [str(a) for a in v.items(p, key)]
    if len(out) > MAX_ACTIONS:
        raise errors.InvalidParameterValue(
            f"The collection {key} must not have a size greater than {MAX_ACTIONS}.")
    for n, a in enumerate(out, 1):
        if not a.startswith("arn:"):
            raise v.invalid(a, f"{key}.member.{n}")
        m = _EC2_ACTION.match(a)
        if m and m.group(1) != region:
            raise errors.ValidationError(
                f"Invalid region {m.group(1)} specified. Only {region} is supported.")
    return out


def _common(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    name = v.text(p, "AlarmName", required=True)
    region = ctx.cloud.config.cloud["region"]
    doc: dict[str, Any] = {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{ctx.account_id}:alarm:{name}",
        "AlarmDescription": v.text(p, "AlarmDescription", max_len=1024) or "",
        "ActionsEnabled": v.boolean(p.get("ActionsEnabled"), "ActionsEnabled", True),
        "OKActions": _actions(p, "OKActions", region),
        "AlarmActions": _actions(p, "AlarmActions", region),
        "InsufficientDataActions": _actions(p, "InsufficientDataActions", region),
    }
    return doc


def _tags(p: dict[str, Any], key: str = "Tags") -> dict[str, str]:
    tags = {}
    raw = v.items(p, key)
    if len(raw) > MAX_TAGS:
        raise errors.InvalidParameterValue(
            f"The collection {key} must not have a size greater than {MAX_TAGS}.")
    for n, t in enumerate(raw, 1):
        t = v.struct(t, f"{key}.member.{n}")
        k = v.text(t, "Key", f"{key}.member.{n}.Key", required=True, max_len=128)
        val = t.get("Value")
        if val is None:
            raise errors.MissingParameter(f"The parameter {key}.member.{n}.Value is required.")
        if not isinstance(val, str) or len(val) > 256:
            raise v.invalid(val, f"{key}.member.{n}.Value")
        if k is not None and k.startswith("aws:"):
            raise errors.InvalidParameterValue("Tag keys may not start with 'aws:'.")
        tags[str(k)] = val
    return tags


def _finish_put(ctx: Context, doc: dict[str, Any], p: dict[str, Any]) -> None:
    book = cw(ctx).alarms
    now = ctx.cloud.clock.now()
    old = book.alarms.get((ctx.account_id, doc["AlarmName"]))
    if old is not None and old.get("AlarmType", "MetricAlarm") != doc["AlarmType"]:
        raise errors.InvalidParameterCombination(
            f"An alarm of another type is already named {doc['AlarmName']}.")
    tags = _tags(p)
    doc["AlarmConfigurationUpdatedTimestamp"] = now
    if old is None:
        doc.update(StateValue=ev.INSUFFICIENT_DATA, StateReason="Unchecked: Initial alarm creation",
                   StateUpdatedTimestamp=now, StateTransitionedTimestamp=now, Tags=tags)
        summary = f"Alarm \"{doc['AlarmName']}\" created"
    else:
        for key in ("StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp",
                    "StateTransitionedTimestamp", "Tags"):
            if key in old:
                doc[key] = old[key]
        doc["Tags"] = {**old.get("Tags", {}), **tags}
        summary = f"Alarm \"{doc['AlarmName']}\" updated"
    book.save(ctx.account_id, doc)
    book.record(ctx.account_id, doc, "ConfigurationUpdate", summary,
                {"version": "1.0", "type": "Create" if old is None else "Update"})
    if doc["AlarmType"] == "MetricAlarm":
        book.evaluate_metric_alarm(ctx.account_id, doc, now)
    else:
        book.evaluate_composite(ctx.account_id, doc)


def put_metric_alarm(ctx: Context) -> Any:
    """PutMetricAlarm: create or replace a static-threshold (or metric math) alarm."""
    p = ctx.params.raw()
    doc = _common(ctx, p)
    doc["AlarmType"] = "MetricAlarm"
    n = v.integer(p.get("EvaluationPeriods"), "EvaluationPeriods") \
        if p.get("EvaluationPeriods") not in (None, "") else None
    if n is None:
        raise errors.MissingParameter("The parameter EvaluationPeriods is required.")
    if n < 1:
        raise errors.InvalidParameterValue("The parameter EvaluationPeriods must be at least 1.")
    op = v.text(p, "ComparisonOperator", required=True)
    if op not in ev.COMPARISONS and op not in ev.BAND_COMPARISONS:
        raise v.invalid(op, "ComparisonOperator")
    threshold_metric = v.text(p, "ThresholdMetricId")
    if op in ev.BAND_COMPARISONS and not threshold_metric:
        raise errors.ValidationError(
            f"ComparisonOperators for anomaly detection alarms ({op}) require ThresholdMetricId.")
    if op in ev.BAND_COMPARISONS:
        raise errors.ValidationError("Anomaly detection models are not available in this cloud.")
    if p.get("Threshold") in (None, ""):
        raise errors.ValidationError("Threshold must be specified for a static threshold alarm.")
    doc["Threshold"] = v.number(p["Threshold"], "Threshold")
    m = n
    if p.get("DatapointsToAlarm") not in (None, ""):
        m = v.integer(p["DatapointsToAlarm"], "DatapointsToAlarm")
        if not 1 <= m <= n:
            raise errors.ValidationError(
                "DatapointsToAlarm must be between 1 and EvaluationPeriods.")
        doc["DatapointsToAlarm"] = m
    treat = v.text(p, "TreatMissingData") or "missing"
    if treat not in ev.TREAT_MISSING:
        raise v.invalid(treat, "TreatMissingData")
    metrics = v.items(p, "Metrics")
    single = [k for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic",
                          "Dimensions", "Period", "Unit") if p.get(k) not in (None, "", [])]
    if metrics and [k for k in single if k != "Period"]:
        raise errors.InvalidParameterCombination(
            f"The parameters Metrics and {single[0]} are mutually exclusive.")
    doc.update(EvaluationPeriods=n, ComparisonOperator=op, TreatMissingData=treat)
    if metrics:
        from server.cloudwatch.metricdata import parse_queries

        queries = parse_queries(metrics, "Metrics", for_alarm=True)
        periods = {q["Period"] for q in queries if q.get("Period")}
        period = min(periods) if periods else 60
        doc.update(Metrics=metrics_for_doc(metrics), Period=period)
    else:
        doc["MetricName"] = v.text(p, "MetricName", required=True)
        doc["Namespace"] = v.text(p, "Namespace", required=True)
        stat = v.text(p, "Statistic")
        ext = v.text(p, "ExtendedStatistic")
        if stat and ext:
            raise errors.InvalidParameterCombination(
                "The parameters Statistic and ExtendedStatistic are mutually exclusive and you "
                "have specified both.")
        if not stat and not ext:
            raise errors.MissingParameter("One of Statistic or ExtendedStatistic is required.")
        if stat and stat not in v.STATISTICS:
            raise v.invalid(stat, "Statistic")
        if ext and not re.fullmatch(r"p(\d{1,2}(\.\d{1,2})?|100)", ext):
            raise v.invalid(ext, "ExtendedStatistic")
        if stat:
            doc["Statistic"] = stat
        else:
            doc["ExtendedStatistic"] = ext
        if p.get("Period") in (None, ""):
            raise errors.MissingParameter("The parameter Period is required.")
        period = check_period(p["Period"])
        if period not in (10, 30) and period % 60:
            raise errors.ValidationError("Period must be 10, 30 or a multiple of 60.")
        doc["Period"] = period
        doc["Dimensions"] = [{"Name": a, "Value": b}
                             for a, b in v.dimensions(p, "Dimensions", "Dimensions")]
        unit = v.text(p, "Unit")
        if unit is not None:
            if unit not in v.UNITS:
                raise v.invalid(unit, "Unit")
            doc["Unit"] = unit
    if doc["Period"] * n > 7 * 86400:
        raise errors.ValidationError(
            "The product of EvaluationPeriods and Period must not exceed 604800 seconds.")
    targets = doc["AlarmActions"] + doc["OKActions"] + doc["InsufficientDataActions"]
    if any(_EC2_ACTION.match(a) or _SWF_ACTION.match(a) for a in targets):
        if not any(d["Name"] == "InstanceId" for d in doc.get("Dimensions", [])):
            raise errors.ValidationError(
                "Invalid use of EC2 action. An EC2 action can only be used if the alarm is "
                "monitoring metric(s) for a single instance.")
    _finish_put(ctx, doc, p)
    return None


def metrics_for_doc(metrics: list[Any]) -> list[Any]:
    """Metric-math queries kept with normalized scalars (Query strings to numbers)."""
    def norm(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: norm(val) for k, val in x.items()}
        if isinstance(x, list):
            return [norm(val) for val in x]
        return x
    return [norm(m) for m in metrics]


def put_composite_alarm(ctx: Context) -> Any:
    """PutCompositeAlarm: an alarm whose state is a rule over other alarms' states."""
    p = ctx.params.raw()
    doc = _common(ctx, p)
    doc["AlarmType"] = "CompositeAlarm"
    rule = v.text(p, "AlarmRule", required=True, max_len=10240)
    assert rule is not None
    try:
        tokens = ev.parse_rule(rule)
    except ev.RuleError as exc:
        raise errors.ValidationError(str(exc)) from None
    book = cw(ctx).alarms
    for name in ev.rule_alarms(tokens):
        short = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
        if (ctx.account_id, short) not in book.alarms:
            raise errors.ValidationError(f"Could not save the composite alarm as alarms "
                                         f"[{name}] in the alarm rule do not exist")
        if short == doc["AlarmName"]:
            raise errors.ValidationError("A composite alarm may not refer to itself.")
    doc["AlarmRule"] = rule
    _finish_put(ctx, doc, p)
    return None


# -- describing -------------------------------------------------------------------------------
_TIME_KEYS = ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp",
              "StateTransitionedTimestamp")


def render_alarm(doc: dict[str, Any]) -> dict[str, Any]:
    """An alarm as DescribeAlarms shows it."""
    out = {k: val for k, val in doc.items() if k not in ("Tags", "AlarmType")}
    for key in _TIME_KEYS:
        if key in out:
            out[key] = Timestamp(out[key])
    if "Threshold" in out:
        out["Threshold"] = float(out["Threshold"])
    return out


def describe_alarms(ctx: Context) -> Any:
    """DescribeAlarms: filtered by names, prefix, state, action prefix and type; paged."""
    p = ctx.params.raw()
    names = [str(n) for n in v.items(p, "AlarmNames")]
    prefix = v.text(p, "AlarmNamePrefix")
    if names and prefix:
        raise errors.InvalidParameterCombination(
            "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
    if len(names) > 100:
        raise errors.InvalidParameterValue(
            "The collection AlarmNames must not have a size greater than 100.")
    state = v.text(p, "StateValue")
    if state is not None and state not in ev.STATES:
        raise v.invalid(state, "StateValue")
    action_prefix = v.text(p, "ActionPrefix", max_len=1024)
    types = [str(t) for t in v.items(p, "AlarmTypes")] or ["MetricAlarm"]
    for t in types:
        if t not in ("MetricAlarm", "CompositeAlarm"):
            raise v.invalid(t, "AlarmTypes")
    limit = v.integer(p.get("MaxRecords") or 50, "MaxRecords")
    if not 1 <= limit <= 100:
        raise v.invalid(limit, "MaxRecords")
    children_of = v.text(p, "ChildrenOfAlarmName")
    parents_of = v.text(p, "ParentsOfAlarmName")
    book = cw(ctx).alarms
    found = []
    for (acct, name), doc in sorted(book.alarms.items()):
        if acct != ctx.account_id:
            continue
        if names and name not in names:
            continue
        if prefix and not name.startswith(prefix):
            continue
        if state and doc["StateValue"] != state:
            continue
        if doc.get("AlarmType", "MetricAlarm") not in types:
            continue
        if action_prefix and not any(a.startswith(action_prefix) for key in
                                     ("AlarmActions", "OKActions", "InsufficientDataActions")
                                     for a in doc.get(key, [])):
            continue
        if children_of:
            parent = book.alarms.get((acct, children_of))
            kids = ev.rule_alarms(ev.parse_rule(parent["AlarmRule"])) \
                if parent and parent.get("AlarmRule") else []
            if name not in [k.rsplit(":", 1)[-1] for k in kids]:
                continue
        if parents_of and not (doc.get("AlarmRule") and parents_of in [
                k.rsplit(":", 1)[-1] for k in ev.rule_alarms(ev.parse_rule(doc["AlarmRule"]))]):
            continue
        found.append(doc)
    offset = v.page_offset(p.get("NextToken"))
    page = found[offset:offset + limit]
    out: dict[str, Any] = {
        "MetricAlarms": [render_alarm(d) for d in page
                         if d.get("AlarmType", "MetricAlarm") == "MetricAlarm"],
        "CompositeAlarms": [render_alarm(d) for d in page
                            if d.get("AlarmType") == "CompositeAlarm"]}
    if offset + limit < len(found):
        out["NextToken"] = v.page_token(offset + limit)
    return out


def describe_alarms_for_metric(ctx: Context) -> Any:
    """DescribeAlarmsForMetric: the alarms watching one metric."""
    p = ctx.params.raw()
    name = v.text(p, "MetricName", required=True)
    namespace = v.text(p, "Namespace", required=True)
    dims = [{"Name": a, "Value": b} for a, b in v.dimensions(p, "Dimensions", "Dimensions")]
    stat = v.text(p, "Statistic")
    ext = v.text(p, "ExtendedStatistic")
    period = v.integer(p["Period"], "Period") if p.get("Period") not in (None, "") else None
    unit = v.text(p, "Unit")
    out = []
    for (acct, _n), doc in sorted(cw(ctx).alarms.alarms.items()):
        if acct != ctx.account_id or doc.get("AlarmType", "MetricAlarm") != "MetricAlarm":
            continue
        if doc.get("MetricName") != name or doc.get("Namespace") != namespace:
            continue
        if "Dimensions" in p and doc.get("Dimensions", []) != dims:
            continue
        if (stat and doc.get("Statistic") != stat) or (ext and doc.get("ExtendedStatistic") != ext):
            continue
        if (period and doc.get("Period") != period) or (unit and doc.get("Unit") != unit):
            continue
        out.append(render_alarm(doc))
    return {"MetricAlarms": out}


def describe_alarm_history(ctx: Context) -> Any:
    """DescribeAlarmHistory: items by alarm, type and date, newest first by default."""
    p = ctx.params.raw()
    name = v.text(p, "AlarmName")
    kind = v.text(p, "HistoryItemType")
    if kind is not None and kind not in ("ConfigurationUpdate", "StateUpdate", "Action"):
        raise v.invalid(kind, "HistoryItemType")
    types = [str(t) for t in v.items(p, "AlarmTypes")] or ["MetricAlarm", "CompositeAlarm"]
    start = v.timestamp(p["StartDate"], "StartDate") if p.get("StartDate") else None
    end = v.timestamp(p["EndDate"], "EndDate") if p.get("EndDate") else None
    limit = v.integer(p.get("MaxRecords") or 100, "MaxRecords")
    if not 1 <= limit <= 100:
        raise v.invalid(limit, "MaxRecords")
    scan = v.text(p, "ScanBy") or "TimestampDescending"
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise v.invalid(scan, "ScanBy")
    items = [h for h in cw(ctx).alarms.history(ctx.account_id)
             if (not name or h["AlarmName"] == name) and (not kind or h["HistoryItemType"] == kind)
             and h["AlarmType"] in types and (start is None or h["Timestamp"] >= start)
             and (end is None or h["Timestamp"] <= end)]
    if scan == "TimestampDescending":
        items.reverse()
    offset = v.page_offset(p.get("NextToken"))
    page = items[offset:offset + limit]
    out: dict[str, Any] = {"AlarmHistoryItems": [
        {**h, "Timestamp": Timestamp(h["Timestamp"])} for h in page]}
    if offset + limit < len(items):
        out["NextToken"] = v.page_token(offset + limit)
    return out


# -- state and actions ------------------------------------------------------------------------
def _alarm(ctx: Context, name: str) -> dict[str, Any]:
    doc = cw(ctx).alarms.alarms.get((ctx.account_id, name))
    if doc is None:
        raise v.ResourceNotFound(f"Alarm {name} not found")
    return doc


def set_alarm_state(ctx: Context) -> Any:
    """SetAlarmState: a temporary state (the next evaluation may change it), with actions."""
    p = ctx.params.raw()
    name = v.text(p, "AlarmName", required=True)
    state = v.text(p, "StateValue", required=True)
    reason = v.text(p, "StateReason", required=True, max_len=1023)
    if state not in ev.STATES:
        raise v.invalid(state, "StateValue")
    data: dict[str, Any] = {}
    raw = v.text(p, "StateReasonData", max_len=4000)
    if raw is not None:
        try:
            data = json.loads(raw)
        except ValueError:
            raise v.InvalidFormat("StateReasonData must be a valid JSON document.") from None
    assert name is not None and state is not None and reason is not None
    doc = _alarm(ctx, name)
    book = cw(ctx).alarms
    if doc["StateValue"] == state:
        doc.update(StateReason=reason, StateUpdatedTimestamp=ctx.cloud.clock.now())
        book.save(ctx.account_id, doc)
        return None
    book.transition(ctx.account_id, doc, state, reason, data)
    return None


def _names(ctx: Context) -> list[str]:
    names = [str(n) for n in v.items(ctx.params.raw(), "AlarmNames")]
    if not names:
        raise errors.MissingParameter("The parameter AlarmNames is required.")
    if len(names) > 100:
        raise errors.InvalidParameterValue(
            "The collection AlarmNames must not have a size greater than 100.")
    return names


def _set_actions(ctx: Context, enabled: bool) -> None:
    book = cw(ctx).alarms
    for name in _names(ctx):
        doc = book.alarms.get((ctx.account_id, name))
        if doc is not None:
            doc["ActionsEnabled"] = enabled
            book.save(ctx.account_id, doc)


def enable_alarm_actions(ctx: Context) -> Any:
    """EnableAlarmActions (names that do not exist are ignored, as AWS)."""
    _set_actions(ctx, True)


def disable_alarm_actions(ctx: Context) -> Any:
    """DisableAlarmActions."""
    _set_actions(ctx, False)


def delete_alarms(ctx: Context) -> Any:
    """DeleteAlarms: all or none (an unknown name is ResourceNotFound)."""
    names = _names(ctx)
    book = cw(ctx).alarms
    for name in names:
        _alarm(ctx, name)
    for (acct, other), doc in book.alarms.items():
        if acct == ctx.account_id and doc.get("AlarmRule") and other not in names:
            kids = {k.rsplit(":", 1)[-1] for k in ev.rule_alarms(ev.parse_rule(doc["AlarmRule"]))}
            if kids & set(names):
                raise errors.ValidationError(
                    f"The alarm(s) are referenced by the composite alarm {other}.")
    for name in names:
        book.remove(ctx.account_id, name)
    return None


# -- tags -------------------------------------------------------------------------------------
def _tagged(ctx: Context) -> dict[str, Any]:
    p = ctx.params.raw()
    resource = v.text(p, "ResourceARN", required=True, max_len=1024)
    assert resource is not None
    m = re.fullmatch(r"arn:aws:cloudwatch:([^:]*):(\d+):alarm:(.+)", resource)
    if not m:
        raise v.invalid(resource, "ResourceARN")
    doc = cw(ctx).alarms.alarms.get((ctx.account_id, m.group(3)))
    if doc is None or m.group(2) != ctx.account_id:
        raise errors.AWSError(f"{resource} not found", code="ResourceNotFoundException",
                              status=404)
    return doc


def tag_resource(ctx: Context) -> Any:
    """TagResource on an alarm."""
    doc = _tagged(ctx)
    tags = _tags(ctx.params.raw())
    if not tags:
        raise errors.MissingParameter("The parameter Tags is required.")
    merged = {**doc.get("Tags", {}), **tags}
    if len(merged) > MAX_TAGS:
        raise v.LimitExceeded(f"A resource may have at most {MAX_TAGS} tags.")
    doc["Tags"] = merged
    cw(ctx).alarms.save(ctx.account_id, doc)
    return {}


def untag_resource(ctx: Context) -> Any:
    """UntagResource."""
    doc = _tagged(ctx)
    keys = [str(k) for k in v.items(ctx.params.raw(), "TagKeys")]
    if not keys:
        raise errors.MissingParameter("The parameter TagKeys is required.")
    doc["Tags"] = {k: val for k, val in doc.get("Tags", {}).items() if k not in keys}
    cw(ctx).alarms.save(ctx.account_id, doc)
    return {}


def list_tags_for_resource(ctx: Context) -> Any:
    """ListTagsForResource."""
    doc = _tagged(ctx)
    return {"Tags": [{"Key": k, "Value": val} for k, val in sorted(doc.get("Tags", {}).items())]}
