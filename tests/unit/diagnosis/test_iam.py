"""IAM and S3 policy denials: the grant of exactly the denied action on the denied resource, as
Terraform (parsed with python-hcl2) and CloudFormation (cfn-lint), and a patch to the checkout's
file that defines the role. The log lines are written here in the formats the IAM User Guide
documents ("Troubleshoot access denied error messages") as the AWS CLI and Terraform print them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest
import yaml
from cfnlint.decode.decode import decode_str

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import Checkout, diagnose, diagnose_text
from recoverops.diagnosis.iac import cloudformation_problem, terraform_problem
from recoverops.diagnosis.model import FixProposal
from recoverops.diagnosis.patch import apply, parse
from recoverops.diagnosis.validate import check_text, validate

ROLE = "arn:aws:sts::123456789012:assumed-role/ci-deploy/GitHubActions"
OBJECT = "arn:aws:s3:::acme-artifacts/releases/app-1.4.2.tar.gz"
CLI_LOG = f"""Run aws s3 cp s3://acme-artifacts/releases/app-1.4.2.tar.gz .
download failed: s3://acme-artifacts/releases/app-1.4.2.tar.gz to ./app-1.4.2.tar.gz An error \
occurred (AccessDenied) when calling the GetObject operation: User: {ROLE} is not authorized to \
perform: s3:GetObject on resource: "{OBJECT}" because no identity-based policy allows the \
s3:GetObject action
##[error]Process completed with exit code 1.
"""
TERRAFORM_KMS_LOG = """aws_ssm_parameter.db_password: Refreshing state... [id=/prod/db/password]

