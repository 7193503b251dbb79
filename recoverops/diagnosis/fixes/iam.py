"""IAM and S3 policy denials: grant exactly the denied action on exactly the denied resource, as a
Terraform and a CloudFormation snippet, each validated (`recoverops.diagnosis.iac`).

With a checkout, the grant goes into the file that defines the principal's role: the Terraform
file with its `aws_iam_role` (the policy names the role by reference), or the CloudFormation
template with its `AWS::IAM::Role` (a new `AWS::IAM::Policy` that `!Ref`s it); the patch is then
validated like every other (it applies, the HCL parses, the template passes cfn-lint).

An explicit deny is not fixed by another allow, and a service control policy, a permissions
boundary or a session policy lives outside the repository: those get no grant, only what to
look at. IAM changes are proposals only; nothing here or downstream applies them.
"""

from __future__ import annotations

import re

from recoverops.diagnosis.fixes.base import FixContext, with_edits
from recoverops.diagnosis.iac import (
    Denial,
    cloudformation_problem,
    cloudformation_resource,
    cloudformation_snippet,
    find_denials,
    is_cloudformation,
    terraform_problem,
    terraform_snippet,
    to_yaml,
)
from recoverops.diagnosis.model import FixProposal

_TF_RESOURCE = re.compile(
    r'^resource\s+"(?P<type>aws_iam_role|aws_iam_user)"\s+"(?P<label>[\w-]+)"\s*\{', re.M
)
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template")
_ELSEWHERE = {
    "service control": "the organization's service control policies (SCPs)",
    "resource control": "the organization's resource control policies (RCPs)",
    "permissions boundary": "the permissions boundary attached to the principal",
    "session": "the session policy passed when the role was assumed",
    "VPC endpoint": "the VPC endpoint's policy",
}


class Iam:
    def propose(self, context: FixContext) -> FixProposal | None:
        denials = find_denials(list(context.text.lines()))
        if not denials:
            return None
        # The denial nearest the failure is the one to fix; the others are listed.
        denial = min(denials, key=lambda d: (context.text.focus(d.line), -d.line))
        others = [d for d in denials if d is not denial]
        if denial.explicit_deny or denial.policy in _ELSEWHERE:
            return _no_grant(denial, others)
        snippets = _snippets(denial)
        proposal = FixProposal(
            kind="iam",
            files=(),
            explanation=_explanation(denial, others),
            confidence=0.8 if denial.policy != "unknown" else 0.6,
            actions=_actions(denial),
            snippets=snippets,
        )
        if context.checkout is None or denial.on_bucket_policy or denial.principal is None:
            return proposal
        edit = _edit_in_checkout(context, denial)
        if edit is None:
            return proposal
        path, new = edit
        targeted = FixProposal(
            kind=proposal.kind,
            files=(path,),
            explanation=proposal.explanation,
            confidence=proposal.confidence,
            actions=proposal.actions,
            snippets=proposal.snippets,
        )
        return with_edits(targeted, context, {path: new})


def _who(denial: Denial) -> str:
    found = denial.principal
    return f"{found[0]} `{found[1]}`" if found else f"`{denial.principal_arn}`"


def _explanation(denial: Denial, others: list[Denial]) -> str:
    where = (
        f"the policy of bucket `{denial.bucket}`"
        if denial.on_bucket_policy
        else f"an inline policy of {_who(denial)}"
    )
    said = {
        "identity-based": "no identity-based policy allows it",
        "resource-based": "no resource-based policy allows it",
        "unknown": "the message does not say which policy is missing",
    }[denial.policy]
    text = (
        f"The {_who(denial)} may not `{denial.action}` on `{denial.resource}`: {said}. Grant"
        f" exactly that action on that resource in {where} (a proposal: review and apply it"
        " yourself)."
    )
    if denial.resource.startswith("arn:aws:kms:"):
        text += " The key's own policy must also allow it, or delegate to IAM."
    if others:
        text += f" {len(others)} other denial(s) in the log: " + "; ".join(
            f"`{d.action}` on `{d.resource}`" for d in others[:3]
        )
    return text


def _actions(denial: Denial) -> tuple[str, ...]:
    if denial.on_bucket_policy:
        first = (
            f"add to the policy of bucket {denial.bucket} a statement allowing"
            f" {denial.role_arn} {denial.action} on {denial.resource}"
        )
    else:
        first = f"allow {denial.action} on {denial.resource} for {_who(denial).replace('`', '')}"
    actions = [first]
    if denial.resource.startswith("arn:aws:kms:"):
        actions.append(f"check that the key policy of {denial.resource} allows {denial.action}")
    actions.append("rerun the job once the policy is applied")
    return tuple(actions)


