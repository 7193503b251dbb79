"""Each CI log format's detect() and steps(), on the real logs under tests/fixtures/cases.

No fixture carries GitLab `section_start`/`section_end` markers (the GitLab case was copied from
the web UI) or Jenkins Pipeline `[Pipeline]` lines (both Jenkins cases are freestyle jobs), so
those marker lines are built here from their documented formats (GitLab "Custom collapsible
sections": `\\e[0Ksection_start:<unix time>:<name>\\r\\e[0K<header>`; Jenkins Pipeline console:
`[Pipeline] { (<stage>)` … `[Pipeline] // stage`) around real lines taken from the fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recoverops.analysis import Step
from recoverops.detector import analyze_text
from recoverops.logs.document import LogDocument
from recoverops.logs.formats import FORMATS, detect_format
from recoverops.logs.formats.github import GitHubActions
from recoverops.logs.formats.gitlab import GitLabCI
from recoverops.logs.formats.jenkins import Jenkins
from recoverops.logs.formats.plain import Plain
from recoverops.logs.formats.travis import Travis
from recoverops.logs.steps import failing_step

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())
BY_NAME = {f.name: f for f in FORMATS}
ESC = "\x1b"


def case_text(name: str) -> str:
    return (CASES / name / "log.txt").read_bytes().decode("utf-8", errors="replace")


def case_lines(name: str) -> list[str]:
    lines = case_text(name).split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def failed(steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.failed]


def test_the_registry_tries_plain_last_and_names_are_unique() -> None:
    names = [f.name for f in FORMATS]
    assert names == ["github", "gitlab", "jenkins", "travis", "plain"]
    assert isinstance(FORMATS[-1], Plain)


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_the_format_a_case_names_recognises_its_log(folder: Path) -> None:
    expected = yaml.safe_load((folder / "case.yaml").read_text("utf-8"))["format"]
    doc = LogDocument(case_text(folder.name))
    assert BY_NAME[expected].detect(doc), f"{expected} does not recognise {folder.name}"


@pytest.mark.parametrize(
    "name",
    ["plain-flake8", "plain-tsc-type-errors", "plain-k8s-init-crashloopbackoff"],
)
def test_no_ci_format_claims_a_plain_tool_output(name: str) -> None:
    doc = LogDocument(case_text(name))
    assert detect_format(doc).name == "plain"


class TestGitHubActions:
    def test_detects_runner_timestamps_and_error_markers(self) -> None:
        fmt = GitHubActions()
        assert fmt.detect(LogDocument(case_text("github-docker-pull-manifest-unknown")))
        assert fmt.detect(LogDocument(case_text("github-uv-python-downloads-dns-error")))
        assert not fmt.detect(LogDocument(case_text("travis-go-build-redeclared")))
        assert not fmt.detect(LogDocument(case_text("jenkins-e3sm-test-all-scream-fail")))

    def test_the_step_with_the_error_marker_fails_with_its_exit_code(self) -> None:
        # line 7: "##[error]Process completed with exit code 2.", line 9: "##[group]Run …"
        steps = GitHubActions().steps(
            LogDocument(case_text("github-uv-python-downloads-dns-error"))
        )
        assert [(s.name, s.start, s.end, s.failed, s.exit_code) for s in steps] == [
            ("Set up job", 1, 7, True, 2),
            ("actions/upload-artifact@v4.4.0", 9, 9, False, None),
        ]

    def test_a_log_without_run_groups_is_one_step(self) -> None:
        steps = GitHubActions().steps(LogDocument(case_text("github-docker-pull-manifest-unknown")))
        assert len(steps) == 1
        assert (steps[0].start, steps[0].end) == (1, 25)
        # "##[warning]… exit code 1" is not a failure marker
        assert not steps[0].failed


class TestGitLabCI:
    @staticmethod
    def traced_log() -> tuple[str, dict[str, int]]:
        """The real GitLab trace with the runner's section markers put back around it."""
        real = case_lines("gitlab-git-fetch-could-not-resolve-host")

        def start(name: str, header: str) -> str:
            return f"{ESC}[0Ksection_start:1632430000:{name}\r{ESC}[0K{header}"

        def end(name: str) -> str:
            return f"{ESC}[0Ksection_end:1632430009:{name}\r{ESC}[0K"

        lines = [
            *real[0:2],
            start("prepare_executor", real[2]),
            *real[3:7],
            end("prepare_executor"),
            start("get_sources", real[9]),
            *real[10:13],
            end("get_sources"),
            start("after_script", "Running after_script"),
            "Running after script...",
            end("after_script"),
            "ERROR: Job failed: exit code 1",
        ]
        marks = {
            "fatal": lines.index(real[12]) + 1,
            "failed": len(lines),
        }
        return "\n".join(lines) + "\n", marks

    def test_detects_section_markers_and_job_failed(self) -> None:
        text, _ = self.traced_log()
        assert GitLabCI().detect(LogDocument(text))
        assert GitLabCI().detect(LogDocument("ERROR: Job failed: exit code 1\n"))
        assert not GitLabCI().detect(LogDocument(case_text("travis-go-build-redeclared")))
        assert not GitLabCI().detect(LogDocument(case_text("plain-flake8")))

    def test_sections_become_steps_and_the_failure_is_not_blamed_on_after_script(self) -> None:
        text, marks = self.traced_log()
        steps = GitLabCI().steps(LogDocument(text))
        assert [(s.name, s.start, s.end, s.failed, s.exit_code) for s in steps] == [
            ("prepare_executor", 3, 8, False, None),
            ("get_sources", 9, 13, True, 1),
            ("after_script", 14, 16, False, None),
        ]
        assert marks["fatal"] == 12

    def test_the_analyzer_reads_the_traced_log_as_gitlab(self) -> None:
        text, marks = self.traced_log()
        analysis = analyze_text(text)
        assert analysis.log_format == "gitlab"
        assert analysis.failing_step is not None
        assert analysis.failing_step.name == "get_sources"
        assert analysis.category.value == "deploy.network"
        assert analysis.evidence[0].line == marks["fatal"]
        assert "Could not resolve host" in analysis.evidence[0].text

    def test_a_trace_without_sections_is_one_job_step(self) -> None:
        doc = LogDocument(case_text("gitlab-git-fetch-could-not-resolve-host"))
        steps = GitLabCI().steps(doc)
        assert [(s.name, s.start, s.end) for s in steps] == [("job", 1, 13)]


