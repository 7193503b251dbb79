"""The incidents page, driven through Streamlit's AppTest against the real API over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recoverops.models.classifier import FailureModel
from recoverops.models.combine import refine
from tests.champion import corpus_frame
from tests.connectors.fake_server import running
from tests.dashboard.conftest import APP, LiveApi

SUREFIRE = "plain-maven-surefire-failure"
STS_DENIED = "plain-aws-sts-accessdenied"
# One run of the page makes a handful of local HTTP calls; a generous bound for slow CI.
RUN_TIMEOUT = 20.0
NOVEL_SHOWN = 0.8  # the dashboard's NOVEL


Page = Callable[[str], AppTest]


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Page:
    """Opens the page with its API set where `recoverops up` sets it: the settings."""

    def open_page(api_url: str) -> AppTest:
        monkeypatch.setenv("RECOVEROPS_DASHBOARD_API_URL", api_url)
        return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()

    return open_page


def table_column(at: AppTest, column: str) -> list[object]:
    return list(at.dataframe[0].value[column])


def test_lists_incidents_and_shows_the_chosen_ones_evidence_and_timeline(
    page: Page,
    live_api: LiveApi,
) -> None:
    seeded = live_api.seed(SUREFIRE)

    at = page(live_api.url)

    assert not at.exception
    assert [message.value for message in at.success] == ["API healthy"]
    assert table_column(at, "id") == [seeded.id]
    assert table_column(at, "category") == [seeded.category.value]
    assert table_column(at, "status") == ["analyzed"]
    assert not at.code  # nothing chosen yet

    at.selectbox(key="incident").select(seeded.id).run()

    assert not at.exception
    assert seeded.evidence, "the fixture log should give evidence"
    evidence = at.code[0].value
    for text in seeded.evidence:
        assert text in evidence
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Category"] == seeded.category.value
    assert metrics["Status"] == "analyzed"
    assert metrics["Confidence"].endswith("%")
    assert "Decided by rules" in [caption.value for caption in at.caption]
    timeline = at.dataframe[1].value
    assert list(timeline["stage"]) == ["open", "analyzed"]
    assert list(timeline["detail"]) == ["detected", "analyzed"]


def test_a_model_decided_verdict_shows_the_model_and_its_novelty(
    page: Page, live_api: LiveApi, tmp_path: Path
) -> None:
    frame = corpus_frame(tmp_path / "corpus")
    model = FailureModel().fit(frame, frame["label"])
    # An AWS error: nothing like the build failures the model learned from.
    seeded = live_api.seed(STS_DENIED, refine=partial(refine, model=model, name="clf/3"))

    at = page(live_api.url)
    at.selectbox(key="incident").select(seeded.id).run()

    assert not at.exception
    (provenance,) = [c.value for c in at.caption if c.value.startswith("Decided by")]
    assert provenance.startswith("Decided by rules · novelty ")
    novelty = float(provenance.split("novelty ")[1].split()[0])
    assert novelty >= NOVEL_SHOWN
    assert "unlike anything the model has seen" in provenance


def test_filters_narrow_the_list(page: Page, live_api: LiveApi) -> None:
    surefire = live_api.seed(SUREFIRE, 1)
    denied = live_api.seed(STS_DENIED, 2)
    assert surefire.category != denied.category

    at = page(live_api.url)
    assert table_column(at, "id") == [denied.id, surefire.id]  # newest first

    at.selectbox(key="filter_category").select(surefire.category.value).run()

    assert not at.exception
    assert table_column(at, "id") == [surefire.id]


def test_load_more_follows_the_next_cursor(page: Page, live_api: LiveApi) -> None:
    ids = [live_api.seed_bare(number) for number in range(51)]  # one past a page of 50

    at = page(live_api.url)
    assert len(table_column(at, "id")) == 50

    at.button(key="load_more").click().run()

    assert not at.exception
    assert table_column(at, "id") == ids
    assert not at.button  # nothing more to load


def test_an_unreachable_api_is_a_clear_message_not_a_traceback(
    page: Page, dead_url: str, live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = live_api.seed(SUREFIRE)

    at = page(dead_url)

    assert not at.exception
    assert len(at.error) == 1
    assert f"The RecoverOps API at {dead_url} is unavailable" in at.error[0].value
    assert not at.dataframe

    # Pointing the settings at the running API brings the incidents back.
    monkeypatch.setenv("RECOVEROPS_DASHBOARD_API_URL", live_api.url)
    at.run()

    assert not at.exception
    assert not at.error
    assert table_column(at, "id") == [seeded.id]


def test_feedback_corrects_the_category_and_shows_on_the_timeline(
    page: Page, live_api: LiveApi
) -> None:
    seeded = live_api.seed(SUREFIRE)
    at = page(live_api.url)
    at.selectbox(key="incident").select(seeded.id).run()
    assert at.selectbox(key=f"feedback_category_{seeded.id}").value == seeded.category.value

    at.selectbox(key=f"feedback_category_{seeded.id}").select("build.lint")
    at.radio(key=f"feedback_outcome_{seeded.id}").set_value("worked")
    at.text_input(key="feedback_operator").input("alice")
    at.text_input(key=f"feedback_note_{seeded.id}").input("a checkstyle rule, not a test")
    at.button(key=f"feedback_send_{seeded.id}").click().run()

    assert not at.exception
    assert not at.error
    assert any("recorded" in message.value for message in at.success)
    timeline = at.dataframe[1].value
    assert list(timeline["stage"])[-1] == "feedback"
    # The typed name is ignored: the API records the token's subject (`development`: sign-in off).
    assert list(timeline["detail"])[-1] == (
        f"development corrected {seeded.category.value} to build.lint, fix worked: "
        "a checkstyle rule, not a test"
    )
    [labelled] = live_api.store.labelled_incidents()
    assert (labelled.incident_id, labelled.label.value, labelled.fix_outcome) == (
        seeded.id,
        "build.lint",
        "worked",
    )


def test_feedback_without_an_operator_or_a_verdict_is_refused_with_the_reason(
    page: Page,
    live_api: LiveApi,
) -> None:
    seeded = live_api.seed(SUREFIRE)
    at = page(live_api.url)
    at.selectbox(key="incident").select(seeded.id).run()

    at.button(key=f"feedback_send_{seeded.id}").click().run()  # no operator

    assert not at.exception
    assert [message.value for message in at.error] == ["Say who you are (Operator) first."]

    at.selectbox(key=f"feedback_category_{seeded.id}").select("(no verdict)")
    at.text_input(key="feedback_operator").input("alice")
    at.button(key=f"feedback_send_{seeded.id}").click().run()  # neither category nor outcome

    assert not at.exception
    assert len(at.error) == 1
    assert "give a category, a fix_outcome, or both" in at.error[0].value
    assert live_api.store.feedback_watermark() == 0


def test_an_empty_system_says_how_to_get_a_first_incident(page: Page, live_api: LiveApi) -> None:
    at = page(live_api.url)
    assert not at.exception and not at.dataframe
    (message,) = [info.value for info in at.info]
    assert message.startswith("No incidents yet.") and "make example" in message
    assert "docs/ci-setup.md" in message

    # With a filter that matches nothing, the page says so instead.
    live_api.seed(SUREFIRE)
    at = page(live_api.url)
    at.selectbox(key="filter_status").select("analyzed").run()
    at.selectbox(key="filter_category").select("security.iam").run()
    assert [info.value for info in at.info] == ["No incidents match."]


def test_the_pages_url_cannot_choose_the_api_it_reads(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ?api= used to name the API; the page's server made the requests, so a visitor could
    # make it fetch any URL and show the answer. Only the settings name the API now.
    seeded = live_api.seed(SUREFIRE)
    monkeypatch.setenv("RECOVEROPS_DASHBOARD_API_URL", live_api.url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    with running() as elsewhere:
        at.query_params["api"] = elsewhere.url
        at.run()

        assert not at.exception and not at.error
        assert table_column(at, "id") == [seeded.id]
        assert elsewhere.paths() == []  # never asked anything
    assert not [widget for widget in at.text_input if widget.key == "api_url"]
    assert f"{live_api.url} (RECOVEROPS_DASHBOARD_API_URL)" in [c.value for c in at.caption]
