"""Line numbers of review copies, found and dropped before lines on one baseline are joined.

Review templates (ACL, ECCV/LNCS, CVPR, ICML) number every line in one or both margins. MuPDF
reads each number as a line of its own, and joining lines on one baseline then glues it to the
text beside it: "087 2 Related work", "... (Lewis et al., 2017; Yarats 105". The heading is
lost and the numbers stay in the text. A line-number column is told apart by what it is, not by
where one template puts it: digit-only lines stacked at one x position, many of them, whose
values rise down the page, standing outside the text of the document.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoscholar.parse.pymupdf.layout import Line

_DIGITS = re.compile(r"\d{1,4}")
MIN_COLUMN = 12  # numbers in one column over the document before it counts as line numbering


def _keys(ln: Line) -> tuple[tuple[str, int], tuple[str, int]]:
    # a column is right-aligned ("9" / "10" end at one x) or left-aligned: key by either edge
    return ("x0", round(ln.x0 / 3)), ("x1", round(ln.x1 / 3))


def _is_number(ln: Line) -> bool:
    return len(ln.text) <= 4 and _DIGITS.fullmatch(ln.text) is not None


def line_number_columns(pages: list[list[list[Line]]]) -> dict[int, set[tuple[str, int]]]:
    """Page -> edge keys of its line-number columns."""
    groups: dict[tuple[tuple[str, int], int], list[Line]] = defaultdict(list)
    for blocks in pages:
        for blk in blocks:
            for ln in blk:
                if _is_number(ln):
                    for key in _keys(ln):
                        groups[(key, ln.page)].append(ln)
    per_x: dict[tuple[str, int], int] = defaultdict(int)
    rising: dict[tuple[tuple[str, int], int], bool] = {}
    for (x, page), lines in groups.items():
        lines.sort(key=lambda l: l.y0)
        values = [int(l.text) for l in lines]
        ups = sum(b > a for a, b in zip(values, values[1:]))
        rising[(x, page)] = len(values) >= 3 and ups >= 0.8 * (len(values) - 1)
        if rising[(x, page)]:
            per_x[x] += len(values)
    out: dict[int, set[tuple[str, int]]] = defaultdict(set)
    edges = _text_edges(pages) if per_x else None
    for (x, page), ok in rising.items():
        if ok and per_x[x] >= MIN_COLUMN and _outside_text(edges, groups[(x, page)]):
            out[page].add(x)
    return out


def _text_edges(pages: list[list[list[Line]]]) -> tuple[float, float] | None:
    """Left and right edges of the document's text (2% in from the extremes of its longer lines):
    the document's, not a page's, so that a page of references numbered "1", "2", ... in a
    column of their own keeps its numbers."""
    lines = [ln for blocks in pages for blk in blocks for ln in blk if len(ln.text) >= 20]
    if not lines:
        return None
    xs0 = sorted(ln.x0 for ln in lines)
    xs1 = sorted(ln.x1 for ln in lines)
    return xs0[len(xs0) // 50], xs1[-len(xs1) // 50 - 1]


def _outside_text(edges: tuple[float, float] | None, numbers: list[Line]) -> bool:
    """The column stands left of the text's left edge, or right of its right edge."""
    if edges is None:
        return True
    left, right = edges
    return max(ln.x1 for ln in numbers) <= left + 1 or min(ln.x0 for ln in numbers) >= right - 1


def drop_line_numbers(pages: list[list[list[Line]]]) -> None:
    """Remove line-number lines in place (before same-baseline lines are merged)."""
    columns = line_number_columns(pages)
    if not columns:
        return
    for pno, blocks in enumerate(pages):
        xs = columns.get(pno)
        if not xs:
            continue
        for i, blk in enumerate(blocks):
            blocks[i] = [ln for ln in blk if not (_is_number(ln) and not xs.isdisjoint(_keys(ln)))]
        pages[pno] = [blk for blk in blocks if blk]
