"""Fetch-stage download rate with 1 and with N workers, against the tests' PDF host on
127.0.0.1 (tests/fakes/pdf_server.py) with a fixed latency per PDF, standing in for a venue's
server. Every PDF is verified as in a real run (Content-Length, %%EOF, PyMuPDF's page count).

With latency L and W workers the ideal rate is W / L PDFs per second; a host limit of
RPS:INFLIGHT caps it at min(RPS, INFLIGHT / L). The server runs in a process of its own, so its
threads do not compete with the client's for the GIL.

    python scripts/bench_fetch.py [--papers 40] [--latency 0.25] [--workers 1 4]
                                  [--host-rate 2:2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

from autoscholar.config import Settings  # noqa: E402
from autoscholar.fetch import fetch  # noqa: E402
from autoscholar.records import Paper  # noqa: E402


def serve(latency: float, papers: int, root_out, stop) -> None:
    from pdf_server import PdfHost

    with PdfHost(delay=latency) as host:
        for i in range(papers):  # made before the clock starts: the server is not measured
            host.pdf(f"p{i:04d}")
        root_out.put(host.root)
        stop.wait()


def one_run(root: str, papers: int, workers: int, host_rate: str | None, work: Path) -> dict:
    run = work / f"w{workers}-{host_rate or 'nolimit'}"
    run.mkdir()
    listed = [Paper(paper_id=f"p{i:04d}", venue="iclr", year=2024, pdf_url=f"{root}/p{i:04d}.pdf")
              for i in range(papers)]
    (run / "listing.jsonl").write_text("".join(p.model_dump_json() + "\n" for p in listed))
    (run / "listing.source.json").write_text(json.dumps({"venue": "iclr", "year": 2024,
                                                         "pdf_dir": None}))
    rates = [f"127.0.0.1={host_rate}"] if host_rate else []
    settings = Settings(venue="iclr", year=2024, run_dir=run, fetch_workers=workers,
                        host_rates=rates)
    start = time.perf_counter()
    stats = fetch(settings, run)
    seconds = time.perf_counter() - start
    assert stats.outputs == papers, stats
    return {"workers": workers, "host_rate": host_rate or "none (loopback)", "papers": papers,
            "seconds": round(seconds, 2), "pdfs_per_s": round(papers / seconds, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=40)
    ap.add_argument("--latency", type=float, default=0.25)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--host-rate", default="2:2", help="RPS:INFLIGHT also measured at the "
                    "highest worker count ('' to skip)")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    root_q, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(args.latency, args.papers, root_q, stop), daemon=True)
    server.start()
    try:
        root = root_q.get(timeout=60)
        with tempfile.TemporaryDirectory() as tmp:
            runs = [(w, None) for w in args.workers]
            if args.host_rate:
                runs.append((max(args.workers), args.host_rate))
            for workers, rate in runs:
                row = one_run(root, args.papers, workers, rate, Path(tmp))
                row["latency_s"] = args.latency
                print(json.dumps(row), flush=True)
    finally:
        stop.set()
        server.join(timeout=10)
        if server.is_alive():
            server.kill()


if __name__ == "__main__":
    main()
