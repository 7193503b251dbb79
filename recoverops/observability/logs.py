"""Log lines an SRE can search: text for a terminal, JSON lines for a log pipeline.

A unit of work (an event through a detector, an incident through the analyzer, an action
through a remediator) opens `log_context(event_id=…, incident_id=…)`; every line logged inside
it, by any logger, carries those ids as fields (JSON) or as a `[event=7 incident=3]` prefix
(text). The ids live in a context variable, so threads and asyncio tasks each keep their own.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# The ids a log line may carry, in the order a text line shows them.
CONTEXT_FIELDS = ("incident_id", "event_id", "action_id", "trace_id")

_EMPTY: Mapping[str, object] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar(
    "recoverops_log_context", default=_EMPTY
)
# The attributes every LogRecord has: anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_HANDLER_NAME = "recoverops"


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Inside it, every log line carries these ids (None values are left out)."""
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> Mapping[str, object]:
    return _context.get()


class ContextFilter(logging.Filter):
    """Copies the current context's ids onto the record, where both formatters find them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context's ids, any `extra=`
    fields, and the exception's traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                line[name] = value if _is_json_scalar(value) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-12-02 10:00:00 WARNING recoverops.actors [event=7 incident=3] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(ids)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [
            f"{name.removesuffix('_id')}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        ]
        record.ids = f"[{' '.join(ids)}] " if ids else ""
        return super().format(record)


def configure_logging(log_format: LogFormat = "text", level: str = "INFO") -> None:
    """Send RecoverOps' loggers to stderr in this format. Called by each command and in each
    actor's process; calling it again replaces its own handler rather than adding one."""
    root = logging.getLogger("recoverops")
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Our handler writes each line once: the root logger's (Ray's, uvicorn's) must not repeat it.
    root.propagate = False


def _is_json_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
