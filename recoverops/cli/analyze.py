"""`recoverops analyze PATH... [--json]`: what failed, why, and where, for each log.

When the settings' MLflow store has a `@champion` model, it refines the rules' verdict in this
process (`models.combine`); otherwise the rules answer alone. A default SQLite store that does
not exist is not created, and MLflow is not even imported then, so analyze stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from recoverops.analysis import Analysis
from recoverops.classify.catalogue import Catalogue, load_catalogue
from recoverops.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, say, whole_number
from recoverops.detector import analyze_text
from recoverops.errors import ConfigurationError, InputError
from recoverops.inputs import read_log, read_stream
from recoverops.report import render_report
from recoverops.settings import Settings

# EXIT_FAILED: at least one input could not be analyzed; the others were.


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "analyze",
        help="analyze CI/CD or infrastructure logs offline",
        description=(
            "Say what failed, why and where for each log: category, confidence, a summary and the "
            "evidence lines (1-based line numbers of the input as given). '-' reads standard input."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log files, or - for stdin")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per input, one per line, in order"
    )
    parser.add_argument(
        "--context",
        type=whole_number(0),
        default=2,
        metavar="N",
        help="lines of context around each evidence line in the report (default 2)",
    )
    parser.set_defaults(run=run)


def _load(settings: Settings) -> Catalogue:
    return load_catalogue(tuple(settings.extra_signature_dirs))


_SQLITE = "sqlite:///"


def _champion(settings: Settings) -> Callable[[Analysis], Analysis] | None:
    """The champion as a refining step, or None: no store, no champion, or a store that fails."""
    uri = settings.mlflow_tracking_uri
    if uri.startswith(_SQLITE) and not Path(uri.removeprefix(_SQLITE)).is_file():
        return None  # nobody trained here: opening the store would create it
    try:
        from recoverops.models.combine import refine
        from recoverops.training.mlflow_model import load_alias

        loaded = load_alias(settings)
    except Exception as error:  # a broken or unreachable store must not stop an analysis
        say(f"the model store failed ({error}); using the rules alone")
        return None
    if loaded is None:
        return None
    step: Callable[[Analysis], Analysis] = partial(
        refine, model=loaded.model, name=f"{loaded.name}/{loaded.version}"
    )
    return step


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
        catalogue = _load(settings)
    except (ConfigurationError, ValidationError) as exc:
        say(f"configuration error: {exc}")
        return EXIT_CONFIG
    champion = _champion(settings)
    failed = False
    out: TextIO = sys.stdout
    for index, path in enumerate(args.paths):
        name = "<stdin>" if path == "-" else path
        try:
            if path == "-":
                text = read_stream(sys.stdin.buffer, name=name, max_bytes=settings.max_log_bytes)
            else:
                text = read_log(Path(path), max_bytes=settings.max_log_bytes)
        except InputError as exc:
            failed = True
            say(str(exc))
            if args.json:
                out.write(json.dumps({"input": name, "error": str(exc)}) + "\n")
            continue
        analysis = analyze_text(
            text, catalogue=catalogue, window_lines=settings.analysis_window_lines
        )
        if champion is not None:
            analysis = champion(analysis)
        if args.json:
            out.write(json.dumps({"input": name, **analysis.to_json()}) + "\n")
        else:
            if index:
                out.write("\n")
            out.write(render_report(name=name, text=text, analysis=analysis, context=args.context))
        out.flush()
    return EXIT_FAILED if failed else EXIT_OK
