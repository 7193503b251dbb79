"""How the detector actors and `POST /analyze` use the classifier deployment: rules ⊕ model.

`ClassifierClient.refine(analysis)` sends the analysis's feature row to the Classifier
(batched there with every other caller's), and combines the answer with the rules
(`models.combine`). Any failure (no deployment, a timeout, a replica that died, no model yet)
returns the rules' analysis unchanged: the model may improve a verdict, never lose an event.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ray import serve

from recoverops.analysis import Analysis
from recoverops.models.combine import apply_prediction
from recoverops.models.features import feature_row

from .classifier import APP_NAME, DEPLOYMENT_NAME, Served

logger = logging.getLogger("recoverops.serve.classifier")

DEFAULT_TIMEOUT_S = 2.0
# After a failure, how long to answer with the rules before trying the deployment again: a
# missing deployment must not cost every event a lookup and a timeout.
RETRY_AFTER_S = 5.0


class ClassifierClient:
    def __init__(
        self,
        *,
        app_name: str = APP_NAME,
        deployment: str = DEPLOYMENT_NAME,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.app_name = app_name
        self._deployment = deployment
        self._timeout_s = timeout_s
        self._handle: Any = None
        self._lock = threading.Lock()
        self._resting_until = 0.0

    def refine(self, analysis: Analysis) -> Analysis:
        """`analysis` with the served model's verdict combined in, or unchanged."""
        served = self.predict(analysis)
        if served is None or served.prediction is None or served.model is None:
            return analysis
        refined: Analysis = apply_prediction(analysis, served.prediction, model=served.model)
        return refined

    def predict(self, analysis: Analysis) -> Served | None:
        """The deployment's answer for `analysis`, or None when it could not be had."""
        if time.monotonic() < self._resting_until:
            return None
        try:
            handle = self._get_handle()
            served: Served = handle.predict.remote(feature_row(analysis)).result(
                timeout_s=self._timeout_s
            )
        except Exception as error:  # whatever Serve raises, the rules answer alone
            self._resting_until = time.monotonic() + RETRY_AFTER_S
            with self._lock:
                self._handle = None
            logger.warning("classifier unavailable, using the rules alone: %r", error)
            return None
        if served.error is not None:
            logger.warning("classifier refused a feature row: %s", served.error)
        return served

    def _get_handle(self) -> Any:
        with self._lock:
            if self._handle is None:
                self._handle = serve.get_deployment_handle(self._deployment, self.app_name)
            return self._handle
