"""The actors' fixtures (a fake GitHub serving a real failing log, settings naming it)."""

from tests.actors.conftest import github, ray_session, settings, store

__all__ = ["github", "ray_session", "settings", "store"]
