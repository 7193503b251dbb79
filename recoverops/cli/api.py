"""`recoverops api`: the HTTP API alone under uvicorn, with the embedded defaults.

Webhooks are stored and queued, and the read API answers; nothing consumes the queue yet
(that is the actors' job, started by `recoverops up`). For development, for tests, and for a
deployment that runs the workers elsewhere.
"""

from __future__ import annotations

import argparse
from typing import Any

from recoverops.cli.common import EXIT_CONFIG, EXIT_OK, load_settings, say
from recoverops.errors import RecoverOpsError


def register(commands: Any) -> None:
    parser = commands.add_parser("api", help="serve the HTTP API (webhooks, incidents, analyze)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from recoverops.serve import create_app

    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    try:
        app = create_app(settings)
    except RecoverOpsError as error:
        say(f"configuration error: {error}")
        return EXIT_CONFIG
    say(f"API on http://{args.host}:{args.port} (docs at /docs)")
    # uvicorn stops cleanly on Ctrl-C and SIGTERM, finishing requests in flight.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK
