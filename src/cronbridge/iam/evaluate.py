"""Policy evaluation: explicit deny > allow > implicit deny, with the deciding statements named.

Within one account, as AWS documents it: an explicit deny in any policy wins; otherwise the identity-based
policies must allow, then the permissions boundary (when there is one), then the session policies (when there
are any): the permissions are the intersection of the three.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cronbridge.iam.conditions import Context, condition_holds
from cronbridge.iam.policy import Policy, Statement
from cronbridge.iam.wildcard import Pattern, compile_pattern

Effect = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
Scope = Literal["identity", "boundary", "session", "trust"]
_SCOPE_WORDS = {"identity": "an identity-based policy", "boundary": "a permissions boundary",
                "session": "a session policy", "trust": "a resource-based policy"}
_NO_ALLOW_WORDS = {"identity": "no identity-based policy", "boundary": "no permissions boundary",
                   "session": "no session policy", "trust": "no resource-based policy"}


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
             session_policies: Sequence[NamedPolicy] | None = None,
             boundary: NamedPolicy | None = None) -> Decision:
    """Decide a request against identity policies, the principal's permissions boundary and, for sessions,
    the session policies: an explicit deny in any of them wins, and an action needs an allow in each one given.
    """
    layers = _layers(request, identity_policies, session_policies, boundary)
    for scope, found in layers:
        if _denies(found):
            return Decision("ExplicitDeny", _denies(found), scope)
    allows: tuple[Deciding, ...] = ()
    for scope, found in layers:
        granted = tuple(d for d in found if d.effect == "Allow")
        if not granted:
            return Decision("ImplicitDeny", (), scope)
        allows += granted
    return Decision("Allow", allows, "identity")


def _layers(request: Request, identity: Sequence[NamedPolicy], session: Sequence[NamedPolicy] | None,
            boundary: NamedPolicy | None) -> list[tuple[Scope, list[Deciding]]]:
    """The matching statements of each kind of policy that applies, in AWS's order of evaluation."""
    layers: list[tuple[Scope, list[Deciding]]] = [("identity", _matching(request, identity))]
    if boundary is not None:
        layers.append(("boundary", _matching(request, [boundary])))
    if session:
        layers.append(("session", _matching(request, session)))
    return layers


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
    if pattern_text == "*":  # the administrator's policy: every action of every call
        return True
    pattern = _compiled(pattern_text) if variables is None or "${" not in pattern_text else (
        compile_pattern(pattern_text, variables))
    return pattern is not None and pattern.matches(value, case_sensitive=case)


def _arn(pattern_text: str, resource: str, variables: Context | None) -> bool:
    if pattern_text == "*":
        return True
    pattern = _compiled(pattern_text) if variables is None or "${" not in pattern_text else (
        compile_pattern(pattern_text, variables))
    return pattern is not None and pattern.matches_arn(resource)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern_text: str) -> Pattern | None:
    """A pattern without policy variables, compiled once."""
    return compile_pattern(pattern_text, None)


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


def resource_policy_allows(policy: Policy, principal: Mapping[str, str], request: Request,
                           name: str = "resource policy") -> Decision:
    """A resource-based policy (an SQS queue's Policy): statements naming the principal, the action and the
    resource, with their conditions; an explicit deny wins, as everywhere."""
    found = [Deciding(name, s.sid, s.effect) for s in policy.statements
             if _principal_matches(s, principal) and statement_applies(s, policy, request)]
    if _denies(found):
        return Decision("ExplicitDeny", _denies(found), "trust")
    if found:
        return Decision("Allow", tuple(found), "trust")
    return Decision("ImplicitDeny", (), "trust")
