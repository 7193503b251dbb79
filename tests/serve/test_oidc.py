"""Tokens from an OIDC issuer: a key pair made here, its JWKS and discovery document served
over real HTTP on 127.0.0.1, and the API checking each token against them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from recoverops.auth import Authenticator, Role
from recoverops.auth.jwks import DISCOVERY_PATH, JwksCache
from recoverops.errors import AuthenticationError
from recoverops.serve import create_app
from tests.connectors.fake_server import FakeServer, Reply, closed_port_url, running
from tests.serve.harness import Backend

AUDIENCE = "recoverops-test-client"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Issuer:
    """An OIDC issuer: signing keys by kid, published at /jwks, found through discovery."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.url = server.url
        self.keys: dict[str, PrivateKey] = {}
        discovery = {"issuer": self.url, "jwks_uri": f"{self.url}/jwks"}
        server.route(DISCOVERY_PATH, _json(discovery))

    def add_key(self, kid: str, key: PrivateKey | None = None) -> PrivateKey:
        self.keys[kid] = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.publish()
        return self.keys[kid]

    def publish(self) -> None:
        listed = []
        for kid, key in self.keys.items():
            if isinstance(key, rsa.RSAPrivateKey):
                jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            else:
                jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            listed.append(jwk | {"kid": kid, "use": "sig"})
        self.server.route("/jwks", _json({"keys": listed}))

    def jwks_fetches(self) -> int:
        return self.server.paths().count("/jwks")

    def token(
        self,
        kid: str = "k1",
        *,
        key: PrivateKey | None = None,
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "alice@example.com",
            "roles": ["viewer", "operator", "offline_access"],
            "iat": now,
            "exp": now + 300,
        } | claims
        signing = key or self.keys[kid]
        return jwt.encode(payload, signing, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running() as server:
        made = Issuer(server)
        made.add_key("k1")
        yield made


@pytest.fixture
def api(issuer: Issuer, sqlite_backend: Backend) -> Iterator[TestClient]:
    settings = sqlite_backend.settings.model_copy(
        update={"auth_secret": None, "oidc_issuer": issuer.url, "oidc_audience": AUDIENCE}
    )
    with TestClient(create_app(settings, store=sqlite_backend.store)) as client:
        yield client


def me(api: TestClient, token: str) -> tuple[int, dict[str, Any]]:
    answer = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def test_a_token_from_the_issuer_acts_as_its_subject_with_its_highest_role(
    issuer: Issuer, api: TestClient
) -> None:
    assert me(api, issuer.token()) == (
        200,
        {"subject": "alice@example.com", "role": "operator", "auth": "jwt"},
    )
    assert me(api, issuer.token())[0] == 200
    assert issuer.jwks_fetches() == 1  # the keys are cached
    assert issuer.server.paths()[0] == DISCOVERY_PATH


def test_an_elliptic_curve_key_works_as_well(issuer: Issuer, api: TestClient) -> None:
    issuer.add_key("ec1", ec.generate_private_key(ec.SECP256R1()))
    token = issuer.token("ec1", algorithm="ES256", roles="admin")
    assert me(api, token) == (200, {"subject": "alice@example.com", "role": "admin", "auth": "jwt"})


# Times are seconds from when the test runs (not from collection, which may be long before).
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"iss": "https://login.elsewhere.example"}, "wrong_issuer"),
        ({"aud": "another-application"}, "wrong_audience"),
        ({"nbf": 600}, "not_yet_valid"),
        ({"sub": ""}, "missing_claim"),
    ],
)
def test_a_token_the_issuer_did_not_mean_for_us_now_is_401(
    issuer: Issuer, api: TestClient, claims: dict[str, Any], reason: str
) -> None:
    now = int(time.time())
    timed = {k: now + v if k in ("exp", "nbf") else v for k, v in claims.items()}
    status, body = me(api, issuer.token(**timed))
    assert (status, body["reason"]) == (401, reason), body


