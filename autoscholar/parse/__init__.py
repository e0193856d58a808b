"""PDF -> ParsedPaper, through one of the parser backends in BACKENDS.

A backend is a module (here: a subpackage) with two functions, the ``Backend`` protocol:

    parse_batch(items, settings, run_dir) -> Iterator[(Paper, ParsedPaper | ParseError)]
    version() -> str | None

Results come back in completion order; a PDF that cannot be parsed is a ParseError with a
reason, never an exception out of the batch. Importing a backend package is cheap: PyMuPDF and
lxml are imported when it parses, so the CLI can list and check parser names at start-up.
Adding a parser is one new subpackage and one line in BACKENDS. Shared by the backends:
``citations`` (callouts, linking, sentences), ``lexicon`` (section names and patterns) and
``pool`` (worker processes with time and memory limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import grobid, pymupdf

if TYPE_CHECKING:
    from ..config import Settings
    from ..errors import ParseError
    from ..records import Paper, ParsedPaper


class Backend(Protocol):
    def parse_batch(self, items: Iterable[tuple[Paper, Path]], settings: Settings,
                    run_dir: Path) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]: ...

    def version(self) -> str | None:
        """The version ParsedPaper.parser_version records; None when only the output says."""


BACKENDS: dict[str, Backend] = {"pymupdf": pymupdf, "grobid": grobid}
