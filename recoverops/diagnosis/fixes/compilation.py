"""Compilation: the file and line of the first errors, the files the message points at, and the
edit where the message says it (a missing import of a standard-library name).

Files, most likely first: the files with errors in the order the compiler reported them; a class
the compiler cannot find, beside the file that uses it; the class a failing test file tests
(`FooTest.java` -> `Foo.java`); the build file of a module whose imported package does not exist.
"""

from __future__ import annotations

import re
import sys

from recoverops.diagnosis.fixes.base import FixContext, unique, with_edits
from recoverops.diagnosis.model import Component, FixProposal
from recoverops.taxonomy import Category

_SYMBOL = re.compile(
    r"symbol:\s+(?P<what>class|variable|method|interface)\s+(?P<name>[A-Za-z_$][\w$]*)"
)
# A class a javac message names by its qualified name (`... is not public in a.b.C`,
# `location: class a.b.C`): where the member the code wants is declared.
_QUALIFIED_CLASS = re.compile(r"\b(?P<name>(?:[a-z_][\w]*\.){2,}[A-Z][\w$]*)")
_PLATFORM = re.compile(r"^(?:java|javax|jdk|sun|com\.sun|kotlin|scala)\.")
_MISSING_PACKAGE = re.compile(r"package (?P<package>[\w.]+) does not exist")
_PY_NAME = re.compile(r"NameError: (?:global )?name '(?P<name>\w+)' is not defined")
# Classes of the Java platform a missing import usually means, by simple name.
JAVA_IMPORTS: dict[str, str] = {
    name: f"{package}.{name}"
    for package, names in {
        "java.util": "List ArrayList LinkedList Map HashMap LinkedHashMap TreeMap Set HashSet "
        "LinkedHashSet TreeSet Collection Collections Arrays Objects Optional Locale UUID Date "
        "Iterator Comparator Random Scanner Properties Queue Deque ArrayDeque Stack Vector "
        "Calendar TimeZone Formatter StringJoiner",
        "java.util.stream": "Collectors Stream IntStream",
        "java.util.function": "Function Supplier Consumer Predicate BiFunction",
        "java.util.concurrent": "TimeUnit ConcurrentHashMap ExecutorService Executors Future "
        "CompletableFuture CountDownLatch",
        "java.io": "File IOException InputStream OutputStream Reader Writer BufferedReader "
        "InputStreamReader UncheckedIOException Serializable",
        "java.nio.file": "Path Paths Files",
        "java.nio.charset": "StandardCharsets Charset",
        "java.math": "BigDecimal BigInteger",
        "java.time": "Instant Duration LocalDate LocalDateTime ZonedDateTime",
        "java.util.regex": "Pattern Matcher",
    }.items()
    for name in names.split()
}
_SOURCE_ROOT = re.compile(
    r"^(?P<module>(?:.*/)?)src/(?:main|test|it)/(?:java|kotlin|scala|groovy)/"
)


def _following(context: FixContext, component: Component, lines: int = 3) -> str:
    return "\n".join(
        context.text.line(n) for n in range(component.log_line + 1, component.log_line + 1 + lines)
    )


def _companions(context: FixContext, error: Component) -> list[str | None]:
    """Files beside `error`'s that the message points at."""
    path = error.file or ""
    found: list[str | None] = []
    directory = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    symbol = _SYMBOL.search(error.detail + "\n" + _following(context, error))
    if symbol and symbol["what"] in ("class", "interface") and symbol["name"] not in JAVA_IMPORTS:
        found.append(context.resolve(f"{directory}{symbol['name']}.java"))
    name = path.rsplit("/", 1)[-1]
    tested = re.match(
        r"(?P<cls>\w+?)(?:Tests?|IT|UnitTest|TestCase)\.(?P<ext>java|kt|scala)$", name
    )
    root = _SOURCE_ROOT.match(path)
    if tested and root:
        package = path[root.end() :].rsplit("/", 1)[0]
        relative = f"src/main/java/{package}/{tested['cls']}.{tested['ext']}"
        found.append(_in_any_module(context, relative))
    said = error.detail + "\n" + _following(context, error, lines=2)
    own = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    missing = _MISSING_PACKAGE.search(said)
    for match in _QUALIFIED_CLASS.finditer(said):
        qualified = match["name"].split("$", 1)[0]
        if missing and qualified.startswith(missing["package"] + "."):
            continue  # a class of a package that is not there is not a file to edit
        if _PLATFORM.match(qualified):
            # the platform lacks what the code uses: the build's Java version is the fix's place
            if root is not None and "cannot find symbol" in said:
                found.append(context.resolve(f"{root['module']}{_build_file(context)}"))
            continue
        if qualified.rsplit(".", 1)[-1] != own:
            found.append(_in_any_module(context, qualified.replace(".", "/") + ".java"))
    if _MISSING_PACKAGE.search(error.detail) and root is not None:
        found.append(context.resolve(f"{root['module']}{_build_file(context)}"))
    return found


