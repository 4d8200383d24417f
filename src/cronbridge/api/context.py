"""What a service handler knows about the request it serves: who, where, and the system it acts on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.requests import Request

from cronbridge.scope import Scope

if TYPE_CHECKING:
    from cronbridge.api.long_poll import Poll
    from cronbridge.identity.model import KeyRecord, Principal
    from cronbridge.system import System


def signing_scope(request: Request) -> tuple[str | None, str | None, str | None]:
    """(access key, Region, service) from the SigV4 credential scope (the Authorization header, or a presigned
    URL's X-Amz-Credential), when there is one: AWS routes a request to the Region it is signed for."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        _, _, rest = authorization.partition("Credential=")
        credential = rest.split(",", 1)[0].strip()
    else:
        credential = unquote(request.query_params.get("X-Amz-Credential", ""))
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None, None, None
    return parts[0], parts[2], parts[3]


def scope_of_request(system: System, request: Request) -> Scope:
    """Where one of our own endpoints acts: the Region a signed request names, else `?region=`, else the server's
    own (--region)."""
    _key, region, _service = signing_scope(request)
    region = region or request.query_params.get("region") or system.home.region
    return Scope(system.home.account, region)


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
    long_poll: Poll | None = None  # a ReceiveMessage that may wait (api/long_poll.py); None: answer at once

    @property
    def scope(self) -> Scope:
        """The account and Region the request acts in (the Region of its signature, as AWS routes it)."""
        return Scope(self.account, self.region)
