"""POST /analyze: a log in, its analysis out (the detector `recoverops analyze` runs).

An analysis takes a CPU for tens of milliseconds to seconds, and the webhooks share the process:
at most RECOVEROPS_ANALYZE_CONCURRENCY analyses run at once, and a request beyond them is
answered 429 with Retry-After at once rather than queued behind them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.errors import InputError
from recoverops.inputs import decode_log

from ..body import JSON
from ..deps import LogBody, ServicesDep
from ..errors import TOO_MANY_REQUESTS, Rejection, malformed
from ..schemas import Refusal
from ..webhooks import parse_json_object

router = APIRouter(tags=["analysis"])


# Seconds a refused client is asked to wait: about one analysis of a large log.
RETRY_AFTER = 1


@router.post("/analyze", responses={status: {"model": Refusal} for status in (400, 413, 415, 429)})
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
    if not services.analyze_slots.acquire(blocking=False):
        raise Rejection(
            TOO_MANY_REQUESTS,
            "busy",
            f"{services.settings.analyze_concurrency} analyses are running already; retry later",
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    try:
        analysis = analyze_text(
            text,
            catalogue=services.catalogue,
            window_lines=services.settings.analysis_window_lines,
        )
        if services.refine is not None:  # the served model, when there is one; never fails
            analysis = services.refine(analysis)
        analysis = diagnose(analysis, text=text)
    finally:
        services.analyze_slots.release()
    return analysis.to_json()
