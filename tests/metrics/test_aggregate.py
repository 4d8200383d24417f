"""Period aggregation and CloudWatch's statistics, checked against direct computation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.metrics.aggregate import InvalidParameterValue, check_period, check_statistic, datapoints, percentile
from cronbridge.model.metrics import Sample

values = st.lists(
    st.tuples(st.floats(0, 3599, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=200
)


@given(values)
def test_periods_partition_the_samples(pairs: list[tuple[float, float]]) -> None:
    samples = [Sample(t, v, 1.0, v, v, (v,)) for t, v in pairs]
    points = datapoints(samples, 0.0, 60, ["Sum", "SampleCount", "p90"])
    assert sum(p.sample_count for p in points) == len(pairs)
    assert sum(p.total for p in points) == pytest.approx(sum(v for _, v in pairs), abs=1e-3)
    assert [p.timestamp for p in points] == sorted({(t // 60) * 60 for t, _ in pairs})
    for point in points:
        assert point.minimum <= point.extended["p90"] <= point.maximum


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    assert percentile([5.0], 0.1) == 5.0


def test_pre_aggregated_statistic_sets_keep_their_extremes() -> None:
    [point] = datapoints([Sample(10, 30.0, 3.0, 1.0, 20.0)], 0, 60, ["Average"])
    assert (point.average, point.minimum, point.maximum, point.sample_count) == (10.0, 1.0, 20.0, 3.0)


@pytest.mark.parametrize("period", [1, 5, 10, 20, 30, 60, 300, 86400])
def test_valid_periods(period: int) -> None:
    check_period(period)


@pytest.mark.parametrize("period", [0, 2, 45, 61, 90])
def test_invalid_periods(period: int) -> None:
    with pytest.raises(InvalidParameterValue):
        check_period(period)


@pytest.mark.parametrize("name", ["Sum", "p99", "p99.9", "p0.5", "p100"])
def test_statistic_names(name: str) -> None:
    check_statistic(name)


@pytest.mark.parametrize("name", ["Median", "sum", "p101", "tm99"])
def test_unsupported_statistics_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        check_statistic(name)
