"""Bad settings, for every command: one line per variable naming it and what is wrong, exit 3,
before anything starts; a misspelled variable is a warning naming the closest setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recoverops.cli.main import main
from recoverops.settings import Settings, variable
from tests.serve.harness import unused_port

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"
LOG = str(CASES / "plain-flake8" / "log.txt")
DELIVERY = str(Path(__file__).resolve().parents[3] / "examples" / "jenkins" / "delivery.json")
COMMANDS = {
    "analyze": ["analyze", LOG],
    "api": ["api", "--port", "9"],
    "up": ["up", "--port", "9"],
    "train": ["train"],
    "replay": ["replay", DELIVERY, "--url", "http://127.0.0.1:9"],
}
BAD = {
    "RECOVEROPS_DATABASE_URL": ("notaurl", "not a database URL"),
    "RECOVEROPS_REDIS_URL": ("localhost:6379", "not a Redis URL"),
    "RECOVEROPS_MAX_LOG_BYTES": ("lots", "valid integer"),
    "RECOVEROPS_PROMOTE_MAX_CLASS_DROP": ("2", "less than or equal to 1"),
    "RECOVEROPS_GITHUB_API_URL": ("api.github.com", "not a web address"),
    "RECOVEROPS_MLFLOW_URI": ("http://", "names a host"),
    "RECOVEROPS_AWS_LOG_GROUPS": ("[not json", "not a JSON list of strings"),
    "RECOVEROPS_AWS_SNS_DEV_CERT_HOST": ("127.0.0.1:8443", "unless RECOVEROPS_ENV=development"),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("RECOVEROPS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", BAD)
def test_a_bad_value_is_one_line_naming_the_variable_and_exit_3(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
    name: str,
) -> None:
    value, what = BAD[name]
    monkeypatch.setenv(name, value)
    assert main(COMMANDS[command]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"recoverops: invalid setting: {name}={value!r}: " + err.split(": ", 3)[3]
    assert what in err and len(err.splitlines()) == 1
    assert not (tmp_path / "home").exists()  # no store, no MLflow store, nothing made


def test_every_invalid_variable_gets_its_own_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, (value, _) in BAD.items():
        monkeypatch.setenv(name, value)
    assert main(COMMANDS["analyze"]) == 3
    lines = capsys.readouterr().err.splitlines()
    assert sorted(line.split(": ")[2].split("=")[0] for line in lines) == sorted(BAD)


def test_any_numeric_setting_is_checked_by_its_own_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Generic over the Settings class, so a setting added tomorrow is covered too.
    numeric = [n for n, f in Settings.model_fields.items() if f.annotation in (int, float)]
    assert len(numeric) >= 5
    for field in numeric:
        monkeypatch.setenv(variable(field), "a few")
        assert main(COMMANDS["analyze"]) == 3
        err = capsys.readouterr().err
        assert err.startswith(f"recoverops: invalid setting: {variable(field)}='a few': ")
        monkeypatch.delenv(variable(field))


def test_a_secrets_value_is_never_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOVEROPS_GITHUB_TOKEN", "ghp_do_not_print_me")
    monkeypatch.setenv("RECOVEROPS_JENKINS_URL", "jenkins.internal")
    monkeypatch.setenv("RECOVEROPS_DATABASE_URL", "postgresql://app:hunter2@db")  # no database
    assert main(COMMANDS["analyze"]) == 3
    err = capsys.readouterr().err
    assert "RECOVEROPS_JENKINS_URL='jenkins.internal'" in err and "ghp_do_not" not in err
    assert "RECOVEROPS_DATABASE_URL='postgresql://app:***@db'" in err and "hunter2" not in err


def test_a_misspelled_variable_is_a_warning_naming_the_closest_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOVEROPS_MAX_LOG_BYTE", "5")
    monkeypatch.setenv("RECOVEROPS_TEST_SERVERS", "embedded")  # the tests' own: known
    assert main(["analyze", "--json", LOG]) == 0
    out, err = capsys.readouterr()
    assert out.startswith('{"input"')
    assert err == (
        "recoverops: warning: RECOVEROPS_MAX_LOG_BYTE is not a RecoverOps setting "
        "(did you mean RECOVEROPS_MAX_LOG_BYTES?); it is ignored\n"
    )


NOTHING_STARTED = """
import sys
from recoverops.cli.main import main
code = main(sys.argv[1:])
started = sorted(m for m in ("ray", "uvicorn", "mlflow") if m in sys.modules)
sys.stderr.write("started: " + " ".join(started) + "\\n")
sys.exit(code)
"""


def run_alone(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NOTHING_STARTED, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["api", "up", "train"])
def test_a_bad_database_url_stops_the_command_before_ray_or_a_server(
    tmp_path: Path, command: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env |= {"RECOVEROPS_HOME": str(tmp_path), "RECOVEROPS_DATABASE_URL": "notaurl"}
    done = run_alone(COMMANDS[command], env)
    assert done.returncode == 3
    message, started = done.stderr.splitlines()
    assert message.startswith("recoverops: invalid setting: RECOVEROPS_DATABASE_URL='notaurl'")
    assert started == "started: "


@pytest.mark.parametrize("command", ["api", "up"])
def test_an_unreachable_store_stops_the_command_before_ray_or_a_server(
    tmp_path: Path, command: str
) -> None:
    with unused_port() as port:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
        env |= {
            "RECOVEROPS_HOME": str(tmp_path),
            "RECOVEROPS_DATABASE_URL": f"postgresql://postgres:pw@127.0.0.1:{port}/none",
        }
        done = run_alone(COMMANDS[command], env)
    assert done.returncode == 3
    message, started = done.stderr.splitlines()
    assert message.startswith("recoverops: invalid setting: RECOVEROPS_DATABASE_URL: cannot open")
    assert f"postgres:***@127.0.0.1:{port}/none" in message and ":pw@" not in message
    assert started == "started: "


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        (
            '["/aws/lambda/web", "/ecs/api:?ERROR ?panic"]',
            ["/aws/lambda/web", "/ecs/api:?ERROR ?panic"],
        ),
        ("/aws/lambda/web", ["/aws/lambda/web"]),  # one group needs no JSON
        ("", []),
    ],
)
def test_log_groups_are_a_json_list_or_one_group(
    monkeypatch: pytest.MonkeyPatch, value: str, groups: list[str]
) -> None:
    monkeypatch.setenv("RECOVEROPS_AWS_LOG_GROUPS", value)
    assert Settings().aws_log_groups == groups
