"""Dependency: pin, bump or add, from the resolver's own message.

The manifest comes first in the files: the one that declares the package when the checkout is
given, otherwise the ecosystem's usual ones (for Maven, the failing module's `pom.xml`). A patch
is made when the message says what would work: pip lists the versions that exist, so a pin to one
that does not becomes the newest that does; a module Python could not import is added to the
requirements file.
"""

from __future__ import annotations

import re

from recoverops.diagnosis.finders.dependencies import Requirement, requirements
from recoverops.diagnosis.fixes.base import FixContext, unique, with_edits
from recoverops.diagnosis.model import FixProposal
from recoverops.diagnosis.paths import repo_path
from recoverops.taxonomy import Category

MANIFESTS: dict[str, tuple[str, ...]] = {
    "pip": (
        "requirements.txt",
        "setup.py",
        "pyproject.toml",
        "setup.cfg",
        "requirements-dev.txt",
        "test-requirements.txt",
        "requirements_test.txt",
        "tox.ini",
    ),
    "poetry": ("pyproject.toml", "poetry.lock"),
    "conda": ("environment.yml", "environment.yaml", ".travis.yml"),
    "npm": ("package.json", "package-lock.json", "yarn.lock"),
    "maven": ("pom.xml",),
    "gradle": ("build.gradle", "build.gradle.kts", "settings.gradle"),
    "sbt": ("build.sbt", "project/plugins.sbt"),
    "go": ("go.mod", "go.sum"),
    "cargo": ("Cargo.toml", "Cargo.lock"),
    "bundler": ("Gemfile", "Gemfile.lock"),
}
# Where Maven says which pom.xml a module is: installing it, or a model error in it.
_MAVEN_POM = re.compile(
    r"Installing (?P<path>\S+/pom\.xml) to \S+/(?P<artifact>[\w.\-]+?)-\d[\w.\-]*\.pom"
    r"|The project [\w.\-]+:(?P<errored>[\w.\-]+):\S+ \((?P<errored_path>\S+/pom\.xml)\) has"
)
_MAVEN_PROJECT = re.compile(r"Failed to execute goal .*?on project (?P<project>[\w.\-]+)")
_VERSION_KEY = re.compile(r"\d+|[a-z]+")


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(p)) if p.isdigit() else (-1, p) for p in _VERSION_KEY.findall(version.lower())
    )


def newest_release(available: tuple[str, ...]) -> str | None:
    """The newest version that is not a pre-release (pip's own default choice)."""
    releases = [v for v in available if re.fullmatch(r"[\d.]+(?:\.post\d+)?", v)]
    return max(releases or available, key=_version_key) if available else None


def maven_poms(context: FixContext) -> dict[str, list[str]]:
    """artifactId -> the repository paths of its pom.xml, as the log says them; under "" the
    poms Maven reported errors in."""
    found: dict[str, list[str]] = {}
    for _, line in context.text.lines():
        match = _MAVEN_POM.search(line.replace("/[secure]/", "/secure/"))
        if not match:
            continue
        path = repo_path(match["path"] or match["errored_path"])
        if path is None:
            continue
        found.setdefault(match["artifact"] or match["errored"], []).append(path)
        if match["errored"]:
            found.setdefault("", []).append(path)
    return found


