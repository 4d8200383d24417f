"""Metric filters on log groups: PutMetricFilter and its kin, and every stored event turned into metric samples."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbridge.errors import InvalidParameter, NotFound
from cronbridge.logs.filter import Pattern, parse
from cronbridge.logs.metric_filter import Transformation, check, emission
from cronbridge.model.metrics import MetricId, Sample
from cronbridge.scope import Scope
from cronbridge.store.documents import Documents
from cronbridge.store.metrics import MetricStore

KIND = "logs.metric_filter"
MAX_PER_GROUP = 100
CACHE_SECONDS = 1.0  # another server's PutMetricFilter is seen within this long
_NAME = re.compile(r"[^:*]{1,512}")


@dataclass
class MetricFilter:
    filter_name: str = ""
    log_group_name: str = ""
    filter_pattern: str = ""
    metric_transformations: list[dict[str, Any]] = field(default_factory=list)
    creation_time: int = 0


@dataclass(frozen=True)
class _Compiled:
    name: str
    pattern: Pattern
    transformations: tuple[Transformation, ...]


def transformation_of(wire: dict[str, Any]) -> Transformation:
    default = wire.get("defaultValue")
    return Transformation(
        metric_name=str(wire.get("metricName") or ""),
        namespace=str(wire.get("metricNamespace") or ""),
        value=str(wire.get("metricValue") or ""),
        default_value=None if default is None else float(default),
        dimensions=dict(wire.get("dimensions") or {}),
        unit=wire.get("unit"),
    )


class MetricFilters:
    """The filters of one account and Region's log groups, compiled once (and again when they change); samples
    written with the events, as metrics of the same account and Region."""

    def __init__(self, docs: Documents, samples: MetricStore, scope: Scope) -> None:
        self.docs = docs
        self.samples = samples
        self.scope = scope
        self._cache: dict[str, tuple[float, list[_Compiled]]] = {}
        self._lock = threading.Lock()

    def put(
        self, group: str, name: str, pattern_text: str, transformations: Sequence[dict[str, Any]], now_ms: int
    ) -> None:
        if not _NAME.fullmatch(name):
            raise InvalidParameter(f"Invalid filter name: {name}")
        if len(transformations) != 1:
            raise InvalidParameter("A metric filter has exactly one metric transformation.")
        pattern = parse(pattern_text)
        for wire in transformations:
            check(pattern, transformation_of(wire))
        key = f"{group}\x00{name}"
        existing = self.docs.get(KIND, self.scope, key, MetricFilter)
        if existing is None and len(self.describe(group)) >= MAX_PER_GROUP:
            limit = f"A log group can have at most {MAX_PER_GROUP} metric filters."
            raise InvalidParameter(limit, "LimitExceededException")
        created = existing.creation_time if existing else now_ms
        saved = MetricFilter(name, group, pattern_text, list(transformations), created)
        self.docs.put(KIND, self.scope, key, saved, parent=group)
        self._forget(group)

    def describe(self, group: str | None = None, prefix: str = "") -> list[MetricFilter]:
        found = self.docs.list(KIND, MetricFilter, self.scope, parent=group or None)
        return [f for f in found if f.filter_name.startswith(prefix)]

    def delete(self, group: str, name: str) -> None:
        if not self.docs.delete(KIND, self.scope, f"{group}\x00{name}"):
            raise NotFound("The specified resource does not exist.")
        self._forget(group)

    def forget_group(self, group: str) -> None:
        """The group is gone: so are its filters."""
        self.docs.delete_children(KIND, self.scope, group)
        self._forget(group)

    def _forget(self, group: str) -> None:
        with self._lock:
            self._cache.pop(group, None)

    def _compiled(self, group: str) -> list[_Compiled]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(group)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        compiled = []
        for f in self.docs.list(KIND, MetricFilter, self.scope, parent=group):
            try:
                compiled.append(
                    _Compiled(
                        f.filter_name,
                        parse(f.filter_pattern),
                        tuple(transformation_of(t) for t in f.metric_transformations),
                    )
                )
            except InvalidParameter:
                continue
        with self._lock:
            self._cache[group] = (now, compiled)
        return compiled

    def stored(self, group: str, events: Sequence[tuple[int, str]]) -> None:
        """Events just stored in `group` (inside its transaction): each matching filter adds its samples."""
        filters = self._compiled(group)
        if not filters or not events:
            return
        entries: list[tuple[MetricId, Sample]] = []
        for compiled in filters:
            for transformation in compiled.transformations:
                entries += _samples(compiled.pattern, transformation, events)
        if entries:
            self.samples.add(entries)


def _samples(pattern: Pattern, t: Transformation, events: Sequence[tuple[int, str]]) -> list[tuple[MetricId, Sample]]:
    out = []
    for timestamp, message in events:
        found = emission(pattern, t, message)
        if found is not None:
            metric = MetricId(t.namespace, t.metric_name, found.dimensions)
            value = found.value
            out.append((metric, Sample(timestamp / 1000, value, 1.0, value, value, (value,), t.unit or "None")))
    if not out and t.default_value is not None:  # logs came in, none matched: the default is reported
        last = max(ts for ts, _ in events)
        value = t.default_value
        out.append(
            (
                MetricId(t.namespace, t.metric_name),
                Sample(last / 1000, value, 1.0, value, value, (value,), t.unit or "None"),
            )
        )
    return out
