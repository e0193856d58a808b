"""Footnotes in a PyMuPDF layout: lines to keep out of the body text.

A footnote inside Related Work ("5We carried out ... (Lin and Pantel, 2001) ...") is not a
citation context of the section, and its text glued into a paragraph breaks sentences apart.
"""

from __future__ import annotations

import re

from .layout import SUP_CLOSE, SUP_OPEN, Layout, Line

# a footnote's first line: a superscript number, a symbol, or a small number set on the line
# ("5We carried out ...", "1 https://...")
_FOOTNOTE_MARK = re.compile(
    rf"(?:{SUP_OPEN}\d[^{SUP_CLOSE}]*{SUP_CLOSE}|[*∗†‡§¶‖⋆]|\d{{1,2}}(?=[A-Za-z(“\"'\s]))")


def footnote_lines(layout: Layout, body: float) -> set[tuple[int, int]]:
    """Footnote lines: print clearly smaller than the body text, below the last body line of
    its column, from a line that starts with a footnote mark ("5We carried out ...") on through
    the lines right after it in reading order, and on to the foot of the next column or page
    when it breaks off mid-word ("... NLP tech-" / "niques enables ..."). The numbered lines of
    a code listing (monospace) are not footnotes; a URL line inside a footnote is."""
    small: list[tuple[int, int, int]] = []  # (reading-order position, block, line)
    body_lines: dict[int, list[Line]] = {}
    n = 0
    for bi, blk in enumerate(layout.blocks):
        for li, ln in enumerate(blk):
            if ln.size >= body - 0.5:
                body_lines.setdefault(ln.page, []).append(ln)
            elif ln.size <= body - 0.75:
                small.append((n, bi, li))
            n += 1

    def column_left(ln: Line) -> float | None:
        """The left edge of the body text above ``ln`` in its column; None when body text
        also runs below it (or there is none above): then ``ln`` is no footnote."""
        left = None
        for b in body_lines.get(ln.page, ()):
            if min(b.x1, ln.x1) - max(b.x0, ln.x0) > 5:  # same column
                if b.y0 > ln.y0:
                    return None
                left = b.x0 if left is None else min(left, b.x0)
        return left

    out: set[tuple[int, int]] = set()
    last = -2  # reading-order position of the last footnote line
    broken: Line | None = None  # a footnote cut off mid-sentence at the foot of its page
    for n, bi, li in small:
        ln = layout.blocks[bi][li]
        follows = n == last + 1 or (broken is not None and ln.page - broken.page in (0, 1)
                                    and ln.text[:1].islower())
        marked = not ln.mono and _FOOTNOTE_MARK.match(ln.text) is not None
        if not (follows or marked):
            continue
        left = column_left(ln)
        # a footnote starts inside its column; a listing's line numbers hang in the margin
        if left is not None and (follows or ln.x0 >= left - 1):
            out.add((bi, li))
            last = n
            broken = ln if ln.text.endswith("-") or ln.text[-1:].islower() else None
    return out