def test_a_token_signed_by_another_key_under_a_known_kid_is_401(
    issuer: Issuer, api: TestClient
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, body = me(api, issuer.token("k1", key=forger))
    assert (status, body) == (
        401,
        {"detail": "the token's signature does not match", "reason": "bad_signature"},
    )


def test_a_token_signed_by_an_unknown_kid_is_401(issuer: Issuer, api: TestClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    status, body = me(api, issuer.token("k9", key=stranger))
    assert (status, body["reason"]) == (401, "unknown_key")
    assert "'k9'" in body["detail"]


def test_alg_none_is_refused(issuer: Issuer, api: TestClient) -> None:
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": now + 60}
    unsigned = jwt.encode(claims | {"roles": "admin"}, "", algorithm="none")
    status, body = me(api, unsigned)
    assert (status, body["reason"]) == (401, "alg_not_allowed")


def test_hs256_signed_with_the_issuers_public_key_is_refused(
    issuer: Issuer, api: TestClient
) -> None:
    # The classic confusion: a verifier that let the token pick HS256 would use the public key,
    # which anyone can fetch, as the HMAC secret.
    public = (
        issuer.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    claims = {"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 60}
    signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims | {'roles': 'admin'}))}"
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    status, body = me(api, forged)
    assert (status, body["reason"]) == (401, "alg_not_allowed")


def test_a_valid_token_with_no_recoverops_role_is_403(issuer: Issuer, api: TestClient) -> None:
    status, body = me(api, issuer.token(roles=["offline_access"]))
    assert (status, body) == (
        403,
        {"detail": "alice@example.com has no RecoverOps role", "reason": "no_role"},
    )


def test_the_role_claim_is_configurable_and_may_be_nested(
    issuer: Issuer, sqlite_backend: Backend
) -> None:
    settings = sqlite_backend.settings.model_copy(
        update={
            "auth_secret": None,
            "oidc_issuer": issuer.url,
            "oidc_audience": AUDIENCE,
            "oidc_role_claim": "realm_access.roles",
        }
    )
    auth = Authenticator(settings)
    token = issuer.token(roles="viewer", realm_access={"roles": ["admin", "uma_authorization"]})
    assert auth.authenticate(f"Bearer {token}").role is Role.ADMIN


def test_keys_rotate_by_kid_and_a_made_up_kid_does_not_hammer_the_issuer(
    issuer: Issuer, sqlite_backend: Backend
) -> None:
    now = [0.0]
    cache = JwksCache(issuer=issuer.url, jwks_url=None, max_age_s=3600, clock=lambda: now[0])
    settings = sqlite_backend.settings.model_copy(
        update={"auth_secret": None, "oidc_issuer": issuer.url, "oidc_audience": AUDIENCE}
    )
    auth = Authenticator(settings, jwks=cache)
    assert auth.authenticate(f"Bearer {issuer.token('k1')}").subject == "alice@example.com"

    # The issuer adds k2 and signs with it: the first k2 token fetches the keys again.
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now[0] = 60.0
    issuer.add_key("k2", new_key)
    assert auth.authenticate(f"Bearer {issuer.token('k2')}").role is Role.OPERATOR
    assert issuer.jwks_fetches() == 2

    # Made-up kids within 10 s of the last fetch: refused without asking the issuer again.
    for n in range(5):
        now[0] = 61.0 + n
        with pytest.raises(AuthenticationError) as refused:
            auth.authenticate(f"Bearer {issuer.token('bogus', key=new_key)}")
        assert refused.value.reason == "unknown_key"
    assert issuer.jwks_fetches() == 2

    # k1 retired: once the cache is stale its tokens are refused.
    del issuer.keys["k1"]
    issuer.publish()
    now[0] = 60.0 + 3600.0
    old_token = jwt.encode(
        {"iss": issuer.url, "aud": AUDIENCE, "sub": "a", "exp": int(time.time()) + 60},
        new_key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(AuthenticationError) as retired:
        auth.authenticate(f"Bearer {old_token}")
    assert retired.value.reason == "unknown_key"


def test_an_unreachable_issuer_is_503_not_a_traceback(sqlite_backend: Backend) -> None:
    down = closed_port_url()
    settings = sqlite_backend.settings.model_copy(
        update={"auth_secret": None, "oidc_issuer": down, "oidc_audience": AUDIENCE}
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        {"iss": down, "aud": AUDIENCE, "sub": "a", "exp": int(time.time()) + 60},
        key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with TestClient(create_app(settings, store=sqlite_backend.store)) as client:
        answer = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer.json()["reason"] == "keys_unavailable"
    assert f"cannot fetch the issuer's discovery document from {down}" in answer.json()["detail"]


def test_a_discovery_document_naming_another_issuer_is_not_trusted(
    issuer: Issuer, sqlite_backend: Backend
) -> None:
    issuer.server.route(
        DISCOVERY_PATH, _json({"issuer": "https://evil.example", "jwks_uri": f"{issuer.url}/jwks"})
    )
    settings = sqlite_backend.settings.model_copy(
        update={"auth_secret": None, "oidc_issuer": issuer.url, "oidc_audience": AUDIENCE}
    )
    with pytest.raises(AuthenticationError) as refused:
        Authenticator(settings).authenticate(f"Bearer {issuer.token()}")
    assert refused.value.reason == "keys_unavailable"
    assert issuer.jwks_fetches() == 0


def test_an_explicit_jwks_url_skips_discovery(issuer: Issuer, sqlite_backend: Backend) -> None:
    settings = sqlite_backend.settings.model_copy(
        update={
            "auth_secret": None,
            "oidc_issuer": issuer.url,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_url": f"{issuer.url}/jwks",
        }
    )
    assert Authenticator(settings).authenticate(f"Bearer {issuer.token()}").subject
    assert issuer.server.paths() == ["/jwks"]


def _json(document: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(document).encode(), {"Content-Type": "application/json"})


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
