"""Rules ⊕ model: which verdict stands, and what the analysis records either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.models.classifier import FailureModel, Prediction
from recoverops.models.combine import apply_prediction, refine
from recoverops.taxonomy import Category
from tests.champion import corpus_frame

CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases"
BUILD = ("build.compilation", "build.dependency", "build.lint", "build.test")


def case(name: str) -> Analysis:
    return analyze_text((CASES / name / "log.txt").read_text("utf-8", errors="replace"))


def prediction(category: str, confidence: float = 0.8, anomaly: float = 0.3) -> Prediction:
    rest = (1.0 - confidence) / (len(BUILD) - 1)
    probabilities = {c: (confidence if c == category else rest) for c in BUILD}
    return Prediction(category, confidence, probabilities, anomaly)


def test_rules_that_abstain_give_way_to_the_model() -> None:
    rules = analyze_text("the job stopped\nsomething happened\n")
    assert rules.category is Category.UNKNOWN
    combined = apply_prediction(rules, prediction("build.test", 0.71, 0.9), model="m/3")
    assert combined.category is Category.BUILD_TEST
    assert combined.confidence == pytest.approx(0.71)
    assert combined.decided_by == "model:m/3"
    assert combined.anomaly == pytest.approx(0.9)
    assert "learned model" in combined.summary and rules.summary in combined.summary
    assert combined.evidence == rules.evidence  # the lines that told are still the rules'


def test_the_model_decides_among_the_classes_it_knows() -> None:
    rules = case("plain-flake8")
    assert rules.category is Category.BUILD_LINT
    combined = apply_prediction(rules, prediction("build.test", 0.66), model="m/1")
    assert (combined.category, combined.decided_by) == (Category.BUILD_TEST, "model:m/1")
    assert "learned model" in combined.summary and rules.summary in combined.summary
    agreeing = apply_prediction(rules, prediction("build.lint", 0.93), model="m/1")
    assert agreeing.category is Category.BUILD_LINT and agreeing.summary == rules.summary
    assert agreeing.confidence == pytest.approx(0.93)


def test_a_category_the_model_never_learned_keeps_the_rules_verdict() -> None:
    rules = case("github-uv-python-downloads-dns-error")
    assert rules.category is Category.DEPLOY_NETWORK
    combined = apply_prediction(rules, prediction("build.dependency", 0.99, 0.8), model="m/1")
    assert combined.category is Category.DEPLOY_NETWORK
    assert combined.confidence == rules.confidence and combined.summary == rules.summary
    assert combined.decided_by == "rules"
    assert combined.anomaly == pytest.approx(0.8)  # recorded whoever decided


def test_a_label_outside_the_taxonomy_never_replaces_the_rules() -> None:
    rules = analyze_text("the job stopped\n")
    odd = Prediction("build.flaky", 0.9, {"build.flaky": 0.9, "build.test": 0.1}, 0.2)
    combined = apply_prediction(rules, odd, model="m/1")
    assert combined.category is Category.UNKNOWN and combined.decided_by == "rules"


def test_the_json_says_who_decided_and_how_unusual_it_is() -> None:
    rules = case("plain-flake8")
    before = rules.to_json()
    assert before["decided_by"] == "rules" and before["anomaly"] is None
    after = apply_prediction(rules, prediction("build.lint", 0.9, 0.12345), model="m/2").to_json()
    assert after["decided_by"] == "model:m/2" and after["anomaly"] == 0.123


def test_refine_runs_a_fitted_model_in_process(tmp_path: Path) -> None:
    frame = corpus_frame(tmp_path / "corpus")
    model = FailureModel().fit(frame, frame["label"])
    combined = refine(case("plain-flake8"), model, name="local/1")
    assert combined.decided_by == "model:local/1"
    assert combined.category.value in model.classes_
    assert combined.anomaly is not None and 0.0 <= combined.anomaly <= 1.0
    network = refine(case("github-uv-python-downloads-dns-error"), model, name="local/1")
    assert network.category is Category.DEPLOY_NETWORK and network.decided_by == "rules"
