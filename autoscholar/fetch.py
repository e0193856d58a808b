"""fetch stage: the venue's listing (fetched once per run directory) -> Paper with a local PDF."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from .config import Settings
from .errors import InputError, ServiceError
from .io import partial_tail, read_json, read_jsonl, sha256_file, write_atomic
from .records import Paper, Reject
from .runner import StageStats, in_threads, key_of, run_stage
from .sources import list_papers
from .sources.common import ensure_pdf


def listing(settings: Settings, run_dir: Path) -> list[Paper]:
    """The papers this run directory was made for: listed once, then read back."""
    path = run_dir / "listing.jsonl"
    origin = run_dir / "listing.source.json"
    wanted = {"venue": settings.venue, "year": settings.year,
              "pdf_dir": str(settings.pdf_dir.resolve()) if settings.pdf_dir else None}
    if path.exists() and partial_tail(path):  # written whole, so cut later: list again
        path.unlink()
    if path.exists() and origin.exists():
        # A run directory holds one venue's papers: never mix in another listing silently.
        made_for = read_json(origin, "rerun with --redo fetch or choose a new --out")
        if made_for != wanted:
            raise InputError(f"{run_dir} was made for {made_for}, not {wanted}: "
                             "choose another run directory with --out")
    if path.exists():
        papers = list(read_jsonl(path, Paper))
        if settings.venue == "local":  # a folder grows: PDFs added since are listed now
            papers = _local_refresh(papers, settings, path)
        return papers
    papers = list_papers(settings)
    write_atomic(path, "".join(p.model_dump_json() + "\n" for p in papers))
    write_atomic(origin, json.dumps(wanted))
    return papers


def _local_refresh(papers: list[Paper], settings: Settings, path: Path) -> list[Paper]:
    import sys

    from .sources.local import refresh

    now, gone = refresh(papers, settings)
    if len(now) != len(papers):
        write_atomic(path, "".join(p.model_dump_json() + "\n" for p in now))
        print(f"local: {len(now) - len(papers)} new PDF(s) in {settings.pdf_dir} listed",
              file=sys.stderr)
    if gone:
        names = ", ".join(Path(p.pdf_path or p.paper_id).name for p in gone)
        print(f"local: {len(gone)} listed PDF(s) gone from {settings.pdf_dir}, their records "
              f"kept (--redo fetch drops them): {names}", file=sys.stderr)
    return now


def fetch(settings: Settings, run_dir: Path) -> StageStats:
    """Download the listed PDFs, `fetch_workers` at a time under each host's limit; records
    are appended in listing order whatever order the downloads finish in (in_threads)."""
    from . import http, pdfcheck
    from .hostlimit import configure_from

    papers = listing(settings, run_dir)
    if settings.limit is not None:
        papers = papers[: settings.limit]
    configure_from(settings)
    ledger, tally = pdfcheck.Ledger(run_dir / "pdfs"), http.Tally()

    def one(paper: Paper) -> list | Reject:
        try:
            path = ensure_pdf(paper, run_dir / "pdfs", base=run_dir, ledger=ledger,
                              opener=opener, tally=tally,
                              deadline=settings.download_deadline,
                              retry_after_cap=settings.retry_after_cap)
        except (ServiceError, InputError) as exc:
            return Reject(stage="fetch", key=paper.paper_id, reason="download-failed",
                          detail=str(exc), transient=getattr(exc, "transient", False))
        return [paper.model_copy(update={"pdf_path": str(path),
                                         "pdf_sha256": sha256_file(path)})]

    def work(items: list[tuple[str, Paper]]) -> Iterator[tuple[str, list | Reject]]:
        yield from in_threads(one, items, settings.fetch_workers)

    with pdfcheck.Opener(processes=min(settings.fetch_workers, os.cpu_count() or 1)) as opener:
        # In this process under any executor: the per-host limits (hostlimit.py), the retry
        # tally and the verified-PDF ledger are shared by every download, and a venue's PDFs
        # come from one host, so more machines would only break its limit, not go faster.
        stats = run_stage(run_dir, "fetch", [(p.paper_id, p) for p in papers], work,
                          key_of("paper_id"), in_process=True)
    stats.extra["retries"] = tally.as_dict()  # by cause: http-429, stall, eof, ...
    return stats
