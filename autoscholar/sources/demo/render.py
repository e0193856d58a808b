"""The demo papers of corpus.py laid out as PDFs by PyMuPDF.

The layout is done line by line here (not with insert_textbox) so that we control what a
parser has to cope with: one- and two-column pages, running heads, page numbers, words
hyphenated across line ends, numeric and author-year callouts. Output is byte-identical
from run to run (fixed metadata dates, no random document id).
"""

from __future__ import annotations

import re

import pymupdf

from autoscholar.sources.demo.corpus import CALLOUT, REFS

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter
TOP, BOTTOM = 72.0, 722.0
BODY, BOLD, ITALIC, HEAD = "tiro", "tibo", "tiit", "helv"


# ------------------------------------------------------------------ callouts


def render_callouts(text: str, spec: dict) -> str:
    """Replace {c:..}/{t:..} markup with the callouts of the paper's citation style."""
    order = {key: i + 1 for i, key in enumerate(spec["references"])}

    def one(match: re.Match) -> str:
        kind, keys = match.group(1), match.group(2).split(",")
        if spec["style"] == "numeric":
            return "[" + _number_list(sorted(order[k] for k in keys)) + "]"
        if kind == "t":
            ref = REFS[keys[0]]
            return f"{ref['cite']} ({ref['year']})"
        return "(" + "; ".join(f"{REFS[k]['cite']}, {REFS[k]['year']}" for k in keys) + ")"

    return CALLOUT.sub(one, text)


