"""What every resource type module provides, and the boto3 clients they share."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cronbridge.terraform.schema import BlockSpec

Values = dict[str, Any]


@dataclass
class Aws:
    """boto3 clients for one endpoint, region and set of credentials (None: boto3's usual chain)."""

    endpoint_url: str | None
    region: str
    credentials: dict[str, str] | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A cached boto3 client for a service (ecs, events, logs, iam, scheduler, sqs, sts)."""
        if service not in self._clients:
            import boto3

            session = boto3.session.Session(region_name=self.region, **(self.credentials or {}))
            self._clients[service] = session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    @functools.cached_property
    def identity(self) -> dict[str, str]:
        """The caller's account, ARN and user id (STS GetCallerIdentity)."""
        reply = self.client("sts").get_caller_identity()
        return {"account_id": reply["Account"], "arn": reply["Arn"], "user_id": reply["UserId"]}


@dataclass(frozen=True)
class ResourceType:
    """One Terraform resource type: its schema and how to create, update and delete it."""

    name: str
    schema: BlockSpec
    create: Callable[[Aws, Values], Values]
    delete: Callable[[Aws, Values], None]
    update: Callable[[Aws, Values, Values], Values] | None = None


@dataclass(frozen=True)
class DataSourceType:
    """One data source: its schema and how to read it (`aws` None: no server)."""

    name: str
    schema: BlockSpec
    read: Callable[[Aws | None, Values], Values]


def generated_name(prefix: str = "terraform-") -> str:
    """A unique name, as the provider generates when `name` is left out."""
    return prefix + secrets.token_hex(12)


def tags_list(tags: dict[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """A tag map as AWS's list of {Key, Value} pairs."""
    return [{key: k, value: v} for k, v in (tags or {}).items()]


def drop_none(**fields: Any) -> dict[str, Any]:
    """Keyword arguments for a boto3 call, without the unset ones."""
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != {}}


def first(blocks: list[Values] | None) -> Values | None:
    """The single nested block of a max-1 block list, or None."""
    return blocks[0] if blocks else None


def tag_changes(old: Values, new: Values) -> tuple[dict[str, str], list[str]]:
    """Tags to set and tag keys to remove when `tags` goes from old to new."""
    before, after = old.get("tags") or {}, new.get("tags") or {}
    added = {k: v for k, v in after.items() if before.get(k) != v}
    return added, sorted(set(before) - set(after))
