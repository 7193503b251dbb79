"""What every subcommand shares: its exit codes, how it speaks on stderr, how it reads the
settings, and the argument types argparse turns into usage errors (exit 2)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable

from pydantic import ValidationError

from recoverops.settings import Settings, problems, unknown_variables, variable

EXIT_OK = 0
EXIT_FAILED = 1  # the command could not do (all of) its work; the message says why
EXIT_USAGE = 2  # argparse's own
EXIT_CONFIG = 3  # an invalid setting or signature file


def say(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    sys.stderr.write(f"recoverops: {message}\n")
    sys.stderr.flush()


def load_settings() -> Settings | None:
    """The settings from the environment; None, having said why, when they are invalid.

    Every command calls this before it starts anything. Each invalid variable gets one line
    naming it and what is wrong with its value; a RECOVEROPS_* variable that is no setting (a
    typo, most likely) gets a warning naming the closest one, and is otherwise ignored."""
    for warning in unknown_variables():
        say(f"warning: {warning}")
    try:
        return Settings()
    except ValidationError as error:
        for problem in problems(error):
            say(f"invalid setting: {problem}")
        return None


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type for whole numbers of at least `minimum`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more")
        return number

    return parse


def settings_epilog(*fields: str) -> str:
    """The end of a command's --help: the settings it reads, by variable name."""
    names = ", ".join(variable(field) for field in fields)
    text = f"Settings read (environment variables, described in docs/settings.md): {names}."
    return textwrap.fill(text, width=100, break_on_hyphens=False)


def help_formatter(prog: str) -> argparse.HelpFormatter:
    """Keeps the description's and epilog's paragraphs as written."""
    return argparse.RawDescriptionHelpFormatter(prog, width=100)


def open_store(settings: Settings) -> bool:
    """Open the store the settings name, bring its schema up to date and close it: a command
    that serves checks this before it starts anything. False, having said why, when it cannot."""
    from sqlalchemy.exc import SQLAlchemyError

    from recoverops.store import Store
    from recoverops.store.url import database_url

    try:
        Store.open(settings).close()
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        why = " ".join(str(cause).split())[:300]
        where = _shown_url(database_url(settings))
        origin = "RECOVEROPS_DATABASE_URL" if settings.database_url else "RECOVEROPS_HOME"
        say(f"invalid setting: {origin}: cannot open the store at {where}: {why}")
        return False
    return True


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def check_sign_in(settings: Settings) -> bool:
    """Whether a command that serves the API may start: outside development it needs a way to
    check tokens. Says which in one line (or that sign-in is off in development)."""
    from recoverops.auth import Authenticator, AuthMode, configuration_problem

    problem = configuration_problem(settings)
    if problem is not None:
        say(f"invalid setting: {problem}")
        return False
    if Authenticator(settings).mode is AuthMode.DISABLED:
        say(
            "sign-in: disabled (RECOVEROPS_ENV=development and no RECOVEROPS_AUTH_SECRET or "
            "RECOVEROPS_OIDC_ISSUER): every request acts as admin; for this machine only"
        )
    return True
