"""A polling loop's view of a dependency that is down: one log line when it goes, one when it
comes back, and exponentially longer waits in between (not a traceback every poll)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable


class Outage:
    """Call `failed` after each failed try (it says how long to wait) and `succeeded` after
    each successful one; `what` names the dependency in the two log lines."""

    def __init__(
        self,
        what: str,
        *,
        logger: logging.Logger,
        base: float,
        ceiling: float,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if base <= 0 or ceiling < base:
            raise ValueError(f"invalid backoff: base {base}, ceiling {ceiling}")
        self.what = what
        self._logger = logger
        self._base = base
        self._ceiling = ceiling
        self._clock = clock
        self._jitter = jitter
        self._since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> float:
        """Seconds to wait before the next try; logs only the first failure of an outage."""
        self.failures += 1
        if self._since is None:
            self._since = self._clock()
            self._logger.warning(
                "%s is unavailable (%s: %s); retrying with backoff up to %gs",
                self.what,
                type(error).__name__,
                _first_line(error),
                self._ceiling,
            )
        ceiling = min(self._ceiling, self._base * 2.0 ** (self.failures - 1))
        # "Equal jitter": at least half the ceiling, so that recovering servers are not
        # hammered by every waiting loop at once.
        return ceiling * (1 + self._jitter()) / 2

    def succeeded(self) -> None:
        if self._since is not None:
            self._logger.warning(
                "%s is available again after %.1fs (%d failed tries)",
                self.what,
                self._clock() - self._since,
                self.failures,
            )
        self._since = None
        self.failures = 0


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no message"
