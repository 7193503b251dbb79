"""The stderr progress bar: live redraws on a terminal, one line elsewhere."""

from __future__ import annotations

import io

from recoverops.training.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_it_writes_one_line_when_done() -> None:
    out = io.StringIO()
    items = list(progress_bar("featurizing logs", stream=out)(iter(range(7)), 7))
    assert items == list(range(7))
    assert out.getvalue().startswith("featurizing logs: 7/7 in ")
    assert out.getvalue().count("\n") == 1


def test_on_a_terminal_it_draws_the_bar_and_ends_the_line() -> None:
    out = Terminal()
    assert list(progress_bar("reading", stream=out)(iter("ab"), 2)) == ["a", "b"]
    drawn = out.getvalue()
    assert "\rreading [" + "#" * 30 + "] 2/2" in drawn  # the last item is always drawn
    assert drawn.endswith("\n") and "reading: 2/2 in " in drawn
