"""The dependency coordinate and the constraint that failed, from the resolver's own words.

pip       Could not find a version that satisfies the requirement x==9 (from versions: 1, 2)
          No matching distribution found for x==9; ModuleNotFoundError: No module named 'x'
          x 1.0 depends on y>=2 (the conflict); VersionConflict / DistributionNotFound
Poetry    Because a depends on x (^2.0) which doesn't match any versions, ...
conda     PackagesNotFoundError, then "  - x=1.2" lines
npm       ETARGET: No matching version found for x@^9; E404: 'x@1' is not in this registry;
          ERESOLVE: Could not resolve dependency: peer x@"^17" from y@1
Maven     Could not find artifact g:a:jar:1 in ..., Failure to find g:a:jar:1 in ...,
          The POM for g:a:jar:1 is missing, Failed to collect dependencies at g:a:jar:1
Gradle    > Could not find g:a:1.   > Could not resolve g:a:1.+.
sbt/Ivy   unresolved dependency: g#a;1: not found
Go        go: example.com/x@v1.2.3: ... (unknown revision, 404, invalid version)
          cannot find module providing package example.com/x
Cargo     failed to select a version for the requirement `x = "^9"`, no matching package named `x`
Bundler   Could not find gem 'x (~> 1.0)' in ..., Could not find x-1.2 in any of the sources
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recoverops.diagnosis.model import Component
from recoverops.diagnosis.text import FailureText


@dataclass(frozen=True, slots=True)
class Requirement:
    """A dependency the build could not have: its ecosystem, name, the constraint asked for, and
    the versions the resolver said exist (pip lists them)."""

    ecosystem: str
    package: str
    constraint: str = ""
    available: tuple[str, ...] = ()
    missing_module: bool = False

    @property
    def coordinate(self) -> str:
        if not self.constraint:
            return self.package
        if self.ecosystem in ("maven", "gradle", "sbt"):
            return f"{self.package}:{self.constraint}"
        if self.ecosystem == "bundler":
            return f"{self.package} ({self.constraint})"
        if self.ecosystem in ("npm", "go"):
            return f"{self.package}@{self.constraint}"
        if self.constraint[:1] in "=<>!~^":
            return f"{self.package}{self.constraint}"
        return f"{self.package} {self.constraint}"


_PIP_SPEC = (
    r"(?P<pkg>[A-Za-z0-9][\w.\-]*(?:\[[\w,\-]+\])?)\s*(?P<spec>(?:[=<>!~]=?|===)\s*[^\s,;()"
    r"]+(?:\s*,\s*[=<>!~]=?\s*[^\s,;()]+)*)?"
)
_MAVEN_GAV = r"(?P<gav>[\w.\-]+:[\w.\-]+(?::[\w.\-]+){1,3})"

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "pip",
        re.compile(
            r"Could not find a version that satisfies the requirement "
            + _PIP_SPEC
            + r"(?:.*\(from versions:\s*(?P<avail>[^)]*)\))?"
        ),
    ),
    ("pip", re.compile(r"No matching distribution found for " + _PIP_SPEC)),
    (
        "pip",
        re.compile(
            r"^\s*(?:The user requested|(?P<by>[\w.\-]+) [\w.\-]+ depends on)\s+" + _PIP_SPEC
        ),
    ),
    (
        "pip",
        re.compile(
            r"VersionConflict: \((?P<pkg>[\w.\-]+) (?P<have>[\w.]+) .*Requirement\.parse\('[\w.\-]+"
            r"(?P<spec>[^']*)'\)"
        ),
    ),
    (
        "pip",
        re.compile(r"DistributionNotFound: The '" + _PIP_SPEC + r"' distribution was not found"),
    ),
    (
        "pip-module",
        re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '?(?P<pkg>[\w]+)"),
    ),
    (
        "poetry",
        re.compile(
            r"Because (?:[\w.\-]+ depends on |no versions of )(?P<pkg>[\w.\-]+)"
            r" (?:\((?P<spec>[^)]+)\) )?(?:which doesn't|match|is required)"
        ),
    ),
    (
        "npm",
        re.compile(
            r"No matching version found for (?P<pkg>(?:@[\w.\-]+/)?[\w.\-]+)@(?P<spec>\S+?)\.?$"
        ),
    ),
    (
        "npm",
        re.compile(
            r"npm ERR! 404\s+'?(?P<pkg>(?:@[\w.\-]+/)?[\w.\-]+)@?(?P<spec>[^\s']*)'?"
            r" is not in (?:the npm|this) registry"
        ),
    ),
    (
        "npm",
        re.compile(
            r"npm ERR! 404 Not Found\s*-\s*GET \S+/(?P<pkg>(?:@[\w.\-]+(?:%2[fF]|/))?[\w.\-]+)(?:/-"
            r"/\S+)?\s"
        ),
    ),
    (
        "npm",
        re.compile(
            r"npm ERR! (?:Could not resolve dependency:|peer dep missing:?)\s*(?:peer\s+)?(?P<pkg>("
            r"?:@[\w.\-]+/)?[\w.\-]+)@\"?(?P<spec>[^\s\"]+)\"?"
        ),
    ),
    (
        "npm",
        re.compile(
            r"npm (?:ERR!|error) peer (?P<pkg>(?:@[\w.\-]+/)?[\w.\-]+)@\"(?P<spec>[^\"]+)\" from"
        ),
    ),
    (
        "maven",
        re.compile(
            (
                r"(?:Could not find artifact|Failure to find|The POM for|Could"
                r" not transfer artifact|Failed to read artifact descriptor for)\s+"
            )
            + _MAVEN_GAV
        ),
    ),
    ("maven", re.compile(r"Failed to collect dependencies at " + _MAVEN_GAV)),
    (
        "gradle",
        re.compile(r"^\s*>\s*Could not (?:find|resolve) (?P<gav>[\w.\-]+:[\w.\-]+:[\w.+\-]+)\.?"),
    ),
    (
        "gradle",
        re.compile(
            r"Could not (?:find|resolve) (?:any version that matches )?"
            r"(?P<gav>[\w.\-]+:[\w.\-]+:[\w"
            r".+\-\[\](),]+)\.?\s*$"
        ),
    ),
    (
        "sbt",
        re.compile(
            r"unresolved dependency:\s*(?P<org>[\w.\-]+)#(?P<name>[\w.\-]+);(?P<spec>[^:\s]+)"
        ),
    ),
    (
        "go",
        re.compile(
            r"^go(?::| get:) (?P<pkg>[\w.\-]+\.[a-z]{2,}/[\w./\-]+)@(?P<spec>v[\w.\-+]+|latest|\w+)"
            r": (?P<why>.+)"
        ),
    ),
    (
        "go",
        re.compile(r"cannot find module providing package (?P<pkg>[\w.\-]+\.[a-z]{2,}/[\w./\-]+)"),
    ),
    (
        "cargo",
        re.compile(
            r"failed to select a version for the requirement `(?P<pkg>[\w\-]+)"
            r" = \"(?P<spec>[^\"]+)\"`"
        ),
    ),
    ("cargo", re.compile(r"no matching package named `(?P<pkg>[\w\-]+)` found")),
    ("bundler", re.compile(r"Could not find gem '(?P<pkg>[\w.\-]+)(?: \((?P<spec>[^)]+)\))?'")),
    (
        "bundler",
        re.compile(
            r"Could not find (?P<pkg>[a-z][\w\-]*?)-(?P<spec>\d[\w.]*) in any"
            r" of the (?:gem )?sources"
        ),
    ),
    (
        "bundler",
        re.compile(r'Bundler could not find compatible versions for gem "(?P<pkg>[\w.\-]+)"'),
    ),
)
_CONDA_HEADER = re.compile(r"PackagesNotFoundError|ResolvePackageNotFound")
_CONDA_ITEM = re.compile(r"^\s+-\s+(?P<pkg>[\w.\-]+)(?:[=<>]=?(?P<spec>[\w.*]+))?\s*$")


def _requirement(ecosystem: str, match: re.Match[str]) -> Requirement | None:
    parts = {k: v for k, v in match.groupdict().items() if v}
    if ecosystem in ("maven", "gradle"):
        pieces = parts["gav"].split(":")
        # g:a[:packaging[:classifier]]:version; the version is last, the packaging is not asked for
        version = pieces[-1] if len(pieces) >= 3 else ""
        return Requirement(ecosystem, f"{pieces[0]}:{pieces[1]}", version)
    if ecosystem == "sbt":
        return Requirement("sbt", f"{parts['org']}:{parts['name']}", parts.get("spec", ""))
    package = parts.get("pkg", "")
    if not package:
        return None
    if ecosystem == "pip-module":
        return Requirement("pip", package, missing_module=True)
    package = package.replace("%2f", "/").replace("%2F", "/")
    available = tuple(
        v.strip() for v in parts.get("avail", "").split(",") if v.strip() and v.strip() != "none"
    )
    return Requirement(ecosystem, package, parts.get("spec", "").replace(" ", ""), available)


def _with_bundler_constraints(text: FailureText, number: int, req: Requirement) -> Requirement:
    """Bundler prints the clashing constraints on the gem below its heading: `gem (= 5.1.7)`."""
    said = re.compile(rf"^\s+{re.escape(req.package)} \((?P<spec>[^)]+)\)\s*$")
    constraints: list[str] = []
    for below in range(number + 1, min(number + 20, text.last) + 1):
        line = text.line(below)
        if line.startswith("Bundler could not find"):
            break
        match = said.match(line)
        if match and match["spec"] not in constraints:
            constraints.append(match["spec"])
    return Requirement(req.ecosystem, req.package, " vs ".join(constraints)) if constraints else req


def requirements(text: FailureText) -> list[tuple[int, Requirement, str]]:
    """(log line, requirement, the line) for every dependency the resolver could not have."""
    found: list[tuple[int, Requirement, str]] = []
    seen: set[tuple[str, str, str]] = set()
    conda = False
    for number, line in text.lines():
        if _CONDA_HEADER.search(line):
            conda = True
            continue
        if conda:
            item = _CONDA_ITEM.match(line)
            if item:
                req = Requirement("conda", item["pkg"], item["spec"] or "")
                if (req.ecosystem, req.package, req.constraint) not in seen:
                    seen.add((req.ecosystem, req.package, req.constraint))
                    found.append((number, req, line))
                continue
            if line.strip() and not line.startswith(" "):
                conda = False
        for ecosystem, rule in _RULES:
            match = rule.search(line)
            parsed = _requirement(ecosystem, match) if match else None
            if parsed is None:
                continue
            if ecosystem == "bundler" and not parsed.constraint:
                parsed = _with_bundler_constraints(text, number, parsed)
            key = (parsed.ecosystem, parsed.package, parsed.constraint)
            if key not in seen:
                seen.add(key)
                found.append((number, parsed, line))
            break
    return found


class Dependencies:
    """Dependencies the resolver could not find or reconcile, with the constraint that failed."""

    def find(self, text: FailureText) -> list[Component]:
        return [
            Component(
                kind="dependency",
                name=req.coordinate,
                log_line=number,
                detail=line.strip()[:300],
                tool=req.ecosystem,
            )
            for number, req, line in requirements(text)
        ]
