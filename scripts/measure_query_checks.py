"""How the query checks (autoscholar/generate/validate.py) behave on real text.

Also prints, per run, the contexts and the estimated prompt tokens they cost with prompt v1
and v2 (so a paragraph-unit and a section-unit run of the same PDFs compare the two units).

Reads run directories made with the offline generator (`--llm none`), whose questions are
built from the citing sentences themselves, so they talk about the cited work the way a
passage does. Prints, for the title check, the partial-ratio distribution of each question
against its answers' titles and against the titles of the context's other entries, by title
length; and how often each check would fire on the offline queries.

    python scripts/measure_query_checks.py runs/demo runs/local-pdf
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path

from rapidfuzz import fuzz

from autoscholar.config import QUERY_CHECKS
from autoscholar.generate import validate
from autoscholar.io import read_jsonl
from autoscholar.generate import prompt
from autoscholar.generate.cost import estimate_prompt_tokens
from autoscholar.records import CitationContext, Query


def _quantiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    values = sorted(values)
    at = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return (f"n={len(values)} median={statistics.median(values):.0f} p90={at(0.9):.0f} "
            f"p99={at(0.99):.0f} max={values[-1]:.0f} "
            f">={validate.TITLE_THRESHOLD:.0f}: {sum(v >= validate.TITLE_THRESHOLD for v in values)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    args = ap.parse_args()
    for run in args.runs:
        found = list(read_jsonl(run / "contexts.jsonl", CitationContext))
        tokens = {v: sum(estimate_prompt_tokens(prompt.format_input(c, v)) for c in found)
                  for v in ("generate_v1", "generate_v2")}
        unit = "section" if any(c.provenance for c in found) else "paragraph"
        print(f"{run}: {len(found)} {unit} contexts, estimated prompt tokens "
              + ", ".join(f"{v} {n}" for v, n in tokens.items()))
    queries = [q for run in args.runs for q in read_jsonl(run / "generate.jsonl", Query)]
    print(f"{len(queries)} offline queries from {len(args.runs)} runs")
    scores: dict[tuple[str, str], list[float]] = {}
    high: list[tuple[float, str, str]] = []
    for q in queries:
        asked = validate.normalize(q.question)
        for ref in q.context.refs:
            title = validate.normalize(ref.title or "")
            if not title:
                continue
            size = "short (<5 words)" if len(title.split()) < validate.TITLE_MIN_WORDS else "long"
            kind = "answer" if ref.key in q.answer_keys else "other entry"
            score = fuzz.partial_ratio(title, asked)
            scores.setdefault((kind, size), []).append(score)
            if kind == "answer" and score >= 85:
                high.append((score, ref.title or "", q.question))
    for (kind, size), values in sorted(scores.items()):
        print(f"title vs question, {kind:11s} {size:17s} {_quantiles(values)}")
    print("answer pairs scoring 85+ (score, title | question):")
    for score, title, question in sorted(high, reverse=True)[:15]:
        print(f"  {score:5.1f} {title[:60]!r} | {question[:90]!r}")
    fired = Counter()
    for q in queries:
        for name, check in validate.CHECKS.items():
            if check(q.question, q.answer_keys, q.context):
                fired[name] += 1
    print("checks that would fire on the offline queries (defaults "
          f"{QUERY_CHECKS}):")
    for name in validate.CHECKS:
        print(f"  {name:20s} {fired[name]}")


if __name__ == "__main__":
    main()
