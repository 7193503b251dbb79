"""An optional LLM for the diagnosis: through any OpenAI-compatible server, it rewrites the root
cause's explanation and chooses among the typed fixes already proposed, from the redacted context;
every failure falls back to the diagnosis without it (`advisor`).

    Advisor.from_settings(settings, store=None).advise(...) -> Advice
    apply_advice(advice, root_cause=..., fixes=...) -> (root cause, fix shown first)
"""

from __future__ import annotations

from recoverops.diagnosis.llm.advisor import Advice, Advisor, apply_advice
from recoverops.diagnosis.llm.cache import AnswerCache
from recoverops.diagnosis.llm.client import ChatClient, LlmUnavailable
from recoverops.diagnosis.llm.schema import Answer, InvalidAnswer

__all__ = [
    "Advice",
    "Advisor",
    "Answer",
    "AnswerCache",
    "ChatClient",
    "InvalidAnswer",
    "LlmUnavailable",
    "apply_advice",
]
