"""Two training runs at once cannot both promote against the same champion.

Both runs are made to reach the judging of the champion together (a barrier in front of it):
without the promotion lock both would judge "no champion yet" and both move @champion; with it
the second waits, then judges the first's model. The barrier gives up after a few seconds, which
is what happens when the lock keeps the second run out; nothing waits on time otherwise.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from recoverops.settings import Settings
from recoverops.training import run as training_run
from recoverops.training.run import TrainResult, train
from tests.ml_corpus import write_case_corpus
from tests.training.train_support import aliases

BARRIER_SECONDS = 5.0


def test_two_runs_at_once_promote_one_after_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home", mlflow_uri=None, database_url=None)
    corpus = write_case_corpus(tmp_path / "corpus")
    together = threading.Barrier(2)
    judge = training_run._judge

    def judged_together(*args: Any, **kwargs: Any) -> Any:
        try:
            together.wait(timeout=BARRIER_SECONDS)
        except threading.BrokenBarrierError:
            pass  # the other run is held back by the lock: judged alone, as it should be
        return judge(*args, **kwargs)

    monkeypatch.setattr(training_run, "_judge", judged_together)
    with ThreadPoolExecutor(2) as pool:
        runs: list[TrainResult] = list(
            pool.map(lambda _: train(settings, data_dirs=[corpus]), range(2))
        )

    judged_alone = [r for r in runs if r.champion_version is None]
    assert len(judged_alone) == 1, [(r.model_version, r.reason) for r in runs]
    first = judged_alone[0]
    second = next(r for r in runs if r is not first)
    assert first.promoted and first.reason == "no champion yet"
    assert second.champion_version == first.model_version
    champion = second.model_version if second.promoted else first.model_version
    assert aliases(settings)["champion"] == champion
