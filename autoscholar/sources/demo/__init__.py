"""The offline demo venue: four short papers written as PDFs, with their gold answers.

corpus.py  the words: arXiv facts, reference entries, the papers (with callout markup)
render.py  lays a paper out as a PDF (byte-identical from run to run)
gold.py    the mini arXiv index lines and the gold answers, both derived from corpus.py
score.py   scores a run's dataset against the gold (scripts/eval_demo.py)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from autoscholar.io import write_atomic
from autoscholar.records import Paper
from autoscholar.sources.demo.corpus import PAPERS
from autoscholar.sources.demo.render import render_pdf

if TYPE_CHECKING:
    from autoscholar.config import Settings


def list_papers(settings: Settings) -> list[Paper]:
    """The demo's papers, written as PDFs into the run directory's pdfs/ folder."""
    return write_demo_corpus(settings.resolved_run_dir() / "pdfs")


def write_demo_corpus(out_dir: Path) -> list[Paper]:
    """Write demo-001.pdf ... into out_dir; Paper.pdf_path is the absolute path of each PDF."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    papers = []
    for spec in PAPERS:
        path = (out_dir / f"{spec['paper_id']}.pdf").resolve()
        data = render_pdf(spec)
        if not path.exists() or path.read_bytes() != data:
            write_atomic(path, data)  # a crash never leaves half a PDF behind
        papers.append(paper_record(spec, path))
    return papers


def paper_record(spec: dict, path: Path) -> Paper:
    published = dt.date.fromisoformat(spec["published"])
    return Paper(
        paper_id=spec["paper_id"],
        venue="demo",
        year=published.year,
        title=spec["title"],
        authors=list(spec["authors"]),
        pdf_path=str(path),
        published=published,
        source="demo",
        date_source="generated",
    )
