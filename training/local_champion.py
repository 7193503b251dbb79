"""A local copy of the champion model, so that `recoverops analyze` never imports MLflow, and,
for the linear learner, not scikit-learn either.

Importing MLflow to learn whether a champion exists costs seconds and hundreds of MB, and
importing scikit-learn and pandas to run it another 180 MB; a command that analyzes one small log
must pay neither (issue #14: ≤ 1 s, ≤ 150 MB). So the champion is also kept as files under
RECOVEROPS_HOME:

    <home>/champion/<name>.npz      the portable model: the fitted numbers only, scored with
                                    numpy (`models.portable`, exported by `models.export`)
    <home>/champion/<name>.pickle   or, for a learner that cannot be exported (gradient
                                    boosting), the fitted FailureModel pickled
    <home>/champion/<name>.json     its name, version, registry, format, and the file's SHA-256

written when a training run promotes it, and when `analyze` first loads a champion it has no
copy of. `analyze` asks the registry which version is `@champion` the cheap way (one SQL query on
MLflow's SQLite store, one REST call to an MLflow server: `champion_version`), and loads the copy
when it is that version and its checksum holds; otherwise it loads the champion through MLflow,
once, and keeps a copy.

The portable file holds arrays and JSON only and is read with `allow_pickle=False`. A pickle is
code from the configured registry: unpickling it runs scikit-learn's and numpy's own
constructors, and `load_copy` refuses any class from outside the modules a FailureModel is made
of, so a planted file cannot run arbitrary code through pickle's usual ways; RECOVEROPS_HOME must
still be written only by those who may write the registry.

This module imports neither MLflow nor scikit-learn (`save_copy` exports with scikit-learn, which
the promoting process has already loaded; a pickle's classes come in with the pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverops.errors import RecoverOpsError
from recoverops.settings import Settings

FOLDER = "champion"
ALIAS = "champion"
# Where a pickled FailureModel's classes come from; anything else is refused on load.
_ALLOWED_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})
_ALLOWED_PREFIXES = ("recoverops.models.", "recoverops.logs.")
_ALLOWED_GLOBALS = frozenset(
    {
        "builtins.slice",
        "builtins.set",
        "builtins.frozenset",
        "copyreg._reconstructor",
        "collections.OrderedDict",
    }
)
_SQLITE = "sqlite:///"
_TIMEOUT_SECONDS = 5.0


class NoAnswer(RecoverOpsError):
    """The registry could not be asked cheaply (an unknown store, an error): ask MLflow."""


# The copy's formats: the portable model, or a pickle for a learner that cannot be exported.
PORTABLE = "portable"
PICKLE = "pickle"
_SUFFIXES = {PORTABLE: ".npz", PICKLE: ".pickle"}


@dataclass(frozen=True, slots=True)
class LocalChampion:
    model: Any  # a models.portable.PortableModel, or a models.classifier.FailureModel
    name: str
    version: str
    format: str  # PORTABLE or PICKLE
    note: str  # why a pickle: the export's refusal; "" for a portable copy


def _paths(settings: Settings) -> tuple[Path, Path]:
    """(the copy's path without its format's suffix, its manifest's path)."""
    stem = urllib.parse.quote(settings.model_name, safe="")
    folder = settings.home / FOLDER
    return folder / stem, folder / f"{stem}.json"


def _registry(settings: Settings) -> str:
    """The registry a copy came from, without credentials: a copy from another is not used."""
    uri = settings.mlflow_tracking_uri
    parts = urllib.parse.urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def champion_version(settings: Settings) -> str | None:
    """The version `@champion` points at, asked without MLflow; None when there is none.

    NoAnswer when that cannot be known cheaply (a store other than SQLite or an HTTP server, a
    schema this code does not know, a server that does not answer)."""
    uri = settings.mlflow_tracking_uri
    if uri.startswith(_SQLITE):
        return _sqlite_alias(Path(uri.removeprefix(_SQLITE)), settings.model_name)
    if uri.startswith(("http://", "https://")):
        return _server_alias(uri, settings.model_name)
    raise NoAnswer(f"an MLflow store at {_registry(settings)}")


def _sqlite_alias(path: Path, name: str) -> str | None:
    if not path.is_file():
        return None  # nobody trained here
    try:
        # Read-only: asking must never create or migrate MLflow's store.
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (name, ALIAS),
            ).fetchone()
    except sqlite3.Error as error:
        # No such table: a store MLflow has not finished creating has no champion either.
        if "no such table" in str(error):
            return None
        raise NoAnswer(str(error)) from None
    return None if row is None else str(row[0])


