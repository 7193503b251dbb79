"""RecoverOps: what failed, why and where, for CI/CD and infrastructure failures.

The public API of the core; everything else is an implementation detail that may move.
"""

from recoverops.analysis import Analysis, Evidence, Step
from recoverops.detector import analyze_text
from recoverops.errors import RecoverOpsError
from recoverops.taxonomy import Category

__all__ = ["Analysis", "Category", "Evidence", "RecoverOpsError", "Step", "analyze_text"]
