"""`recoverops analyze`: exit codes, JSON lines, the human report, and refusals.

Most tests call main([...]) in-process; a few run the real entry points in a subprocess to
prove they work and never print a traceback.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from recoverops.cli.main import main
from recoverops.logs.document import clean_line

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"
FLAKE8 = CASES / "plain-flake8" / "log.txt"
TRAVIS = CASES / "travis-go-build-redeclared" / "log.txt"
JSON_KEYS = {
    "input",
    "category",
    "confidence",
    "summary",
    "evidence",
    "fix",
    "log_format",
    "failing_step",
    "signatures",
    "anomaly",
    "decided_by",
    "root_cause",
}
# A line no shipped signature knows; the operator folder below teaches it.
CUSTOM_LINE = "FLUXCAPACITOR E42: chrono drift exceeds tolerance on node dmc-12"
CUSTOM_SIGNATURE = """\
# team signatures
signatures:
  - id: team.fluxcapacitor.drift
    category: infra.instance
    keywords: ["chrono drift"]
    pattern: 'FLUXCAPACITOR E\\d+: chrono drift exceeds tolerance'
    weight: 5
    summary: the flux capacitor drifted
    examples: ["FLUXCAPACITOR E42: chrono drift exceeds tolerance on node dmc-12"]
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("RECOVEROPS_"):
            monkeypatch.delenv(name)
    # An empty home: a champion model trained in the working directory must not change verdicts.
    monkeypatch.setenv("RECOVEROPS_HOME", str(tmp_path / "home"))
    yield


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: bytes | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# --- good inputs ------------------------------------------------------------------------------


def test_json_has_one_object_per_input_with_the_documented_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, "--json", str(FLAKE8), str(TRAVIS))
    assert (code, err) == (0, "")
    first, second = json_lines(out)
    assert set(first) == JSON_KEYS and set(second) == JSON_KEYS
    assert first["input"] == str(FLAKE8) and second["input"] == str(TRAVIS)
    assert first["category"] == "build.lint" and first["log_format"] == "plain"
    assert second["log_format"] == "travis"
    assert 0.0 <= first["confidence"] <= 1.0
    assert set(first["failing_step"]) == {"name", "start", "end", "exit_code", "command"}
    assert second["failing_step"]["exit_code"] == 2
    assert isinstance(first["signatures"], list)


@pytest.mark.parametrize("path", [FLAKE8, TRAVIS], ids=["plain", "travis"])
def test_json_evidence_names_the_raw_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    code, out, _ = run(capsys, monkeypatch, "--json", str(path))
    assert code == 0
    (result,) = json_lines(out)
    raw = path.read_bytes().decode("utf-8").split("\n")
    assert result["evidence"]
    for evidence in result["evidence"]:
        assert set(evidence) == {"line", "text"}
        assert clean_line(raw[evidence["line"] - 1]) == evidence["text"]


def test_stdin_is_read_for_a_dash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "--json", "-", stdin=FLAKE8.read_bytes())
    assert code == 0
    (result,) = json_lines(out)
    assert result["input"] == "<stdin>"
    assert result["category"] == "build.lint"


def test_the_human_report_marks_each_evidence_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "--context", "1", str(TRAVIS))
    assert code == 0
    _, out_json, _ = run(capsys, monkeypatch, "--json", str(TRAVIS))
    (result,) = json_lines(out_json)
    assert out.startswith(f"{TRAVIS}\n")
    for rank, evidence in enumerate(result["evidence"], start=1):
        assert f"  [{rank}] line {evidence['line']}\n" in out
        assert f"    > {evidence['line']} | {evidence['text'][:300]}\n" in out
    # context 1: the line before the first evidence line is shown unmarked
    first = result["evidence"][0]["line"]
    assert f"      {first - 1} | " in out


def test_the_context_option_limits_the_lines_shown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, zero, _ = run(capsys, monkeypatch, "--context", "0", str(TRAVIS))
    _, three, _ = run(capsys, monkeypatch, "--context", "3", str(TRAVIS))
    shown_zero = [line for line in zero.splitlines() if " | " in line]
    assert shown_zero and all(line.startswith("    > ") for line in shown_zero)
    assert len([line for line in three.splitlines() if " | " in line]) > len(shown_zero)


