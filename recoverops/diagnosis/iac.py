"""AWS access denials read from their documented message, and the policy that grants exactly the
missing action on exactly the resource, as Terraform and CloudFormation, validated.

The message, as the IAM User Guide documents it ("Troubleshoot access denied error messages")
and as the AWS CLI, the SDKs and Terraform's AWS provider print it:

    User: arn:aws:sts::111122223333:assumed-role/ci-deploy/run-42 is not authorized to perform:
    s3:GetObject on resource: "arn:aws:s3:::bucket/key" because no identity-based policy allows
    the s3:GetObject action

optionally ending in "with an explicit deny in a(n) <policy type>" or "because no <policy type>
allows the <action> action". The policy type says where the fix goes: an identity-based one on
the principal (`aws_iam_role_policy` / `AWS::IAM::Policy`), a resource-based one on the bucket
(`aws_s3_bucket_policy` / `AWS::S3::BucketPolicy`) or the KMS key's policy; an explicit deny
is never fixed by another allow, and an SCP, a permissions boundary or a session policy is
outside the repository. These are proposals only: nothing here changes IAM.

Validation: the Terraform text parses with python-hcl2; the CloudFormation template passes
cfn-lint with no error (warnings are allowed; cfn-lint is imported only when a snippet exists,
since it takes seconds to load).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

Document = dict[str, Any]
PolicyType = Literal[
    "identity-based",
    "resource-based",
    "service control",
    "resource control",
    "session",
    "permissions boundary",
    "VPC endpoint",
    "unknown",
]

_PRINCIPAL = r"(?P<principal>arn:aws[\w-]*:(?:iam|sts)::\d{12}:[\w+=,.@/\-]+)"
_DENIAL = re.compile(
    rf"(?:User|Principal): {_PRINCIPAL} is not authorized to perform:? (?P<action>[\w-]+:[\w*]+)"
    r"(?: on resource:? [\"']?(?P<resource>arn:aws[\w-]*:[^\s\"']+|\*)[\"']?)?"
    r"(?P<rest>.*)$"
)
_WHY_NONE = re.compile(
    r"because no (?P<type>identity-based|resource-based|service control|resource control"
    r"|session|permissions boundary|VPC endpoint)(?: policy| policies)? allows?"
)
_WHY_DENY = re.compile(
    r"with an explicit deny in (?:an? )?(?P<type>identity-based|resource-based|service control"
    r"|resource control|session|permissions boundary|VPC endpoint)"
)


@dataclass(frozen=True, slots=True)
class Denial:
    """One access denial: who, what action, on what, and which kind of policy said no."""

    principal_arn: str
    action: str
    resource: str
    policy: PolicyType
    explicit_deny: bool
    line: int

    @property
    def account(self) -> str:
        return self.principal_arn.split(":")[4]

    @property
    def principal(self) -> tuple[Literal["role", "user"], str] | None:
        """("role", name) or ("user", name); None for the root user or another principal."""
        kind_and_path = self.principal_arn.split(":", 5)[5]
        kind, _, rest = kind_and_path.partition("/")
        if kind == "assumed-role" and rest:
            return "role", rest.split("/")[0]
        if kind in ("role", "user") and rest:
            return kind, rest.rsplit("/", 1)[-1]  # type: ignore[return-value]
        return None

    @property
    def role_arn(self) -> str:
        """The IAM ARN of the principal (a session's role), as a resource policy names it."""
        found = self.principal
        if found is None:
            return self.principal_arn
        kind, name = found
        if self.principal_arn.split(":")[2] == "sts":
            return f"arn:aws:iam::{self.account}:role/{name}"
        return self.principal_arn

    @property
    def bucket(self) -> str | None:
        if not self.resource.startswith("arn:aws:s3:::"):
            return None
        return self.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0] or None

    @property
    def on_bucket_policy(self) -> bool:
        """Whether the fix is a statement of the bucket's own policy."""
        return self.policy == "resource-based" and self.bucket is not None


def find_denials(lines: list[tuple[int, str]]) -> list[Denial]:
    found: list[Denial] = []
    seen: set[tuple[str, str, str]] = set()
    for number, line in lines:
        if "not authorized to perform" not in line:
            continue
        match = _DENIAL.search(line)
        if match is None:
            continue
        rest = match["rest"] or ""
        deny = _WHY_DENY.search(rest)
        none = _WHY_NONE.search(rest)
        why = deny or none
        policy: PolicyType = why["type"] if why else "unknown"  # type: ignore[assignment]
        key = (match["principal"], match["action"], match["resource"] or "*")
        if key in seen:
            continue
        seen.add(key)
        found.append(
            Denial(
                principal_arn=match["principal"],
                action=match["action"],
                resource=(match["resource"] or "*").rstrip(".,;)"),
                policy=policy,
                explicit_deny=deny is not None,
                line=number,
            )
        )
    return found


def _slug(*parts: str) -> str:
    text = "_".join(parts).lower()
    return re.sub(r"[^a-z0-9_]+", "_", text).strip("_")[:60] or "grant"


def _logical(*parts: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)[:200] or "Grant"


