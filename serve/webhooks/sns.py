"""Amazon SNS over HTTP: reading a message and proving SNS sent it.

SNS signs each message it POSTs with the key of a certificate it serves at `SigningCertURL`.
A message is trusted when:

1. `SigningCertURL` is https, on `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`), and
   names a `.pem`: anyone can sign a message with a certificate of their own, so where the
   certificate comes from is the proof. (`RECOVEROPS_AWS_SNS_DEV_CERT_HOST` adds one host, over
   http or https, for tests and development only: the settings refuse it elsewhere.)
2. The signature (base64 `Signature`) verifies, with that certificate's public key, over the
   message's canonical string: `name\\nvalue\\n` for each signed field in this order, a field
   that is absent left out (`Subject` of a notification without one):

       Notification                 Message MessageId Subject Timestamp TopicArn Type
       SubscriptionConfirmation     Message MessageId SubscribeURL Timestamp Token TopicArn Type
       UnsubscribeConfirmation      (the same as SubscriptionConfirmation)

   with RSA PKCS#1 v1.5 and SHA1 (`SignatureVersion` 1) or SHA256 (2).
3. The certificate is within its validity period.

Certificates are fetched once and cached (SNS rotates them rarely; a new URL is a new entry).
Confirming a subscription GETs its `SubscribeURL`, whose host is checked the same way.
Nothing here knows about FastAPI; `MalformedPayload` says why a body is not an SNS message,
`Untrusted` why a message is not SNS's.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from recoverops.errors import RecoverOpsError

from .base import MalformedPayload

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

_SUBSCRIPTION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: _SUBSCRIPTION_FIELDS,
    UNSUBSCRIBE_CONFIRMATION: _SUBSCRIPTION_FIELDS,
}
_OPTIONAL = frozenset({"Subject"})
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
MAX_CERTIFICATE_BYTES = 64 * 1024
CACHED_CERTIFICATES = 32
TIMEOUT_S = 10.0


class Untrusted(RecoverOpsError):
    """The message is not provably from SNS (its certificate's URL, its signature); the
    message says why."""


@dataclass(frozen=True, slots=True)
class SnsMessage:
    """An SNS message as POSTed, its signed fields checked present."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    fields: Mapping[str, str]

    @property
    def subscribe_url(self) -> str:
        return self.fields.get("SubscribeURL", "")


def parse(document: Mapping[str, Any], *, announced: str | None) -> SnsMessage:
    """The message in the body; `announced` is the `x-amz-sns-message-type` header."""
    kind = document.get("Type")
    if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
        raise MalformedPayload(
            f"field Type must be one of {', '.join(SIGNED_FIELDS)}, not {kind!r:.60}"
        )
    if announced is not None and announced != kind:
        raise MalformedPayload(f"x-amz-sns-message-type says {announced!r:.60}, the body {kind}")
    fields: dict[str, str] = {}
    for name in (*SIGNED_FIELDS[kind], "Signature", "SignatureVersion", "SigningCertURL"):
        value = document.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if not isinstance(value, str) or (not value and name not in _OPTIONAL | {"Message"}):
            raise MalformedPayload(f"missing field {name} (a string) of an SNS {kind}")
        fields[name] = value
    return SnsMessage(
        type=kind,
        message_id=fields["MessageId"],
        topic_arn=fields["TopicArn"],
        message=fields["Message"],
        fields=fields,
    )


def canonical(message: SnsMessage) -> bytes:
    """The string SNS signs: `name\\nvalue\\n` per signed field present, in order."""
    parts = [
        f"{name}\n{message.fields[name]}\n"
        for name in SIGNED_FIELDS[message.type]
        if name in message.fields
    ]
    return "".join(parts).encode()


def check_sns_url(url: str, *, extra_host: str | None, what: str) -> None:
    """An https URL on an SNS host (or the development host), else Untrusted."""
    try:
        parts = urlsplit(url)
        host, netloc = (parts.hostname or "").lower(), parts.netloc.lower()
    except ValueError:
        raise Untrusted(f"{what} is no URL") from None
    if extra_host is not None and netloc == extra_host.lower():
        if parts.scheme in {"http", "https"}:
            return
    if parts.scheme != "https":
        raise Untrusted(f"{what} must be https, not {parts.scheme or 'no scheme'}")
    if not _SNS_HOST.fullmatch(host) or netloc != host:
        raise Untrusted(f"{what} host {netloc!r:.80} is not sns.<region>.amazonaws.com(.cn)")


class SnsVerifier:
    """Verifies SNS messages; keeps the certificates it fetched (at most `cached`)."""

    def __init__(
        self,
        *,
        extra_host: str | None = None,
        client: httpx.Client | None = None,
        cached: int = CACHED_CERTIFICATES,
    ) -> None:
        self._extra_host = extra_host
        self._client = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
        self._cached = cached
        self._certificates: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()
        self.fetched = 0  # certificates downloaded (the cache's misses)

    def verify(self, message: SnsMessage, *, now: datetime | None = None) -> None:
        """Return if SNS signed `message`; raise Untrusted saying why not."""
        algorithm = _HASHES.get(message.fields["SignatureVersion"])
        if algorithm is None:
            raise Untrusted(
                f"SignatureVersion {message.fields['SignatureVersion']!r:.20} is not 1 or 2"
            )
        url = message.fields["SigningCertURL"]
        check_sns_url(url, extra_host=self._extra_host, what="SigningCertURL")
        if not urlsplit(url).path.endswith(".pem"):
            raise Untrusted("SigningCertURL does not name a .pem certificate")
        try:
            signature = base64.b64decode(message.fields["Signature"], validate=True)
        except (binascii.Error, ValueError):
            raise Untrusted("Signature is not base64") from None
        certificate = self._certificate(url)
        when = now or datetime.now(UTC)
        if not certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc:
            raise Untrusted("the signing certificate is outside its validity period")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Untrusted("the signing certificate's key is not RSA")
        try:
            key.verify(signature, canonical(message), padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise Untrusted("the signature does not match the message") from None

    def confirm(self, message: SnsMessage) -> None:
        """Confirm a subscription: GET its SubscribeURL (an SNS host's, checked first)."""
        url = message.subscribe_url
        check_sns_url(url, extra_host=self._extra_host, what="SubscribeURL")
        answer = self._client.get(url)
        answer.raise_for_status()

    def close(self) -> None:
        self._client.close()

    def _certificate(self, url: str) -> x509.Certificate:
        with self._lock:
            known = self._certificates.get(url)
            if known is not None:
                self._certificates.move_to_end(url)
                return known
        try:
            answer = self._client.get(url)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise CertificateUnavailable(
                f"the signing certificate could not be fetched ({type(error).__name__})"
            ) from error
        if len(answer.content) > MAX_CERTIFICATE_BYTES:
            raise Untrusted("the signing certificate is too large to be one")
        try:
            certificate = x509.load_pem_x509_certificate(answer.content)
        except ValueError:
            raise Untrusted("SigningCertURL does not serve a PEM certificate") from None
        with self._lock:
            self.fetched += 1
            self._certificates[url] = certificate
            while len(self._certificates) > self._cached:
                self._certificates.popitem(last=False)
        return certificate


class CertificateUnavailable(RecoverOpsError):
    """The SNS host did not serve the certificate now: the message may be genuine (retry)."""
