"""CI log formats, tried in order; the first that recognises a log cuts it into steps."""

from __future__ import annotations

from recoverops.logs.document import LogDocument
from recoverops.logs.formats.base import LogFormat
from recoverops.logs.formats.github import GitHubActions
from recoverops.logs.formats.gitlab import GitLabCI
from recoverops.logs.formats.jenkins import Jenkins
from recoverops.logs.formats.plain import Plain
from recoverops.logs.formats.travis import Travis

FORMATS: tuple[LogFormat, ...] = (GitHubActions(), GitLabCI(), Jenkins(), Travis(), Plain())


def detect_format(doc: LogDocument) -> LogFormat:
    return next(f for f in FORMATS if f.detect(doc))


__all__ = ["FORMATS", "LogFormat", "detect_format"]
