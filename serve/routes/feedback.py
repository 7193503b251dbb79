"""POST /incidents/{id}/feedback: an operator confirms or corrects the category, reports the fix.

What operators say here is what the models retrain on (see `recoverops.training.incident_data`),
so a body is refused, with the reason, unless it says something usable: a known taxonomy id
and/or an outcome. Who says so is the bearer token's subject, never a name in the body: the
body's `operator` is still accepted, and ignored, for one release (deprecated).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from recoverops.errors import NotFoundError
from recoverops.store import FeedbackRecord
from recoverops.taxonomy import Category

from ..access import PrincipalDep
from ..deps import JsonBody, StoreDep
from ..errors import NOT_FOUND, UNPROCESSABLE, Rejection
from ..schemas import Refusal
from ..webhooks import parse_json_object

MAX_NOTE_CHARS = 4_000

router = APIRouter(prefix="/incidents", tags=["incidents"])


class FeedbackIn(BaseModel):
    """At least one of `category` and `fix_outcome`; who gives them is the token's subject."""

    model_config = ConfigDict(extra="forbid")

    category: Category | None = Field(
        default=None, description="The taxonomy id the operator confirms or corrects it to"
    )
    fix_outcome: Literal["worked", "failed"] | None = Field(
        default=None, description="Whether the proposed or applied fix worked"
    )
    operator: str | None = Field(
        default=None,
        max_length=255,
        deprecated=True,
        description="Ignored: the feedback is recorded as the bearer token's subject. Accepted "
        "until the next release so that older clients keep working.",
    )
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)

    @model_validator(mode="after")
    def says_something(self) -> FeedbackIn:
        if self.category is None and self.fix_outcome is None:
            raise ValueError("give a category, a fix_outcome, or both")
        return self


class FeedbackOut(BaseModel):
    id: int
    incident_id: int
    category: Category | None
    fix_outcome: Literal["worked", "failed"] | None
    operator: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, record: FeedbackRecord) -> FeedbackOut:
        return cls.model_validate(record, from_attributes=True)


# The body is read by JsonBody (media type and size checked before it is read), so FastAPI does
# not see a model parameter; the schema is declared here for OpenAPI instead.
_BODY_SCHEMA = FeedbackIn.model_json_schema(ref_template="#/components/schemas/{model}")
_BODY_SCHEMA.pop("$defs", None)  # Category is among the components: FeedbackOut names it
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
}


@router.post(
    "/{incident_id}/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={status: {"model": Refusal} for status in (400, 404, 413, 415, 422)},
    openapi_extra=_REQUEST_BODY,
)
def add_feedback(
    incident_id: int, body: JsonBody, store: StoreDep, principal: PrincipalDep
) -> FeedbackOut:
    """Record an operator's category (confirmed or corrected) and/or the fix's outcome, as the
    bearer token's subject (a body's `operator` is ignored).

    The feedback is added to the incident's timeline; a category makes the incident a labelled
    example for the next training run.
    """
    try:
        given = FeedbackIn.model_validate(parse_json_object(body.raw))
    except ValidationError as error:
        raise Rejection(UNPROCESSABLE, "invalid", _explain(error)) from None
    try:
        record = store.add_feedback(
            incident_id,
            category=given.category,
            fix_outcome=given.fix_outcome,
            operator=principal.subject,
            note=given.note,
        )
    except NotFoundError as error:
        raise Rejection(NOT_FOUND, "not_found", str(error)) from None
    except ValueError as error:  # the store's own checks; the model above should catch these
        raise Rejection(UNPROCESSABLE, "invalid", str(error)) from None
    return FeedbackOut.of(record)


def _explain(error: ValidationError) -> str:
    """`category: Input should be 'build.dependency', …; operator: …`, one clause per problem."""
    clauses = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        clauses.append(f"{where}: {problem['msg']}")
    return "; ".join(clauses)
