"""SNS for the tests: a self-signed certificate and key made here (no CA), served over a local
HTTP server that also answers subscription URLs, and messages signed as SNS signs them. The app
trusts that server through RECOVEROPS_AWS_SNS_DEV_CERT_HOST (development only)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from recoverops.serve.webhooks.sns import SIGNED_FIELDS

TOPIC = "arn:aws:sns:us-east-1:123456789012:recoverops-events"
CERT_PATH = "/SimpleNotificationService-test.pem"
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def self_signed() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test.invalid")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakeSnsHost:
    """What the local server was asked: certificate downloads and subscription confirmations."""

    host: str
    key: rsa.RSAPrivateKey
    certificate: bytes
    certificate_gets: int = 0
    confirmations: list[str] = field(default_factory=list)

    @property
    def cert_url(self) -> str:
        return f"http://{self.host}{CERT_PATH}"

    def sign(
        self, message: dict[str, str], *, version: str = "1", key: rsa.RSAPrivateKey | None = None
    ) -> dict[str, str]:
        """`message` with SignatureVersion, SigningCertURL (unless given) and its Signature."""
        signed = {"SignatureVersion": version, "SigningCertURL": self.cert_url, **message}
        canonical = "".join(
            f"{name}\n{signed[name]}\n" for name in SIGNED_FIELDS[signed["Type"]] if name in signed
        ).encode()
        algorithm = _HASHES.get(version, hashes.SHA256)()
        signature = (key or self.key).sign(canonical, padding.PKCS1v15(), algorithm)
        return {**signed, "Signature": base64.b64encode(signature).decode()}

    def notification(
        self, event: dict[str, Any], *, version: str = "1", topic: str = TOPIC, **extra: str
    ) -> dict[str, str]:
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": topic,
                "Message": json.dumps(event),
                "Timestamp": "2026-12-02T10:00:00.000Z",
                "UnsubscribeURL": f"http://{self.host}/unsubscribe",
                **extra,
            },
            version=version,
        )

    def subscription(self, kind: str = "SubscriptionConfirmation", **extra: str) -> dict[str, str]:
        token = uuid.uuid4().hex
        return self.sign(
            {
                "Type": kind,
                "MessageId": str(uuid.uuid4()),
                "Token": token,
                "TopicArn": TOPIC,
                "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
                "SubscribeURL": f"http://{self.host}/confirm?Token={token}",
                "Timestamp": "2026-12-02T10:00:00.000Z",
                **extra,
            }
        )


@contextmanager
def fake_sns_host() -> Iterator[FakeSnsHost]:
    key, certificate = self_signed()
    state: dict[str, FakeSnsHost] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            sns = state["sns"]
            if self.path == CERT_PATH:
                sns.certificate_gets += 1
                self._answer(200, sns.certificate)
            elif self.path.startswith("/confirm?"):
                sns.confirmations.append(self.path)
                self._answer(200, b"<ConfirmSubscriptionResponse/>")
            else:
                self._answer(404, b"not found")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host = f"127.0.0.1:{server.server_address[1]}"
    state["sns"] = FakeSnsHost(host=host, key=key, certificate=certificate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["sns"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
