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
_URL_NOTE = re.compile(r"\d{1,2}\s*(?:https?:|www\.)")


def footnote_lines(layout: Layout, body: float) -> set[tuple[int, int]]:
    """Footnote lines: print clearly smaller than the body text, below the last body line of
    its column, from a line that starts with a footnote mark ("5We carried out ...") on through
    the lines right after it in reading order, and on to the foot of the next column or page
    when it breaks off mid-word ("... NLP tech-" / "niques enables ..."). The numbered lines of
    a code listing (monospace) are not footnotes; a URL line inside a footnote is."""
    small, body_lines = _by_size(layout, body)
    scan = _Scan(body_lines)
    out: set[tuple[int, int]] = set()
    for n, bi, li in small:
        ln = layout.blocks[bi][li]
        if scan.is_footnote(n, ln):
            out.add((bi, li))
            scan.last = n
            scan.broken = ln if ln.text.endswith("-") or ln.text[-1:].islower() else None
    return out


def _by_size(layout: Layout,
             body: float) -> tuple[list[tuple[int, int, int]], dict[int, list[Line]]]:
    """The small lines as (reading-order position, block, line), and the body-size lines by page."""
    small: list[tuple[int, int, int]] = []
    body_lines: dict[int, list[Line]] = {}
    n = 0
    for bi, blk in enumerate(layout.blocks):
        for li, ln in enumerate(blk):
            if ln.size >= body - 0.5:
                body_lines.setdefault(ln.page, []).append(ln)
            elif ln.size <= body - 0.75:
                small.append((n, bi, li))
            n += 1
    return small, body_lines


def _column(body_lines: dict[int, list[Line]], ln: Line) -> tuple[float, float] | None:
    """The left and right edges of the body text above ``ln`` in its column; None when body
    text also runs below it (or there is none above): then ``ln`` is no footnote."""
    left = right = None
    for b in body_lines.get(ln.page, ()):
        if min(b.x1, ln.x1) - max(b.x0, ln.x0) > 5:  # same column
            if b.y0 > ln.y0:
                return None
            left = b.x0 if left is None else min(left, b.x0)
            right = b.x1 if right is None else max(right, b.x1)
    return None if left is None else (left, right)


class _Scan:
    """The state carried along the small lines in reading order."""

    def __init__(self, body_lines: dict[int, list[Line]]) -> None:
        self.body_lines = body_lines
        self.last = -2  # reading-order position of the last footnote line
        self.broken: Line | None = None  # a footnote cut off mid-sentence at the foot of its page
        # (page, column left) where small print that is no footnote runs on under the body
        # text: a paragraph in \small ("... the first choice of" / "3D detectors for ..."), not
        # a footnote area
        self.small_text: set[tuple[int, float]] = set()
        self.pending: list[Line] = []  # unmarked small lines of this page, placed when needed

    def place_pending(self) -> None:
        for p in self.pending:
            edges = _column(self.body_lines, p)
            # running text that wraps; not a short footnote whose raised mark the layout
            # dropped ("Equal contribution.")
            if edges is not None and p.x1 >= edges[1] - 2 * p.size:
                self.small_text.add((p.page, edges[0]))
        self.pending.clear()

    def is_footnote(self, n: int, ln: Line) -> bool:
        """Is the small line ``ln`` at reading-order position ``n`` part of a footnote?"""
        if self.pending and self.pending[-1].page != ln.page:
            self.pending.clear()
        if n != self.last + 1 and self.broken is None and not _marked(ln):
            self.pending.append(ln)  # most small print: captions, tables; no footnote follows
            return False
        edges = _column(self.body_lines, ln)
        if edges is None:
            return False  # body text below it: a caption, a remark, small print mid-column
        if n == self.last + 1:
            return True
        left = edges[0]
        # a footnote cut off mid-sentence goes on at the top of the next footnote area, so only
        # the first small line under the body text of a column can carry it on
        broken, self.broken = self.broken, None
        if broken is not None and ln.page - broken.page in (0, 1) and ln.text[:1].islower():
            return True
        self.place_pending()
        if not _marked(ln) or (ln.page, left) in self.small_text:
            self.pending.append(ln)
            return False
        # a footnote starts inside its column; a listing's line numbers hang in the margin
        return ln.x0 >= left - 1


def _marked(ln: Line) -> bool:
    """Does ``ln`` open with a footnote mark? Not a code listing's line number, though a footnote
    with a URL in typewriter type ("1 https://...") is a footnote."""
    return _FOOTNOTE_MARK.match(ln.text) is not None and (
        not ln.mono or _URL_NOTE.match(ln.text) is not None)
