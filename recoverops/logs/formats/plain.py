"""Any other log: one step, the whole log, failed at its end."""

from __future__ import annotations

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument


class Plain:
    name = "plain"

    def detect(self, doc: LogDocument) -> bool:  # noqa: ARG002 - the fallback takes every log
        return True

    def steps(self, doc: LogDocument) -> list[Step]:
        return [Step(name="log", start=1, end=max(1, len(doc)), failed=True)]
