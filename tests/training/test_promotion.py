"""The champion/challenger rule, as a pure function of two sets of held-out scores."""

from __future__ import annotations

import pytest

from recoverops.training.promotion import Scores, decide

CHAMPION = Scores(0.80, {"build.test": 0.90, "build.lint": 0.70, "build.compilation": 0.80})


def challenger(macro: float, **f1: float) -> Scores:
    return Scores(macro, {**CHAMPION.class_f1, **{k.replace("_", "."): v for k, v in f1.items()}})


def test_the_first_model_is_promoted_for_want_of_a_champion() -> None:
    decision = decide(challenger(0.1), None, max_class_drop=0.05)
    assert decision.promote and decision.reason == "no champion yet"


def test_an_equal_model_is_promoted() -> None:
    decision = decide(CHAMPION, CHAMPION, max_class_drop=0.05, champion_label="champion v3")
    assert decision.promote
    assert decision.reason == (
        "macro-F1 0.800 ≥ 0.800 (champion v3) and no class's F1 drops by more than 0.050"
    )


def test_a_better_model_that_loses_a_little_on_one_class_is_promoted() -> None:
    better = challenger(0.85, build_test=0.86, build_lint=0.85)
    assert decide(better, CHAMPION, max_class_drop=0.05).promote


def test_a_drop_in_macro_f1_is_refused_with_the_figures() -> None:
    decision = decide(challenger(0.79), CHAMPION, max_class_drop=0.05, champion_label="v1")
    assert not decision.promote
    assert decision.reason == "macro-F1 would drop from 0.800 (v1) to 0.790"


def test_a_better_model_that_forgets_a_class_is_refused_naming_the_class() -> None:
    forgetful = challenger(0.90, build_lint=0.60, build_test=1.0, build_compilation=1.0)
    decision = decide(forgetful, CHAMPION, max_class_drop=0.05)
    assert not decision.promote
    assert decision.reason == (
        "build.lint F1 would drop by 0.100 (0.700 → 0.600), more than the allowed 0.050"
    )


def test_every_reason_is_given_when_several_hold() -> None:
    worse = challenger(0.50, build_lint=0.0, build_test=0.2)
    reason = decide(worse, CHAMPION, max_class_drop=0.05).reason
    assert reason.split("; ") == [
        "macro-F1 would drop from 0.800 (the champion) to 0.500",
        "build.lint F1 would drop by 0.700 (0.700 → 0.000), more than the allowed 0.050",
        "build.test F1 would drop by 0.700 (0.900 → 0.200), more than the allowed 0.050",
    ]


@pytest.mark.parametrize(("drop", "promote"), [(0.05, True), (0.0500001, False)])
def test_the_margin_is_inclusive(drop: float, promote: bool) -> None:
    candidate = challenger(0.81, build_test=0.90 - drop, build_lint=0.75)
    assert decide(candidate, CHAMPION, max_class_drop=0.05).promote is promote


def test_a_class_the_challenger_never_predicts_counts_as_zero() -> None:
    missing = Scores(0.95, {"build.test": 1.0, "build.compilation": 1.0})
    decision = decide(missing, CHAMPION, max_class_drop=0.05)
    assert not decision.promote
    assert "build.lint F1 would drop by 0.700" in decision.reason


def test_a_zero_margin_refuses_any_class_drop() -> None:
    assert not decide(challenger(0.9, build_test=0.89), CHAMPION, max_class_drop=0.0).promote
