"""The optional LLM step of the diagnosis: it rewrites the explanation and chooses a fix.

    diagnosis without an LLM ─► cache (fingerprint) ─hit─────────────────► answer
                              └─miss─► redacted context, cut to the budget ─► server
                                        ─► schema check ─► answer (kept in the cache)
    any failure ─► the diagnosis without the LLM, with the reason

What the LLM can change is bounded by `schema.Answer`: the root cause's explanation (redacted
again), which of the typed fixes already proposed and validated is shown first, and a confidence
of its own (kept beside the diagnosis's, which it does not replace: a small model's word on how
sure it is is not calibrated). It never adds a fix, a command or a patch, and nothing it says is
run. The root cause's `llm` entry says what happened: `{"used": true, "model", "cached", "fix",
"confidence", "latency_s", "prompt_tokens", "completion_tokens", "context_tokens", "cut",
"explanation_without_llm"}` or `{"used": false, "reason", ...}`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from recoverops.analysis import Analysis
from recoverops.diagnosis.llm.cache import AnswerCache, AnswerStore, cache_key
from recoverops.diagnosis.llm.client import ChatClient, LlmUnavailable
from recoverops.diagnosis.llm.context import SYSTEM_PROMPT, build, tokens
from recoverops.diagnosis.llm.schema import Answer, InvalidAnswer, json_schema, parse_answer
from recoverops.diagnosis.model import FixProposal, RootCause
from recoverops.errors import ConfigurationError
from recoverops.redaction import redact_text
from recoverops.settings import Settings


@dataclass(frozen=True, slots=True)
class Advice:
    """The checked answer (None: fall back) and what to record about it."""

    answer: Answer | None
    record: dict[str, Any] = field(default_factory=dict)


class Advisor:
    def __init__(
        self, client: ChatClient, *, context_tokens: int, cache: AnswerCache | None = None
    ) -> None:
        self._client = client
        self._context_tokens = context_tokens
        self._cache = cache if cache is not None else AnswerCache()
        self.requests = 0  # requests sent (a cache hit sends none): for the bench and tests

    @classmethod
    def from_settings(cls, settings: Settings, *, store: AnswerStore | None = None) -> Advisor:
        if settings.llm_base_url is None:
            raise ConfigurationError("no LLM is configured: RECOVEROPS_LLM_BASE_URL is unset")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        client = ChatClient(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
            answer_tokens=settings.llm_answer_tokens,
        )
        return cls(
            client, context_tokens=settings.llm_context_tokens, cache=AnswerCache(store=store)
        )

    @property
    def model(self) -> str:
        return self._client.model

    def advise(
        self,
        analysis: Analysis,
        *,
        root_cause: RootCause,
        fixes: Sequence[FixProposal],
        text: str,
        past: Sequence[Mapping[str, Any]] = (),
        changed: Sequence[str] = (),
        target: str = "",
    ) -> Advice:
        """The LLM's checked answer for this failure of `target` (the job or resource; "" when
        not known), from the cache when it recurs."""
        started = time.perf_counter()
        key = cache_key(analysis, fixes, model=self.model, target=target)
        base: dict[str, Any] = {"model": self.model}
        kept = self._cache.get(key)
        if kept is not None:
            try:
                answer = parse_answer(kept, fixes=len(fixes))
            except InvalidAnswer:
                pass  # an answer of another schema version: ask again
            else:
                return Advice(answer, {**base, "used": True, "cached": True, **_zero(started)})
        context = build(
            analysis, root_cause=root_cause, fixes=fixes, text=text, past=past, changed=changed
        )
        user = context.render(self._context_tokens)
        base.update(context_tokens=tokens(SYSTEM_PROMPT) + tokens(user), cut=list(context.cut))
        self.requests += 1
        try:
            reply = self._client.complete(
                system=SYSTEM_PROMPT, user=user, schema=json_schema(len(fixes))
            )
        except LlmUnavailable as error:
            return Advice(None, {**base, "used": False, "reason": error.reason, **_since(started)})
        usage = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "tries": reply.tries,
        }
        if reply.refusal:
            reason = f"refused: {' '.join(reply.refusal.split())[:200]}"
            return Advice(None, {**base, **usage, "used": False, "reason": reason})
        try:
            answer = parse_answer(reply.content, fixes=len(fixes))
        except InvalidAnswer as error:
            cut = " (the answer hit max_tokens)" if reply.finish_reason == "length" else ""
            reason = f"invalid answer: {error}{cut}"
            return Advice(None, {**base, **usage, "used": False, "reason": reason})
        self._cache.put(key, model=self.model, answer=answer.model_dump_json())
        return Advice(answer, {**base, **usage, "used": True, "cached": False, **_since(started)})


def _since(started: float) -> dict[str, float]:
    return {"latency_s": round(time.perf_counter() - started, 3)}


def _zero(started: float) -> dict[str, Any]:
    return {**_since(started), "prompt_tokens": 0, "completion_tokens": 0}


def apply_advice(
    advice: Advice, *, root_cause: RootCause, fixes: Sequence[FixProposal]
) -> tuple[RootCause, FixProposal | None]:
    """The root cause and the fix shown first, after the LLM's `advice`. Without an answer, or
    when the LLM chose none of the fixes, the diagnosis's own first fix stays."""
    first = fixes[0] if fixes else None
    answer = advice.answer
    if answer is None:
        return replace(root_cause, llm=advice.record), first
    record = {
        **advice.record,
        "fix": answer.fix,
        "confidence": round(answer.confidence, 3),
        "explanation_without_llm": root_cause.explanation,
    }
    chosen = first if answer.fix is None else fixes[answer.fix]
    # The LLM saw only redacted text, but it may echo a token-shaped string of its own making.
    explained = replace(root_cause, explanation=redact_text(answer.explanation), llm=record)
    return explained, chosen
