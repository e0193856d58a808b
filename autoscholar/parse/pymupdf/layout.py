"""Page layout -> lines in reading order, without running headers/footers and line numbers.

``read_lines(doc) -> Layout``: every horizontal text line of the document as a ``Line`` (text
with ligatures expanded, geometry, dominant font size, bold/caps flags), grouped into blocks in
reading order (one or two columns, full-width blocks such as wide figures or titles break the
columns into bands). Superscript digit runs are kept between SUP_OPEN/SUP_CLOSE so the caller
can decide whether they are citation callouts or footnote marks. ``Line.head`` is the line's
leading bold (or italic) run, so that a run-in heading ("Semantic segmentation" in bold, then
"Fully connected ..." in roman) can be told from its paragraph.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import pymupdf

from autoscholar.parse.pymupdf import margins, toc

# No TEXT_PRESERVE_LIGATURES: MuPDF then expands "ﬁ" into "fi" itself.
_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_PRESERVE_WHITESPACE
_MONO_FONT = re.compile(r"mono|nimbusmon|courier|typewriter|cmtt|consol|menlo|code", re.I)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|medi|\.b$|-b$|cmbx|bx\d", re.I)
_ITALIC_FONT = re.compile(r"ital|oblique|cmti|-it$", re.I)
# math fonts neither start nor end a bold run: "Scenarios using G-pooling" with G in CMSY10
_MATH_FONT = re.compile(r"cmsy|cmmi|cmex|cmbsy|msbm|msam|math|symbol|eufm|rsfs|wasy", re.I)
SUP_OPEN, SUP_CLOSE = "\x01", "\x02"
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl",
                            "ﬅ": "ft", "ﬆ": "st", "\u00ad": "", "\u00a0": " ", "\ufeff": ""})
_SUP_CITE = re.compile(r"[\d,\-–\s]+")


class Line:
    __slots__ = ("text", "x0", "y0", "x1", "y1", "size", "bold", "caps", "page", "block", "mono",
                 "head", "head_bold")

    def __init__(self, text, x0, y0, x1, y1, size, bold, caps, page, block, mono=False,
                 head="", head_bold=False):
        self.text, self.x0, self.y0, self.x1, self.y1 = text, x0, y0, x1, y1
        self.size, self.bold, self.caps, self.page, self.block = size, bold, caps, page, block
        self.mono = mono
        # the leading run of bold (head_bold) or else italic spans: the whole text when the
        # line is all in that style, "" when the line starts in the regular font
        self.head, self.head_bold = head, head_bold

    def __repr__(self) -> str:
        return f"Line(p{self.page} {self.x0:.0f},{self.y0:.0f} {self.size:.1f} b={self.bold} {self.text!r})"


@dataclass
class Layout:
    blocks: list[list[Line]] = field(default_factory=list)  # reading order
    body_size: float = 10.0
    pages: int = 0


_SPAN_STYLE: dict[tuple, tuple[float, bool, bool, int]] = {}
_NEUTRAL, _REGULAR, _BOLD, _ITALIC = -1, 0, 1, 2


def _span_style(font: str, flags: int, size: float) -> tuple[float, bool, bool, int]:
    """(size rounded to 0.5 pt, bold, monospace, emphasis) for a span's font; cached, spans
    repeat. Emphasis is _NEUTRAL for math fonts, else _BOLD, _ITALIC or _REGULAR."""
    key = (font, flags, size)
    style = _SPAN_STYLE.get(key)
    if style is None:
        bold = bool(flags & 16 or _BOLD_FONT.search(font))
        emph = _NEUTRAL if _MATH_FONT.search(font) else _BOLD if bold else \
            _ITALIC if flags & 2 or _ITALIC_FONT.search(font) else _REGULAR
        style = _SPAN_STYLE[key] = (round(size * 2) / 2, bold, bool(flags & 8 or _MONO_FONT.search(font)),
                                    emph)
    return style


def _line_from_spans(spans: list[dict], page: int, block: int, bbox=None) -> Line | None:
    parts: list[str] = []
    sizes: dict[float, int] = {}
    bold_chars = chars = mono_chars = 0
    top = 0.0
    head_emph = None  # emphasis of the first visible span; the leading run keeps it
    head_end = -1  # parts index where the leading run stops; -1: it runs to the end
    for s in spans:
        t = s["text"]
        if not t:
            continue
        flags, size = s["flags"], s["size"]
        # superscript: MuPDF's flag (a raised run) on a smaller font; the flag alone also
        # marks ordinary text that follows a subscript
        if flags & 1:
            top = top or max(x["size"] for x in spans)
            if size < 0.85 * top:
                st = t.strip()
                if st:
                    if _SUP_CITE.fullmatch(st):
                        parts.append(SUP_OPEN + st + SUP_CLOSE)
                    continue  # footnote symbols (*, †) and math superscripts go
        parts.append(t)
        n = len(t)
        chars += n
        key, bold, mono, emph = _span_style(s["font"], flags, size)
        if head_end < 0 and emph != head_emph and emph != _NEUTRAL and not t.isspace():
            if head_emph is None:
                head_emph = emph
                if emph == _REGULAR:
                    head_end = 0  # no leading run to follow: the common case, decided once
            else:
                head_end = len(parts) - 1
        sizes[key] = sizes.get(key, 0) + n
        if bold:
            bold_chars += n
        if mono:
            mono_chars += n - t.count(" ")
    text = "".join(parts).strip()
    if not text or not chars:
        return None
    if not text.isascii():
        text = _fix_accents(text.translate(_LIGATURES)).strip()
        if not text:
            return None
    head = ""
    if head_emph == _BOLD or head_emph == _ITALIC:
        if head_end < 0:
            head = text
        else:
            head = "".join(parts[:head_end]).strip()
            if not head.isascii():
                head = _fix_accents(head.translate(_LIGATURES)).strip()
    caps = _is_caps(text)
    # small caps ("RELATED WORK" set as R + ELATED at two sizes): the heading size is the larger
    size = max(sizes) if caps and len(sizes) > 1 else max(sizes, key=sizes.get)
    if bbox is None:
        bbox = (min(s["bbox"][0] for s in spans), min(s["bbox"][1] for s in spans),
                max(s["bbox"][2] for s in spans), max(s["bbox"][3] for s in spans))
    return Line(text, bbox[0], bbox[1], bbox[2], bbox[3], size, bold_chars >= 0.9 * chars, caps,
                # a code line, not a heading with one identifier in a code font ("3 Design of
                # papermage"): nearly all of its visible characters are monospace
                page, block, mono_chars >= 0.8 * (len(text) - text.count(" ")),
                head, head_emph == _BOLD)


_ACCENTS = {"¨": "\u0308", "´": "\u0301", "ˆ": "\u0302", "˜": "\u0303", "¸": "\u0327",
            "ˇ": "\u030c", "˚": "\u030a"}
_SPACING_ACCENT = re.compile("([¨´ˆ˜¸ˇ˚])\\s?([A-Za-zı])")


def _fix_accents(text: str) -> str:
    """LaTeX PDFs often set accents as separate glyphs: "H¨ullermeier" -> "Hüllermeier"."""
    return _SPACING_ACCENT.sub(
        lambda m: unicodedata.normalize("NFC", ("i" if m.group(2) == "ı" else m.group(2))
                                        + _ACCENTS[m.group(1)]), text)


def _is_caps(text: str) -> bool:
    return len(text) >= 3 and text.isupper()


def _merge_same_baseline(lines: list[Line]) -> list[Line]:
    """MuPDF splits a visual line at wide gaps ("2.1" | "Overview"); join them back."""
    out: list[Line] = []
    for ln in sorted(lines, key=lambda l: (round((l.y0 + l.y1) / 2 / 3), l.x0)):
        prev = out[-1] if out else None
        if prev is not None:
            overlap = min(prev.y1, ln.y1) - max(prev.y0, ln.y0)
            height = min(prev.y1 - prev.y0, ln.y1 - ln.y0) or 1
            if overlap > 0.5 * height and ln.x0 >= prev.x1 - 2 and ln.x0 - prev.x1 < 60:
                bigger = prev if len(prev.text) >= len(ln.text) else ln
                text = prev.text + " " + ln.text
                head = prev.head
                if head and head == prev.text and ln.head and ln.head_bold == prev.head_bold:
                    # "Semantic segmentation" | "Fully connected ...": the bold run goes on
                    head = text if ln.head == ln.text else head + " " + ln.head
                # by characters: a listing line after its line number is still code
                mono = prev.mono * len(prev.text) + ln.mono * len(ln.text) >= 0.8 * len(text)
                merged = Line(text, prev.x0, min(prev.y0, ln.y0), ln.x1,
                              max(prev.y1, ln.y1), bigger.size, prev.bold and ln.bold,
                              _is_caps(text), ln.page, ln.block, mono, head, prev.head_bold)
                out[-1] = merged
                continue
        out.append(ln)
    # keep reading order top-to-bottom (the sort key above groups rows of ~3pt)
    return out


def _page_blocks(page: pymupdf.Page, pno: int, counter: list[int]) -> list[list[Line]]:
    blocks: list[list[Line]] = []
    for b in page.get_text("dict", flags=_FLAGS)["blocks"]:
        if b.get("type") != 0:
            continue
        counter[0] += 1
        lines = []
        for l in b["lines"]:
            d = l["dir"]
            if abs(d[1]) > 0.05 or d[0] < 0:  # rotated margin stamps (arXiv id), vertical text
                continue
            ln = _line_from_spans(l["spans"], pno, counter[0], l["bbox"])
            if ln is not None:
                lines.append(ln)
        if lines:
            blocks.append(lines)  # joined on their baselines after line numbers are gone
    return blocks


def _body_size(blocks: list[list[Line]]) -> float:
    sizes: Counter = Counter()
    for blk in blocks:
        for ln in blk:
            sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


_PAGE_NUM = re.compile(r"^(?:page\s+)?[\divxlc]{1,5}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)


def _drop_running(pages: list[list[list[Line]]], heights: list[float]) -> None:
    """Drop running headers/footers (text repeated in the page margins) and page numbers."""
    zone: Counter = Counter()

    def key(ln: Line) -> str:
        return re.sub(r"\d+", "#", ln.text.lower())[:80]

    def in_zone(ln: Line, h: float) -> bool:  # wide: LNCS-style pages have deep margins
        return ln.y1 < 0.14 * h or ln.y0 > 0.88 * h

    def in_edge(ln: Line, h: float) -> bool:
        return ln.y1 < 0.09 * h or ln.y0 > 0.90 * h

    for pno, blocks in enumerate(pages):
        seen = {key(ln) for blk in blocks for ln in blk if in_zone(ln, heights[pno])}
        zone.update(seen)
    repeated = {k for k, n in zone.items() if n >= max(2, 0.3 * len(pages))}
    for pno, blocks in enumerate(pages):
        h = heights[pno]
        for i, blk in enumerate(blocks):
            blocks[i] = [ln for ln in blk if not (
                in_zone(ln, h) and key(ln) in repeated
                or in_edge(ln, h) and _PAGE_NUM.fullmatch(ln.text.strip()))]
        pages[pno] = [blk for blk in blocks if blk]


def _drop_line_numbers(pages: list[list[list[Line]]], body: float) -> None:
    """Review copies number their lines in the margins: short digit-only lines outside the text."""
    text_lines = [ln for p in pages for b in p for ln in b
                  if abs(ln.size - body) < 1 and len(ln.text) >= 20]
    xs0 = sorted(ln.x0 for ln in text_lines)
    xs1 = sorted(ln.x1 for ln in text_lines)
    if not xs0:
        return
    # The 2% quantile from each end; the index from the right is written out so that one line
    # of text (len 1) gives index 0, not -2.
    left, right = xs0[len(xs0) // 50], xs1[len(xs1) - 1 - len(xs1) // 50]
    for p in pages:
        for i, blk in enumerate(p):
            p[i] = [ln for ln in blk if not (re.fullmatch(r"\d{1,4}", ln.text)
                                             and (ln.x1 <= left + 1 or ln.x0 >= right - 1))]
        p[:] = [b for b in p if b]


def _bbox(blk: list[Line]) -> tuple[float, float, float, float]:
    return (min(l.x0 for l in blk), min(l.y0 for l in blk),
            max(l.x1 for l in blk), max(l.y1 for l in blk))


def _order(blocks: list[list[Line]], width: float) -> list[list[Line]]:
    """Reading order: bands separated by full-width blocks; in a band, left column then right."""
    if not blocks:
        return blocks
    boxes = [_bbox(b) for b in blocks]
    left = min(b[0] for b in boxes)
    right = max(b[2] for b in boxes)
    mid = (left + right) / 2
    slack = 0.02 * width
    kinds = []
    for blk, b in zip(blocks, boxes):
        # by lines, not the block box: one URL running into the gutter must not make a
        # column block "full width"
        n = len(blk)
        if b[2] <= mid + slack or sum(l.x1 <= mid + slack for l in blk) >= 0.6 * n and n > 1:
            kinds.append("L")
        elif b[0] >= mid - slack:
            kinds.append("R")
        else:
            kinds.append("F")
    idx = sorted(range(len(blocks)), key=lambda i: (boxes[i][1], boxes[i][0]))
    if "R" not in kinds or "L" not in kinds:
        return [blocks[i] for i in idx]
    out: list[list[Line]] = []
    band: list[int] = []

    def flush():
        band_l = [i for i in band if kinds[i] == "L"]
        band_r = [i for i in band if kinds[i] == "R"]
        out.extend(blocks[i] for i in band_l + band_r)
        band.clear()

    for i in idx:
        if kinds[i] == "F":
            # a full-width block that sits beside column text (overlapping it vertically) is
            # not a band separator; it only is when nothing in the band reaches below its top
            flush()
            out.append(blocks[i])
        else:
            band.append(i)
    flush()
    return out


def read_lines(doc: pymupdf.Document) -> Layout:
    pages: list[list[list[Line]]] = []
    heights, widths = [], []
    counter = [0]
    for pno, page in enumerate(doc):
        pages.append(_page_blocks(page, pno, counter))
        heights.append(page.rect.height)
        widths.append(page.rect.width)
    margins.drop_line_numbers(pages)
    pages = [[_merge_same_baseline(blk) for blk in blocks] for blocks in pages]
    body = _body_size([b for p in pages for b in p])
    _drop_running(pages, heights)
    _drop_line_numbers(pages, body)
    layout = Layout(body_size=body, pages=len(pages))
    for pno, blocks in enumerate(pages):
        layout.blocks.extend(_order(blocks, widths[pno]))
    toc.drop_contents(layout)
    return layout