def _snippets(denial: Denial) -> dict[str, str]:
    """Both snippets, each only if it validates (a snippet that does not is never shown)."""
    out: dict[str, str] = {}
    terraform = terraform_snippet(denial)
    if terraform_problem(terraform) is None:
        out["terraform"] = terraform
    cloudformation = cloudformation_snippet(denial)
    if cloudformation_problem(cloudformation) is None:
        out["cloudformation"] = cloudformation
    return out


def _no_grant(denial: Denial, others: list[Denial]) -> FixProposal:
    if denial.explicit_deny and denial.policy in ("identity-based", "resource-based"):
        holder = (
            f"bucket `{denial.bucket}`'s policy"
            if denial.policy == "resource-based" and denial.bucket
            else f"the {denial.policy} policies of {_who(denial)}"
            if denial.policy == "identity-based"
            else f"the policy of `{denial.resource}`"
        )
        why = (
            f"an explicit Deny in {holder} refuses `{denial.action}` on `{denial.resource}`, and a"
            " deny wins over every allow: narrow or remove that Deny statement; granting more"
            " would change nothing"
        )
        first = f"find the Deny of {denial.action} in {holder.replace('`', '')} and narrow it"
    else:
        place = _ELSEWHERE.get(denial.policy, denial.policy)
        verb = "denies" if denial.explicit_deny else "does not allow"
        why = (
            f"{place} {verb} `{denial.action}` on `{denial.resource}` for {_who(denial)}; it is"
            " managed outside this repository, so ask its owners: no policy in the repository"
            " can fix it"
        )
        first = f"ask the owners of {place} about {denial.action} on {denial.resource}"
    if others:
        why += f" ({len(others)} other denial(s) in the log)"
    return FixProposal(
        kind="iam",
        files=(),
        explanation=why[:1].upper() + why[1:] + ".",
        confidence=0.4,
        actions=(first, "rerun the job once the policy is changed"),
    )


# -- the checkout's file that defines the principal ------------------------------------------


def _edit_in_checkout(context: FixContext, denial: Denial) -> tuple[str, str] | None:
    assert context.checkout is not None and denial.principal is not None
    kind, name = denial.principal
    for path in context.checkout.files:
        if path.endswith(".tf"):
            text = context.read(path)
            label = None if text is None else _terraform_label(text, kind, name)
            if text is not None and label is not None:
                ref = f"aws_iam_role.{label}.id" if kind == "role" else f"aws_iam_user.{label}.name"
                grant = terraform_snippet(denial, ref=ref)
                return path, text.rstrip("\n") + "\n\n" + grant
        elif path.endswith(_TEMPLATE_SUFFIXES) and kind == "role":
            text = context.read(path)
            if text is None or not is_cloudformation(text):
                continue
            logical = _cloudformation_role(text, name)
            if logical is not None:
                new = _with_resource(text, denial, logical)
                if new is not None:
                    return path, new
    return None


def _terraform_label(text: str, kind: str, name: str) -> str | None:
    """The label of the `aws_iam_role` (or user) resource whose `name` is `name`."""
    wanted = "aws_iam_role" if kind == "role" else "aws_iam_user"
    for match in _TF_RESOURCE.finditer(text):
        if match["type"] != wanted:
            continue
        end = text.find("\n}", match.end())
        block = text[match.end() : end if end != -1 else len(text)]
        if re.search(rf'^\s*name\s*=\s*"{re.escape(name)}"\s*$', block, re.M):
            return match["label"]
    return None


def _cloudformation_role(text: str, name: str) -> str | None:
    """The logical id of the template's AWS::IAM::Role whose RoleName is `name`."""
    from cfnlint.decode.decode import decode_str

    template, problems = decode_str(text)
    if problems or not isinstance(template, dict):
        return None
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return None
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::IAM::Role":
            continue
        properties = resource.get("Properties")
        if isinstance(properties, dict) and properties.get("RoleName") == name:
            return str(logical)
    return None


def _with_resource(text: str, denial: Denial, role_logical: str) -> str | None:
    """The YAML template with the grant appended to its top-level `Resources` block."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "Resources:"), None)
    if start is None:
        return None
    end = len(lines)
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            end = i
            break
    children = [
        line
        for line in lines[start + 1 : end]
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not children:
        return None
    indent = len(children[0]) - len(children[0].lstrip(" "))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    logical, resource = cloudformation_resource(denial, ref=role_logical)
    block = to_yaml({logical: resource}, indent=indent)
    before = "".join(lines[:end])
    if not before.endswith("\n"):
        before += "\n"
    return before + block + "".join(lines[end:])


__all__ = ["Iam", "cloudformation_problem", "terraform_problem"]
