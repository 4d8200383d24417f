"""PURE. The MD5 digests SQS returns for a message body and for its (system) message attributes."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping

from cronbridge.model.sqs import MessageAttribute

_STRING, _BINARY = 1, 2


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _field(data: bytes) -> bytes:
    """A length-prefixed field: 4-byte big-endian length, then the bytes."""
    return struct.pack(">I", len(data)) + data


def _encoded(name: str, attribute: MessageAttribute) -> bytes:
    head = _field(name.encode("utf-8")) + _field(attribute.data_type.encode("utf-8"))
    if attribute.base_type == "Binary":
        return head + bytes([_BINARY]) + _field(attribute.binary_value or b"")
    return head + bytes([_STRING]) + _field((attribute.string_value or "").encode("utf-8"))


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    """AWS's digest over attributes sorted by name; None when there are none (the field is then omitted)."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        digest.update(_encoded(name, attributes[name]))
    return digest.hexdigest()
