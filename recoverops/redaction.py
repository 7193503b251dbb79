"""Secrets in log text, found and masked before any text quoting a log leaves the analysis.

    log ─► Redactor.for_log (the log's private-key blocks, read once)
    line ─► private-key lines ─► rules, most specific first ─► the line with each secret masked

A masked secret keeps what kind it was and loses what it was, so the line still reads as
evidence: `ghp_…[redacted]`, `https://deploy:…[redacted]@git.example.com`,
`AWS_SECRET_ACCESS_KEY=…[redacted]`, `-----BEGIN RSA PRIVATE KEY-----`, then `…[redacted]` for each
line of the key. Masking twice changes nothing.

The token formats are detect-secrets' plugins' own expressions (GitHub, GitLab, AWS, Slack,
Azure storage, JWTs with their formal check, Stripe, SendGrid, PyPI, OpenAI, Twilio, Square)
and their Shannon entropy; the rules below add what those plugins miss or match
too narrowly for logs: fine-grained GitHub tokens, Google API keys, bare npm tokens, unquoted AWS
secret keys, private keys spanning lines, passwords in URLs whatever characters they hold,
Authorization headers, and values assigned to secret-sounding names (`*_TOKEN`, `*_SECRET`,
`*_KEY`, `*PASSWORD`): a password whatever it is, the others only when the value looks random.
A bare random-looking string with no such name is left alone: commit SHAs, image digests, UUIDs
and lockfile hashes are evidence, not secrets.

Where it runs: the detector masks its output (evidence, failure chunk, failing step) after the
verdict and the ranking, so every consumer of an `Analysis` (CLI, JSON, the store, feature rows,
MLflow input examples, the HTTP API and the dashboard, a prompt) gets masked text, and a secret
never changes what is picked. Only lines that leave are masked, never the whole log: a line costs
about 56 regex searches (`bench/redaction.py`). Text from elsewhere goes through `redact_text`
(the human report's context lines, a connector's error) or `redact_json` (a stored row read back).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from recoverops.logs.document import clean_line

MASK = "…[redacted]"

# What may continue a token past the end of a plugin's match: their expressions fix a length
# (`ghp_` and 36 characters) or stop early (a JWT's signature), and the rest must not show.
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-]*")
_BASE64_TAIL = re.compile(r"[A-Za-z0-9_\-+/=.]*")
_NOTHING = re.compile(r"")


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of secret: where it is in a line and how much of it names its kind."""

    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0  # the secret within the match
    # The leading characters that say what the secret is (`ghp_`), kept in the mask.
    keep: re.Pattern[str] = _NOTHING
    tail: re.Pattern[str] = _TOKEN_TAIL
    accept: Callable[[re.Match[str]], bool] | None = None


def _plugin(
    kind: str,
    denylist: Iterable[re.Pattern[str]],
    *,
    keep: str = "",
    tail: re.Pattern[str] = _TOKEN_TAIL,
    accept: Callable[[re.Match[str]], bool] | None = None,
) -> tuple[Rule, ...]:
    """Rules from a detect-secrets plugin's expressions (the whole match is the secret)."""
    return tuple(
        Rule(kind, pattern, keep=re.compile(keep), tail=tail, accept=accept) for pattern in denylist
    )


_base64_entropy = Base64HighEntropyString().calculate_shannon_entropy
_hex_entropy = HexHighEntropyString().calculate_shannon_entropy
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_RUNS = re.compile(r"[A-Za-z0-9+/=_\-]+")
_PIECES = re.compile(r"[A-Za-z0-9+/=]+")
# Values that stand for a secret rather than being one.
_PLACEHOLDERS = frozenset(
    {"true", "false", "null", "none", "nil", "undefined", "required", "optional", "empty"}
)
MIN_RANDOM = 16
MIN_PIECE = 8


def looks_random(value: str) -> bool:
    """A value that reads like a generated secret, not a word, path, id or version.

    Its longest run of base64 characters (`-` and `_` included) must be 16 long or more, and not
    words joined by separators: `node-cache-Linux-x64` has no piece of 8. A hex value must pass
    detect-secrets' hex entropy limit (3.0, which discounts all-digit numbers); any other must
    mix letters and digits and come near the most entropy its length allows (random 16
    characters give about 3.7 bits a character, of at most 4)."""
    if value.startswith(("/", "./", "~/")) or "://" in value:
        return False
    if _UUID.fullmatch(value):
        return True  # Heroku API keys and npm's legacy tokens are UUIDs
    run = max(_RUNS.findall(value), key=len, default="")
    piece = max(_PIECES.findall(run), key=len, default="")
    if len(run) < MIN_RANDOM or len(piece) < MIN_PIECE:
        return False
    if _HEX.fullmatch(run):
        return _hex_entropy(run) > 3.0
    if not (any(c.isdigit() for c in run) and any(c.isalpha() for c in run)):
        return False
    return _base64_entropy(run) >= min(math.log2(len(run)) - 1.0, 4.3)


