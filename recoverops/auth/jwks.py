"""An OIDC issuer's signing keys: its JWKS document, fetched over HTTPS, cached, and fetched
again when a token names a key (`kid`) not in the cache, which is how issuers rotate keys."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from recoverops.errors import AuthenticationError

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
# A token naming an unknown key fetches the keys again, but no more often than this: otherwise
# anyone could make the API hammer the issuer by sending tokens with made-up key ids.
MIN_REFRESH_S = 10.0
FETCH_TIMEOUT_S = 5.0

Jwk = Mapping[str, Any]


class JwksCache:
    """The issuer's keys by `kid`, fetched on first use and after `max_age_s`."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None,
        max_age_s: float,
        min_refresh_s: float = MIN_REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, Jwk] = {}
        self._fetched_at: float | None = None

    def key(self, kid: str | None) -> Jwk:
        """The JWK that `kid` names (a token without `kid`: the issuer's only key)."""
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._max_age_s:
                self._refresh(now)
            found = self._lookup(kid)
            fetched_at = now if self._fetched_at is None else self._fetched_at
            if found is None and now - fetched_at >= self._min_refresh_s:
                self._refresh(now)  # a key the issuer added since we last looked
                found = self._lookup(kid)
        if found is None:
            if kid is None:
                raise AuthenticationError(
                    "unknown_key", "the token names no key (kid) and the issuer has several"
                )
            raise AuthenticationError(
                "unknown_key", f"the token is signed with key {kid!r}, not one of the issuer's"
            )
        return found

    def _lookup(self, kid: str | None) -> Jwk | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _refresh(self, now: float) -> None:
        try:
            keys = self._fetch()
        except AuthenticationError:
            if not self._keys:
                raise
            # The issuer is down: the keys we have stay good until it is back.
            log.warning("cannot fetch the issuer's keys; using the ones fetched before")
            self._fetched_at = now
            return
        self._keys = keys
        self._fetched_at = now

    def _fetch(self) -> dict[str | None, Jwk]:
        url = self._jwks_url or self._discover()
        document = _get_json(url, "the issuer's keys (JWKS)")
        listed = document.get("keys")
        if not isinstance(listed, list):
            raise AuthenticationError("keys_unavailable", f"{url} is no JWKS document (no keys)")
        keys: dict[str | None, Jwk] = {}
        for jwk in listed:
            # Encryption keys share the document; only signing keys verify tokens.
            if isinstance(jwk, dict) and jwk.get("use", "sig") == "sig" and "kty" in jwk:
                keys[jwk.get("kid")] = jwk
        log.info("fetched %d signing keys from %s", len(keys), url)
        return keys

    def _discover(self) -> str:
        url = self._issuer.rstrip("/") + DISCOVERY_PATH
        document = _get_json(url, "the issuer's discovery document")
        if document.get("issuer") != self._issuer:
            raise AuthenticationError(
                "keys_unavailable",
                f"{url} names issuer {document.get('issuer')!r}, not {self._issuer!r}",
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise AuthenticationError("keys_unavailable", f"{url} has no jwks_uri")
        return jwks_uri


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_S, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise AuthenticationError(
            "keys_unavailable", f"cannot fetch {what} from {url}: {type(error).__name__}"
        ) from None
    if not isinstance(document, dict):
        raise AuthenticationError("keys_unavailable", f"{url}: {what} is not a JSON object")
    return document
