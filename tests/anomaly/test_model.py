"""One source's anomaly model on its own: new error templates past the warm-up, bursts of known
error templates over their baseline, once per window, and a bounded number of templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recoverops.anomaly import AnomalyConfig, SourceModel

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CONFIG = AnomalyConfig(
    warmup=timedelta(minutes=10), window=timedelta(minutes=1), burst_factor=5.0, burst_min=10
)
ROUTINE = (
    "GET /api/cart/{n} 200 in {n}ms",
    "worker {n} picked job {n}",
    "ERROR payment gateway timeout after {n}ms for order {n}",
)


def learnt(minutes: int = 15, *, config: AnomalyConfig = CONFIG) -> SourceModel:
    """A model that watched `minutes` of routine lines, two of each a minute."""
    model = SourceModel("cloudwatch:/aws/lambda/shop", config=config, started=T0)
    for minute in range(minutes):
        for n, line in enumerate(ROUTINE * 2):
            at = T0 + timedelta(minutes=minute, seconds=n)
            assert model.observe(line.format(n=minute * 100 + n), at) is None
    return model


def test_a_new_error_template_after_the_warm_up_is_an_anomaly() -> None:
    model = learnt()
    at = T0 + timedelta(minutes=15, seconds=30)
    assert model.observe("user 77 logged in from 10.0.0.7", at) is None  # new, not an error
    anomaly = model.observe("FATAL: could not open database file /var/db/shop.sqlite", at)
    assert anomaly is not None and anomaly.reason == "new_template"
    assert anomaly.numbers["known"] == len(ROUTINE) + 1
    assert "a new template on cloudwatch:/aws/lambda/shop" in anomaly.detail
    # Seen again, it is known.
    again = model.observe("FATAL: could not open database file /var/db/cart.sqlite", at)
    assert again is None


def test_nothing_is_new_during_the_warm_up() -> None:
    model = learnt(minutes=3)
    assert model.warming(T0 + timedelta(minutes=9))
    at = T0 + timedelta(minutes=9)
    assert model.observe("FATAL: could not open database file /var/db/shop.sqlite", at) is None
    later = T0 + timedelta(minutes=10)
    assert not model.warming(later)
    # Learnt while warming up: not new afterwards either.
    assert model.observe("FATAL: could not open database file /var/db/x.sqlite", later) is None
    new = model.observe("panic: runtime error: index out of range [3] with length 3", later)
    assert new is not None and new.reason == "new_template"


def test_a_burst_of_a_known_error_template_is_an_anomaly_once_per_window() -> None:
    model = learnt()
    start = T0 + timedelta(minutes=15)
    found = [
        model.observe(f"ERROR payment gateway timeout after {n}ms for order {n}", start)
        for n in range(30)
    ]
    bursts = [a for a in found if a is not None]
    assert len(bursts) == 1  # reported when it crossed the bar, not for every line after
    (burst,) = bursts
    assert burst.reason == "burst"
    # Two a minute is its baseline: the bar is max(10, 5 x 2), crossed at the 10th line.
    assert burst.numbers["count"] == 10
    assert 1.9 < burst.numbers["baseline"] <= 2.0
    assert "a burst of a known error template" in burst.detail
    # The burst raised the baseline (0.3 x 30 + 0.7 x 2 = 10.4): next window, 12 lines are no
    # burst, 60 are one, reported once.
    for minute, lines, reported in ((1, 12, 0), (2, 60, 1)):
        at = start + timedelta(minutes=minute)
        again = [
            model.observe(f"ERROR payment gateway timeout after {n}ms for order {n}", at)
            for n in range(lines)
        ]
        assert sum(a is not None for a in again) == reported


def test_a_burst_of_a_routine_line_is_not_an_anomaly() -> None:
    model = learnt()
    start = T0 + timedelta(minutes=15)
    assert all(model.observe(f"GET /api/cart/{n} 200 in 3ms", start) is None for n in range(200))


def test_templates_are_bounded_the_least_recently_seen_forgotten_first() -> None:
    config = AnomalyConfig(warmup=timedelta(0), window=timedelta(minutes=1), max_templates=16)
    model = SourceModel("kubernetes:events", config=config, started=T0)
    words = [f"alpha{i} beta{i} gamma{i}" for i in range(40)]
    for word in words:
        model.observe(f"ERROR {word} failed", T0)
    assert len(model) == 16
    kept = {t.template for t in model.templates()}
    assert "ERROR alpha39 beta39 gamma39 failed" in kept
    assert "ERROR alpha0 beta0 gamma0 failed" not in kept
    # Forgotten, it is new again.
    anomaly = model.observe("ERROR alpha0 beta0 gamma0 failed", T0 + timedelta(seconds=1))
    assert anomaly is not None and anomaly.reason == "new_template"
