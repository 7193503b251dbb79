"""Champion / challenger: whether a newly trained model may replace the one that serves.

A challenger is promoted only when, on the same held-out split, its macro-F1 does not drop below
the champion's and no class's F1 drops by more than a set margin: a model that is better on
average but forgets one class would silently stop recognising a kind of failure operators rely
on. A pure function of the two sets of scores, so the rule is tested without training anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Scores are means of counts; this absorbs float noise so equal scores are never a "drop".
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Scores:
    macro_f1: float
    class_f1: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Decision:
    promote: bool
    reason: str


def decide(
    challenger: Scores,
    champion: Scores | None,
    *,
    max_class_drop: float,
    champion_label: str = "the champion",
) -> Decision:
    """Promote `challenger` over `champion` (None: there is none yet), with a readable reason
    naming every class and figure that decided it."""
    if champion is None:
        return Decision(True, "no champion yet")
    problems = []
    if challenger.macro_f1 < champion.macro_f1 - _TOLERANCE:
        problems.append(
            f"macro-F1 would drop from {champion.macro_f1:.3f} ({champion_label}) "
            f"to {challenger.macro_f1:.3f}"
        )
    for name in sorted(set(champion.class_f1) | set(challenger.class_f1)):
        before = champion.class_f1.get(name, 0.0)
        after = challenger.class_f1.get(name, 0.0)
        if before - after > max_class_drop + _TOLERANCE:
            problems.append(
                f"{name} F1 would drop by {before - after:.3f} ({before:.3f} → {after:.3f}), "
                f"more than the allowed {max_class_drop:.3f}"
            )
    if problems:
        return Decision(False, "; ".join(problems))
    return Decision(
        True,
        f"macro-F1 {challenger.macro_f1:.3f} ≥ {champion.macro_f1:.3f} ({champion_label}) "
        f"and no class's F1 drops by more than {max_class_drop:.3f}",
    )
