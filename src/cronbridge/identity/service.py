"""The identity service: users, roles, groups, instance profiles, OIDC providers, access keys and sessions, who a
signing key stands for, and what bounds them (permissions boundaries)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cronbridge.clock import Clock
from cronbridge.errors import StoreUnavailable
from cronbridge.iam import limits
from cronbridge.iam.evaluate import NamedPolicy
from cronbridge.iam.policy import Policy, parse_policy
from cronbridge.identity import ids
from cronbridge.identity.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from cronbridge.identity.groups import GroupService
from cronbridge.identity.managed import ADMINISTRATOR_ACCESS
from cronbridge.identity.model import (
    AccessKeyPair,
    KeyRecord,
    KeyUse,
    Principal,
    Role,
    TemporaryCredentials,
    User,
)
from cronbridge.identity.oidc import OidcService
from cronbridge.identity.policies import PolicyService, check_path, checked, parsed
from cronbridge.identity.profiles import ProfileService
from cronbridge.identity.sessions import SessionMaker
from cronbridge.store.database import Database
from cronbridge.store.iam_groups import GroupStore
from cronbridge.store.iam_oidc import OidcStore
from cronbridge.store.iam_profiles import ProfileStore
from cronbridge.store.identity import IdentityStore

ADMIN_USER = "admin"
ADMIN_POLICY = "AdministratorAccess"
MAX_KEYS_PER_USER = 2
_ALLOW_ALL = NamedPolicy(
    "root", parsed('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
)
_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/\S+")
KEY_USE_EVERY = 60.0  # seconds: a key's last use is written at most this often for the same service and region


class IdentityService:
    """Everything IAM stores, and the answers authorization needs: whose key is this, what may they do. The answers