def _server_alias(uri: str, name: str) -> str | None:
    query = urllib.parse.urlencode({"name": name, "alias": ALIAS})
    url = f"{uri.rstrip('/')}/api/2.0/mlflow/registered-models/alias?{query}"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:  # RESOURCE_DOES_NOT_EXIST: no such model or alias
            return None
        raise NoAnswer(f"the MLflow server answered {error.code}") from None
    except (OSError, ValueError) as error:
        raise NoAnswer(str(error)) from None
    version = answer.get("model_version", {}).get("version") if isinstance(answer, dict) else None
    if version is None:
        raise NoAnswer("the MLflow server's answer names no version")
    return str(version)


def save_copy(settings: Settings, *, model: Any, version: str) -> Path:
    """Keep `model` (a fitted FailureModel) as the local copy of version `version` of the
    settings' model: portable when its learner can be exported, else pickled; its path."""
    from recoverops.models.export import NotPortable, export_model

    note = ""
    try:
        data, kind = export_model(model), PORTABLE
    except NotPortable as refusal:
        note = f"its learner cannot be exported ({refusal})"
        data, kind = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), PICKLE
    manifest = {
        "name": settings.model_name,
        "version": version,
        "registry": _registry(settings),
        "format": kind,
        "note": note,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    stem, described = _paths(settings)
    copy = stem.with_name(stem.name + _SUFFIXES[kind])
    copy.parent.mkdir(parents=True, exist_ok=True)
    # The copy first, then the manifest that vouches for it, each replaced in one step; then
    # the other format's file of an earlier champion, which nothing vouches for any more.
    _replace(copy, data)
    _replace(described, json.dumps(manifest, indent=2).encode())
    for other, suffix in _SUFFIXES.items():
        if other != kind:
            stem.with_name(stem.name + suffix).unlink(missing_ok=True)
    return copy


def load_copy(settings: Settings, *, version: str) -> LocalChampion | None:
    """The local copy of version `version`, or None when there is none, it is of another
    version, registry or format, or its checksum does not hold. A file that passes those checks
    but cannot be read raises (DamagedCopy, pickle.UnpicklingError): the caller asks MLflow."""
    stem, described = _paths(settings)
    try:
        manifest = json.loads(described.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    expected = {"name": settings.model_name, "version": version, "registry": _registry(settings)}
    if not isinstance(manifest, dict) or any(manifest.get(k) != v for k, v in expected.items()):
        return None
    kind = manifest.get("format", PICKLE)  # copies written before the portable format
    if kind not in _SUFFIXES:
        return None
    try:
        data = stem.with_name(stem.name + _SUFFIXES[kind]).read_bytes()
    except OSError:
        return None
    if manifest.get("sha256") != hashlib.sha256(data).hexdigest():
        return None
    if kind == PORTABLE:
        from recoverops.models.portable import loads

        model: Any = loads(data)
    else:
        model = _RestrictedUnpickler(io.BytesIO(data)).load()
    note = str(manifest.get("note") or "")
    return LocalChampion(
        model=model, name=settings.model_name, version=version, format=kind, note=note
    )


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        allowed = (
            module.split(".", 1)[0] in _ALLOWED_PACKAGES
            or module.startswith(_ALLOWED_PREFIXES)
            or qualified in _ALLOWED_GLOBALS
        )
        if not allowed:
            raise pickle.UnpicklingError(f"the champion's copy refers to {qualified}: refused")
        return super().find_class(module, name)


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    partial.write_bytes(data)
    os.replace(partial, path)
