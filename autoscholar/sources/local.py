"""A folder of PDFs (--pdf-dir): every *.pdf directly inside it, in name order.

paper_id is the sanitised file stem. The title is the PDF's metadata title when it looks like
one (tools often write "Microsoft Word - draft.docx" or nothing), else the largest-font line
on page 1 (the arXiv stamp in the margin is rotated, so it is not a candidate), else the stem.
published is the date of the arXiv stamp on page 1 ("arXiv:2106.09685v2 [cs.CL] 16 Oct 2021",
the day that version was submitted; date_source "PDF stamp") when there is one, else the
metadata creation date ("PDF metadata"), else None: the leakage rule needs it, and many arXiv
PDFs carry no creation date.
A PDF that will not open is still listed (the parse stage rejects it with a reason).

The PDFs are read in parse's isolated workers (parse/pool.py), with its time and memory caps:
a crafted PDF that would hang MuPDF or take gigabytes is listed by its file name instead.
An entry named *.pdf that cannot become a paper (a folder, a dangling symlink, a name that is
not UTF-8, which no JSON record can hold) is reported with its reason in one line on stderr
and left out.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.records import DateSource, Paper
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


Described = tuple[str, dt.date | None, DateSource | None]  # title, published, date_source


def describe_paper(paper: Paper, path: Path) -> Described:
    """describe() with the pool's (paper, path) signature; runs in a worker process."""
    return describe(path)


def _readable_name(path: Path) -> Path:
    """The path with bytes that are not UTF-8 (kept by Python as surrogates) as U+FFFD."""
    return Path(str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def describe(path: Path) -> Described:
    """(title, publication date, where the date came from) of one PDF; (stem, None, None)
    when it cannot be read."""
    import pymupdf

    try:
        with pymupdf.open(path) as doc:
            title = _meta_title(doc) or _largest_font_title(doc)
            if stamp := _stamp_date(doc):
                return title or path.stem, stamp, "PDF stamp"
            created = _creation_date(doc)
            return title or path.stem, created, "PDF metadata" if created else None
    except Exception:  # noqa: BLE001 - any unreadable PDF is listed by name; parse rejects it
        return path.stem, None, None


def _folder(settings: Settings) -> Path:
    if settings.pdf_dir is None:
        raise InputError("--venue local needs --pdf-dir DIR")
    folder = Path(settings.pdf_dir).expanduser()
    if not folder.is_dir():
        raise InputError(f"--pdf-dir {folder}: no such folder")
    return folder


def recursive_identity(settings: Settings) -> dict:
    """Fetch depends on --recursive; off, the way fetch always listed, it adds nothing, so the
    fingerprints of runs made before the flag still fit."""
    return {"pdf_recursive": True} if settings.pdf_recursive else {}


def _candidates(folder: Path, recursive: bool) -> list[Path]:
    if not recursive:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf")
    found = []
    # Symlinked folders are not entered (a link back up would list the tree forever); a real
    # folder named *.pdf is entered, a symlinked one is refused by pdf_files as a folder.
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        found += [here / n for n in files if n.lower().endswith(".pdf")]
        found += [here / n for n in dirs if n.lower().endswith(".pdf") and (here / n).is_symlink()]
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def pdf_files(folder: Path, recursive: bool = False) -> list[Path]:
    """The folder's *.pdf files in name order (with `recursive`, its sub-folders' too, in path
    order); what cannot be a paper is reported on stderr."""
    pdfs, refused = [], []
    for path in _candidates(folder, recursive):
        if path.is_symlink() and not path.exists():
            refused.append(f"{_readable_name(path).name} (a dangling symlink)")
        elif path.is_dir():
            refused.append(f"{_readable_name(path).name} (a folder)")
        elif not path.is_file():
            refused.append(f"{_readable_name(path).name} (not a regular file)")
        elif not _utf8(str(path.resolve())):  # its path could not be written to listing.jsonl
            refused.append(f"{_readable_name(path).name} (its name is not UTF-8: rename it)")
        else:
            pdfs.append(path)
    if refused:
        print(f"local: left out {len(refused)} of {folder}: " + ", ".join(refused),
              file=sys.stderr)
    return pdfs


def _unique_id(path: Path, seen: set[str]) -> str:
    """The id of `path`, relative to the folder (a sub-folder's "b/a.pdf" is "b/a" sanitised):
    the sanitised stem; when another paper has it ("A.pdf" and "A.PDF", "a b" and "a_b"
    sanitised alike), the sanitised name, then a counter: deterministic in name order, and
    every file keeps a paper of its own."""
    stem, name = str(path.with_suffix("")), str(path)
    for candidate in (sanitize_id(stem), sanitize_id(name)):
        if candidate not in seen:
            return candidate
    n = 2
    while f"{sanitize_id(name)}-{n}" in seen:
        n += 1
    return f"{sanitize_id(name)}-{n}"


def _papers(paths: list[Path], settings: Settings, seen: set[str]) -> list[Paper]:
    papers = []
    folder = _folder(settings)
    for path in paths:
        paper_id = _unique_id(path.relative_to(folder), seen)
        seen.add(paper_id)
        papers.append(Paper(paper_id=paper_id, venue="local", year=settings.year,
                            title=path.stem, pdf_path=str(path.resolve()), source="local"))
    return _described(papers, settings)


def list_papers(settings: Settings) -> list[Paper]:
    folder = _folder(settings)
    pdfs = pdf_files(folder, settings.pdf_recursive)
    if not pdfs:
        raise InputError(f"--pdf-dir {folder}: no *.pdf files in it")
    return _papers(pdfs, settings, set())


def refresh(listed: list[Paper], settings: Settings) -> tuple[list[Paper], list[Paper]]:
    """A folder listed before, as it is now: (the listing with the PDFs added since appended,
    the listed papers whose file is gone). Those stay listed: their records are made."""
    folder = _folder(settings)
    known = {p.pdf_path for p in listed}
    on_disk = pdf_files(folder, settings.pdf_recursive)
    new = [p for p in on_disk if str(p.resolve()) not in known]
    present = {str(p.resolve()) for p in on_disk}
    gone = [p for p in listed if p.pdf_path not in present]
    added = _papers(new, settings, {p.paper_id for p in listed}) if new else []
    return listed + added, gone


def _described(papers: list[Paper], settings: Settings) -> list[Paper]:
    """Each paper with its title and date read in an isolated worker; on a timeout, crash or
    memory cap it keeps its file name as title (parse then rejects the PDF with the reason)."""
    from autoscholar.errors import ParseError
    from autoscholar.parse.pool import parse_isolated

    found: dict[str, Described] = {}
    items = [(p, Path(p.pdf_path or "")) for p in papers]
    for paper, result in parse_isolated(items, settings.parse_workers, settings.parse_timeout,
                                        settings.parse_memory_mb, parse_fn=describe_paper):
        if not isinstance(result, ParseError):
            found[paper.paper_id] = result
    out = []
    for paper in papers:
        title, published, date_source = found.get(paper.paper_id, (paper.title, None, None))
        out.append(paper.model_copy(update={"title": title or paper.title,
                                            "published": published,
                                            "date_source": date_source}))
    return out


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
