"""Score a demo run's published dataset against the demo's gold answers.

Usage: python scripts/eval_demo.py RUN_DIR [--min-recall 0.9] [--min-sentence-recall 0.0]
                                   [--stage dataset|match] [--json]

Reads RUN_DIR/dataset/{train,dev,test}.jsonl and data/demo_gold.json and reports:
- papers covered (every demo paper has records),
- answer precision/recall/F1 over (paper, arXiv id) pairs,
- the same over (gold sentence, arXiv id) pairs: a record answers for the gold sentences its
  context contains (fuzzy match on a distinctive snippet of the sentence),
- leakage: answers whose first arXiv version is newer than the source paper, and the drops the
  gold expects (non-arXiv references, newer-than-source preprints) that were not dropped.
Exits 1 when (paper, id) precision < 1.0, a recall is below its threshold, or anything leaked.
Importable: score(run_dir) -> dict. Lives beside the gold it scores against; the script is a
thin wrapper around main().
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz

from autoscholar.match import demo_index_path
from autoscholar.sources.demo.gold import demo_gold_path

GOLD = demo_gold_path()
INDEX = demo_index_path()
SPLITS = ("train", "dev", "test")
FUZZY_MIN = 90.0


def normalize(text: str) -> str:
    """Lowercase words only: callout markers, punctuation and line-end hyphens do not count."""
    text = re.sub(r"\\cite\{[^}]*\}", " ", text)
    text = re.sub(r"(\w)-\s+(\w)", r"\1\2", text)  # a hyphenated line break left in the text
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def contains(context: str, snippet: str) -> bool:
    if not snippet or not context:
        return False
    if snippet in context:
        return True
    return fuzz.partial_ratio(snippet, context) >= FUZZY_MIN


def _from_matched(row: dict) -> dict:
    """A match-stage MatchedQuery seen as a published record (to score before publishing)."""
    query, context = row["query"], row["query"]["context"]
    published = context["source"].get("published") or ""
    return {
        "query_id": query["query_id"],
        "question": query["question"],
        "source_meta": {"paper_id": context["source"]["paper_id"],
                        "published_time": published.replace("-", "")},
        "context": " ".join(context["sentences"]),
        "answer": [a["title"] for a in row["answers"]],
        "answer_arxiv_id": [a["arxiv_id"] for a in row["answers"]],
    }


def load_records(run_dir: Path, stage: str = "dataset") -> list[dict]:
    if stage == "match":
        path = Path(run_dir) / "match.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"no match.jsonl in {run_dir}")
        lines = path.read_text(encoding="utf-8").splitlines()
        return [_from_matched(json.loads(line)) for line in lines if line.strip()]
    dataset = Path(run_dir) / "dataset"
    if not dataset.is_dir():
        raise FileNotFoundError(f"no dataset folder in {run_dir}")
    records = []
    for split in SPLITS:
        path = dataset / f"{split}.jsonl"
        if path.exists():
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records


def load_index(path: Path) -> dict[str, tuple[str, dt.date]]:
    """arXiv id -> (title, date of the first version) from a Kaggle-format file."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            created = dt.datetime.strptime(row["versions"][0]["created"], "%a, %d %b %Y %H:%M:%S %Z")
            out[row["id"]] = (row["title"], created.date())
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def _published(record: dict, paper: dict) -> dt.date:
    stamp = (record.get("source_meta") or {}).get("published_time") or ""
    if re.fullmatch(r"\d{8}", stamp):
        return dt.datetime.strptime(stamp, "%Y%m%d").date()
    return dt.date.fromisoformat(paper["published"])


