"""`recoverops api`: the HTTP API alone under uvicorn, with the embedded defaults.

Webhooks are stored and queued, and the read API answers; nothing consumes the queue yet
(that is the actors' job, started by `recoverops up`). For development, for tests, and for a
deployment that runs the workers elsewhere.
"""

from __future__ import annotations

import argparse
from typing import Any

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    help_formatter,
    load_settings,
    open_store,
    say,
    settings_epilog,
)
from recoverops.errors import RecoverOpsError

READS = (
    "env",
    "home",
    "database_url",
    "redis_url",
    "signatures_path",
    "max_log_bytes",
    "analysis_window_lines",
    "analyze_concurrency",
    "github_webhook_secret",
    "gitlab_webhook_token",
    "jenkins_webhook_token",
    "aws_sns_topic_arns",
    "aws_sns_dev_cert_host",
    "log_format",
    "log_level",
    "tracing_endpoint",
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "api",
        help="serve the HTTP API alone (webhooks in, incidents out), without the workers",
        description=(
            "Serve the HTTP API under uvicorn: the webhooks store and queue each delivery, the\n"
            "read API answers, POST /analyze analyzes a log with the rules, /docs shows the\n"
            "OpenAPI reference. Nothing consumes the queue: `recoverops up` runs the workers.\n"
            "The store is opened (and migrated) before the server starts; Ctrl-C stops it.\n\n"
            "Exit codes: 0 stopped, 3 an invalid setting or a store that cannot be opened."
        ),
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None or not open_store(settings):
        return EXIT_CONFIG
    import uvicorn

    from recoverops.observability.setup import set_up
    from recoverops.serve import create_app

    set_up(settings)

    try:
        app = create_app(settings)
    except RecoverOpsError as error:
        say(f"configuration error: {error}")
        return EXIT_CONFIG
    say(f"API on http://{args.host}:{args.port} (docs at /docs)")
    # uvicorn stops cleanly on Ctrl-C and SIGTERM, finishing requests in flight.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK
