"""The Live page: health, each source's deliveries, failures and lag, and a clear state when the
API is down, through AppTest against the real API."""

from __future__ import annotations

import httpx
from streamlit.testing.v1 import AppTest

from recoverops.incidents import Source
from tests.dashboard.conftest import LiveApi, Opener, table
from tests.serve.harness import github_headers, payload_bytes

SUREFIRE = "plain-maven-surefire-failure"
STS_DENIED = "plain-aws-sts-accessdenied"
SOURCES = ["GitHub", "GitLab", "Jenkins", "Kubernetes", "AWS"]


def sources(at: AppTest) -> dict[object, dict[str, object]]:
    frame = at.dataframe[0].value
    rows = [{str(name): value for name, value in row.items()} for row in frame.to_dict("records")]
    return {row["source"]: row for row in rows}


def test_each_source_shows_its_deliveries_failures_and_lag(
    open_page: Opener, live_api: LiveApi
) -> None:
    live_api.seed(SUREFIRE, 1)
    denied = live_api.seed(STS_DENIED, 2, source=Source.CLOUDWATCH)
    body = payload_bytes("github/ping/payload.json")
    pinged = httpx.post(
        f"{live_api.url}/webhooks/github", content=body, headers=github_headers("ping", "p-1", body)
    )
    assert pinged.status_code == 200
    live_api.store.save_source_position("kubernetes", "pods", "4711")

    at = open_page(live_api.url)

    assert not at.exception
    assert [m.value for m in at.success] == ["API healthy"]
    figures = {metric.label: metric.value for metric in at.metric}
    assert (figures["Queued"], figures["In flight"]) == ("0", "0")  # seeded, not queued
    assert set(figures) >= {"ingest (median, 1 h)", "detect (median, 1 h)"}
    shown = sources(at)
    assert list(shown) == SOURCES
    assert shown["GitHub"]["deliveries"] == 1
    assert shown["GitHub"]["state"] == "receiving"
    assert shown["GitHub"]["last failure"] == "2025-03-01 12:01:00 UTC"
    assert shown["AWS"]["last failure"] == "2025-03-01 12:02:00 UTC"
    assert shown["Kubernetes"]["state"] == "watching"
    assert str(shown["Kubernetes"]["watch lag"]).endswith(" s")
    assert shown["Jenkins"]["state"] == "no events yet"
    assert table(at, 1, "id")[0] == denied.id  # the newest failure first
    assert table(at, 1, "source")[0] == "AWS"


def test_the_page_follows_the_api_and_its_refresh_can_be_paused(
    open_page: Opener, live_api: LiveApi
) -> None:
    at = open_page(live_api.url)
    assert at.toggle(key="live").value is True
    (info,) = [i.value for i in at.info]
    assert info.startswith("No incidents yet.") and "make example" in info  # kept

    seeded = live_api.seed(SUREFIRE)
    at.run()
    assert table(at, 1, "id") == [seeded.id]

    at.toggle(key="live").set_value(False).run()
    assert not at.exception and table(at, 1, "id") == [seeded.id]


def test_an_unreachable_api_is_a_clear_message_not_a_traceback(
    open_page: Opener, dead_url: str, live_api: LiveApi
) -> None:
    seeded = live_api.seed(SUREFIRE)

    at = open_page(dead_url)

    assert not at.exception
    assert len(at.error) == 1
    assert f"The RecoverOps API at {dead_url} is unavailable" in at.error[0].value
    assert "recoverops up" in at.error[0].value
    assert not at.dataframe

    # Pointing the settings at the running API brings the incidents back.
    at = open_page(live_api.url)
    assert not at.exception and not at.error
    assert table(at, 1, "id") == [seeded.id]


def test_dead_letters_are_pointed_out(open_page: Opener, live_api: LiveApi) -> None:
    live_api.seed(SUREFIRE)
    at = open_page(live_api.url)
    assert not at.warning  # none yet

    live_api.store.add_dead_letter(
        "events", key="github:d-1", payload={"event_id": 1}, attempts=5, last_error="boom"
    )
    at.run()

    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("1 event(s) given up on") and "--dead-letters" in warning
