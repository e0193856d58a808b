"""The local and the Ray executor on the same input: seconds and inputs/s per stage.

A --venue local build of a folder of PDFs, stage by stage, once with --executor local (its
parse workers: --cpus) and once with --executor ray on a local Ray instance of --cpus CPUs
(started before the clock runs; its start-up is reported apart). Then the generate stage
against an OpenAI-compatible server with a fixed latency per request (the tests' fake, in a
process of its own), with the same --llm-concurrency under both executors: the requests in
flight are capped for the whole cluster, so Ray should not be faster there.

    python scripts/bench_executors.py [--pdf-dir ../shared/data/pdf] [--cpus 2]
        [--arxiv-index ../shared/data/arxiv/catalog_213k.jsonl] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "scripts"))
from bench_generate import _serve  # noqa: E402

from autoscholar.config import Settings  # noqa: E402
from autoscholar.stages import build, redo, run_named  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
STAGES = ("fetch", "parse", "contexts", "generate", "match")


def timed_build(settings: Settings) -> dict:
    out = {}
    for stage in STAGES:
        start = time.perf_counter()
        stats = build(settings, stages=[stage])[stage]
        seconds = time.perf_counter() - start
        out[stage] = {"inputs": stats["processed"], "seconds": round(seconds, 2),
                      "per_s": round(stats["processed"] / seconds, 2)}
    return out


def _lines(run_dir: Path, stage: str) -> list[bytes]:
    raw = (run_dir / f"{stage}.jsonl").read_bytes().replace(str(run_dir).encode(), b"RUN")
    return sorted(raw.splitlines())


def timed_llm(run_dir: Path, settings: Settings) -> dict:
    redo(run_dir, "generate")
    shutil.rmtree(run_dir / "cache" / "llm", ignore_errors=True)
    start = time.perf_counter()
    stats = run_named("generate", settings, run_dir)
    seconds = time.perf_counter() - start
    return {"requests": stats["extra"]["usage"]["this_run"]["requests"],
            "seconds": round(seconds, 2),
            "requests_per_s": round(stats["extra"]["usage"]["this_run"]["requests"] / seconds, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf-dir", type=Path, default=SHARED / "pdf")
    ap.add_argument("--arxiv-index", type=Path, default=SHARED / "arxiv" / "catalog_213k.jsonl")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--shard-size", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.5, help="seconds per LLM request")
    ap.add_argument("--concurrency", type=int, default=4, help="LLM requests in flight")
    args = ap.parse_args()

    import ray

    work = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    result: dict = {"pdfs": len(list(args.pdf_dir.glob("*.pdf"))), "cpus": args.cpus,
                    "shard_size": args.shard_size, "load_average": os.getloadavg()}
    try:
        index = args.arxiv_index
        if index.is_file():  # built once, outside the clock: both runs load the same folder
            from autoscholar.arxiv.index import build_index

            build_index(index, work / "index")
            index = work / "index"
        common = dict(venue="local", pdf_dir=args.pdf_dir, arxiv_index=index)
        local = Settings(run_dir=work / "local", parse_workers=args.cpus, **common)
        result["local"] = timed_build(local)

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                 logging_level="WARNING")
        result["ray_start_s"] = round(time.perf_counter() - start, 2)
        on_ray = Settings(run_dir=work / "ray", executor="ray", shard_size=args.shard_size,
                          **common)
        result["ray"] = timed_build(on_ray)
        # Same records: with several parse workers the local executor writes parse results
        # in the order they finish (the Ray one in input order), so lines are compared sorted.
        same = all(_lines(work / "local", s) == _lines(work / "ray", s) for s in STAGES)
        result["same_records"] = same

        ready, stop = mp.Queue(), mp.Event()
        server = mp.Process(target=_serve, args=(args.latency, ready, stop), daemon=True)
        server.start()
        try:
            llm = dict(llm="bench-model", llm_base_url=ready.get(timeout=30),
                       llm_concurrency=args.concurrency, llm_json_mode="json_schema")
            result["llm"] = {
                "latency_s": args.latency, "concurrency": args.concurrency,
                "ideal_per_s": round(args.concurrency / args.latency, 2),
                "local": timed_llm(work / "local", local.model_copy(update=llm)),
                "ray": timed_llm(work / "ray", on_ray.model_copy(update=llm)),
            }
        finally:
            stop.set()
            server.join(10)
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
