"""Starting actors with a type mypy can follow: Ray's `.remote()` answers a union."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ray
from ray.actor import ActorHandle

Handle = ActorHandle[Any]


def spawn(cls: type[Any], /, *args: Any, options: Mapping[str, Any], **kwargs: Any) -> Handle:
    """Start `cls` as an actor with Ray `options`, passing it `args` and `kwargs`."""
    proxy = ray.remote(cls).options(**options).remote(*args, **kwargs)
    if not isinstance(proxy, ActorHandle):
        raise TypeError(f"ray.remote({cls.__name__}) did not start an actor")
    return proxy
