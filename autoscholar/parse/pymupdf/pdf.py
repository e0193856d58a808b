"""The embedded PyMuPDF backend: ``parse_pdf(paper, path) -> ParsedPaper`` (parser="pymupdf").

Bad input raises ``ParseError(reason, detail)`` with one of: "empty-file", "not-a-pdf",
"encrypted", "truncated", "corrupt", "too-many-pages", "no-text" (image-only / scanned).
Run hostile files through ``autoscholar.parse.pool.parse_isolated``, not in-process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf

from autoscholar.errors import ParseError
from autoscholar.parse import citations
from autoscholar.parse.pymupdf import bibliography as bib
from autoscholar.parse.pymupdf import layout, structure, version
from autoscholar.records import BibEntry, Paper, Paragraph, ParsedPaper, Section

MAX_PAGES = 500
MIN_TEXT_CHARS = 200  # less than this over the whole document: a scan or an image-only PDF
PARSER = "pymupdf"

pymupdf.TOOLS.mupdf_display_errors(False)  # broken files spam stderr; we report them ourselves
pymupdf.TOOLS.mupdf_display_warnings(False)

_SUP = re.compile(f"{layout.SUP_OPEN}([^{layout.SUP_CLOSE}]*){layout.SUP_CLOSE}")


def open_checked(path: Path, max_pages: int = MAX_PAGES) -> pymupdf.Document:
    """Open a PDF or raise ParseError with a short reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParseError("unreadable", str(exc)) from exc
    if size == 0:
        raise ParseError("empty-file", str(path.name))
    with path.open("rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    if b"%PDF-" not in head:
        raise ParseError("not-a-pdf", f"{path.name} does not start with %PDF-")
    if b"%%EOF" not in tail:  # MuPDF would "repair" it and silently lose pages
        raise ParseError("truncated", f"{path.name} has no %%EOF trailer (incomplete download?)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises its own FileDataError/RuntimeError family
        raise ParseError("corrupt", f"{path.name}: {exc}") from exc
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise ParseError("encrypted", f"{path.name} needs a password")
    if doc.page_count == 0:
        doc.close()
        raise ParseError("corrupt", f"{path.name} has no pages")
    if doc.page_count > max_pages:
        n = doc.page_count
        doc.close()
        raise ParseError("too-many-pages", f"{path.name} has {n} pages (limit {max_pages})")
    return doc


def _callout_mode(sections: list[structure.RawSection], entries: list[BibEntry]) -> bool:
    """True when superscript digits are the paper's citation callouts (numbered list, no [n])."""
    if not entries or not all(re.fullmatch(r"ref\d+", e.key) for e in entries):
        return False
    bracketed = sups = 0
    for s in sections:
        for p in s.paragraphs:
            bracketed += len(citations.find_numeric_callouts(p))
            sups += p.count(layout.SUP_OPEN)
    return sups >= 5 and bracketed < sups / 4


def _paragraph(text: str, entries: citations.Bibliography, labels: dict[str, str],
               sup_cites: bool) -> Paragraph:
    if sup_cites:
        text = _SUP.sub(lambda m: "[" + m.group(1).replace(" ", "") + "]", text)
    else:
        text = _SUP.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    spans = citations.cite_spans(text, entries, labels)
    return Paragraph(sentences=citations.split_sentences(text, spans))


def parse_document(paper: Paper, doc: pymupdf.Document) -> ParsedPaper:
    lay = layout.read_lines(doc)
    chars = sum(len(ln.text) for blk in lay.blocks for ln in blk)
    if chars < MIN_TEXT_CHARS:
        raise ParseError("no-text", f"{chars} characters of text on {lay.pages} pages (scanned?)")
    st = structure.build(lay)
    entries = bib.parse_bibliography(st.reference_lines)
    labels = citations.default_labels(entries)
    sup_cites = _callout_mode(st.sections, entries)
    linkable = citations.Bibliography(entries)
    sections = []
    for raw in st.sections:
        paragraphs = [_paragraph(p, linkable, labels, sup_cites) for p in raw.paragraphs]
        sections.append(Section(title=raw.title, number=raw.number, path=raw.path,
                                paragraphs=[p for p in paragraphs if p.sentences]))
    return ParsedPaper(paper=paper, parser=PARSER, parser_version=version(),
                       sections=sections, bibliography=entries)


def parse_pdf(paper: Paper, path: Path, max_pages: int = MAX_PAGES) -> ParsedPaper:
    doc = open_checked(Path(path), max_pages)
    try:
        return parse_document(paper, doc)
    except ParseError:
        raise
    except Exception as exc:  # MuPDF errors on damaged content streams
        raise ParseError("corrupt", f"{Path(path).name}: {type(exc).__name__}: {exc}") from exc
    finally:
        doc.close()
