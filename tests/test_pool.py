"""pool.py: worker processes that survive hangs, crashes and memory hogs."""

from __future__ import annotations

import os
import time

from autoscholar.parse.pymupdf import pdf
from autoscholar.parse.pool import parse_isolated
from autoscholar.records import Paper, ParsedPaper
from pdf_fixture import bad_pdf, one_column_numeric


def _hang(paper, path):
    time.sleep(600)


def _crash(paper, path):
    os.kill(os.getpid(), 9)


def _hog(paper, path):
    return bytearray(4 * 1024**3)  # 4 GiB, over the address-space limit


def _by_name(paper, path):
    return {"hang": _hang, "crash": _crash, "hog": _hog}.get(paper.paper_id, pdf.parse_pdf)(paper, path)


def test_pool_isolates_hangs_crashes_and_memory(tmp_path):
    good = one_column_numeric(tmp_path / "good.pdf")
    bad = bad_pdf(tmp_path, "not-a-pdf")
    items = [(Paper(paper_id=n, venue="local"), p) for n, p in
             [("ok1", good), ("hang", good), ("crash", good), ("hog", good), ("bad", bad), ("ok2", good)]]
    results = {paper.paper_id: out for paper, out in
               parse_isolated(items, workers=2, timeout=8, memory_mb=1024, parse_fn=_by_name)}
    assert set(results) == {"ok1", "hang", "crash", "hog", "bad", "ok2"}
    assert isinstance(results["ok1"], ParsedPaper) and isinstance(results["ok2"], ParsedPaper)
    assert results["ok2"].sections == results["ok1"].sections
    assert results["hang"].reason == "timeout" and results["hang"].transient
    assert not results["crash"].transient and not results["bad"].transient
    assert results["crash"].reason == "worker-crashed"
    assert results["hog"].reason == "out-of-memory"
    assert results["bad"].reason == "not-a-pdf"


def test_pool_close_kills_children(tmp_path):
    import multiprocessing

    good = one_column_numeric(tmp_path / "good.pdf")
    items = [(Paper(paper_id=n, venue="local"), good) for n in ("ok", "hang", "hang")]
    gen = parse_isolated(items, workers=3, timeout=300, memory_mb=1024, parse_fn=_by_name)
    paper, out = next(gen)  # the good one finishes while two workers hang
    assert paper.paper_id == "ok" and isinstance(out, ParsedPaper)
    assert len([c for c in multiprocessing.active_children() if c.is_alive()]) == 3
    gen.close()
    assert not [c for c in multiprocessing.active_children() if c.is_alive()]
