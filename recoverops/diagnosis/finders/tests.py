"""Failing test ids, as each runner prints them.

JUnit/surefire   name(a.b.CTest)  Time elapsed: 0.1 sec  <<< FAILURE!
                 [ERROR] a.b.CTest.name  Time elapsed: 0.1 s  <<< ERROR!
                 Failed tests:   name(a.b.CTest): message     [ERROR]   CTest.name:42 ...
Gradle           a.b.CTest > name FAILED
pytest           FAILED tests/test_a.py::test_x - AssertionError, tests/test_a.py::test_x FAILED
unittest, nose   FAIL: test_x (pkg.mod.Case)        ERROR: test_x (pkg.mod.Case)
Jest             FAIL  src/a.test.js        ● Suite › case
Mocha            1) Suite  case:   (after "N failing")
Go               --- FAIL: TestX (0.01s)
RSpec            rspec ./spec/a_spec.rb:12 # A does x
PHPUnit          1) Tests\\AClass::testX
.NET             Failed A.B.C.TestX [12 ms]
"""

from __future__ import annotations

import re

from recoverops.diagnosis.model import Component
from recoverops.diagnosis.text import FailureText

_JAVA_CLASS = r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+"
# A test class in the default package has no dots: only a capitalised name ending like a test.
_ANY_CLASS = rf"{_JAVA_CLASS}|[A-Z][\w$]*(?:Test|Tests|IT|TestCase)"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "junit",
        re.compile(
            rf"^(?:\[ERROR\]\s+)?(?P<method>[\w$\[\]\- ,.]+?)\((?P<cls>{_ANY_CLASS})\)\s+Time"
            rf" elapsed:.*<<<\s*(?:FAILURE|ERROR)!"
        ),
    ),
    (
        "junit",
        re.compile(
            rf"^(?:\[ERROR\]\s+)?(?P<cls>{_JAVA_CLASS})\.(?P<method>[\w$]+)(?:\(\))?\s+Time"
            rf" elapsed:.*<<<\s*(?:FAILURE|ERROR)!"
        ),
    ),
    (
        "junit",
        re.compile(
            rf"^(?:Failed tests|Tests in error):\s+(?P<method>[\w$]+)\((?P<cls>{_JAVA_CLASS})\)"
        ),
    ),
    # the same summary, one test an indented line below its heading
    ("junit", re.compile(rf"^\s+(?P<method>[\w$]+)\((?P<cls>{_ANY_CLASS})\)(?::|$|\s+»)")),
    (
        "junit",
        re.compile(
            r"^(?:\[ERROR\]\s+)?(?:Failures|Errors)?:?\s*(?P<cls>[A-Z][\w$]*Tests?\w*)\.(?P<method>"
            r"[\w$]+):\d+"
        ),
    ),
    ("gradle", re.compile(rf"^(?P<cls>{_JAVA_CLASS}|[A-Z][\w$]*)\s+>\s+(?P<method>.+?)\s+FAILED$")),
    (
        "pytest",
        re.compile(r"^(?:FAILED|ERROR)\s+(?P<file>[\w./-]+\.py)::(?P<method>[\w:\[\]./-]+)"),
    ),
    (
        "pytest",
        re.compile(r"^(?P<file>[\w./-]+\.py)::(?P<method>[\w:\[\]./-]+)\s+(?:FAILED|ERROR)\b"),
    ),
    # pytest's section header of one failure: ____ TestClass.test_name ____
    (
        "pytest",
        re.compile(r"^_{3,} (?P<method>(?:[A-Z]\w*\.)?test\w*(?:\[[^\]]*\])?) _{3,}$"),
    ),
    ("unittest", re.compile(r"^(?:FAIL|ERROR):\s+(?P<method>\w+)\s+\((?P<cls>[\w.]+)\)")),
    ("jest", re.compile(r"^\s*FAIL\s+(?P<file>\S+\.(?:[jt]sx?|mjs|cjs|vue))\b")),
    ("go", re.compile(r"^\s*--- FAIL:\s+(?P<method>[\w/.\-]+)")),
    ("rspec", re.compile(r"^rspec\s+(?P<file>\./?[\w./-]+_spec\.rb):\d+\s+#\s+(?P<method>.+)$")),
    ("phpunit", re.compile(r"^\d+\)\s+(?P<cls>[A-Za-z_\\][\w\\]*)::(?P<method>\w+)")),
    (
        "dotnet",
        re.compile(
            r"^\s*(?:Failed|X)\s+(?P<cls>[\w.]+\.)?(?P<method>\w+(?:\(.*\))?)\s+\[\d+(?:\.\d+)?\s*m"
            r"?s\]"
        ),
    ),
)
_JEST_CASE = re.compile(r"^\s*●\s+(?P<name>.+›.+)$")


def _test_file(runner: str, cls: str | None) -> str | None:
    """Where a test class lives by its language's convention, when that is certain enough."""
    if not cls:
        return None
    if runner in ("junit", "gradle") and "." in cls:
        outer = cls.split("$", 1)[0]
        return "src/test/java/" + outer.replace(".", "/") + ".java"
    if runner == "phpunit":
        return cls.replace("\\", "/").split("/", 1)[-1] + ".php"
    return None


class Tests:
    """Failing tests: the runner's own id, and the test's file where it is printed or certain."""

    def find(self, text: FailureText) -> list[Component]:
        found: list[Component] = []
        seen: set[str] = set()
        for number, line in text.lines():
            # Travis masks a repository owner it holds a secret for as `[secure]`.
            line = line.replace("[secure]", "secure")
            for runner, rule in _RULES:
                match = rule.search(line)
                if not match:
                    continue
                parts = match.groupdict()
                cls, method, file = parts.get("cls"), parts.get("method"), parts.get("file")
                if runner == "unittest" and cls:
                    name = f"{cls}.{method}"
                elif cls:
                    name = (
                        f"{cls.rstrip('.')}.{method}" if runner != "phpunit" else f"{cls}::{method}"
                    )
                elif file and method:
                    name = f"{file.lstrip('./')}::{method}"
                else:
                    name = (file or method or "").lstrip("./") if file else (method or "")
                if not name or name in seen:
                    break
                seen.add(name)
                path = file.lstrip("./") if file and file.startswith("./") else file
                found.append(
                    Component(
                        kind="test",
                        name=name.strip(),
                        log_line=number,
                        file=path or _test_file(runner, cls),
                        detail=line.strip()[:300],
                        tool=runner,
                    )
                )
                break
            else:
                jest = _JEST_CASE.match(line)
                if jest and jest["name"] not in seen:
                    seen.add(jest["name"])
                    found.append(
                        Component(
                            kind="test",
                            name=jest["name"].strip(),
                            log_line=number,
                            detail=line.strip()[:300],
                            tool="jest",
                        )
                    )
        return found