class TestJenkins:
    @staticmethod
    def pipeline_log() -> tuple[str, dict[str, int]]:
        """A declarative-pipeline console around the real lines of the moby freestyle job."""
        real = case_lines("jenkins-moby-validate-integration-cli-deprecated")
        lines = [
            "Started by user admin",
            "[Pipeline] Start of Pipeline",
            "[Pipeline] node",
            "Running on Jenkins in /var/jenkins_home/workspace/docker-prs",
            "[Pipeline] {",
            "[Pipeline] stage",
            "[Pipeline] { (Build)",
            "[Pipeline] sh",
            *real[0:4],
            "[Pipeline] }",
            "[Pipeline] // stage",
            "[Pipeline] stage",
            "[Pipeline] { (Validate)",
            "[Pipeline] sh",
            "+ hack/validate/default",
            *real[11:17],
            "ERROR: script returned exit code 1",
            "[Pipeline] }",
            "[Pipeline] // stage",
            "[Pipeline] stage",
            "[Pipeline] { (Deploy)",
            'Stage "Deploy" skipped due to earlier failure(s)',
            "[Pipeline] }",
            "[Pipeline] // stage",
            "[Pipeline] }",
            "[Pipeline] // node",
            "[Pipeline] End of Pipeline",
            "ERROR: script returned exit code 1",
            "Finished: FAILURE",
        ]
        at = {text: number for number, text in reversed(list(enumerate(lines, start=1)))}
        marks = {
            "build": at["[Pipeline] { (Build)"],
            "validate": at["[Pipeline] { (Validate)"],
            "deploy": at["[Pipeline] { (Deploy)"],
            "error": at["ERROR: script returned exit code 1"],
            "deprecated": lines.index(real[15]) + 1,
        }
        return "\n".join(lines) + "\n", marks

    def test_detects_pipelines_and_freestyle_jobs(self) -> None:
        text, _ = self.pipeline_log()
        assert Jenkins().detect(LogDocument(text))
        assert Jenkins().detect(LogDocument(case_text("jenkins-e3sm-test-all-scream-fail")))
        assert not Jenkins().detect(LogDocument(case_text("travis-go-build-redeclared")))
        assert not Jenkins().detect(LogDocument(case_text("plain-eslint-stylish")))

    def test_stages_become_steps_and_the_stage_with_the_error_fails(self) -> None:
        text, m = self.pipeline_log()
        steps = Jenkins().steps(LogDocument(text))
        assert [(s.name, s.start, s.failed, s.exit_code) for s in steps] == [
            ("Build", m["build"], False, None),
            ("Validate", m["validate"], True, 1),
            ("Deploy", m["deploy"], False, None),
        ]
        validate = steps[1]
        assert validate.end == m["error"]
        assert failing_step(steps) == validate

    def test_the_analyzer_finds_the_deprecation_message_in_the_failed_stage(self) -> None:
        text, m = self.pipeline_log()
        analysis = analyze_text(text)
        assert analysis.log_format == "jenkins"
        assert analysis.failing_step is not None
        assert analysis.failing_step.name == "Validate"
        assert m["deprecated"] in {e.line for e in analysis.evidence}

    def test_a_freestyle_job_fails_where_the_build_step_marked_it(self) -> None:
        # line 9 of 11: "Build step 'Execute shell' marked build as failure"
        steps = Jenkins().steps(LogDocument(case_text("jenkins-e3sm-test-all-scream-fail")))
        assert [(s.name, s.start, s.end, s.failed) for s in steps] == [("build", 1, 9, True)]

    def test_a_freestyle_job_with_timestamper_prefixes(self) -> None:
        # line 19 of 22: "20:44:20 Build step 'Execute shell' marked build as failure"
        doc = LogDocument(case_text("jenkins-moby-validate-integration-cli-deprecated"))
        steps = Jenkins().steps(doc)
        assert [(s.name, s.start, s.end, s.failed) for s in steps] == [("build", 1, 19, True)]


