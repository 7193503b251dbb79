"""`recoverops up`: the whole system on this machine, with its embedded defaults.

Local Ray, the HTTP app on Ray Serve, the classifier deployment, the pipeline's actors (source
actors, the detector pool, the analyzer, the remediators; see `recoverops.actors`), and the
dashboard; it prints where each is and stops them all on Ctrl-C or SIGTERM.

The classifier starts whether or not the MLflow store has a champion yet: until one exists it
answers "no model" and the detector and `POST /analyze` use the rules alone; the first
`recoverops train` that promotes is picked up by its alias polling, with no restart.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    check_sign_in,
    help_formatter,
    load_settings,
    open_store,
    say,
    settings_epilog,
    whole_number,
)
from recoverops.errors import RecoverOpsError
from recoverops.settings import Settings, variable

# The dashboard is a Streamlit script in the source tree, next to the package.
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


READS = (
    "env",
    "home",
    "log_format",
    "log_level",
    "tracing_endpoint",
    "database_url",
    "redis_url",
    "mlflow_uri",
    "model_name",
    "signatures_path",
    "max_log_bytes",
    "analysis_window_lines",
    "analyze_concurrency",
    "max_attempts",
    "github_token",
    "github_api_url",
    "github_webhook_secret",
    "gitlab_url",
    "gitlab_token",
    "gitlab_webhook_token",
    "jenkins_url",
    "jenkins_user",
    "jenkins_token",
    "jenkins_webhook_token",
    "aws_sns_topic_arns",
    "aws_sns_dev_cert_host",
    "promote_max_class_drop",
    "retrain_data_path",
    "retrain_min_new_labels",
    "retrain_interval_s",
    "retrain_check_s",
    "retrain_num_cpus",
    "retrain_memory_mb",
    "kubeconfig",
    "aws_log_groups",
    "aws_log_poll_s",
    "aws_log_batch",
    "auth_secret",
    "auth_secret_file",
    "oidc_issuer",
    "oidc_audience",
    "oidc_jwks_url",
    "oidc_role_claim",
    "oidc_jwks_cache_s",
)


def watchers_of(settings: Settings) -> tuple[str, ...]:
    """The watching sources the settings ask for: Kubernetes with a kubeconfig, CloudWatch
    Logs with log groups to follow."""
    wanted = {
        "kubernetes": settings.kubeconfig is not None,
        "cloudwatch": bool(settings.aws_log_groups),
    }
    return tuple(name for name, on in wanted.items() if on)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "up",
        help="run the whole system on this machine: API, workers, classifier, dashboard",
        description=(
            "Start local Ray, the HTTP API on Ray Serve, the classifier deployment (it follows\n"
            "the registry's @champion), the detector workers that fetch each failed job's log\n"
            "and analyze it, the retrainer, and the dashboard. With no setting, everything is\n"
            "embedded: SQLite and the outbox queue under RECOVEROPS_HOME. The settings are\n"
            "checked and the store opened before anything starts. Ctrl-C or SIGTERM stops all.\n\n"
            "Exit codes: 0 stopped, 3 an invalid setting or a store that cannot be opened."
        ),
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address of the HTTP API")
    parser.add_argument("--port", type=int, default=8000, help="port of the HTTP API")
    parser.add_argument("--dashboard-port", type=int, default=8501, help="0: no dashboard")
    parser.add_argument("--cpus", type=whole_number(1), default=2, help="CPUs Ray may use")
    parser.add_argument(
        "--ingress-replicas",
        type=whole_number(1),
        default=1,
        help="replicas of the HTTP API, one process each (bench/ingest.py measures 1 and 2)",
    )
    parser.add_argument(
        "--detectors",
        type=whole_number(1),
        default=2,  # PoolConfig().detectors; not imported here: the CLI imports Ray lazily
        help="detector actors on the queue, one process each (bench/detect.py measures 1 and 2)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None or not check_sign_in(settings) or not open_store(settings):
        return EXIT_CONFIG
    from recoverops.remediation.engine import load_configured_policy

    try:  # refused here, with its file and line, rather than by every remediator actor
        policy = load_configured_policy(settings)
    except RecoverOpsError as error:
        say(f"invalid policy: {error}")
        return EXIT_CONFIG
    import ray
    from ray import serve

    from recoverops.actors import DetectorConfig, PoolConfig, start_supervisor
    from recoverops.actors.retrainer import start_retrainer
    from recoverops.observability.setup import set_up
    from recoverops.serve.classifier import APP_NAME, classifier_application
    from recoverops.serve.ray_app import serve_application

    dashboard: subprocess.Popen[bytes] | None = None
    set_up(settings)
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    # After ray.init, which installs its own handlers: a signal must stop us cleanly.
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        classifier = serve.run(classifier_application(settings), name=APP_NAME, route_prefix=None)
        serve.run(
            serve_application(settings, replicas=args.ingress_replicas, classifier=APP_NAME),
            name="recoverops",
            route_prefix="/",
        )
        supervisor, detectors = start_supervisor(
            settings,
            config=PoolConfig(
                detectors=args.detectors,
                detector=DetectorConfig(classifier=APP_NAME),
                # Without a policy every action is a dry run, and only CI incidents plan any:
                # the Kubernetes and AWS remediators (a process each) start with a policy.
                extra_remediators=() if policy is None else ("kubernetes", "aws"),
                watchers=watchers_of(settings),
            ),
        )
        serving = classifier.status.remote().result(timeout_s=60)["model"]
        say(f"classifier: {serving} (follows {settings.model_name}@champion)")
        say(f"API on http://{args.host}:{args.port} (docs at /docs)")
        say(
            f"{len(detectors)} detectors on the queue, the analyzer, and a source actor and a"
            f" remediator per CI system (and Kubernetes and AWS with a policy); data under"
            f" {settings.home}"
        )
        if settings.kubeconfig is not None:
            say(f"watching Kubernetes pods, events, Jobs and nodes through {settings.kubeconfig}")
        if settings.aws_log_groups:
            groups = ", ".join(entry.partition(":")[0] for entry in settings.aws_log_groups)
            say(f"following CloudWatch log groups {groups}")
        say(
            "remediation: dry run (RECOVEROPS_POLICY is not set)"
            if policy is None
            else f"remediation policy: {settings.policy} ({len(policy.rules)} rules)"
        )
        retrainer = start_retrainer(settings)
        say(
            f"retrainer: a training run per {settings.retrain_min_new_labels} new labels"
            f" (checked every {settings.retrain_check_s:g}s)"
        )
        unsigned = [
            variable(name)
            for name in ("github_webhook_secret", "gitlab_webhook_token", "jenkins_webhook_token")
            if getattr(settings, name) is None
        ]
        if unsigned and settings.development:
            say(
                "webhooks: unsigned deliveries accepted (RECOVEROPS_ENV=development) where no "
                f"secret is set: {', '.join(unsigned)}"
            )
        elif unsigned:
            say(f"webhooks refuse every delivery until their secret is set: {', '.join(unsigned)}")
        if args.dashboard_port and DASHBOARD.is_file():
            api_url = f"http://{args.host}:{args.port}"
            dashboard = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    str(DASHBOARD),
                    "--server.headless",
                    "true",
                    "--server.address",
                    args.host,
                    "--server.port",
                    str(args.dashboard_port),
                    "--browser.gatherUsageStats",
                    "false",
                ],
                # The dashboard reads the API this command started, and no other.
                env={**os.environ, variable("dashboard_api_url"): api_url},
            )
            say(f"dashboard on http://{args.host}:{args.dashboard_port} (reading {api_url})")
        say("ready; Ctrl-C or SIGTERM stops everything")
        stop.wait()
        say("stopping")
        ray.get(retrainer.stop.remote(), timeout=30)
        ray.get(supervisor.stop.remote(), timeout=60)
    except RecoverOpsError as error:
        say(f"cannot start: {error}")
        return EXIT_CONFIG
    finally:
        if dashboard is not None:
            dashboard.terminate()
            dashboard.wait(timeout=30)
        # Both are untyped in Ray's annotations.
        shutdowns: tuple[Callable[[], None], ...] = (serve.shutdown, ray.shutdown)
        for shutdown in shutdowns:
            shutdown()
    say("stopped")
    return EXIT_OK
