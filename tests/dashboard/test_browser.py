"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, reads `streamlit run`
against the real API with real incidents and a real action; every page is screenshotted (under
the test's tmp dir) and an action is approved by clicking.

Chromium is not optional here: without it the test fails and says how to install it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from recoverops.diagnosis import diagnose
from recoverops.remediation.model import ActionStatus
from tests.dashboard.conftest import APP, LiveApi
from tests.serve.harness import CASES, unused_port

CHROMIUM = Path(os.environ.get("RECOVEROPS_TEST_CHROMIUM", "/usr/bin/chromium"))
STARTS_WITHIN = 60.0
# Streamlit renders over a websocket after the page loads; a loaded CI machine is slow.
SHOWN_WITHIN_MS = 30_000
SUREFIRE = "plain-maven-surefire-failure"
FLAKE8 = "plain-flake8"


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: install Debian's with `apt-get install -y chromium` "
            "(`make services` does), or name another build in RECOVEROPS_TEST_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
def dashboard(live_api: LiveApi, tmp_path: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py`, as `recoverops up` starts it, reading `live_api`."""
    with unused_port() as port:
        pass
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        env={
            **os.environ,
            "RECOVEROPS_DASHBOARD_API_URL": live_api.url,
            "RECOVEROPS_HOME": str(tmp_path / "dashboard-home"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process, tmp_path / "streamlit.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTS_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit stopped ({process.returncode}): {log.read_text()}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1.0).text == "ok":
                return
        except httpx.TransportError:
            pass
        try:
            process.wait(timeout=0.1)  # a pause that also notices streamlit stopping
        except subprocess.TimeoutExpired:
            pass
    pytest.fail(f"streamlit was not up at {url} within {STARTS_WITHIN} s: {log.read_text()}")


@pytest.fixture
def page(chromium_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=["--no-sandbox"]
        )
        try:
            # Tall enough for a page's whole content: Streamlit scrolls its main area itself, so a
            # full-page screenshot is only the viewport.
            yield browser.new_page(viewport={"width": 1400, "height": 2000})
        finally:
            browser.close()


def shot(page: Page, folder: Path, name: str, *, tables: int = 0) -> Path:
    """A screenshot once the page's first `tables` tables are drawn (a canvas each)."""
    for index in range(tables):
        grid = page.get_by_test_id("stDataFrame").nth(index).locator("canvas").first
        expect(grid).to_be_attached(timeout=SHOWN_WITHIN_MS)
    # Streamlit shows "Stop" while the script runs: shot once it has finished drawing.
    expect(page.get_by_role("button", name="Stop")).to_be_hidden(timeout=SHOWN_WITHIN_MS)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: an empty screenshot"
    return path


def test_every_page_in_chromium_and_an_approval_by_click(
    page: Page, dashboard: str, live_api: LiveApi, tmp_path: Path
) -> None:
    surefire = live_api.seed(SUREFIRE, 1, target="octo/app:ci/test")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "num_guess.py").write_text("\n".join(f"x{n} = {n}" for n in range(1, 44)))
    log = (CASES / FLAKE8 / "log.txt").read_bytes().decode("utf-8", errors="replace")
    lint = live_api.seed(FLAKE8, 2, refine=lambda a: diagnose(a, text=log, repo=repo))
    action = live_api.plan(surefire.id)
    shots = tmp_path / "screenshots"
    shots.mkdir()

    page.goto(f"{dashboard}/")  # Live, the default page
    expect(page.get_by_text("API healthy")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(page.get_by_text("Newest failures")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    shot(page, shots, "live", tables=2)

    # The Live page refreshes itself: a new failure shows with no reload.
    later = live_api.seed(SUREFIRE, 3, target="octo/late:ci/arrives-later")
    assert later.id == 3
    expect(page.get_by_text("3 incident(s) read")).to_be_visible(timeout=SHOWN_WITHIN_MS)

    page.goto(f"{dashboard}/failures")
    expect(page.get_by_role("heading", name="Failures")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(page.get_by_text("3 incident(s)")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    shot(page, shots, "failures", tables=1)

    # Opening an incident from the list moves to its page, with its id in the URL.
    page.get_by_test_id("stSelectbox").filter(has_text="Open an incident").click()
    page.get_by_role("option", name=f"#{lint.id} · build.lint").click()
    page.wait_for_url(f"{dashboard}/incident?id={lint.id}", timeout=SHOWN_WITHIN_MS)
    expect(page.get_by_text("Proposed fix")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    # The diff, highlighted (its lines are split into spans: matched on the code block).
    expect(page.locator("code", has_text="+++ b/num_guess.py")).to_be_visible(
        timeout=SHOWN_WITHIN_MS
    )
    shot(page, shots, "incident", tables=2)

    page.goto(f"{dashboard}/fixes")
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_visible(timeout=SHOWN_WITHIN_MS)
    shot(page, shots, "fixes", tables=1)
    approve.click()
    expect(page.get_by_text(f"Action #{action.id} is approved.")).to_be_visible(
        timeout=SHOWN_WITHIN_MS
    )
    stored = live_api.engine().actions.get(action.id)
    assert stored is not None and stored.status is ActionStatus.APPROVED
    assert stored.decided_by == "operator: development"  # no sign-in: the development subject
    shot(page, shots, "fixes-approved", tables=1)

    # The remediator carries the approved action out; the incident is resolved.
    live_api.world.good.add("v2")
    ran = live_api.engine().run(action.id)
    assert ran is not None and ran.status is ActionStatus.SUCCEEDED
    page.goto(f"{dashboard}/analytics")
    expect(page.get_by_text("1 of 3 incident(s) resolved.")).to_be_visible(timeout=SHOWN_WITHIN_MS)
    expect(page.get_by_text("the API does not expose them yet")).to_be_visible(
        timeout=SHOWN_WITHIN_MS
    )
    expect(page.get_by_test_id("stMetricValue").filter(has_text="100%")).to_be_visible()
    shot(page, shots, "analytics", tables=0)

    assert sorted(p.name for p in shots.iterdir()) == [
        "analytics.png",
        "failures.png",
        "fixes-approved.png",
        "fixes.png",
        "incident.png",
        "live.png",
    ]
