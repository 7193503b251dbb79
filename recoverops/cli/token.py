"""`recoverops token create --role R`: a bearer token for the API on a single machine.

The token is signed with RECOVEROPS_AUTH_SECRET (or the file RECOVEROPS_AUTH_SECRET_FILE
names), which the API checks it with; with an OIDC issuer, people sign in there instead and
this is for machines (a CI job, a script). The token is printed on stdout, and nothing else is.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta
from typing import Any

from recoverops.auth import Role
from recoverops.auth.local import create_token, parse_ttl
from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    help_formatter,
    load_settings,
    say,
    settings_epilog,
)

READS = ("env", "auth_secret", "auth_secret_file")
DEFAULT_TTL = "12h"


def _ttl(text: str) -> timedelta:
    try:
        return parse_ttl(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _subject(text: str) -> str:
    if not text.strip() or len(text) > 255:
        raise argparse.ArgumentTypeError("a subject is 1 to 255 characters")
    return text.strip()


def register(commands: Any) -> None:
    token = commands.add_parser("token", help="make bearer tokens for the API")
    verbs = token.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser(
        "create",
        help="print a token for the API, signed with RECOVEROPS_AUTH_SECRET",
        description=(
            "Print a bearer token (a JWT signed with RECOVEROPS_AUTH_SECRET) that the API\n"
            'accepts until it expires: `curl -H "Authorization: Bearer $TOKEN" …`. Roles:\n'
            "viewer reads; operator also approves and rejects actions and gives feedback;\n"
            "admin also changes policy and settings.\n\n"
            "Exit codes: 0 printed, 2 a bad argument, 3 no (valid) signing secret."
        ),
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument(
        "--subject",
        type=_subject,
        default=None,
        help="who the token acts as, recorded on what it does (default: the login name)",
    )
    create.add_argument(
        "--ttl",
        type=_ttl,
        default=DEFAULT_TTL,
        help=f"how long it is valid: 90s, 15m, 12h, 30d (default {DEFAULT_TTL})",
    )
    create.set_defaults(run=run_create)


def run_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    secret = settings.auth_signing_secret
    if secret is None:
        say(
            "invalid setting: RECOVEROPS_AUTH_SECRET is not set (nor RECOVEROPS_AUTH_SECRET_FILE):"
            " the token must be signed with the secret the API checks it with"
        )
        return EXIT_CONFIG
    subject = args.subject or getpass.getuser()
    token = create_token(
        secret.get_secret_value(), role=Role(args.role), subject=subject, ttl=args.ttl
    )
    sys.stdout.write(token + "\n")
    return EXIT_OK
