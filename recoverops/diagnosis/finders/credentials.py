"""The name of a credential a failure is about, never its value.

GitHub Actions   Input required and not supplied: token;  ${{ secrets.NPM_TOKEN }}
shells and CLIs  NPM_TOKEN is not set, missing environment variable AWS_SECRET_ACCESS_KEY,
                 AWS_ACCESS_KEY_ID: unbound variable
AWS              The security token included in the request is invalid (the access key's
                 id, an `AKIA…` value, is not shown: it names a key, not who holds it)
"""

from __future__ import annotations

import re

from recoverops.diagnosis.model import Component
from recoverops.diagnosis.text import FailureText

_SECRET_NAME = (
    r"(?P<name>[A-Z][A-Z0-9_]*(?:TOKEN|SECRET|KEY|PASSWORD|PASS|PASSWD|CREDENTIALS?|API_KEY"
    r"|AUTH)[A-Z0-9_]*)"
)
_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(r"Input required and not supplied: (?P<name>[\w\-]+)"),
    re.compile(r"\$\{\{\s*secrets\.(?P<name>[\w\-]+)\s*\}\}"),
    re.compile(
        r"\b"
        + _SECRET_NAME
        + (
            r"\b(?:\s+is not set|\s+is empty|: unbound variable|\s+not set|\s+is"
            r" required|\s+must be set)"
        )
    ),
    re.compile(
        (
            r"(?:missing|undefined|unset|no) (?:environment variable|env var|secret|credential)s?:?"
            r" ['\"`]?"
        )
        + _SECRET_NAME,
        re.IGNORECASE,
    ),
    re.compile(r"secret ['\"](?P<name>[\w.\-]+)['\"] (?:not found|is missing|does not exist)"),
    re.compile(r"^\$ aws .*--profile[ =](?P<name>[\w.\-]+)"),
)


class Credentials:
    """Names of tokens, keys and secrets the log says are missing or refused."""

    def find(self, text: FailureText) -> list[Component]:
        found: list[Component] = []
        seen: set[str] = set()
        for number, line in text.lines():
            for rule in _RULES:
                match = rule.search(line)
                if match and match["name"] not in seen:
                    seen.add(match["name"])
                    found.append(
                        Component(
                            kind="credential",
                            name=match["name"],
                            log_line=number,
                            # the line may hold the value itself: only the name is kept
                            detail="",
                            tool="ci",
                        )
                    )
                    break
        return found