def _number_list(numbers: list[int]) -> str:
    """[1, 2] stays a list; runs of three or more become ranges: [4-6]."""
    parts, i = [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{numbers[i]}-{numbers[j]}")
        else:
            parts.extend(str(n) for n in numbers[i : j + 1])
        i = j + 1
    return ", ".join(parts)


def reference_text(key: str, spec: dict) -> str:
    """One bibliography entry as printed (without the [n] label)."""
    ref = REFS[key]
    names = list(ref["authors"])
    if ref.get("et_al"):
        authors = ", ".join(names) + ", et al."
    elif len(names) == 1:
        authors = names[0]
    elif len(names) == 2:
        authors = f"{names[0]} and {names[1]}"
    else:
        authors = ", ".join(names[:-1]) + ", and " + names[-1]
    extra = f" {ref['extra']}." if ref.get("extra") else ""
    if spec["style"] == "numeric":
        return f"{authors}. {ref['title']}. {ref['venue']}, {ref['year']}.{extra}"
    return f"{authors}. {ref['year']}. {ref['title']}. {ref['venue']}.{extra}"


# ------------------------------------------------------------------ layout


def _width(text: str, font: str, size: float) -> float:
    return pymupdf.get_text_length(text, fontname=font, fontsize=size)


def wrap(text: str, width: float, font: str, size: float, first_indent: float = 0.0) -> list[str]:
    """Greedy line breaking; a word marked with ~ may be split there with a hyphen."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        room = width - (first_indent if not lines else 0.0)
        plain = word.replace("~", "")
        candidate = f"{line} {plain}" if line else plain
        if _width(candidate, font, size) <= room:
            line = candidate
            continue
        pieces = word.split("~") if "~" in word else _syllables(word)
        ragged = line and _width(line, font, size) < 0.94 * room  # only where it shows
        for i in range(len(pieces) - 1, 0, -1):
            head = "".join(pieces[:i]) + "-"
            if ragged and _width(f"{line} {head}", font, size) <= room:
                lines.append(f"{line} {head}")
                line = "".join(pieces[i:])
                break
        else:
            if line:
                lines.append(line)
            line = plain
    if line:
        lines.append(line)
    return lines


VOWELS = set("aeiouy")


def _syllables(word: str) -> list[str]:
    """Rough hyphenation points of a long lowercase word: vowel | consonant + vowel."""
    if len(word) < 9 or not word.isalpha() or not word.islower():
        return [word]
    cuts = [i for i in range(3, len(word) - 3)
            if word[i - 1] in VOWELS and word[i] not in VOWELS and word[i + 1] in VOWELS]
    return [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)])]


class _Pen:
    """Where the next line goes: page, column and baseline."""

    def __init__(self, doc: pymupdf.Document, spec: dict):
        self.doc, self.spec = doc, spec
        self.columns = spec["columns"]
        self.margin = 72.0 if self.columns == 1 else 54.0
        self.gap = 18.0
        self.page: pymupdf.Page | None = None
        self.col = 0
        self.y = TOP
        self.top = TOP
        self.new_page()

    @property
    def col_width(self) -> float:
        full = PAGE_W - 2 * self.margin
        return full if self.columns == 1 else (full - self.gap) / 2

    @property
    def x(self) -> float:
        return self.margin + self.col * (self.col_width + self.gap)

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        number = str(len(self.doc))
        head = self.spec["running_head"]
        if self.spec["page_number"] == "header":
            self.page.insert_text((self.margin, 48), head, fontname=ITALIC, fontsize=8.5)
            x = PAGE_W - self.margin - _width(number, HEAD, 8.5)
            self.page.insert_text((x, 48), number, fontname=HEAD, fontsize=8.5)
        else:
            x = (PAGE_W - _width(head, ITALIC, 8.5)) / 2
            self.page.insert_text((x, 48), head, fontname=ITALIC, fontsize=8.5)
            x = (PAGE_W - _width(number, BODY, 9)) / 2
            self.page.insert_text((x, 752), number, fontname=BODY, fontsize=9)
        self.col, self.y, self.top = 0, TOP, TOP

    def advance(self, height: float) -> None:
        """Move down by height, breaking to the next column or page when it does not fit."""
        if self.y + height > BOTTOM:
            if self.col + 1 < self.columns:
                self.col += 1
                self.y = self.top
            else:
                self.new_page()
        self.y += height

    def text(self, lines: list[str], font: str, size: float, leading: float,
             indent: float = 0.0, hang: float = 0.0, center: bool = False, full: bool = False) -> None:
        for i, line in enumerate(lines):
            self.advance(leading)
            width = PAGE_W - 2 * self.margin if full else self.col_width
            x0 = self.margin if full else self.x
            if center:
                x = x0 + (width - _width(line, font, size)) / 2
            else:
                x = x0 + (indent if i == 0 else hang)
            self.page.insert_text((x, self.y), line, fontname=font, fontsize=size)

    def space(self, height: float) -> None:
        if self.y > self.top:  # no blank space at the top of a column
            self.y = min(self.y + height, BOTTOM)


def _title_block(pen: _Pen, spec: dict) -> None:
    full = PAGE_W - 2 * pen.margin
    pen.text(wrap(spec["title"], full, BOLD, 16), BOLD, 16, 20, center=True, full=True)
    pen.space(8)
    pen.text(wrap(", ".join(spec["authors"]), full, BODY, 11), BODY, 11, 14, center=True, full=True)
    pen.text([spec["affiliation"]], ITALIC, 10, 13, center=True, full=True)
    pen.space(12)
    pen.text(["Abstract"], BOLD, 11, 14, center=True, full=True)
    inset = 36.0
    lines = wrap(spec["abstract"], full - 2 * inset, BODY, 9.5)
    for line in lines:
        pen.advance(12)
        pen.page.insert_text((pen.margin + inset, pen.y), line, fontname=BODY, fontsize=9.5)
    pen.space(14)
    pen.top = pen.y  # columns start below the title block on the first page


def _section(pen: _Pen, spec: dict, section: dict, level: int) -> None:
    size = 12.0 if level == 0 else 10.5
    pen.space(10 if level == 0 else 6)
    pen.text(wrap(section["heading"], pen.col_width, BOLD, size), BOLD, size, size + 4)
    pen.space(3)
    for paragraph in section.get("paragraphs", []):
        text = render_callouts(paragraph, spec)
        pen.text(wrap(text, pen.col_width, BODY, 10, first_indent=12), BODY, 10, 12.5, indent=12)
        pen.space(3)
    for sub in section.get("subsections", []):
        _section(pen, spec, sub, level + 1)


def _references(pen: _Pen, spec: dict) -> None:
    heading = spec.get("references_heading", "References")
    pen.space(10)
    pen.text([heading], BOLD, 12, 16)
    pen.space(3)
    for n, key in enumerate(spec["references"], start=1):
        body = reference_text(key, spec)
        if spec["style"] == "numeric":
            label = f"[{n}]"
            lines = wrap(f"{label} {body}", pen.col_width - 16, BODY, 9)
            pen.text(lines, BODY, 9, 11, hang=16)
        else:
            lines = wrap(body, pen.col_width - 12, BODY, 9)
            pen.text(lines, BODY, 9, 11, hang=12)
        pen.space(2)


def render_pdf(spec: dict) -> bytes:
    """Lay out one demo paper and return the PDF bytes (deterministic)."""
    doc = pymupdf.open()
    pen = _Pen(doc, spec)
    _title_block(pen, spec)
    for section in spec["sections"]:
        _section(pen, spec, section, 0)
    _references(pen, spec)
    stamp = "D:" + spec["published"].replace("-", "") + "000000Z"
    doc.set_metadata({
        "title": spec["title"],
        "author": ", ".join(spec["authors"]),
        "subject": "autoscholar offline demo paper",
        "creator": "autoscholar demo",
        "producer": "autoscholar demo (PyMuPDF)",
        "creationDate": stamp,
        "modDate": stamp,
    })
    data = doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    doc.close()
    return data
