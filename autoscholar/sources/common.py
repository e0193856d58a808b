"""What the venue modules share: ids, listing clean-up, HTML pages and the one PDF fetch.

Imports stay light (no lxml, no HTTP client at import time): config imports the sources
package for its registry, and the HTTP client imports config.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from autoscholar.errors import InputError, ServiceError
from autoscholar.records import DateSource, Paper

MAX_ID_LEN = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ------------------------------------------------------------------ ids


def sanitize_id(raw: str) -> str:
    """A stable, file-name-safe id: [A-Za-z0-9._-] only, no "..", no leading dot or dash.

    When anything had to change (or the id was too long) a short hash of the raw string is
    appended, so distinct raw ids stay distinct and the same raw id always maps the same way.
    """
    safe = _UNSAFE.sub("_", raw)
    safe = re.sub(r"\.{2,}", ".", safe)
    safe = re.sub(r"_{2,}", "_", safe)
    safe = safe.lstrip("._-")
    changed = safe != raw
    if len(safe) > MAX_ID_LEN - 9:
        safe, changed = safe[: MAX_ID_LEN - 9].rstrip("._-"), True
    if not safe:
        safe, changed = "paper", True
    if changed:
        safe = f"{safe}-{hashlib.sha1(raw.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return safe


def make_id(venue: str, year: int | None, native: str) -> str:
    """paper_id for a venue paper: "<venue><year>-<the venue's own id>", sanitised."""
    return sanitize_id(f"{venue}{year or ''}-{native}")


def venue_paper(venue: str, year: int, native: str, *, title: str, authors: list[str],
                pdf_url: str | None, published: dt.date | None, source: str,
                date_source: DateSource | None) -> Paper:
    """A listed paper whose id, venue and year agree: paper_id is make_id(venue, year, native).
    date_source says where `published` came from (None exactly when there is no date)."""
    return Paper(paper_id=make_id(venue, year, native), venue=venue, year=year, title=title,
                 authors=authors, pdf_url=pdf_url, published=published, source=source,
                 date_source=date_source if published else None)


def mirrored(url: str | None, real_root: str, base: str | None) -> str | None:
    """url on the source's real host, moved under the mirror base when one is set.

    A listing page can carry absolute links to its real host (PMLR's do); with a mirror or a
    test server in venue_base_url, following those would leave the mirror for the real site.
    """
    if url is None or not base:
        return url
    real_root = real_root.rstrip("/")
    if url == real_root or url.startswith(real_root + "/"):
        return base.rstrip("/") + url[len(real_root):]
    return url


# ------------------------------------------------------------------ dates


def check_dates_table(table: dict[int, dt.date], year: int, meeting: str, where: str) -> None:
    """Refuse a year the conference dates table lacks, in one line.

    Without a date the match stage's cut-off falls back to 31 December, which for a June
    meeting lets half a year of later arXiv papers through as fair answers: a missing row is
    an error before anything runs, never a silent default.
    """
    if year not in table:
        covered = f"{min(table)}-{max(table)}" if table else "no year"
        raise InputError(f"no conference dates known for {meeting} {year} (the table covers "
                         f"{covered}): add the first day of the meeting to {where}")


# ------------------------------------------------------------------ listings


def dedupe(papers: list[Paper]) -> list[Paper]:
    """Drop repeated paper_ids (a listing can name a paper twice), keeping the first."""
    seen: set[str] = set()
    out = []
    for paper in papers:
        if paper.paper_id not in seen:
            seen.add(paper.paper_id)
            out.append(paper)
    return out


def clean_text(text: str, trim: str = "") -> str:
    """Runs of whitespace (no-break spaces too: str.split sees them) as one space, ends cut.

    trim: characters also cut from both ends, e.g. "," for CVF author links, which carry the
    comma that separates them from the next name.
    """
    text = " ".join(text.split())
    return text.strip(trim + " ") if trim else text


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)


def parse_html(data: bytes):
    """An lxml.html tree; the page's declared charset, else UTF-8 (not lxml's latin-1 guess)."""
    import codecs

    import lxml.html

    match = _CHARSET.search(data[:4096])
    encoding = "utf-8"
    if match:
        try:
            encoding = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            pass
    parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True)
    return lxml.html.fromstring(data, parser=parser)


# ------------------------------------------------------------------ PDFs


def pdf_problem(head: bytes) -> str | None:
    """None when the bytes start a PDF (the header may follow up to 1 KiB of junk)."""
    from autoscholar.pdfcheck import header_problem

    return header_problem(head)


def ensure_pdf(paper: Paper, pdf_dir: Path, base: Path | None = None, *, ledger=None,
               opener=None, tally=None, deadline: float | None = None,
               retry_after_cap: float | None = None) -> Path:
    """The paper's PDF on disk.

    A paper with a file of its own (local, demo) keeps it: pdf_path, read from base (the run
    directory) when relative. Else pdf_dir/<sanitised paper_id>.pdf, downloaded and verified
    (pdfcheck.verify: Content-Length, %%EOF, PyMuPDF's page count). A present file is kept when
    the ledger (pdfcheck.Ledger of pdf_dir) says these very bytes passed, or when it passes the
    checks now; a file that fails them is fetched again. tally counts the retries.
    """
    if paper.pdf_path:
        path = Path(paper.pdf_path)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.exists():
            raise InputError(f"PDF not found: {path}")
        return path
    if not paper.pdf_url:
        raise ServiceError(f"{paper.paper_id}: no PDF URL or file", transient=False)
    from autoscholar import http, pdfcheck

    ledger = ledger if ledger is not None else pdfcheck.Ledger(pdf_dir)
    dest = Path(pdf_dir) / f"{sanitize_id(paper.paper_id)}.pdf"
    if dest.is_file():
        if ledger.passed(dest):
            return dest
        try:  # a file from before the ledger, or changed since: reused only if it passes now
            ledger.record(dest, pdfcheck.verify(dest, opener))
            return dest
        except http.Retry:
            dest.unlink()
    pages: list[int] = []

    def check(tmp: Path) -> None:
        pages.append(pdfcheck.verify(tmp, opener))

    try:
        path = http.download(paper.pdf_url, dest, check=check, tally=tally,
                             deadline=http.DEADLINE if deadline is None else deadline,
                             retry_after_cap=retry_after_cap)
    except ServiceError as exc:
        raise ServiceError(f"{paper.paper_id}: {exc}", transient=exc.transient) from None
    ledger.record(path, pages[-1])
    return path
