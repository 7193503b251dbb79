"""The learned line ranker: the shipped weights load, order candidates by what they weigh, and put
the failing command's own error first."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from recoverops.detector import analyze_text, evidence_candidates
from recoverops.errors import ConfigurationError
from recoverops.logs.chunk import ScoredLine
from recoverops.logs.ranker import (
    FEATURES,
    INPUTS,
    MODEL_FILE,
    Candidate,
    LineRanker,
    shipped_line_ranker,
)

# An earlier command printed a loud error it recovered from; the failing command's own block,
# later, holds the real one.
EARLIER_WARNING = """\
$ ./scripts/restore-cache.sh
fatal: error: failed to fetch the build cache: connection refused
continuing without a cache
$ pip install -r requirements.txt
Successfully installed requests-2.31.0
$ python -m pytest -q
.......F
tests/test_parse.py:42: in test_parse_dates
    assert parse("2024-02-30") is None
E   ValueError: day is out of range for month
1 failed, 7 passed in 0.41s
"""


def test_the_shipped_weights_load_and_match_this_version() -> None:
    ranker = shipped_line_ranker()
    assert ranker is not None
    assert len(ranker.weights) == len(INPUTS)
    # The model may only reweigh the hand-written order, not throw it away.
    assert ranker.weights[INPUTS.index("hand")] > 0


def test_weights_for_other_features_are_refused_with_how_to_refit(tmp_path: Path) -> None:
    stale = tmp_path / "line_ranker.json"
    stale.write_text(json.dumps({"inputs": ["hand", "error"], "weights": [1.0, 0.5]}))
    with pytest.raises(ConfigurationError, match="refit"):
        LineRanker.load(stale)


def _candidate(line: int, text: str, **features: float) -> Candidate:
    values = tuple(features.get(name, 0.0) for name in FEATURES)
    return Candidate(
        item=ScoredLine(line=line, text=text, template=text, score=1.0), features=values
    )


def test_candidates_are_ordered_by_their_weighted_inputs() -> None:
    only_in_command = LineRanker(
        weights=tuple(1.0 if name == "in_command" else 0.0 for name in INPUTS)
    )
    found = [
        _candidate(3, "error: retrying the download", hand=1.0, hand_first=1.0),
        _candidate(9, "E   ValueError: day is out of range", hand=0.5, in_command=1.0),
    ]
    assert [s.line for s in only_in_command.order(found)] == [9, 3]
    # Equal scores keep the hand-written order.
    flat = LineRanker(weights=tuple(0.0 for _ in INPUTS))
    assert [s.line for s in flat.order(found)] == [3, 9]


def test_the_failing_commands_block_wins_over_an_earlier_error() -> None:
    analysis = analyze_text(EARLIER_WARNING)
    assert analysis.evidence[0].text == "E   ValueError: day is out of range for month"
    assert analysis.failing_step is not None
    assert analysis.failing_step.command == "python -m pytest -q"


def test_candidates_mark_the_failing_commands_block() -> None:
    found = {
        c.item.text: dict(zip(FEATURES, c.features, strict=True))
        for c in evidence_candidates(EARLIER_WARNING)
    }
    assert found["E   ValueError: day is out of range for month"]["in_command"] == 1.0
    # What an earlier command printed is no candidate while the failing one explains itself.
    assert "fatal: error: failed to fetch the build cache: connection refused" not in found


def test_the_weights_ship_with_the_package() -> None:
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    package_data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    assert MODEL_FILE in package_data["recoverops.logs"]
