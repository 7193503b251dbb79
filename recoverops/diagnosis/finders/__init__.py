"""Finders of failing components, one module each, in one table."""

from __future__ import annotations

from recoverops.diagnosis.finders.base import Finder
from recoverops.diagnosis.finders.credentials import Credentials
from recoverops.diagnosis.finders.dependencies import Dependencies
from recoverops.diagnosis.finders.locations import Locations
from recoverops.diagnosis.finders.resources import Resources
from recoverops.diagnosis.finders.tests import Tests

FINDERS: dict[str, Finder] = {
    "test": Tests(),
    "source": Locations(),
    "dependency": Dependencies(),
    "resource": Resources(),
    "credential": Credentials(),
}

__all__ = ["FINDERS", "Finder"]
