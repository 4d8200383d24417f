"""What a service handler knows about the request it serves: who, where, and the system it acts on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cronbridge.identity.model import KeyRecord, Principal
    from cronbridge.system import System


@dataclass(frozen=True)
class RequestContext:
    """The calling principal, the region from the signing scope, and the running system."""

    system: System
    region: str
    account: str
    access_key: str | None = None
    principal_arn: str | None = None
    source_ip: str | None = None
    extra: dict[str, Any] | None = None
    principal: Principal | None = None  # the verified caller (the administrator in open mode)
    key: KeyRecord | None = None  # the access key it signed with (None in open mode)
