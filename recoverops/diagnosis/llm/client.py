"""One chat completion from an OpenAI-compatible server, within a timeout, with retries.

Only what a retry can mend is retried (a timeout, a refused or dropped connection, 429 and 5xx),
`retries` more times with a short exponential wait; everything else fails at once. Every failure
is an `LlmUnavailable` whose `reason` is one line for the root cause's `llm` entry: the caller
falls back to the diagnosis without the LLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openai
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from recoverops.errors import RecoverOpsError

# A server with one model (llama.cpp) ignores the name; the API requires one.
DEFAULT_MODEL = "default"


class LlmUnavailable(RecoverOpsError):
    """No usable completion: `reason` says why (timeout, unreachable, an HTTP status, garbage)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reply:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    tries: int


def _retried(error: BaseException) -> bool:
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return False


class ChatClient:
    def __init__(
        self,
        *,
        base_url: str,
        model: str | None,
        api_key: str | None,
        timeout_s: float,
        retries: int,
        answer_tokens: int,
    ) -> None:
        self.model = model or DEFAULT_MODEL
        self.timeout_s = timeout_s
        self._retries = retries
        self._answer_tokens = answer_tokens
        # max_retries=0: tenacity retries, so that what is retried and how often is said here.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "unused", timeout=timeout_s, max_retries=0
        )

    def complete(self, *, system: str, user: str, schema: dict[str, Any]) -> Reply:
        """The server's answer to `user` under `system`, held to the JSON `schema`."""
        retrying = Retrying(
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception(_retried),
            reraise=True,
        )
        tries = 0
        try:
            for attempt in retrying:
                with attempt:
                    tries += 1
                    response = self._client.chat.completions.create(
                        model=self.model,
                        messages=[
                            {"role": "system", "content": system},
                            {"role": "user", "content": user},
                        ],
                        # Not "strict": OpenAI's strict mode refuses the length and range
                        # keywords that llama.cpp and vLLM enforce while sampling; the answer
                        # is checked here in any case (`schema.parse_answer`).
                        response_format={
                            "type": "json_schema",
                            "json_schema": {"name": "diagnosis", "strict": False, "schema": schema},
                        },
                        max_tokens=self._answer_tokens,
                        temperature=0.0,
                    )
        except openai.APITimeoutError:
            raise LlmUnavailable(
                f"timeout: no answer within {self.timeout_s:g} s ({tries} tries)"
            ) from None
        except openai.APIConnectionError as error:
            raise LlmUnavailable(f"unreachable: {_cause(error)} ({tries} tries)") from None
        except openai.APIStatusError as error:
            raise LlmUnavailable(f"server answered HTTP {error.status_code}") from None
        except (openai.OpenAIError, ValueError, TypeError) as error:
            # A 200 whose body is no chat completion (not JSON, another shape).
            raise LlmUnavailable(f"garbage: {type(error).__name__}: {_cause(error)}") from None
        return _reply(response, tries=tries)


def _reply(response: Any, *, tries: int) -> Reply:
    choices = getattr(response, "choices", None)
    if not choices:
        raise LlmUnavailable("garbage: a completion without choices")
    message = choices[0].message
    usage = getattr(response, "usage", None)
    return Reply(
        content=getattr(message, "content", None),
        refusal=getattr(message, "refusal", None),
        finish_reason=getattr(choices[0], "finish_reason", None),
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        tries=tries,
    )


def _cause(error: BaseException) -> str:
    """The innermost cause's message, on one line and short (the connection error's own says
    only "Connection error.")."""
    while error.__cause__ is not None:
        error = error.__cause__
    return " ".join(str(error).split())[:200] or type(error).__name__