class Dependency:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category is not Category.BUILD_DEPENDENCY:
            return None
        found = requirements(context.text)
        if not found:
            return None
        ranked = sorted(found, key=lambda item: (context.text.focus(item[0]), item[0]))
        req = ranked[0][1]
        files = self._files(context, req)
        actions, explanation, new_spec = self._advice(req)
        proposal = FixProposal(
            kind="dependency",
            files=files,
            explanation=explanation,
            confidence=min(0.9, 0.45 + 0.4 * context.analysis.confidence),
            actions=tuple(actions),
        )
        edits = self._edits(context, req, files, new_spec)
        return with_edits(proposal, context, edits)

    def _files(self, context: FixContext, req: Requirement) -> tuple[str, ...]:
        names = MANIFESTS.get(req.ecosystem, ())
        candidates: list[str | None] = []
        if req.ecosystem == "maven":
            project = next(
                (
                    m["project"]
                    for _, line in context.text.lines()
                    if (m := _MAVEN_PROJECT.search(line))
                ),
                None,
            )
            poms = maven_poms(context)
            if project:
                candidates.append(self._module_pom(context, project, poms))
            # the poms Maven could not even read come next
            candidates += [context.resolve(path) for path in poms.get("", [])]
        if context.checkout is not None:
            declaring = [
                path
                for name in names
                for path in context.checkout.named(name.rsplit("/", 1)[-1])
                if req.package.split(":")[-1] in (context.read(path) or "")
            ]
            candidates += declaring
            candidates += [p for name in names for p in context.checkout.named(name)[:1]]
        else:
            candidates += list(names)
        return unique(candidates)

    @staticmethod
    def _module_pom(context: FixContext, project: str, poms: dict[str, list[str]]) -> str | None:
        if project in poms:
            return context.resolve(poms[project][0])
        if context.checkout is None:
            return f"{project}/pom.xml"
        for path in context.checkout.named("pom.xml"):
            text = context.read(path) or ""
            # the module's own artifactId is the first one outside <parent>
            own = re.sub(r"<parent>.*?</parent>", "", text, flags=re.DOTALL)
            found = re.search(r"<artifactId>\s*([\w.\-]+)\s*</artifactId>", own)
            if found and found.group(1) == project:
                return path
        return None

    @staticmethod
    def _advice(req: Requirement) -> tuple[list[str], str, str | None]:
        coordinate = req.coordinate
        if req.missing_module:
            return (
                [
                    f"add the package that provides `{req.package}` to the requirements",
                    f"pip install {req.package}",
                ],
                (
                    f"Python could not import `{req.package}`: the package that provides"
                    f" it is not installed."
                ),
                "",
            )
        newest = newest_release(req.available)
        if newest and req.constraint and newest not in req.constraint:
            return (
                [f"pin {req.package}=={newest} (the newest version the index has)"],
                (
                    f"{req.ecosystem} cannot satisfy `{coordinate}`; the index has"
                    f" {', '.join(req.available[-5:])}."
                ),
                f"=={newest}",
            )
        if req.ecosystem in ("maven", "gradle", "sbt"):
            return (
                [
                    f"check that {coordinate} is published in a repository the build declares "
                    "(a SNAPSHOT, a moved or retired repository, a typo in the version)",
                    (
                        f"change the version of {req.package} to a released one, or add"
                        f" the repository that has it"
                    ),
                ],
                f"{req.ecosystem} could not resolve `{coordinate}`.",
                None,
            )
        if req.ecosystem == "npm":
            return (
                [
                    f"npm view {req.package} versions",
                    (
                        f"change {req.package} in package.json to a version that exists"
                        f" and satisfies its peers"
                    ),
                ],
                f"npm could not resolve `{coordinate}`.",
                None,
            )
        return (
            [
                (
                    f"change the constraint on {req.package} to a version that exists"
                    f" and fits the others"
                )
            ],
            f"{req.ecosystem} could not resolve `{coordinate}`.",
            None,
        )

    @staticmethod
    def _edits(
        context: FixContext, req: Requirement, files: tuple[str, ...], new_spec: str | None
    ) -> dict[str, str]:
        if new_spec is None or req.ecosystem != "pip":
            return {}
        for path in files:
            if not re.search(r"requirements[\w.\-]*\.txt$", path):
                continue
            text = context.read(path)
            if text is None:
                continue
            # the name (with its extras), its specifier, and what follows it (a marker, a comment)
            pattern = re.compile(
                rf"^(?P<name>{re.escape(req.package)}(?:\[[^\]]*\])?)(?![\w.\-])"
                r"(?P<spec>[^#;\n]*?)(?P<tail>\s*(?:[#;].*)?)$",
                re.MULTILINE | re.IGNORECASE,
            )
            if new_spec == "":  # add the missing package
                if pattern.search(text):
                    continue
                return {
                    path: text
                    + ("" if text.endswith("\n") or not text else "\n")
                    + req.package
                    + "\n"
                }
            if pattern.search(text):
                pinned = pattern.sub(lambda m: f"{m['name']}{new_spec}{m['tail']}", text, count=1)
                return {path: pinned}
        return {}
