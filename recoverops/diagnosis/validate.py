"""A fix's patch is shown only if it applies to the file it targets and leaves that file valid.

applies     every hunk fits the file as it is in the checkout
parses      YAML, JSON and TOML still parse; Python still compiles; Terraform still parses
            (python-hcl2); a CloudFormation template still passes cfn-lint
workflow    a GitHub Actions workflow still has its `jobs` mapping
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass

import yaml

from recoverops.diagnosis.iac import cloudformation_problem, is_cloudformation, terraform_problem
from recoverops.diagnosis.model import FixProposal
from recoverops.diagnosis.patch import PatchError, apply, parse


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""


def check_text(path: str, text: str) -> Verdict:
    """Whether `text` is still a valid file of the kind `path` names."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "tf":
        problem = terraform_problem(text)
        return Verdict(False, f"{path}: {problem}") if problem else Verdict(True)
    if suffix in ("yml", "yaml", "json", "template") and is_cloudformation(text):
        # A template's YAML has tags (!Ref, !Sub) a plain YAML loader refuses: cfn-lint reads it.
        problem = cloudformation_problem(text)
        return Verdict(False, f"{path}: {problem}") if problem else Verdict(True)
    try:
        if suffix in ("yml", "yaml"):
            documents = list(yaml.safe_load_all(text))
            if _is_workflow(path):
                document = documents[0] if documents else None
                if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
                    return Verdict(False, f"{path}: a workflow without a `jobs` mapping")
        elif suffix == "json":
            json.loads(text)
        elif suffix == "toml":
            tomllib.loads(text)
        elif suffix in ("py", "pyi"):
            compile(text, path, "exec", dont_inherit=True)
    except (yaml.YAMLError, ValueError, SyntaxError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Verdict(False, f"{path} would not parse: {first}")
    return Verdict(True)


def _is_workflow(path: str) -> bool:
    return ".github/workflows/" in f"/{path}"


def validate(proposal: FixProposal) -> Verdict:
    """Whether the proposal's patch applies to the originals it was made for and keeps every
    file it changes valid; a proposal without a patch has nothing to check."""
    if proposal.patch is None:
        return Verdict(True)
    try:
        diffs = parse(proposal.patch)
    except PatchError as error:
        return Verdict(False, f"the patch does not parse: {error}")
    for diff in diffs:
        original = proposal.originals.get(diff.old_path)
        if original is None:
            return Verdict(False, f"{diff.old_path}: the file the patch targets is not available")
        try:
            changed = apply(diff, original)
        except PatchError as error:
            return Verdict(False, str(error))
        verdict = check_text(diff.new_path, changed)
        if not verdict.ok:
            return verdict
    return Verdict(True)
