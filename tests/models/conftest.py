"""The fixture corpus (20 real labelled logs, 4 classes) as feature rows, built once per run."""

from __future__ import annotations

import pandas as pd
import pytest

from recoverops.training.datasets import corpus_examples, featurize, labelled
from tests.ml_corpus import write_case_corpus


@pytest.fixture(scope="session")
def case_rows(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    corpus = write_case_corpus(tmp_path_factory.mktemp("cases"))
    rows: pd.DataFrame = labelled(featurize(corpus_examples(corpus)))
    return rows