def test_reports_of_several_inputs_are_separated_by_a_blank_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, str(FLAKE8), str(TRAVIS))
    assert code == 0
    assert f"\n\n{TRAVIS}\n" in out
    assert out.startswith(f"{FLAKE8}\n")


@pytest.mark.parametrize("value", ["-1", "abc", "1.5"])
def test_context_must_be_a_whole_number_of_zero_or_more(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "--context", value, str(FLAKE8)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--context" in err
    assert "Traceback" not in err


def test_a_path_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze"])
    assert info.value.code == 2


# --- bad inputs -------------------------------------------------------------------------------


BAD_FILES = {
    "missing": (None, "no such file"),
    "directory": (b"", "not a regular file"),
    "empty": (b"", "empty input"),
    "whitespace": (b"  \n\t\n\r\n", "empty input"),
    "binary": (b"\x7fELF\x02\x01\x01\x00" * 8, "binary data"),
    "too-large": (b"x" * 200 + b"\n", "over the 100-byte limit"),
    "name-too-long": (None, ""),
}


def bad_path(tmp_path: Path, kind: str) -> str:
    data, _ = BAD_FILES[kind]
    if kind == "missing":
        return str(tmp_path / "absent.log")
    if kind == "directory":
        return str(tmp_path)
    if kind == "name-too-long":
        return str(tmp_path / ("a" * 300))
    assert data is not None
    return write(tmp_path / f"{kind}.log", data)


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_a_bad_input_is_refused_with_a_message_and_exit_1(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
    as_json: bool,
) -> None:
    monkeypatch.setenv("RECOVEROPS_MAX_LOG_BYTES", "100")
    path = bad_path(tmp_path, kind)
    code, out, err = run(capsys, monkeypatch, *(["--json"] if as_json else []), path)
    assert code == 1
    assert err.startswith("recoverops: ") and path in err
    assert BAD_FILES[kind][1] in err
    if as_json:
        (result,) = json_lines(out)
        assert set(result) == {"input", "error"}
        assert result["input"] == path
        assert BAD_FILES[kind][1] in result["error"]
    else:
        assert out == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty input"), (b"\x00\x01\x02" * 10, "binary data"), (b"y" * 101, "limit")],
    ids=["empty", "binary", "too-large"],
)
def test_bad_stdin_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: bytes, message: str
) -> None:
    monkeypatch.setenv("RECOVEROPS_MAX_LOG_BYTES", "100")
    code, out, err = run(capsys, monkeypatch, "--json", "-", stdin=data)
    assert code == 1
    assert message in err and "<stdin>" in err
    assert json_lines(out) == [{"input": "<stdin>", "error": json_lines(out)[0]["error"]}]


def test_one_bad_input_in_the_middle_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = write(tmp_path / "empty.log", b"")
    missing = str(tmp_path / "absent.log")
    args = [str(FLAKE8), empty, "-", missing, str(TRAVIS)]
    code, out, err = run(capsys, monkeypatch, "--json", *args, stdin=FLAKE8.read_bytes())
    assert code == 1
    results = json_lines(out)
    assert [r["input"] for r in results] == [str(FLAKE8), empty, "<stdin>", missing, str(TRAVIS)]
    assert [set(r) == {"input", "error"} for r in results] == [False, True, False, True, False]
    assert results[0]["category"] == results[2]["category"] == "build.lint"
    assert results[4]["log_format"] == "travis"
    assert err.count("recoverops: ") == 2
    assert err.index(empty) < err.index(missing)


def test_a_bad_input_in_the_middle_of_a_human_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = str(tmp_path / "absent.log")
    code, out, err = run(capsys, monkeypatch, str(FLAKE8), missing, str(TRAVIS))
    assert code == 1
    assert out.startswith(f"{FLAKE8}\n") and f"\n{TRAVIS}\n" in out
    assert missing not in out
    assert f"recoverops: {missing}: no such file" in err


