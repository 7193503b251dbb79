"""Root cause and fix proposals, without an LLM: what broke, where, and what to change.

diagnose(analysis, text=..., repo=None) -> the analysis with `root_cause` and `fix` filled
"""

from __future__ import annotations

from recoverops.diagnosis.model import Component, FixProposal, RootCause
from recoverops.diagnosis.pipeline import diagnose, diagnose_text
from recoverops.diagnosis.repo import Checkout

__all__ = ["Checkout", "Component", "FixProposal", "RootCause", "diagnose", "diagnose_text"]
