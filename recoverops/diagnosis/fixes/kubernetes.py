"""Kubernetes manifests: a higher memory limit after OOMKilled, the image reference after
ImagePullBackOff. With a checkout, the manifest that declares the container is patched (memory)
or named (image); without one, the actions say what to change where."""

from __future__ import annotations

import re

from recoverops.diagnosis.fixes.base import FixContext, unique, with_edits
from recoverops.diagnosis.model import FixProposal
from recoverops.taxonomy import Category

_OOM = re.compile(r"OOM ?Killed|exit code 137|exitCode: 137|Out of memory: Kill", re.IGNORECASE)
_PULL = re.compile(r"ImagePullBackOff|ErrImagePull|Failed to pull image", re.IGNORECASE)
_IMAGE = re.compile(
    r"(?:Failed to pull image|Back-off pulling image|image) \\?\"(?P<image>[\w.\-/:@]+)\\?\""
)
_MEMORY_LIMIT = re.compile(
    r"^(?P<indent>\s*)memory:\s*['\"]?(?P<value>\d+)(?P<unit>Mi|Gi|M|G|Ki)?['\"]?\s*$"
)
_UNIT_MI = {"Ki": 1 / 1024, "Mi": 1, "M": 1, "Gi": 1024, "G": 1024, None: 1 / (1024 * 1024)}


def doubled(value: int, unit: str | None) -> str:
    """Twice the limit, in Mi (at least 256Mi: below that, doubling rarely fixes anything)."""
    mebibytes = max(256, int(value * _UNIT_MI.get(unit, 1) * 2))
    return f"{mebibytes}Mi"


def raise_memory_limits(text: str) -> str:
    """Every `memory:` under a `limits:` block of a manifest, doubled."""
    out: list[str] = []
    in_limits_at: int | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("limits:"):
            in_limits_at = indent
        elif in_limits_at is not None and stripped and indent <= in_limits_at:
            in_limits_at = None
        match = _MEMORY_LIMIT.match(line)
        if match and in_limits_at is not None:
            line = f"{match['indent']}memory: {doubled(int(match['value']), match['unit'])}"
        out.append(line)
    return "\n".join(out)


_CATEGORIES = frozenset(
    {Category.INFRA_CONTAINER, Category.DEPLOY_RESOURCES, Category.DEPLOY_CONFIG}
)


class Kubernetes:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category not in _CATEGORIES:
            return None
        said = "\n".join(line for _, line in context.text.lines())
        resources = [c.name for c in context.of_kind("resource")]
        where = ", ".join(resources[:3]) or "the workload"
        manifests = self._manifests(context, resources)
        if _OOM.search(said):
            proposal = FixProposal(
                kind="kubernetes",
                files=manifests,
                explanation=(
                    f"The container of {where} was killed for using more memory than"
                    f" its limit (OOMKilled, exit 137)."
                ),
                confidence=0.7,
                actions=(
                    (
                        f"raise resources.limits.memory of {where} (doubled in the patch"
                        f" when a manifest is given)"
                    ),
                    "or find what grew: a leak, a bigger input, a JVM heap above the limit",
                ),
            )
            edits = {
                path: raise_memory_limits(text)
                for path in manifests
                if (text := context.read(path))
            }
            return with_edits(proposal, context, edits)
        if _PULL.search(said):
            image = next((m["image"] for m in _IMAGE.finditer(said)), None)
            named = f"`{image}`" if image else "the image"
            return FixProposal(
                kind="kubernetes",
                files=manifests,
                explanation=(
                    f"Kubernetes cannot pull {named} for {where}: the tag does not"
                    f" exist, the registry refuses, or a pull secret is missing."
                ),
                confidence=0.6,
                actions=(
                    (
                        f"check that {named} exists in its registry (docker manifest inspect"
                        f" {image or 'IMAGE'})"
                    ),
                    "set the image tag in the manifest to one that was pushed",
                    "if the registry is private, add an imagePullSecret",
                ),
            )
        return None

    @staticmethod
    def _manifests(context: FixContext, resources: list[str]) -> tuple[str, ...]:
        if context.checkout is None:
            return ()
        names = {r.split("/", 1)[1] for r in resources}
        found = []
        for path in context.checkout.files:
            if not path.endswith((".yaml", ".yml")):
                continue
            text = context.read(path) or ""
            if "containers:" in text and (not names or any(n in text for n in names)):
                found.append(path)
        return unique(list(found[:5]))
