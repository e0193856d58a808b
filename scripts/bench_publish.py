"""Publish and its near-duplicate removal (MinHash LSH) at PaSa's size and ten times it.

Takes the first N lines of a match.jsonl (e.g. of the 100,000-paper run scripts/bench_scale.py
leaves in its --workdir) into a run directory of its own for each N. That run repeats the real
papers of ../shared under new ids, so a question seen before has half its words replaced by
words drawn (seeded) from the questions' own vocabulary: near-duplicates are then as rare as in
a real venue instead of nearly every query. Then, each in its own process so its peak RSS is
its own:
  near-dup  near_duplicate_queries over the (query_id, paper, question) of the N queries
  publish   the whole stage: dedup, split, JSONL, parquet and card

    python scripts/bench_publish.py --match /tmp/bench/run-100000/match.jsonl [--sizes 35000 350000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _near_dup(run_dir: str, q) -> None:
    from autoscholar.io import read_jsonl
    from autoscholar.near_duplicates import near_duplicate_queries
    from autoscholar.records import MatchedQuery

    items = [(m.query.query_id, m.query.context.source.paper_id, m.query.question)
             for m in read_jsonl(Path(run_dir) / "match.jsonl", MatchedQuery) if m.answers]
    base = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    dropped = near_duplicate_queries(items)
    q.put({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
           "queries": len(items), "dropped": len(dropped), "rss_mb": _rss_mb(), "rss_before_mb": base})


def _publish(run_dir: str, q) -> None:
    from autoscholar.config import Settings
    from autoscholar.publish import publish

    t0, c0 = time.perf_counter(), time.process_time()
    stats = publish(Settings(venue="local", pdf_dir=run_dir, run_dir=run_dir), Path(run_dir))
    q.put({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
           "examples": stats.examples, "rejects": stats.rejects, "rss_mb": _rss_mb()})


def _run(target, run_dir: Path) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(str(run_dir), q))
    p.start()
    result = q.get()
    p.join()
    return result


def _varied(lines):
    """The lines, each question seen before with every other word replaced (seeded)."""
    rng = random.Random(0)
    seen: set[str] = set()
    vocab: list[str] = []
    for line in lines:
        if not line.endswith(b"\n"):
            return
        record = json.loads(line)
        query = record["query"]
        words = query["question"].split()
        if len(vocab) < 50_000:
            vocab.extend(words)
        if query["question"] in seen:
            query["question"] = " ".join(rng.choice(vocab) if i % 2 else w for i, w in enumerate(words))
        seen.add(query["question"])
        yield json.dumps(record, separators=(",", ":")).encode() + b"\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--match", type=Path, required=True, help="a match.jsonl to take queries from")
    ap.add_argument("--sizes", type=int, nargs="+", default=[35_000, 350_000])
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("AUTOSCHOLAR_PROGRESS_INTERVAL", "0")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_publish_"))
    results = {}
    try:
        for size in args.sizes:
            run_dir = work / f"publish-{size}"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            with open(args.match, "rb") as src, open(run_dir / "match.jsonl", "wb") as dst:
                taken = 0
                for line in _varied(src):
                    if taken == size:
                        break
                    dst.write(line)
                    taken += 1
            if taken < size:
                sys.exit(f"{args.match} has only {taken:,} queries, fewer than {size:,}")
            mib = (run_dir / "match.jsonl").stat().st_size / 2**20
            results[size] = {"match_mib": mib, "near_dup": _run(_near_dup, run_dir),
                             "publish": _run(_publish, run_dir)}
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print("| queries (match.jsonl) | near-dup s (CPU) | near-dup peak RSS MiB | publish s (CPU) "
          "| publish peak RSS MiB | published |")
    print("|---|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        nd, pb = r["near_dup"], r["publish"]
        print(f"| {size:,} ({r['match_mib']:,.0f} MiB) | {nd['seconds']:,.1f} ({nd['cpu']:,.1f}) | "
              f"{nd['rss_mb']:,.0f} (before: {nd['rss_before_mb']:,.0f}) | {pb['seconds']:,.1f} "
              f"({pb['cpu']:,.1f}) | {pb['rss_mb']:,.0f} | {sum(pb['examples'].values()):,} |")
    print("\n" + json.dumps({str(k): v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
