"""The optional LLM of the diagnosis, measured with the small local model (issue 15, item 4).

On dev-side texts of the labelled corpus (`corpus/`, split by `recoverops.sides`; one text per
category in turn, the first `--incidents` of them), each run:

  no LLM        the diagnosis without an LLM (`diagnose`), per incident
  first         the diagnosis with the LLM, a fresh cache: every incident asks the server
  recurring     the same incidents again, as a recurring failure would come: answered from the
                cache (the fingerprint's answer), no request

and prints, as the median of `--runs` runs: latency per incident (median and 90th percentile over
the incidents), the tokens per request (prompt and completion, as the server counted them), how
many answers passed the schema, and the cache hit rate on the recurrences. The server is
llama.cpp's (`xllamacpp`) serving SmolLM2-135M-Instruct Q4 on 127.0.0.1 with one thread
(`tests/llm_server.py`); the machine's load average is printed, since the latency follows it.

    .venv/bin/python bench/llm.py [--incidents 8] [--runs 3] [--threads 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from itertools import zip_longest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from corpus_quality import load_texts  # noqa: E402

from recoverops.detector import analyze_text  # noqa: E402
from recoverops.diagnosis import diagnose  # noqa: E402
from recoverops.diagnosis.llm import Advisor, AnswerCache, ChatClient  # noqa: E402
from recoverops.settings import Settings  # noqa: E402
from tests.llm_server import local_llm  # noqa: E402


def dev_incidents(count: int) -> list[tuple[str, str]]:
    """(name, text) of `count` dev-side corpus texts, one category after another."""
    by_category: dict[str, list[Path]] = {}
    for text in load_texts(ROOT / "corpus"):
        if text.side == "dev" and text.category != "unknown":
            by_category.setdefault(text.category, []).append(text.path)
    spread = [p for row in zip_longest(*by_category.values()) for p in row if p is not None]
    return [(f"{p.parent.name}/{p.name}", p.read_text("utf-8")) for p in spread[:count]]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_run(url: str, incidents: list[tuple[str, str]], settings: Settings) -> dict[str, Any]:
    client = ChatClient(
        base_url=url,
        model=None,
        api_key=None,
        timeout_s=settings.llm_timeout_s,
        retries=settings.llm_retries,
        answer_tokens=settings.llm_answer_tokens,
    )
    advisor = Advisor(client, context_tokens=settings.llm_context_tokens, cache=AnswerCache())
    plain: list[float] = []
    first: list[float] = []
    again: list[float] = []
    prompt: list[int] = []
    completion: list[int] = []
    used = 0
    hits = 0
    reasons: Counter[str] = Counter()
    analyses = [(text, analyze_text(text)) for _, text in incidents]
    for text, analysis in analyses:
        started = time.perf_counter()
        diagnose(analysis, text=text)
        plain.append(time.perf_counter() - started)
    for text, analysis in analyses:
        started = time.perf_counter()
        result = diagnose(analysis, text=text, advisor=advisor)
        first.append(time.perf_counter() - started)
        llm = result.root_cause.llm or {}
        if llm.get("used"):
            used += 1
        else:
            reasons[str(llm.get("reason", "?")).split(":")[0]] += 1
        if llm.get("prompt_tokens"):
            prompt.append(int(llm["prompt_tokens"]))
            completion.append(int(llm.get("completion_tokens") or 0))
    requests = advisor.requests
    for text, analysis in analyses:
        started = time.perf_counter()
        result = diagnose(analysis, text=text, advisor=advisor)
        again.append(time.perf_counter() - started)
        hits += bool((result.root_cause.llm or {}).get("cached"))
    return {
        "no_llm_median_s": statistics.median(plain),
        "no_llm_p90_s": percentile(plain, 0.9),
        "first_median_s": statistics.median(first),
        "first_p90_s": percentile(first, 0.9),
        "recurring_median_s": statistics.median(again),
        "prompt_tokens": statistics.mean(prompt) if prompt else 0.0,
        "completion_tokens": statistics.mean(completion) if completion else 0.0,
        "answers_used": used / len(analyses),
        # Recurrences answered from the cache, of those whose first occurrence was answered
        # (a failed answer is not kept, so its recurrence asks again).
        "cache_hit_rate": hits / used if used else 0.0,
        "requests_on_recurrence": advisor.requests - requests,
        "fallbacks": dict(reasons),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    incidents = dev_incidents(args.incidents)
    if not incidents:
        print("no dev-side texts under corpus/", file=sys.stderr)
        return 2
    # The settings' defaults (timeout, retries, budgets), whatever the environment says.
    settings = Settings(llm_base_url="http://127.0.0.1:1/v1")
    load_before = os.getloadavg()[0]
    runs = []
    with local_llm(threads=args.threads) as url:
        for _ in range(args.runs):
            runs.append(one_run(url, incidents, settings))
    numbers = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    median = {k: statistics.median(run[k] for run in runs) for k in numbers}
    fallbacks: Counter[str] = Counter()
    for run in runs:
        fallbacks.update(run["fallbacks"])
    report = {
        "incidents": len(incidents),
        "runs": args.runs,
        "threads": args.threads,
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "context_tokens_budget": settings.llm_context_tokens,
        "answer_tokens_budget": settings.llm_answer_tokens,
        **{k: round(v, 4) for k, v in median.items()},
        "fallbacks_all_runs": dict(fallbacks),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(
        f"LLM path: {len(incidents)} dev-side corpus incidents, median of {args.runs} runs, "
        f"SmolLM2-135M Q4 on llama.cpp ({args.threads} thread(s)), load average "
        f"{report['load_average'][0]} -> {report['load_average'][1]}"
    )
    rows = [
        ("diagnosis without LLM, per incident (median / p90)", "no_llm_median_s", "no_llm_p90_s"),
        ("with LLM, first occurrence (median / p90)", "first_median_s", "first_p90_s"),
        ("with LLM, recurrence (cache) (median)", "recurring_median_s", None),
    ]
    print(f"{'':58} {'seconds':>18}")
    for label, key, p90 in rows:
        value = f"{median[key]:.4f}" + ("" if p90 is None else f" / {median[p90]:.4f}")
        print(f"{label:58} {value:>18}")
    print(f"{'prompt tokens per request (mean)':58} {median['prompt_tokens']:>18.0f}")
    print(f"{'completion tokens per request (mean)':58} {median['completion_tokens']:>18.0f}")
    print(f"{'answers that passed the schema':58} {median['answers_used']:>18.0%}")
    print(f"{'cache hit rate on recurring failures':58} {median['cache_hit_rate']:>18.0%}")
    print(f"{'requests made for the recurrences':58} {median['requests_on_recurrence']:>18.0f}")
    if fallbacks:
        print(f"fallbacks (all runs): {dict(fallbacks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
