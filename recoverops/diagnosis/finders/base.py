"""The finder interface: one kind of failing component, read from the failure's text."""

from __future__ import annotations

from typing import Protocol

from recoverops.diagnosis.model import Component
from recoverops.diagnosis.text import FailureText


class Finder(Protocol):
    def find(self, text: FailureText) -> list[Component]:
        """Every component of this finder's kind the text names, in log order."""
        ...
