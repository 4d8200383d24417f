"""Where a regional resource lives: its account and Region. AWS keeps every regional resource apart by both: the
same name in two Regions is two resources, and a listing shows one Region's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cronbridge import arn as arns
from cronbridge.config import DEFAULT_ACCOUNT, DEFAULT_REGION

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """One account in one Region."""

    account: str
    region: str

    def arn(self, service: str, resource: str) -> str:
        """An ARN of a resource in this account and Region."""
        return arns.build(service, self.region, self.account, resource)

    def owns(self, arn: str) -> bool:
        """True when `arn` names a resource of this account and Region."""
        parsed = arns.parse(arn)
        return parsed is not None and (parsed.region, parsed.account) == (self.region, self.account)

    def name_in(self, ref: str, kind: str) -> str | None:
        """The name a reference gives in this scope: a bare name as it is, an ARN's `kind/NAME` when the ARN is of
        this account and Region; None for an ARN of another account or Region (not found here, as on AWS)."""
        if not ref.startswith("arn:"):
            return ref
        return arns.resource_name(ref, kind) if self.owns(ref) else None


HOME = Scope(DEFAULT_ACCOUNT, DEFAULT_REGION)  # a server's own account and Region unless its settings say otherwise


def of_arn(text: str) -> Scope | None:
    """The account and Region an ARN names, or None when it is not an ARN."""
    parsed = arns.parse(text)
    return None if parsed is None else Scope(parsed.account, parsed.region)


class Regional(Generic[T]):
    """One instance of a per-Region service for each account and Region, made on first use and kept."""

    def __init__(self, make: Callable[[Scope], T]) -> None:
        self._make = make
        self._made: dict[Scope, T] = {}
        self._lock = threading.Lock()

    def at(self, scope: Scope) -> T:
        found = self._made.get(scope)
        if found is None:
            with self._lock:
                found = self._made.get(scope)
                if found is None:
                    found = self._made[scope] = self._make(scope)
        return found

    def made(self) -> list[T]:
        """The instances made so far (every Region used since start-up)."""
        with self._lock:
            return list(self._made.values())
