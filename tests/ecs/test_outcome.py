"""A task's outcome as people read it: succeeded, failed with an exit code, failed to start with the reason."""

from __future__ import annotations

from cronbridge.ecs.outcome import Outcome, short, task_outcome
from cronbridge.model.ecs import Container, StopCode, Task, TaskStatus


def stopped(*codes: int | None, started: bool = True, stop: StopCode = StopCode.ESSENTIAL_CONTAINER_EXITED,
            reason: str = "Essential container in task exited") -> Task:
    containers = [Container(name=f"c{i}", exit_code=code) for i, code in enumerate(codes)]
    return Task(last_status=TaskStatus.STOPPED, started_at=1.0 if started else None, stop_code=stop,
                stopped_reason=reason, containers=containers)


def test_every_container_exiting_0_is_success() -> None:
    assert task_outcome(stopped(0, 0)).state is Outcome.SUCCEEDED


def test_a_non_zero_exit_is_a_failure_naming_the_container_and_code() -> None:
    found = task_outcome(stopped(0, 3))
    assert (found.state, found.container, found.exit_code, found.stop_code) == (
        Outcome.FAILED, "c1", 3, "EssentialContainerExited")
    assert found.words() == "FAILED (exit 3)" and found.failed


def test_a_task_that_never_started_failed_to_start_with_the_reason() -> None:
    found = task_outcome(stopped(None, started=False, stop=StopCode.TASK_FAILED_TO_START,
                                 reason="CannotPullContainerError: pull image manifest has been retried"))
    assert found.state is Outcome.FAILED_TO_START and found.reason is not None
    assert found.reason.startswith("CannotPullContainerError") and found.failed


def test_running_and_starting_tasks_have_no_outcome_yet() -> None:
    assert task_outcome(Task(last_status=TaskStatus.RUNNING, started_at=1.0)).state is Outcome.RUNNING
    assert task_outcome(Task(last_status=TaskStatus.PROVISIONING)).state is Outcome.STARTING


def test_long_reasons_are_cut_to_one_line() -> None:
    assert short("a\nb") == "a b" and short(None) == "-"
    assert len(short("x" * 500)) == 80 and short("x" * 500).endswith("…")


def test_an_invocation_reads_as_the_worst_of_its_tasks_once_it_launched_them() -> None:
    from cronbridge.ecs.outcome import TaskOutcome, combine, run_result

    ok, bad = TaskOutcome(Outcome.SUCCEEDED, 0), TaskOutcome(Outcome.FAILED, 3, "app")
    assert combine([ok, bad, ok]) == bad and combine([]) is None
    assert run_result("SUCCEEDED", combine([ok, bad])) == "FAILED (exit 3)"
    assert run_result("SUCCEEDED", combine([ok])) == "SUCCEEDED"
    assert run_result("FAILED", None) == "FAILED" and run_result("PENDING", None) == "PENDING"
    assert run_result("SUCCEEDED", combine([TaskOutcome(Outcome.FAILED_TO_START), bad])) == "FAILED_TO_START"
