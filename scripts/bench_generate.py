"""Generate-stage throughput and caching against an OpenAI-compatible server with a fixed
per-request latency (the tests' fake server, on 127.0.0.1).

The ideal rate with C requests in flight and latency L is C / L requests per second; the stage
should reach >= 90% of it (the rest is prompt building, validation, cache writes and the
runner). A rerun over the same contexts must answer 100% from the cache.

The server runs in a process of its own, as a real one would: in the same process its
threads would compete with the client's for the GIL and the benchmark would measure that.
Requests are counted as the cache entries they leave.

    python scripts/bench_generate.py [--contexts 200] [--latency 0.5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for where in (ROOT / "tests" / "fakes", ROOT / "tests"):
    if (where / "openai_server.py").exists():
        sys.path.insert(0, str(where))
        break
from openai_server import FakeOpenAI  # noqa: E402

from autoscholar.config import Settings  # noqa: E402
from autoscholar.generate.stage import generate  # noqa: E402
from autoscholar.io import read_jsonl  # noqa: E402
from autoscholar.records import CitationContext  # noqa: E402
from autoscholar.stages import build  # noqa: E402


def contexts_dir(work: Path, n: int) -> Path:
    """A run directory whose contexts.jsonl holds n distinct contexts made from the demo's."""
    demo = work / "demo"
    build(Settings(venue="demo", run_dir=demo), stages=["fetch", "parse", "contexts"])
    base = list(read_jsonl(demo / "contexts.jsonl", CitationContext))
    run = work / "run"
    run.mkdir()
    with (run / "contexts.jsonl").open("w") as out:
        for i in range(n):
            c = base[i % len(base)]
            copy = c.model_copy(update={"context_id": f"bench{i}:0",
                                        "sentences": [f"({i})"] + c.sentences})
            out.write(copy.model_dump_json() + "\n")
    (run / "contexts.done").write_text("")
    return run


def _serve(latency: float, ready, stop) -> None:
    def reply(body):
        time.sleep(latency)
        keys = [r.split("]")[0][1:] for r in body["messages"][0]["content"].split("\n")
                if r.startswith("[")][:2]
        return 200, json.dumps({"queries": [{"question": "Which papers study this method?",
                                             "answer_keys": keys or ["x"]}]})

    with FakeOpenAI(reply) as server:
        ready.put(server.base_url)
        stop.wait()


def _entries(run: Path) -> int:
    return sum(1 for _ in (run / "cache" / "llm").glob("*/*.json"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.5, help="seconds per request")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    try:
        run = contexts_dir(work, args.contexts)
        ready, stop = mp.Queue(), mp.Event()
        server = mp.Process(target=_serve, args=(args.latency, ready, stop), daemon=True)
        server.start()
        try:
            settings = Settings(llm="bench-model", llm_base_url=ready.get(timeout=30),
                                run_dir=run, llm_concurrency=args.concurrency,
                                llm_json_mode="json_schema")
            start = time.perf_counter()
            stats = generate(settings, run)
            seconds = time.perf_counter() - start
            sent = _entries(run)
            for name in ("generate.jsonl", "generate.done", "generate.rejects.jsonl"):
                (run / name).unlink(missing_ok=True)
            again = generate(settings, run)
            resent = _entries(run) - sent
        finally:
            stop.set()
            server.join(10)
        ideal = args.concurrency / args.latency
        rate = sent / seconds
        print(json.dumps({
            "contexts": args.contexts, "latency_s": args.latency,
            "concurrency": args.concurrency, "requests": sent, "seconds": round(seconds, 2),
            "requests_per_s": round(rate, 2), "ideal_per_s": round(ideal, 2),
            "ratio_to_ideal": round(rate / ideal, 3), "outputs": stats.outputs,
            "rerun_requests": resent, "rerun_cache_hit_rate":
                round(1 - resent / max(1, again.processed), 3),
        }, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
