"""Whether a deploy deployed the workload that failed: repository ↔ workload.

A failure's `Identity` is what its source knows of the workload: its name and namespace, its
labels (`app.kubernetes.io/name`, `app.kubernetes.io/instance`, `app`), the images it runs. A
deploy's hints are the repository, its last part, the job's name without its deploy words and
the images its payload names (`deploys`). They match, in this order:

1. **mapping** (`RECOVEROPS_DEPLOY_WORKLOADS`): a repository the operator mapped matches only
   the workloads it names (`name` or `namespace/name`), and nothing else;
2. **image**: the workload runs an image whose repository path is the deploy's repository
   (`ghcr.io/acme/shop:1.4` ← `acme/shop`) or an image the deploy names;
3. **name**: the workload's name or one of its app labels is one of the deploy's hints
   (`shop` ← `acme/shop`, `deploy-shop`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from recoverops.correlation.deploys import Deploy
from recoverops.settings import Settings

APP_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app", "k8s-app")


@dataclass(frozen=True, slots=True)
class Identity:
    """What a failure's source knows of the workload that failed (AWS: a service, a target)."""

    workload: str
    namespace: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    images: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "namespace": self.namespace,
            "labels": dict(self.labels),
            "images": list(self.images),
        }

    @classmethod
    def from_json(cls, value: Any) -> Identity | None:
        if not isinstance(value, Mapping) or not isinstance(value.get("workload"), str):
            return None
        labels = value.get("labels")
        images = value.get("images")
        return cls(
            workload=value["workload"],
            namespace=str(value.get("namespace") or ""),
            labels={str(k): str(v) for k, v in labels.items()}
            if isinstance(labels, Mapping)
            else {},
            images=tuple(str(i) for i in images) if isinstance(images, list) else (),
        )

    def names(self) -> set[str]:
        """The names the workload answers to, lower-cased (with and without its namespace)."""
        names = {self.workload, *(self.labels[k] for k in APP_LABELS if self.labels.get(k))}
        names = {n.lower() for n in names if n}
        if self.namespace:
            names |= {f"{self.namespace.lower()}/{n}" for n in names}
        return names


@dataclass(frozen=True, slots=True)
class CorrelationRules:
    """How long after a deploy a failure is put down to it, and the operator's mapping."""

    window: timedelta = timedelta(minutes=15)
    # repository (lower-case) → the workloads it deploys (`name` or `namespace/name`)
    mapping: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> CorrelationRules:
        return cls(
            window=timedelta(seconds=settings.correlation_window_s),
            mapping=cls.parse_mapping(settings.deploy_workloads),
        )

    @staticmethod
    def parse_mapping(text: str) -> dict[str, frozenset[str]]:
        """`acme/shop=shop-api,prod/shop-web;acme/billing=billing` → the mapping; ValueError
        names the entry that is not `repository=workload[,workload…]`."""
        mapping: dict[str, frozenset[str]] = {}
        for entry in filter(None, (part.strip() for part in text.split(";"))):
            repository, sep, workloads = entry.partition("=")
            names = frozenset(w.strip().lower() for w in workloads.split(",") if w.strip())
            if not sep or not repository.strip() or not names:
                raise ValueError(f"{entry!r} is not repository=workload[,workload...]")
            mapping[repository.strip().lower()] = names
        return mapping


def image_repository(image: str) -> str:
    """`ghcr.io/acme/shop:1.4` → `ghcr.io/acme/shop` (tag and digest dropped), lower-cased."""
    name = image.split("@", 1)[0].lower()
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rindex(":")]
    return name


def match(deploy: Deploy, identity: Identity, rules: CorrelationRules) -> str | None:
    """Why `deploy` deployed the workload of `identity`, or None when it did not."""
    names = identity.names()
    repository = deploy.repository.lower()
    mapped = rules.mapping.get(repository)
    if mapped is not None:
        hit = sorted(names & mapped)
        return f"RECOVEROPS_DEPLOY_WORKLOADS maps {repository} to {hit[0]}" if hit else None
    hints = set(deploy.hints)
    for image in identity.images:
        path = image_repository(image)
        if repository and (path == repository or path.endswith("/" + repository)):
            return f"the workload runs image {image}, built from {deploy.repository}"
        if any(image_repository(h) == path for h in hints if "/" in h and "." in h):
            return f"the workload runs image {image}, which the deploy names"
    hit = sorted(names & hints)
    if hit:
        return f"the workload is named {hit[0]!r}, as the deploy of {deploy.repository}"
    return None
