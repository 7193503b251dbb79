"""One source's anomaly model: the templates it printed and each one's rate baseline.

Each template's lines are counted per window (`window`, a minute by default); when a window
closes, its count updates the template's baseline, an exponentially weighted moving average
(`ALPHA`), and each window that passed with no line decays it. A burst is judged on the window
still open against the baseline of the closed ones, so the burst never raises its own bar.

Bounded: at most `max_templates` templates (the miner's clusters and their counts), the least
recently seen forgotten first; a forgotten template seen again is new again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from recoverops.logs.chunk import error_score
from recoverops.logs.templates import TemplateMiner, template_id
from recoverops.settings import Settings

# The weight of the newest window in the baseline: about the last five windows count.
ALPHA = 0.3
# A line reads like an error at this score ("error", "failed", "fatal", "denied", …): the
# detector's own bar for a clear error line.
ERROR_SCORE = 1.5
# Windows of history a template needs before its rate can burst (its baseline means nothing
# before).
MIN_HISTORY = 3

Reason = Literal["new_template", "burst"]


@dataclass(frozen=True, slots=True)
class AnomalyConfig:
    warmup: timedelta = timedelta(minutes=10)
    window: timedelta = timedelta(minutes=1)
    burst_factor: float = 5.0
    burst_min: int = 20
    max_templates: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings) -> AnomalyConfig:
        return cls(
            warmup=timedelta(seconds=settings.anomaly_warmup_s),
            window=timedelta(seconds=settings.anomaly_window_s),
            burst_factor=settings.anomaly_burst_factor,
            burst_min=settings.anomaly_burst_min,
            max_templates=settings.anomaly_max_templates,
        )


@dataclass(slots=True)
class TemplateStats:
    """One template's history: what the store keeps of it, and the open window's count."""

    template: str
    first_seen: datetime
    last_seen: datetime
    count: int = 0
    baseline: float = 0.0
    window: int = 0  # the index of the window `in_window` counts
    in_window: int = 0
    windows: int = 0  # windows closed since it was first seen
    flagged: int = -1  # the window a burst was last reported in
    stored_id: str | None = None  # its id in the store (the template may have generalised)

    @property
    def id(self) -> str:
        return template_id(self.template)


@dataclass(frozen=True, slots=True)
class Anomaly:
    reason: Reason
    source: str
    line: str
    template: str
    template_id: str
    at: datetime
    window: int
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        n = self.numbers
        if self.reason == "new_template":
            return (
                f"a new template on {self.source}, unlike the {n['known']} it printed since "
                f"{n['since']}: {self.template}"
            )
        return (
            f"a burst of a known error template on {self.source}: {n['count']} lines in "
            f"{n['window_s']:g} s against a baseline of {n['baseline']:.1f} per window "
            f"({n['ratio']:.1f}x, the bar is {n['factor']:g}x and {n['min']} lines): "
            f"{self.template}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "source": self.source,
            "template_id": self.template_id,
            "template": self.template,
            "detail": self.detail,
            **self.numbers,
        }


def looks_like_error(line: str) -> bool:
    return error_score(line.lower()) >= ERROR_SCORE


class SourceModel:
    """The templates of one source, learnt from its lines. Not thread-safe."""

    def __init__(self, source: str, *, config: AnomalyConfig, started: datetime) -> None:
        self.source = source
        self.config = config
        self.started = started
        self._miner = TemplateMiner(max_clusters=config.max_templates)
        self._stats: OrderedDict[int, TemplateStats] = OrderedDict()
        self.evicted: list[str] = []  # stored ids of forgotten templates, for the store to drop
        self.learnt = 0  # templates learnt since the store last saw this model

    def __len__(self) -> int:
        return len(self._stats)

    def templates(self) -> list[TemplateStats]:
        return list(self._stats.values())

    def restore(self, stats: TemplateStats) -> None:
        """Take back a template the store kept (oldest seen first, so LRU order holds): its
        baseline counts as the history of the windows it spanned."""
        key, _, _ = self._miner.observe(stats.template)
        stats.stored_id = stats.id
        stats.window = self._window(stats.last_seen)
        stats.windows = stats.window - self._window(stats.first_seen)
        stats.in_window = 0
        self._put(key, stats)

    def warming(self, at: datetime) -> bool:
        return at - self.started < self.config.warmup

    def observe(self, line: str, at: datetime) -> Anomaly | None:
        """Learn the line; the anomaly it is, if any."""
        key, template, created = self._miner.observe(line)
        window = self._window(at)
        stats = self._stats.get(key)
        if stats is None:  # new, or its counts were forgotten while the miner kept it
            stats = TemplateStats(template.text, first_seen=at, last_seen=at, window=window)
            self._put(key, stats)
            known = len(self._stats) - 1
            self.learnt += 1
        else:
            self._stats.move_to_end(key)
            known = 0
        stats.template = template.text
        self._roll(stats, window)
        stats.count += 1
        stats.in_window += 1
        stats.last_seen = max(stats.last_seen, at)
        if self.warming(at) or not looks_like_error(line):
            return None
        if created:
            return Anomaly(
                "new_template",
                self.source,
                line,
                template.text,
                stats.id,
                at,
                window,
                {"known": known, "since": f"{self.started:%Y-%m-%d %H:%M} UTC"},
            )
        return self._burst(stats, line, at, window)

    def _burst(self, stats: TemplateStats, line: str, at: datetime, window: int) -> Anomaly | None:
        bar = max(float(self.config.burst_min), self.config.burst_factor * stats.baseline)
        if stats.windows < MIN_HISTORY or stats.in_window < bar or stats.flagged == window:
            return None
        stats.flagged = window
        ratio = stats.in_window / stats.baseline if stats.baseline else float(stats.in_window)
        numbers = {
            "count": stats.in_window,
            "baseline": round(stats.baseline, 3),
            "ratio": round(ratio, 1),
            "factor": self.config.burst_factor,
            "min": self.config.burst_min,
            "window_s": self.config.window.total_seconds(),
        }
        return Anomaly("burst", self.source, line, stats.template, stats.id, at, window, numbers)

    def _window(self, at: datetime) -> int:
        return int(at.timestamp() // self.config.window.total_seconds())

    def _roll(self, stats: TemplateStats, window: int) -> None:
        """Close the windows between the stats' window and `window` into the baseline."""
        if window <= stats.window:
            return
        stats.baseline = ALPHA * stats.in_window + (1 - ALPHA) * stats.baseline
        empty = window - stats.window - 1
        if empty:
            stats.baseline *= (1 - ALPHA) ** min(empty, 1000)
        stats.windows += window - stats.window
        stats.window = window
        stats.in_window = 0

    def _put(self, key: int, stats: TemplateStats) -> None:
        self._stats[key] = stats
        self._stats.move_to_end(key)
        while len(self._stats) > self.config.max_templates:
            _, gone = self._stats.popitem(last=False)
            if gone.stored_id is not None:
                self.evicted.append(gone.stored_id)
