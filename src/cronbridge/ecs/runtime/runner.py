"""RunTask and StopTask: validate, record the tasks, start their containers through a launcher, follow each one."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.ecs import placing
from cronbridge.ecs.runtime import placer, recovery
from cronbridge.ecs.runtime.awslogs import AwsLogsOptions
from cronbridge.ecs.runtime.bookkeeping import Bookkeeping
from cronbridge.ecs.runtime.lifecycle import LiveTask
from cronbridge.ecs.runtime.records import new_task
from cronbridge.ecs.runtime.requests import (
    Failure,
    RunTaskRequest,
    RunTaskResult,
    TaskStart,
    check_request,
    fingerprint,
    placement_failure,
)
from cronbridge.ecs.runtime.workers import Workers
from cronbridge.ecs.service import EcsService
from cronbridge.errors import AwsError, ClientError, Conflict
from cronbridge.identity.authorizer import Authorizer
from cronbridge.launchers.base import Launcher
from cronbridge.logs.service import LogService
from cronbridge.model.ecs import StopCode, Tag, Task, TaskDefinition, TaskOverride, TaskStatus
from cronbridge.peers.group import PeerGroup
from cronbridge.scope import HOME, Regional, Scope
from cronbridge.store.peers import ControlRequest
from cronbridge.store.task_events import TaskEventLog
from cronbridge.store.task_outcomes import KEEP_SECONDS, TaskOutcomes
from cronbridge.store.task_writes import Pending, TaskWrites

__all__ = ["Failure", "Recorded", "RunTaskRequest", "RunTaskResult", "Runner", "TaskStart"]
log = logging.getLogger("cronbridge.runner")


@dataclass(frozen=True)
class Recorded:
    """One request of a batch, recorded: its tasks' ARNs (a replayed token's earlier ones), ECS's placement
    failures, and the tasks whose containers are to start once the batch commits."""

    task_arns: tuple[str, ...]
    failures: list[Failure] = field(default_factory=list)
    starts: list[TaskStart] = field(default_factory=list)
Checked = tuple[int, RunTaskRequest, str, TaskDefinition, TaskOverride, placing.Placement | None]
CONTAINER_START_TIMEOUT = 60.0  # Fargate: "ContainerRuntimeTimeoutError: ... timed out after waiting 1m"
TASK_EVENT_TTL = 24 * 3600.0
BOOKKEEPING_AT_ONCE = 16
SWEEP_EVERY = 60.0
STOP_ELSEWHERE_TRIES = 3  # owners looked up again when another process took the task over first
STOP_ELSEWHERE_WAIT = 10.0  # seconds StopTask waits for the process that runs the task to act on it
STOP_TASK = "stop-task"  # the control request another process sends the task's owner
log = logging.getLogger("cronbridge.runtime")


class Runner:
    """Owns every live task of this process: starts it, streams its logs, records each lifecycle step, stops it.
    A task belongs to the process that started it (`peers`): StopTask for another's task asks that process."""

    def __init__(
        self,
        ecs: EcsService,
        logs: Regional[LogService],
        launcher: Launcher,
        clock: Clock,
        authorizer: Authorizer,
        task_retention: float,
        peers: PeerGroup,
    ) -> None:
        self.ecs = ecs
        self.logs = logs  # CloudWatch Logs of each account and Region (awslogs-region picks one)
        self.launcher = launcher
        self.clock = clock
        self.authorizer = authorizer  # IAM: the execution role's logs permissions, the task role's credentials
        self.task_retention = task_retention  # stopped tasks are kept this long (the ECS API shows them for an hour)
        self.peers = peers
        self._live: dict[str, LiveTask] = {}
        self._stops_waiting: dict[str, tuple[str, StopCode]] = {}  # stops for tasks owned here, not yet followed
        self._lock = threading.RLock()
        self._last_sweep = 0.0
        self._closing = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.start_timeout = CONTAINER_START_TIMEOUT
        self.task_events = TaskEventLog(ecs.db)
        self.outcomes = TaskOutcomes(ecs.db)
        self.writes = TaskWrites(ecs.db, ecs.tasks, self.task_events, self.outcomes)
        self.placer = placer.Placer(launcher, ecs.tasks)
        # pooled threads for the launches and ends of tasks (a running task holds none): a burst of ten thousand
        # short tasks runs on a few dozen threads; more start only while work waits behind blocked ones
        self.threads = Workers("task")
        # tasks recording a lifecycle step or checking their start at once (CPU and database only: never held
        # while waiting for an image, a container or a dependency): a burst of a thousand tasks does not wake a
        # thousand threads that all contend for the interpreter (and starve the scheduler's own threads)
        self.bookkeeping = Bookkeeping(BOOKKEEPING_AT_ONCE)  # and launches first (bookkeeping.py)

    # RunTask --------------------------------------------------------------
    def run_task(self, req: RunTaskRequest) -> RunTaskResult:
        result, starts = self.record_tasks(req)
        self.start_tasks(starts)
        return result

    def record_tasks(self, req: RunTaskRequest) -> tuple[RunTaskResult, list[TaskStart]]:
        """RunTask's durable half: validate, check the client token and record the new tasks in one transaction
        (a savepoint when the caller holds one: a batch of scheduled launches commits together). Their containers
        start with `start_tasks`, once the caller's transaction has committed."""
        cluster = self.ecs.cluster(req.scope, req.cluster)
        if not req.launch_type and not req.capacity_provider_strategy and cluster.default_capacity_provider_strategy:
            req = dataclasses.replace(req, capacity_provider_strategy=cluster.default_capacity_provider_strategy)
        definition = self.ecs.task_definition(req.scope, req.task_definition)
        if definition.status != "ACTIVE":
            raise ClientError("TaskDefinition is inactive")
        overrides = req.overrides or TaskOverride()
        check_request(req, definition, overrides)
        shortfall = placement_failure(definition, overrides)
        if shortfall is not None:
            return RunTaskResult(tasks=[], failures=[Failure(cluster.cluster_arn, *shortfall)]), []
        placement = self.placer.place(req, cluster.cluster_arn, definition)
        failures = placer.failures(req, cluster.cluster_arn, placement) if placement is not None else []
        if placement is not None and not placement.instances:
            return RunTaskResult(tasks=[], failures=failures), []
        with self.ecs.db.savepoint():  # the token check and the new tasks: atomic across threads and processes
            if req.client_token:
                self.ecs.db.serialize(f"ecs.client-token:{req.client_token}")
                previous = self._replay(req, cluster.cluster_arn)
                if previous is not None:
                    return previous, []
            tasks = self._new_tasks(req, cluster.cluster_arn, definition, overrides, placement)
            for task in tasks:
                self.transition(task, durable=True)  # inside the caller's transaction: committed with it
            self.peers.claim([t.task_arn for t in tasks])  # this process runs them
        shown = [dataclasses.replace(t) for t in tasks]
        return RunTaskResult(tasks=shown, failures=failures), [(t, definition) for t in tasks]

    def _new_tasks(
        self, req: RunTaskRequest, cluster_arn: str, definition: TaskDefinition, overrides: TaskOverride,
        placement: placing.Placement | None,
    ) -> list[Task]:
        """The request's new task records: one per placed instance, or `count` left to the launcher to place."""
        now = self.clock.now()
        if placement is None:
            return [
                new_task(req, cluster_arn, definition, overrides, now, self.launcher.name) for _ in range(req.count)
            ]
        return [
            new_task(req, cluster_arn, definition, overrides, now, self.launcher.name,
                     placer.instance_arn(req, cluster_arn, instance))
            for instance in placement.instances
        ]  # fmt: skip

    def record_batch(self, requests: Sequence[RunTaskRequest]) -> list[Recorded | AwsError]:
        """RunTask's durable half for many requests at once (a burst of scheduled launches), inside the caller's
        transaction: each request is checked on its own (a refusal is its answer alone, and nothing of it is
        written), their client tokens are looked up in one query, and the new tasks of all of them are written
        with one statement for their rows and one for their "ECS Task State Change" records."""
        answers: list[Recorded | AwsError | None] = [None] * len(requests)
        lookups: dict[tuple[Scope, str, str], tuple[str, TaskDefinition] | AwsError] = {}
        checked: list[Checked] = []
        for index, req in enumerate(requests):
            try:
                checked.append((index, req, *self._checked(req, lookups)))
            except AwsError as err:
                answers[index] = err
            except Exception as exc:  # a bug of ours: this request's answer, not the batch's
                log.exception("RunTask check failed")
                answers[index] = AwsError(f"internal error: {exc}", "InternalFailure", 500)
        with self.ecs.db.transaction():
            made = self._make(checked, answers)
            new = [task for _, tasks in made.values() for task in tasks]
            self.writes.record_new(new, self.clock.now())
            self.peers.claim([t.task_arn for t in new])  # this process runs them
        return [answer if answer is not None else Recorded((), []) for answer in answers]

    def _checked(
        self, req: RunTaskRequest, lookups: dict[tuple[Scope, str, str], tuple[str, TaskDefinition] | AwsError]
    ) -> tuple[str, TaskDefinition, TaskOverride, placing.Placement | None]:
        """ECS's checks of one request of a batch (the cluster and definition looked up once per batch, in the
        request's account and Region)."""
        scope = req.scope
        key = (scope, req.cluster, req.task_definition)
        found = lookups.get(key)
        if found is None:
            try:
                cluster = self.ecs.cluster(scope, req.cluster)
                found = (cluster.cluster_arn, self.ecs.task_definition(scope, req.task_definition))
            except AwsError as err:
                found = err
            lookups[key] = found
        if isinstance(found, AwsError):
            raise found
        cluster_arn, definition = found
        if definition.status != "ACTIVE":
            raise ClientError("TaskDefinition is inactive")
        overrides = req.overrides or TaskOverride()
        check_request(req, definition, overrides)
        return cluster_arn, definition, overrides, self.placer.place(req, cluster_arn, definition)

    def _make(
        self, checked: list[Checked], answers: list[Recorded | AwsError | None]
    ) -> dict[str, tuple[TaskDefinition, list[Task]]]:
        """The batch's new tasks by client token (a token used before in the request's account and Region answers
        with its tasks, or a Conflict)."""
        tokens = [req.client_token for _, req, *_ in checked if req.client_token]
        self.ecs.db.serialize(*(f"ecs.client-token:{token}" for token in tokens))  # the look-up and the insert
        used = self.ecs.tasks.used_tokens(tokens)
        made: dict[str, tuple[TaskDefinition, list[Task]]] = {}
        for index, req, cluster_arn, definition, overrides, placement in checked:
            shortfall = placement_failure(definition, overrides)
            failures = placer.failures(req, cluster_arn, placement) if placement is not None else []
            token = f"{req.account}:{req.region}:{req.client_token or f'no-token-{index}'}"  # tokens are per Region
            replayed = self._replayed(req, cluster_arn) if req.client_token in used else None
            if shortfall is not None:
                answers[index] = Recorded((), [Failure(cluster_arn, *shortfall)])
            elif placement is not None and not placement.instances:
                answers[index] = Recorded((), failures)
            elif replayed is not None:
                answers[index] = replayed
            elif token in made:  # the same token twice in one batch: the first one's tasks, as a replay would
                tasks = made[token][1]
                same = tasks[0].cluster_arn == cluster_arn and tasks[0].request_fingerprint == fingerprint(req)
                answers[index] = Recorded(tuple(t.task_arn for t in tasks)) if same else _conflict()
            else:
                tasks = self._new_tasks(req, cluster_arn, definition, overrides, placement)
                made[token] = (definition, tasks)
                starts = [(t, definition) for t in tasks]
                answers[index] = Recorded(tuple(t.task_arn for t in tasks), failures, starts)
        return made

    def _replayed(self, req: RunTaskRequest, cluster_arn: str) -> Recorded | AwsError | None:
        """A used token's earlier tasks (or its Conflict); None when it was used in another account or Region."""
        try:
            previous = self._replay(req, cluster_arn)
        except AwsError as err:
            return err
        return None if previous is None else Recorded(tuple(t.task_arn for t in previous.tasks))

    def start_tasks(self, starts: list[TaskStart]) -> None:
        """Start recorded tasks' containers, on the pooled task threads."""
        for task, definition in starts:
            live = LiveTask(self, task, definition)
            self.follow(live, live.run)
        self._expire_old_tasks()

    def follow(self, live: LiveTask, body: Callable[[], None]) -> None:
        """Run a live task's lifecycle (`body`) on a pooled thread; it is ours until it ends."""
        with self._lock:
            self._live[live.task.task_arn] = live
            waiting = self._stops_waiting.pop(live.task.task_arn, None)
        if waiting is not None:  # a StopTask that came while the task was being taken over
            live.request_stop(*waiting)
        self.threads.submit(live.task.task_id[:8], body)

    def _expire_old_tasks(self) -> None:
        """Stopped tasks are kept for --task-retention (the ECS API shows them for an hour, as ECS does), their
        outcomes longer; swept at most once a minute."""
        now = self.clock.now()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            self.ecs.tasks.expire_stopped(now - self.task_retention)
            self.outcomes.expire(now - max(self.task_retention, KEEP_SECONDS))
            self.task_events.expire(now - TASK_EVENT_TTL)

    def _replay(self, req: RunTaskRequest, cluster_arn: str) -> RunTaskResult | None:
        assert req.client_token is not None
        previous = [t for t in self.ecs.tasks.by_client_token(req.client_token) if req.scope.owns(t.task_arn)]
        if not previous:
            return None
        expected = fingerprint(req)
        if any(t.cluster_arn != cluster_arn or t.request_fingerprint != expected for t in previous):
            raise Conflict("The specified client token has already been used with different parameters.")
        return RunTaskResult(tasks=previous)

    def logs_of(self, task: Task, options: AwsLogsOptions) -> LogService:
        """CloudWatch Logs where a container's awslogs lines go: the task's account, the awslogs-region (else the
        task's own Region)."""
        home = scopes.of_arn(task.task_arn) or HOME
        return self.logs.at(Scope(home.account, options.region or home.region))

    # StopTask -------------------------------------------------------------
    def stop_task(self, scope: Scope, cluster_ref: str | None, task_ref: str, reason: str | None) -> Task:
        """StopTask: this process stops a task it runs; another live process is asked to stop its own; a task whose
        process died is taken over first (adopted, then stopped, or settled as abandoned)."""
        cluster = self.ecs.cluster(scope, cluster_ref)
        task = self.ecs.task(cluster, task_ref)
        why = reason or "Task stopped by user"
        live = self._live_task(task.task_arn)
        if live is None and task.last_status != TaskStatus.STOPPED:
            live = self._stop_elsewhere(task, why)
        if live is not None:
            return live.request_stop(why, StopCode.USER_INITIATED)
        found = self.ecs.task(cluster, task.task_arn)
        if found.last_status != TaskStatus.STOPPED and found.desired_status != "STOPPED":
            found = dataclasses.replace(found, desired_status="STOPPED")  # asked; its process acts on it soon
        return found

    def _live_task(self, task_arn: str) -> LiveTask | None:
        with self._lock:
            return self._live.get(task_arn)

    def _stop_elsewhere(self, task: Task, reason: str) -> LiveTask | None:
        """Ask the task's owner to stop it (waiting until it has), or take the task over when its owner is dead; a
        LiveTask when this process now runs it. Another process may take the task over at the same moment (the
        lease holder's look for orphans): the stop then goes to whoever won."""
        for _ in range(STOP_ELSEWHERE_TRIES):
            owner = self.peers.owner(task.task_arn)
            if owner == self.peers.id:  # ours a moment ago, or taken over just now: stopped once it is followed
                return self._stop_when_followed(task.task_arn, reason, StopCode.USER_INITIATED)
            if owner is not None and self.peers.is_alive(owner):
                body = {"reason": reason, "code": StopCode.USER_INITIATED.value}
                self.peers.ask(owner, STOP_TASK, task.task_arn, body, STOP_ELSEWHERE_WAIT)
                return None
            live = recovery.take_over(self, task, owner)
            if live is not None or self.peers.owner(task.task_arn) in (None, self.peers.id):
                return live  # ours now, or settled as abandoned
        return None

    def _stop_when_followed(self, task_arn: str, reason: str, code: StopCode) -> LiveTask | None:
        """The live task when this process follows it already; else the stop is kept until it does (`follow`)."""
        with self._lock:
            live = self._live.get(task_arn)
            if live is None:
                self._stops_waiting[task_arn] = (reason, code)
        return live

    def stop_requested(self, request: ControlRequest) -> None:
        """Another process asked this one to stop a task it runs (its inbox calls this); a task this process is
        taking over at this moment is stopped as soon as it follows it."""
        code = StopCode(request.body.get("code") or StopCode.USER_INITIATED.value)
        reason = str(request.body.get("reason") or "Task stopped by user")
        task = self.ecs.tasks.get(request.subject)
        if task is None or task.last_status == TaskStatus.STOPPED:
            return
        live = self._stop_when_followed(request.subject, reason, code)
        if live is not None:
            live.request_stop(reason, code)

    def set_task_tags(self, task_arn: str, tags: list[Tag]) -> None:
        """TagResource / UntagResource on a task: its tags replaced, through the lifecycle's own writer (a live task
        keeps the tags in the steps it records next)."""
        with self._lock:
            live = self._live.get(task_arn)
        if live is not None:
            live.set_tags(tags)
            return
        task = self.ecs.tasks.get(task_arn)
        if task is None:
            raise ClientError("The referenced task was not found.")
        self.transition(dataclasses.replace(task, tags=tags or None), durable=True).wait()

    def stop_all(self) -> None:
        with self._lock:
            live = list(self._live.values())
        asked = [task.ask_stop("cronbridge is resetting", StopCode.USER_INITIATED)[0] for task in live]
        for pending in asked:
            pending.wait()
        for task in live:
            task.done.wait(5)

    def start_sweeper(self) -> None:
        """Sweep stopped tasks past the retention once a minute, even on a server that launches nothing."""
        if self._sweeper is None:
            self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True, name="task-sweeper")
            self._sweeper.start()

    def _sweep_forever(self) -> None:
        while not self._closing.wait(SWEEP_EVERY):
            try:
                self._expire_old_tasks()
            except Exception:  # the database is closing, or busy: the next round tries again
                log.exception("sweeping stopped tasks failed")

    def close(self) -> None:
        self._closing.set()
        if self._sweeper is not None and self._sweeper is not threading.current_thread():
            self._sweeper.join(5)  # gone when close returns (a sweep under way finishes first)
        self.stop_all()
        self.writes.close()

    def recover(self) -> None:
        """Unfinished tasks whose process died (or that no process owns: a database of an older release): adopted
        where the launcher can, else stopped with a reason. Tasks of live processes are theirs."""
        recovery.recover(self)

    def recover_from_dead_peers(self) -> None:
        """The tasks of processes that died since the last look (cheap when none did)."""
        recovery.recover_dead_peers(self)

    def forget(self, task_arn: str) -> None:
        with self._lock:
            self._live.pop(task_arn, None)
            self._stops_waiting.pop(task_arn, None)

    def transition(self, task: Task, durable: bool) -> Pending:
        """Queue the task's state and its "ECS Task State Change" record; a durable step is committed once the
        returned Pending is waited for (at once inside the caller's transaction), the others within milliseconds
        (and before anyone reads tasks)."""
        return self.writes.enqueue(task, self.clock.now(), durable)


def _conflict() -> Conflict:
    return Conflict("The specified client token has already been used with different parameters.")
