"""`recoverops analyze PATH... [--json]`: what failed, why, and where, for each log.

When the settings' MLflow registry has a `@champion` model, it refines the rules' verdict in
this process (`models.combine`); otherwise the rules answer alone. The champion is used from its
local copy under RECOVEROPS_HOME (`training.local_champion`): for the linear learner a portable
copy scored with numpy, so analyze imports neither MLflow nor scikit-learn nor pandas and stays
fast in every state of the home. `--verbose` says which copy was used, and why a champion whose
learner cannot be exported runs with scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from recoverops.analysis import Analysis
from recoverops.classify.catalogue import Catalogue, load_catalogue
from recoverops.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    help_formatter,
    load_settings,
    say,
    settings_epilog,
    whole_number,
)
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.errors import ConfigurationError, InputError
from recoverops.inputs import read_log, read_stream
from recoverops.models.prediction import RowModel
from recoverops.report import render_report
from recoverops.settings import Settings

if TYPE_CHECKING:
    from recoverops.diagnosis.llm import Advisor
    from recoverops.store import Store

# EXIT_FAILED: at least one input could not be analyzed; the others were.

Refine = Callable[[Analysis], Analysis]


def _silent(_message: str) -> None:
    """`tell` without --verbose."""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "analyze",
        help="analyze CI/CD or infrastructure logs offline",
        description=(
            "Say what failed, why and where for each log: category, confidence, a summary and\n"
            "the evidence lines (1-based line numbers of the input as given). '-' reads standard\n"
            "input. No services are needed; when the model registry has a @champion, it refines\n"
            "the rules' verdict (from its local copy under RECOVEROPS_HOME). When\n"
            "RECOVEROPS_LLM_BASE_URL is set, that LLM rewrites the root cause's explanation and\n"
            "chooses among the fixes (from the redacted context; --no-llm leaves it out).\n\n"
            "Exit codes: 0 every input analyzed, 1 at least one could not be, 2 bad usage,\n"
            "3 an invalid setting or signature file."
        ),
        epilog=settings_epilog(*READS),
        formatter_class=help_formatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log files, or - for stdin")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per input, one per line, in order"
    )
    parser.add_argument(
        "--passing",
        type=Path,
        metavar="PATH",
        help=(
            "the log of the last passing run of the same job: lines it printed too are not\n"
            "offered as evidence, and the root cause's what_changed lists the lines that are\n"
            "new against it (every PATH is compared with it)"
        ),
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="PATH",
        help="a checkout of the failing repository: fixes then carry a validated patch",
    )
    parser.add_argument(
        "--context",
        type=whole_number(0),
        default=2,
        metavar="N",
        help="lines of context around each evidence line in the report (default 2)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say on stderr which classifier answers: the rules, or the champion and how it runs",
    )
    parser.add_argument(
        "--no-llm",
        action="store_true",
        help=(
            "leave the LLM out of this run: without it the diagnosis is the one made without\n"
            "an LLM (the LLM is used when RECOVEROPS_LLM_BASE_URL is set)"
        ),
    )
    parser.set_defaults(run=run)


READS = (
    "home",
    "signatures_path",
    "max_log_bytes",
    "analysis_window_lines",
    "mlflow_uri",
    "model_name",
    "llm_base_url",
    "llm_model",
    "llm_api_key",
    "llm_timeout_s",
    "llm_retries",
    "llm_context_tokens",
    "llm_answer_tokens",
    "database_url",
)


def _load(settings: Settings) -> Catalogue:
    return load_catalogue(tuple(settings.extra_signature_dirs))


def _champion(settings: Settings, *, tell: Callable[[str], None] = _silent) -> Refine | None:
    """The champion as a refining step, or None: no store, no champion, or a store that fails.

    The registry is asked which version is champion without MLflow, and the local copy of that
    version is used (`training.local_champion`); MLflow is imported only to load a champion
    this home has no copy of yet, which then gets one. `tell` hears which way it went."""
    from recoverops.training.local_champion import NoAnswer, champion_version, load_copy

    try:
        version = champion_version(settings)
    except NoAnswer:
        version = ""  # not known cheaply: MLflow says
    if version is None:
        tell(f"no @champion of {settings.model_name} in the model registry: the rules answer")
        return None
    copy = None
    if version:
        try:
            copy = load_copy(settings, version=version)
        except Exception as error:  # a damaged or refused copy: the registry has the model
            say(f"the local copy of the champion cannot be used ({error}); loading it from MLflow")
    if copy is not None:
        tell(f"champion {copy.name}/{copy.version}: {_how_it_runs(copy.format, copy.note)}")
        return _refining(copy.model, name=f"{copy.name}/{copy.version}")
    return _champion_from_mlflow(settings, tell=tell)


def _how_it_runs(kind: str, note: str) -> str:
    from recoverops.training.local_champion import PORTABLE

    if kind == PORTABLE:
        return "its portable local copy, scored with numpy (no scikit-learn, no MLflow)"
    return f"{note or 'a pickled local copy'}; its pickled local copy runs with scikit-learn"


def _champion_from_mlflow(settings: Settings, *, tell: Callable[[str], None]) -> Refine | None:
    try:
        from recoverops.training.local_champion import save_copy
        from recoverops.training.mlflow_model import load_alias

        loaded = load_alias(settings)
    except Exception as error:  # a broken or unreachable store must not stop an analysis
        say(f"the model store failed ({error}); using the rules alone")
        return None
    if loaded is None:
        tell(f"no @champion of {settings.model_name} in the model registry: the rules answer")
        return None
    name = f"{loaded.name}/{loaded.version}"
    try:
        copy = save_copy(settings, model=loaded.model, version=loaded.version)
    except OSError as error:
        say(f"cannot keep a local copy of the champion ({error}); MLflow will be asked again")
    else:
        tell(f"champion {name}: loaded through MLflow, the local copy {copy} kept for next time")
    return _refining(loaded.model, name=name)


def _refining(model: RowModel, *, name: str) -> Refine:
    from recoverops.models.combine import refine

    step: Refine = partial(refine, model=model, name=name)
    return step


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return EXIT_CONFIG
    try:
        catalogue = _load(settings)
    except ConfigurationError as exc:
        say(f"invalid signature file: {exc}")
        return EXIT_CONFIG
    passing: str | None = None
    if args.passing is not None:
        try:
            passing = read_log(args.passing, max_bytes=settings.max_log_bytes)
        except InputError as exc:
            say(f"--passing: {exc}")
            return EXIT_USAGE
    if args.repo is not None and not args.repo.is_dir():
        say(f"--repo {args.repo}: not a directory")
        return EXIT_USAGE
    champion = _champion(settings, tell=say if args.verbose else _silent)
    advisor, store = (None, None) if args.no_llm else _advisor(settings)
    try:
        return _analyze_each(args, settings, catalogue, passing, champion, advisor)
    finally:
        if store is not None:
            store.close()


def _advisor(settings: Settings) -> tuple[Advisor | None, Store | None]:
    """The LLM when one is configured, with the store's cache of its answers (RECOVEROPS_HOME's
    SQLite store by default), so that analyzing a failure again costs no request; a store that
    cannot be opened leaves the cache to this run."""
    if settings.llm_base_url is None:
        return None, None
    from recoverops.diagnosis.llm import Advisor
    from recoverops.store import Store

    try:
        store: Store | None = Store.open(settings)
    except Exception as error:
        say(f"the store cannot keep the LLM's answers ({error}); they last this run")
        store = None
    return Advisor.from_settings(settings, store=store), store


def _analyze_each(
    args: argparse.Namespace,
    settings: Settings,
    catalogue: Catalogue,
    passing: str | None,
    champion: Callable[[Analysis], Analysis] | None,
    advisor: Advisor | None,
) -> int:
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
            text,
            catalogue=catalogue,
            window_lines=settings.analysis_window_lines,
            passing_text=passing,
        )
        if champion is not None:
            analysis = champion(analysis)
        analysis = diagnose(
            analysis, text=text, repo=args.repo, passing_text=passing, advisor=advisor
        )
        if args.json:
            out.write(json.dumps({"input": name, **analysis.to_json()}) + "\n")
        else:
            if index:
                out.write("\n")
            out.write(render_report(name=name, text=text, analysis=analysis, context=args.context))
        out.flush()
    return EXIT_FAILED if failed else EXIT_OK
