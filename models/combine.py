"""How the learned model's verdict combines with the rules' verdict on one failure.

The model is stacked: it reads the rules' scores and verdict as features, so where it knows the
classes in play its calibrated probability already weighs the rules' evidence against what it
learned, and on held-out projects that beats the rules alone. It only knows the classes it was
trained on, though (today the four `build.*` classes of the shared corpora), while the rules know
all seventeen categories. So:

- the rules name a category the model does not know: keep the rules' verdict. The model can
  only answer with one of its own classes, and would turn a well-evidenced `infra.database`
  into whichever `build.*` class is nearest. A category other than `unknown` means the rules'
  top score passed their evidence threshold (`classify.scorer.decide`).
- the rules abstain (`unknown`) or name a class the model knows: take the model's category and
  calibrated confidence; this is the case the model was trained and measured on.

Either way the analysis records the anomaly score (a failure unlike any the model saw is worth
an operator's look whoever decided) and which classifier decided.
"""

from __future__ import annotations

from dataclasses import replace

from recoverops.analysis import Analysis
from recoverops.taxonomy import DESCRIPTIONS, Category

from .features import feature_row
from .prediction import Prediction, RowModel

RULES = "rules"


def decided_by_model(model: str) -> str:
    """The `decided_by` value of a verdict taken from model `model` ("<name>/<version>")."""
    return f"model:{model}"


def apply_prediction(analysis: Analysis, prediction: Prediction, *, model: str) -> Analysis:
    """`analysis` with the model's verdict applied where the policy above says so.

    `model` names the model as "<name>/<version>"; `prediction.probabilities` holds the classes
    the model knows.
    """
    rules = analysis.category
    known = set(prediction.probabilities) or {prediction.category}
    try:
        learned = Category(prediction.category)
    except ValueError:  # a model trained on labels outside the taxonomy: the rules stand
        return replace(analysis, anomaly=prediction.anomaly, decided_by=RULES)
    if rules is not Category.UNKNOWN and rules.value not in known:
        return replace(analysis, anomaly=prediction.anomaly, decided_by=RULES)
    summary = analysis.summary
    if learned is not rules:
        # The rules' summary explains their own verdict; say what the model concluded first.
        what = DESCRIPTIONS[learned]
        summary = f"{what[:1].upper()}{what[1:]} (learned model; the rules read: {summary})"
    return replace(
        analysis,
        category=learned,
        confidence=min(1.0, max(0.0, float(prediction.confidence))),
        summary=summary,
        anomaly=prediction.anomaly,
        decided_by=decided_by_model(model),
    )


def refine(analysis: Analysis, model: RowModel, *, name: str) -> Analysis:
    """Run `model` (a FailureModel or its portable copy) in this process on `analysis` and
    combine (for `recoverops analyze`)."""
    (prediction,) = model.predict_rows([feature_row(analysis)])
    return apply_prediction(analysis, prediction, model=name)
