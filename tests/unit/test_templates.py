"""Tests for recoverops.logs.templates, on lines copied from the shared real CI logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import recoverops
from recoverops.logs.templates import (
    MAX_LINE_CHARS,
    WILDCARD,
    Template,
    TemplateMiner,
    count_templates,
    mask,
    mine,
    template_id,
)

ROOT = Path(recoverops.__file__).resolve().parents[1]

# Maven surefire lines that differ only in their numbers and test class (BugSwarm, nflow).
SUREFIRE = [
    "Tests run: 2, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.041 sec - in "
    "com.nitorcreations.nflow.engine.internal.dao.DaoUtilTest",
    "Tests run: 1, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 1.607 sec - in "
    "com.nitorcreations.nflow.engine.internal.dao.HealthCheckDaoTest",
    "Tests run: 5, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.154 sec - in "
    "com.nitorcreations.nflow.engine.internal.dao.StatisticsDaoTest",
]
TRAVIS_TIME = [
    "travis_time:end:0011af24:start=1564314486569457353,finish=1564314517106567698,"
    "duration=30537110345",
    "travis_time:end:01cc3fc0:start=1564314517163302574,finish=1564314517706251634,"
    "duration=542949060",
]
# Same first token and token count as each other, different messages.
DISTINCT = [
    "[INFO] BUILD FAILURE",
    "[ERROR] COMPILATION ERROR :",
    "[INFO] Reactor Summary:",
    "[INFO] Reactor Build Order:",
    "$ pip install --target /tmp/typehints --no-deps uqbar>=0.2.11",
    "Receiving objects: 100% (2448/2448), 19.63 MiB | 19.62 MiB/s, done.",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # a file name with its line number: the name stays, the number goes
        (
            "\tat org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:645)",
            "at org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:<NUM>)",
        ),
        (
            "[ERROR] /home/travis/build/HotswapProjects/HotswapAgent/hotswap-agent-core/src/main/"
            "java/org/hotswap/agent/config/LogConfigurationHelper.java:[66,68] cannot find symbol",
            "[ERROR] /home/travis/build/HotswapProjects/HotswapAgent/hotswap-agent-core/src/main/"
            "java/org/hotswap/agent/config/LogConfigurationHelper.java:[<NUM>,<NUM>] cannot find "
            "symbol",
        ),
        # a commit hash and an ISO timestamp
        (
            "Apache Maven 3.5.0 (ff8f5e7444045639af65f6095c62210b5713f426; 2017-04-03T19:39:06Z)",
            "Apache Maven <NUM> (<HEX>; <TS>)",
        ),
        (TRAVIS_TIME[0], "travis_time:end:<HEX>:start=<NUM>,finish=<NUM>,duration=<NUM>"),
        (
            "hostname: 6e97bb0c-d977-4af5-aa54-40bad6f46f46@1.i-037e806-production-2-worker-org-"
            "ec2.travisci.net",
            "hostname: <UUID>@<NUM>.i-<HEX>-production-<NUM>-worker-org-ec2.travisci.net",
        ),
        ("\t172.17.0.2/255.255.0.0", "<IP>/<IP>"),
        ("startup: 543.348966ms", "startup: <DUR>"),
        ("BUILD FAILED in 1m 3s", "BUILD FAILED in <DUR> <DUR>"),
        ("Tue Aug 29 02:50:02 UTC 2017", "Tue Aug <NUM> <TS> UTC <NUM>"),
        (
            "Executing: /tmp/tmp.VndSE7wtVg/gpg.1.sh --keyserver",
            "Executing: <TMP>/gpg.1.sh --keyserver",
        ),
        (
            "  Cloning https://github.com/Manishearth/ChatExchange.git (to "
            "ddaaed56b47fddd0988ecc4fe5903d9714aa28f2) to /tmp/pip-xfqdjpqv-build",
            "Cloning https://github.com/Manishearth/ChatExchange.git (to <HEX>) to <TMP>",
        ),
        ("18c2d7ddb84f: Downloading    27 MB/168.9 MB", "<HEX>: Downloading <NUM> MB/<NUM> MB"),
        ("Successfully installed bundler-1.17.3", "Successfully installed bundler-<NUM>"),
        (
            "[INFO] Downloading: https://repo.maven.apache.org/maven2/dom4j/dom4j/1.1/dom4j-1.1.jar",
            "[INFO] Downloading: https://repo.maven.apache.org/maven2/dom4j/dom4j/<NUM>/dom4j-<NUM>.jar",
        ),
        # a quoted message (with spaces) is one <STR> token; a one-word quote stays
        (
            "E           AssertionError: assert 'I hit an err... for details.' == "
            "'That does not...lid post URL.'",
            "E AssertionError: assert <STR> == <STR>",
        ),
        (
            "stubs/3.2/ssl.pyi:4: error: No module named 'enum'",
            "stubs/<NUM>/ssl.pyi:<NUM>: error: No module named 'enum'",
        ),
        # digits inside words are part of a name, and a-f words are not hashes
        (
            "ruby 2.2.0p0 (2014-12-25 revision 49005) [x86_64-linux]",
            "ruby 2.2.0p0 (<TS> revision <NUM>) [x86_64-linux]",
        ),
        ("log4j:WARN Please initialize the log4j system properly.", None),
        ("effaced decade accede", None),
        ("Don't worry, it's fine", None),
    ],
)
def test_mask(line: str, expected: str | None) -> None:
    assert mask(line) == (" ".join(line.split()) if expected is None else expected)


def test_mask_collapses_whitespace_and_handles_blank_lines() -> None:
    assert mask("") == ""
    assert mask(" \t ") == ""
    assert mask("  Downloading   argparse-1.4.0-py2.py3-none-any.whl ") == (
        "Downloading argparse-<NUM>-py2.py3-none-any.whl"
    )


def test_template_id_is_stable_across_processes() -> None:
    text = "Tests run: <NUM>, Failures: <NUM>"
    code = f"from recoverops.logs.templates import template_id; print(template_id({text!r}))"
    # Another hash seed: an id built on hash() would differ between the two processes.
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout.strip()
    assert other == template_id(text)
    assert len(other) == 12 and int(other, 16) >= 0
    assert template_id(text + " ") != template_id(text)


def test_lines_that_differ_only_in_variables_share_a_template() -> None:
    miner = TemplateMiner()
    results = [miner.add(line) for line in SUREFIRE]
    assert len(miner) == 1
    final = results[-1]
    assert final.size == 3
    assert final.text == (
        "Tests run: <NUM>, Failures: <NUM>, Errors: <NUM>, Skipped: <NUM>, Time elapsed: <NUM> "
        f"sec - in {WILDCARD}"
    )
    assert final.id == template_id(final.text)
    # The first line created the cluster with its own text; generalising changed the id.
    assert results[0].size == 1 and results[0].id != final.id
    assert [miner.add(line).id for line in TRAVIS_TIME] == [template_id(mask(TRAVIS_TIME[0]))] * 2


def test_distinct_messages_get_distinct_templates() -> None:
    miner = TemplateMiner()
    ids = {miner.add(line).id for line in DISTINCT}
    assert len(ids) == len(DISTINCT) == len(miner)
    assert {t.text for t in miner.templates} == {mask(line) for line in DISTINCT}


def test_similarity_threshold_decides_merging() -> None:
    lines = ["[INFO] BUILD FAILURE", "[INFO] BUILD SUCCESS"]  # 2 of 3 tokens equal
    loose, strict = TemplateMiner(similarity=0.5), TemplateMiner(similarity=0.9)
    assert [loose.add(line).size for line in lines] == [1, 2]
    assert [strict.add(line).size for line in lines] == [1, 1]
    assert loose.templates[0].text == f"[INFO] BUILD {WILDCARD}"


def test_two_miners_give_the_same_ids() -> None:
    lines = SUREFIRE + TRAVIS_TIME + DISTINCT
    first, second = TemplateMiner(), TemplateMiner()
    for line in lines:
        first.add(line)
    for line in reversed(lines):
        second.add(line)
    assert sorted((t.id, t.size) for t in first.templates) == sorted(
        (t.id, t.size) for t in second.templates
    )


def test_match_does_not_change_the_miner() -> None:
    miner = TemplateMiner()
    for line in SUREFIRE[:2]:
        miner.add(line)
    before = miner.templates
    found = miner.match(SUREFIRE[2])
    assert found is not None and found == before[0]
    assert miner.match("[INFO] BUILD FAILURE") is None
    assert miner.match("Tests run: 1, Failures: 0") is None
    assert miner.templates == before


def test_every_added_line_is_matched_by_its_final_template() -> None:
    lines = SUREFIRE + TRAVIS_TIME + DISTINCT + ["", "   "]
    templates = mine(lines)
    miner = TemplateMiner()
    for line in lines:
        miner.add(line)
    for line, template in zip(lines, templates, strict=True):
        assert miner.match(line) == template


def test_mine_gives_final_template_and_frequency_per_line() -> None:
    lines = SUREFIRE + ["[INFO] BUILD FAILURE"]
    templates = mine(lines)
    assert len(templates) == 4
    assert len({t.id for t in templates[:3]}) == 1
    assert [t.size for t in templates] == [3, 3, 3, 1]
    assert count_templates(lines) == {templates[0].id: 3, templates[3].id: 1}


def test_max_clusters_evicts_the_least_recently_used() -> None:
    miner = TemplateMiner(max_clusters=2)
    for line in DISTINCT[:3]:
        miner.add(line)
    assert len(miner) == 2
    assert [t.text for t in miner.templates] == [mask(line) for line in DISTINCT[1:3]]
    assert miner.match(DISTINCT[0]) is None
    miner.add(DISTINCT[1])  # now the most recent: the next new cluster evicts DISTINCT[2]
    miner.add(DISTINCT[3])
    assert {t.text for t in miner.templates} == {mask(DISTINCT[1]), mask(DISTINCT[3])}
    # An evicted template comes back as a new cluster, counted from one.
    assert miner.add(DISTINCT[0]).size == 1
    assert len(miner) == 2


def test_empty_and_whitespace_lines_form_one_template() -> None:
    miner = TemplateMiner()
    results = [miner.add(line) for line in ["", "   ", "\t"]]
    assert results[-1] == Template(id=template_id(""), text="", size=3)
    assert miner.match("") == results[-1]


def test_very_long_lines_are_cut_and_stay_fast() -> None:
    # A progress line as long as a minified bundle: only its first MAX_LINE_CHARS count, so two
    # that differ only further on are one template.
    head = "Receiving objects: " + " ".join(f"{i}%" for i in range(100))
    long_a = head + " x" * 200_000
    long_b = long_a[: MAX_LINE_CHARS + 10] + " and a different end"
    miner = TemplateMiner()
    start = time.perf_counter()
    first, second = miner.add(long_a), miner.add(long_b)
    assert time.perf_counter() - start < 1.0
    assert first.id == second.id and second.size == 2
    assert second.text.startswith("Receiving objects: <NUM>% <NUM>%")
    assert second.text == mask(long_a) == mask(long_a[:MAX_LINE_CHARS])
    assert mask(long_a) != mask(long_a[: MAX_LINE_CHARS - 2])


def test_tokens_with_digits_share_the_wildcard_branch() -> None:
    # tox environments: the first tokens differ and hold digits, so Drain routes both down <*>
    # (plain words get a branch each and could never meet) and merges them there.
    lines = ["py27 installdeps: pytest, coverage", "py35 installdeps: pytest, coverage"]
    miner = TemplateMiner()
    assert [miner.add(line).size for line in lines] == [1, 2]
    assert miner.templates[0].text == f"{WILDCARD} installdeps: pytest, coverage"
    # As in Drain, a new first word looks in the <*> branch too before starting a cluster.
    assert miner.add("lint installdeps: pytest, coverage").size == 3
    words = TemplateMiner()
    assert [words.add(line).size for line in ["lint installdeps: x", "docs installdeps: x"]] == [
        1,
        1,
    ]


def test_max_children_sends_overflow_to_the_wildcard_branch() -> None:
    miner = TemplateMiner(max_children=3, depth=4)
    for word in ("alpha", "beta", "gamma", "delta"):
        miner.add(f"{word} done")
    # alpha and beta got their own branch; gamma and delta shared <*> and merged there.
    assert sorted(t.size for t in miner.templates) == [1, 1, 2]


@pytest.mark.parametrize(
    "kwargs",
    [{"similarity": 1.5}, {"depth": 2}, {"max_children": 1}, {"max_clusters": 0}],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TemplateMiner(**kwargs)
