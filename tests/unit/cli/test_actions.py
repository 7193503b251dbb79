"""`recoverops actions …` and `recoverops policy check FILE`: what they print, their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recoverops.cli.actions import SAMPLE_TARGETS
from recoverops.cli.main import main
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import ActionSpec
from recoverops.remediation.policy import parse_policy
from recoverops.settings import Settings
from recoverops.store import Store
from tests.remediation.world import World, kinds_for

POLICY = """\
version: 1
default: deny
environments:
  production: ["k8s:production/*"]
rules:
  - name: restarts-anywhere
    kinds: ["k8s.rollout_restart"]
    effect: auto
  - name: production-asks
    environments: [production]
    effect: approve
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RECOVEROPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("RECOVEROPS_POLICY", raising=False)
    return tmp_path / "home"


def planned(home: Path, *, policy: str = "version: 1\ndefault: approve\n") -> int:
    settings = Settings(home=home, database_url=None)
    store = Store.open(settings)
    world = World(versions={"web": "v1"})
    kinds = kinds_for(world)
    engine = Engine(
        store,
        policy=parse_policy(policy, source="p", known_kinds=kinds),
        clients=Clients(settings),
        actor="t",
        kinds=kinds,
    )
    action, _ = engine.plan(
        ActionSpec(kind="mem.set_version", params={"service": "web", "version": "v2"}), key="k"
    )
    store.close()
    return action.id


def test_every_kind_has_a_sample_target() -> None:
    assert set(SAMPLE_TARGETS) == set(KINDS)


def test_policy_check_prints_what_it_allows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    assert main(["policy", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid; 2 rules, default deny" in out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert lines["k8s.rollout_restart"].split()[3] == "auto"
    assert lines["k8s.scale"].split()[2:4] == ["production", "approve"]
    assert lines["ec2.reboot"].split()[3] == "deny"
    assert lines["iam.attach_role_policy"].split()[3] == "propose"


def test_policy_check_of_one_kind_and_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    argv = ["policy", "check", str(path), "--kind", "k8s.scale", "--target", "k8s:dev/deployment/x"]
    assert main(argv) == 0
    [row] = capsys.readouterr().out.splitlines()[2:]
    assert row.split()[:4] == ["k8s.scale", "k8s:dev/deployment/x", "default", "deny"]


def test_policy_check_refuses_a_bad_file_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("effect: approve", "effect: maybe"))
    assert main(["policy", "check", str(path)]) == 3
    assert f"{path}:11: rules.1.effect" in capsys.readouterr().err


def test_actions_list_show_approve(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    action_id = planned(home)
    assert main(["actions", "list", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["status"] == "awaiting_approval"
    assert main(["actions", "approve", str(action_id), "--by", "alice"]) == 0
    assert capsys.readouterr().out == f"action {action_id}: approved (operator: alice)\n"
    assert main(["actions", "show", str(action_id)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["verb"] for e in shown["trail"]] == [
        "action.planned",
        "action.decided",
        "action.approved",
    ]
    assert main(["actions", "reject", str(action_id), "--by", "bob"]) == 1
    assert "is approved, not awaiting approval" in capsys.readouterr().err
    assert main(["actions", "rollback", str(action_id)]) == 1
    assert "only a succeeded or regressed action can be rolled back" in capsys.readouterr().err
    assert main(["actions", "show", "424242"]) == 1


def test_the_installed_command_refuses_without_a_traceback(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules: [\n")
    done = subprocess.run(
        [sys.executable, "-m", "recoverops.cli.main", "policy", "check", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert f"{bad}:3: not valid YAML" in done.stderr
