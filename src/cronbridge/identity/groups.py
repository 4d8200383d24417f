"""IAM groups: membership, and the group's inline and attached policies that its members get."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cronbridge.clock import Clock
from cronbridge.identity import ids
from cronbridge.identity.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from cronbridge.identity.model import Group, User
from cronbridge.identity.policies import check_path
from cronbridge.store.iam_groups import GroupStore
from cronbridge.store.identity import IdentityStore

GROUPS_PER_USER = 10


class GroupService:
    """CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, AddUserToGroup, RemoveUserFromGroup."""

    def __init__(self, store: IdentityStore, groups: GroupStore, clock: Clock, account: str,
                 changed: Callable[[], None]) -> None:
        self.store = store
        self.groups = groups
        self.clock = clock
        self.account = account
        self._changed = changed

    def create(self, name: str, path: str = "/") -> Group:
        if self.groups.get(name) is not None:
            raise EntityAlreadyExists(f"Group with name {name} already exists.")
        group = Group(name, ids.unique_id("AGPA"), self._arn(name, path), check_path(path), self.clock.now())
        self.groups.put(group)
        self._changed()
        return group

    def _arn(self, name: str, path: str) -> str:
        return f"arn:aws:iam::{self.account}:group{path}{name}"

    def get(self, name: str) -> Group:
        group = self.groups.get(name)
        if group is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        return group

    def members(self, name: str) -> list[User]:
        """The group's users, in the order they were added."""
        group = self.get(name)
        return [u for n in self.groups.members(group.name) if (u := self.store.user(n)) is not None]

    def all(self, path_prefix: str = "/") -> list[Group]:
        return self.groups.all(path_prefix)

    def of_user(self, user_name: str) -> list[Group]:
        return self.groups.groups_of(self._user(user_name).name)

    def update(self, name: str, new_name: str | None = None, new_path: str | None = None) -> None:
        group = self.get(name)
        target = new_name or group.name
        if target.lower() != group.name.lower() and self.groups.get(target) is not None:
            raise EntityAlreadyExists(f"Group with name {target} already exists.")
        path = check_path(new_path) if new_path else group.path
        self.groups.rename(group.name, replace(group, name=target, path=path, arn=self._arn(target, path)))
        self._changed()

    def delete(self, name: str) -> None:
        group = self.get(name)
        if self.groups.members(group.name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if self.store.attached("group", group.name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if self.store.inline("group", group.name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        self.groups.delete(group.name)
        self._changed()

    def add_user(self, name: str, user_name: str) -> None:
        user = self._user(user_name)  # a missing user is named first, then a missing group
        group = self.get(name)
        current = self.groups.groups_of(user.name)
        if all(g.name.lower() != group.name.lower() for g in current) and len(current) >= GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        self.groups.add_member(group.name, user.name)
        self._changed()

    def remove_user(self, name: str, user_name: str) -> None:
        group, user = self.get(name), self._user(user_name)
        if not self.groups.remove_member(group.name, user.name):
            raise NoSuchEntity(f"The user with name {user.name} is not a member of group {group.name}.")
        self._changed()

    def _user(self, name: str) -> User:
        user = self.store.user(name)
        if user is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return user
