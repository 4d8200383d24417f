"""Build and parse ARNs in AWS's shapes."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Arn:
    """arn:partition:service:region:account:resource."""

    service: str
    region: str
    account: str
    resource: str
    partition: str = "aws"

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


# a Region's partition, by the Region's prefix (AWS's partitions: China, GovCloud, the ISO Regions); else "aws"
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
               ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"))


def partition_of(region: str) -> str:
    """The partition a Region belongs to (`cn-north-1` -> `aws-cn`)."""
    return next((partition for prefix, partition in _PARTITIONS if region.startswith(prefix)), "aws")


def build(service: str, region: str, account: str, resource: str) -> str:
    return str(Arn(service, region, account, resource, partition_of(region)))


@functools.lru_cache(maxsize=65536)
def parse(text: str) -> Arn | None:
    """The parts of an ARN, or None when `text` is not one (remembered: the same ARNs are parsed again and again)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2]:
        return None
    return Arn(parts[2], parts[3], parts[4], parts[5], parts[1])


def resource_name(text: str, kind: str) -> str:
    """The name after `kind/` in an ARN (`cluster/default` -> `default`), or `text` itself when not an ARN."""
    arn = parse(text)
    if arn is None:
        return text
    prefix = kind + "/"
    return arn.resource[len(prefix):] if arn.resource.startswith(prefix) else arn.resource
