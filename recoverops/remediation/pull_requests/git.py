"""The git half of a pull request: the fix's patch applied to the default branch's head in a
fresh temporary repository, committed by RecoverOps, and pushed to a branch of its own.

Nothing is written where the token could stay: the repository is `git init`ed and fetched from
the URL given on the command line (so no `remote.origin.url` keeps it), and every message git
prints is scrubbed of the URL and the token before it is raised. The default branch is never
pushed to: the remote is asked for its HEAD right before the push, and a branch of that name is
refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from recoverops.errors import DefaultBranchRefused, FixNotApplicable, ForgeFailed
from recoverops.redaction import redact_text

GIT_TIMEOUT_S = 180.0
# What RecoverOps names its branches: letters, digits and `/._-`, as `git check-ref-format`
# allows them (no `..`, no leading `-` or `/`, no `.lock` ending).
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,199}$")
_SYMREF = re.compile(r"^ref: refs/heads/(\S+)\tHEAD$", re.MULTILINE)
_AUTHOR = re.compile(r"^(?P<name>[^<>\n]+) <(?P<email>[^<>\s]+)>$")


@dataclass(frozen=True, slots=True)
class Pushed:
    commit: str  # the branch's head
    created: bool  # False: the branch was already there (an earlier attempt pushed it)


class Remote:
    """A remote repository at `url`; `auth`, an HTTP header carrying a token, goes with git's
    requests through git's environment (`http.extraHeader`), never on its command line."""

    def __init__(self, url: str, *, shown_as: str, auth: str | None = None) -> None:
        self._url = url
        self._shown_as = shown_as  # the URL as messages show it
        self._auth = auth

    def default_branch(self) -> str:
        """The branch the remote's HEAD points at."""
        out = self._git(["ls-remote", "--symref", self._url, "HEAD"], cwd=None)
        found = _SYMREF.search(out)
        if found is None:
            raise ForgeFailed(f"{self._shown_as} has no default branch (an empty repository?)")
        return found.group(1)

    def branch_head(self, branch: str) -> str | None:
        """The commit `branch` points at on the remote; None when it does not exist."""
        out = self._git(["ls-remote", "--heads", self._url, f"refs/heads/{branch}"], cwd=None)
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                return sha
        return None

    def push_patch(
        self, *, base: str, branch: str, patch: str, message: str, author: str
    ) -> Pushed:
        """Commit `patch` on top of `base`'s head and push it to the new branch `branch`.

        DefaultBranchRefused if `branch` is `base` or the remote's default branch;
        FixNotApplicable if the patch does not apply to `base`; ForgeFailed if git fails."""
        check_branch(branch)
        default = self.default_branch()
        if branch in {base, default}:
            raise DefaultBranchRefused(
                f"refusing to push to {branch!r}: it is the repository's default branch"
            )
        existing = self.branch_head(branch)
        if existing is not None:
            return Pushed(existing, created=False)
        name, email = parse_author(author)
        with tempfile.TemporaryDirectory(prefix="recoverops-fix-") as tmp:
            work = Path(tmp) / "repo"
            self._git(["init", "-q", str(work)], cwd=None)
            # The full ref: never a tag of that name, never a payload's branch read as an option.
            self._git(
                ["fetch", "-q", "--depth=1", "--no-tags", self._url, f"refs/heads/{base}"],
                cwd=work,
            )
            self._git(["checkout", "-q", "--detach", "FETCH_HEAD"], cwd=work)
            diff = Path(tmp) / "fix.patch"  # beside the work tree, not in it
            diff.write_text(patch if patch.endswith("\n") else patch + "\n")
            try:
                self._git(["apply", "--check", "--index", str(diff)], cwd=work)
            except ForgeFailed as error:
                raise FixNotApplicable(
                    f"the fix's patch does not apply to {base}'s head: {error}"
                ) from None
            self._git(["apply", "--index", str(diff)], cwd=work)
            identity = {
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
            }
            self._git(["commit", "-q", "--no-verify", "-m", message], cwd=work, env=identity)
            commit = self._git(["rev-parse", "HEAD"], cwd=work).strip()
            # A new branch only: no `+`, no --force; a branch that appeared meanwhile is refused.
            self._git(["push", "-q", self._url, f"HEAD:refs/heads/{branch}"], cwd=work)
        return Pushed(commit, created=True)

    def _git(self, args: list[str], *, cwd: Path | None, env: dict[str, str] | None = None) -> str:
        extra = dict(env or {})
        if self._auth is not None:
            extra |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": self._auth,
            }
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env=_environment(extra),
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ForgeFailed(
                f"git {args[0]} with {self._shown_as} took over {GIT_TIMEOUT_S:g}s"
            ) from None
        except OSError as error:
            raise ForgeFailed(f"git could not be run: {error.strerror}") from None
        if done.returncode != 0:
            said = self._scrub(done.stderr.strip() or done.stdout.strip())
            last = said.splitlines()[-1] if said else f"exit {done.returncode}"
            raise ForgeFailed(f"git {args[0]} failed: {last}")
        return done.stdout

    def _scrub(self, text: str) -> str:
        """git's words without the credentials: the URL as shown, and any token masked."""
        if self._auth is not None:
            text = text.replace(self._auth, "Authorization: [redacted]")
        return redact_text(text.replace(self._url, self._shown_as))


def check_branch(branch: str) -> None:
    if not _BRANCH.match(branch) or ".." in branch or branch.endswith((".lock", "/", ".")):
        raise ValueError(f"not a branch name RecoverOps makes: {branch!r}")


def parse_author(author: str) -> tuple[str, str]:
    found = _AUTHOR.match(author.strip())
    if found is None:
        raise ValueError(f"an author is 'Name <email>', not {author!r}")
    return found["name"].strip(), found["email"]


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    """git without the user's or the system's configuration, prompts or pagers: what it does
    depends on the arguments alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",  # a missing or wrong token fails at once instead of asking
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "LC_ALL": "C",
        }
    )
    env.update(extra or {})
    return env
