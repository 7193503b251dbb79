"""The Failures page, driven through Streamlit's AppTest against the real API over HTTP."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from recoverops.incidents import Source
from tests.connectors.fake_server import running
from tests.dashboard.conftest import APP, RUN_TIMEOUT, LiveApi, Opener, table

FAILURES = "views/failures.py"
SUREFIRE = "plain-maven-surefire-failure"
STS_DENIED = "plain-aws-sts-accessdenied"


def test_lists_incidents_and_opens_the_chosen_one_on_the_incident_page(
    open_page: Opener, live_api: LiveApi
) -> None:
    seeded = live_api.seed(SUREFIRE)

    at = open_page(live_api.url, FAILURES)

    assert not at.exception
    assert table(at, 0, "id") == [seeded.id]
    assert table(at, 0, "category") == [seeded.category.value]
    assert table(at, 0, "status") == ["analyzed"]
    assert not at.code  # nothing opened yet

    at.selectbox(key="incident").select(seeded.id).run()

    assert not at.exception
    assert [title.value for title in at.title] == ["Incident"]
    assert at.query_params["id"] == str(seeded.id)
    assert seeded.evidence[0] in at.code[0].value


def test_filters_narrow_the_list_and_the_chart(open_page: Opener, live_api: LiveApi) -> None:
    surefire = live_api.seed(SUREFIRE, 1)
    denied = live_api.seed(STS_DENIED, 2, source=Source.CLOUDWATCH)
    assert surefire.category != denied.category

    at = open_page(live_api.url, FAILURES)
    assert table(at, 0, "id") == [denied.id, surefire.id]  # newest first
    assert table(at, 0, "source") == ["cloudwatch", "github"]

    at.selectbox(key="filter_category").select(surefire.category.value).run()

    assert not at.exception
    assert table(at, 0, "id") == [surefire.id]
    at.selectbox(key="filter_category").select("any").run()
    at.selectbox(key="filter_source").select("cloudwatch").run()
    assert table(at, 0, "id") == [denied.id]


def test_the_target_filter_is_exact(open_page: Opener, live_api: LiveApi) -> None:
    live_api.seed(SUREFIRE, 1)
    denied = live_api.seed(STS_DENIED, 2)

    at = open_page(live_api.url, FAILURES)
    at.text_input(key="filter_target").input(f"octo/repo:ci/{STS_DENIED}").run()

    assert not at.exception
    assert table(at, 0, "id") == [denied.id]


def test_the_chart_counts_by_the_chosen_dimension(open_page: Opener, live_api: LiveApi) -> None:
    live_api.seed(SUREFIRE, 1)
    live_api.seed(STS_DENIED, 2)
    at = open_page(live_api.url, FAILURES)

    (chart,) = at.get("vega_lite_chart")
    assert '"field":"category"' in chart.proto.spec.replace(" ", "")

    at.radio(key="chart_by").set_value("repository").run()

    (chart,) = at.get("vega_lite_chart")
    assert '"field":"repository"' in chart.proto.spec.replace(" ", "")


def test_load_more_follows_the_next_cursor(open_page: Opener, live_api: LiveApi) -> None:
    ids = [live_api.seed_bare(number) for number in range(51)]  # one past a page of 50

    at = open_page(live_api.url, FAILURES)
    assert len(table(at, 0, "id")) == 50

    at.button(key="load_more").click().run()

    assert not at.exception
    assert table(at, 0, "id") == ids
    assert not [button for button in at.button if button.key == "load_more"]


def test_an_empty_system_says_how_to_get_a_first_incident(
    open_page: Opener, live_api: LiveApi
) -> None:
    at = open_page(live_api.url, FAILURES)
    assert not at.exception and not at.dataframe
    (message,) = [info.value for info in at.info]
    assert message.startswith("No incidents yet.") and "make example" in message
    assert "docs/ci-setup.md" in message

    # With a filter that matches nothing, the page says so instead.
    live_api.seed(SUREFIRE)
    at = open_page(live_api.url, FAILURES)
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
        at.switch_page(FAILURES).run()

        assert not at.exception and not at.error
        assert table(at, 0, "id") == [seeded.id]
        assert elsewhere.paths() == []  # never asked anything
    assert not [widget for widget in at.text_input if widget.key == "api_url"]
    assert f"API: {live_api.url} (RECOVEROPS_DASHBOARD_API_URL)" in [c.value for c in at.caption]