Error: reading SSM Parameter (/prod/db/password): operation error SSM: GetParameter, https \
response error StatusCode: 400, RequestID: 2f1c0b9e-7d51-4a3b-9a0e-5c8d1e6f4a21, api error \
AccessDeniedException: User: arn:aws:iam::123456789012:user/terraform-ci is not authorized to \
perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:123456789012:key/\
1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Decrypt action

  with aws_ssm_parameter.db_password,
  on main.tf line 12, in resource "aws_ssm_parameter" "db_password":
  12: resource "aws_ssm_parameter" "db_password" {
"""


def fix_of(log: str, repo: Path | None = None) -> FixProposal:
    analysis = analyze_text(log)
    checkout = Checkout(repo) if repo is not None else None
    _, proposals = diagnose_text(analysis, text=log, checkout=checkout)
    iam = [p for p in proposals if p.kind == "iam"]
    assert iam, [p.kind for p in proposals]
    return iam[0]


def statements_of_terraform(snippet: str) -> list[dict[str, object]]:
    parsed = hcl2.loads(snippet)
    document = parsed["data"][0]['"aws_iam_policy_document"']
    (body,) = document.values()
    statements: list[dict[str, object]] = body["statement"]
    return statements


def cfn_resources(template: str) -> dict[str, dict[str, object]]:
    decoded, problems = decode_str(template)
    assert not problems
    resources: dict[str, dict[str, object]] = decoded["Resources"]
    return resources


def test_an_identity_denial_gets_exactly_its_grant_in_terraform_and_cloudformation() -> None:
    fix = fix_of(CLI_LOG)
    assert fix.patch is None and fix.files == ()
    assert "role `ci-deploy`" in fix.explanation and "s3:GetObject" in fix.explanation
    terraform = fix.snippets["terraform"]
    assert terraform_problem(terraform) is None
    (statement,) = statements_of_terraform(terraform)
    assert statement["actions"] == ['"s3:GetObject"']
    assert statement["resources"] == [f'"{OBJECT}"']
    policy = hcl2.loads(terraform)["resource"][0]['"aws_iam_role_policy"']
    assert list(policy.values())[0]["role"] == '"ci-deploy"'
    template = fix.snippets["cloudformation"]
    assert cloudformation_problem(template) is None
    (resource,) = cfn_resources(template).values()
    assert resource["Type"] == "AWS::IAM::Policy"
    properties = resource["Properties"]
    assert isinstance(properties, dict) and properties["Roles"] == ["ci-deploy"]
    (granted,) = properties["PolicyDocument"]["Statement"]
    assert (granted["Effect"], granted["Action"], granted["Resource"]) == (
        "Allow",
        "s3:GetObject",
        OBJECT,
    )


def test_a_terraform_kms_denial_of_a_user_is_granted_on_the_key() -> None:
    fix = fix_of(TERRAFORM_KMS_LOG)
    terraform = fix.snippets["terraform"]
    (statement,) = statements_of_terraform(terraform)
    assert statement["actions"] == ['"kms:Decrypt"']
    assert statement["resources"][0].startswith('"arn:aws:kms:eu-west-1:123456789012:key/')  # type: ignore[index]
    assert "aws_iam_user_policy" in terraform and '"terraform-ci"' in terraform
    assert "key policy" in " ".join(fix.actions)
    (resource,) = cfn_resources(fix.snippets["cloudformation"]).values()
    assert resource["Properties"]["Users"] == ["terraform-ci"]  # type: ignore[index]


def test_a_denial_without_a_reason_is_granted_with_less_confidence() -> None:
    log = (
        "An error occurred (AccessDenied) when calling the ListRoles operation: User: "
        "arn:aws:iam::123456789012:user/auditor is not authorized to perform: iam:ListRoles"
        ' on resource: "arn:aws:iam::123456789012:role/"\n'
    )
    fix = fix_of(log)
    assert fix.confidence < 0.8 and "does not say which policy" in fix.explanation
    (statement,) = statements_of_terraform(fix.snippets["terraform"])
    assert statement["actions"] == ['"iam:ListRoles"']


def test_a_bucket_policy_denial_is_granted_in_the_bucket_policy_to_the_role() -> None:
    log = (
        "upload failed: dist/site.zip to s3://partner-drop/incoming/site.zip An error occurred"
        f" (AccessDenied) when calling the PutObject operation: User: {ROLE} is not authorized"
        ' to perform: s3:PutObject on resource: "arn:aws:s3:::partner-drop/incoming/site.zip"'
        " because no resource-based policy allows the s3:PutObject action\n"
    )
    fix = fix_of(log)
    assert "bucket `partner-drop`" in fix.explanation
    parsed = hcl2.loads(fix.snippets["terraform"])
    bucket_policy = list(parsed["resource"][0]['"aws_s3_bucket_policy"'].values())[0]
    assert bucket_policy["bucket"] == '"partner-drop"'
    (statement,) = statements_of_terraform(fix.snippets["terraform"])
    assert statement["principals"][0]["identifiers"] == [  # type: ignore[index]
        '"arn:aws:iam::123456789012:role/ci-deploy"'
    ]
    (resource,) = cfn_resources(fix.snippets["cloudformation"]).values()
    assert resource["Type"] == "AWS::S3::BucketPolicy"
    (granted,) = resource["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[index]
    assert granted["Principal"] == {"AWS": "arn:aws:iam::123456789012:role/ci-deploy"}
    assert granted["Action"] == "s3:PutObject"


@pytest.mark.parametrize(
    ("ending", "said"),
    [
        ("with an explicit deny in an identity-based policy", "explicit Deny"),
        ("with an explicit deny in a resource-based policy", "bucket `acme-artifacts`'s policy"),
        ("with an explicit deny in a service control policy", "service control policies"),
        ("because no permissions boundary allows the s3:GetObject action", "permissions boundary"),
    ],
)
def test_a_deny_or_a_policy_outside_the_repository_gets_no_grant(ending: str, said: str) -> None:
    log = CLI_LOG.replace("because no identity-based policy allows the s3:GetObject action", ending)
    fix = fix_of(log)
    assert fix.snippets == {} and fix.patch is None
    assert said in fix.explanation


ROLE_TF = """resource "aws_iam_role" "deploy" {
  name               = "ci-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_oidc.json
}

resource "aws_iam_role" "reader" {
  name               = "ci-reader"
  assume_role_policy = data.aws_iam_policy_document.github_oidc.json
}
"""
ROLE_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Description: CI roles
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: ci-deploy
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Federated: !Sub arn:aws:iam::${AWS::AccountId}:oidc-provider/example.com
            Action: sts:AssumeRoleWithWebIdentity
Outputs:
  DeployRoleArn:
    Value: !GetAtt DeployRole.Arn
"""


def test_with_a_checkout_the_grant_is_a_patch_to_the_terraform_that_defines_the_role(
    tmp_path: Path,
) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "iam.tf").write_text(ROLE_TF)
    fix = fix_of(CLI_LOG, repo=tmp_path)
    assert fix.files == ("infra/iam.tf",) and fix.patch is not None
    assert validate(fix).ok
    (diff,) = parse(fix.patch)
    patched = apply(diff, ROLE_TF)
    assert patched.startswith(ROLE_TF.rstrip("\n"))  # nothing of the file changes but the grant
    assert "role   = aws_iam_role.deploy.id" in patched
    assert terraform_problem(patched) is None
    assert "terraform" in fix.snippets  # still there to copy elsewhere


