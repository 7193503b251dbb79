"""feature_row and validate_row: one flat typed row per analysis; refusals name the fault."""

from __future__ import annotations

import json

import pytest

from recoverops.detector import analyze_text
from recoverops.models.features import (
    FEATURE_COLUMNS,
    MAX_CHUNK_CHARS,
    NUMBER_COLUMNS,
    TEXT_COLUMNS,
    feature_row,
    validate_row,
)

LOG = """\
[INFO] Compiling 12 source files to /home/travis/build/acme/app/target/classes
[ERROR] /home/travis/build/acme/app/src/main/java/App.java:[14,8] cannot find symbol
[ERROR]   symbol:   class Widget
[INFO] BUILD FAILURE
"""


def test_a_row_holds_every_feature_column_typed() -> None:
    row = feature_row(analyze_text(LOG))
    assert set(row) == set(FEATURE_COLUMNS)
    assert all(isinstance(row[c], str) for c in TEXT_COLUMNS)
    assert all(isinstance(row[c], float) for c in NUMBER_COLUMNS)
    assert "cannot find symbol" in row["chunk"]
    assert row["rule_category"] == "build.compilation"
    assert row["rule_build.compilation"] > 0
    json.dumps(row)  # it travels as JSON


def test_templates_mask_what_varies() -> None:
    row = feature_row(analyze_text(LOG))
    assert "[14,8]" in row["chunk"]
    assert "14,8" not in row["templates"]


def test_a_huge_chunk_is_cut() -> None:
    log = "\n".join(f"[ERROR] Foo{i}.java:[{i},1] cannot find symbol" for i in range(2000))
    row = feature_row(analyze_text(log))
    assert len(row["chunk"]) <= MAX_CHUNK_CHARS
    assert len(row["templates"]) <= MAX_CHUNK_CHARS


def test_validate_row_accepts_a_feature_row_and_makes_numbers_floats() -> None:
    row = feature_row(analyze_text(LOG))
    row["rule_build.test"] = 1  # an int from JSON
    clean = validate_row(row)
    assert clean["rule_build.test"] == 1.0
    assert isinstance(clean["rule_build.test"], float)
    assert set(clean) == set(FEATURE_COLUMNS)


def test_validate_row_names_missing_columns() -> None:
    row = feature_row(analyze_text(LOG))
    del row["chunk"], row["rule_confidence"]
    with pytest.raises(ValueError, match="lacks chunk, rule_confidence"):
        validate_row(row)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("chunk", 3, "'chunk' must be a string, not int"),
        ("rule_confidence", "0.9", "'rule_confidence' must be a number, not str"),
        ("rule_confidence", True, "'rule_confidence' must be a number, not bool"),
        ("log_format", None, "'log_format' must be a string, not NoneType"),
    ],
)
def test_validate_row_refuses_wrong_types(column: str, value: object, message: str) -> None:
    row = feature_row(analyze_text(LOG))
    row[column] = value
    with pytest.raises(ValueError, match=message):
        validate_row(row)
