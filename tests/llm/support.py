"""What the LLM tests share: fixture logs, their diagnosis, and advisors on a given server."""

from __future__ import annotations

from pathlib import Path

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.diagnosis.llm import Advisor, AnswerCache, ChatClient

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
FLAKE8 = CASES / "plain-flake8" / "log.txt"
TSC = CASES / "plain-tsc-type-errors" / "log.txt"
OOM = CASES / "plain-k8s-oomkilled-exit-137" / "log.txt"


def advisor(
    url: str,
    *,
    timeout_s: float = 10.0,
    retries: int = 0,
    cache: AnswerCache | None = None,
    context_tokens: int = 1500,
    answer_tokens: int = 300,
) -> Advisor:
    client = ChatClient(
        base_url=url,
        model=None,
        api_key=None,
        timeout_s=timeout_s,
        retries=retries,
        answer_tokens=answer_tokens,
    )
    return Advisor(client, context_tokens=context_tokens, cache=cache)


def analyzed(text: str) -> Analysis:
    return analyze_text(text)


def without_llm(text: str) -> Analysis:
    return diagnose(analyze_text(text), text=text)


def with_llm(text: str, helper: Advisor) -> Analysis:
    return diagnose(analyze_text(text), text=text, advisor=helper)
