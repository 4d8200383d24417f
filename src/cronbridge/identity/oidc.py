"""IAM OpenID Connect providers, and the signing keys set on each so tokens are checked offline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cronbridge.clock import Clock
from cronbridge.identity.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from cronbridge.identity.web_identity import OidcProvider, jwks_document, provider_url
from cronbridge.store.iam_oidc import OidcStore

CLIENT_IDS = 100
THUMBPRINTS = 5


class OidcService:
    """Create/Get/List/Delete OpenIDConnectProvider, client ids, thumbprints, tags, and cronbridge's keys."""

    def __init__(self, providers: OidcStore, clock: Clock, account: str, changed: Callable[[], None]) -> None:
        self.providers = providers
        self.clock = clock
        self.account = account
        self._changed = changed

    def create(self, url: str, client_ids: list[str], thumbprints: list[str],
               tags: dict[str, str] | None = None) -> OidcProvider:
        if not url.startswith("https://") or not provider_url(url):
            raise InvalidInput("Invalid Open ID Connect Provider URL. The URL must begin with https://")
        name = provider_url(url)
        arn = f"arn:aws:iam::{self.account}:oidc-provider/{name}"
        if self.providers.by_url(name) is not None:
            raise EntityAlreadyExists(f"Provider with url {url} already exists.")
        _check_counts(client_ids, thumbprints)
        provider = OidcProvider(arn, name, tuple(dict.fromkeys(client_ids)), tuple(thumbprints), self.clock.now(),
                                dict(tags or {}))
        self.providers.put(provider)
        self._changed()
        return provider

    def get(self, arn: str) -> OidcProvider:
        provider = self.providers.get(arn)
        if provider is None:
            raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
        return provider

    def find(self, url: str) -> OidcProvider | None:
        """The provider of an issuer (`https://host/path` or `host/path`), if the account has one."""
        return self.providers.by_url(provider_url(url))

    def all(self) -> list[OidcProvider]:
        return self.providers.all()

    def delete(self, arn: str) -> None:
        """Idempotent, as IAM documents it: deleting a provider that does not exist is not an error
        (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteOpenIDConnectProvider.html)."""
        if self.providers.delete(arn):
            self._changed()

    def add_client_id(self, arn: str, client_id: str) -> None:
        provider = self.get(arn)
        if client_id not in provider.client_ids:
            _check_counts([*provider.client_ids, client_id], list(provider.thumbprints))
            self._put(replace(provider, client_ids=(*provider.client_ids, client_id)))

    def remove_client_id(self, arn: str, client_id: str) -> None:
        provider = self.get(arn)
        self._put(replace(provider, client_ids=tuple(c for c in provider.client_ids if c != client_id)))

    def update_thumbprints(self, arn: str, thumbprints: list[str]) -> None:
        provider = self.get(arn)
        _check_counts(list(provider.client_ids), thumbprints)
        self._put(replace(provider, thumbprints=tuple(thumbprints)))

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        provider = self.get(arn)
        self._put(replace(provider, tags={**provider.tags, **tags}))

    def untag(self, arn: str, keys: list[str]) -> None:
        provider = self.get(arn)
        self._put(replace(provider, tags={k: v for k, v in provider.tags.items() if k not in keys}))

    def set_keys(self, arn_or_url: str, jwks: str | Mapping[str, Any]) -> OidcProvider:
        """cronbridge's own: the public keys (a JWKS) that sign the provider's tokens, for offline checks."""
        provider = self.providers.get(arn_or_url) or self.find(arn_or_url)
        if provider is None:
            raise NoSuchEntity(f"OpenIDConnect Provider not found for {arn_or_url}")
        try:
            document = jwks_document(jwks)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"The keys must be a JWKS document of public keys: {exc}") from None
        updated = replace(provider, jwks=document)
        self._put(updated)
        return updated

    def _put(self, provider: OidcProvider) -> None:
        self.providers.put(provider)
        self._changed()


def _check_counts(client_ids: list[str], thumbprints: list[str]) -> None:
    if len(client_ids) > CLIENT_IDS:
        raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS}")
    if len(thumbprints) > THUMBPRINTS:
        raise LimitExceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {THUMBPRINTS}")
