"""The git half of a fix's pull request, against a local bare repository: the branch carries the
patched file, the default branch is untouched and never pushed to, and no token is shown."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from recoverops.errors import (
    DefaultBranchRefused,
    FixNotApplicable,
    ForgeFailed,
    ForgeNotConfigured,
)
from recoverops.remediation.pull_requests.git import Remote
from recoverops.remediation.pull_requests.repository import clean_clone_url, credentials_for
from tests.kubernetes.cluster import free_port
from tests.remediation.pr_world import (
    HELPER,
    JAVA,
    PATCHED_IMPORTS,
    bare_repository,
    fix_analysis,
    git,
    refs,
    show,
)

AUTHOR = "RecoverOps <recoverops@noreply.invalid>"
BRANCH = "recoverops/incident-7-compilation"


def remote(bare: Path) -> Remote:
    url = f"file://{bare}"
    return Remote(url, shown_as=url)


def test_the_branch_carries_the_patched_file_and_the_default_branch_is_untouched(
    tmp_path: Path,
) -> None:
    bare = bare_repository(tmp_path)
    before = refs(bare)
    patch = fix_analysis(tmp_path).fix.patch

    pushed = remote(bare).push_patch(
        base="master", branch=BRANCH, patch=patch, message="Add the import\n", author=AUTHOR
    )

    after = refs(bare)
    assert pushed.created and after[f"refs/heads/{BRANCH}"] == pushed.commit
    assert after["refs/heads/master"] == before["refs/heads/master"]
    assert set(after) == {"refs/heads/master", f"refs/heads/{BRANCH}"}
    assert PATCHED_IMPORTS in show(bare, BRANCH, HELPER)
    assert show(bare, "master", HELPER) == JAVA
    # One commit on top of the default branch's head, by RecoverOps, changing that file only.
    parent = git("rev-parse", f"{BRANCH}^", cwd=bare).strip()
    assert parent == before["refs/heads/master"]
    author = git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", BRANCH, cwd=bare).strip()
    assert author == f"{AUTHOR}|{AUTHOR}|Add the import"
    changed = git("diff", "--name-only", "master", BRANCH, cwd=bare).split()
    assert changed == [HELPER]


def test_pushing_the_same_branch_again_pushes_nothing_new(tmp_path: Path) -> None:
    bare = bare_repository(tmp_path)
    patch = fix_analysis(tmp_path).fix.patch
    first = remote(bare).push_patch(
        base="master", branch=BRANCH, patch=patch, message="m\n", author=AUTHOR
    )
    again = remote(bare).push_patch(
        base="master", branch=BRANCH, patch=patch, message="m\n", author=AUTHOR
    )
    assert (again.created, again.commit) == (False, first.commit)
    assert git("rev-list", "--count", BRANCH, cwd=bare).strip() == "2"


@pytest.mark.parametrize("base", ["master", BRANCH])
def test_a_branch_named_like_the_default_branch_is_refused(tmp_path: Path, base: str) -> None:
    # The repository's default branch is the very name RecoverOps would push to: whether the
    # caller named it as the base or not, the remote's HEAD gives it away.
    bare = bare_repository(tmp_path, default=BRANCH)
    if base == "master":
        git("branch", "master", BRANCH, cwd=bare)
    before = refs(bare)
    patch = fix_analysis(tmp_path).fix.patch

    with pytest.raises(DefaultBranchRefused, match="default branch"):
        remote(bare).push_patch(base=base, branch=BRANCH, patch=patch, message="m\n", author=AUTHOR)

    assert refs(bare) == before
    assert show(bare, BRANCH, HELPER) == JAVA


def test_a_patch_that_no_longer_applies_is_refused_and_nothing_is_pushed(tmp_path: Path) -> None:
    bare = bare_repository(tmp_path)
    patch = fix_analysis(tmp_path).fix.patch
    # Someone changed the file on the default branch since the fix was proposed.
    work = tmp_path / "dev"
    git("clone", "-q", str(bare), str(work))
    (work / HELPER).write_text(JAVA.replace("import java.io.IOException;\n", ""))
    git("commit", "-q", "-am", "drop an import", cwd=work)
    git("push", "-q", "origin", "HEAD:master", cwd=work)
    before = refs(bare)

    with pytest.raises(FixNotApplicable, match="does not apply to master"):
        remote(bare).push_patch(
            base="master", branch=BRANCH, patch=patch, message="m\n", author=AUTHOR
        )
    assert refs(bare) == before


def test_git_errors_never_show_the_token_nor_take_it_as_an_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    plain = f"http://127.0.0.1:{free_port()}/octo/repo.git"  # nothing listens there
    auth = credentials_for(plain, host="127.0.0.1", user="x-access-token", token=token)
    assert auth is not None
    arguments: list[list[str]] = []
    run = subprocess.run

    def recorded(args: list[str], **kwargs: Any) -> Any:
        arguments.append(args)
        return run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recorded)
    with pytest.raises(ForgeFailed) as raised:
        Remote(plain, shown_as=plain, auth=auth).default_branch()

    message = str(raised.value)
    assert token not in message and auth not in message
    assert "git ls-remote failed" in message and plain in message
    assert arguments and not any(auth in arg or token in arg for a in arguments for arg in a)


def test_the_token_goes_only_to_the_forges_own_host() -> None:
    token = "glpat-abcdefghijklmnopqrst"
    own = credentials_for(
        "https://gitlab.example.com/g/p.git", host="gitlab.example.com", user="oauth2", token=token
    )
    assert own == "Authorization: Basic " + base64.b64encode(f"oauth2:{token}".encode()).decode()
    for elsewhere in ("https://evil.example.net/g/p.git", "file:///srv/g/p.git"):
        assert (
            credentials_for(elsewhere, host="gitlab.example.com", user="oauth2", token=token)
            is None
        )
    # Credentials a payload carries are dropped; git's dangerous transports are refused.
    assert clean_clone_url("https://someone:pw@github.com/o/r.git") == "https://github.com/o/r.git"
    with pytest.raises(ForgeNotConfigured, match="not http"):
        clean_clone_url("ext::sh -c touch% /tmp/pwned")
