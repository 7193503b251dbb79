"""`recoverops fix pr INCIDENT N`: the incident's fix N as a pull (GitHub) or merge (GitLab)
request, on a branch of its own; asked again, the same request.

Exit codes: 0 opened or already open (the URL on stdout), 1 refused (no such incident or fix, no
patch, the default branch, no repository or token, or GitHub, GitLab or git failed; the message
says which), 3 an invalid setting.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from typing import Any

from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    help_formatter,
    load_settings,
    open_store,
    say,
    settings_epilog,
    whole_number,
)
from recoverops.errors import NotFoundError, PullRequestError

# The store (SQLAlchemy, Alembic) and the pull-request service are imported by the command that
# uses them: `recoverops analyze` registers this parser too, and must not pay for them (issue
# #14: analyze in ≤ 1 s).


def register(commands: Any) -> None:
    fix = commands.add_parser("fix", help="act on an incident's fix proposals")
    verbs = fix.add_subparsers(dest="verb", metavar="VERB", required=True)
    pr = verbs.add_parser(
        "pr",
        help="open a pull or merge request with a fix's patch",
        description=__doc__,
        epilog=settings_epilog(
            "database_url",
            "github_token",
            "github_api_url",
            "gitlab_url",
            "gitlab_token",
            "public_url",
            "fix_author",
        ),
        formatter_class=help_formatter,
    )
    pr.add_argument("incident", type=whole_number(1), help="the incident's id")
    pr.add_argument("n", type=whole_number(0), help="the fix's index (0: the fix it shows)")
    pr.add_argument("--by", default=None, help="who asks (default: the login name)")
    pr.add_argument("--json", action="store_true", help="the request as one JSON object")
    pr.set_defaults(run=run_pr)


def run_pr(args: argparse.Namespace) -> int:
    from recoverops.remediation.pull_requests import open_pull_request
    from recoverops.store import Store

    settings = load_settings()
    if settings is None or not open_store(settings):
        return EXIT_CONFIG
    store = Store.open(settings, migrate=False)
    try:
        request = open_pull_request(
            store, settings, args.incident, args.n, actor=f"cli:{args.by or getpass.getuser()}"
        )
    except (NotFoundError, PullRequestError) as error:
        say(str(error))
        return EXIT_FAILED
    finally:
        store.close()
    if args.json:
        sys.stdout.write(json.dumps(asdict(request)) + "\n")
        return EXIT_OK
    kind = "pull request" if request.forge == "github" else "merge request"
    done = "opened" if request.created else "already open"
    sys.stdout.write(f"{request.url}\n")
    say(f"{kind} {done}: branch {request.branch} into {request.base} of {request.project}")
    return EXIT_OK
