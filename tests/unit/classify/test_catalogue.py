"""The signature catalogue: the shipped files are valid, and every invalid file is refused with
its path and line."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

import recoverops.classify
from recoverops.classify.catalogue import (
    build_catalogue,
    load_catalogue,
    parse_catalogue_text,
)
from recoverops.classify.scorer import SignatureMatcher
from recoverops.errors import ConfigurationError
from recoverops.taxonomy import Category

SHIPPED = Path(recoverops.classify.__file__).resolve().parent / "signatures"
SHIPPED_FILES = sorted(SHIPPED.glob("*.yaml"))
SOURCE = "extra/team.yaml"
# A real line from tests/fixtures/cases/travis-git-empty-reply/log.txt
EMPTY_REPLY = "fatal: unable to access 'https://github.com/vim/vim/': Empty reply from server"


# --- the shipped catalogue ------------------------------------------------------------------


def test_the_shipped_catalogue_loads() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.signatures) >= 50
    assert catalogue.noise


def test_every_shipped_id_is_unique() -> None:
    catalogue = load_catalogue()
    ids = [s.id for s in (*catalogue.signatures, *catalogue.commands)]
    ids += [n.id for n in catalogue.noise]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_every_shipped_signature_is_well_formed() -> None:
    catalogue = load_catalogue()
    for signature in (*catalogue.signatures, *catalogue.commands):
        assert signature.keywords, signature.id
        assert all(k == k.lower() and k.strip() for k in signature.keywords), signature.id
        assert signature.category is not Category.UNKNOWN, signature.id
        assert 0 < signature.weight <= 10, signature.id
        assert signature.source.startswith("recoverops/classify/signatures/"), signature.id


def test_every_category_but_unknown_has_a_signature() -> None:
    covered = {s.category for s in load_catalogue().signatures}
    assert covered == set(Category) - {Category.UNKNOWN}


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=[p.name for p in SHIPPED_FILES])
def test_shipped_examples_are_recognised_and_counter_examples_are_not(path: Path) -> None:
    """Independently of the loader's own checks: each example goes through the matcher the
    detector uses (keyword prefilter, then regex) and comes out with its signature."""
    matcher = SignatureMatcher(load_catalogue())
    raw = yaml.safe_load(path.read_text("utf-8")) or {}
    assert set(raw) <= {"signatures", "commands", "noise"}, path.name
    for entry in raw.get("signatures") or []:
        for example in entry.get("examples") or []:
            found = {s.id for s in matcher.match_line(example, example.lower())}
            assert entry["id"] in found, (entry["id"], example)
        for counter in entry.get("counter_examples") or []:
            found = {s.id for s in matcher.match_line(counter, counter.lower())}
            assert entry["id"] not in found, (entry["id"], counter)
    for entry in raw.get("commands") or []:
        for example in entry.get("examples") or []:
            assert entry["id"] in {s.id for s in matcher.match_command(example)}, example
        for counter in entry.get("counter_examples") or []:
            assert entry["id"] not in {s.id for s in matcher.match_command(counter)}, counter
    for entry in raw.get("noise") or []:
        for example in entry.get("examples") or []:
            assert matcher.is_noise(example), (entry["id"], example)


# --- validation: every branch names the file and the line ------------------------------------


def signature_yaml(**overrides: str) -> str:
    """A valid one-signature file (the entry starts on line 3); each override replaces a key's
    YAML value, and the value "-" drops the key."""
    fields = {
        "id": "team.git.empty-reply",
        "category": "deploy.network",
        "keywords": '["empty reply from server"]',
        "pattern": "'Empty reply from server'",
        "weight": "3",
        "summary": "the git server closed the connection",
        "examples": f'["{EMPTY_REPLY}"]',
        "counter_examples": '["Reply from server: ok"]',
    }
    fields.update(overrides)
    body = "\n".join(f"    {k}: {v}" for k, v in fields.items() if v != "-")
    return "# team signatures\nsignatures:\n  - " + body.lstrip() + "\n"


def refusal(text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_catalogue_text(text, source=SOURCE)
    return str(info.value)


def test_the_valid_template_parses() -> None:
    parsed = parse_catalogue_text(signature_yaml(), source=SOURCE)
    assert [s.id for s in parsed.signatures] == ["team.git.empty-reply"]
    signature = parsed.signatures[0]
    assert signature.category is Category.DEPLOY_NETWORK
    assert signature.source == SOURCE
    assert signature.search(EMPTY_REPLY)


def test_an_empty_file_is_an_empty_catalogue() -> None:
    parsed = parse_catalogue_text("# nothing yet\n", source=SOURCE)
    assert (parsed.signatures, parsed.commands, parsed.noise) == ([], [], [])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
        ({"id": "NoDots"}, r"'id' must be a dotted lowercase id"),
        ({"id": "-"}, r"'id' must be a dotted lowercase id, got None"),
        ({"category": "build.tests"}, r"unknown category 'build.tests'"),
        ({"category": "unknown"}, r"cannot claim 'unknown'"),
        ({"keywords": '["Empty Reply"]'}, r"'keywords' must be non-empty lowercase literals"),
        ({"keywords": "[]"}, r"'keywords' must be non-empty lowercase literals"),
        ({"keywords": '"empty reply"'}, r"'keywords' must be a list of strings"),
        ({"pattern": "'Empty (reply'"}, r"is not a valid regex"),
        ({"pattern": "-"}, r"'pattern' must be a non-empty string"),
        ({"weight": "0"}, r"'weight' must be a number in \(0, 10\]"),
        ({"weight": "11"}, r"'weight' must be a number in \(0, 10\]"),
        ({"weight": "heavy"}, r"'weight' must be a number in \(0, 10\]"),
        ({"examples": "[]"}, r"give at least one real example line"),
        ({"examples": '["Empty reply from client"]'}, r"example does not match"),
        (
            {"pattern": "'Empty reply'", "examples": '["curl: (52) Empty reply"]'},
            r"example contains no keyword",
        ),
        (
            {"counter_examples": '["curl: (52) Empty reply from server"]'},
            r"counter-example matches",
        ),
        ({"summary": "[1, 2]"}, r"'summary' must be a string"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_an_invalid_signature_is_refused_with_file_and_line(
    overrides: dict[str, str], message: str
) -> None:
    text = signature_yaml(**overrides)
    error = refusal(text)
    assert error.startswith(f"{SOURCE}:3: "), error
    assert re.search(message, error), error


def test_a_boolean_is_not_a_weight() -> None:
    # YAML `weight: true` is a bool, and bool is an int in Python: it must not pass as 1.0.
    error = refusal(signature_yaml(weight="true"))
    assert error.startswith(f"{SOURCE}:3: "), error


def test_the_line_is_the_entry_s_own_line() -> None:
    second = [
        "  - id: team.git.second",
        "    category: nonsense",
        "    keywords: [x]",
        "    pattern: x",
        "    examples: [x]",
    ]
    text = signature_yaml() + "\n".join(second) + "\n"
    line = text.split("\n").index(second[0]) + 1
    error = refusal(text)
    assert error.startswith(f"{SOURCE}:{line}: "), error
    assert "team.git.second: unknown category 'nonsense'" in error


def test_commands_are_validated_like_signatures() -> None:
    text = (
        "commands:\n"
        "  - id: command.team-lint\n"
        "    category: build.lint\n"
        "    keywords: [teamlint]\n"
        "    pattern: '\\bteamlint\\b'\n"
        "    examples: ['npm run lint']\n"
    )
    error = refusal(text)
    assert error.startswith(f"{SOURCE}:2: "), error
    assert "example does not match" in error


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("id: team.noise\n    pattern: x\n    weight: 2", r"unknown keys \['weight'\]"),
        ("id: Noise\n    pattern: x", r"noise 'id' must be a dotted lowercase id"),
        ("id: team.noise\n    pattern: '['", r"is not a valid regex"),
        (
            "id: team.noise\n    pattern: '^Downloading'\n    examples: ['Downloaded x']",
            r"example does not match",
        ),
    ],
)
def test_an_invalid_noise_pattern_is_refused_with_file_and_line(entry: str, message: str) -> None:
    error = refusal(f"noise:\n  - {entry}\n")
    assert error.startswith(f"{SOURCE}:2: "), error
    assert re.search(message, error), error


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- just\n- a list\n", 1, r"a catalogue file is a mapping"),
        ("signature:\n  - id: a.b\n", 1, r"unknown top-level keys \['signature'\]"),
        ("# team file\nsignatures: {id: a.b}\n", 2, r"'signatures' is a list"),
        ("# team file\nsignatures:\n  - just a line\n", 3, r"every entry is a mapping"),
        ("signatures:\n  - id: a.b\n    pattern: 'x\n", 3, r"not valid YAML"),
    ],
    ids=[
        "not-a-mapping",
        "unknown-top-level",
        "section-not-a-list",
        "entry-not-a-mapping",
        "bad-yaml",
    ],
)
def test_a_malformed_file_is_refused_with_file_and_line(text: str, line: int, message: str) -> None:
    error = refusal(text)
    assert re.search(message, error), error
    assert error.startswith(f"{SOURCE}:{line}"), error


def test_an_id_defined_twice_is_refused_naming_both_files_and_the_line() -> None:
    first = signature_yaml()
    second = "# again\n\n" + signature_yaml()
    with pytest.raises(ConfigurationError) as info:
        build_catalogue([("a/one.yaml", first), ("b/two.yaml", second)])
    error = str(info.value)
    assert "'team.git.empty-reply'" in error and "a/one.yaml" in error, error
    # the duplicate entry starts on line 5 of the second file
    assert error.startswith("b/two.yaml:5: "), error


def test_an_id_shared_by_a_signature_and_a_noise_pattern_is_refused() -> None:
    text = signature_yaml() + "noise:\n  - id: team.git.empty-reply\n    pattern: x\n"
    with pytest.raises(ConfigurationError, match="already defined"):
        build_catalogue([(SOURCE, text)])


def test_an_operator_folder_extends_the_shipped_catalogue(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(signature_yaml(), "utf-8")
    (tmp_path / "notes.txt").write_text("not a catalogue file", "utf-8")
    shipped = load_catalogue()
    extended = load_catalogue((tmp_path,))
    assert len(extended.signatures) == len(shipped.signatures) + 1
    added = extended.signatures[-1]
    assert added.id == "team.git.empty-reply"
    assert added.source == str(tmp_path / "team.yaml")


def test_a_missing_operator_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_catalogue((tmp_path / "absent",))


def test_a_shipped_id_redefined_in_an_operator_folder_is_refused(tmp_path: Path) -> None:
    shipped_id = load_catalogue().signatures[0].id
    (tmp_path / "team.yaml").write_text(signature_yaml(id=shipped_id), "utf-8")
    with pytest.raises(ConfigurationError, match="already defined at recoverops/classify/"):
        load_catalogue((tmp_path,))
