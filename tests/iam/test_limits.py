"""IAM's size limits per policy type: managed 6,144, trust 2,048, inline per user/role/group, white space free."""

from __future__ import annotations

import json

import pytest

from cronbridge.iam import limits
from cronbridge.iam.limits import PolicyTooLarge, policy_size


def sized(characters: int) -> str:
    """A policy document of exactly `characters` non-white-space characters, pretty-printed."""
    base = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::"}]}
    padding = characters - policy_size(json.dumps(base))
    base["Statement"][0]["Resource"] += "b" * padding
    text = json.dumps(base, indent=4)
    assert policy_size(text) == characters
    return text


def test_white_space_is_not_counted() -> None:
    assert policy_size("{ \"a\" :\n\t[ \"b c\" ] }") == policy_size("{\"a\":[\"bc\"]}") == 12


@pytest.mark.parametrize(("check", "limit", "message"), [
    (limits.check_managed, 6144, "Cannot exceed quota for PolicySize: 6144"),
    (limits.check_trust, 2048, "Cannot exceed quota for ACLSizePerRole: 2048"),
])
def test_a_policy_may_fill_its_quota_but_not_exceed_it(check: object, limit: int, message: str) -> None:
    assert callable(check)
    check(sized(limit))
    with pytest.raises(PolicyTooLarge) as caught:
        check(sized(limit + 1))
    assert (caught.value.code, caught.value.status, caught.value.message) == ("LimitExceeded", 409, message)


@pytest.mark.parametrize(("kind", "limit"), [("user", 2048), ("role", 10240), ("group", 5120)])
def test_inline_policies_count_together_per_owner(kind: limits.OwnerKind, limit: int) -> None:
    half = sized(limit // 2)
    limits.check_inline(kind, "Owner", [half, half])
    with pytest.raises(PolicyTooLarge) as caught:
        limits.check_inline(kind, "Owner", [half, half, sized(200)])
    assert caught.value.message == f"Maximum policy size of {limit} bytes exceeded for {kind} Owner"
