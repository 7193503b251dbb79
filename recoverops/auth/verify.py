"""`Authenticator`: an `Authorization: Bearer …` header in, the principal it proves out.

Two kinds of token are accepted, each when configured: an OIDC issuer's (RS/PS/ES/EdDSA,
checked with its JWKS) and the API's own (`recoverops token create`, HS256 with
RECOVEROPS_AUTH_SECRET). A token goes to the one its unverified `iss` names; the signature,
issuer, audience, expiry and algorithm are then all checked before any claim is believed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import jwt

from recoverops.auth import local
from recoverops.auth.jwks import JwksCache
from recoverops.auth.roles import DEVELOPMENT, Principal, Role
from recoverops.errors import AuthenticationError
from recoverops.settings import Settings

# Clocks disagree a little; a token is still good this many seconds after its `exp`.
LEEWAY_S = 30
# Public-key algorithms only for an issuer: with HS256 the "key" would be public (RFC 8725 §3.1).
ISSUER_ALGORITHMS = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}
BEARER = "bearer"


class AuthMode(StrEnum):
    JWT = "jwt"  # tokens are checked
    DISABLED = "disabled"  # development with nothing configured: everyone is admin
    UNCONFIGURED = "unconfigured"  # production with nothing configured: everything is refused


def configuration_problem(settings: Settings) -> str | None:
    """Why the API cannot serve with these settings (no way to check a token outside
    development), in one line naming the variables; None when it can."""
    if _configured(settings) or settings.development:
        return None
    return (
        "no way to check a token: set RECOVEROPS_OIDC_ISSUER and RECOVEROPS_OIDC_AUDIENCE, or "
        "RECOVEROPS_AUTH_SECRET (or RECOVEROPS_AUTH_SECRET_FILE); RECOVEROPS_ENV=development "
        "runs without sign-in on a test machine"
    )


def _configured(settings: Settings) -> bool:
    return settings.oidc_issuer is not None or settings.auth_signing_secret is not None


class Authenticator:
    """Checks bearer tokens as `settings` say; build one per app (it caches the JWKS)."""

    def __init__(self, settings: Settings, *, jwks: JwksCache | None = None) -> None:
        secret = settings.auth_signing_secret
        self._secret = None if secret is None else secret.get_secret_value()
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self._role_claims = settings.oidc_role_claims
        if jwks is None and settings.oidc_issuer is not None:
            jwks = JwksCache(
                issuer=settings.oidc_issuer,
                jwks_url=settings.oidc_jwks_url,
                max_age_s=settings.oidc_jwks_cache_s,
            )
        self._jwks = jwks
        if _configured(settings):
            self.mode = AuthMode.JWT
        elif settings.development:
            self.mode = AuthMode.DISABLED
        else:
            self.mode = AuthMode.UNCONFIGURED

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal the header's token proves; AuthenticationError saying why not."""
        if self.mode is AuthMode.DISABLED:
            return DEVELOPMENT
        if self.mode is AuthMode.UNCONFIGURED:
            raise AuthenticationError(
                "auth_not_configured",
                "sign-in is not configured on this server, so nothing but the webhooks and "
                "/healthz answers: set RECOVEROPS_AUTH_SECRET or RECOVEROPS_OIDC_ISSUER",
            )
        token = _bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise AuthenticationError("malformed_token", "the bearer token is not a JWT") from None
        issuer = unverified.get("iss")
        if self._secret is not None and (issuer == local.ISSUER or self._issuer is None):
            return self._local(token, header)
        return self._from_issuer(token, header)

    def _local(self, token: str, header: Mapping[str, Any]) -> Principal:
        assert self._secret is not None
        _allowed_algorithm(header, [local.ALGORITHM])
        claims = _decode(token, self._secret, local.ALGORITHM, local.ISSUER, local.AUDIENCE)
        role = claims.get(local.ROLE_CLAIM)
        return Principal(
            subject=claims["sub"], role=Role.highest([role] if isinstance(role, str) else [])
        )

    def _from_issuer(self, token: str, header: Mapping[str, Any]) -> Principal:
        assert self._jwks is not None and self._issuer is not None and self._audience is not None
        algorithm = _allowed_algorithm(header, list(ISSUER_ALGORITHMS))
        kid = header.get("kid")
        jwk = self._jwks.key(kid if isinstance(kid, str) else None)
        if ISSUER_ALGORITHMS[algorithm] != jwk.get("kty") or jwk.get("alg", algorithm) != algorithm:
            raise AuthenticationError(
                "alg_not_allowed", f"the token's algorithm {algorithm} does not fit its key"
            )
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=algorithm)
        except jwt.PyJWKError as error:
            raise AuthenticationError(
                "unknown_key", f"the issuer's key is unusable: {error}"
            ) from None
        claims = _decode(token, key, algorithm, self._issuer, self._audience)
        return Principal(subject=claims["sub"], role=Role.highest(self._roles(claims)))

    def _roles(self, claims: Mapping[str, Any]) -> list[str]:
        for name in self._role_claims:
            value: Any = claims
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if isinstance(value, str):
                return [value]
            if isinstance(value, list):
                return [item for item in value if isinstance(item, str)]
        return []


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise AuthenticationError("missing_token", "no bearer token: send Authorization: Bearer …")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        raise AuthenticationError(
            "missing_token", "the Authorization header is not `Bearer <token>`"
        )
    return token.strip()


def _allowed_algorithm(header: Mapping[str, Any], allowed: Sequence[str]) -> str:
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in allowed:
        raise AuthenticationError(
            "alg_not_allowed",
            f"the token's algorithm {algorithm!r} is not accepted here ({', '.join(allowed)})",
        )
    return algorithm


def _decode(
    token: str, key: str | jwt.PyJWK, algorithm: str, issuer: str, audience: str
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("expired", "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationError("not_yet_valid", "the token is not valid yet") from None
    except jwt.InvalidIssuerError:
        raise AuthenticationError("wrong_issuer", f"the token's issuer is not {issuer!r}") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationError(
            "wrong_audience", f"the token is not meant for this API (audience {audience!r})"
        ) from None
    except jwt.InvalidSignatureError:
        raise AuthenticationError("bad_signature", "the token's signature does not match") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthenticationError("missing_claim", f"the token has no {error.claim!r}") from None
    except jwt.InvalidAlgorithmError:
        raise AuthenticationError("alg_not_allowed", "the token's algorithm is refused") from None
    except jwt.InvalidTokenError as error:
        raise AuthenticationError("invalid_token", f"the token is invalid: {error}") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
        raise AuthenticationError("missing_claim", "the token's subject (sub) is empty")
    return claims
