"""Sessions: AssumeRole and AssumeRoleWithWebIdentity checked against the role's trust policy, GetSessionToken for
a user, and the principal a session key stands for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cronbridge.iam.evaluate import Decision, NamedPolicy, trust_allows
from cronbridge.identity import ids, web_identity
from cronbridge.identity.errors import IamAccessDenied, IamValidationError, NoSuchEntity
from cronbridge.identity.model import KeyRecord, Principal, Role, TemporaryCredentials
from cronbridge.identity.policies import checked, parsed
from cronbridge.identity.web_identity import WebIdentity

if TYPE_CHECKING:
    from cronbridge.identity.service import IdentityService

DEFAULT_DURATION = 3600
CHAINED_LIMIT = 3600
SESSION_TOKEN_DURATION = 43200  # GetSessionToken's default (12 h); root's sessions last at most an hour
WEB_IDENTITY_DENIED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
KEEP_EXPIRED = 86400  # expired session keys are kept a day, so their users get ExpiredToken, not an unknown key


class SessionMaker:
    """Issues temporary credentials for role sessions and reads them back as principals."""

    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    def assume(
        self,
        role_arn: str,
        session_name: str,
        duration: int | None,
        caller: Principal | str | None,
        session_policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
        context: Mapping[str, str | list[str]] | None = None,
    ) -> TemporaryCredentials:
        role = self._role(role_arn, caller)
        seconds = self._duration(role, duration, caller)
        decision = self.trust(role, caller, {"sts:RoleSessionName": session_name, **(context or {})})
        if not decision.allowed:
            raise IamAccessDenied(_denied(caller, role_arn))
        if session_policy is not None:
            checked(session_policy, "session")
        for arn in policy_arns:
            self.identity.policies.get(arn)
        return self._issue(role, session_name, seconds, session_policy, policy_arns)

    def assume_with_web_identity(
        self,
        role_arn: str,
        session_name: str,
        token: str,
        duration: int | None,
        session_policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
    ) -> tuple[TemporaryCredentials, WebIdentity]:
        """AssumeRoleWithWebIdentity: the token checked offline against the account's OIDC provider and the keys
        set on it, then the role's trust policy asked about the provider (`Federated`) with the token's claims."""
        found = web_identity.verify(token, self.identity.oidc.find, self.identity.clock.now())
        try:
            role = self.identity.get_role(role_arn)
        except NoSuchEntity:
            raise IamAccessDenied(WEB_IDENTITY_DENIED) from None
        seconds = self._duration(role, duration, None)
        policy = parsed(role.trust_policy, "trust")
        context = {"sts:RoleSessionName": session_name, **found.condition_keys()}
        decision = trust_allows(policy, {"Federated": found.provider.arn}, "sts:AssumeRoleWithWebIdentity", context,
                                name=f"trust policy of {role.arn}")
        if not decision.allowed:
            raise IamAccessDenied(WEB_IDENTITY_DENIED)
        if session_policy is not None:
            checked(session_policy, "session")
        for arn in policy_arns:
            self.identity.policies.get(arn)
        return self._issue(role, session_name, seconds, session_policy, policy_arns), found

    def session_token(self, caller: Principal, key: KeyRecord | None, duration: int | None) -> TemporaryCredentials:
        """GetSessionToken: temporary credentials of the calling user (or root), never of a session."""
        if key is not None and key.temporary:
            raise IamAccessDenied("Cannot call GetSessionToken with session credentials")
        if caller.kind not in ("user", "root"):
            raise IamAccessDenied("Cannot call GetSessionToken with session credentials")
        seconds = SESSION_TOKEN_DURATION if duration is None else duration
        if caller.kind == "root":
            seconds = min(seconds, CHAINED_LIMIT)
        now = self.identity.clock.now()
        record = KeyRecord(
            ids.access_key_id(temporary=True), ids.secret_access_key(), "Active", now,
            user_name=caller.name if caller.kind == "user" else None,
            session_token=ids.session_token(), expires_at=now + seconds,
        )
        self.identity.store.put_key(record)
        assert record.session_token is not None and record.expires_at is not None
        return TemporaryCredentials(record.access_key_id, record.secret_access_key, record.session_token,
                                    record.expires_at, caller.arn, caller.user_id)

    def trust(
        self, role: Role, caller: Principal | str | None, context: Mapping[str, str | list[str]] | None = None
    ) -> Decision:
        """Whether the role's trust policy admits `caller` (a principal, or a service name).

        `context` adds condition keys (sts:ExternalId, aws:SourceArn, aws:SourceAccount, ...).
        """
        policy = parsed(role.trust_policy, "trust")
        name = f"trust policy of {role.arn}"
        if isinstance(caller, str):
            return trust_allows(policy, {"Service": caller}, context=dict(context or {}), name=name)
        principal = caller or self.identity.root()
        keys = {**principal.condition_keys, **(context or {})}
        decision = trust_allows(policy, {"AWS": principal.arn}, context=keys, name=name)
        if not decision.allowed and principal.role_arn:
            decision = trust_allows(policy, {"AWS": principal.role_arn}, context=keys, name=name)
        return decision

    def _role(self, role_arn: str, caller: Principal | str | None) -> Role:
        if not role_arn.startswith("arn:"):
            raise IamValidationError(f"{role_arn} is invalid")
        try:
            return self.identity.get_role(role_arn)
        except NoSuchEntity:
            raise IamAccessDenied(_denied(caller, role_arn)) from None

    def _duration(self, role: Role, duration: int | None, caller: Principal | str | None) -> int:
        seconds = DEFAULT_DURATION if duration is None else duration
        if isinstance(caller, Principal) and caller.kind == "assumed-role" and seconds > CHAINED_LIMIT:
            raise IamValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
            )
        if seconds > role.max_session_duration:
            raise IamValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        return seconds

    def _issue(
        self, role: Role, session_name: str, seconds: int, session_policy: str | None, policy_arns: tuple[str, ...]
    ) -> TemporaryCredentials:
        store, now = self.identity.store, self.identity.clock.now()
        store.expire_sessions(now - KEEP_EXPIRED)
        key = KeyRecord(
            ids.access_key_id(temporary=True),
            ids.secret_access_key(),
            "Active",
            now,
            role_arn=role.arn,
            session_name=session_name,
            session_token=ids.session_token(),
            expires_at=now + seconds,
            session_policy=session_policy,
            session_policy_arns=policy_arns,
        )
        store.put_key(key)
        assert key.session_token is not None and key.expires_at is not None
        size = None if session_policy is None and not policy_arns else 6
        return TemporaryCredentials(
            key.access_key_id,
            key.secret_access_key,
            key.session_token,
            key.expires_at,
            _session_arn(role, session_name),
            f"{role.role_id}:{session_name}",
            size,
        )

    def principal(self, key: KeyRecord) -> Principal:
        """The assumed-role principal a session key stands for, with its session policies."""
        assert key.role_arn is not None
        name = key.role_arn.rsplit("/", 1)[-1]
        role = self.identity.store.role(name)
        role_id = role.role_id if role else "AROADELETEDROLE"
        session = key.session_name or ""
        arn = f"arn:aws:sts::{self.identity.account}:assumed-role/{name}/{session}"
        return Principal(
            arn,
            "assumed-role",
            name,
            self.identity.account,
            f"{role_id}:{session}",
            key.access_key_id,
            key.role_arn,
            session,
            self._session_policies(key),
        )

    def _session_policies(self, key: KeyRecord) -> tuple[NamedPolicy, ...]:
        found = [NamedPolicy("session policy", parsed(key.session_policy, "session"))] if key.session_policy else []
        for arn in key.session_policy_arns:
            try:
                found.append(NamedPolicy(arn, parsed(self.identity.policies.document(arn))))
            except NoSuchEntity:
                continue
        return tuple(found)


def _session_arn(role: Role, session_name: str) -> str:
    account = role.arn.split(":")[4]
    return f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}"


def _denied(caller: Principal | str | None, role_arn: str) -> str:
    who = caller if isinstance(caller, str) else (caller.arn if caller else "anonymous")
    return f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
