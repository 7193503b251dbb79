"""`recoverops`: the entry point and its subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from recoverops.cli import actions, analyze, api, fix, replay, train, up
from recoverops.cli.common import EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoverops",
        description="Autonomous recovery for CI/CD pipelines and cloud infrastructure.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    analyze.register(commands)
    replay.register(commands)
    api.register(commands)
    up.register(commands)
    train.register(commands)
    actions.register(commands)
    fix.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`recoverops analyze … | head`): nothing more to say.
        sys.stderr.close()
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
