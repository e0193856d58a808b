"""The embedded PyMuPDF backend (parser="pymupdf"): each PDF parsed in a worker process.

pdf.py opens and checks a PDF and assembles the ParsedPaper from layout.py (lines in reading
order), structure.py (headings, paragraphs, reference lines), footnotes.py (small print to keep
out of the body) and bibliography.py (reference lines -> BibEntry).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...config import Settings
    from ...errors import ParseError
    from ...records import Paper, ParsedPaper


def parse_batch(items: Iterable[tuple[Paper, Path]], settings: Settings,
                run_dir: Path) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    from ..pool import parse_isolated

    return parse_isolated(items, settings.parse_workers, settings.parse_timeout,
                          settings.parse_memory_mb)


def version() -> str:
    import pymupdf  # the library (absolute import), not this package

    return pymupdf.VersionBind
