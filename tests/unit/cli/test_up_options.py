"""`recoverops up`'s scale options: what bench/ingest.py and bench/detect.py pass it."""

from __future__ import annotations

import pytest

from recoverops.actors import PoolConfig
from recoverops.cli.main import build_parser


def test_detectors_default_to_the_pool_default_and_take_a_count() -> None:
    parser = build_parser()
    assert parser.parse_args(["up"]).detectors == PoolConfig().detectors
    assert parser.parse_args(["up", "--detectors", "3"]).detectors == 3


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_a_detector_count_below_one_is_refused_in_one_line(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["up", "--detectors", bad])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--detectors" in error
    assert "Traceback" not in error
