"""Tables of contents (an appendix's "Contents" page), dropped from the layout.

A contents line looks like a numbered heading ("H Related Work . . . . . . 20"): read as one,
the paper gets a section "Related Work 20", and the real appendix sections after it either
nest under it or are read as its text, so that training settings and case studies are mined as
related work. A contents entry is never body text either, so the lines go before structure
sees them. Told by shape: a numbered title that ends in a page number after leader dots, or a
run of such lines ending in page numbers that never decrease.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoscholar.parse.pymupdf.layout import Layout, Line

_ENTRY = re.compile(r"^(?:(?:[A-Z]|\d{1,2})(?:\.\d{1,2}){0,3}\.?\s+)?(?P<title>[A-Z].*?)"
                    r"(?P<leader>(?:\s*[.·…]){4,})?\s+(?P<page>\d{1,3})$")
MIN_RUN = 4  # entries without leaders in a row before they read as a table of contents


def _entry(ln: Line) -> tuple[bool, int] | None:
    """(has leader dots, page number) when the line is shaped like a contents entry."""
    text = ln.text
    if not text[-1:].isdigit():  # most lines: decided without the pattern
        return None
    m = _ENTRY.match(text.strip())
    if not m or not re.search(r"[a-z]{3}", m.group("title")):
        return None
    return bool(m.group("leader")), int(m.group("page"))


def contents_lines(layout: Layout) -> set[tuple[int, int]]:
    """Positions (block, line) of the layout's table-of-contents entries."""
    out: set[tuple[int, int]] = set()
    run: list[tuple[tuple[int, int], int]] = []

    def flush():
        if len(run) >= MIN_RUN and all(a[1] <= b[1] for a, b in zip(run, run[1:])):
            out.update(pos for pos, _ in run)
        run.clear()

    for bi, blk in enumerate(layout.blocks):
        for li, ln in enumerate(blk):
            entry = _entry(ln)
            if entry is None:
                flush()
                continue
            leader, page = entry
            if leader:
                out.add((bi, li))
            run.append(((bi, li), page))
    flush()
    return out


def drop_contents(layout: Layout) -> None:
    """Remove table-of-contents entries from ``layout`` in place."""
    drop = contents_lines(layout)
    if not drop:
        return
    blocks = [[ln for li, ln in enumerate(blk) if (bi, li) not in drop]
              for bi, blk in enumerate(layout.blocks)]
    layout.blocks = [blk for blk in blocks if blk]