def test_with_a_checkout_the_grant_is_a_patch_to_the_template_that_defines_the_role(
    tmp_path: Path,
) -> None:
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "roles.yaml").write_text(ROLE_TEMPLATE)
    fix = fix_of(CLI_LOG, repo=tmp_path)
    assert fix.files == ("cfn/roles.yaml",) and fix.patch is not None
    assert validate(fix).ok
    patched = apply(parse(fix.patch)[0], ROLE_TEMPLATE)
    assert cloudformation_problem(patched) is None
    resources = cfn_resources(patched)
    policy = resources["CiDeployAllowS3GetObject"]
    assert policy["Properties"]["Roles"] == [{"Ref": "DeployRole"}]  # type: ignore[index]
    assert "Outputs:" in patched and "!GetAtt DeployRole.Arn" in patched


def test_validation_refuses_broken_terraform_and_an_invalid_template() -> None:
    assert not check_text("main.tf", 'resource "aws_iam_role" "x" {\n  name = \n}\n').ok
    broken = ROLE_TEMPLATE.replace("Type: AWS::IAM::Role", "Type: AWS::IAM::Rolle")
    verdict = check_text("roles.yaml", broken)
    assert not verdict.ok and "cfn-lint" in verdict.reason
    assert check_text("roles.yaml", ROLE_TEMPLATE).ok  # its !Sub and !GetAtt are fine
    # A workflow that quotes a template in a script is a workflow, checked as one.
    workflow = (
        "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n          cat > t.yaml <<EOF\n          Resources:\n"
        "            B:\n              Type: AWS::S3::Bucket\n          EOF\n"
    )
    assert check_text(".github/workflows/deploy.yml", workflow).ok
    assert not check_text(".github/workflows/deploy.yml", "on: push\n").ok


def test_a_patch_that_breaks_the_terraform_is_not_shown(tmp_path: Path) -> None:
    # The role's file does not parse (an unclosed block): the grant appended to it cannot be
    # validated, so the proposal keeps its snippets and loses the patch, saying why.
    (tmp_path / "iam.tf").write_text(ROLE_TF + 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n')
    analysis = diagnose(analyze_text(CLI_LOG), text=CLI_LOG, repo=tmp_path)
    fix = analysis.fix
    assert isinstance(fix, FixProposal) and fix.kind == "iam"
    assert fix.patch is None and "No patch" in fix.explanation and "terraform" in fix.snippets


def test_analyze_json_with_repo_in_a_subprocess(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "iam.tf").write_text(ROLE_TF)
    log = tmp_path / "job.log"
    log.write_text(CLI_LOG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVEROPS_")}
    env["RECOVEROPS_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recoverops.cli.main",
            "analyze",
            "--json",
            str(log),
            "--repo",
            str(repo),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["category"] == "security.iam"
    fix = result["fix"]
    assert fix["kind"] == "iam" and fix["files"] == ["iam.tf"]
    assert "+  role   = aws_iam_role.deploy.id" in fix["patch"]
    assert set(fix["snippets"]) == {"terraform", "cloudformation"}
    assert yaml.safe_load(fix["snippets"]["cloudformation"])["Resources"]
    resource_names = [c["name"] for c in result["root_cause"]["components"]]
    assert "role/ci-deploy" in resource_names


def test_a_log_without_a_denial_gets_no_iam_fix() -> None:
    log = "Error: creating S3 Bucket (acme-artifacts): BucketAlreadyExists\n"
    analysis: Analysis = analyze_text(log)
    _, proposals = diagnose_text(analysis, text=log)
    assert all(p.kind != "iam" for p in proposals)