def _in_any_module(context: FixContext, relative: str) -> str | None:
    """The checkout's file ending in `relative` (any module); without a checkout, `relative`."""
    if context.checkout is None:
        return relative
    matches = [
        p for p in context.checkout.named(relative.rsplit("/", 1)[-1]) if p.endswith(relative)
    ]
    return matches[0] if matches else None


def _build_file(context: FixContext) -> str:
    command = (context.analysis.failing_step.command or "") if context.analysis.failing_step else ""
    return "build.gradle" if "gradle" in command.lower() else "pom.xml"


class Compilation:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category is not Category.BUILD_COMPILATION:
            return None
        errors = [c for c in context.of_kind("source") if c.severity == "error"]
        if not errors:
            return _installed_package_fails(context)
        files: list[str | None] = []
        for error in errors[:3]:
            files.append(context.resolve(error.file or ""))
            files.extend(_companions(context, error))
        files.extend(context.resolve(e.file or "") for e in errors[3:])
        first = errors[0]
        proposal = FixProposal(
            kind="compilation",
            files=unique(files),
            explanation=(
                f"{first.tool or 'The compiler'} reports {len(errors)} error(s); the first is at "
                f"{first.name}: {first.detail[:200]}. Later errors often follow from the first."
            ),
            confidence=min(0.9, 0.5 + 0.4 * context.analysis.confidence),
            actions=tuple(f"edit {e.name}: {e.detail[:160]}" for e in errors[:3]),
        )
        return with_edits(proposal, context, self._edits(context, errors))

    def _edits(self, context: FixContext, errors: list[Component]) -> dict[str, str]:
        edits: dict[str, str] = {}
        for error in errors[:10]:
            path = context.resolve(error.file or "")
            if path is None:
                continue
            text = edits.get(path) or context.read(path)
            if text is None:
                continue
            if path.endswith(".java"):
                symbol = _SYMBOL.search(error.detail + "\n" + _following(context, error))
                if symbol and symbol["name"] in JAVA_IMPORTS:
                    edits[path] = add_java_import(text, JAVA_IMPORTS[symbol["name"]])
            elif path.endswith(".py"):
                name = _PY_NAME.search(error.detail)
                if name and name["name"] in sys.stdlib_module_names:
                    edits[path] = add_python_import(text, name["name"])
        return edits


_INSTALLED_FRAME = re.compile(
    r'File "[^"]*/(?:site|dist)-packages/(?P<package>[A-Za-z_][\w]*)[/"]'
    r"|/tmp/pip-build-\w+/(?P<building>[\w.\-]+)/"
)
_PY_SYNTAX = re.compile(r"^(?:E\s+)?SyntaxError\b")
REQUIREMENTS = ("requirements.txt", "setup.py", "pyproject.toml", "setup.cfg", "tox.ini")


def _installed_package_fails(context: FixContext) -> FixProposal | None:
    """Python cannot even parse an installed package: that release does not support this
    interpreter, and the fix is a pin of the package, not an edit of the project's code."""
    package = None
    for _, line in context.text.lines():
        frame = _INSTALLED_FRAME.search(line)
        if frame:
            package = frame["package"] or frame["building"]
        elif package and _PY_SYNTAX.match(line.strip()):
            break
    else:
        return None
    if package is None:
        return None
    if context.checkout is not None:
        declaring: list[str] = [
            path
            for path in context.checkout.files
            if path.rsplit("/", 1)[-1] in REQUIREMENTS
            or re.search(r"requirements[\w.\-]*\.txt$", path)
        ]
        files = unique([p for p in declaring if package in (context.read(p) or "")] + declaring)
    else:
        files = REQUIREMENTS
    return FixProposal(
        kind="dependency",
        files=files,
        explanation=(
            f"Python cannot parse the installed package `{package}`: the release installed does "
            "not support this Python version."
        ),
        confidence=0.6,
        actions=(
            f"pin {package} to the last release that supports this Python (e.g. `{package}<X`)",
            "or drop this Python version from the build matrix",
        ),
    )


def add_java_import(text: str, qualified: str) -> str:
    """`text` with `import qualified;` after its last import (or its package line)."""
    if re.search(rf"^import\s+{re.escape(qualified)}\s*;", text, re.MULTILINE):
        return text
    lines = text.splitlines(keepends=True)
    anchor = max(
        (i for i, line in enumerate(lines) if line.startswith("import ")),
        default=next((i for i, line in enumerate(lines) if line.startswith("package ")), -1),
    )
    lines.insert(anchor + 1, f"import {qualified};\n")
    return "".join(lines)


def add_python_import(text: str, module: str) -> str:
    """`text` with `import module` after its first block of imports (or at the top)."""
    if re.search(rf"^import {module}\b", text, re.MULTILINE):
        return text
    lines = text.splitlines(keepends=True)
    imports = [i for i, line in enumerate(lines) if re.match(r"(?:import|from) \w", line)]
    at = imports[-1] + 1 if imports else 0
    lines.insert(at, f"import {module}\n")
    return "".join(lines)
