"""Web identity tokens checked offline as STS checks them: issuer, signature, expiry, audience, trust keys."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.identity.web_identity import (
    NO_KEY,
    NOT_A_JWT,
    ExpiredWebIdentityToken,
    InvalidIdentityToken,
    OidcProvider,
    jwks_document,
    provider_url,
    verify,
)

NOW = 1_800_000_000
ISSUER = "https://token.actions.githubusercontent.com"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: Any, kid: str, algorithm: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(key.public_key()))
    return jwk | {"kid": kid, "alg": algorithm, "use": "sig"}


PROVIDER = OidcProvider(
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    "token.actions.githubusercontent.com",
    ("sts.amazonaws.com",),
    jwks={"keys": [public_jwk(RSA_KEY, "rsa-1", "RS256"), public_jwk(EC_KEY, "ec-1", "ES256")]},
)


def token(key: Any = RSA_KEY, kid: str | None = "rsa-1", algorithm: str = "RS256", **claims: Any) -> str:
    body = {"iss": ISSUER, "aud": "sts.amazonaws.com", "sub": "repo:octo/app:ref:refs/heads/main",
            "exp": NOW + 300, "iat": NOW - 5} | claims
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def find(url: str) -> OidcProvider | None:
    return PROVIDER if url == PROVIDER.url else None


def test_a_token_of_a_known_provider_signed_by_its_key_is_accepted() -> None:
    found = verify(token(), find, NOW)
    assert (found.provider, found.subject, found.audience, found.issuer) == (
        PROVIDER, "repo:octo/app:ref:refs/heads/main", "sts.amazonaws.com", ISSUER)
    assert found.condition_keys() == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:oaud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:octo/app:ref:refs/heads/main",
        "aws:FederatedProvider": PROVIDER.arn,
    }


def test_an_elliptic_curve_key_and_an_audience_list_are_accepted() -> None:
    found = verify(token(EC_KEY, "ec-1", "ES256", aud=["other", "sts.amazonaws.com"], amr=["mfa"]), find, NOW)
    assert found.audience == "sts.amazonaws.com"
    assert found.condition_keys()["token.actions.githubusercontent.com:amr"] == ["mfa"]


OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
REFUSED: list[tuple[str, Any, type, str]] = [
    ("not a JWT", "not-a-token", InvalidIdentityToken, NOT_A_JWT),
    ("an issuer with no provider", token(iss="https://accounts.example.com"), InvalidIdentityToken,
     "No OpenIDConnect provider found in your account for https://accounts.example.com"),
    ("no issuer", token(iss=""), InvalidIdentityToken, "No OpenIDConnect provider found in your account for "),
    ("a key id the provider does not have", token(kid="rsa-9"), InvalidIdentityToken, NO_KEY),
    ("a signature by another key", token(OTHER_KEY), InvalidIdentityToken,
     f"The web identity token's signature does not verify with the keys of {PROVIDER.arn}"),
    ("an unsigned token", jwt.encode({"iss": ISSUER, "aud": "sts.amazonaws.com", "exp": NOW + 60}, None,
                                     algorithm="none"), InvalidIdentityToken,
     "The web identity token is not signed with an algorithm STS accepts: none"),
    ("an HMAC token", jwt.encode({"iss": ISSUER, "exp": NOW + 60}, "secret" * 6, algorithm="HS256"),
     InvalidIdentityToken, "The web identity token is not signed with an algorithm STS accepts: HS256"),
    ("an expired token", token(exp=NOW - 1), ExpiredWebIdentityToken,
     f"Token expired: current date/time {NOW} must be before the expiration date/time {NOW - 1}"),
    ("a token expiring now", token(exp=NOW), ExpiredWebIdentityToken,
     f"Token expired: current date/time {NOW} must be before the expiration date/time {NOW}"),
    ("another audience", token(aud="my-app"), InvalidIdentityToken, "Incorrect token audience"),
    ("no audience", token(aud=[]), InvalidIdentityToken, "Incorrect token audience"),
]


@pytest.mark.parametrize(("text", "kind", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_sts_refuses_with_its_code_and_message(text: str, kind: type, message: str) -> None:
    with pytest.raises(kind) as caught:  # type: ignore[call-overload]
        verify(text, find, NOW)
    assert (caught.value.code, caught.value.status, caught.value.message) == (kind.code, 400, message)


def test_a_provider_without_keys_cannot_verify_anything() -> None:
    bare = OidcProvider(PROVIDER.arn, PROVIDER.url, PROVIDER.client_ids)
    with pytest.raises(InvalidIdentityToken, match="Couldn't retrieve verification key"):
        verify(token(), lambda url: bare, NOW)


def test_a_single_key_verifies_a_token_without_key_id() -> None:
    single = OidcProvider(PROVIDER.arn, PROVIDER.url, PROVIDER.client_ids,
                          jwks={"keys": [public_jwk(RSA_KEY, "only", "RS256")]})
    assert verify(token(kid=None), lambda url: single, NOW).subject.startswith("repo:")


@pytest.mark.parametrize(("issuer", "url"), [
    ("https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"),
    ("https://gitlab.example.com/", "gitlab.example.com"),
    ("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", "oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
])
def test_a_provider_is_named_by_its_url_without_scheme(issuer: str, url: str) -> None:
    assert provider_url(issuer) == url


def test_a_jwks_document_holds_public_keys_only() -> None:
    one = public_jwk(RSA_KEY, "k", "RS256")
    assert jwks_document(json.dumps(one)) == {"keys": [one]}
    assert jwks_document({"keys": [one]}) == {"keys": [one]}
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY))
    with pytest.raises(ValueError, match="public keys only"):
        jwks_document({"keys": [private]})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(st.text("abcXYZ-_=0123", max_size=20), min_size=1, max_size=4)
                 .map(".".join)))
def test_any_text_as_a_token_gets_stss_answer(text: str) -> None:
    try:
        verify(text, find, NOW)
    except (InvalidIdentityToken, ExpiredWebIdentityToken) as refused:
        assert refused.status == 400
