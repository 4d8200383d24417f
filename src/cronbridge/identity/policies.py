"""Managed policies with versions, inline policies of users and roles, and attachments."""

from __future__ import annotations

import functools
from collections.abc import Callable

from cronbridge.clock import Clock
from cronbridge.iam import limits
from cronbridge.iam.evaluate import NamedPolicy
from cronbridge.iam.policy import Policy, PolicyKind, parse_policy
from cronbridge.identity import ids
from cronbridge.identity.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from cronbridge.identity.managed import AWS_MANAGED, document_text
from cronbridge.identity.model import ManagedPolicy, PolicyVersion
from cronbridge.store.identity import IdentityStore, OwnerKind

MAX_VERSIONS = 5
MAX_ATTACHED = 10


@functools.lru_cache(maxsize=4096)
def parsed(document: str, kind: PolicyKind = "identity") -> Policy:
    """A stored policy document, parsed (cached: documents are immutable text). It was checked when written;
    it is not checked again, so a rule added since never makes a stored policy unreadable."""
    return parse_policy(document, kind=kind, check=False)


def checked(document: str, kind: PolicyKind = "identity") -> Policy:
    """A policy document about to be stored, checked as IAM checks a `kind` policy (MalformedPolicy)."""
    return parse_policy(document, kind=kind)


def check_path(path: str) -> str:
    if not (path.startswith("/") and path.endswith("/")):
        raise InvalidInput(
            "The specified value for path is invalid. It must begin and end with / and contain "
            "only alphanumeric characters and/or / characters."
        )
    return path


