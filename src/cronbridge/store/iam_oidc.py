"""IAM OpenID Connect providers in SQLite, with the signing keys (JWKS) set on each for offline checks."""

from __future__ import annotations

import json

from cronbridge.identity.web_identity import OidcProvider
from cronbridge.store.database import Database, Row


def _provider(row: Row) -> OidcProvider:
    return OidcProvider(
        row["arn"], row["url"], tuple(json.loads(row["client_ids"])), tuple(json.loads(row["thumbprints"])),
        row["created_at"], dict(json.loads(row["tags"])), json.loads(row["jwks"]) if row["jwks"] else None,
    )


class OidcStore:
    """Rows in, records out; the identity service decides what is allowed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, provider: OidcProvider) -> None:
        self.db.execute(
            "INSERT INTO iam_oidc_providers (arn, url, client_ids, thumbprints, created_at, tags, jwks)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET client_ids = excluded.client_ids,"
            " thumbprints = excluded.thumbprints, tags = excluded.tags, jwks = excluded.jwks",
            (provider.arn, provider.url, json.dumps(list(provider.client_ids)), json.dumps(list(provider.thumbprints)),
             provider.created_at, json.dumps(dict(provider.tags)),
             json.dumps(provider.jwks) if provider.jwks is not None else None),
        )

    def get(self, arn: str) -> OidcProvider | None:
        row = self.db.one("SELECT * FROM iam_oidc_providers WHERE arn = ?", (arn,))
        return None if row is None else _provider(row)

    def by_url(self, url: str) -> OidcProvider | None:
        row = self.db.one("SELECT * FROM iam_oidc_providers WHERE url = ?", (url,))
        return None if row is None else _provider(row)

    def all(self) -> list[OidcProvider]:
        return [_provider(r) for r in self.db.query("SELECT * FROM iam_oidc_providers ORDER BY arn")]

    def delete(self, arn: str) -> bool:
        return self.db.execute("DELETE FROM iam_oidc_providers WHERE arn = ?", (arn,)) > 0
