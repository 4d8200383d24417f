"""Pure aggregation: samples into period datapoints with CloudWatch's statistics, percentiles included."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from cronbridge.errors import AwsError
from cronbridge.model.metrics import Datapoint, Sample

SIMPLE = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,2})?|100(?:\.0{1,2})?)$")


class InvalidParameterValue(AwsError):
    """CloudWatch's InvalidParameterValue (the model's InvalidParameterValueException)."""

    code = "InvalidParameterValue"


class MissingParameter(AwsError):
    """CloudWatch's MissingParameter (the model's MissingRequiredParameterException)."""

    code = "MissingParameter"


class InvalidNextToken(AwsError):
    """CloudWatch's InvalidNextToken."""

    code = "InvalidNextToken"


def check_statistic(name: str) -> None:
    if name not in SIMPLE and not _PERCENTILE.match(name):
        raise InvalidParameterValue(f"The value {name} for parameter Stat is not supported.")


def check_period(period: int) -> None:
    if period < 1 or (period >= 60 and period % 60) or (period < 60 and period not in (1, 5, 10, 20, 30)):
        raise InvalidParameterValue("The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.")


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile of sorted values (CloudWatch's pNN over raw values)."""
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def bucket(samples: Iterable[Sample], start: float, period: int) -> dict[int, list[Sample]]:
    """Samples grouped by the period they fall in, keyed by the period's index from `start`."""
    groups: dict[int, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(int((sample.timestamp - start) // period), []).append(sample)
    return groups


def datapoint(timestamp: float, samples: list[Sample], percentiles: Iterable[str]) -> Datapoint:
    """One period's aggregate of its samples."""
    count = sum(s.count for s in samples)
    total = sum(s.total for s in samples)
    lows = [s.minimum if s.minimum is not None else s.total / max(s.count, 1) for s in samples]
    highs = [s.maximum if s.maximum is not None else s.total / max(s.count, 1) for s in samples]
    raw = sorted(v for s in samples for v in (s.values or (s.total / max(s.count, 1),) * int(max(s.count, 1))))
    extended = {name: percentile(raw, float(name[1:])) for name in percentiles if raw}
    return Datapoint(timestamp, count, total, min(lows), max(highs), samples[0].unit, extended)


def datapoints(samples: Iterable[Sample], start: float, period: int, stats: Iterable[str]) -> list[Datapoint]:
    """Every non-empty period's datapoint, oldest first."""
    wanted = [s for s in stats if s not in SIMPLE]
    groups = bucket(samples, start, period)
    return [datapoint(start + i * period, groups[i], wanted) for i in sorted(groups)]


def counts(instants: Iterable[float]) -> list[Sample]:
    """Event instants as count samples (value 1 each), as AWS's service metrics are emitted."""
    return [Sample(t, 1.0, 1.0, 1.0, 1.0, (1.0,), "Count") for t in instants]
