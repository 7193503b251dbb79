"""From a path as a log prints it to a path inside the repository.

CI runners check a repository out under a workspace of their own (`/home/travis/build/o/r/`,
`/home/runner/work/r/r/`, `/builds/group/project/`, a Jenkins workspace, a GOPATH); tools print
absolute paths under it, or paths relative to a module. The workspace prefix is cut off; what
lies outside any workspace (the interpreter's libraries, a package cache) is not the project's.
"""

from __future__ import annotations

import re

_WORKSPACES = re.compile(
    r"^(?:"
    r"/home/travis/build/[^/]+/[^/]+/"
    r"|/home/travis/gopath/src/[^/]+/[^/]+/[^/]+/"
    r"|/go/src/[^/]+/[^/]+/[^/]+/"
    r"|/home/runner/work/[^/]+/[^/]+/"
    r"|/__w/[^/]+/[^/]+/"
    r"|/github/workspace/"
    r"|/builds/[^/]+/[^/]+/"
    r"|/(?:var/lib|home)/jenkins/(?:[^/]+/)*?workspace/[^/]+/"
    r"|/home/circleci/(?:project|repo)/"
    r"|/drone/src/"
    r"|/opt/atlassian/pipelines/agent/build/"
    r"|/workspace/"
    r"|[A-Za-z]:/projects/[^/]+/"
    r")"
)
# Paths that belong to a toolchain or a package cache, never to the project.
_EXTERNAL = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|\.m2|\.gradle|\.ivy2|\.cargo|\.rustup"
    r"|\.pyenv|virtualenv|venv|\.venv|\.tox|\.nvm|\.rvm|gems|jdk[^/]*|_obj_test|\$WORK)/"
    r"|^/usr/|^/tmp/|^/opt/python|^/opt/hostedtoolcache|^<|^\$"
)


def repo_path(printed: str) -> str | None:
    """The repository-relative path of a printed path, or None when it is not the project's."""
    path = printed.strip().strip("'\"`").replace("\\", "/")
    if not path or _EXTERNAL.search(path):
        return None
    # An absolute path under no workspace we know is kept whole: a checkout resolves it by its
    # longest existing suffix (`repo.Checkout.resolve`).
    cut = _WORKSPACES.sub("", path, count=1)
    while cut.startswith("./"):
        cut = cut[2:]
    return cut or None


def same_file(named: str, changed: str) -> bool:
    """Whether a path a fix names is the file `changed` (repository-relative).

    A named path relative to a module (`src/main/java/a/B.java` for `module/src/main/java/...`)
    matches as a suffix on a directory boundary; a bare file name (`pom.xml`) only matches the
    file at the root, as every module has one.
    """
    if named == changed:
        return True
    named = named.lstrip("/")
    return "/" in named and changed.endswith("/" + named)
