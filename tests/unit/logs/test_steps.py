"""failing_step: the first failed step, or the last step when none says it failed."""

from __future__ import annotations

from recoverops.analysis import Step
from recoverops.logs.steps import failing_step


def test_the_first_failed_step_wins() -> None:
    steps = [
        Step(name="a", start=1, end=3),
        Step(name="b", start=4, end=6, failed=True, exit_code=2),
        Step(name="c", start=7, end=9, failed=True, exit_code=1),
    ]
    assert failing_step(steps) == steps[1]


def test_without_a_failed_step_the_last_one_is_blamed() -> None:
    steps = [Step(name="a", start=1, end=3), Step(name="b", start=4, end=6)]
    chosen = failing_step(steps)
    assert chosen == Step(name="b", start=4, end=6, failed=True)
    # the input is not changed
    assert not steps[1].failed


def test_no_steps_no_failing_step() -> None:
    assert failing_step([]) is None
