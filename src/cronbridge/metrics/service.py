"""Metrics: PutMetricData samples and AWS/Events counts derived from the invocation log, read by period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cronbridge.clock import Clock
from cronbridge.metrics.aggregate import InvalidParameterValue, check_period, check_statistic, counts, datapoints
from cronbridge.model.metrics import Datapoint, MetricId, Sample, StatQuery
from cronbridge.scope import HOME, Scope
from cronbridge.store.database import Database
from cronbridge.store.events import EventCounts
from cronbridge.store.metrics import InvocationCounts, MetricStore

EVENTS = "AWS/Events"
RETENTION = 15 * 86400  # ListMetrics shows metrics with data in the last two weeks
MAX_DATAPOINTS = 1440
# the invocation-log outcome each AWS/Events metric counts (TriggeredRules and MatchedEvents count slots instead)
OUTCOMES = {"Invocations": "invoked", "FailedInvocations": "failed", "InvocationsSentToDLQ": "dead_lettered"}
EVENTS_METRICS = ("Invocations", "FailedInvocations", "TriggeredRules", "InvocationsSentToDLQ", "MatchedEvents")
# event-driven deliveries (events matched on a bus) counted by each metric, from the event log
DELIVERY_STATES = {"Invocations": ("SUCCEEDED", "FAILED", "PENDING"), "FailedInvocations": ("FAILED",)}


@dataclass(frozen=True)
class MetricFilter:
    """ListMetrics' filters: namespace, name, and dimensions (a None value matches any value)."""

    namespace: str | None = None
    name: str | None = None
    dims: tuple[tuple[str, str | None], ...] = ()

    def matches(self, metric: MetricId) -> bool:
        have = dict(metric.dims)
        return (
            (self.namespace is None or metric.namespace == self.namespace)
            and (self.name is None or metric.name == self.name)
            and all(k in have and (v is None or have[k] == v) for k, v in self.dims)
        )


class MetricsService:
    """What CloudWatch's metric calls need in one account and Region, over our store."""

    def __init__(self, db: Database, clock: Clock, scope: Scope = HOME) -> None:
        self.scope = scope
        self.store = MetricStore(db, scope)
        self.invocations = InvocationCounts(db, scope)
        self.event_log = EventCounts(db, scope)
        self.clock = clock

    def put(self, namespace: str, entries: Sequence[tuple[MetricId, Sample]]) -> None:
        if namespace.startswith("AWS/"):
            raise InvalidParameterValue("The value AWS/ for parameter Namespace is invalid.")
        self.store.add(entries)

    def samples(self, metric: MetricId, start: float, end: float) -> list[Sample]:
        """A metric's raw samples in [start, end) (AWS/Events ones counted from the invocation logs)."""
        return self._samples(metric, start, end)

    def statistics(self, query: StatQuery) -> list[Datapoint]:
        """The query's datapoints, oldest first (empty periods are absent, as on CloudWatch)."""
        check_period(query.period)
        for name in query.statistics:
            check_statistic(name)
        if query.end <= query.start:
            raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        if (query.end - query.start) / query.period > MAX_DATAPOINTS * 70:
            raise InvalidParameterValue("You have requested too many datapoints; use a longer period.")
        samples = self._samples(query.metric, query.start, query.end)
        if query.unit is not None:
            samples = [s for s in samples if s.unit == query.unit]
        return datapoints(samples, query.start, query.period, query.statistics)

    def list_metrics(self, flt: MetricFilter) -> list[MetricId]:
        since = self.clock.now() - RETENTION
        found = set(self.store.metrics(flt.namespace, flt.name, since)) | set(self._events_metrics(since))
        return sorted((m for m in found if flt.matches(m)), key=lambda m: (m.namespace, m.name, m.dims))

    # AWS/Events, from the invocation log --------------------------------------------------------------
    def _samples(self, metric: MetricId, start: float, end: float) -> list[Sample]:
        if metric.namespace != EVENTS:
            return self.store.samples(metric, start, end)
        source = self._events_source(metric)
        return counts(source(start, end)) if source else []

    def _events_source(self, metric: MetricId) -> Callable[[float, float], list[float]] | None:
        dims = dict(metric.dims)
        if set(dims) - {"RuleName"}:
            return None
        rule = dims.get("RuleName")
        scheduled = self._scheduled_source(metric.name, rule)
        driven = self._event_source(metric.name, rule)
        if scheduled is None and driven is None:
            return None
        return lambda start, end: sorted(
            (scheduled(start, end) if scheduled else []) + (driven(start, end) if driven else [])
        )

    def _scheduled_source(self, name: str, rule: str | None) -> Callable[[float, float], list[float]] | None:
        if name in ("TriggeredRules", "MatchedEvents"):  # a slot is one scheduled event, matched by its rule
            return lambda start, end: self.invocations.triggered(rule, start, end)
        outcome = OUTCOMES.get(name)
        if outcome is None:
            return None
        return lambda start, end: self.invocations.instants(outcome, rule, start, end)

    def _event_source(self, name: str, rule: str | None) -> Callable[[float, float], list[float]] | None:
        """Rules matching events on a bus: MatchedEvents, TriggeredRules, Invocations, FailedInvocations, DLQ."""
        log = self.event_log
        if name in ("MatchedEvents", "TriggeredRules"):
            return lambda start, end: log.match_instants(rule, start, end, triggered=name == "TriggeredRules")
        if name in DELIVERY_STATES:
            return lambda start, end: log.delivery_instants(DELIVERY_STATES[name], rule, start, end)
        if name == "InvocationsSentToDLQ":
            return lambda start, end: log.dead_letter_instants(rule, start, end)
        return None

    def _events_metrics(self, since: float) -> list[MetricId]:
        rules = sorted(set(self.invocations.rule_names(since)) | set(self.event_log.rule_names(since)))
        found = [MetricId(EVENTS, name, (("RuleName", rule),)) for rule in rules for name in EVENTS_METRICS]
        if rules:
            found += [MetricId(EVENTS, name) for name in EVENTS_METRICS]
        return found
