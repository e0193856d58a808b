"""Peak memory and throughput of the streaming stages at two run sizes (issue 13).

Parses the real PDFs of ../shared/data/pdf once (fetch + parse of a local folder), then writes
synthetic runs of --sizes papers each: parse.jsonl records drawn in turn from those real parsed
papers (their real sections, sentences and bibliographies; only the ids differ), so every size
has the same shapes. Each stage then runs over each size in its own process, so its peak RSS is
its own: contexts (parse.jsonl -> contexts.jsonl), generate (offline), match (against an index
of ../shared/data/arxiv/catalog_213k.jsonl, memory-mapped; its RSS includes the pages of the
index it touched).

    python scripts/bench_scale.py [--sizes 2000 10000] [--workdir DIR]

The ratio column is peak RSS at the largest size over peak RSS at the smallest: a stage that
streams stays near 1.0 whatever the sizes; one that holds its input grows with it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STAGES = ("contexts", "generate", "match")


def _need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"bench_scale needs {path} (../shared/data beside the checkout)")
    return path


def template_run(work: Path, index: Path) -> Path:
    """fetch + parse of the real PDFs, once per workdir."""
    from autoscholar.config import Settings
    from autoscholar.stages import build

    run_dir = work / "template"
    if not (run_dir / "parse.done").exists():
        build(Settings(venue="local", pdf_dir=_need(DATA / "pdf"), run_dir=run_dir,
                       arxiv_index=index), stages=("fetch", "parse"))
    return run_dir


def index_dir(work: Path) -> Path:
    from autoscholar.arxiv.index import build_index

    out = work / "index"
    if not (out / "meta.json").exists():
        build_index(_need(DATA / "arxiv" / "catalog_213k.jsonl"), out)
    return out


def synthetic_run(template: Path, run_dir: Path, papers: int) -> int:
    """parse.jsonl of `papers` records cycling through the template's parsed papers; bytes."""
    lines = [json.loads(ln) for ln in (template / "parse.jsonl").read_bytes().splitlines() if ln.strip()]
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "parse.jsonl", "w", encoding="utf-8") as fh:
        for n in range(papers):
            record = lines[n % len(lines)]
            record["paper"]["paper_id"] = f"syn{n:07d}"
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
    return (run_dir / "parse.jsonl").stat().st_size


def _stage(name: str, run_dir: str, index: str, q) -> None:
    from autoscholar.config import Settings
    from autoscholar.stages import BY_NAME

    settings = Settings(venue="local", pdf_dir=str(DATA / "pdf"), run_dir=run_dir, arxiv_index=index)
    t0, c0 = time.perf_counter(), time.process_time()
    stats = BY_NAME[name].function()(settings, Path(run_dir))
    q.put({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
           "inputs": stats.inputs, "outputs": stats.outputs,
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run_stage(name: str, run_dir: Path, index: Path) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_stage, args=(name, str(run_dir), str(index), q))
    p.start()
    result = q.get()
    p.join()
    if p.exitcode:
        sys.exit(f"{name} failed in {run_dir} (exit {p.exitcode})")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--workdir", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    os.environ.setdefault("AUTOSCHOLAR_PROGRESS_INTERVAL", "0")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()[0]
    try:
        index = index_dir(work)
        template = template_run(work, index)
        results: dict[int, dict] = {}
        for size in args.sizes:
            run_dir = work / f"run-{size}"
            shutil.rmtree(run_dir, ignore_errors=True)
            nbytes = synthetic_run(template, run_dir, size)
            results[size] = {"parse_mib": nbytes / 2**20}
            for name in STAGES:
                results[size][name] = run_stage(name, run_dir, index)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    small, large = min(args.sizes), max(args.sizes)
    sizes = ", ".join(f"{s:,} papers {results[s]['parse_mib']:,.0f} MiB" for s in args.sizes)
    print(f"parse.jsonl: {sizes}; load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    head = " | ".join(f"{s:,} papers: peak RSS MiB | inputs/CPU-s" for s in args.sizes)
    print(f"| stage | {head} | RSS {large:,} / {small:,} |")
    print("|---|" + "---:|---:|" * len(args.sizes) + "---:|")
    for name in STAGES:
        cells = " | ".join(f"{results[s][name]['rss_mb']:,.0f} | "
                           f"{results[s][name]['inputs'] / max(results[s][name]['cpu'], 1e-9):,.0f}"
                           for s in args.sizes)
        ratio = results[large][name]["rss_mb"] / results[small][name]["rss_mb"]
        print(f"| {name} | {cells} | {ratio:.2f} |")
    print("\n" + json.dumps({str(s): results[s] for s in args.sizes}, indent=1))


if __name__ == "__main__":
    main()
