"""IAM instance profiles: a container for one role (what EC2 hands an instance), as Terraform manages them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cronbridge.clock import Clock
from cronbridge.identity import ids
from cronbridge.identity.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from cronbridge.identity.model import InstanceProfile, Role
from cronbridge.identity.policies import check_path
from cronbridge.store.iam_profiles import ProfileStore
from cronbridge.store.identity import IdentityStore

ROLES_PER_PROFILE = 1


class ProfileService:
    """Create/Get/List/Delete InstanceProfile, Add/RemoveRole, ListInstanceProfilesForRole, tags."""

    def __init__(self, store: IdentityStore, profiles: ProfileStore, clock: Clock, account: str,
                 changed: Callable[[], None]) -> None:
        self.store = store
        self.profiles = profiles
        self.clock = clock
        self.account = account
        self._changed = changed

    def create(self, name: str, path: str = "/", tags: dict[str, str] | None = None) -> InstanceProfile:
        if self.profiles.get(name) is not None:
            raise EntityAlreadyExists(f"Instance Profile {name} already exists.")
        arn = f"arn:aws:iam::{self.account}:instance-profile{check_path(path)}{name}"
        profile = InstanceProfile(name, ids.unique_id("AIPA"), arn, path, self.clock.now(), dict(tags or {}))
        self.profiles.put(profile)
        self._changed()
        return profile

    def get(self, name: str) -> InstanceProfile:
        profile = self.profiles.get(name)
        if profile is None:
            raise NoSuchEntity(f"Instance Profile {name} cannot be found.")
        return profile

    def role_of(self, profile: InstanceProfile) -> Role | None:
        return self.store.role(profile.role_name) if profile.role_name else None

    def all(self, path_prefix: str = "/") -> list[InstanceProfile]:
        return self.profiles.all(path_prefix)

    def for_role(self, role_name: str) -> list[InstanceProfile]:
        return self.profiles.of_role(self._role(role_name).name)

    def delete(self, name: str) -> None:
        profile = self.get(name)
        if profile.role_name:
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        self.profiles.delete(profile.name)
        self._changed()

    def add_role(self, name: str, role_name: str) -> None:
        profile, role = self.get(name), self._role(role_name)
        if profile.role_name:
            raise LimitExceeded(f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}")
        self.profiles.put(replace(profile, role_name=role.name))
        self._changed()

    def remove_role(self, name: str, role_name: str) -> None:
        profile, role = self.get(name), self._role(role_name)
        if (profile.role_name or "").lower() != role.name.lower():
            raise NoSuchEntity(f"The role with name {role.name} cannot be found in instance profile {profile.name}.")
        self.profiles.put(replace(profile, role_name=None))
        self._changed()

    def tag(self, name: str, tags: dict[str, str]) -> None:
        profile = self.get(name)
        self.profiles.put(replace(profile, tags={**profile.tags, **tags}))

    def untag(self, name: str, keys: list[str]) -> None:
        profile = self.get(name)
        self.profiles.put(replace(profile, tags={k: v for k, v in profile.tags.items() if k not in keys}))

    def _role(self, name: str) -> Role:
        role = self.store.role(name)
        if role is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return role
