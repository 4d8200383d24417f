"""CloudWatch's statistics over one period's raw values (PURE): the simple ones and the extended ones (p, TM, WM...)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

SIMPLE = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_SHORT = re.compile(r"^(p|tm|wm|tc|ts)(\d{1,2}(?:\.\d{1,10})?|100)$", re.IGNORECASE)
_RANGE = re.compile(r"^(TM|WM|TC|TS|PR)\((\d+(?:\.\d+)?)?(%?):(\d+(?:\.\d+)?)?(%?)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Extended:
    """An extended statistic: its kind (p, tm, wm, tc, ts, pr) and bounds (percent, or values for pr)."""

    kind: str
    low: float | None
    high: float | None


def parse_statistic(name: str) -> Extended | None:
    """An extended statistic's meaning, or None when the name is not one CloudWatch accepts."""
    if name.upper() == "IQM":
        return Extended("tm", 25.0, 75.0)
    short = _SHORT.match(name)
    if short:
        kind, bound = short.group(1).lower(), float(short.group(2))
        return Extended("p", None, bound) if kind == "p" else Extended(kind, 0.0, bound)
    ranged = _RANGE.match(name)
    if ranged is None:
        return None
    kind = ranged.group(1).lower()
    low = float(ranged.group(2)) if ranged.group(2) else None
    high = float(ranged.group(4)) if ranged.group(4) else None
    percent = bool(ranged.group(3) or ranged.group(5))
    if kind == "pr" and percent or kind != "pr" and not percent and (low is not None or high is not None):
        return None
    if kind != "pr" and (low or 0.0) > (high if high is not None else 100.0):
        return None
    return Extended(kind, low, high)


def is_statistic(name: str) -> bool:
    return name in SIMPLE or parse_statistic(name) is not None


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest rank on sorted values."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def value(name: str, values: Sequence[float]) -> float | None:
    """The statistic over raw values; None for an empty period (or an empty trimmed range)."""
    if not values:
        return None
    simple = _simple(name, values)
    if simple is not None or name in SIMPLE:
        return simple
    spec = parse_statistic(name)
    if spec is None:
        return None
    ordered = sorted(values)
    if spec.kind == "p":
        return percentile(ordered, spec.high or 0.0)
    if spec.kind == "pr":
        inside = [v for v in ordered if (spec.low is None or v > spec.low) and (spec.high is None or v <= spec.high)]
        return 100.0 * len(inside) / len(ordered)
    return _trimmed(spec, ordered)


def _simple(name: str, values: Sequence[float]) -> float | None:
    if name == "SampleCount":
        return float(len(values))
    if name == "Sum":
        return float(sum(values))
    if name == "Average":
        return float(sum(values)) / len(values)
    if name == "Minimum":
        return float(min(values))
    if name == "Maximum":
        return float(max(values))
    return None


def _trimmed(spec: Extended, ordered: list[float]) -> float | None:
    n = len(ordered)
    start = math.ceil((spec.low or 0.0) / 100 * n)
    stop = math.ceil((spec.high if spec.high is not None else 100.0) / 100 * n)
    inside = ordered[start:stop]
    if spec.kind == "tc":
        return float(len(inside))
    if spec.kind == "ts":
        return float(sum(inside))
    if not inside:
        return None
    if spec.kind == "tm":
        return float(sum(inside)) / len(inside)
    clamped = [min(max(v, inside[0]), inside[-1]) for v in ordered]  # wm: winsorized
    return float(sum(clamped)) / n


def low_sample_count(name: str, count: int) -> bool:
    """Too few samples for a percentile to mean much: fewer than 10/(1-p) (p >= 0.5) or 10/p."""
    spec = parse_statistic(name)
    if spec is None or spec.kind != "p" or spec.high is None:
        return False
    p = spec.high / 100
    if p in (0.0, 1.0):
        return False
    return count < (10 / (1 - p) if p >= 0.5 else 10 / p)
