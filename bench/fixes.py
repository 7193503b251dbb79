"""How well the fix proposals point at what the developers really changed (issue 15).

On BugSwarm (failing logs with the developers' fix as `patch.diff`), split by project with
`recoverops.sides.side_of`:

  files@3      compilation, lint and dependency failures: the share where a file the real fix
               changed is among the first 3 files the fix names (goal >= 0.85); against the
               baseline "every path the log mentions, in order" (its first 3, and all of them)
  dependency   dependency failures whose fix names a coordinate: the share where the real patch
               changes that package (`same package`) and sets the version proposed (`same change`)
  tests        test failures where the root cause names a test: the share where the first named
               test is one the real patch touches (its file, or its method in the patch's text)

A named path matches a changed file when equal, or when it is a module-relative suffix of it on a
directory boundary (`src/main/java/a/B.java` for `m/src/main/java/a/B.java`); a bare file name
(`pom.xml`) matches only the root one. No checkout is given (BugSwarm has none), so fixes name
files and actions without patches, as the CLI does without `--repo`.

    .venv/bin/python bench/fixes.py [--data ../shared/data] [--verbose]   dev and validation
    .venv/bin/python bench/fixes.py --test                                 the test side too
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose_text
from recoverops.diagnosis.finders.dependencies import requirements
from recoverops.diagnosis.paths import repo_path, same_file
from recoverops.diagnosis.text import FailureText
from recoverops.logs.document import clean_line
from recoverops.sides import side_of

FIXED = ("build.compilation", "build.lint", "build.dependency")
_CHANGED = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)
_ANY_PATH = re.compile(r"(?<![\w/.\-])((?:[A-Za-z]:)?[\w.\-/\\$]*[\w\-$]\.[A-Za-z][\w]{0,9})\b")
_SOURCE_EXT = re.compile(
    r"\.(?:java|kt|scala|groovy|gradle|py|c|h|cc|cpp|hpp|go|rs|rb|php|js|jsx|ts|tsx|xml|yml|yaml"
    r"|json|toml|cfg|ini|properties|rst|md|txt|sh)$"
)


def changed_files(patch: str) -> list[str]:
    return list(dict.fromkeys(b for _, b in _CHANGED.findall(patch)))


def log_paths(text: str) -> list[str]:
    """Every project path the log mentions, in order of first mention (the baseline)."""
    seen: dict[str, None] = {}
    for raw in text.split("\n"):
        for printed in _ANY_PATH.findall(clean_line(raw)):
            if "://" in printed or not _SOURCE_EXT.search(printed):
                continue
            path = repo_path(printed)
            if path:
                seen.setdefault(path, None)
    return list(seen)


def hit(named: list[str], changed: list[str]) -> bool:
    return any(same_file(n, c) for n in named for c in changed)


def _added_lines(patch: str) -> str:
    return "\n".join(
        line[1:]
        for line in patch.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    )


def _test_touched(name: str, file: str | None, changed: list[str], patch: str) -> bool:
    if file and hit([file], changed):
        return True
    method = re.split(r"::|\.|#", name)[-1].strip("()[] ")
    owner = re.split(r"::|\.", name)[-2] if re.search(r"::|\.", name) else ""
    owner = owner.split("/")[-1].removesuffix(".py")
    stems = {Path(c).stem for c in changed}
    if owner and owner in stems:
        return True
    return (
        bool(method)
        and len(method) > 3
        and re.search(rf"\b{re.escape(method)}\b", patch) is not None
    )


def evaluate(data: Path, *, sides: tuple[str, ...], verbose: bool) -> dict[str, dict[str, Any]]:
    rows = list(csv.DictReader((data / "bugswarm" / "index.csv").open()))
    tally: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        side = side_of(row["project"])
        label = row["suggested_label"]
        if side not in sides or label not in (*FIXED, "build.test"):
            continue
        folder = data / "bugswarm" / row["artifact"]
        text = (folder / "failing.log").read_bytes().decode("utf-8", errors="replace")
        patch = (folder / "patch.diff").read_text("utf-8", errors="replace")
        changed = changed_files(patch)
        analysis = analyze_text(text)
        root_cause, proposals = diagnose_text(analysis, text=text)
        t = tally[side]
        if label == "build.test":
            tests = [c for c in root_cause.components if c.kind == "test"]
            t["tests"] += 1
            if tests:
                t["tests_named"] += 1
                t["tests_touched"] += _test_touched(tests[0].name, tests[0].file, changed, patch)
            continue
        fix = proposals[0] if proposals else None
        named = list(fix.files[:3]) if fix else []
        every = log_paths(text)
        t["n"] += 1
        t["fix_names_files"] += bool(named)
        t["files_at_3"] += hit(named, changed)
        t["baseline_at_3"] += hit(every[:3], changed)
        t["baseline_any"] += hit(every, changed)
        t[f"{label}:n"] += 1
        t[f"{label}:files_at_3"] += hit(named, changed)
        if verbose and side == "dev" and not hit(named, changed):
            print(
                f"  miss {side} {row['artifact']} {label}->{analysis.category.value}:"
                f" named {named} changed {changed[:4]}"
            )
        if label == "build.dependency":
            found = requirements(FailureText.of(text, analysis))
            if found and fix is not None and fix.kind == "dependency":
                req = found[0][1]
                added = _added_lines(patch)
                package = req.package.split(":")[-1].split("[")[0]
                t["dep_named"] += 1
                same_package = re.search(rf"\b{re.escape(package)}\b", added) is not None
                t["dep_same_package"] += same_package
                pinned = re.search(r"==\s*([\w.]+)|pin [\w.\-]+==([\w.]+)", " ".join(fix.actions))
                version = (pinned.group(1) or pinned.group(2)) if pinned else None
                t["dep_same_change"] += bool(same_package and version and version in added)
    return tally


def report(tally: dict[str, dict[str, Any]]) -> None:
    for side, t in tally.items():
        n = max(1, t["n"])
        print(f"{side}: compilation, lint and dependency failures: {t['n']}")
        print(
            f"  a changed file among the fix's first 3 files: {t['files_at_3'] / n:.2f}"
            f"  ({t['files_at_3']}/{t['n']}; fix names files in {t['fix_names_files']})"
        )
        print(
            f"  baseline, every path the log mentions: first 3 {t['baseline_at_3'] / n:.2f},"
            f" any {t['baseline_any'] / n:.2f}"
        )
        for label in FIXED:
            if t[f"{label}:n"]:
                print(f"    {label}: {t[f'{label}:files_at_3']}/{t[f'{label}:n']}")
        print(
            f"  dependency fixes naming a coordinate: {t['dep_named']}; the real patch changes"
            f" that package: {t['dep_same_package']}, sets the proposed version:"
            f" {t['dep_same_change']}"
        )
        print(
            f"  test failures: {t['tests']}; a test named: {t['tests_named']}; the first named is"
            f" one the real patch touches: {t['tests_touched']}"
            + (
                f" ({t['tests_touched'] / t['tests_named']:.2f} of named)"
                if t["tests_named"]
                else ""
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
    parser.add_argument(
        "--test", action="store_true", help="also the test side (report only; never tune on it)"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="list the dev side's misses (only dev is looked at when tuning)",
    )
    args = parser.parse_args(argv)
    if not (args.data / "bugswarm" / "index.csv").is_file():
        parser.error(f"no BugSwarm data under {args.data}")
    sides = ("dev", "validation", "test") if args.test else ("dev", "validation")
    tally = evaluate(args.data, sides=sides, verbose=args.verbose and not args.test)
    report({side: tally[side] for side in sides if side in tally})
    return 0


if __name__ == "__main__":
    sys.exit(main())
