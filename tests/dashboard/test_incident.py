"""The Incident page: evidence, root cause, the fix's diff, the same failure elsewhere, actions,
timeline and feedback, through AppTest against the real API."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from streamlit.testing.v1 import AppTest

from recoverops.analysis import Analysis
from recoverops.diagnosis import diagnose
from recoverops.models.classifier import FailureModel
from recoverops.models.combine import refine
from tests.champion import corpus_frame
from tests.dashboard.conftest import OPERATOR_TOKEN, VIEWER_TOKEN, LiveApi, Opener, table
from tests.serve.harness import CASES

INCIDENT = "views/incident.py"
SUREFIRE = "plain-maven-surefire-failure"
STS_DENIED = "plain-aws-sts-accessdenied"
FLAKE8 = "plain-flake8"
NOVEL_SHOWN = 0.8  # the page's NOVEL


def opened(open_page: Opener, api: LiveApi, number: int, *, token: str | None = None) -> AppTest:
    at = open_page(api.url, INCIDENT, token=token)
    at.selectbox(key="incident_pick").select(number).run()
    assert not at.exception
    return at


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_shows_the_evidence_and_the_timeline(open_page: Opener, live_api: LiveApi) -> None:
    seeded = live_api.seed(SUREFIRE)

    at = opened(open_page, live_api, seeded.id)

    assert seeded.evidence, "the fixture log should give evidence"
    evidence = at.code[0].value
    for text in seeded.evidence:
        assert text in evidence
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Category"] == seeded.category.value
    assert metrics["Status"] == "analyzed"
    assert metrics["Confidence"].endswith("%")
    assert "Decided by rules" in [caption.value for caption in at.caption]
    (timeline,) = [frame.value for frame in at.dataframe if "stage" in frame.value]
    assert list(timeline["stage"]) == ["open", "analyzed"]
    assert list(timeline["detail"]) == ["detected", "analyzed"]
    # Not diagnosed, compared or acted on: each section says so rather than vanishing.
    captions = [caption.value for caption in at.caption]
    assert "No fix proposed for this incident." in captions
    assert "None planned for this incident." in captions


def test_an_unknown_incident_in_the_url_is_a_clear_message(
    open_page: Opener, live_api: LiveApi
) -> None:
    at = open_page(live_api.url, INCIDENT)
    at.query_params["id"] = "999"
    at.run()
    assert not at.exception
    assert [error.value for error in at.error] == ["No incident #999."]


def test_the_root_cause_and_the_fix_with_its_diff(
    open_page: Opener, live_api: LiveApi, tmp_path: Path
) -> None:
    # The flake8 case's repository: the file its log names, without the final newline (W292).
    lines = [f"x{n} = {n}" for n in range(1, 44)]
    (tmp_path / "num_guess.py").write_text("\n".join(lines))
    log = (CASES / FLAKE8 / "log.txt").read_bytes().decode("utf-8", errors="replace")

    def diagnosed(analysis: Analysis) -> Analysis:
        return diagnose(analysis, text=log, repo=tmp_path)

    seeded = live_api.seed(FLAKE8, refine=diagnosed)
    at = opened(open_page, live_api, seeded.id)

    (diff,) = [code for code in at.code if code.language == "diff"]
    assert diff.value.startswith("--- a/num_guess.py\n+++ b/num_guess.py\n")
    assert any(text.startswith("lint: ") for text in markdown(at))
    (components,) = [frame.value for frame in at.dataframe if "kind" in frame.value]
    assert "num_guess.py" in list(components["file"])


def test_the_same_failure_on_other_targets_is_listed(open_page: Opener, live_api: LiveApi) -> None:
    first = live_api.seed(SUREFIRE, 1, target="octo/app:ci/test")
    second = live_api.seed(SUREFIRE, 2, target="octo/lib:ci/test")

    at = opened(open_page, live_api, second.id)

    (similar,) = [frame.value for frame in at.dataframe if "incident" in frame.value]
    assert list(similar["incident"]) == [first.id]
    assert list(similar["target"]) == ["octo/app:ci/test"]


def test_the_incidents_actions_are_listed(open_page: Opener, live_api: LiveApi) -> None:
    seeded = live_api.seed(SUREFIRE)
    action = live_api.plan(seeded.id)

    at = opened(open_page, live_api, seeded.id)

    (actions,) = [frame.value for frame in at.dataframe if "kind" in frame.value]
    assert list(actions["id"]) == [action.id]
    assert list(actions["status"]) == ["awaiting_approval"]


def test_a_model_decided_verdict_shows_the_model_and_its_novelty(
    open_page: Opener, live_api: LiveApi, tmp_path: Path
) -> None:
    frame = corpus_frame(tmp_path / "corpus")
    model = FailureModel().fit(frame, frame["label"])
    # An AWS error: nothing like the build failures the model learned from.
    seeded = live_api.seed(STS_DENIED, refine=partial(refine, model=model, name="clf/3"))

    at = opened(open_page, live_api, seeded.id)

    (provenance,) = [c.value for c in at.caption if c.value.startswith("Decided by")]
    assert provenance.startswith("Decided by rules · novelty ")
    novelty = float(provenance.split("novelty ")[1].split()[0])
    assert novelty >= NOVEL_SHOWN
    assert "unlike anything the model has seen" in provenance


def test_feedback_corrects_the_category_as_the_signed_in_operator(
    open_page: Opener, signed_in_api: LiveApi
) -> None:
    seeded = signed_in_api.seed(SUREFIRE)
    at = opened(open_page, signed_in_api, seeded.id, token=OPERATOR_TOKEN)
    assert at.selectbox(key=f"feedback_category_{seeded.id}").value == seeded.category.value
    assert not [w for w in at.text_input if w.key == "feedback_operator"]  # no typed name

    at.selectbox(key=f"feedback_category_{seeded.id}").select("build.lint")
    at.radio(key=f"feedback_outcome_{seeded.id}").set_value("worked")
    at.text_input(key=f"feedback_note_{seeded.id}").input("a checkstyle rule, not a test")
    at.button(key=f"feedback_send_{seeded.id}").click().run()

    assert not at.exception
    assert not at.error
    assert any("recorded" in message.value for message in at.success)
    assert table(at, -1, "stage")[-1] == "feedback"
    assert table(at, -1, "detail")[-1] == (
        f"olga corrected {seeded.category.value} to build.lint, fix worked: "
        "a checkstyle rule, not a test"
    )
    [labelled] = signed_in_api.store.labelled_incidents()
    assert (labelled.incident_id, labelled.label.value, labelled.fix_outcome) == (
        seeded.id,
        "build.lint",
        "worked",
    )


def test_feedback_without_a_verdict_is_refused_with_the_reason(
    open_page: Opener, live_api: LiveApi
) -> None:
    seeded = live_api.seed(SUREFIRE)
    at = opened(open_page, live_api, seeded.id)

    at.selectbox(key=f"feedback_category_{seeded.id}").select("(no verdict)")
    at.button(key=f"feedback_send_{seeded.id}").click().run()  # neither category nor outcome

    assert not at.exception
    assert len(at.error) == 1
    assert "give a category, a fix_outcome, or both" in at.error[0].value
    assert live_api.store.feedback_watermark() == 0


def test_a_viewer_sees_no_feedback_form(open_page: Opener, signed_in_api: LiveApi) -> None:
    seeded = signed_in_api.seed(SUREFIRE)

    at = opened(open_page, signed_in_api, seeded.id, token=VIEWER_TOKEN)

    assert seeded.evidence[0] in at.code[0].value  # a viewer reads
    assert not at.button and not at.radio
    assert "Operators and admins can give feedback here; sign in as one." in [
        c.value for c in at.caption
    ]
