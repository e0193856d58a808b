"""A folder of PDFs (--pdf-dir): every *.pdf directly inside it, in name order.

paper_id is the sanitised file stem. The title is the PDF's metadata title when it looks like
one (tools often write "Microsoft Word - draft.docx" or nothing), else the largest-font line
on page 1 (the arXiv stamp in the margin is rotated, so it is not a candidate), else the stem.
published is the date of the arXiv stamp on page 1 ("arXiv:2106.09685v2 [cs.CL] 16 Oct 2021",
the day that version was submitted) when there is one, else the metadata creation date, else
None: the leakage rule needs it, and many arXiv PDFs carry no creation date.
A PDF that will not open is still listed (the parse stage rejects it with a reason).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.records import Paper
from autoscholar.sources.common import clean_text, sanitize_id

_BAD_TITLE = re.compile(r"(^untitled$|^microsoft word|\.(docx?|tex|dvi|pdf|ps)$|^title$)", re.I)


def _meta_title(doc) -> str:
    title = clean_text((doc.metadata or {}).get("title", ""))
    return "" if not title or len(title) < 4 or _BAD_TITLE.search(title) else title


def _join_spans(spans: list[dict]) -> str:
    # Spans of one line carry no space between them when the PDF positions words apart.
    text = spans[0]["text"]
    for prev, span in zip(spans, spans[1:]):
        gap = span["bbox"][0] - prev["bbox"][2]
        text += (" " if gap > 0.15 * span.get("size", 10) else "") + span["text"]
    return text


def _largest_font_title(doc) -> str:
    """The lines set in the largest font on page 1, top to bottom: usually the title.

    Whole lines are kept, smaller spans included, so a title in small capitals ("LONGEVAL",
    set as L+ONG+E+VAL in two sizes) is not cut down to its capitals.
    """
    if doc.page_count == 0:
        return ""
    lines = []
    for block in doc[0].get_text("dict").get("blocks", []):
        for line in block.get("lines", []):
            if abs(line.get("dir", (1.0, 0.0))[1]) > 0.1:  # rotated: a margin stamp
                continue
            spans = [s for s in line.get("spans", []) if s.get("text", "").strip()]
            if spans:
                size = max(round(s.get("size", 0), 1) for s in spans)
                lines.append((size, line["bbox"][1], _join_spans(spans)))
    if not lines:
        return ""
    largest = max(size for size, _, _ in lines)
    words = [text for size, _, text in sorted(lines, key=lambda ln: ln[1]) if size == largest]
    title = clean_text(" ".join(words))
    return title[:300] if len(title) >= 4 else ""


_STAMP = re.compile(r"arXiv:\s*\S+\s+\[[^\]]{1,30}\]\s+(\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4})")


def _stamp_date(doc) -> dt.date | None:
    if doc.page_count == 0:
        return None
    match = _STAMP.search(clean_text(doc[0].get_text()))
    if not match:
        return None
    try:
        return dt.datetime.strptime(clean_text(match.group(1)), "%d %b %Y").date()
    except ValueError:
        return None


def _creation_date(doc) -> dt.date | None:
    # PDF dates look like "D:20200131120000+01'00'"; only the calendar date matters here.
    match = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", (doc.metadata or {}).get("creationDate", ""))
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def describe(path: Path) -> tuple[str, dt.date | None]:
    """(title, publication date) of one PDF; (stem, None) when it cannot be read."""
    import pymupdf

    try:
        with pymupdf.open(path) as doc:
            title = _meta_title(doc) or _largest_font_title(doc)
            return title or path.stem, _stamp_date(doc) or _creation_date(doc)
    except Exception:  # noqa: BLE001 - any unreadable PDF is listed by name; parse rejects it
        return path.stem, None


def list_papers(settings: Settings) -> list[Paper]:
    folder = settings.pdf_dir
    if folder is None:
        raise InputError("--venue local needs --pdf-dir DIR")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise InputError(f"--pdf-dir {folder}: no such folder")
    pdfs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf" and p.is_file())
    if not pdfs:
        raise InputError(f"--pdf-dir {folder}: no *.pdf files in it")
    papers, seen = [], set()
    for path in pdfs:
        paper_id = sanitize_id(path.stem)
        if paper_id in seen:  # "A.pdf" and "A.PDF": keep both, distinctly
            paper_id = sanitize_id(path.name)
        seen.add(paper_id)
        title, published = describe(path)
        papers.append(Paper(
            paper_id=paper_id,
            venue="local",
            year=settings.year,
            title=title,
            pdf_path=str(path.resolve()),
            published=published,
            source="local",
        ))
    return papers
