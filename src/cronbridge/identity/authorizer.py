"""Authorization against the identity store: API calls, scheduled launches, execution roles, task credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from cronbridge import arn as arns
from cronbridge.ecs.runtime.awslogs import AwsLogsOptions
from cronbridge.errors import AccessDenied, AwsError, LaunchError
from cronbridge.iam import NamedPolicy, Policy, Request, evaluate, trust_allows
from cronbridge.iam.explain import Explanation, explain
from cronbridge.identity.model import Principal
from cronbridge.model.ecs import Task, TaskDefinition, TaskOverride

if TYPE_CHECKING:
    from cronbridge.clock import Clock
    from cronbridge.config import Settings
    from cronbridge.ecs.runtime.runner import RunTaskRequest
    from cronbridge.ecs.service import EcsService
    from cronbridge.identity.service import IdentityService

log = logging.getLogger("cronbridge.authz")
ECS_TASKS = "ecs-tasks.amazonaws.com"
CREDENTIALS_PATH = "/_cronbridge/task-credentials"
TASK_CREDENTIALS_SECONDS = 6 * 3600
MAX_LAUNCH_DECISIONS = 10000  # allowed scheduled launches remembered (per identity generation)
EVENTS = "events.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"


class PolicySource(Protocol):
    """What authorization needs from the identity store."""

    def policies_for(self, principal: str | Principal) -> tuple[list[NamedPolicy], list[NamedPolicy] | None]:
        """The identity policies (managed and inline) of a user or role (session), and its session policies."""
        ...

    def boundary_for(self, principal: str | Principal) -> NamedPolicy | None:
        """The permissions boundary of a user, or of the role of a role session; None when it has none."""
        ...

    def trust_policy(self, role_arn: str) -> Policy | None:
        """A role's trust policy; None when the role does not exist."""
        ...

    def generation(self) -> int:
        """A number that changes whenever a user, role, policy or attachment changes (decisions may be reused
        while it stays the same)."""
        ...


class CredentialIssuer(Protocol):
    """STS for a service: temporary credentials of a role, as AssumeRole returns them."""

    def issue_role_credentials(self, role_arn: str, session_name: str, duration_seconds: int) -> dict[str, str]:
        """{AccessKeyId, SecretAccessKey, Token, Expiration (ISO 8601)}; AwsError when the role cannot be assumed."""
        ...


class InvocationDenied(AccessDenied):
    """A scheduled launch refused by IAM: not retried; the message carries the full explanation."""

    code = "AccessDeniedException"
    status = 400


@dataclass(frozen=True)
class LaunchPlan:
    """What a rule or schedule asks to launch, in IAM's terms."""

    role_arn: str | None
    service_principal: str  # events.amazonaws.com or scheduler.amazonaws.com
    source_arn: str
    account: str
    task_definition: TaskDefinition
    overrides: TaskOverride | None = None
    cluster_arn: str | None = None
    tags: Sequence[str] = ()
    propagate_tags: bool = False


def assumed_role_arn(role_arn: str, session: str) -> str:
    """`arn:aws:iam::A:role/path/Name` -> `arn:aws:sts::A:assumed-role/Name/session`."""
    parsed = arns.parse(role_arn)
    account = parsed.account if parsed else ""
    name = (parsed.resource if parsed else role_arn).rsplit("/", 1)[-1]
    return f"arn:aws:sts::{account}:assumed-role/{name}/{session}"


class Authorizer:
    """Decides requests with the identity store's policies; raises AWS's refusals; explains each decision."""

    def __init__(
        self,
        source: PolicySource,
        enforcing: bool = True,
        issuer: CredentialIssuer | None = None,
        base_url: str | None = None,
        token_key: bytes | None = None,
    ) -> None:
        if issuer is not None and not token_key:
            raise ValueError("an authorizer that issues task-role credentials needs the key their tokens are made with")
        self.source = source
        self.enforcing = enforcing
        self.issuer = issuer
        self.base_url = base_url
        self.token_key = token_key or b""  # task-role tokens are derived with it: any server process checks them
        self._launches: dict[tuple[Any, ...], tuple[int, str]] = {}  # allowed launch -> (generation, session)

    # decisions ------------------------------------------------------------------------------------
    def explain(
        self, principal: str | Principal, action: str, resource: str, context: dict[str, str | list[str]] | None = None
    ) -> Explanation:
        """May `principal` (an ARN, or a verified caller with its session policies) do `action` on `resource`."""
        arn = principal if isinstance(principal, str) else principal.arn
        keys: dict[str, str | list[str]] = {} if isinstance(principal, str) else dict(principal.condition_keys)
        request = Request(action, resource, arn, {**keys, **(context or {})})
        identity, session = self.source.policies_for(principal)
        return explain(request, identity, session, self.source.boundary_for(principal))

    def first_refusal(
        self, principal: str | Principal, action: str, resources: Sequence[str], context: dict[str, Any]
    ) -> str | None:
        """AWS's message for the first resource `principal` may not act on; None when all are allowed (fast path:
        evaluation only, no explanation)."""
        arn = principal if isinstance(principal, str) else principal.arn
        keys: dict[str, Any] = {} if isinstance(principal, str) else dict(principal.condition_keys)
        identity, session = self.source.policies_for(principal)
        boundary = self.source.boundary_for(principal)
        for resource in resources:
            decision = evaluate(Request(action, resource, arn, {**keys, **context}), identity, session, boundary)
            if not decision.allowed:
                return decision.message(arn, action, resource)
        return None

    def check(
        self,
        principal_arn: str | Principal,
        action: str,
        resource: str,
        context: dict[str, str | list[str]] | None = None,
    ) -> Explanation:
        """The explanation when allowed; AccessDenied with AWS's message otherwise."""
        found = self.explain(principal_arn, action, resource, context)
        if not found.decision.allowed:
            raise AccessDenied(found.message)
        return found

    # scheduled launches -----------------------------------------------------------------------------
    def authorize_launch(self, plan: LaunchPlan) -> str | None:
        """Assume the target's role and authorize RunTask as it; the session ARN, or InvocationDenied saying why.
        An allowed launch is remembered until the identity store changes (a thousand targets of one role and task
        definition are decided once); a refusal is decided, and explained, every time."""
        if not self.enforcing:
            return None
        if not plan.role_arn:
            raise InvocationDenied(
                f"The target has no RoleArn: {plan.service_principal} cannot run ECS tasks without a role to assume."
            )
        generation, key = self.source.generation(), _launch_key(plan)
        remembered = self._launches.get(key)
        if remembered is not None and remembered[0] == generation:
            return remembered[1]
        self._check_trust(plan)
        session = assumed_role_arn(plan.role_arn, _session_name(plan.source_arn))
        for action, resource, context in launch_needs(plan):
            refused = self._refusal(session, action, resource, context)
            if refused is not None:
                raise InvocationDenied(
                    f"{refused.message}\n{refused.details()}\n{plan.service_principal} assumed role {plan.role_arn} "
                    f"for {plan.source_arn} (its trust policy allows it), then asked for {action} on {resource} as "
                    f"{session}."
                )
        if len(self._launches) >= MAX_LAUNCH_DECISIONS:
            self._launches.clear()
        self._launches[key] = (generation, session)
        return session

    def _refusal(self, principal: str, action: str, resource: str, context: dict[str, Any]) -> Explanation | None:
        """None when allowed (evaluation only); the full explanation of a refusal."""
        identity, session = self.source.policies_for(principal)
        boundary = self.source.boundary_for(principal)
        if evaluate(Request(action, resource, principal, dict(context)), identity, session, boundary).allowed:
            return None
        return self.explain(principal, action, resource, context)

    def authorize_rule_launch(
        self,
        ecs: EcsService,
        source_arn: str,
        role_arn: str | None,
        request: RunTaskRequest,
        service_principal: str = EVENTS,
    ) -> str | None:
        """authorize_launch for a rule's (or a schedule's) ECS target, from the RunTask it will make."""
        if not self.enforcing:
            return None
        definition = ecs.task_definition(request.scope, request.task_definition)  # a family -> latest revision
        try:
            cluster_arn: str | None = ecs.cluster(request.scope, request.cluster).cluster_arn
        except AwsError:
            cluster_arn = None
        plan = LaunchPlan(
            role_arn,
            service_principal,
            source_arn,
            request.account,
            definition,
            request.overrides,
            cluster_arn,
            [t.key for t in request.tags or [] if t.key],
            bool(request.propagate_tags),
        )
        return self.authorize_launch(plan)

    def authorize_invoke(
        self, role_arn: str | None, service_principal: str, source_arn: str, action: str, resource: str
    ) -> None:
        """A schedule's target other than ECS (SQS SendMessage, EventBridge PutEvents, ...): the target's role must be
        assumable by the service and allowed `action` on `resource`; InvocationDenied saying why otherwise."""
        if not self.enforcing:
            return
        if not role_arn:
            raise InvocationDenied(f"The target has no RoleArn: {service_principal} cannot call {action} without one.")
        account = source_arn.split(":")[4] if source_arn.count(":") >= 5 else ""
        self._check_role_trust(role_arn, service_principal, source_arn, account)
        session = assumed_role_arn(role_arn, _session_name(source_arn))
        refused = self._refusal(session, action, resource, {})
        if refused is not None:
            raise InvocationDenied(
                f"{refused.message}\n{refused.details()}\n{service_principal} assumed role {role_arn} for "
                f"{source_arn} (its trust policy allows it), then asked for {action} on {resource} as {session}."
            )

    def _check_trust(self, plan: LaunchPlan) -> None:
        assert plan.role_arn is not None
        self._check_role_trust(plan.role_arn, plan.service_principal, plan.source_arn, plan.account)

    def _check_role_trust(self, role_arn: str, service_principal: str, source_arn: str, account: str) -> None:
        trust = self.source.trust_policy(role_arn)
        if trust is None:
            raise InvocationDenied(f"{service_principal} cannot assume role {role_arn}: the role does not exist.")
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": account}
        decision = trust_allows(
            trust, {"Service": service_principal}, context=context, name=f"trust policy of {role_arn}"
        )
        if not decision.allowed:
            raise InvocationDenied(
                f"{service_principal} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}: the role's trust policy does not allow the service principal "
                f"{service_principal}\n{decision.explain()}"
            )

    # execution roles ------------------------------------------------------------------------------
    def check_execution_role(
        self, definition: TaskDefinition, task_id: str, region: str, overrides: TaskOverride | None = None
    ) -> None:
        """awslogs needs the execution role's logs permissions; LaunchError(ResourceInitializationError) if not."""
        if not self.enforcing:
            return
        role = (overrides.execution_role_arn if overrides else None) or definition.execution_role_arn
        for container in definition.container_definitions:
            config = container.log_configuration
            if config is None or config.log_driver != "awslogs":
                continue
            options = AwsLogsOptions.from_options(config.options)
            if not role:
                raise LaunchError(
                    "ResourceInitializationError",
                    "unable to create the awslogs log stream: "
                    "the task definition has no execution role to write to log group "
                    f"{options.group}",
                )
            stream = options.stream_name(container.name, task_id, "")
            self._check_logs(role, definition, options, stream, config.options.get("awslogs-region") or region)

    def check_task_start(self, task: Task, definition: TaskDefinition) -> None:
        """Before a task's containers start: its execution role may write its logs (LaunchError if not)."""
        region = (arns.parse(task.task_arn) or arns.Arn("ecs", "", "", "")).region
        self.check_execution_role(definition, task.task_id, region, task.overrides)

    def task_environment(self, task: Task, definition: TaskDefinition) -> dict[str, str]:
        """The variables that point a task's SDKs at its task role's credentials (none without a task role)."""
        role = (task.overrides.task_role_arn if task.overrides else None) or definition.task_role_arn
        if not role or self.issuer is None or self.base_url is None:
            return {}
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{self.base_url}{CREDENTIALS_PATH}/{task.task_id}",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self._token(task.task_id, role),
        }

    def _token(self, task_id: str, role: str) -> str:
        """The task's role, and a MAC of task and role with the key every server process shares: a token any
        process (and this one after a restart) can check, and nobody without the key can make."""
        named = base64.urlsafe_b64encode(role.encode()).decode().rstrip("=")
        mac = hmac.new(self.token_key, f"{task_id}\n{role}".encode(), hashlib.sha256).hexdigest()
        return f"{named}.{mac}"

    def _role_of_token(self, task_id: str, token: str) -> str | None:
        named, _, _mac = token.partition(".")
        try:
            role = base64.urlsafe_b64decode(named + "=" * (-len(named) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return role if hmac.compare_digest(self._token(task_id, role).encode(), token.encode()) else None

    def task_credentials(self, task_id: str, token: str) -> dict[str, str]:
        """The task role's temporary credentials for the holder of the task's token, as ECS's endpoint serves them."""
        role = self._role_of_token(task_id, token) if self.issuer is not None else None
        if role is None or self.issuer is None:
            raise AccessDenied("Invalid or missing authorization token for this task's credentials.")
        if self.enforcing:
            self._check_task_trust(role)
        found = self.issuer.issue_role_credentials(role, f"ecs-task-{task_id}"[:64], TASK_CREDENTIALS_SECONDS)
        return {"RoleArn": role, **found}

    def _check_task_trust(self, role: str) -> None:
        trust = self.source.trust_policy(role)
        decision = trust_allows(trust, {"Service": ECS_TASKS}) if trust is not None else None
        if decision is None or not decision.allowed:
            raise AccessDenied(f"{ECS_TASKS} is not authorized to perform: sts:AssumeRole on resource: {role}")

    def _check_logs(
        self, role: str, definition: TaskDefinition, options: AwsLogsOptions, stream: str, region: str
    ) -> None:
        session = assumed_role_arn(role, task_session(definition))
        account = (arns.parse(definition.task_definition_arn) or arns.Arn("ecs", region, "", "")).account
        wanted = [("logs:CreateLogStream", stream), ("logs:PutLogEvents", stream)]
        if options.create_group:
            wanted.insert(0, ("logs:CreateLogGroup", ""))
        for action, stream_name in wanted:
            resource = arns.build("logs", region, account, f"log-group:{options.group}:log-stream:{stream_name}")
            found = self._refusal(session, action, resource, {})
            if found is not None:
                raise LaunchError(
                    "ResourceInitializationError",
                    "failed to validate logger args: AccessDeniedException: "
                    f"{found.message} (the task's execution role {role} needs {action} on its "
                    f"log group {options.group})",
                )


def task_session(definition: TaskDefinition) -> str:
    """ECS names an execution/task role session after the task; we use the family (<= 64 chars)."""
    return f"ecs-{definition.family}"[:64]


def _session_name(source_arn: str) -> str:
    """EventBridge's session for a target; we name it after the rule or schedule."""
    return source_arn.rsplit("/", 1)[-1][:64] or "events"


def _launch_key(plan: LaunchPlan) -> tuple[Any, ...]:
    """Everything a launch decision depends on (see launch_needs), as a dictionary key."""
    definition, overrides = plan.task_definition, plan.overrides or TaskOverride()
    return (
        plan.role_arn,
        plan.service_principal,
        plan.source_arn,
        plan.account,
        definition.task_definition_arn,
        definition.execution_role_arn,
        definition.task_role_arn,
        overrides.execution_role_arn,
        overrides.task_role_arn,
        plan.cluster_arn,
        tuple(plan.tags),
        plan.propagate_tags,
    )


def launch_needs(plan: LaunchPlan) -> list[tuple[str, str, dict[str, Any]]]:
    """RunTask on the revisioned task definition, PassRole for every role handed to ECS, TagResource for tags."""
    definition = plan.task_definition
    run_context: dict[str, Any] = {"ecs:cluster": plan.cluster_arn} if plan.cluster_arn else {}
    found: list[tuple[str, str, dict[str, Any]]] = [("ecs:RunTask", definition.task_definition_arn, run_context)]
    overrides = plan.overrides or TaskOverride()
    roles = [
        definition.execution_role_arn,
        definition.task_role_arn,
        overrides.execution_role_arn,
        overrides.task_role_arn,
    ]
    seen: list[str] = []
    for role in roles:
        if role and role not in seen:
            seen.append(role)
            found.append(("iam:PassRole", role, {"iam:PassedToService": ECS_TASKS}))
    if plan.tags or plan.propagate_tags:
        cluster = (plan.cluster_arn or "").rsplit("/", 1)[-1] or "default"
        task = definition.task_definition_arn.split(":task-definition/")[0] + f":task/{cluster}/*"
        found.append(("ecs:TagResource", task, {"ecs:CreateAction": "RunTask", "aws:TagKeys": list(plan.tags)}))
    return found


class IdentityPolicies:
    """The identity store as a PolicySource and a CredentialIssuer."""

    def __init__(self, identity: IdentityService, clock: Clock) -> None:
        self.identity = identity
        self.clock = clock

    def principal(self, arn: str) -> Principal:
        """The principal an ARN names: a user, a role (or one of its sessions), or the account root."""
        parsed = arns.parse(arn)
        account = parsed.account if parsed else self.identity.account
        resource = parsed.resource if parsed else arn
        kind, _, rest = resource.partition("/")
        if kind == "user":
            return Principal(arn, "user", rest.rsplit("/", 1)[-1], account, "")
        if kind == "role":
            return Principal(arn, "assumed-role", rest.rsplit("/", 1)[-1], account, "", role_arn=arn)
        if kind == "assumed-role":
            role, _, session = rest.partition("/")
            return Principal(arn, "assumed-role", role, account, "", session_name=session)
        if resource == "root":
            return self.identity.root()
        return Principal(arn, "service", arn, account, "")

    def policies_for(self, principal: str | Principal) -> tuple[list[NamedPolicy], list[NamedPolicy] | None]:
        found = self.principal(principal) if isinstance(principal, str) else principal
        return self.identity.policies_for(found), list(found.session_policies) or None

    def boundary_for(self, principal: str | Principal) -> NamedPolicy | None:
        return self.identity.boundary_for(self.principal(principal) if isinstance(principal, str) else principal)

    def generation(self) -> int:
        return self.identity.generation

    def trust_policy(self, role_arn: str) -> Policy | None:
        return self.identity.trust_policy(role_arn)

    def issue_role_credentials(self, role_arn: str, session_name: str, duration_seconds: int) -> dict[str, str]:
        role = self.identity.get_role(role_arn)
        creds = self.identity.assume_role(
            role_arn, session_name, min(duration_seconds, role.max_session_duration), caller=ECS_TASKS
        )
        expires = time.time() + (creds.expires_at - self.clock.now())  # the SDK compares with the wall clock
        stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "Token": creds.session_token,
            "Expiration": stamp,
        }


def authorizer_for(identity: IdentityService, clock: Clock, settings: Settings, token_key: bytes) -> Authorizer:
    """The server's authorizer: enforcing unless the server runs in open mode; task-role tokens made with
    `token_key` (one per database, shared by its server processes)."""
    source = IdentityPolicies(identity, clock)
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    return Authorizer(
        source, enforcing=settings.auth != "open", issuer=source, base_url=f"http://{host}:{settings.port}",
        token_key=token_key,
    )