are cached; `changed` announces each write (other server processes then drop their caches: peers/caches.py)."""

    def __init__(self, db: Database, clock: Clock, account: str, changed: Callable[[], None]) -> None:
        self.store = IdentityStore(db)
        self.clock = clock
        self.account = account
        self.announce = changed
        self.policies = PolicyService(self.store, clock, account, self._changed)
        self.groups = GroupService(self.store, GroupStore(db), clock, account, self._changed)
        self.profiles = ProfileService(self.store, ProfileStore(db), clock, account, self._changed)
        self.oidc = OidcService(OidcStore(db), clock, account, self._changed)
        self.sessions = SessionMaker(self)
        self._key_uses: dict[str, KeyUse] = {}  # the last use written per key (a cache: the table has it)
        self._lock = threading.Lock()
        self._generation = 0
        self._cache: dict[Any, Any] = {}

    # caching: every write bumps the generation, so readers never see a stale answer

    def _changed(self) -> None:
        """A write here: drop this process's answers and tell the others."""
        self.forget_cached()
        self.announce()

    def forget_cached(self) -> None:
        """Drop the cached answers (another process changed IAM, or a reset wiped it)."""
        with self._lock:
            self._generation += 1
            self._cache.clear()
            self._key_uses.clear()

    @property
    def generation(self) -> int:
        """Changes with every write to users, roles, policies, attachments and keys (and forget_cached)."""
        return self._generation

    def _cached(self, key: Any, compute: Any) -> Any:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            generation = self._generation
        value = compute()
        with self._lock:
            if generation == self._generation:
                self._cache[key] = value
        return value

    # the contract authorization uses

    def lookup_key(self, access_key_id: str) -> KeyRecord | None:
        """The key record (active or not, temporary or not), or None for a key nobody issued."""
        key: KeyRecord | None = self._cached(("key", access_key_id), lambda: self.store.key(access_key_id))
        return key

    def principal_of_key(self, access_key_id: str) -> Principal | None:
        """Who signs with this key: a user, or a role session with its session policies."""
        key = self.lookup_key(access_key_id)
        if key is None:
            return None
        principal: Principal | None = self._cached(("principal", access_key_id), lambda: self._principal(key))
        return principal

    def _principal(self, key: KeyRecord) -> Principal | None:
        if key.role_arn is not None:
            return self.sessions.principal(key)
        if key.user_name is None and key.temporary:  # the account root's GetSessionToken
            return replace(self.root(), access_key_id=key.access_key_id)
        user = self.store.user(key.user_name or "")
        if user is None:
            return None
        return Principal(user.arn, "user", user.name, self.account, user.user_id, key.access_key_id)

    def root(self) -> Principal:
        return Principal(f"arn:aws:iam::{self.account}:root", "root", "root", self.account, self.account)

    def policies_for(self, principal: Principal) -> list[NamedPolicy]:
        """The identity-based policies of a principal: its own inline and attached managed ones, and for a user
        those of its groups.

        Session policies of an assumed role are on `principal.session_policies` (they limit, they never grant);
        the permissions boundary is `boundary_for` (it limits too).
        """
        if principal.kind == "root":
            return [_ALLOW_ALL]
        if principal.kind == "service":
            return []
        found: list[NamedPolicy] = self._cached(
            ("policies", principal.kind, principal.name.lower()), lambda: self._identity_policies(principal)
        )
        return found

    def _identity_policies(self, principal: Principal) -> list[NamedPolicy]:
        if principal.kind != "user":
            return self.policies.named("role", principal.name)
        found = self.policies.named("user", principal.name)
        for group in self.groups.groups.groups_of(principal.name):
            found += self.policies.named("group", group.name)
        return found

    def boundary_for(self, principal: Principal) -> NamedPolicy | None:
        """The permissions boundary of a user, or of the role behind a role session; None when there is none."""
        if principal.kind not in ("user", "assumed-role"):
            return None
        found: NamedPolicy | None = self._cached(
            ("boundary", principal.kind, principal.name.lower()), lambda: self._boundary(principal)
        )
        return found

    def _boundary(self, principal: Principal) -> NamedPolicy | None:
        entity = self.store.user(principal.name) if principal.kind == "user" else self.store.role(principal.name)
        arn = entity.permissions_boundary if entity is not None else None
        if arn is None:
            return None
        if self.store.policy(arn) is None:  # cannot happen (a boundary's policy cannot be deleted): allow nothing
            return NamedPolicy(arn, Policy("2012-10-17", ()))
        return NamedPolicy(arn, parsed(self.policies.document(arn)))

    def _checked_boundary(self, arn: str) -> str:
        if not _POLICY_ARN.fullmatch(arn):
            raise InvalidInput(f"Value ({arn}) for parameter PermissionsBoundary is invalid.")
        if self.store.policy(arn) is None:
            raise NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.")
        return arn

    def put_user_boundary(self, name: str, arn: str) -> None:
        user = self.get_user(name)
        self.store.put_user(replace(user, permissions_boundary=self._checked_boundary(arn)))
        self._changed()

    def delete_user_boundary(self, name: str) -> None:
        self.store.put_user(replace(self.get_user(name), permissions_boundary=None))
        self._changed()

    def put_role_boundary(self, name: str, arn: str) -> None:
        role = self.get_role(name)
        self.store.put_role(replace(role, permissions_boundary=self._checked_boundary(arn)))
        self._changed()

    def delete_role_boundary(self, name: str) -> None:
        self.store.put_role(replace(self.get_role(name), permissions_boundary=None))
        self._changed()

    def trust_policy(self, role_arn: str) -> Policy | None:
        """A role's trust policy, parsed (remembered until the store changes); None when there is no such role."""
        found: Policy | None = self._cached(("trust", role_arn), lambda: self._trust_policy(role_arn))
        return found

    def _trust_policy(self, role_arn: str) -> Policy | None:
        try:
            role = self.get_role(role_arn)
        except NoSuchEntity:
            return None
        return parse_policy(role.trust_policy, kind="trust", check=False)

    def get_role(self, name_or_arn: str) -> Role:
        """A role by name or ARN; NoSuchEntity otherwise."""
        name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        role = self.store.role(name)
        if role is None or (name_or_arn.startswith("arn:") and role.arn != name_or_arn):
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return role

    def assume_role(
        self,
        role_arn: str,
        session_name: str,
        duration: int | None = None,
        caller: Principal | str | None = None,
        session_policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
        context: Mapping[str, str | list[str]] | None = None,
    ) -> TemporaryCredentials:
        """Temporary credentials for a role session, once the role's trust policy admits `caller`.

        `caller` is a Principal (a user or role session) or a service name such as "events.amazonaws.com";
        `context` adds the condition keys the trust policy may test (sts:ExternalId, aws:SourceArn, ...).
        """
        return self.sessions.assume(role_arn, session_name, duration, caller, session_policy, policy_arns, context)

    # users

    def create_user(
        self, name: str, path: str = "/", tags: dict[str, str] | None = None, permissions_boundary: str | None = None
    ) -> User:
        if self.store.user(name) is not None:
            raise EntityAlreadyExists(f"User with name {name} already exists.")
        user = User(
            name,
            ids.unique_id("AIDA"),
            f"arn:aws:iam::{self.account}:user{check_path(path)}{name}",
            path,
            self.clock.now(),
            dict(tags or {}),
            self._checked_boundary(permissions_boundary) if permissions_boundary else None,
        )
        self.store.put_user(user)
        self._changed()
        return user

    def get_user(self, name: str) -> User:
        user = self.store.user(name)
        if user is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return user

    def list_users(self, path_prefix: str = "/") -> list[User]:
        return self.store.users(path_prefix)

    def delete_user(self, name: str) -> None:
        user = self.get_user(name)
        if self.store.user_keys(user.name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if self.store.attached("user", user.name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if self.store.inline("user", user.name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.groups.groups.groups_of(user.name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        self.store.delete_user(user.name)
        self._changed()

    def tag_user(self, name: str, tags: dict[str, str]) -> None:
        user = self.get_user(name)
        self.store.set_tags("iam_users", "name", user.name, {**user.tags, **tags})
        self._changed()

    def untag_user(self, name: str, keys: list[str]) -> None:
        user = self.get_user(name)
        self.store.set_tags("iam_users", "name", user.name, {k: v for k, v in user.tags.items() if k not in keys})
        self._changed()

    # roles

    def create_role(
        self,
        name: str,
        trust_policy: str,
        path: str = "/",
        description: str | None = None,
        max_session_duration: int = 3600,
        tags: dict[str, str] | None = None,
        permissions_boundary: str | None = None,
    ) -> Role:
        checked(trust_policy, "trust")
        limits.check_trust(trust_policy)
        if self.store.role(name) is not None:
            raise EntityAlreadyExists(f"Role with name {name} already exists.")
        boundary = self._checked_boundary(permissions_boundary) if permissions_boundary else None
        role = Role(
            name,
            ids.unique_id("AROA"),
            f"arn:aws:iam::{self.account}:role{check_path(path)}{name}",
            path,
            trust_policy,
            self.clock.now(),
            description,
            max_session_duration,
            dict(tags or {}),
            boundary,
        )
        self.store.put_role(role)
        self._changed()
        return role

    def list_roles(self, path_prefix: str = "/") -> list[Role]:
        return self.store.roles(path_prefix)

    def update_role(self, name: str, description: str | None = None, max_session_duration: int | None = None) -> None:
        role = self.get_role(name)
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = description
        if max_session_duration is not None:
            changes["max_session_duration"] = max_session_duration
        self.store.put_role(replace(role, **changes))
        self._changed()

    def update_trust_policy(self, name: str, trust_policy: str) -> None:
        role = self.get_role(name)
        checked(trust_policy, "trust")
        limits.check_trust(trust_policy)
        self.store.put_role(replace(role, trust_policy=trust_policy))
        self._changed()

    def delete_role(self, name: str) -> None:
        role = self.get_role(name)
        if self.store.attached("role", role.name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if self.store.inline("role", role.name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.profiles.profiles.of_role(role.name):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        self.store.delete_role(role.name)
        self._changed()

    def tag_role(self, name: str, tags: dict[str, str]) -> None:
        role = self.get_role(name)
        self.store.set_tags("iam_roles", "name", role.name, {**role.tags, **tags})
        self._changed()

    def untag_role(self, name: str, keys: list[str]) -> None:
        role = self.get_role(name)
        self.store.set_tags("iam_roles", "name", role.name, {k: v for k, v in role.tags.items() if k not in keys})
        self._changed()

    # access keys

    def create_access_key(
        self, user_name: str, access_key_id: str | None = None, secret: str | None = None
    ) -> AccessKeyPair:
        user = self.get_user(user_name)
        if len(self.store.user_keys(user.name)) >= MAX_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
        key = KeyRecord(
            access_key_id or ids.access_key_id(),
            secret or ids.secret_access_key(),
            "Active",
            self.clock.now(),
            user_name=user.name,
        )
        self.store.put_key(key)
        self._changed()
        return AccessKeyPair(user.name, key.access_key_id, key.secret_access_key, key.status, key.created_at)

    def access_keys(self, user_name: str) -> list[KeyRecord]:
        return self.store.user_keys(self.get_user(user_name).name)

    def update_access_key(self, user_name: str, access_key_id: str, status: str) -> None:
        key = self._user_key(user_name, access_key_id)
        self.store.put_key(replace(key, status=status))
        self._changed()

    def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        self._user_key(user_name, access_key_id)
        self.store.delete_key(access_key_id)
        self._changed()

    def _user_key(self, user_name: str, access_key_id: str) -> KeyRecord:
        user = self.get_user(user_name)
        key = self.store.key(access_key_id)
        if key is None or key.temporary or (key.user_name or "").lower() != user.name.lower():
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        return key

    def note_key_use(self, access_key_id: str, service: str, region: str) -> None:
        """A key signed a request: remembered for GetAccessKeyLastUsed (written at most once a minute per key
        for the same service and region, so signing stays cheap)."""
        now = self.clock.now()
        with self._lock:
            last = self._key_uses.get(access_key_id)
            if last is not None and (last.service, last.region) == (service, region) and now - last.at < KEY_USE_EVERY:
                return
            use = self._key_uses[access_key_id] = KeyUse(now, service, region)
        try:
            self.store.note_key_use(access_key_id, use)
        except StoreUnavailable:  # the database is away: the request goes on (a read may be answered), noted later
            with self._lock:
                self._key_uses.pop(access_key_id, None)

    def key_last_used(self, access_key_id: str) -> tuple[str, KeyUse | None]:
        """(the key's user, its last use or None) for a user's long-term key; NoSuchEntity otherwise."""
        key = self.store.key(access_key_id)
        if key is None or key.temporary or key.user_name is None:
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        return key.user_name, self.store.key_use(access_key_id)

    def user_of_key(self, access_key_id: str) -> str | None:
        key = self.lookup_key(access_key_id)
        return None if key is None else key.user_name

    # bootstrap

    def bootstrap(self, access_key_id: str | None = None, secret: str | None = None) -> tuple[AccessKeyPair, bool]:
        """Make sure the administrator exists with an active key; (its key, whether the key is new).

        With `access_key_id` and `secret` given, that key is the administrator's (created or its secret reset).
        Processes that bootstrap at once (one starting while another resets, on one PostgreSQL database) take turns:
        each looks and makes what is missing under one lock, so nothing is made twice.
        """
        with self.store.db.transaction():
            self.store.db.serialize("iam.bootstrap")
            return self._bootstrap(access_key_id, secret)

    def _bootstrap(self, access_key_id: str | None, secret: str | None) -> tuple[AccessKeyPair, bool]:
        self.policies.install_aws_managed()
        if self.store.user(ADMIN_USER) is None:
            self.create_user(ADMIN_USER)
            self.policies.put_inline("user", ADMIN_USER, ADMIN_POLICY, _ADMIN_DOCUMENT)
        if access_key_id and secret:
            return self._fixed_admin_key(access_key_id, secret)
        for key in self.store.user_keys(ADMIN_USER):
            if key.active:
                return AccessKeyPair(
                    ADMIN_USER, key.access_key_id, key.secret_access_key, key.status, key.created_at
                ), False
        return self.create_access_key(ADMIN_USER), True

    def _fixed_admin_key(self, access_key_id: str, secret: str) -> tuple[AccessKeyPair, bool]:
        existing = self.store.key(access_key_id)
        key = KeyRecord(
            access_key_id, secret, "Active", existing.created_at if existing else self.clock.now(), user_name=ADMIN_USER
        )
        self.store.put_key(key)
        self._changed()
        return AccessKeyPair(ADMIN_USER, access_key_id, secret, "Active", key.created_at), existing is None

    def admin(self) -> Principal:
        user = self.get_user(ADMIN_USER)
        return Principal(user.arn, "user", user.name, self.account, user.user_id)


_ADMIN_DOCUMENT = json.dumps(ADMINISTRATOR_ACCESS)
