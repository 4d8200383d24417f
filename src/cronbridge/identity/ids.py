"""Identifiers shaped as AWS's: AKIA/ASIA key ids, AIDA/AROA/ANPA unique ids, secrets and session tokens."""

from __future__ import annotations

import base64
import secrets
import string

_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def _pick(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def access_key_id(temporary: bool = False) -> str:
    """AKIA... for a user's long-term key, ASIA... for temporary credentials (20 characters)."""
    return ("ASIA" if temporary else "AKIA") + _pick(_ID_ALPHABET, 16)


def secret_access_key() -> str:
    return _pick(_SECRET_ALPHABET, 40)


def unique_id(prefix: str) -> str:
    """AIDA (user), AROA (role), ANPA (policy) + 17 characters."""
    return prefix + _pick(_ID_ALPHABET, 17)


def session_token() -> str:
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(240)).decode()
