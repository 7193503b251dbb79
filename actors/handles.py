"""Starting actors with a type mypy can follow: Ray's `.remote()` answers a union."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ray
from ray.actor import ActorHandle

from recoverops.observability.setup import set_up
from recoverops.settings import Settings

Handle = ActorHandle[Any]


def spawn(cls: type[Any], /, *args: Any, options: Mapping[str, Any], **kwargs: Any) -> Handle:
    """Start `cls` as an actor with Ray `options`, passing it `args` and `kwargs`. An actor
    given settings first sets up its process's logging and tracing from them."""
    proxy = ray.remote(_set_up_first(cls)).options(**options).remote(*args, **kwargs)
    if not isinstance(proxy, ActorHandle):
        raise TypeError(f"ray.remote({cls.__name__}) did not start an actor")
    return proxy


_WRAPPED: dict[type[Any], type[Any]] = {}


def _set_up_first(cls: type[Any]) -> type[Any]:
    """`cls`, whose instances set up logging and tracing from the settings they are given
    before anything else (in the actor's own process; tests build `cls` itself in theirs)."""
    if cls not in _WRAPPED:
        _WRAPPED[cls] = _wrapped(cls)
    return _WRAPPED[cls]


def _wrapped(cls: type[Any]) -> type[Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], Settings):
            set_up(args[0])
        cls.__init__(self, *args, **kwargs)

    return type(cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__})