def _is_a_value(value: str) -> bool:
    return not (
        MASK in value
        or value.startswith(("$", "%", "<", "{", "(", "["))
        or value.strip("*xX") == ""
        or value.lower() in _PLACEHOLDERS
    )


def _named_secret(match: re.Match[str]) -> bool:
    value = match.group("value")
    if not _is_a_value(value):
        return False
    if match.group("password"):
        return len(value) >= 3  # a password is a secret however guessable it is
    return looks_random(value)


def _jwt(match: re.Match[str]) -> bool:
    return bool(JwtTokenDetector.is_formally_valid(match.group(0)))


def _secret_value(match: re.Match[str]) -> bool:
    return _is_a_value(match.group("secret"))


_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/]{16}")


def _private_key_body(match: re.Match[str]) -> bool:
    return _KEY_MATERIAL.search(match.group("secret")) is not None


_PRIVATE_KEY_BEGIN = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_ASSIGN = r"[\"']?\s*(?:=>|:=|=|:)\s*[\"']?"

RULES: tuple[Rule, ...] = (
    # Provider tokens: detect-secrets' expressions, ours where they miss a format.
    *_plugin("github", GitHubTokenDetector.denylist, keep=r"gh[pousr]_"),
    Rule("github", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"), keep=re.compile("github_pat_")),
    *_plugin("gitlab", GitLabTokenDetector.denylist, keep=r"gl[a-z]+-|GR1348941"),
    Rule("aws-access-key-id", AWSKeyDetector.denylist[0], keep=re.compile(r"[A-Z0-9]{4}")),
    Rule("aws-secret-key", AWSKeyDetector.denylist[1], group=1, tail=_NOTHING),
    Rule(
        "aws-secret-key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key" + _ASSIGN + r"(?P<secret>[A-Za-z0-9/+]{40})\b"
        ),
        group="secret",
        tail=_NOTHING,
    ),
    Rule("slack", SlackDetector.denylist[0], keep=re.compile(r"xox[a-z]-", re.I)),
    Rule(
        "slack",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]+"),
        keep=re.compile(r"https://hooks\.slack\.com/[a-z]+/"),
    ),
    Rule("slack", re.compile(r"\bxapp-\d-[A-Za-z0-9\-]{20,}"), keep=re.compile(r"xapp-")),
    Rule("npm", re.compile(r"\bnpm_[A-Za-z0-9]{36}"), keep=re.compile(r"npm_")),
    Rule(
        "npm",
        re.compile(r":_authToken=\s*(?P<secret>[^\s$\"'][^\s\"']*)"),
        group="secret",
        tail=_NOTHING,
    ),
    Rule("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), keep=re.compile(r"AIza")),
    *_plugin(
        "azure-storage-key", AzureStorageKeyDetector.denylist, keep="AccountKey=", tail=_BASE64_TAIL
    ),
    Rule(
        "azure-storage-key",
        re.compile(r"(?i)\b(?:SharedAccessKey|SharedAccessSignature)=(?P<secret>[^;\s\"']{8,})"),
        group="secret",
        tail=_NOTHING,
    ),
    Rule("azure-sas", re.compile(r"[?&]sig=(?P<secret>[A-Za-z0-9%+/=]{16,})"), group="secret"),
    *_plugin("jwt", JwtTokenDetector.denylist, keep="eyJ", tail=_BASE64_TAIL, accept=_jwt),
    *_plugin("stripe", StripeDetector.denylist, keep=r"[rs]k_live_"),
    *_plugin("sendgrid", SendGridDetector.denylist, keep=r"SG\."),
    *_plugin("pypi", PypiTokenDetector.denylist, keep=r"pypi-"),
    *_plugin("openai", OpenAIDetector.denylist, keep=r"sk-"),
    *_plugin("twilio", TwilioKeyDetector.denylist, keep=r"AC|SK"),
    *_plugin("square", SquareOAuthDetector.denylist, keep=r"sq0csp-"),
    # A private key on one line (a JSON service-account file, an escaped PEM): its body.
    Rule(
        "private-key",
        re.compile(_PRIVATE_KEY_BEGIN + r"(?P<secret>.+?)(?=-----END |$)"),
        group="secret",
        tail=_NOTHING,
        accept=_private_key_body,
    ),
    # Credentials in URLs and headers, whatever characters they hold.
    Rule(
        "url-password",
        re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@?#]+:(?P<secret>[^\s/]+)@"),
        group="secret",
        tail=_NOTHING,
        accept=_secret_value,
    ),
    Rule(
        "authorization",
        re.compile(
            r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
            # the scheme (Bearer, token, Basic, Negotiate, …), then the credentials
            r"(?:[A-Za-z][A-Za-z0-9\-]*\s+)?(?P<secret>[A-Za-z0-9\-._~+/=]{8,})"
        ),
        group="secret",
        tail=_NOTHING,
        accept=_secret_value,
    ),
    Rule(
        "authorization",
        re.compile(
            r"(?i)\b(?:private-token|job-token|x-api-key|x-auth-token|x-gitlab-token|"
            r"x-vault-token|api-key)[\"']?\s*[:=]\s*[\"']?(?P<secret>[^\s\"']{8,})"
        ),
        group="secret",
        tail=_NOTHING,
        accept=_secret_value,
    ),
    Rule(
        "authorization",
        re.compile(r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{16,}=*)"),
        group="secret",
        tail=_NOTHING,
        accept=_secret_value,
    ),
    # Values given to secret-sounding names: `DB_PASSWORD=…`, `"api_key": "…"`, `--token …`.
    Rule(
        "assignment",
        re.compile(
            r"(?i)(?<![\w.\-])[\w.\-]*?"
            r"(?:(?P<password>passw(?:or)?d|passphrase|[_.\-]pass|[_.\-]pwd|[_.\-]auth)"
            r"|token|secret|api_?key|[_.\-]key|credentials?)" + _ASSIGN + r"(?P<value>[^\s\"'`,;]+)"
        ),
        group="value",
        tail=_NOTHING,
        accept=_named_secret,
    ),
    Rule(
        "assignment",
        re.compile(
            r"(?i)(?<!\S)--?(?:(?P<password>password|passwd|passphrase)|token|secret|api-key)"
            r" +(?P<value>[^\s\"'`,;-][^\s\"'`,;]*)"
        ),
        group="value",
        tail=_NOTHING,
        accept=_named_secret,
    ),
)


