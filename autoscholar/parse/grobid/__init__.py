"""The Grobid backend (parser="grobid"): PDFs sent to a Grobid server, TEI read back.

client.py talks to the server (isalive, 503 back-off, cache, failure ledger); tei.py reads a TEI into
a ParsedPaper with tei_bibl.py (biblStruct -> BibEntry) and tei_links.py (refs -> CiteSpans).
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
    from .client import parse_with_grobid

    return parse_with_grobid(items, settings, run_dir / "cache" / "grobid",
                             run_dir / "grobid.ledger.jsonl")


def version() -> None:
    """The server's version is known from its answers: read_tei records the one each TEI states."""
    return None
