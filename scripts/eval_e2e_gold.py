"""End to end on the LaTeX pairs: the arXiv ids a built run resolves for each paper's Related
Work citations, against the gold entries' arXiv ids that the catalogue holds.

    autoscholar build --venue local --pdf-dir DIR_OF_<pair>.pdf --arxiv-index IDX --out RUN
    python scripts/eval_e2e_gold.py RUN [--data ../shared/data] [--catalogue catalog.jsonl]

Every answer of match.jsonl is one (paper, reference key, arXiv id). It is right when its
reference is a gold Related Work entry (latex_gold.entry_matches) whose printed arXiv id is the
answer, or, for a gold entry printing none, whose title is the answer's arXiv title (fuzzy).
Recall counts the gold Related Work entries with an arXiv id in the catalogue that the run
answers with that id. Answers before the publish stage's leak filter: the filter is a policy,
not an error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parent))
import latex_gold  # noqa: E402

from autoscholar.io import read_jsonl  # noqa: E402
from autoscholar.records import BibEntry, MatchedQuery  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _folder(paper_id: str, names: list[str]) -> str | None:
    # a local paper id is its PDF's stem, or the stem with a hash after it
    for name in sorted(names, key=len, reverse=True):
        if paper_id == name or paper_id.startswith(name + "-"):
            return name
    return None


def score(run: Path, data: Path = DATA, catalogue: Path | None = None) -> list[dict]:
    """One row per LaTeX pair: gold ids the catalogue holds (`want`), those answered (`found`),
    the run's answers (`answers`) and the right ones (`right`)."""
    root = data / "latex_pairs"
    catalogue = catalogue or data / "arxiv" / "catalog_213k.jsonl"
    held = {json.loads(ln)["id"] for ln in catalogue.open()}
    golds = {p.name: json.loads((p / "gold.json").read_text())
             for p in root.iterdir() if (p / "gold.json").exists()}
    answers: dict[str, dict[tuple[str, str], tuple[BibEntry, str]]] = defaultdict(dict)
    for m in read_jsonl(run / "match.jsonl", MatchedQuery):
        name = _folder(m.query.context.source.paper_id, list(golds))
        refs = {r.key: r for r in m.query.context.refs}
        for a in m.answers:
            answers[name][(a.key, a.arxiv_id)] = (refs[a.key], a.title)
    rows = []
    for name, gold in sorted(golds.items()):
        entries = {k: gold["entries"][k] for k in gold["related_work_keys"] if k in gold["entries"]}
        want = {k for k, e in entries.items() if e.get("arxiv") and e["arxiv"] in held}
        right, found = 0, set()
        for (key, arxiv_id), (ref, title) in answers.get(name, {}).items():
            for k, e in entries.items():
                if not latex_gold.entry_matches(ref, e):
                    continue
                if e.get("arxiv") == arxiv_id or not e.get("arxiv") and fuzz.ratio(
                        latex_gold._norm(title), latex_gold._norm(e["title"])) >= 90:
                    right += 1
                    if k in want and e.get("arxiv") == arxiv_id:
                        found.add(k)
                    break
        rows.append({"paper": name, "want": len(want), "found": len(found & want),
                     "answers": len(answers.get(name, {})), "right": right})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--catalogue", type=Path)
    args = ap.parse_args(argv)
    rows = score(args.run, args.data, args.catalogue)
    print("| paper | gold ids held | found | answers | right |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['paper']} | {r['want']} | {r['found']} | {r['answers']} | {r['right']} |")
    tot = {k: sum(r[k] for r in rows) for k in ("want", "found", "answers", "right")}
    print(f"| **overall** | {tot['want']} | {tot['found']} (recall "
          f"{tot['found'] / max(tot['want'], 1):.3f}) | {tot['answers']} | {tot['right']} "
          f"(precision {tot['right'] / max(tot['answers'], 1):.3f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