def _hcl(value: str) -> str:
    """A Terraform string literal (JSON's escapes are HCL's, and `${` must not interpolate)."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def statement_sid(denial: Denial) -> str:
    return _logical("Allow", denial.action.replace(":", " "))[:100]


def terraform_snippet(denial: Denial, *, ref: str | None = None) -> str:
    """The Terraform that grants the denied action on the denied resource, where it belongs:
    the principal's inline policy, or the bucket's policy for a resource-based denial.
    `ref` is an expression naming the role or user (`aws_iam_role.deploy.id`) in a checkout."""
    if denial.on_bucket_policy:
        bucket = denial.bucket or ""
        name = _slug(bucket, "allow", denial.action)
        principals = (
            "    principals {\n"
            '      type        = "AWS"\n'
            f"      identifiers = [{_hcl(denial.role_arn)}]\n"
            "    }\n"
        )
        return (
            _policy_document(name, denial, principals=principals) + "\n"
            "# A bucket has one policy: merge this statement into the bucket's existing one\n"
            "# (source_policy_documents) rather than replacing it.\n"
            f'resource "aws_s3_bucket_policy" "{name}" {{\n'
            f"  bucket = {_hcl(bucket)}\n"
            f"  policy = data.aws_iam_policy_document.{name}.json\n"
            "}\n"
        )
    name = _slug(denial.principal[1] if denial.principal else "principal", denial.action)
    kind, who = denial.principal or ("role", "principal")
    holder = "aws_iam_user_policy" if kind == "user" else "aws_iam_role_policy"
    target = ref if ref is not None else _hcl(who)
    return (
        _policy_document(name, denial) + "\n"
        f'resource "{holder}" "{name}" {{\n'
        f"  name   = {_hcl(_slug('allow', denial.action).replace('_', '-'))}\n"
        f"  {kind:<6} = {target}\n"
        f"  policy = data.aws_iam_policy_document.{name}.json\n"
        "}\n"
    )


def _policy_document(name: str, denial: Denial, *, principals: str = "") -> str:
    """The `aws_iam_policy_document` of one statement allowing the denied action on the denied
    resource (to `principals`, an HCL block, in a resource-based policy)."""
    return (
        f'data "aws_iam_policy_document" "{name}" {{\n'
        "  statement {\n"
        f"    sid       = {_hcl(statement_sid(denial))}\n"
        '    effect    = "Allow"\n'
        f"    actions   = [{_hcl(denial.action)}]\n"
        f"    resources = [{_hcl(denial.resource)}]\n"
        f"{principals}"
        "  }\n"
        "}\n"
    )


def cloudformation_resource(denial: Denial, *, ref: str | None = None) -> tuple[str, Document]:
    """(logical id, resource) of the CloudFormation grant; `ref` is the logical id of an
    AWS::IAM::Role in the same template (then the policy names it with Ref)."""
    statement: Document = {
        "Sid": statement_sid(denial),
        "Effect": "Allow",
        "Action": denial.action,
        "Resource": denial.resource,
    }
    if denial.on_bucket_policy:
        statement["Principal"] = {"AWS": denial.role_arn}
        logical = _logical(denial.bucket or "", "Allow", denial.action.replace(":", " "))
        return logical, {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": denial.bucket,
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            },
        }
    kind, who = denial.principal or ("role", "principal")
    logical = _logical(who, "Allow", denial.action.replace(":", " "))
    holder: object = {"Ref": ref} if ref is not None and kind == "role" else who
    return logical, {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": _slug("allow", denial.action).replace("_", "-"),
            "Roles" if kind == "role" else "Users": [holder],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        },
    }


def cloudformation_snippet(denial: Denial) -> str:
    """A whole template (YAML) holding the grant, so that cfn-lint can check it alone."""
    logical, resource = cloudformation_resource(denial)
    return to_yaml({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {logical: resource}})


def to_yaml(document: object, *, indent: int = 0) -> str:
    """Block YAML of plain mappings, lists and strings; `{"Ref": x}` as `!Ref x`."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def ref(dumper: yaml.SafeDumper, data: _Ref) -> yaml.Node:
        return dumper.represent_scalar("!Ref", data.name)

    _Dumper.add_representer(_Ref, ref)
    text = yaml.dump(
        _with_refs(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=200
    )
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


@dataclass(frozen=True, slots=True)
class _Ref:
    name: str


def _with_refs(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return _Ref(value["Ref"])
        return {k: _with_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_refs(v) for v in value]
    return value


# -- validation --------------------------------------------------------------------------------


def terraform_problem(text: str) -> str | None:
    """Why `text` is not valid HCL, or None."""
    import hcl2

    try:
        hcl2.loads(text)
    except Exception as error:  # lark's errors and hcl2's own: any of them means it does not parse
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"the Terraform does not parse: {first[:200]}"
    return None


def cloudformation_problem(text: str) -> str | None:
    """Why `text` is not a valid CloudFormation template (cfn-lint's first error), or None."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(text, config=ManualArgs(regions=["us-east-1"]))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    if not errors:
        return None
    first = errors[0]
    return f"cfn-lint {first.rule.id}: {first.message[:200]}"


_TEMPLATE_VERSION = re.compile(r"^[\"']?AWSTemplateFormatVersion[\"']?\s*:", re.M)
_TOP_RESOURCES = re.compile(r"^[\"']?Resources[\"']?\s*:", re.M)
_AWS_TYPE = re.compile(r"[\"']?Type[\"']?\s*:\s*[\"']?AWS::")


def is_cloudformation(text: str) -> bool:
    """A template: its format version at the top level, or top-level Resources of AWS types
    (a workflow that merely quotes a template in a script is not one)."""
    if _TEMPLATE_VERSION.search(text):
        return True
    if text.lstrip().startswith("{"):  # a JSON template
        return '"AWSTemplateFormatVersion"' in text or ('"Resources"' in text and '"AWS::' in text)
    return _TOP_RESOURCES.search(text) is not None and _AWS_TYPE.search(text) is not None
