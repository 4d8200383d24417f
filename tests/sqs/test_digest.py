"""The MD5 digests of bodies and message attributes, checked against an independent implementation (moto's)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st
from moto.sqs.models import Message as MotoMessage

from cronbridge.model.sqs import MessageAttribute
from cronbridge.sqs.digest import md5_of_attributes, md5_of_body

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=20)
string_attr = st.builds(lambda t, v: MessageAttribute(t, v), st.sampled_from(["String", "Number", "String.custom"]),
                        st.text(min_size=1, max_size=40, alphabet=st.characters(blacklist_categories=["Cs"])))
binary_attr = st.builds(lambda v: MessageAttribute("Binary", binary_value=v), st.binary(min_size=1, max_size=40))


def moto_digest(attributes: dict[str, MessageAttribute]) -> str:
    message = MotoMessage("id", "body")
    message.message_attributes = {
        name: {"DataType": a.data_type, "StringValue": a.string_value, "BinaryValue": a.binary_value}
        for name, a in attributes.items()
    }
    return message.attribute_md5


def test_the_body_digest_is_the_hex_md5_of_its_utf8_bytes() -> None:
    assert md5_of_body("héllo") == hashlib.md5("héllo".encode()).hexdigest()


def test_no_attributes_have_no_digest() -> None:
    assert md5_of_attributes({}) is None


def test_a_pinned_attribute_digest_stays_the_same() -> None:
    attributes = {
        "ERROR_CODE": MessageAttribute("String", "Throttled"), "RETRY_ATTEMPTS": MessageAttribute("Number", "3"),
    }
    assert md5_of_attributes(attributes) == "5d9cbae98b94eaccdb12b0fe2474ebad" == moto_digest(attributes)


@given(st.dictionaries(names, st.one_of(string_attr, binary_attr), min_size=1, max_size=10))
def test_attribute_digests_agree_with_an_independent_implementation(attributes: dict[str, MessageAttribute]) -> None:
    assert md5_of_attributes(attributes) == moto_digest(attributes)


def test_attribute_order_does_not_change_the_digest() -> None:
    a = {"b": MessageAttribute("String", "1"), "a": MessageAttribute("Binary", binary_value=b"\x00\x01")}
    assert md5_of_attributes(a) == md5_of_attributes(dict(reversed(list(a.items()))))
