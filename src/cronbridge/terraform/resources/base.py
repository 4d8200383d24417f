"""What every resource type module provides, and the boto3 clients they share."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cronbridge.terraform.schema import BlockSpec

Values = dict[str, Any]


@functools.cache
def _session() -> Any:
    """One boto3 session per process: service models are loaded once, not per client."""
    import boto3

    return boto3.session.Session()


@functools.lru_cache(maxsize=64)
def _client(service: str, endpoint_url: str | None, region: str, credentials: tuple[tuple[str, str], ...]) -> Any:
    """A boto3 client, reused by every plan/apply/destroy of the process with the same settings."""
    return _session().client(service, region_name=region, endpoint_url=endpoint_url, **dict(credentials))


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
            creds = tuple(sorted((self.credentials or {}).items()))
            self._clients[service] = _client(service, self.endpoint_url, self.region, creds)
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
    exists: Callable[[Aws, Values], bool] | None = None
    """False when the object is gone from the server (deleted outside cronbridge)."""


@dataclass(frozen=True)
class DataSourceType:
    """One data source: its schema and how to read it (`aws` None: no server)."""

    name: str
    schema: BlockSpec
    read: Callable[[Aws | None, Values], Values]


NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
    "ClusterNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}
"""Error codes meaning "no such object" across the services."""


def error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def found(call: Callable[[], Any]) -> bool:
    """Run a describe/get call: False when it answers "not found", True when it succeeds."""
    try:
        call()
    except Exception as exc:
        if error_code(exc) in NOT_FOUND:
            return False
        raise
    return True


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


def retag_ecs(aws: Aws, arn: str, old: Values, new: Values) -> None:
    """ECS's TagResource / UntagResource for what changed between two `tags` maps."""
    added, removed = tag_changes(old, new)
    ecs = aws.client("ecs")
    if added:
        ecs.tag_resource(resourceArn=arn, tags=tags_list(added, "key", "value"))
    if removed:
        ecs.untag_resource(resourceArn=arn, tagKeys=removed)
