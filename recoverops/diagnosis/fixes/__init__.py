"""Fixers, one module each, in one table, in the order their proposals are preferred."""

from __future__ import annotations

from recoverops.diagnosis.fixes.base import FixContext, Fixer
from recoverops.diagnosis.fixes.ci_config import CiConfig
from recoverops.diagnosis.fixes.compilation import Compilation
from recoverops.diagnosis.fixes.dependency import Dependency
from recoverops.diagnosis.fixes.iam import Iam
from recoverops.diagnosis.fixes.kubernetes import Kubernetes
from recoverops.diagnosis.fixes.lint import Lint
from recoverops.diagnosis.fixes.tests import Tests

FIXERS: dict[str, Fixer] = {
    "dependency": Dependency(),
    "compilation": Compilation(),
    "lint": Lint(),
    "test": Tests(),
    "kubernetes": Kubernetes(),
    "iam": Iam(),
    "ci_config": CiConfig(),
}

__all__ = ["FIXERS", "FixContext", "Fixer"]
