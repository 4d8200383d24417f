"""The Prometheus text exposition of cronbridge's own state: invocations, tasks, launch lateness."""

from __future__ import annotations

from collections.abc import Iterable

from cronbridge.metrics.aggregate import percentile
from cronbridge.store.database import Database
from cronbridge.store.metrics import RuntimeCounts, outcomes
from cronbridge.store.task_outcomes import TaskOutcomes


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, kind: str, text: str, samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}")
    return lines


def exposition(db: Database, launcher: str) -> str:
    """The whole page, computed from the store on each scrape (cheap: grouped, indexed queries)."""
    invocations = outcomes(db)
    stops = TaskOutcomes(db).stop_counts()
    runtime = RuntimeCounts(db)
    late = sorted(runtime.recent_lateness())
    quantiles = [({"quantile": q}, percentile(late, float(q) * 100)) for q in ("0.5", "0.99", "1")] if late else []
    lines = [
        *_family(
            "cronbridge_invocations_total",
            "counter",
            "Rule and schedule invocations by outcome.",
            (({"rule": rule, "outcome": state}, n) for rule, state, n in invocations),
        ),
        *_family(
            "cronbridge_task_stops_total",
            "counter",
            "Tasks stopped, by the rule (or schedule/NAME) that started them, stop code and exit code of the first"
            " container that did not exit 0 (0: all did; empty: none exited, e.g. TaskFailedToStart).",
            (({"rule": rule, "stop_code": code, "exit_code": exit_code}, n) for rule, code, exit_code, n in stops),
        ),
        *_family(
            "cronbridge_tasks",
            "gauge",
            "Tasks known to the server, by last status.",
            (({"status": status, "launcher": launcher}, n) for status, n in runtime.tasks_by_status()),
        ),
        *_family(
            "cronbridge_launch_lateness_seconds",
            "summary",
            "Seconds from a slot's scheduled time to its launch (latest 1,000 scheduled invocations).",
            quantiles,
        ),
        *_family(
            "cronbridge_launch_lateness_seconds_count",
            "untyped",
            "Invocations in the lateness summary.",
            [({}, float(len(late)))],
        ),
    ]
    return "\n".join(lines) + "\n"
