"""Validation refuses every broken patch: one that does not apply, and one that leaves its file
unparseable (YAML, JSON, TOML, Python) or a workflow without jobs; it passes a good one."""

from __future__ import annotations

import pytest

from recoverops.diagnosis.model import FixProposal
from recoverops.diagnosis.patch import PatchError, apply, make_diff, parse
from recoverops.diagnosis.validate import validate

WORKFLOW = (
    "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - run: make\n"
)


def proposal(path: str, old: str, new: str, *, patch: str | None = None) -> FixProposal:
    return FixProposal(
        kind="ci_config",
        files=(path,),
        explanation="",
        confidence=0.5,
        patch=patch if patch is not None else make_diff(path, old, new),
        originals={path: old},
    )


def test_a_good_patch_passes_and_applies_to_what_it_was_made_from() -> None:
    new = WORKFLOW.replace("jobs:", "permissions:\n  contents: read\n\njobs:")
    good = proposal(".github/workflows/ci.yml", WORKFLOW, new)
    assert validate(good).ok
    [diff] = parse(good.patch or "")
    assert apply(diff, WORKFLOW) == new


@pytest.mark.parametrize(
    ("path", "old", "new", "says"),
    [
        ("deploy.yaml", "a: 1\nb: 2\n", "a: 1\nb: [2\n", "would not parse"),
        ("package.json", '{"a": 1}\n', '{"a": 1,}\n', "would not parse"),
        ("pyproject.toml", 'name = "x"\n', 'name = "x\n', "would not parse"),
        (
            "app.py",
            "import os\n\nprint(os.sep)\n",
            "import os\n\nprint(os.sep\n",
            "would not parse",
        ),
        (".github/workflows/ci.yml", WORKFLOW, "name: ci\non: push\n", "without a `jobs` mapping"),
    ],
    ids=["yaml", "json", "toml", "python", "workflow-without-jobs"],
)
def test_a_patch_that_breaks_its_file_is_refused(path: str, old: str, new: str, says: str) -> None:
    verdict = validate(proposal(path, old, new))
    assert not verdict.ok
    assert says in verdict.reason and path in verdict.reason


def test_a_hunk_that_does_not_apply_is_refused() -> None:
    patch = make_diff("app.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    verdict = validate(proposal("app.py", "a = 1\nc = 2\n", "", patch=patch))
    assert not verdict.ok and "does not apply" in verdict.reason


def test_a_patch_for_a_file_it_was_not_given_is_refused() -> None:
    patch = make_diff("other.py", "a = 1\n", "a = 2\n")
    verdict = validate(proposal("app.py", "a = 1\n", "", patch=patch))
    assert not verdict.ok and "not available" in verdict.reason


def test_a_malformed_diff_is_refused() -> None:
    verdict = validate(
        proposal("app.py", "a = 1\n", "", patch="--- a/app.py\n+++ b/app.py\n@@ nonsense\n")
    )
    assert not verdict.ok and "does not parse" in verdict.reason
    with pytest.raises(PatchError):
        parse("no diff here")


def test_a_hunk_is_found_when_lines_above_it_moved() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 30))
    diff = parse(make_diff("f.txt", old, old.replace("line 20\n", "line twenty\n")))[0]
    shifted = "new first line\nnew second line\n" + old
    assert "line twenty" in apply(diff, shifted)
    assert apply(diff, shifted).startswith("new first line\n")


@pytest.mark.parametrize(
    ("old", "new"),
    [("a\nb", "a\nb\n"), ("a\nb\n", "a\nb"), ("a\nb", "a\nc"), ("a\nb\n", "a\nc\n")],
    ids=["newline-added", "newline-removed", "neither-has-one", "both-have-one"],
)
def test_a_diff_applies_back_to_exactly_the_new_text(old: str, new: str) -> None:
    [diff] = parse(make_diff("f.txt", old, new))
    assert apply(diff, old) == new