def _mask_with(rule: Rule, line: str) -> str:
    spans: list[tuple[int, int, int]] = []
    for match in rule.pattern.finditer(line):
        if rule.accept is not None and not rule.accept(match):
            continue
        start, end = match.span(rule.group)
        if start < 0 or end <= start:
            continue
        tail = rule.tail.match(line, end)
        end = tail.end() if tail else end
        secret = line[start:end]
        if MASK in secret:
            continue
        kind = rule.keep.match(secret)
        spans.append((start, end, kind.end() if kind else 0))
    for start, end, kept in reversed(spans):
        line = line[: start + kept] + MASK + line[end:]
    return line


def redact_line(line: str) -> str:
    """`line` with every secret that one line can show masked."""
    for rule in RULES:
        line = _mask_with(rule, line)
    return line


def secret_kinds(line: str) -> tuple[str, ...]:
    """The kinds of secret `line` shows, each once (for measuring what the rules find)."""
    return tuple(dict.fromkeys(r.kind for r in RULES if _mask_with(r, line) != line))


# The armour of a private key; a block without its END stops at the first line of other text.
_BLOCK_BEGIN = re.compile(_PRIVATE_KEY_BEGIN + r"|PuTTY-User-Key-File-\d+:")
_BLOCK_END = re.compile(r"-----END |Private-MAC:")
_BLOCK_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*: ")
_BLOCK_BODY = re.compile(r"^[A-Za-z0-9+/=]{16,}$")
MAX_KEY_LINES = 200
MAX_KEY_CHARS = 64_000  # 200 lines of 64 base64 characters, with a CI timestamp each


def private_key_lines(text: str) -> frozenset[str]:
    """The body lines of every private key printed across lines in `text`, as printed."""
    if "PRIVATE KEY" not in text and "PuTTY-User-Key-File" not in text:
        return frozenset()  # the common case: a substring search, no line is looked at
    found: set[str] = set()
    for begin in _BLOCK_BEGIN.finditer(text):
        end_of_line = text.find("\n", begin.end())
        if end_of_line < 0:
            continue
        block = text[end_of_line + 1 : end_of_line + 1 + MAX_KEY_CHARS]
        for raw in block.split("\n")[:MAX_KEY_LINES]:
            line = clean_line(raw).strip()
            if _BLOCK_END.search(line):
                break
            if not line or _BLOCK_HEADER.match(line):
                continue
            if not _BLOCK_BODY.match(line):
                break
            found.add(line)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Masks lines of one log: what `redact_line` finds, and the lines of its private keys."""

    key_lines: frozenset[str] = frozenset()

    @classmethod
    def for_log(cls, text: str) -> Redactor:
        return cls(key_lines=private_key_lines(text))

    def __call__(self, line: str) -> str:
        for body in self.key_lines:
            if body in line:
                line = line.replace(body, MASK)
        return redact_line(line)

    def lines(self, lines: Iterable[str]) -> tuple[str, ...]:
        return tuple(self(line) for line in lines)


def redact_text(text: str) -> str:
    """`text` of any number of lines with its secrets masked (a prompt, a message, a summary)."""
    redact = Redactor.for_log(text)
    return "\n".join(redact(line) for line in text.split("\n"))


def redact_json(value: Any) -> Any:
    """`value` (JSON-like: strings, lists, dicts) with the secrets in every string masked."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list | tuple):
        return [redact_json(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    return value
