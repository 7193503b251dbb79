"""The rules alone recognise the four deploy categories on the wording tools and clouds document.

Each excerpt is a tool's documented message or dev-side corpus wording (never a validation- or
test-side line), run through `analyze_text(..., word_model=False)`: the signatures, not the word
model, must name the category.
"""

from __future__ import annotations

import pytest

from recoverops.detector import analyze_text

CONFIG = "deploy.config"
NETWORK = "deploy.network"
PERMISSION = "deploy.permission"
RESOURCES = "deploy.resources"

CASES: list[tuple[str, str, str]] = [
    # ---- deploy.config ---------------------------------------------------------------------------
    ("kustomize unknown field", 'Error: json: unknown field "patch"', CONFIG),
    (
        "kustomize accumulation",
        "Error: accumulating resources: accumulation err='accumulating resources from "
        "'../base': '/app/base' must resolve to a file'",
        CONFIG,
    ),
    (
        "kubectl required value",
        'The Deployment "web" is invalid: spec.template.spec.containers[0].image: Required value',
        CONFIG,
    ),
    (
        "selector immutable, wrapped",
        "install strategy failed: Deployment.apps\n"
        '"operator-controller-manager" is invalid: spec.selector:\n'
        "Invalid value:\n"
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        CONFIG,
    ),
    (
        "terraform behind a Cloud Build step prefix",
        'Step #4 - "validate": │ Error: Unsupported argument\n'
        'Step #4 - "validate": │ An argument named "dspm" is not expected here.',
        CONFIG,
    ),
    (
        "helm required value",
        "Error: INSTALLATION FAILED: execution error at (app/templates/secret.yaml:7:20): "
        "a database password is required",
        CONFIG,
    ),
    (
        "cloudformation unresolved dependency",
        "An error occurred (ValidationError) when calling the CreateStack operation: Template "
        "format error: Unresolved resource dependencies [AppBucket] in the Resources block",
        CONFIG,
    ),
    (
        "arm template",
        'ERROR: {"code": "InvalidTemplate", "message": "Deployment template validation failed: '
        "'The template parameter 'vmSize' is not valid.'\"}",
        CONFIG,
    ),
    (
        "gitlab stage",
        "Error: pages job: stage parameter should be .pre, build, test, deploy, .post",
        CONFIG,
    ),
    (
        "missing ConfigMap key",
        "  Warning  Failed  2s (x5 over 54s)  kubelet  Error: couldn't find key LOG_LEVEL in "
        "ConfigMap default/app-config",
        CONFIG,
    ),
    (
        "quota needs limits",
        '  Warning  FailedCreate  1m  job-controller  Error creating: pods "migrate-x" is '
        "forbidden: failed quota: team-quota: must specify limits.cpu,limits.memory",
        CONFIG,
    ),
    # ---- deploy.network --------------------------------------------------------------------------
    (
        "terraform registry timeout, not a missing provider",
        "│ Error: Failed to query available provider packages\n"
        "│ \n"
        "│ Could not retrieve the list of available versions for provider hashicorp/aws: could not "
        "query\n"
        "│ provider registry for registry.terraform.io/hashicorp/aws: the request failed after 2 "
        "attempts,\n"
        '│ please try again later: Get "https://registry.terraform.io/v1/providers/hashicorp/aws/'
        'versions":\n'
        "│ net/http: request canceled while waiting for connection (Client.Timeout exceeded while "
        "awaiting\n"
        "│ headers)",
        NETWORK,
    ),
    (
        "apt mirror unresolvable, then packages missing",
        "W: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/jammy/InRelease  Temporary "
        "failure resolving 'archive.ubuntu.com'\n"
        "W: Some index files failed to download. They have been ignored, or old ones used "
        "instead.\n"
        "E: Unable to locate package libelf-dev",
        NETWORK,
    ),
    (
        "image pull rate-limited",
        '  Warning  Failed   16s (x2 over 90s)  kubelet  Failed to pull image "library/nginx:1.25":'
        " rpc error: code = Unknown desc = toomanyrequests: You have reached your pull rate limit."
        "\n  Warning  Failed   16s (x2 over 90s)  kubelet  Error: ErrImagePull\n"
        "  Normal   BackOff  4s (x2 over 89s)   kubelet  Back-off pulling image "
        '"library/nginx:1.25"',
        NETWORK,
    ),
    (
        "dns server refused",
        'Error: looks like "https://charts.example.org/" is not a valid chart repository or cannot '
        'be reached: Get "https://charts.example.org/index.yaml": dial tcp: lookup '
        "charts.example.org on [::1]:53: read udp [::1]:35408->[::1]:53: read: connection refused",
        NETWORK,
    ),
    (
        "registry reset",
        "ERROR: Error: Get http://localhost:5000/v2/: read tcp [::1]:57170->[::1]:5000: read: "
        "connection reset by peer",
        NETWORK,
    ),
    (
        "maven repository unreachable",
        "[ERROR] Failed to execute goal on project app: Could not resolve dependencies for "
        "project com.example:app:jar:1.0: Could not transfer artifact "
        "org.slf4j:slf4j-api:jar:2.0.9 from/to central (https://repo.maven.apache.org/maven2): "
        "Connect to repo.maven.apache.org:443 "
        "[repo.maven.apache.org/151.101.0.215] failed: Connection timed out",
        NETWORK,
    ),
    (
        "azure throttling",
        'Code="SubscriptionRequestsThrottled" Message="Number of \'read\' requests for '
        "subscription '0000' actor 'a1b2' exceeded. Please try again after '5' seconds.\"",
        NETWORK,
    ),
    # ---- deploy.permission -----------------------------------------------------------------------
    (
        "rbac escaped quotes",
        'time="2019-11-25T16:30:34Z" level=error msg="namespaces is forbidden: User '
        '\\"system:serviceaccount:kube-system:pdb-controller\\" cannot list resource '
        '\\"namespaces\\" in API group \\"\\" at the cluster scope"',
        PERMISSION,
    ),
    (
        "rbac older wording",
        'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:'
        'default" cannot list pods in the namespace "kube-system"',
        PERMISSION,
    ),
    (
        "azure devops git permission",
        "remote: TF401027: You need the Git 'GenericContribute' permission to perform this action. "
        "Details: identity 'Build\\0000', scope 'repository'.",
        PERMISSION,
    ),
    (
        "gitlab protected branch",
        "remote: GitLab: You are not allowed to push code to protected branches on this project.",
        PERMISSION,
    ),
    (
        "workflow permissions",
        "The nested job 'deploy' is requesting 'contents: write', but is only allowed "
        "'contents: read'.",
        PERMISSION,
    ),
    ("read-only file system", "mkdir /var/lib/app: read-only file system", PERMISSION),
    (
        "pypi upload refused",
        "HTTPError: 403 Forbidden from https://upload.pypi.org/legacy/ The user 'ci-bot' isn't "
        "allowed to upload to project 'example'.",
        PERMISSION,
    ),
    # ---- deploy.resources ------------------------------------------------------------------------
    (
        "azure core quota",
        '{"code":"DeploymentFailed","details":[{"code":"Conflict","message":"{\\r\\n  \\"error\\": '
        '{\\r\\n    \\"code\\": \\"OperationNotAllowed\\",\\r\\n    \\"message\\": \\"Operation '
        "results in exceeding quota limits of Core. Maximum allowed: 10, Current in use: 10, "
        'Additional requested: 2.\\"}}"}]}',
        RESOURCES,
    ),
    (
        "aws vcpu limit",
        "Error: creating EC2 Instance: VcpuLimitExceeded: You have requested more vCPU capacity "
        "than your current vCPU limit of 32 allows for the instance bucket.",
        RESOURCES,
    ),
    (
        "scale-up not triggered",
        "  Normal   NotTriggerScaleUp  2m  cluster-autoscaler  pod didn't trigger scale-up: "
        "2 node(s) didn't match Pod's node affinity/selector",
        RESOURCES,
    ),
    (
        "ephemeral storage eviction",
        "  Warning  Evicted  1m  kubelet  Pod ephemeral local storage usage exceeds the total "
        "limit of containers 1Gi.",
        RESOURCES,
    ),
    (
        "volume attach",
        "  Warning  FailedAttachVolume  2m  attachdetach-controller  AttachVolume.Attach failed "
        'for volume "pvc-1f2e" : rpc error: code = Internal desc = Could not attach volume',
        RESOURCES,
    ),
    (
        "github spending limit",
        "The job was not started because recent account payments have failed or your spending "
        "limit needs to be increased. Please check the 'Billing & plans' section in your settings.",
        RESOURCES,
    ),
    (
        "rust build killed",
        "error: could not compile `app` (lib); process didn't exit successfully: `rustc "
        "--crate-name app` (signal: 9, SIGKILL: kill)",
        RESOURCES,
    ),
    ("step timeout", "##[error]The action has timed out.", RESOURCES),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_rules_name_the_deploy_category(text: str, expected: str) -> None:
    analysis = analyze_text(text, word_model=False)
    assert analysis.category.value == expected


@pytest.mark.parametrize(
    "text",
    [
        # A retry that may still succeed, a package the registry answered does not exist, and a
        # certificate verdict are not deploy.network.
        "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) "
        "after connection broken by 'NewConnectionError(': Failed to establish a new connection: "
        "[Errno -3] Temporary failure in name resolution')': /simple/flask/",
        "E: Failed to fetch http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1_amd64.deb  "
        "404  Not Found [IP: 151.101.2.132 80]",
        "Unable to connect to the server: x509: certificate signed by unknown authority",
    ],
)
def test_near_misses_are_not_deploy_network(text: str) -> None:
    assert analyze_text(text, word_model=False).category.value != NETWORK


def test_every_category_has_three_cases() -> None:
    for category in (CONFIG, NETWORK, PERMISSION, RESOURCES):
        assert sum(1 for *_, expected in CASES if expected == category) >= 3
