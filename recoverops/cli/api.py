"""`recoverops api`: the HTTP API alone under uvicorn, with the embedded defaults.

Webhooks are stored and queued, and the read API answers; nothing consumes the queue yet
(that is the actors' job, started by `recoverops up`). For development, for tests, and for a
deployment that runs the workers elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from recoverops.errors import RecoverOpsError
from recoverops.settings import Settings

EXIT_OK, EXIT_CONFIG = 0, 3


def register(commands: Any) -> None:
    parser = commands.add_parser("api", help="serve the HTTP API (webhooks, incidents, analyze)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from recoverops.serve import create_app

    try:
        app = create_app(Settings())
    except (RecoverOpsError, ValidationError) as error:
        sys.stderr.write(f"recoverops: configuration error: {error}\n")
        return EXIT_CONFIG
    sys.stderr.write(f"recoverops: API on http://{args.host}:{args.port} (docs at /docs)\n")
    # uvicorn stops cleanly on Ctrl-C and SIGTERM, finishing requests in flight.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK
