"""Explanations, pure: every statement of every evaluated policy (identity, permissions boundary, session), and
what of it matched the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cronbridge.iam.conditions import condition_holds
from cronbridge.iam.evaluate import (
    Decision,
    NamedPolicy,
    Request,
    Scope,
    action_matches,
    context_of,
    evaluate,
    resource_matches,
)
from cronbridge.iam.policy import Statement


@dataclass(frozen=True)
class StatementCheck:
    """One statement against the request: which of its parts matched."""

    policy: str
    index: int
    sid: str | None
    effect: str
    summary: str
    action: bool
    resource: bool
    conditions: bool
    scope: Scope = "identity"

    @property
    def applies(self) -> bool:
        return self.action and self.resource and self.conditions

    def line(self) -> str:
        """`Allow ecs:RunTask on arn:...`: why it did or did not apply."""
        name = f"statement {self.index + 1}" + (f" (Sid {self.sid})" if self.sid else " (no Sid)")
        if self.applies:
            verdict = "applies"
        elif not self.action:
            verdict = "does not apply: action not matched"
        elif not self.resource:
            verdict = "does not apply: resource not matched"
        else:
            verdict = "does not apply: condition not met"
        return f"{self.policy} {name}: {self.summary} -- {verdict}"

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "statement": self.index + 1,
            "sid": self.sid,
            "effect": self.effect,
            "summary": self.summary,
            "actionMatched": self.action,
            "resourceMatched": self.resource,
            "conditionsMet": self.conditions,
            "applies": self.applies,
            "policyType": _POLICY_TYPES[self.scope],
        }


_POLICY_TYPES = {"identity": "identity", "boundary": "permissionsBoundary", "session": "session",
                 "trust": "trust"}


def _summary(statement: Statement) -> str:
    actions = (
        ", ".join(statement.actions)
        if statement.actions is not None
        else ("anything but " + ", ".join(statement.not_actions or ()))
    )
    if statement.resources is not None:
        resources = ", ".join(statement.resources)
    elif statement.not_resources is not None:
        resources = "anything but " + ", ".join(statement.not_resources)
    else:
        resources = "*"
    conditions = (
        " if " + " and ".join(f"{c.operator} {c.key}" for c in statement.conditions) if statement.conditions else ""
    )
    return f"{statement.effect} {actions} on {resources}{conditions}"


def check_statements(request: Request, policies: Sequence[NamedPolicy], scope: Scope = "identity"
                     ) -> list[StatementCheck]:
    """Every statement of `policies` (of one kind: identity, boundary or session) checked against `request`."""
    context = context_of(request)
    found = []
    for named in policies:
        variables = context if named.policy.uses_variables else None
        for index, s in enumerate(named.policy.statements):
            found.append(
                StatementCheck(
                    named.name,
                    index,
                    s.sid,
                    s.effect,
                    _summary(s),
                    action_matches(s, request.action),
                    resource_matches(s, request.resource, variables),
                    all(condition_holds(c, context, variables) for c in s.conditions),
                    scope,
                )
            )
    return found


@dataclass(frozen=True)
class Explanation:
    """A decision with the AWS message, the deciding statements and every statement evaluated."""

    request: Request
    decision: Decision
    checks: tuple[StatementCheck, ...]
    session_checks: tuple[StatementCheck, ...] = ()
    boundary_checks: tuple[StatementCheck, ...] = ()
    boundary: str | None = None  # the permissions boundary's name (its policy ARN), when the principal has one

    @property
    def message(self) -> str:
        return self.decision.message(self.request.principal_arn, self.request.action, self.request.resource)

    def text(self) -> str:
        """The decision, then every evaluated statement and whether it applied."""
        head = (
            "ALLOWED"
            if self.decision.allowed
            else ("DENIED (explicit deny)" if self.decision.effect == "ExplicitDeny" else "DENIED (implicit deny)")
        )
        lines = [f"{head}: {self.request.principal_arn} -> {self.request.action} on {self.request.resource}"]
        if not self.decision.allowed:
            lines.append(self.message)
        return "\n".join([*lines, self.details()])

    def details(self) -> str:
        """Which statements decided, then every statement evaluated and why it did or did not apply."""
        lines = [self.decision.explain()]
        lines.append("Statements evaluated:" if self.checks else "Statements evaluated: none (no policy attached)")
        lines += [f"  - {c.line()}" for c in self.checks]
        if self.boundary is not None:
            lines.append(f"Permissions boundary {self.boundary}:")
            lines += [f"  - {c.line()}" for c in self.boundary_checks]
        if self.session_checks:
            lines.append("Session policy statements:")
            lines += [f"  - {c.line()}" for c in self.session_checks]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.request.principal_arn,
            "action": self.request.action,
            "resource": self.request.resource,
            "decision": self.decision.effect,
            "allowed": self.decision.allowed,
            "message": None if self.decision.allowed else self.message,
            "decidingStatements": [
                {"policy": d.policy, "sid": d.sid, "effect": d.effect} for d in self.decision.statements
            ],
            "permissionsBoundary": self.boundary,
            "evaluatedStatements": [c.to_json() for c in self.checks + self.boundary_checks + self.session_checks],
            "explanation": self.text(),
        }


def explain(
    request: Request,
    identity: Sequence[NamedPolicy],
    session: Sequence[NamedPolicy] | None = None,
    boundary: NamedPolicy | None = None,
) -> Explanation:
    """Evaluate and explain one request: identity policies, the permissions boundary, the session policies."""
    decision = evaluate(request, identity, session, boundary)
    return Explanation(
        request,
        decision,
        tuple(check_statements(request, identity)),
        tuple(check_statements(request, session or (), "session")),
        tuple(check_statements(request, [boundary] if boundary else (), "boundary")),
        boundary.name if boundary else None,
    )
