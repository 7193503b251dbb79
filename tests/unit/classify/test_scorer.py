"""From signature hits to a category and a confidence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recoverops.analysis import SignatureHit
from recoverops.classify.catalogue import build_catalogue
from recoverops.classify.scorer import (
    LOCATION_FACTOR,
    MIN_SCORE,
    SignatureMatcher,
    category_scores,
    decide,
)
from recoverops.taxonomy import Category

NET = Category.DEPLOY_NETWORK
TEST = Category.BUILD_TEST


def hit(
    signature: str, category: Category, weight: float, location: str, line: int = 1
) -> SignatureHit:
    return SignatureHit(
        signature=signature, category=category, line=line, weight=weight, location=location
    )


class TestDecide:
    def test_nothing_matched_is_unknown_with_full_confidence(self) -> None:
        assert decide({}) == (Category.UNKNOWN, 1.0)

    @pytest.mark.parametrize("score", [0.0, 0.1, 0.5, MIN_SCORE - 0.001])
    def test_below_the_minimum_score_the_answer_is_unknown(self, score: float) -> None:
        category, confidence = decide({NET: score})
        assert category is Category.UNKNOWN
        assert 0.0 <= confidence <= 1.0

    def test_weak_evidence_lowers_the_confidence_in_unknown(self) -> None:
        assert decide({NET: 0.9})[1] < decide({NET: 0.1})[1]

    @pytest.mark.parametrize("score", [MIN_SCORE, 1.5, 5.0, 50.0, 1e6])
    def test_at_or_above_the_minimum_the_top_category_wins(self, score: float) -> None:
        category, confidence = decide({NET: score, TEST: score / 4})
        assert category is NET
        assert 0.0 <= confidence <= 1.0

    def test_confidence_grows_with_the_score_and_the_margin(self) -> None:
        assert decide({NET: 6.0})[1] > decide({NET: 2.0})[1]
        assert decide({NET: 6.0, TEST: 1.0})[1] > decide({NET: 6.0, TEST: 5.0})[1]

    def test_the_highest_score_wins_whatever_the_order(self) -> None:
        assert decide({TEST: 2.0, NET: 3.0})[0] is NET
        assert decide({NET: 3.0, TEST: 2.0})[0] is NET

    def test_a_tie_is_decided_the_same_whatever_the_order(self) -> None:
        assert decide({TEST: 3.0, NET: 3.0}) == decide({NET: 3.0, TEST: 3.0})


class TestCategoryScores:
    def test_a_hit_counts_by_where_its_line_sits(self) -> None:
        for location, factor in LOCATION_FACTOR.items():
            scores = category_scores([hit("net.dns", NET, 4.0, location)])
            assert scores[NET] == pytest.approx(4.0 * factor)

    def test_the_chunk_outweighs_the_rest_of_the_log(self) -> None:
        assert LOCATION_FACTOR["chunk"] > LOCATION_FACTOR["step"] > LOCATION_FACTOR["log"]

    def test_fifty_copies_of_one_signature_do_not_outvote_one_strong_line(self) -> None:
        warnings = [hit("java.deprecation", TEST, 1.0, "chunk", line=n) for n in range(50)]
        compiler = [hit("javac.error", Category.BUILD_COMPILATION, 4.0, "chunk", line=60)]
        scores = category_scores([*warnings, *compiler])
        assert scores[Category.BUILD_COMPILATION] > scores[TEST]
        assert scores[TEST] > 1.0  # repeats still add a little

    def test_different_signatures_of_one_category_add_up(self) -> None:
        one = category_scores([hit("net.dns", NET, 2.0, "chunk")])
        two = category_scores(
            [hit("net.dns", NET, 2.0, "chunk"), hit("net.refused", NET, 2.0, "chunk")]
        )
        assert two[NET] == pytest.approx(2 * one[NET])


class TestSignatureMatcher:
    CATALOGUE = build_catalogue(
        [
            (
                "t.yaml",
                """
signatures:
  - id: t.dns
    category: deploy.network
    keywords: [could not resolve host]
    pattern: 'Could not resolve host: \\S+'
    examples: ["fatal: unable to access 'x': Could not resolve host: gitlab.example"]
commands:
  - id: command.flake8
    category: build.lint
    keywords: [flake8]
    pattern: '\\bflake8\\b'
    examples: ["flake8 src tests"]
noise:
  - id: t.download
    pattern: '^Downloading '
""",
            )
        ]
    )

    def test_a_line_is_matched_through_its_keyword(self) -> None:
        matcher = SignatureMatcher(self.CATALOGUE)
        # real line from tests/fixtures/cases/gitlab-git-fetch-could-not-resolve-host/log.txt
        line = (
            "fatal: unable to access 'https://gitlab.dev.singlecell.gi.ucsc.edu/ucsc/azul.git/': "
            "Could not resolve host: gitlab.dev.singlecell.gi.ucsc.edu"
        )
        assert [s.id for s in matcher.match_line(line, line.lower())] == ["t.dns"]
        assert matcher.match_line("all good", "all good") == []

    def test_commands_and_noise(self) -> None:
        matcher = SignatureMatcher(self.CATALOGUE)
        assert [s.id for s in matcher.match_command("python -m flake8 .")] == ["command.flake8"]
        assert matcher.match_command("pytest -q") == []
        assert matcher.is_noise("Downloading foo-1.0.tar.gz")
        assert not matcher.is_noise("Error: Downloading failed")


def test_the_same_log_gets_the_same_summary_whatever_the_hash_seed() -> None:
    # Two signatures match the first line of this log; which one leads the summary once
    # depended on a set's order, and so on the process's hash seed.
    log = Path(__file__).parents[2] / "fixtures" / "cases" / "plain-flake8" / "log.txt"
    code = "import sys; from recoverops.detector import analyze_text; "
    code += "print(analyze_text(open(sys.argv[1]).read()).summary)"
    summaries = {
        subprocess.run(
            [sys.executable, "-c", code, str(log)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(summaries) == 1, summaries
