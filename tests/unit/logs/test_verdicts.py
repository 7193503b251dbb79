"""Verdicts, headers, empty `##[error]` lines, braces and stack frames are never evidence."""

from __future__ import annotations

import pytest

from recoverops.detector import analyze_text
from recoverops.logs.verdicts import never_evidence

NEVER = [
    "BUILD FAILED",
    "BUILD FAILED in 4s",
    "[ERROR] BUILD FAILURE",
    "FAILURE: Build failed with an exception.",
    "Rails build FAILED",
    "##[error]Process completed with exit code 1.",
    "##[error]",
    "ERROR: Job failed: exit code 1",
    "[17:13:29] Error: Process exited with code: 2",
    "error Command failed with exit code 1.",
    'The command "mvn test -B" exited with 1.',
    "Done. Your build exited with 1.",
    "Finished: FAILURE",
    "npm ERR! code ELIFECYCLE",
    "npm ERR! errno 1",
    "make: *** [Makefile:12: test] Error 2",
    "Command failed with status (1): [ruby -w -Ilib test/all.rb]",
    "rake aborted!",
    "Failures:",
    "* What went wrong:",
    "=================================== FAILURES ===================================",
    "}",
    "  });",
    "\tat org.junit.Assert.fail(Assert.java:88)",
    "    at Object.<anonymous> (/app/test/index.js:12:5)",
    "    at processTicksAndRejections (node:internal/process/task_queues:95:5)",
    "\t... 23 more",
    "/usr/lib/ruby/2.6.0/net/http.rb:933:in `connect': Connection refused",
]
EVIDENCE = [
    "src/main/java/Foo.java:[12,8] cannot find symbol",
    "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.8.1:compile",
    "E       AssertionError: assert 3 == 4",
    "Error: Cannot find module 'left-pad'",
    "error[E0425]: cannot find value `x` in this scope",
    "Caused by: java.lang.IllegalStateException: unsupported Java version: 11",
    "Error from server (Forbidden): pods is forbidden: User cannot list resource",
    "fatal: unable to access 'https://github.com/x/y.git/': Could not resolve host",
    "FAILED tests/test_api.py::test_login - AssertionError: 401 != 200",
]


@pytest.mark.parametrize("line", NEVER)
def test_a_verdict_header_brace_or_frame_is_never_evidence(line: str) -> None:
    assert never_evidence(line)


@pytest.mark.parametrize("line", EVIDENCE)
def test_an_error_that_says_why_is_evidence(line: str) -> None:
    assert not never_evidence(line)


GRADLE_ON_ACTIONS = """\
##[group]Run ./gradlew build
./gradlew build
##[endgroup]
> Task :compileJava
/home/runner/work/app/src/main/java/app/Main.java:14: error: cannot find symbol
        Strin name = args[0];
        ^
  symbol:   class Strin
  location: class Main
1 error

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':compileJava'.
> Compilation failed; see the compiler error output for details.

BUILD FAILED in 4s
##[error]
##[error]Process completed with exit code 1.
}
"""


def test_never_evidence_lines_never_come_first_nor_anywhere_in_the_evidence() -> None:
    analysis = analyze_text(GRADLE_ON_ACTIONS)
    assert analysis.evidence
    assert "error: cannot find symbol" in analysis.evidence[0].text
    assert not [e.text for e in analysis.evidence if never_evidence(e.text)]


def test_a_log_of_verdicts_only_offers_none_of_them() -> None:
    only_verdicts = "BUILD FAILED\n##[error]\n##[error]Process completed with exit code 1.\n}\n"
    analysis = analyze_text(only_verdicts)
    assert not [e.text for e in analysis.evidence if never_evidence(e.text)]
