"""Source positions on both backends: none until saved, overwritten in place, one per (source,
stream), forgotten on request (a 410 Gone)."""

from __future__ import annotations

from recoverops.store import Store


def test_a_position_is_saved_overwritten_and_forgotten(store: Store) -> None:
    assert store.source_position("kubernetes", "pods") is None
    store.save_source_position("kubernetes", "pods", "120")
    store.save_source_position("kubernetes", "events", "7")
    store.save_source_position("kubernetes", "pods", "184")
    assert store.source_position("kubernetes", "pods") == "184"
    assert store.source_position("kubernetes", "events") == "7"
    assert store.source_position("cloudwatch", "pods") is None
    store.forget_source_position("kubernetes", "pods")
    assert store.source_position("kubernetes", "pods") is None
    assert store.source_position("kubernetes", "events") == "7"
    store.forget_source_position("kubernetes", "pods")  # forgetting twice is no error
