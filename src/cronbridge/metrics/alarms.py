"""CloudWatch alarms, per account and Region: PutMetricAlarm and its kin, evaluated on the server's clock at every
period boundary against the metrics of their Region; each state change written to the alarm's history and put on the
default event bus of its Region ("CloudWatch Alarm State Change")."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.errors import NotFound, StoreUnavailable
from cronbridge.events.envelopes import AlarmState, alarm_configuration, alarm_state_change
from cronbridge.metrics import extended
from cronbridge.metrics.aggregate import InvalidParameterValue
from cronbridge.metrics.alarm import COMPARISONS, AlarmRule, datapoints, evaluate, evaluation_range
from cronbridge.model.metrics import MetricId, Sample
from cronbridge.scope import HOME, Scope
from cronbridge.store.documents import Documents
from cronbridge.store.events import AlarmHistory, HistoryItem

log = logging.getLogger("cronbridge.alarms")
KIND = "cloudwatch.alarm"
HISTORY_SECONDS = 14 * 86400  # CloudWatch keeps alarm history two weeks
TICK = 10.0  # seconds between evaluations (the shortest alarm period)
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass
class Alarm:
    alarm_name: str = ""
    alarm_arn: str = ""
    alarm_description: str | None = None
    namespace: str = ""
    metric_name: str = ""
    dimensions: list[dict[str, str]] = field(default_factory=list)
    statistic: str | None = None
    extended_statistic: str | None = None
    period: int = 60
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    threshold: float = 0.0
    comparison_operator: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str | None = None
    evaluate_low_sample_count_percentile: str | None = None
    unit: str | None = None
    actions_enabled: bool = True
    alarm_actions: list[str] = field(default_factory=list)
    ok_actions: list[str] = field(default_factory=list)
    insufficient_data_actions: list[str] = field(default_factory=list)
    state_value: str = "INSUFFICIENT_DATA"
    state_reason: str = "Unchecked: Initial alarm creation"
    state_reason_data: str = ""
    state_updated: float = 0.0
    configuration_updated: float = 0.0
    state_transitioned: float = 0.0
    tags: list[dict[str, str]] | None = None

    @property
    def stat(self) -> str:
        return self.statistic or self.extended_statistic or "Average"

    @property
    def metric(self) -> MetricId:
        return MetricId(
            self.namespace, self.metric_name, tuple(sorted((d["Name"], d["Value"]) for d in self.dimensions))
        )

    def rule(self) -> AlarmRule:
        return AlarmRule(
            self.stat,
            self.period,
            self.evaluation_periods,
            self.threshold,
            self.comparison_operator,
            self.datapoints_to_alarm,
            self.treat_missing_data or "missing",
            self.evaluate_low_sample_count_percentile,
        )


Samples = Callable[[Scope, MetricId, float, float], list[Sample]]  # a metric's samples in an account and Region
Publish = Callable[[dict[str, Any], Scope], object]  # an event onto the default bus of an account and Region


class AlarmsService:
    """Alarms kept as documents by account and Region; evaluated by the scheduler lease's holder only (`active`)."""

    def __init__(
        self,
        docs: Documents,
        history: AlarmHistory,
        samples: Samples,
        publish: Publish,
        clock: Clock,
        active: Callable[[], bool],
    ) -> None:
        self.docs = docs
        self.history = history
        self.samples = samples
        self.publish = publish
        self.clock = clock
        self.active = active
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._evaluated: dict[str, float] = {}  # alarm ARN -> the period boundary it was last evaluated at

    # the API ---------------------------------------------------------------------------------------------------
    def put(self, scope: Scope, alarm: Alarm) -> Alarm:
        _check(alarm)
        now = self.clock.now()
        previous = self.docs.get(KIND, scope, alarm.alarm_name, Alarm)
        saved = dataclasses.replace(
            alarm,
            alarm_arn=scope.arn("cloudwatch", f"alarm:{alarm.alarm_name}"),
            configuration_updated=now,
            state_value=previous.state_value if previous else "INSUFFICIENT_DATA",
            state_reason=previous.state_reason if previous else "Unchecked: Initial alarm creation",
            state_reason_data=previous.state_reason_data if previous else "",
            state_updated=previous.state_updated if previous else now,
            state_transitioned=previous.state_transitioned if previous else now,
            tags=alarm.tags if alarm.tags is not None else (previous.tags if previous else None),
        )
        self.docs.put(KIND, scope, alarm.alarm_name, saved)
        verb = "updated" if previous else "created"
        self.history.add(
            scope,
            HistoryItem(
                alarm.alarm_name,
                now,
                "ConfigurationUpdate",
                f'Alarm "{alarm.alarm_name}" {verb}',
                json.dumps({"type": "Update", "version": "1.0"}),
            )
        )
        self._evaluated.pop(saved.alarm_arn, None)
        self._wake.set()
        return saved

    def alarm(self, scope: Scope, name: str) -> Alarm:
        found = self.docs.get(KIND, scope, name, Alarm)
        if found is None:
            raise NotFound(f"Alarm {name} not found", "ResourceNotFound")
        return found

    def describe(
        self,
        scope: Scope,
        names: Sequence[str] = (),
        prefix: str = "",
        state: str | None = None,
        action_prefix: str = "",
    ) -> list[Alarm]:
        found = [a for a in self.docs.list(KIND, Alarm, scope, prefix=prefix) if not names or a.alarm_name in names]
        if state:
            found = [a for a in found if a.state_value == state]
        if action_prefix:
            found = [a for a in found if any(x.startswith(action_prefix) for x in a.alarm_actions)]
        return found

    def for_metric(
        self,
        scope: Scope,
        metric: MetricId,
        statistic: str | None,
        extended_statistic: str | None,
        period: int | None,
    ) -> list[Alarm]:
        found = [a for a in self.docs.list(KIND, Alarm, scope) if a.metric == metric]
        if statistic:
            found = [a for a in found if a.statistic == statistic]
        if extended_statistic:
            found = [a for a in found if a.extended_statistic == extended_statistic]
        return [a for a in found if period is None or a.period == period]

    def delete(self, scope: Scope, names: Sequence[str]) -> None:
        missing = [n for n in names if self.docs.get(KIND, scope, n, Alarm) is None]
        if missing:
            raise NotFound(f"Alarm{'s' if len(missing) > 1 else ''} {', '.join(missing)} not found", "ResourceNotFound")
        for name in names:
            self.docs.delete(KIND, scope, name)
            self._evaluated.pop(scope.arn("cloudwatch", f"alarm:{name}"), None)

    def set_state(self, scope: Scope, name: str, state: str, reason: str, reason_data: str | None) -> None:
        """SetAlarmState: the state holds until the next evaluation decides otherwise."""
        if state not in STATES:
            raise InvalidParameterValue(f"The value {state} for parameter StateValue is not valid.")
        if reason_data:
            try:
                json.loads(reason_data)
            except ValueError:
                raise InvalidParameterValue("The value for parameter StateReasonData is not valid JSON.") from None
        self._transition(self.alarm(scope, name), state, reason, reason_data or "", self.clock.now())

    def set_actions(self, scope: Scope, names: Sequence[str], enabled: bool) -> None:
        for name in names:
            found = self.docs.get(KIND, scope, name, Alarm)
            if found is not None:
                self.docs.put(KIND, scope, name, dataclasses.replace(found, actions_enabled=enabled))

    def set_tags(self, scope: Scope, name: str, tags: list[dict[str, str]]) -> None:
        self.docs.put(KIND, scope, name, dataclasses.replace(self.alarm(scope, name), tags=tags))

    # evaluation ------------------------------------------------------------------------------------------------
    def evaluate_due(self) -> None:
        """Every alarm (of every account and Region) whose period ended since it was last evaluated: evaluate it
        now."""
        now = self.clock.now()
        for alarm in self.docs.iter_all(KIND, Alarm):
            boundary = evaluation_range(alarm.rule(), now)[1]
            if self._evaluated.get(alarm.alarm_arn) == boundary:
                continue
            self._evaluated[alarm.alarm_arn] = boundary
            try:
                self._evaluate(alarm, now)
            except StoreUnavailable as exc:  # evaluated again at its next period
                log.warning("evaluating alarm %s: %s", alarm.alarm_name, exc)
            except Exception:  # one alarm's trouble must not stop the others
                log.exception("evaluating alarm %s failed", alarm.alarm_name)

    def _evaluate(self, alarm: Alarm, now: float) -> None:
        rule = alarm.rule()
        start, end = evaluation_range(rule, now)
        raw = [(s.timestamp, v) for s in self.samples(_scope_of(alarm), alarm.metric, start, end) for v in _values(s)]
        result = evaluate(rule, datapoints(rule, raw, now), now)
        if result.state is None or result.state == alarm.state_value:
            return
        self._transition(alarm, result.state, result.reason, json.dumps(result.reason_data), now)

    def _transition(self, alarm: Alarm, state: str, reason: str, reason_data: str, now: float) -> None:
        previous = AlarmState(alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated)
        changed = dataclasses.replace(
            alarm,
            state_value=state,
            state_reason=reason,
            state_reason_data=reason_data,
            state_updated=now,
            state_transitioned=now if state != alarm.state_value else alarm.state_transitioned,
        )
        scope = _scope_of(alarm)
        self.docs.put(KIND, scope, alarm.alarm_name, changed)
        summary = f"Alarm updated from {alarm.state_value} to {state}"
        data = {
            "version": "1.0",
            "oldState": {"stateValue": alarm.state_value, "stateReason": alarm.state_reason},
            "newState": {"stateValue": state, "stateReason": reason},
        }
        self.history.add(scope, HistoryItem(alarm.alarm_name, now, "StateUpdate", summary, json.dumps(data)))
        if state != alarm.state_value:
            config = alarm_configuration(
                alarm.alarm_description,
                alarm.namespace,
                alarm.metric_name,
                {d["Name"]: d["Value"] for d in alarm.dimensions},
                alarm.period,
                alarm.stat,
            )
            event = alarm_state_change(
                alarm.alarm_arn,
                alarm.alarm_name,
                config,
                AlarmState(state, reason, reason_data, now),
                previous,
                str(uuid.uuid4()),
                scope.account,
                scope.region,
            )
            self.publish(event, scope)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alarms", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock.now()
            self._wake.clear()
            self.clock.wait_until((now // TICK + 1) * TICK, self._wake)
            if self._stop.is_set():
                return
            if self.active():
                self.evaluate_due()
                self.history.expire(self.clock.now() - HISTORY_SECONDS)


def _scope_of(alarm: Alarm) -> Scope:
    """The account and Region an alarm lives in (those of its ARN)."""
    return scopes.of_arn(alarm.alarm_arn) or HOME


def _values(sample: Sample) -> tuple[float, ...]:
    if sample.values:
        return sample.values
    return (sample.total / max(sample.count, 1),) * int(max(sample.count, 1))


def _check(alarm: Alarm) -> None:
    """PutMetricAlarm's refusals (ValidationError / InvalidParameterValue, as CloudWatch words them)."""
    if bool(alarm.statistic) == bool(alarm.extended_statistic):
        raise InvalidParameterValue(
            "Exactly one of Statistic and ExtendedStatistic must be specified.", "InvalidParameterCombination"
        )
    if alarm.statistic and alarm.statistic not in extended.SIMPLE:
        raise InvalidParameterValue(f"The value {alarm.statistic} for parameter Statistic is not valid.")
    if alarm.extended_statistic and extended.parse_statistic(alarm.extended_statistic) is None:
        raise InvalidParameterValue(
            f"The value {alarm.extended_statistic} for parameter ExtendedStatistic is not valid."
        )
    if alarm.comparison_operator not in COMPARISONS:
        raise InvalidParameterValue(
            f"The value {alarm.comparison_operator} for parameter ComparisonOperator is not supported here: "
            "anomaly detection bands need a model cronbridge does not have."
        )
    if (
        alarm.period < 10
        or (alarm.period >= 60 and alarm.period % 60)
        or (alarm.period < 60 and alarm.period not in (10, 30))
    ):
        raise InvalidParameterValue("The parameter Period must be 10, 30 or a multiple of 60.")
    if alarm.evaluation_periods < 1 or alarm.period * alarm.evaluation_periods > 86400:
        raise InvalidParameterValue("The evaluation period cannot exceed 1 day (Period x EvaluationPeriods).")
    m = alarm.datapoints_to_alarm
    if m is not None and not 1 <= m <= alarm.evaluation_periods:
        raise InvalidParameterValue("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
    if alarm.treat_missing_data is not None and alarm.treat_missing_data not in TREATMENTS:
        raise InvalidParameterValue(
            f"The value {alarm.treat_missing_data} for parameter TreatMissingData is not valid."
        )