class TestTravis:
    def test_detects_fold_markers_and_the_command_exit_lines(self) -> None:
        assert Travis().detect(LogDocument(case_text("travis-go-build-redeclared")))
        # no travis_fold in this one, only 'The command "…" exited with 2.'
        assert Travis().detect(LogDocument(case_text("travis-go-test-fail")))
        assert not Travis().detect(LogDocument(case_text("github-uv-python-downloads-dns-error")))
        assert not Travis().detect(LogDocument(case_text("jenkins-e3sm-test-all-scream-fail")))

    def test_each_echoed_command_is_a_step_closed_by_its_exit_line(self) -> None:
        steps = Travis().steps(LogDocument(case_text("travis-go-build-redeclared")))
        assert [s.command for s in steps] == [
            "go get golang.org/x/tools/cmd/cover",
            "go get -v github.com/axw/gocov/gocov",
            "go get -v github.com/mattn/goveralls",
            "openssl aes-256-cbc -K $encrypted_f217260732a9_key -iv $encrypted_f217260732a9_iv "
            "-in envvars.bash.enc -out envvars.bash -d",
            "make test-and-cover",
        ]
        openssl, make = steps[3], steps[4]
        assert (openssl.start, openssl.end, openssl.failed, openssl.exit_code) == (12, 13, False, 0)
        assert (make.start, make.end, make.failed, make.exit_code) == (15, 35, True, 2)
        assert failing_step(steps) == make

    def test_an_excerpt_that_starts_inside_the_failing_command_keeps_its_exit(self) -> None:
        # The excerpt starts inside `travis_retry ./sbt …`; line 131 closes it with
        # 'The command "travis_retry ./sbt …" exited with 1.' and line 133 starts before_cache.
        steps = Travis().steps(LogDocument(case_text("travis-scalac-not-a-member")))
        step = failing_step(steps)
        assert step is not None
        assert (step.end, step.exit_code) == (131, 1), steps


class TestTravisExits:
    """Regressions: each verdict closes its own command, and only Travis' own verdicts count."""

    LOG = (
        "$ ./check_integrity.sh $(find bin | cut -b 5- | xargs)\n"
        "Run 'make docs' to create man/git-rename-remote.1\n"
        'The command "./check_integrity.sh $(find bin | cut -b 5- | xargs)" exited with 1.\n'
        "\n"
        "$ npm test\n"
        'ERROR: "lint" exited with 1.\n'
        'The command "npm test" exited with 0.\n'
    )

    def test_a_failing_command_keeps_its_own_exit(self) -> None:
        steps = Travis().steps(LogDocument(self.LOG))
        assert [(s.command, s.failed, s.exit_code) for s in steps] == [
            ("./check_integrity.sh $(find bin | cut -b 5- | xargs)", True, 1),
            ("npm test", False, 0),
        ]

    def test_a_command_echoed_over_two_lines_is_closed_by_its_verdict(self) -> None:
        text = (
            "$ script/lint && script/test\nboom\n"
            'The command "script/lint &&\nscript/test" exited with 2.\n'
        )
        (step,) = Travis().steps(LogDocument(text))
        assert (step.failed, step.exit_code, step.end) == (True, 2, 4)


class TestPlainStepName:
    """A plain log's one step is named after the last command it ran, when it shows one."""

    def test_named_after_its_command(self) -> None:
        text = "$ aws s3 ls\nAn error occurred (InvalidClientTokenId) when calling ListBuckets\n"
        step = analyze_text(text).failing_step
        assert step is not None and (step.name, step.command) == ("aws s3 ls", "aws s3 ls")

    def test_without_a_command_it_stays_the_log(self) -> None:
        step = analyze_text("error: something broke\n").failing_step
        assert step is not None and (step.name, step.command) == ("log", None)
