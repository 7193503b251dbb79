"""What the LLM may answer, and nothing more: an explanation, the index of one of the typed fixes
already proposed (or none), and a confidence.

The answer is untrusted like the log it read: a field the schema does not name (a command, a new
fix, actions, a patch) makes the whole answer invalid, so an LLM that a log talked into "running"
something is simply not used. The same schema is sent to the server as `response_format`, so a
server that constrains its output to a JSON schema (llama.cpp, vLLM) is held to it while it
writes; the answer is checked here whatever the server did.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recoverops.errors import RecoverOpsError

MAX_EXPLANATION = 400


class InvalidAnswer(RecoverOpsError, ValueError):
    """The LLM's answer is not JSON, breaks the schema, or picks a fix that was not offered."""


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    explanation: str = Field(min_length=1, max_length=MAX_EXPLANATION)
    # The index of the chosen fix among those offered; None: none of them fits.
    fix: int | None
    confidence: float = Field(ge=0.0, le=1.0)


def json_schema(fixes: int) -> dict[str, Any]:
    """The answer's JSON schema for `fixes` offered fixes: `fix` is one of their indexes."""
    choices: list[int | None] = [*range(fixes), None]
    return {
        "type": "object",
        "properties": {
            "explanation": {"type": "string", "minLength": 1, "maxLength": MAX_EXPLANATION},
            "fix": {"enum": choices},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["explanation", "fix", "confidence"],
        "additionalProperties": False,
    }


def parse_answer(content: str | None, *, fixes: int) -> Answer:
    """The answer in `content`, checked against the schema and the `fixes` offered."""
    if not content or not content.strip():
        raise InvalidAnswer("empty answer")
    try:
        answer = Answer.model_validate_json(content)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise InvalidAnswer(f"schema: {where}: {first['msg']}") from None
    if answer.fix is not None and not 0 <= answer.fix < fixes:
        raise InvalidAnswer(f"fix {answer.fix} was not offered (0..{fixes - 1})")
    return answer
