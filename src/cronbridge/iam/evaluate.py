"""Policy evaluation: explicit deny > allow > implicit deny, with the deciding statements named."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cronbridge.iam.conditions import Context, condition_holds
from cronbridge.iam.policy import Policy, Statement
from cronbridge.iam.wildcard import compile_pattern

Effect = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
Scope = Literal["identity", "session", "trust"]
_SCOPE_WORDS = {"identity": "an identity-based policy", "session": "a session policy",
                "trust": "a resource-based policy"}
_NO_ALLOW_WORDS = {"identity": "no identity-based policy", "session": "no session policy",
                   "trust": "no resource-based policy"}


@dataclass(frozen=True)
class NamedPolicy:
    """A policy with the name it is reported under ("arn:...:policy/X" or "inline:Role/Name")."""

    name: str
    policy: Policy


@dataclass(frozen=True)
class Request:
    """What is asked: the action on the resource by the principal, with its condition keys."""

    action: str
    resource: str
    principal_arn: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Deciding:
    """One statement that decided: its policy's name, its Sid (may be None) and its effect."""

    policy: str
    sid: str | None
    effect: Literal["Allow", "Deny"]

    def __iter__(self) -> Iterator[str | None]:
        """Unpacks as (policy name, sid, effect)."""
        return iter((self.policy, self.sid, self.effect))


@dataclass(frozen=True)
class Decision:
    """The answer, the statements that gave it, and which kind of policy decided."""

    effect: Effect
    statements: tuple[Deciding, ...] = ()
    scope: Scope = "identity"

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"

    def explain(self) -> str:
        """A human account of the decision, naming each deciding statement."""
        if self.effect == "ImplicitDeny":
            return f"Implicitly denied: {_NO_ALLOW_WORDS[self.scope]} allows the request."
        verb = "Allowed" if self.allowed else "Explicitly denied"
        lines = [f"{verb} by:"]
        lines += [f"  - {d.effect} statement {d.sid or '(no Sid)'} in {d.policy}"
                  for d in self.statements]
        return "\n".join(lines)

    def message(self, principal_arn: str, action: str, resource: str) -> str:
        """AWS's AccessDenied message for this decision."""
        head = (f"User: {principal_arn} is not authorized to perform: {action} "
                f"on resource: {resource}")
        if self.effect == "ExplicitDeny":
            return f"{head} with an explicit deny in {_SCOPE_WORDS[self.scope]}"
        return f"{head} because {_NO_ALLOW_WORDS[self.scope]} allows the {action} action"


def evaluate(request: Request, identity_policies: Sequence[NamedPolicy],
             session_policies: Sequence[NamedPolicy] | None = None) -> Decision:
    """Decide a request against identity policies and, for assumed roles, session policies.

    Session policies, when any are given, limit: an action needs an allow in both sets.
    """
    identity = _matching(request, identity_policies)
    session = _matching(request, session_policies or ())
    if _denies(identity):
        return Decision("ExplicitDeny", _denies(identity), "identity")
    if _denies(session):
        return Decision("ExplicitDeny", _denies(session), "session")
    allows = tuple(d for d in identity if d.effect == "Allow")
    if not allows:
        return Decision("ImplicitDeny", (), "identity")
    if session_policies:
        if not session:
            return Decision("ImplicitDeny", (), "session")
        allows += tuple(d for d in session if d.effect == "Allow")
    return Decision("Allow", allows, "identity")


def trust_allows(trust_policy: Policy, principal: Mapping[str, str],
                 action: str = "sts:AssumeRole",
                 context: Mapping[str, str | list[str]] | None = None,
                 name: str = "trust policy") -> Decision:
    """Whether a role's trust policy lets `principal` (e.g. {"Service": "events.amazonaws.com"})."""
    arn = principal.get("AWS", next(iter(principal.values()), ""))
    request = Request(action, "", arn, dict(context or {}))
    found = [Deciding(name, s.sid, s.effect) for s in trust_policy.statements
             if _principal_matches(s, principal) and statement_applies(s, trust_policy, request)]
    if _denies(found):
        return Decision("ExplicitDeny", _denies(found), "trust")
    if found:
        return Decision("Allow", tuple(found), "trust")
    return Decision("ImplicitDeny", (), "trust")


def _denies(found: Sequence[Deciding]) -> tuple[Deciding, ...]:
    return tuple(d for d in found if d.effect == "Deny")


def _matching(request: Request, policies: Sequence[NamedPolicy]) -> list[Deciding]:
    return [Deciding(named.name, s.sid, s.effect) for named in policies
            for s in named.policy.statements if statement_applies(s, named.policy, request)]


def statement_applies(statement: Statement, policy: Policy, request: Request) -> bool:
    """Whether a statement's action, resource and conditions all match the request."""
    context = context_of(request)
    variables = context if policy.uses_variables else None
    return (action_matches(statement, request.action)
            and resource_matches(statement, request.resource, variables)
            and all(condition_holds(c, context, variables) for c in statement.conditions))


def context_of(request: Request) -> Context:
    """The request's condition keys, with aws:PrincipalArn filled in from the request."""
    if not request.principal_arn:
        return request.context
    return {"aws:PrincipalArn": request.principal_arn, **request.context}


def action_matches(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(_glob(p, action, None, False) for p in statement.actions)
    return not any(_glob(p, action, None, False) for p in statement.not_actions or ())


def resource_matches(statement: Statement, resource: str, variables: Context | None) -> bool:
    if statement.resources is not None:
        return any(_arn(p, resource, variables) for p in statement.resources)
    if statement.not_resources is not None:
        return not any(_arn(p, resource, variables) for p in statement.not_resources)
    return True  # trust policies have no Resource


def _glob(pattern_text: str, value: str, variables: Context | None, case: bool) -> bool:
    pattern = compile_pattern(pattern_text, variables)
    return pattern is not None and pattern.matches(value, case_sensitive=case)


def _arn(pattern_text: str, resource: str, variables: Context | None) -> bool:
    pattern = compile_pattern(pattern_text, variables)
    return pattern is not None and pattern.matches_arn(resource)


def _principal_matches(statement: Statement, principal: Mapping[str, str]) -> bool:
    if statement.principals is not None:
        return _principal_in(statement.principals, principal)
    if statement.not_principals is not None:
        return not _principal_in(statement.not_principals, principal)
    return False


def _principal_in(listed: Mapping[str, tuple[str, ...]], principal: Mapping[str, str]) -> bool:
    if "*" in listed:
        return True
    for kind, value in principal.items():
        for entry in listed.get(kind, ()):
            if entry == "*" or entry == value or _same_account(kind, entry, value):
                return True
    return False


def _same_account(kind: str, entry: str, value: str) -> bool:
    """An account id or `:root` ARN in a trust policy stands for every principal in that account."""
    if kind != "AWS":
        return False
    parts = value.split(":")
    account = parts[4] if len(parts) > 4 else ""
    return bool(account) and entry in (account, f"arn:aws:iam::{account}:root")
