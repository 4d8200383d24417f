"""Console sessions kept on the server (the cookie only names one): signing out ends a session for every copy of the
cookie, and each request checks that the session's access key still exists, is active and unexpired. Sessions and the
cookie's signing key live in the database, so every server sharing it honours a session any of them opened."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from cronbridge.clock import Clock
from cronbridge.scope import Scope
from cronbridge.store.database import Database
from cronbridge.store.documents import Documents
from cronbridge.store.peers import shared_secret

KIND = "console-session"
KEY_NAME = "console-signing-key"  # in server_secrets
HOURS = 12
LEGACY_KEY_FILE = "console-secret"  # where releases before the shared key kept it, in the data folder


def signing_key(db: Database, data_dir: Path) -> str:
    """The console cookie's signing key, made once per database (every server on it signs and reads cookies alike);
    a key an older release kept in the data folder is adopted, so its signed-in users stay signed in."""
    legacy = data_dir / LEGACY_KEY_FILE
    made = legacy.read_text().strip() if legacy.is_file() else ""
    return shared_secret(db, KEY_NAME, made)


@dataclass(frozen=True)
class ConsoleSession:
    """Who signed in, and until when; stored under `digest`, a hash of the session id (the id is only in the
    cookie: reading the database gives no session away)."""

    digest: str
    key_id: str
    created_at: float
    expires_at: float


class Sessions:
    """Open, look up and end console sessions, as documents every server on the database shares."""

    def __init__(self, docs: Documents, clock: Clock, home: Scope, hours: float = HOURS) -> None:
        self.docs = docs
        self.clock = clock
        self.home = home  # sessions are not regional: kept under the server's own account and Region
        self.seconds = hours * 3600

    def open(self, key_id: str) -> str:
        """A new session for `key_id`; returns its id (to put in the cookie; only its hash is stored)."""
        now = self.clock.now()
        self._purge(now)
        session_id = secrets.token_urlsafe(32)
        digest = _digest(session_id)
        self.docs.put(KIND, self.home, digest, ConsoleSession(digest, key_id, now, now + self.seconds))
        return session_id

    def key_of(self, session_id: str) -> str | None:
        """The access key of a live session; None when it was ended, has expired or never existed."""
        found = self.docs.get(KIND, self.home, _digest(session_id), ConsoleSession)
        if found is None or found.expires_at <= self.clock.now():
            return None
        return found.key_id

    def close(self, session_id: str) -> None:
        self.docs.delete(KIND, self.home, _digest(session_id))

    def _purge(self, now: float) -> None:
        """Expired sessions go when a new one opens (sign-ins are rare: a pass over them is cheap enough)."""
        for session in self.docs.list(KIND, ConsoleSession, self.home):
            if session.expires_at <= now:
                self.docs.delete(KIND, self.home, session.digest)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
