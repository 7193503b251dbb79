"""A credential is named, never shown: the component carries the name and no part of the line."""

from __future__ import annotations

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
LOG = f"""Run npm publish
npm notice Publishing to https://registry.npmjs.org/ with token {TOKEN}
Error: Input required and not supplied: token
NPM_TOKEN is not set
Error: Process completed with exit code 1.
"""


def test_credentials_are_named_by_name_and_their_values_are_not_kept() -> None:
    analysis = diagnose(analyze_text(LOG), text=LOG)
    credentials = [c for c in analysis.root_cause.components if c.kind == "credential"]
    assert [c.name for c in credentials] == ["token", "NPM_TOKEN"]
    for component in credentials:
        assert TOKEN not in str(component.to_json())


LINT_LOG = f"""$ flake8 deploy.py
deploy.py:3:80: E501 line too long (96 > 79 characters): API_TOKEN = "{TOKEN}"
Error: Process completed with exit code 1.
"""


def test_nothing_the_diagnosis_quotes_from_the_log_shows_a_secret() -> None:
    analysis = diagnose(analyze_text(LINT_LOG), text=LINT_LOG)
    assert analysis.root_cause is not None and analysis.root_cause.components
    assert analysis.fix is not None
    shown = str(analysis.to_json())
    assert "deploy.py" in shown
    assert TOKEN[4:12] not in shown
