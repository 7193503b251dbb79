"""What the pull-request tests share: a bare git repository standing in for the forge's, and an
incident whose fix carries a real patch (javac's missing import in a real BugSwarm log,
diagnosed against a checkout of the file it names)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.incidents import Event, Source
from recoverops.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JAVAC_LOG = FIXTURES / "diagnosis" / "maven-javac-missing-import" / "log.txt"
HELPER = "hotswap-agent-core/src/main/java/org/hotswap/agent/config/LogConfigurationHelper.java"
# The file as it stood when javac failed: Locale is used, not imported.
JAVA = """package org.hotswap.agent.config;

import java.io.IOException;

public class LogConfigurationHelper {
    static String lower(String s) { return s.toLowerCase(Locale.ENGLISH); }
}
"""
PATCHED_IMPORTS = "import java.io.IOException;\nimport java.util.Locale;\n"
# GitLab's documented merge request (what creating one answers) and job event.
EXAMPLE_MERGE_REQUEST = FIXTURES / "ci_api/gitlab/gitlab-docs-get-merge-request.json"
EXAMPLE_MERGE_REQUEST_URL = "https://gitlab.com/marcel.amirault/test-project/-/merge_requests/133"
JOB_EVENT = FIXTURES / "webhooks/gitlab/gitlab-docs-job-event.json"
JSON = {"Content-Type": "application/json"}


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**env, **identity},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def bare_repository(root: Path, *, default: str = "master") -> Path:
    """A bare repository whose `default` branch (its HEAD) holds the Java file javac failed on."""
    bare = root / "origin.git"
    git("init", "-q", "--bare", f"--initial-branch={default}", str(bare))
    work = root / "seed"
    git("init", "-q", f"--initial-branch={default}", str(work))
    (work / HELPER).parent.mkdir(parents=True)
    (work / HELPER).write_text(JAVA)
    (work / "README.md").write_text("HotswapAgent\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "the failing commit", cwd=work)
    git("push", "-q", str(bare), f"HEAD:refs/heads/{default}", cwd=work)
    return bare


def refs(bare: Path) -> dict[str, str]:
    """Every ref of `bare` and the commit it points at."""
    out = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=bare)
    pairs = (line.split(" ", 1) for line in out.splitlines())
    return {ref: sha for ref, sha in pairs}  # noqa: C416 (each pair is a two-item list)


def show(bare: Path, ref: str, path: str) -> str:
    return git("show", f"{ref}:{path}", cwd=bare)


def job_event(bare: Path) -> dict[str, Any]:
    """GitLab's documented job event, its project cloned from the bare repository."""
    body: dict[str, Any] = json.loads(JOB_EVENT.read_text())
    body["project"] = {**body["project"], "git_http_url": f"file://{bare}"}
    return body


def fix_analysis(root: Path) -> Any:
    """The javac log diagnosed against a checkout of the file: a compilation fix with a patch."""
    checkout = root / "checkout"
    (checkout / HELPER).parent.mkdir(parents=True)
    (checkout / HELPER).write_text(JAVA)
    text = JAVAC_LOG.read_bytes().decode("utf-8", errors="replace")
    analysis = diagnose(analyze_text(text), text=text, repo=checkout)
    assert analysis.fix is not None and analysis.fix.patch is not None
    return analysis


def store_incident(
    store: Store, *, source: Source, body: dict[str, Any], analysis: Any, delivery: str = "d-1"
) -> int:
    """An incident of `source` whose event carries `body` as its webhook payload."""
    event = store.add_event(
        Event(source, "job.failed", delivery, datetime(2026, 3, 1, tzinfo=UTC), "inline"),
        payload={"failure": True, "target": "HotswapAgent:build", "body": body},
    )
    return store.upsert_incident(
        f"fp-{delivery}",
        target="HotswapProjects/HotswapAgent:build",
        category=analysis.category,
        source=source,
        event_id=event.event_id,
        analysis=analysis,
    ).incident.id
