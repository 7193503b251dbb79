"""The Kubernetes or cloud resource a failure is about: pod, deployment, node, container,
instance, bucket, role, secret, as `kind/name`.

    kubectl and events   pod/web-1, deployment.apps/web, Pod "web-1", pods "web-1" is forbidden,
                         Back-off restarting failed container app in pod web-1_default(...)
    scheduler            0/3 nodes are available: ...; node/ip-10-0-0-1
    AWS                  i-0abc..., arn:aws:iam::1:role/deploy, assumed-role/deploy/session,
                         s3://bucket, arn:aws:s3:::bucket, "The specified bucket does not exist"
    secrets              secret "db-creds" not found
"""

from __future__ import annotations

import re

from recoverops.diagnosis.model import Component
from recoverops.diagnosis.text import FailureText

_NAME = r"[a-z0-9](?:[a-z0-9.\-]{0,251}[a-z0-9])?"
_K8S_KINDS = (
    "pod|deployment|replicaset|statefulset|daemonset|job|cronjob|node|service|ingress|secret"
    "|configmap|persistentvolumeclaim|pvc|namespace|serviceaccount|container"
)
_RULES: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    (
        None,
        re.compile(rf"\b(?P<kind>{_K8S_KINDS})(?:\.[a-z.]+)?/(?P<name>{_NAME})\b", re.IGNORECASE),
    ),
    (None, re.compile(rf"\b(?P<kind>{_K8S_KINDS})s? \"(?P<name>{_NAME})\"", re.IGNORECASE)),
    ("container", re.compile(rf"failed container (?P<name>{_NAME}) in pod (?P<pod>{_NAME})")),
    ("container", re.compile(rf"^\s*-?\s*name: (?P<name>{_NAME})\s*$")),
    ("container", re.compile(rf"^\s*Container Name:\s+(?P<name>{_NAME})\s*$")),
    ("pod", re.compile(rf"^\s*(?:Name|pod):\s+(?P<name>{_NAME})\s*$")),
    ("instance", re.compile(r"\b(?P<name>i-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b")),
    ("role", re.compile(r"arn:aws:sts::\d{12}:assumed-role/(?P<name>[\w+=,.@\-]+)")),
    # a role's path comes before its name: role/aws-service-role/x.amazonaws.com/TheRole
    ("role", re.compile(r"arn:aws:iam::\d{12}:role/(?:[\w+=,.@\-]+/)*(?P<name>[\w+=,.@\-]+)")),
    ("user", re.compile(r"arn:aws:iam::\d{12}:user/(?P<name>[\w+=,.@\-]+)")),
    ("bucket", re.compile(r"(?:s3://|arn:aws:s3:::)(?P<name>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])")),
    (
        "bucket",
        re.compile(
            r"[Bb]ucket:? ['\"]?(?P<name>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])['\"]?(?:"
            r" does not exist)"
        ),
    ),
)
# A line none of the rules can match is skipped after a few substring tests (an alternation of
# every kind, searched at every position, costs more than all the rules on the few lines left).
_KEYWORDS: tuple[str, ...] = tuple(
    f"{kind}{after}" for kind in _K8S_KINDS.split("|") for after in ("/", ".", ' "', 's "')
) + ("failed container", "arn:aws", "s3://", "bucket", "name:")
_INSTANCE = re.compile(r"i-[0-9a-f]{8}")


def _maybe(line: str) -> bool:
    lowered = line.lower()
    return any(k in lowered for k in _KEYWORDS) or _INSTANCE.search(line) is not None


# Words that read like a name in these patterns but are not one.
_NOT_NAMES = frozenset({"the", "a", "an", "is", "not", "found", "default", "none", "null"})


class Resources:
    """Kubernetes and cloud resources, named `kind/name` (the pod of a container when printed)."""

    def find(self, text: FailureText) -> list[Component]:
        found: list[Component] = []
        seen: set[str] = set()
        for number, line in text.lines():
            if not _maybe(line):
                continue
            for kind, rule in _RULES:
                for match in rule.finditer(line):
                    name = match["name"]
                    what = (kind or match["kind"]).lower()
                    if what == "container" and kind == "container" and "name:" in line:
                        # a manifest's `name:` is a container only under `containers:`
                        if "containers" not in " ".join(
                            text.line(n) for n in range(max(1, number - 3), number)
                        ):
                            continue
                    if name.lower() in _NOT_NAMES:
                        continue
                    what = {"pvc": "persistentvolumeclaim"}.get(what, what)
                    label = f"{what}/{name}"
                    if label in seen:
                        continue
                    seen.add(label)
                    found.append(
                        Component(
                            kind="resource",
                            name=label,
                            log_line=number,
                            detail=line.strip()[:300],
                            tool="kubernetes" if what not in _CLOUD else "aws",
                        )
                    )
        return found


_CLOUD = frozenset({"instance", "role", "user", "bucket"})
