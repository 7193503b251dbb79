"""The failure taxonomy: the exact category ids every component speaks."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    BUILD_DEPENDENCY = "build.dependency"
    BUILD_COMPILATION = "build.compilation"
    BUILD_TEST = "build.test"
    BUILD_LINT = "build.lint"
    DEPLOY_CONFIG = "deploy.config"
    DEPLOY_RESOURCES = "deploy.resources"
    DEPLOY_PERMISSION = "deploy.permission"
    DEPLOY_NETWORK = "deploy.network"
    INFRA_INSTANCE = "infra.instance"
    INFRA_CONTAINER = "infra.container"
    INFRA_DATABASE = "infra.database"
    INFRA_LOAD_BALANCER = "infra.load_balancer"
    SECURITY_CERTIFICATE = "security.certificate"
    SECURITY_IAM = "security.iam"
    SECURITY_SECRET = "security.secret"
    SECURITY_VULNERABILITY = "security.vulnerability"
    UNKNOWN = "unknown"

    @property
    def family(self) -> str:
        """The part before the dot: build, deploy, infra, security (or unknown)."""
        return self.value.split(".", 1)[0]


DESCRIPTIONS: dict[Category, str] = {
    Category.BUILD_DEPENDENCY: "dependencies could not be resolved or installed",
    Category.BUILD_COMPILATION: "the code does not compile or type-check",
    Category.BUILD_TEST: "tests failed",
    Category.BUILD_LINT: "a linter, formatter or static check failed",
    Category.DEPLOY_CONFIG: "a configuration or manifest is invalid",
    Category.DEPLOY_RESOURCES: "the job ran out of memory, disk, CPU, quota or time",
    Category.DEPLOY_PERMISSION: "the deploy identity is not allowed to do something",
    Category.DEPLOY_NETWORK: "a host could not be reached",
    Category.INFRA_INSTANCE: "an instance failed, stopped or became unreachable",
    Category.INFRA_CONTAINER: "a container crashed or could not start",
    Category.INFRA_DATABASE: "the database could not be reached or used",
    Category.INFRA_LOAD_BALANCER: "the load balancer has no healthy targets",
    Category.SECURITY_CERTIFICATE: "a certificate is expired, not yet valid or untrusted",
    Category.SECURITY_IAM: "cloud credentials are invalid or lack a permission",
    Category.SECURITY_SECRET: (
        "a secret or token is missing, empty or wrong, or a secret scanner found one leaked"
    ),
    Category.SECURITY_VULNERABILITY: (
        "a vulnerability scanner failed the build on vulnerable code or dependencies"
    ),
    Category.UNKNOWN: "the failure does not match a known category with enough confidence",
}
