"""What every subcommand shares: its exit codes, how it speaks on stderr, how it reads the
settings, and the argument types argparse turns into usage errors (exit 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pydantic import ValidationError

from recoverops.errors import ConfigurationError
from recoverops.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1  # the command could not do (all of) its work; the message says why
EXIT_USAGE = 2  # argparse's own
EXIT_CONFIG = 3  # an invalid setting or signature file


def say(message: str) -> None:
    """One line on stderr, prefixed with the program's name."""
    sys.stderr.write(f"recoverops: {message}\n")
    sys.stderr.flush()


def load_settings() -> Settings | None:
    """The settings from the environment; None, having said why, when they are invalid."""
    try:
        return Settings()
    except (ConfigurationError, ValidationError) as error:
        say(f"configuration error: {error}")
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
