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
