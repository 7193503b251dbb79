"""POST /analyze: a log in, its analysis out (the detector `recoverops analyze` runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.errors import InputError
from recoverops.inputs import decode_log

from ..body import JSON
from ..deps import LogBody, ServicesDep
from ..errors import malformed
from ..schemas import Refusal
from ..webhooks import parse_json_object

router = APIRouter(tags=["analysis"])


@router.post("/analyze", responses={status: {"model": Refusal} for status in (400, 413, 415)})
def analyze(body: LogBody, services: ServicesDep) -> dict[str, Any]:
    """Analyze a log sent as `text/plain`, or as JSON `{"log": "..."}`.

    The answer has the shape of `recoverops analyze --json`: category, confidence, summary,
    evidence (1-based line numbers of the log as sent), failing step and signatures, the anomaly
    score and which classifier decided (`decided_by`: "rules" or "model:<name>/<version>"), the
    root cause and the best fix proposal.
    """
    if body.media_type == JSON:
        log = parse_json_object(body.raw).get("log")
        if not isinstance(log, str):
            raise malformed('JSON body must be {"log": "<the log text>"}')
        raw = log.encode()
    else:
        raw = body.raw
    try:
        text = decode_log(raw, name="log")
    except InputError as error:
        raise malformed(str(error)) from None
    analysis = analyze_text(
        text,
        catalogue=services.catalogue,
        window_lines=services.settings.analysis_window_lines,
    )
    if services.refine is not None:  # the served model, when there is one; never fails
        analysis = services.refine(analysis)
    return diagnose(analysis, text=text).to_json()
