"""Held-out scores: macro-F1 over the held-out classes, per-class figures, accuracy, ECE, and
the confusion matrix figure."""

from __future__ import annotations

import io

import pytest

from recoverops.training.evaluate import expected_calibration_error, score
from recoverops.training.figures import confusion_figure

TRUTH = ["build.test", "build.test", "build.lint", "build.lint"]


def test_perfect_predictions_score_one_everywhere() -> None:
    result = score(TRUTH, TRUTH, [1.0, 1.0, 1.0, 1.0])
    assert result.macro_f1 == 1.0 and result.accuracy == 1.0 and result.ece == 0.0
    assert result.classes == ("build.lint", "build.test")
    assert result.confusion == ((2, 0), (0, 2))


def test_per_class_scores_and_a_class_only_predicted() -> None:
    predicted = ["build.test", "build.lint", "build.lint", "build.compilation"]
    result = score(TRUTH, predicted, [0.9, 0.6, 0.8, 0.7])
    lint, test = result.per_class["build.lint"], result.per_class["build.test"]
    assert (lint.precision, lint.recall, lint.support) == (0.5, 0.5, 2)
    assert (test.precision, test.recall, test.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    # Averaged over the held-out classes only; the stray prediction costs lint its recall.
    assert result.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2)
    assert result.accuracy == 0.5
    assert result.matrix_labels == ("build.lint", "build.test", "build.compilation")
    assert result.confusion[0] == (1, 0, 1)
    metrics = result.metrics()
    assert metrics["f1.build.test"] == pytest.approx(2 / 3)
    assert "f1.build.compilation" not in metrics


def test_the_calibration_error_weighs_each_bin_by_its_size() -> None:
    # Bin (0.9, 1.0]: 2 predictions at 0.95, 1 right → gap 0.45; bin (0.5, 0.6]: 2 at 0.55,
    # both right → gap 0.45. Weighted mean: 0.45.
    ece = expected_calibration_error([True, False, True, True], [0.95, 0.95, 0.55, 0.55])
    assert ece == pytest.approx(0.45)
    assert expected_calibration_error([], []) == 0.0


def test_an_empty_held_out_split_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="held-out split is empty"):
        score([], [], [])


def test_the_confusion_figure_renders_as_png() -> None:
    figure = confusion_figure(score(TRUTH, ["build.lint"] * 4, [0.5] * 4))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["build.lint", "build.test"]
    assert sorted(t.get_text() for t in axes.texts) == ["0", "0", "2", "2"]