def score(run_dir: Path, gold_path: Path = GOLD, index_path: Path = INDEX, stage: str = "dataset") -> dict:
    gold = json.loads(Path(gold_path).read_text(encoding="utf-8"))
    index = load_index(index_path)
    records = load_records(run_dir, stage)
    papers = {p["paper_id"]: p for p in gold["papers"]}
    by_paper: dict[str, list[dict]] = {pid: [] for pid in papers}
    stray = []  # records of papers the gold does not know
    for rec in records:
        pid = (rec.get("source_meta") or {}).get("paper_id", "")
        (by_paper[pid] if pid in by_paper else stray).append(rec)

    gold_pairs = {(pid, a) for pid, p in papers.items() for a in p["gold_arxiv_ids"]}
    pred_pairs = {((rec.get("source_meta") or {}).get("paper_id", ""), a)
                  for rec in records for a in rec.get("answer_arxiv_id", [])}

    sent_gold, sent_tp, sent_fp = set(), set(), set()
    leaks, undropped, unknown, mismatched = [], [], [], []
    per_paper = {}
    for pid, paper in papers.items():
        recs = by_paper[pid]
        contexts = [normalize(r.get("context", "")) for r in recs]
        found = 0
        # which gold sentences each record's context holds
        holds: list[list[int]] = [[] for _ in recs]
        for si, sent in enumerate(paper["sentences"]):
            snip = normalize(sent["snippet"])
            hit = False
            for ri, ctx in enumerate(contexts):
                if contains(ctx, snip):
                    holds[ri].append(si)
                    hit = True
            found += hit
            sent_gold |= {(pid, si, a) for a in sent["gold_arxiv_ids"]}
        for ri, rec in enumerate(recs):
            for a in rec.get("answer_arxiv_id", []):
                good = [si for si in holds[ri] if a in paper["sentences"][si]["gold_arxiv_ids"]]
                if good:
                    sent_tp |= {(pid, si, a) for si in good}
                else:
                    sent_fp.add((pid, tuple(holds[ri]), a))
                if a not in index:
                    unknown.append({"paper_id": pid, "arxiv_id": a, "query_id": rec.get("query_id")})
                elif index[a][1] > _published(rec, paper):
                    leaks.append({"paper_id": pid, "arxiv_id": a, "first_version": str(index[a][1]),
                                  "query_id": rec.get("query_id")})
            for title, a in zip(rec.get("answer", []), rec.get("answer_arxiv_id", [])):
                if a in index and normalize(title) != normalize(index[a][0]):
                    mismatched.append({"paper_id": pid, "arxiv_id": a, "answer": title})
        answered = {a for r in recs for a in r.get("answer_arxiv_id", [])}
        for drop in paper["dropped"]:
            if drop["arxiv_id"] and drop["arxiv_id"] in answered:
                undropped.append({"paper_id": pid, **drop})
        gold_ids = set(paper["gold_arxiv_ids"])
        per_paper[pid] = {
            "records": len(recs),
            "sentences": len(paper["sentences"]),
            "sentences_found": found,
            **_prf(len(answered & gold_ids), len(answered - gold_ids), len(gold_ids - answered)),
        }

    sent_fn = sent_gold - sent_tp
    return {
        "run_dir": str(run_dir),
        "records": len(records),
        "papers_total": len(papers),
        "papers_covered": sum(1 for pid in papers if by_paper[pid]),
        "missing_papers": [pid for pid in papers if not by_paper[pid]],
        "stray_records": len(stray),
        "sentences_total": sum(v["sentences"] for v in per_paper.values()),
        "sentences_found": sum(v["sentences_found"] for v in per_paper.values()),
        "paper_pairs": _prf(len(pred_pairs & gold_pairs), len(pred_pairs - gold_pairs), len(gold_pairs - pred_pairs)),
        "sentence_pairs": _prf(len(sent_tp), len(sent_fp), len(sent_fn)),
        "leaks": leaks,
        "expected_drops_not_dropped": undropped,
        "unknown_ids": unknown,
        "title_mismatches": mismatched,
        "per_paper": per_paper,
    }


def failures(result: dict, min_recall: float = 0.9, min_sentence_recall: float = 0.0) -> list[str]:
    out = []
    if result["paper_pairs"]["precision"] < 1.0:
        out.append(f"answer precision {result['paper_pairs']['precision']:.3f} < 1.0")
    if result["paper_pairs"]["recall"] < min_recall:
        out.append(f"answer recall {result['paper_pairs']['recall']:.3f} < {min_recall}")
    if result["sentence_pairs"]["recall"] < min_sentence_recall:
        out.append(f"sentence recall {result['sentence_pairs']['recall']:.3f} < {min_sentence_recall}")
    if result["missing_papers"]:
        out.append(f"papers without records: {', '.join(result['missing_papers'])}")
    if result["leaks"] or result["expected_drops_not_dropped"]:
        out.append(f"{len(result['leaks'])} answers newer than their source, "
                   f"{len(result['expected_drops_not_dropped'])} expected drops kept")
    return out


def markdown(result: dict) -> str:
    rows = ["| paper | records | sentences found | P | R | F1 |", "|---|---:|---:|---:|---:|---:|"]
    for pid, v in result["per_paper"].items():
        rows.append(f"| {pid} | {v['records']} | {v['sentences_found']}/{v['sentences']} | "
                    f"{v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} |")
    for name in ("paper_pairs", "sentence_pairs"):
        v = result[name]
        label = "(paper, id) pairs" if name == "paper_pairs" else "(sentence, id) pairs"
        rows.append(f"| **{label}** | tp {v['tp']} fp {v['fp']} fn {v['fn']} | | "
                    f"{v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} |")
    lines = [
        f"Demo evaluation of `{result['run_dir']}`: {result['records']} records, "
        f"{result['papers_covered']}/{result['papers_total']} papers covered, "
        f"{result['sentences_found']}/{result['sentences_total']} gold sentences found in contexts.",
        "",
        *rows,
        "",
        f"- leaks (answer newer than source): {len(result['leaks'])}",
        f"- expected drops kept as answers: {len(result['expected_drops_not_dropped'])}",
        f"- answer ids missing from the index: {len(result['unknown_ids'])}",
        f"- answer titles not matching the index: {len(result['title_mismatches'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--min-recall", type=float, default=0.9)
    parser.add_argument("--min-sentence-recall", type=float, default=0.0)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--index", type=Path, default=INDEX)
    parser.add_argument("--stage", choices=("dataset", "match"), default="dataset",
                        help="score the published dataset (default) or match.jsonl before publishing")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON too")
    args = parser.parse_args(argv)
    try:
        result = score(args.run_dir, args.gold, args.index, args.stage)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"eval_demo: {err}", file=sys.stderr)
        return 2
    print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=1))
    problems = failures(result, args.min_recall, args.min_sentence_recall)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0