# --- settings and operator signature folders --------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_an_invalid_size_limit_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("RECOVEROPS_MAX_LOG_BYTES", value)
    code, out, err = run(capsys, monkeypatch, str(FLAKE8))
    assert code == 3
    assert out == ""
    assert err.startswith("recoverops: invalid setting: RECOVEROPS_MAX_LOG_BYTES=")
    assert len(err.splitlines()) == 1


def test_a_missing_signature_folder_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "absent"
    monkeypatch.setenv("RECOVEROPS_SIGNATURES_PATH", str(folder))
    code, out, err = run(capsys, monkeypatch, "--json", str(FLAKE8))
    assert (code, out) == (3, "")
    assert str(folder) in err


INVALID_SIGNATURES = {
    "bad-regex": ("    pattern: 'FLUXCAPACITOR E(\\d+: chrono drift'\n", "not a valid regex"),
    "unknown-category": ("    category: infra.flux\n", "unknown category 'infra.flux'"),
    "example-does-not-match": (
        '    examples: ["FLUXCAPACITOR: chrono drift within tolerance"]\n',
        "example does not match",
    ),
}


@pytest.mark.parametrize("kind", list(INVALID_SIGNATURES))
def test_an_invalid_signature_file_exits_3_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    replacement, message = INVALID_SIGNATURES[kind]
    key = replacement.strip().split(":", 1)[0]
    lines = [
        replacement if line.strip().startswith(f"{key}:") else line
        for line in CUSTOM_SIGNATURE.splitlines(keepends=True)
    ]
    (tmp_path / "team.yaml").write_text("".join(lines), "utf-8")
    monkeypatch.setenv("RECOVEROPS_SIGNATURES_PATH", str(tmp_path))
    code, out, err = run(capsys, monkeypatch, "--json", str(FLAKE8))
    assert (code, out) == (3, "")
    # the entry starts on line 3 of team.yaml
    assert "team.yaml:3: " in err
    assert message in err


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: (folder / "latin1.yaml").write_bytes(b"# caf\xe9\nsignatures: []\n"),
        lambda folder: (folder / "sub.yaml").mkdir(),
    ],
    ids=["not-utf8", "directory-named-yaml"],
)
def test_an_unreadable_signature_file_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    make: Callable[[Path], None],
) -> None:
    make(tmp_path)
    monkeypatch.setenv("RECOVEROPS_SIGNATURES_PATH", str(tmp_path))
    code, out, err = run(capsys, monkeypatch, "--json", str(FLAKE8))
    assert (code, out) == (3, "")
    assert str(tmp_path) in err


def test_an_operator_folder_teaches_a_new_signature(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = write(
        tmp_path / "deploy.log",
        f"$ ./travel.sh --to 1955\nwarming up\n{CUSTOM_LINE}\njourney aborted\n".encode(),
    )
    code, out, _ = run(capsys, monkeypatch, "--json", log)
    assert code == 0
    (before,) = json_lines(out)
    assert before["category"] == "unknown"

    folder = tmp_path / "signatures"
    folder.mkdir()
    (folder / "team.yaml").write_text(CUSTOM_SIGNATURE, "utf-8")
    monkeypatch.setenv("RECOVEROPS_SIGNATURES_PATH", str(folder))
    code, out, _ = run(capsys, monkeypatch, "--json", log)
    assert code == 0
    (after,) = json_lines(out)
    assert after["category"] == "infra.instance"
    assert "team.fluxcapacitor.drift" in after["signatures"]
    assert after["evidence"][0] == {"line": 3, "text": CUSTOM_LINE}
    assert after["summary"].startswith("The flux capacitor drifted")


# --- the real entry points --------------------------------------------------------------------


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    return {**env, **extra}


def test_the_module_entry_point_with_mixed_inputs(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.log")
    binary = write(tmp_path / "core.bin", b"\x00\x01" * 64)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recoverops.cli.main",
            "analyze",
            "--json",
            str(FLAKE8),
            missing,
            "-",
            binary,
        ],
        input=TRAVIS.read_bytes(),
        capture_output=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "Traceback" not in err
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["input"] for r in results] == [str(FLAKE8), missing, "<stdin>", binary]
    assert results[0]["category"] == "build.lint"
    assert results[2]["log_format"] == "travis"
    assert "error" in results[1] and "error" in results[3]
    assert f"recoverops: {missing}: no such file" in err
    assert "binary data" in err