class PolicyService:
    """Customer managed policies (and the AWS managed ones), inline policies and who has which attached."""

    def __init__(self, store: IdentityStore, clock: Clock, account: str, changed: Callable[[], None]) -> None:
        self.store = store
        self.clock = clock
        self.account = account
        self._changed = changed

    def install_aws_managed(self) -> None:
        """Make the AWS managed policies we know exist (idempotent)."""
        for arn in AWS_MANAGED:
            if self.store.policy(arn) is None:
                name = arn.rsplit("/", 1)[1]
                path = arn.split(":policy", 1)[1][: -len(name)]
                self._insert(arn, name, path, document_text(arn), None, {})

    # managed policies

    def create(
        self,
        name: str,
        document: str,
        path: str = "/",
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ManagedPolicy:
        checked(document, "managed")
        limits.check_managed(document)
        arn = f"arn:aws:iam::{self.account}:policy{check_path(path)}{name}"
        if any(p.name.lower() == name.lower() for p in self.store.policies("Local")):
            raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        return self._insert(arn, name, path, document, description, tags or {})

    def _insert(
        self, arn: str, name: str, path: str, document: str, description: str | None, tags: dict[str, str]
    ) -> ManagedPolicy:
        now = self.clock.now()
        policy = ManagedPolicy(name, ids.unique_id("ANPA"), arn, path, "v1", now, now, description, tags)
        with self.store.db.transaction():
            self.store.put_policy(policy, next_version=2)
            self.store.put_version(PolicyVersion(arn, "v1", document, True, now))
        self._changed()
        return policy

    def get(self, arn: str) -> ManagedPolicy:
        policy = self.store.policy(arn)
        if policy is None:
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return policy

    def delete(self, arn: str) -> None:
        policy = self.get(arn)
        self._customer_managed(policy)
        if policy.attachment_count or policy.boundary_count:
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if len(self.store.versions(arn)) > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        self.store.delete_policy(arn)
        self._changed()

    def _customer_managed(self, policy: ManagedPolicy) -> None:
        if policy.aws_managed:
            raise InvalidInput(f"Policy {policy.arn} is an AWS managed policy and cannot be changed.")

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        self.store.set_tags("iam_policies", "arn", arn, tags)
        self._changed()

    # versions

    def version(self, arn: str, version_id: str) -> PolicyVersion:
        self.get(arn)
        for version in self.store.versions(arn):
            if version.version_id == version_id:
                return version
        raise NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")

    def versions(self, arn: str) -> list[PolicyVersion]:
        self.get(arn)
        return self.store.versions(arn)

    def create_version(self, arn: str, document: str, set_as_default: bool) -> PolicyVersion:
        policy = self.get(arn)
        self._customer_managed(policy)
        checked(document, "managed")
        limits.check_managed(document)
        with self.store.db.transaction():
            self.store.db.serialize(f"iam.policy:{arn}")  # the count, the number and the insert: one step
            if len(self.store.versions(arn)) >= MAX_VERSIONS:
                raise LimitExceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new "
                    "version, you must delete an existing version."
                )
            number = self.store.next_version(arn)
            now = self.clock.now()
            version = PolicyVersion(arn, f"v{number}", document, set_as_default, now)
            default = version.version_id if set_as_default else policy.default_version
            self.store.put_version(version)
            self.store.put_policy(_with(policy, default, now), number + 1)
        self._changed()
        return version

    def set_default_version(self, arn: str, version_id: str) -> None:
        policy = self.get(arn)
        self.version(arn, version_id)
        self.store.put_policy(_with(policy, version_id, self.clock.now()), self.store.next_version(arn))
        self._changed()

    def delete_version(self, arn: str, version_id: str) -> None:
        policy = self.get(arn)
        self.version(arn, version_id)
        if version_id == policy.default_version:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        self.store.delete_version(arn, version_id)
        self._changed()

    def document(self, arn: str) -> str:
        policy = self.get(arn)
        return self.version(arn, policy.default_version).document

    # attachments

    def attach(self, kind: OwnerKind, owner: str, arn: str) -> None:
        if self.store.policy(arn) is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        attached = self.store.attached(kind, owner)
        if arn not in attached and len(attached) >= MAX_ATTACHED:
            quota = {"role": "PoliciesPerRole", "user": "PoliciesPerUser", "group": "PoliciesPerGroup"}[kind]
            raise LimitExceeded(f"Cannot exceed quota for {quota}: {MAX_ATTACHED}")
        self.store.attach(kind, owner, arn)
        self._changed()

    def detach(self, kind: OwnerKind, owner: str, arn: str) -> None:
        if not self.store.detach(kind, owner, arn):
            raise NoSuchEntity(f"Policy {arn} was not found.")
        self._changed()

    def attached(self, kind: OwnerKind, owner: str) -> list[ManagedPolicy]:
        return [p for arn in self.store.attached(kind, owner) if (p := self.store.policy(arn)) is not None]

    # inline policies

    def put_inline(self, kind: OwnerKind, owner: str, name: str, document: str) -> None:
        checked(document)
        others = [text for stored, text in self.store.inline(kind, owner).items() if stored.lower() != name.lower()]
        limits.check_inline(kind, owner, [*others, document])
        self.store.put_inline(kind, owner, name, document)
        self._changed()

    def inline(self, kind: OwnerKind, owner: str, name: str) -> tuple[str, str]:
        """(stored name, document) of one inline policy."""
        for stored, document in self.store.inline(kind, owner).items():
            if stored.lower() == name.lower():
                return stored, document
        raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")

    def inline_names(self, kind: OwnerKind, owner: str) -> list[str]:
        return list(self.store.inline(kind, owner))

    def delete_inline(self, kind: OwnerKind, owner: str, name: str) -> None:
        if not self.store.delete_inline(kind, owner, name):
            raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")
        self._changed()

    def named(self, kind: OwnerKind, owner: str) -> list[NamedPolicy]:
        """Everything that grants `owner`: inline policies ("inline:Owner/Name", "inline:group/Group/Name"), then
        attached managed ones."""
        label = f"group/{owner}" if kind == "group" else owner
        found = [
            NamedPolicy(f"inline:{label}/{name}", parsed(document))
            for name, document in self.store.inline(kind, owner).items()
        ]
        for arn in self.store.attached(kind, owner):
            found.append(NamedPolicy(arn, parsed(self.document(arn))))
        return found


def _with(policy: ManagedPolicy, default_version: str, now: float) -> ManagedPolicy:
    from dataclasses import replace

    return replace(policy, default_version=default_version, updated_at=now)
