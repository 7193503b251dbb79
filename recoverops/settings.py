"""The one settings object: every RECOVEROPS_* variable is read here, once, and passed down."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOVEROPS_", extra="ignore", frozen=True)

    home: Path = Path(".recoverops")
    # Extra signature folders an operator adds to the shipped catalogue (os.pathsep-separated).
    signatures_path: str = ""
    max_log_bytes: int = Field(default=256 * MIB, gt=0)
    # The analyzer reads this many lines before the failure point in depth; the rest of a huge
    # log is only scanned for step markers.
    analysis_window_lines: int = Field(default=20_000, gt=0)

    database_url: str | None = None
    redis_url: str | None = None
    # MLflow tracking and registry; unset: a SQLite store under `home` (`mlflow_tracking_uri`).
    mlflow_uri: str | None = None
    model_name: str = "recoverops-failure-classifier"
    # A challenger is promoted only if macro-F1 does not drop and no class's F1 drops by more
    # than this on the same held-out split.
    promote_max_class_drop: float = Field(default=0.05, ge=0.0, le=1.0)
    # Continuous retraining: a run starts when this many new labelled incidents arrived since the
    # last run, or every `retrain_interval_s` seconds when any did (0 turns the schedule off).
    # Labelled corpora (os.pathsep-separated folders) the retrainer learns from beside the store's
    # labelled incidents; empty: the incidents alone.
    retrain_data_path: str = ""
    retrain_min_new_labels: int = Field(default=50, gt=0)
    retrain_interval_s: float = Field(default=24 * 3600.0, ge=0.0)
    retrain_check_s: float = Field(default=60.0, gt=0.0)
    retrain_num_cpus: float = Field(default=1.0, gt=0.0)
    retrain_memory_mb: int = Field(default=2048, gt=0)
    # The remediation policy (YAML, `recoverops.remediation.policy`); unset: every action is a
    # dry run that is recorded and never carried out.
    policy: Path | None = None
    # How often a validation asks whether the target is healthy, and how long a remediator's
    # claim on an action lasts unless renewed (a dead remediator's actions resume after it).
    remediation_poll_s: float = Field(default=2.0, gt=0.0)
    remediation_lease_s: float = Field(default=60.0, gt=0.0)

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    github_webhook_secret: SecretStr | None = None
    gitlab_url: str | None = None
    gitlab_token: SecretStr | None = None
    gitlab_webhook_token: SecretStr | None = None
    jenkins_url: str | None = None
    jenkins_user: str | None = None
    jenkins_token: SecretStr | None = None
    jenkins_webhook_token: SecretStr | None = None
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    # The cluster the Kubernetes remediator acts on; unset: the in-cluster service account.
    kubeconfig: Path | None = None

    @property
    def mlflow_tracking_uri(self) -> str:
        if self.mlflow_uri:
            return self.mlflow_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifact_root(self) -> Path:
        return (self.home / "mlartifacts").resolve()

    @property
    def retrain_data_dirs(self) -> list[Path]:
        return [Path(p) for p in self.retrain_data_path.split(os.pathsep) if p]

    @property
    def extra_signature_dirs(self) -> list[Path]:
        return [Path(p) for p in self.signatures_path.split(os.pathsep) if p]
