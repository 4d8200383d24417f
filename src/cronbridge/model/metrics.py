"""Metric values of the domain: a metric's identity, one sample, a statistics query and its datapoints."""

from __future__ import annotations

from dataclasses import dataclass, field

Dimensions = tuple[tuple[str, str], ...]


def dimensions(pairs: dict[str, str] | list[tuple[str, str]]) -> Dimensions:
    """Dimensions in canonical (name-sorted) order, so equal sets compare equal."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return tuple(sorted((str(k), str(v)) for k, v in items))


@dataclass(frozen=True)
class MetricId:
    """Namespace, name and dimensions: what CloudWatch treats as one metric."""

    namespace: str
    name: str
    dims: Dimensions = ()


@dataclass(frozen=True)
class Sample:
    """One recorded value (or a pre-aggregated set of values) at an instant, epoch seconds."""

    timestamp: float
    total: float
    count: float = 1.0
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[float, ...] = ()  # the raw values, when known (for percentiles)
    unit: str = "None"


@dataclass(frozen=True)
class StatQuery:
    """GetMetricStatistics / one GetMetricData MetricStat: a metric over [start, end) in periods."""

    metric: MetricId
    start: float
    end: float
    period: int
    statistics: tuple[str, ...]
    unit: str | None = None


@dataclass
class Datapoint:
    """One period's aggregate; `extended` holds percentiles by name ('p99')."""

    timestamp: float
    sample_count: float
    total: float
    minimum: float
    maximum: float
    unit: str = "None"
    extended: dict[str, float] = field(default_factory=dict)

    @property
    def average(self) -> float:
        return self.total / self.sample_count if self.sample_count else 0.0

    def statistic(self, name: str) -> float | None:
        """A statistic by CloudWatch's name (Sum, Average, Minimum, Maximum, SampleCount, pNN)."""
        simple = {
            "Sum": self.total,
            "Average": self.average,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
            "SampleCount": self.sample_count,
        }
        return simple.get(name, self.extended.get(name))