def test_the_installed_script_refuses_an_invalid_signature_folder(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("recoverops")
    assert script.is_file()
    (tmp_path / "team.yaml").write_text(CUSTOM_SIGNATURE.replace("infra.instance", "infra.flux"))
    done = subprocess.run(
        [str(script), "analyze", str(FLAKE8)],
        capture_output=True,
        env=subprocess_env(RECOVEROPS_SIGNATURES_PATH=str(tmp_path)),
        timeout=120,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert "Traceback" not in err
    assert f"{tmp_path / 'team.yaml'}:3: " in err
    assert done.stdout == b""


# --- a passing log to compare with ------------------------------------------------------------

FAILING_MAVEN = b"""\
$ mvn -B verify
[WARNING] Failed to fetch optional metadata from https://repo.example.org (status 503): ignored
[INFO] Compiling 42 source files
[ERROR] /build/src/main/java/org/acme/Order.java:[88,17] cannot find symbol
[INFO] BUILD FAILURE
"""
PASSING_MAVEN = b"""\
$ mvn -B verify
[WARNING] Failed to fetch optional metadata from https://repo.example.org (status 502): ignored
[INFO] Compiling 42 source files
[INFO] BUILD SUCCESS
"""


def test_passing_drops_the_lines_the_green_run_printed_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failing = write(tmp_path / "failing.log", FAILING_MAVEN)
    passing = write(tmp_path / "passing.log", PASSING_MAVEN)
    code, out, _ = run(capsys, monkeypatch, "--json", failing)
    assert code == 0
    (alone,) = json_lines(out)
    assert any("optional metadata" in e["text"] for e in alone["evidence"])
    code, out, _ = run(capsys, monkeypatch, "--json", "--passing", passing, failing)
    assert code == 0
    (compared,) = json_lines(out)
    assert not any("optional metadata" in e["text"] for e in compared["evidence"])
    assert compared["evidence"][0]["text"].endswith("cannot find symbol")


def test_a_missing_passing_log_is_bad_usage_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failing = write(tmp_path / "failing.log", FAILING_MAVEN)
    code, out, err = run(capsys, monkeypatch, "--passing", str(tmp_path / "nope.log"), failing)
    assert code == 2
    assert out == ""
    assert "--passing" in err and "nope.log" in err


def test_json_carries_the_root_cause_and_a_typed_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "--json", str(FLAKE8))
    [result] = json_lines(out)
    assert code == 0
    first = result["root_cause"]["components"][0]
    assert (first["kind"], first["name"], first["file"], first["line"]) == (
        "source",
        "num_guess.py:4",
        "num_guess.py",
        4,
    )
    assert "num_guess.py:4" in result["root_cause"]["explanation"]
    fix = result["fix"]
    assert set(fix) == {"kind", "files", "patch", "actions", "explanation", "confidence"}
    assert fix["kind"] == "lint" and fix["files"][:1] == ["num_guess.py"]
    assert fix["patch"] is None  # no --repo: files and actions only


def test_repo_gives_the_fix_a_patch_and_the_report_shows_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "num_guess.py").write_text("\n".join(f"x{n} = {n}" for n in range(1, 44)))
    code, out, _ = run(capsys, monkeypatch, "--json", "--repo", str(tmp_path), str(FLAKE8))
    [result] = json_lines(out)
    assert code == 0
    assert result["fix"]["patch"].startswith("--- a/num_guess.py\n+++ b/num_guess.py\n")

    code, out, _ = run(capsys, monkeypatch, "--repo", str(tmp_path), str(FLAKE8))
    assert code == 0
    assert "  root cause: " in out and "  fix:        lint: num_guess.py" in out
    assert "patch (validated):" in out


def test_repo_that_is_not_a_directory_is_bad_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, err = run(capsys, monkeypatch, "--repo", str(tmp_path / "nowhere"), str(FLAKE8))
    assert code == 2 and out == "" and "not a directory" in err
