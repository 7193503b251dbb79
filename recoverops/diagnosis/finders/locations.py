"""`file:line` of compiler, type-checker and linter messages, whichever tool printed them.

javac via Maven   /ws/src/main/java/a/B.java:[12,5] cannot find symbol
checkstyle        src/main/java/a/B.java:[7,8] (imports) UnusedImports: ...
gcc, clang, go,   src/a.c:12:5: error: ..., ./x.go:3:2: undefined: y,
flake8, ruff,     ./a.py:4:1: F401 'sys' imported but unused, app.rb:3:1: C: Style/...,
rubocop, javac    B.java:12: error: ..., doc.rst:469: ERROR: ...
rustc             --> src/main.rs:10:5
tsc               src/a.ts(3,13): error TS7006: ...
eslint (stylish)  a path alone on its line, then `  2:10  error  message  rule`
Python            File "a.py", line 7   (the frame above a SyntaxError, NameError, ...)
"""

from __future__ import annotations

import re

from recoverops.diagnosis.model import Component, Severity
from recoverops.diagnosis.paths import repo_path
from recoverops.diagnosis.text import FailureText

_PATH = (
    r"(?P<path>(?:[A-Za-z]:)?[^\s:()\[\]'\"<>|,;=]*[^\s:()\[\]'\"<>|,;=/.]\.[A-Za-z][\w+-]{0,9})"
)
_BRACKETED = re.compile(_PATH + r":\[(?P<line>\d+)(?:,(?P<col>\d+))?\]\s*(?P<msg>.*)")
_COLON = re.compile(
    r"(?<![\w/.:(\-@$])" + _PATH + r":(?P<line>\d+)(?::(?P<col>\d+))?(?::+|\s)\s*(?P<msg>.*)"
)
# POSIX shells: `./build.sh: 4: ./build.sh: cmd: not found`
_SHELL = re.compile(r"^" + _PATH + r": (?P<line>\d+): (?P<msg>.+)")
_PAREN = re.compile(_PATH + r"\((?P<line>\d+),(?P<col>\d+)\):\s*(?P<msg>.*)")
_PY_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_PY_ERROR = re.compile(r"^(?:E\s+)?(?:\w+\.)*(?:\w*Error|\w*Exception)\b:?")
# A line with a location has an extension right before ':', '[' or '(', or a Python frame.
_MAYBE = re.compile(r"\.[A-Za-z][\w+-]{0,9}(?::\d|:\[|\(\d| *:)|File \"")
_STYLISH_ROW = re.compile(r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<sev>error|warning)\s+(?P<msg>.+)$")
_BARE_PATH = re.compile(r"^\s*" + _PATH + r"\s*$")
_WARNING = re.compile(r"\bwarn(?:ing)?\b|\bnote\b|\[INFO\]|\binfo\b", re.IGNORECASE)
_ERROR = re.compile(r"\berror\b|\bfatal\b|\bfailed\b", re.IGNORECASE)
# Lines that carry a path and a number but no message about the code: timings, URLs, stack
# frames of a runtime, download progress.
_NOT_A_MESSAGE = re.compile(
    r"^\s*at |^\s*(?:Downloading|Downloaded|Download|Progress|Fetching|Get:|Hit:|Collecting)\b"
    r"|travis_|^\s*\$ |Time elapsed|://|^\s*#\d+ ",
    re.IGNORECASE,
)
# Extensions that name a source, build or config file someone edits.
_SOURCE = frozenset(
    "java kt kts scala groovy gradle py pyi c h cc cpp cxx hpp m mm cs fs vb go rs rb php js jsx "
    "ts tsx mjs cjs vue swift dart ex exs erl hrl hs elm clj lua pl pm r jl sh bash zsh ps1 sql "
    "xml yml yaml json toml cfg ini properties rst md txt tex proto tf hcl lock mod sum".split()
)


def _severity(line: str, message: str) -> Severity:
    if _ERROR.search(message) or _ERROR.search(line[:40]):
        return "error"
    return "warning" if _WARNING.search(line) else "error"


def _tool(path: str, message: str) -> str:
    if re.match(r"\(\w+\) \w+:", message):
        return "checkstyle"
    if re.match(r"[EWFCN]\d{3}\b|[A-Z]{1,3}\d{3,4}\b", message):
        return "flake8/ruff"
    if re.match(r"[CWERF]: [A-Z]\w+/\w+", message):
        return "rubocop"
    if re.search(r"\bTS\d{4}\b", message):
        return "tsc"
    ext = path.rsplit(".", 1)[-1].lower()
    return {
        "java": "javac",
        "py": "python",
        "go": "go",
        "rs": "rustc",
        "c": "cc",
        "cc": "c++",
        "cpp": "c++",
        "rst": "sphinx",
        "ts": "tsc",
        "js": "eslint",
        "rb": "ruby",
        "scala": "scalac",
        "kt": "kotlinc",
    }.get(ext, "")


class Locations:
    """Source and config files with a line, as compilers and linters print them."""

    def find(self, text: FailureText) -> list[Component]:
        found: list[Component] = []
        seen: set[tuple[str, int, str]] = set()
        stylish_file: str | None = None
        lines = list(text.lines())
        for index, (number, line) in enumerate(lines):
            # Travis masks a repository owner it holds a secret for as `[secure]`.
            line = line.replace("/[secure]/", "/secure/")
            row = _STYLISH_ROW.match(line)
            if row and stylish_file:
                self._add(
                    found,
                    seen,
                    number,
                    stylish_file,
                    row["line"],
                    row["msg"],
                    line,
                    severity="error" if row["sev"] == "error" else "warning",
                    tool="eslint",
                )
                continue
            bare = _BARE_PATH.match(line)
            if bare and index + 1 < len(lines) and _STYLISH_ROW.match(lines[index + 1][1]):
                stylish_file = bare["path"]
                continue
            if not row:
                stylish_file = None if not line.startswith(" ") else stylish_file
            frame = _PY_FRAME.search(line)
            if frame:
                follows = [t for _, t in lines[index + 1 : index + 6]]
                if any(_PY_ERROR.match(t.strip()) for t in follows):
                    self._add(
                        found,
                        seen,
                        number,
                        frame["path"],
                        frame["line"],
                        next(t.strip() for t in follows if _PY_ERROR.match(t.strip())),
                        line,
                        severity="error",
                        tool="python",
                    )
                continue
            if not _MAYBE.search(line) or _NOT_A_MESSAGE.search(line):
                continue
            match = (
                _BRACKETED.search(line)
                or _PAREN.search(line)
                or _COLON.search(line)
                or _SHELL.search(line)
            )
            if match:
                self._add(found, seen, number, match["path"], match["line"], match["msg"], line)
        return found

    @staticmethod
    def _add(
        found: list[Component],
        seen: set[tuple[str, int, str]],
        number: int,
        printed: str,
        position: str,
        message: str,
        line: str,
        *,
        severity: Severity | None = None,
        tool: str | None = None,
    ) -> None:
        if printed.rsplit(".", 1)[-1].lower() not in _SOURCE:
            return
        path = repo_path(printed)
        if path is None:
            return
        message = message.strip()
        # a tool that reports twice (Maven's summary) says the same; two rules on a line do not
        key = (path, int(position), message[:120])
        if key in seen:
            return
        seen.add(key)
        found.append(
            Component(
                kind="source",
                name=f"{path}:{position}",
                log_line=number,
                file=path,
                position=int(position),
                detail=message[:300],
                severity=severity or _severity(line, message),
                tool=tool if tool is not None else _tool(path, message),
            )
        )
