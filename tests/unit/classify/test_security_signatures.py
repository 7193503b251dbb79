"""The security family through the rules alone: one-line (or short) excerpts in the wording the
tools, clouds and scanners document, with the CI prefixes real logs put in front of them.

Each case is what `recoverops analyze` must answer from the signatures, without the word model
(`analyze_text(..., word_model=False)`). The wordings come from the tools' documentation and
message catalogues (Go's crypto/x509, OpenSSL/curl, Python's ssl, the JDK, Node's TLS error
codes, .NET, cert-manager, Let's Encrypt, AWS/Azure/GCP error references, Kubernetes events,
sealed-secrets, external-secrets, SOPS, semantic-release, gitleaks, trufflehog, GitHub push
protection, Trivy, Grype, Snyk, npm/pnpm audit, pip-audit, safety, OSV-Scanner, govulncheck,
OWASP dependency-check, NuGet, Semgrep, Harbor) or from dev-side corpus texts
(`bench/corpus_quality.py --list-dev`); none is a validation- or test-side line.
"""

from __future__ import annotations

import pytest

from recoverops.detector import analyze_text

CERTIFICATE = "security.certificate"
IAM = "security.iam"
SECRET = "security.secret"
VULNERABILITY = "security.vulnerability"

CASES: list[tuple[str, str, str]] = [
    # ---- security.certificate --------------------------------------------------------------------
    (
        "go-expired",
        'Error: Get "https://registry.example.com/v2/": x509: certificate has expired or is not '
        "yet valid: current time 2024-01-10T10:00:00Z is after 2023-12-31T23:59:59Z",
        CERTIFICATE,
    ),
    (
        "go-wrong-host-with-step-prefix",
        'Step #2 - "deploy": Error: Post "https://api.example.com/apis": tls: failed to verify '
        "certificate: x509: certificate is valid for ingress.local, not api.example.com",
        CERTIFICATE,
    ),
    (
        "curl-local-issuer",
        "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        CERTIFICATE,
    ),
    (
        "python-verify-failed",
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
        "failed: unable to get local issuer certificate (_ssl.c:1006)",
        CERTIFICATE,
    ),
    (
        "java-pkix-in-maven-download",
        "[ERROR] Failed to execute goal on project app: Could not resolve dependencies for "
        "project com.example:app:jar:1.0: Could not transfer artifact "
        "org.slf4j:slf4j-api:jar:2.0.9 from/to mirror (https://repo.example.com/maven2): PKIX "
        "path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
        "unable to find valid certification path to requested target",
        CERTIFICATE,
    ),
    (
        "java-certificate-expired",
        "Caused by: java.security.cert.CertificateExpiredException: NotAfter: Sun Jan 01 "
        "00:00:00 UTC 2023",
        CERTIFICATE,
    ),
    (
        "node-leaf-signature",
        "Error: unable to verify the first certificate\n"
        "    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)\n"
        "  code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'\n}",
        CERTIFICATE,
    ),
    (
        "npm-self-signed-jenkins-timestamps",
        "17:16:08  npm ERR! code SELF_SIGNED_CERT_IN_CHAIN\n"
        "17:16:08  npm ERR! self signed certificate in certificate chain",
        CERTIFICATE,
    ),
    (
        "dotnet-untrusted-root",
        "System.Net.Http.HttpRequestException: The SSL connection could not be established, see "
        "inner exception.\n ---> System.Security.Authentication.AuthenticationException: The "
        "remote certificate is invalid because of errors in the certificate chain: UntrustedRoot",
        CERTIFICATE,
    ),
    (
        "cert-manager-challenge",
        "  Reason:      Waiting for HTTP-01 challenge propagation: wrong status code '404', "
        "expected '200'",
        CERTIFICATE,
    ),
    (
        "letsencrypt-rate-limit",
        "acme: urn:ietf:params:acme:error:rateLimited: Error creating new order :: too many "
        "certificates already issued for exact set of domains: example.com",
        CERTIFICATE,
    ),
    (
        "image-pull-on-registry-certificate",
        '  Warning  Failed   12s  kubelet  Failed to pull image "registry.internal:5000/app:1.2": '
        'rpc error: code = Unknown desc = failed to pull and unpack image "registry.internal:5000/'
        'app:1.2": failed to resolve reference "registry.internal:5000/app:1.2": failed to do '
        'request: Head "https://registry.internal:5000/v2/app/manifests/1.2": x509: certificate '
        "signed by unknown authority\n"
        "  Warning  Failed   12s  kubelet  Error: ErrImagePull",
        CERTIFICATE,
    ),
    (
        "acm-certificate-not-found",
        "Error: creating ELBv2 Listener: CertificateNotFound: Certificate "
        "'arn:aws:acm:us-east-1:123456789012:certificate/abc' not found",
        CERTIFICATE,
    ),
    (
        "kubelet-bootstrap-certificate-expired",
        "part of the existing bootstrap client certificate in /etc/kubernetes/kubelet.conf is "
        "expired: 2023-03-01 10:00:00 +0000 UTC",
        CERTIFICATE,
    ),
    (
        "nginx-key-mismatch",
        'nginx: [emerg] SSL_CTX_use_PrivateKey("/etc/nginx/ssl/tls.key") failed (SSL: '
        "error:05800074:x509 certificate routines::key values mismatch)",
        CERTIFICATE,
    ),
    (
        "kubeadm-check-expiration",
        "CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY"
        "   EXTERNALLY MANAGED\n"
        "admin.conf                 Dec 30, 2020 23:36 UTC   <invalid>       ca"
        "                      no",
        CERTIFICATE,
    ),
    # ---- security.iam ----------------------------------------------------------------------------
    (
        "aws-access-denied-exception-botocore",
        "botocore.errorfactory.AccessDeniedException: An error occurred (AccessDeniedException) "
        "when calling the CreateFunction operation: User: arn:aws:iam::123456789012:user/ci is "
        "not authorized to perform: lambda:CreateFunction",
        IAM,
    ),
    (
        "aws-java-error-code",
        "com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; "
        "Status Code: 403; Error Code: AccessDenied; Request ID: 8E4A1D2C3B4A5F6E)",
        IAM,
    ),
    (
        "aws-expired-token-terraform-box",
        "│ Error: reading S3 Bucket (site): ExpiredToken: The security token included in the "
        "request is expired",
        IAM,
    ),
    (
        "aws-oidc-provider-missing",
        "Error: No OpenIDConnect provider found in your account for "
        "https://token.actions.githubusercontent.com",
        IAM,
    ),
    (
        "azure-authorization-failed",
        "ERROR: (AuthorizationFailed) The client 'ci@example.com' with object id "
        "'1a2b3c4d-aaaa-bbbb-cccc-1234567890ab' does not have authorization to perform action "
        "'Microsoft.Resources/deployments/validate/action' over scope "
        "'/subscriptions/x/resourcegroups/rg' or the scope is invalid.",
        IAM,
    ),
    (
        "azure-aadsts-refresh-expired",
        'Get Token request returned http error: 400 and server response: {"error":'
        '"interaction_required","error_description":"AADSTS70043: The refresh token has expired '
        'or is invalid due to sign-in frequency checks by conditional access."}',
        IAM,
    ),
    (
        "azure-key-vault-access-policy",
        "(Forbidden) The user, group or application 'appid=1a2b;oid=5e6f' does not have secrets "
        "get permission on key vault 'kv-prod;location=westeurope'.",
        IAM,
    ),
    (
        "gcp-act-as",
        "ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'iam.serviceaccounts.actAs' "
        "denied on service account web@my-project.iam.gserviceaccount.com (or it may not exist).",
        IAM,
    ),
    (
        "gcp-storage-does-not-have-access",
        "com.google.cloud.storage.StorageException: ci@my-project.iam.gserviceaccount.com does "
        "not have storage.buckets.get access to the Google Cloud Storage bucket.",
        IAM,
    ),
    (
        "gcp-reauthentication",
        "ERROR: (gcloud.container.clusters.get-credentials) There was a problem refreshing your "
        "current auth tokens: Reauthentication failed. cannot prompt during non-interactive "
        "execution.",
        IAM,
    ),
    (
        "kubectl-must-be-logged-in",
        "error: You must be logged in to the server (Unauthorized)",
        IAM,
    ),
    (
        "artifact-registry-push-permission",
        'Step #1: denied: Permission "artifactregistry.repositories.uploadArtifacts" denied on '
        'resource "projects/p/locations/us/repositories/images" (or it may not exist)',
        IAM,
    ),
    (
        "ecs-secrets-manager-access-denied",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve secret from asm: failed to fetch secret "
        "arn:aws:secretsmanager:us-east-1:1:secret:db from secrets manager: "
        "AccessDeniedException: User: arn:aws:sts::1:assumed-role/ecsTaskExecutionRole/abc is not "
        "authorized to perform: secretsmanager:GetSecretValue on resource: "
        "arn:aws:secretsmanager:us-east-1:1:secret:db",
        IAM,
    ),
    (
        "azure-login-no-subscriptions",
        "Error: No subscriptions found for ***.",
        IAM,
    ),
    # ---- security.secret -------------------------------------------------------------------------
    (
        "k8s-secrets-plural-not-found",
        '  Warning  Failed     4m11s (x6 over 4m53s)  kubelet  Error: secrets "app-credentials" '
        "not found",
        SECRET,
    ),
    (
        "k8s-failed-mount-secret-not-found",
        "  Warning  FailedMount  11s (x7 over 43s)  kubelet  MountVolume.SetUp failed for volume "
        '"certs" : secret "webhook-tls" not found',
        SECRET,
    ),
    (
        "k8s-secret-key-missing",
        "  Warning  Failed  2s (x5 over 54s)  kubelet  Error: couldn't find key DB_PASSWORD in "
        "Secret prod/app-credentials",
        SECRET,
    ),
    (
        "gha-input-required",
        "##[error]Input required and not supplied: token",
        SECRET,
    ),
    (
        "aws-unable-to-locate-credentials",
        "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
        SECRET,
    ),
    (
        "terraform-no-valid-credential-sources",
        "│ Error: configuring Terraform AWS Provider: no valid credential sources for Terraform "
        "AWS Provider found.",
        SECRET,
    ),
    (
        "google-adc-missing",
        "Error: google: could not find default credentials. See "
        "https://cloud.google.com/docs/authentication/external/set-up-adc for more information",
        SECRET,
    ),
    (
        "sealed-secrets-unseal",
        "Error updating prod/db-creds, giving up: no key could decrypt secret (password)",
        SECRET,
    ),
    (
        "sops-data-key",
        "Failed to get the data key required to decrypt the SOPS file.",
        SECRET,
    ),
    (
        "semantic-release-no-token",
        "[semantic-release] › ✖  ENOGHTOKEN No GitHub token specified.",
        SECRET,
    ),
    (
        "registry-pull-unauthorized",
        'Failed to pull image "myregistry.azurecr.io/app:v2": rpc error: code = Unknown desc = '
        'Error response from daemon: Head "https://myregistry.azurecr.io/v2/app/manifests/v2": '
        "unauthorized: authentication required",
        SECRET,
    ),
    (
        "ghcr-token-not-accepted",
        "$ docker push ghcr.io/org/app:1.0\n"
        "unauthorized: unauthenticated: User cannot be authenticated with the token provided.",
        SECRET,
    ),
    (
        "gitleaks-leaks-found",
        "12:29AM INF 1478 commits scanned.\n12:29AM WRN leaks found: 1",
        SECRET,
    ),
    (
        "trufflehog-verified",
        "Found verified result 🐷🔑\nDetector Type: AWS\nDecoder Type: PLAIN",
        SECRET,
    ),
    (
        "github-push-protection",
        "remote: error: GH013: Repository rule violations found for refs/heads/main.\n"
        "remote:\n"
        "remote: - GITHUB PUSH PROTECTION\n"
        "remote:     Push cannot contain secrets",
        SECRET,
    ),
    (
        "bandit-hardcoded-password-is-a-secret",
        ">> Issue: [B105:hardcoded_password_string] Possible hardcoded password: 'hunter2'\n"
        "   Severity: Low   Confidence: Medium",
        SECRET,
    ),
    (
        "openai-invalid-key",
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key "
        "provided: sk-xxx.', 'code': 'invalid_api_key'}}",
        SECRET,
    ),
    (
        "ecs-secrets-manager-not-found",
        "CannotStartContainerError: ResourceInitializationError: unable to pull secrets or "
        "registry auth: execution resource retrieval failed: unable to retrieve secret from asm: "
        "failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:db from secrets "
        "manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.",
        SECRET,
    ),
    (
        "helm-repository-401",
        'Error: looks like "https://charts.example.com/" is not a valid chart repository or '
        "cannot be reached: failed to fetch https://charts.example.com/index.yaml : 401 "
        "Unauthorized",
        SECRET,
    ),
    # ---- security.vulnerability ------------------------------------------------------------------
    (
        "trivy-summary-with-prefix",
        'Step #3 - "scan": Total: 12 (UNKNOWN: 0, LOW: 2, MEDIUM: 5, HIGH: 4, CRITICAL: 1)',
        VULNERABILITY,
    ),
    (
        "grype-threshold",
        "[0015] ERROR discovered vulnerabilities at or above the severity threshold",
        VULNERABILITY,
    ),
    (
        "snyk-old-wording",
        "Tested 380 dependencies for known vulnerabilities, found 4 vulnerabilities, 27 "
        "vulnerable paths.",
        VULNERABILITY,
    ),
    (
        "npm-high-vulnerabilities-summary",
        "16 vulnerabilities (4 low, 1 moderate, 11 high)\n\n"
        "To address all issues (including breaking changes), run:\n"
        "  npm audit fix --force\n\n"
        "Run `npm audit` for details.",
        VULNERABILITY,
    ),
    (
        "pnpm-audit-severity",
        "17 vulnerabilities found\nSeverity: 4 low | 8 moderate | 5 high",
        VULNERABILITY,
    ),
    (
        "pip-audit-found",
        "Found 2 known vulnerabilities in 1 package\n"
        "Name   Version ID                  Fix Versions\n"
        "------ ------- ------------------- ------------\n"
        "jinja2 2.11.2  GHSA-g3rq-g295-4j3m 2.11.3",
        VULNERABILITY,
    ),
    (
        "osv-scanner-total",
        "Total 2 packages affected by 2 known vulnerabilities (1 Critical, 1 High, 0 Medium, "
        "0 Low, 0 Unknown) from 2 ecosystems.",
        VULNERABILITY,
    ),
    (
        "govulncheck-finding",
        "Vulnerability #1: GO-2023-2102\n"
        "    HTTP/2 rapid reset can cause excessive work in net/http\n"
        "    Found in: net/http@go1.20.1\n"
        "    Fixed in: net/http@go1.21.3",
        VULNERABILITY,
    ),
    (
        "owasp-dependency-check-cvss",
        "[ERROR] One or more dependencies were identified with vulnerabilities that have a CVSS "
        "score greater than or equal to '7.0': ",
        VULNERABILITY,
    ),
    (
        "nuget-audit",
        "error NU1903: Package 'System.Text.Json' 8.0.0 has a known high severity vulnerability, "
        "https://github.com/advisories/GHSA-hh2w-p6rv-4g7w",
        VULNERABILITY,
    ),
    (
        "gosec-finding",
        "[/app/main.go:42] - G104 (CWE-703): Errors unhandled. (Confidence: HIGH, Severity: LOW)",
        VULNERABILITY,
    ),
    (
        "semgrep-blocking",
        "Has findings for blocking rules so exiting with code 1",
        VULNERABILITY,
    ),
    (
        "harbor-vulnerability-policy",
        'Error response from daemon: unknown: current image with "3 vulnerabilities" cannot be '
        "pulled due to configured policy in 'Prevent images with vulnerability severity of "
        '"High" or higher from running.\'',
        VULNERABILITY,
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_security_excerpt_gets_its_category(text: str, expected: str) -> None:
    analysis = analyze_text(text, word_model=False)
    assert analysis.category.value == expected, [e.text for e in analysis.evidence]


# The boundaries the header comments of the catalogue files draw.
BOUNDARIES: list[tuple[str, str, str]] = [
    (
        "tls-handshake-timeout-is-network",
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: TLS '
        "handshake timeout",
        "deploy.network",
    ),
    (
        "registry-push-denied-is-permission",
        "denied: requested access to the resource is denied",
        "deploy.permission",
    ),
    (
        "rbac-forbidden-is-permission",
        'Error from server (Forbidden): deployments.apps "web" is forbidden: User '
        '"system:serviceaccount:ci:deployer" cannot patch resource "deployments" in API group '
        '"apps" in the namespace "prod"',
        "deploy.permission",
    ),
    (
        "database-password-is-database",
        'psql: error: connection to server at "db.internal" (10.0.0.5), port 5432 failed: '
        'FATAL:  password authentication failed for user "app"',
        "infra.database",
    ),
    (
        "clean-trivy-scan-is-not-a-failure",
        "Total: 0 (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0)",
        "unknown",
    ),
    (
        "clean-gitleaks-scan-is-not-a-failure",
        "10:04AM INF 52 commits scanned.\n10:04AM INF no leaks found",
        "unknown",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in BOUNDARIES], ids=[c[0] for c in BOUNDARIES]
)
def test_category_boundaries_hold(text: str, expected: str) -> None:
    assert analyze_text(text, word_model=False).category.value == expected


# Text a security signature must not claim: its wording is shared with another failure.
NOT_CLAIMED: list[tuple[str, str, str]] = [
    (
        "npm-moderate-vulnerabilities-alone-are-not-a-verdict",
        "added 312 packages, and audited 313 packages in 9s\n8 vulnerabilities (2 low, 6 moderate)",
        VULNERABILITY,
    ),
    (
        "ruleset-gh013-is-not-a-leaked-secret",
        "remote: error: GH013: Repository rule violations found for refs/heads/main.\n"
        "remote: - Changes must be made through a pull request.",
        SECRET,
    ),
    (
        "tls-handshake-timeout-is-not-a-certificate",
        "Unable to connect to the server: net/http: TLS handshake timeout",
        CERTIFICATE,
    ),
    (
        "github-token-scope-is-not-cloud-iam",
        "Error: Resource not accessible by integration",
        IAM,
    ),
]


@pytest.mark.parametrize(
    ("text", "not_expected"), [c[1:] for c in NOT_CLAIMED], ids=[c[0] for c in NOT_CLAIMED]
)
def test_shared_wording_is_not_claimed(text: str, not_expected: str) -> None:
    assert analyze_text(text, word_model=False).category.value != not_expected


def test_no_excerpt_quotes_a_test_side_line() -> None:
    """The excerpts are documentation or dev-side wording: none may be a test-side line."""
    from tests.unit.classify.test_sides import quotes_test_side

    quoted = [
        (case, line)
        for table in (CASES, BOUNDARIES, NOT_CLAIMED)
        for case, text, _ in table
        for line in text.split("\n")
        if line.strip() and quotes_test_side(line)
    ]
    assert not quoted
