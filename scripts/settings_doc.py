"""docs/settings.md's tables, generated from `recoverops.settings`: every field of `Settings`
with its variable, default and description, and the variables only the tests and notebooks read.

    python scripts/settings_doc.py --write    rewrite the tables in docs/settings.md (make docs)
    python scripts/settings_doc.py --check    exit 1 when they are not what the code says

A field without a description is an error: the description is the documentation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from recoverops.settings import MIB, OTHER_VARIABLES, Settings, variable

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
BEGIN = "<!-- settings tables: generated from recoverops/settings.py by `make docs` -->"
END = "<!-- end of the generated settings tables -->"


def _default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return f"`./{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= MIB and value % MIB == 0:
        return f"`{value}` ({value // MIB} MiB)"
    return f"`{value}`"


def tables() -> str:
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise SystemExit(
                f"Settings.{name} has no description: add description=... to its Field"
            )
        secret = "SecretStr" in str(field.annotation)
        note = " (a secret: never logged or shown)" if secret else ""
        text = field.description.replace("|", "\\|")
        rows.append(f"| `{variable(name)}` | {_default(field.default)} | {text}{note} |")
    rows += ["", "Read by the tests and notebooks only:", ""]
    rows += ["| variable | what it does |", "|---|---|"]
    rows += [f"| `{name}` | {text} |" for name, text in OTHER_VARIABLES.items()]
    return "\n".join([BEGIN, "", *rows, "", END])


def render(document: str) -> str:
    if BEGIN not in document or END not in document:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN!r} and {END!r}")
    before, rest = document.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    return before + tables() + after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true")
    action.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = DOC.read_text("utf-8")
    wanted = render(current)
    if args.write:
        DOC.write_text(wanted, "utf-8")
        return 0
    if wanted != current:
        sys.stderr.write(f"{DOC} is out of date with recoverops/settings.py: run `make docs`\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
