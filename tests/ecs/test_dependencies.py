"""dependsOn: start order and condition verdicts."""

from __future__ import annotations

from cronbridge.ecs.dependencies import ContainerState, Verdict, find_cycle, start_order, verdict
from cronbridge.model.ecs import ContainerDefinition, ContainerDependency


def _c(name: str, *deps: str) -> ContainerDefinition:
    return ContainerDefinition(name=name, image="x", depends_on=[ContainerDependency(d, "START") for d in deps])


def test_dependencies_start_first_and_independent_containers_keep_their_order() -> None:
    order = [c.name for c in start_order([_c("app", "init", "db"), _c("log"), _c("db", "init"), _c("init")])]
    assert order == ["log", "init", "db", "app"]


def test_a_cycle_is_found() -> None:
    assert find_cycle([_c("a", "b"), _c("b", "a"), _c("c")]) is not None
    assert find_cycle([_c("a", "b"), _c("b")]) is None


def test_verdicts_follow_ecs_conditions() -> None:
    running = ContainerState(started=True)
    failed = ContainerState(started=True, exited=True, exit_code=2)
    succeeded = ContainerState(started=True, exited=True, exit_code=0)
    assert verdict("START", running) is Verdict.MET
    assert verdict("COMPLETE", running) is Verdict.WAIT and verdict("COMPLETE", failed) is Verdict.MET
    assert verdict("SUCCESS", failed) is Verdict.NEVER and verdict("SUCCESS", succeeded) is Verdict.MET
    assert verdict("HEALTHY", running) is Verdict.WAIT
    assert verdict("HEALTHY", ContainerState(started=True, health="HEALTHY")) is Verdict.MET
    assert verdict("HEALTHY", ContainerState(started=True, health="UNHEALTHY")) is Verdict.NEVER
    assert verdict("HEALTHY", failed) is Verdict.NEVER
