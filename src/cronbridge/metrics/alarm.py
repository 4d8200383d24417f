"""CloudWatch alarm evaluation (PURE): a state from the most recent periods' datapoints, missing data as configured."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cronbridge.metrics import extended

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
MISSING, IGNORE, BREACHING, NOT_BREACHING = "missing", "ignore", "breaching", "notBreaching"
EXTRA_PERIODS = 2  # the evaluation range holds more periods than are evaluated (5 for 3, as AWS's tables show)
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


@dataclass(frozen=True)
class AlarmRule:
    """What an alarm watches and how it decides: period (s), N periods, M datapoints, threshold, comparison."""

    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = MISSING
    evaluate_low_sample_count_percentile: str | None = None

    @property
    def m(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    def breaches(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison][0](value, self.threshold))


@dataclass(frozen=True)
class Datapoint:
    """One period of the evaluation range: its start (epoch s), the statistic's value (None: missing)."""

    start: float
    value: float | None
    sample_count: float = 0.0
    low_samples: bool = False


@dataclass(frozen=True)
class Evaluation:
    """The state the datapoints call for (None: keep the current one), why, and the data behind it."""

    state: str | None
    reason: str
    reason_data: dict[str, Any]


def evaluation_range(rule: AlarmRule, now: float) -> tuple[float, float]:
    """The periods to look at: the most recent complete ones, N + 2 of them, ending at a period boundary."""
    end = math.floor(now / rule.period) * rule.period
    return end - (rule.evaluation_periods + EXTRA_PERIODS) * rule.period, end


def datapoints(rule: AlarmRule, samples: Iterable[tuple[float, float]], now: float) -> list[Datapoint]:
    """The evaluation range's datapoints, oldest first, from raw (instant, value) samples."""
    start, end = evaluation_range(rule, now)
    count = round((end - start) / rule.period)
    buckets: list[list[float]] = [[] for _ in range(count)]
    for at, value in samples:
        if start <= at < end:
            buckets[int((at - start) // rule.period)].append(value)
    out = []
    for index, values in enumerate(buckets):
        low = extended.low_sample_count(rule.statistic, len(values)) if values else False
        stat = extended.value(rule.statistic, values)
        out.append(Datapoint(start + index * rule.period, stat, float(len(values)), low))
    return out


def evaluate(rule: AlarmRule, points: Sequence[Datapoint], now: float) -> Evaluation:
    """The alarm's state over the evaluation range, as CloudWatch's documented tables decide it."""
    if rule.evaluate_low_sample_count_percentile == "ignore" and any(p.low_samples for p in points):
        return Evaluation(None, "Unchecked: too few samples for the percentile", {})
    existing = [p for p in points if p.value is not None]
    n, m = rule.evaluation_periods, rule.m
    if len(existing) >= n:
        window = existing[-n:]
        return _threshold(rule, window, 0, _breaching(rule, window) >= m, now)
    if not existing:
        return _nothing(rule, n, now)
    return _partial(rule, points, existing, now)


def _partial(rule: AlarmRule, points: Sequence[Datapoint], existing: list[Datapoint], now: float) -> Evaluation:
    """Fewer real datapoints than periods: fill in as few missing ones as needed, as configured."""
    n, m = rule.evaluation_periods, rule.m
    fills = n - len(existing)
    breaching = _breaching(rule, existing)
    treat = rule.treat_missing_data
    if treat == BREACHING:
        return _threshold(rule, existing, fills, breaching + fills >= m, now)
    if treat == NOT_BREACHING:
        return _threshold(rule, existing, fills, breaching >= m, now)
    if breaching >= m:
        return _threshold(rule, existing, 0, True, now)
    if breaching + fills < m or breaching < len(existing):
        return _threshold(rule, existing, 0, False, now)
    if treat == IGNORE:
        return Evaluation(None, "Missing data ignored: the alarm keeps its state.", {})
    if points[0].value is not None:  # the oldest datapoint breaches and none does not (AWS's sixth case)
        return _threshold(rule, existing, 0, True, now)
    return _insufficient(rule, fills, existing, now)


def _breaching(rule: AlarmRule, points: Iterable[Datapoint]) -> int:
    return sum(1 for p in points if p.value is not None and rule.breaches(p.value))


def _nothing(rule: AlarmRule, n: int, now: float) -> Evaluation:
    treat = rule.treat_missing_data
    if treat == IGNORE:
        return Evaluation(None, "Missing data ignored: the alarm keeps its state.", {})
    if treat in (BREACHING, NOT_BREACHING):
        label = "Breaching" if treat == BREACHING else "NonBreaching"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
            f"{_plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as [{label}]."
        )
        return Evaluation(ALARM if treat == BREACHING else OK, reason, _reason_data(rule, [], now))
    return _insufficient(rule, n, [], now)


def _insufficient(rule: AlarmRule, unknown: int, existing: list[Datapoint], now: float) -> Evaluation:
    reason = f"Insufficient Data: {_plural(unknown, 'datapoint')} {'was' if unknown == 1 else 'were'} unknown."
    return Evaluation(INSUFFICIENT_DATA, reason, _reason_data(rule, existing, now))


def _threshold(rule: AlarmRule, window: list[Datapoint], fills: int, alarm: bool, now: float) -> Evaluation:
    """The state, with CloudWatch's 'Threshold Crossed' wording for it."""
    words = COMPARISONS[rule.comparison][1]
    shown = list(reversed(window))  # newest first, as CloudWatch lists them
    listed = ", ".join(f"{_number(p.value)} ({_reason_time(p.start)})" for p in shown)
    count = sum(1 for p in shown if p.value is not None and rule.breaches(p.value) == alarm)
    verb = ("was" if count == 1 else "were") + ("" if alarm else " not")
    transition = "OK -> ALARM" if alarm else "ALARM -> OK"
    minimum = rule.m if alarm else rule.evaluation_periods - rule.m + 1
    reason = (
        f"Threshold Crossed: {count} out of the last {len(shown)} {_noun(len(shown), 'datapoint')} [{listed}] "
        f"{verb} {words} the threshold ({_number(rule.threshold)}) "
        f"(minimum {_plural(minimum, 'datapoint')} for {transition} transition)."
    )
    if fills:
        label = "Breaching" if rule.treat_missing_data == BREACHING else "NonBreaching"
        reason = reason[:-1] + f" and {_plural(fills, 'missing datapoint')} treated as [{label}]."
    return Evaluation(ALARM if alarm else OK, reason, _reason_data(rule, window, now))


def _reason_data(rule: AlarmRule, window: list[Datapoint], now: float) -> dict[str, Any]:
    start, _ = evaluation_range(rule, now)
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(window[0].start if window else start),
        "period": rule.period,
        "recentDatapoints": [p.value for p in window],
        "threshold": rule.threshold,
        "evaluatedDatapoints": [
            {"timestamp": _iso(p.start), "sampleCount": p.sample_count, "value": p.value} for p in reversed(window)
        ],
    }
    data["statistic" if rule.statistic in extended.SIMPLE else "extendedStatistic"] = rule.statistic
    return data


def _plural(n: int, noun: str) -> str:
    return f"{n} {_noun(n, noun)}"


def _noun(n: int, noun: str) -> str:
    return noun if n == 1 else noun + "s"


def _number(value: float | None) -> str:
    return "null" if value is None else repr(float(value))


def _reason_time(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(instant: float) -> str:
    moment = datetime.fromtimestamp(instant, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(round(instant * 1000)) % 1000:03d}+0000"
