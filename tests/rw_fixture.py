"""PDFs that show the layouts where a Related Work section used to be missed: review copies
with line numbers in both margins, bold body-size headings, appendix tables of contents,
templates whose headings carry no style at all. Laid out by PyMuPDF (pdf_fixture helpers)."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from pdf_fixture import write_lines

LEFT_COL, RIGHT_COL, COL_W = 60, 316, 236

INTRO = [
    "Parsing scientific documents well is hard, and",
    "many systems exist for it (Smith et al., 2020).",
    "We study the problem of reading order here.",
]
RELATED = [
    "Column detection was proposed by Lee and Kim",
    "(2018), and rule-based systems came before it",
    "(Doe, 2019). Neural parsers (van der Berg and",
    "Lee, 2021) learn layouts from many pages.",
]
BACKGROUND = [
    "A page is a set of glyphs with positions. We",
    "write a line as its glyphs, left to right, as",
    "in the standard definition (Smith et al., 2020).",
]
REFS = [
    ["Jane Doe. 2019. Rules for reading order. Journal", "of Layout, 3:1-9."],
    ["Minh Lee and Ann Kim. 2018. Column detection in", "scanned papers. In ICDAR."],
    ["John Smith, Ann Kim, and Bo Wu. 2020. Learning to", "read papers. arXiv preprint arXiv:2001.01234."],
    ["Piet van der Berg and Minh Lee. 2021. Neural layout", "parsers. In CVPR."],
]


def references(page, x, y, size=9.0):
    """Author-year entries with hanging indents, from ``y`` down."""
    for entry in REFS:
        y = write_lines(page, x, y + 2, entry[:1], size=size)
        y = write_lines(page, x + 10, y, entry[1:], size=size)
    return y
GOLD_RELATED = {"Lee and Kim", "Doe", "van der Berg"}


class Numbered:
    """Writes lines as a review copy does: each line's number is set in the margin beside it,
    right after it in the content stream, so MuPDF reads number and text as one block."""

    def __init__(self, page, first: int = 1, both: bool = False):
        self.page, self.n, self.both = page, first, both  # both: ECCV's "019 ... 019"

    def lines(self, x, y, lines, size=10.0, font="helv", lead=None):
        lead = lead or size * 1.25
        margins = (20, 566) if self.both else (20,) if x < 300 else (566,)
        for text in lines:
            self.page.insert_text((x, y), text, fontname=font, fontsize=size)
            for margin in margins:
                self.page.insert_text((margin, y), f"{self.n:03d}", fontname="hebo", fontsize=8)
            self.n += 1
            y += lead
        return y


def review_two_column(path: Path, rw_title: str = "2   Related work") -> Path:
    """ACL review copy: two columns, line numbers in the left and the right margin on the
    baselines of the text, "Related work" then "Background"."""
    doc = pymupdf.open()
    n = 1
    for page_no in range(2):
        p = doc.new_page(width=612, height=792)
        w = Numbered(p, n)
        if page_no == 0:
            write_lines(p, 170, 60, ["Parsing Two Columns Correctly"], size=15, font="hebo")
            y = w.lines(LEFT_COL, 110, ["1   Introduction"], size=12, font="hebo")
            y = w.lines(LEFT_COL, y + 4, INTRO * 3, size=10)
            y = w.lines(LEFT_COL, y + 10, [rw_title], size=12, font="hebo")
            w.lines(LEFT_COL, y + 4, RELATED * 2, size=10)
            y = w.lines(RIGHT_COL, 110, ["3   Background"], size=12, font="hebo")
            w.lines(RIGHT_COL, y + 4, BACKGROUND * 3, size=10)
        else:
            y = w.lines(LEFT_COL, 110, ["4   Method"], size=12, font="hebo")
            w.lines(LEFT_COL, y + 4, BACKGROUND * 4, size=10)
            y = w.lines(RIGHT_COL, 110, ["References"], size=12, font="hebo")
            for entry in REFS:
                y = w.lines(RIGHT_COL, y + 2, entry[:1], size=9)
                y = w.lines(RIGHT_COL + 10, y, entry[1:], size=9)
        n = w.n
    doc.save(path)
    return path


def one_column(path: Path, rw_title: str = "2   Related Work", rw_font: str = "hebo",
               rw_size: float = 12.0, extra_pages=None) -> Path:
    """One column: Introduction, a related-work section under ``rw_title`` set in ``rw_font``
    at ``rw_size``, Method, References; ``extra_pages(doc)`` may add pages (appendices)."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 150, 60, ["Parsing Scientific Papers Correctly"], size=16, font="hebo")
    y = write_lines(p, 72, 110, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, INTRO * 2)
    y = write_lines(p, 72, y + 12, [rw_title], size=rw_size, font=rw_font)
    y = write_lines(p, 72, y + 4, RELATED * 2)
    y = write_lines(p, 72, y + 12, ["3   Method"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, BACKGROUND * 2)
    y = write_lines(p, 72, y + 12, ["References"], size=12, font="hebo")
    references(p, 72, y + 4)
    if extra_pages:
        extra_pages(doc)
    doc.save(path)
    return path


def two_column_body_size_heading(path: Path, title: str = "Related Work") -> Path:
    """Two columns; the related-work heading is set in bold at the body size, right under the
    paragraph before it, so that MuPDF reads both into one block."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 170, 60, ["Parsing Two Columns Correctly"], size=15, font="hebo")
    y = write_lines(p, LEFT_COL, 110, ["1. Introduction"], size=12, font="hebo")
    y = write_lines(p, LEFT_COL, y + 4, INTRO * 4, size=10)
    y = write_lines(p, LEFT_COL, y, [title], size=10, font="hebo")
    write_lines(p, LEFT_COL, y + 2, RELATED * 3, size=10)
    y = write_lines(p, RIGHT_COL, 110, ["3. Method"], size=12, font="hebo")
    y = write_lines(p, RIGHT_COL, y + 4, BACKGROUND * 3, size=10)
    y = write_lines(p, RIGHT_COL, y + 10, ["References"], size=12, font="hebo")
    references(p, RIGHT_COL, y + 4)
    doc.save(path)
    return path


APPENDIX_TOC = [("A", "Training Settings", 12), ("B", "Datasets", 13), ("C", "Ablations", 14),
                ("D", "Case Studies", 16), ("E", "Prompts", 17), ("F", "Failure Cases", 18),
                ("G", "Human Study", 19), ("H", "Related Work", 20), ("I", "Training Details", 21)]


def appendix_with_contents(path: Path, leaders: bool = True) -> Path:
    """A paper whose Related Work sits in the appendix: the appendix opens with a table of
    contents ("H Related Work . . . . 20"), then the lettered sections, "H Related Work" with a
    subsection, then "I Training Details" with "I.3 Training Configurations"."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 150, 60, ["Parsing Scientific Papers Correctly"], size=16, font="hebo")
    y = write_lines(p, 72, 110, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, INTRO * 2)
    y = write_lines(p, 72, y + 12, ["2   Method"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, BACKGROUND * 2)
    y = write_lines(p, 72, y + 12, ["References"], size=12, font="hebo")
    references(p, 72, y + 4)
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 80, ["Appendix"], size=14, font="hebo")
    y = write_lines(p, 72, y + 8, ["Contents"], size=12, font="hebo")
    toc = []
    for letter, title, page in APPENDIX_TOC:
        dots = " " + ". " * (60 - 2 * len(title)) if leaders else "      "
        toc.append(f"{letter}   {title}{dots}{page}")
    y = write_lines(p, 72, y + 6, toc)
    for letter, title, _ in APPENDIX_TOC[:7]:
        y = write_lines(p, 72, y + 12, [f"{letter}   {title}"], size=12, font="hebo")
        y = write_lines(p, 72, y + 4, ["We trained every model with the same settings and",
                                       "seeds; details are as in the main text (Doe, 2019)."])
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 80, ["H   Related Work"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, RELATED[:2] + ["(Doe, 2019)."])
    y = write_lines(p, 72, y + 10, ["H.1   Neural Parsers"], size=11, font="hebo")
    y = write_lines(p, 72, y + 4, ["Neural parsers (van der Berg and Lee, 2021) learn layouts."])
    y = write_lines(p, 72, y + 12, ["I   Training Details"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["All models share one recipe, described below in full."])
    y = write_lines(p, 72, y + 10, ["I.3   Training Configurations"], size=11, font="hebo")
    write_lines(p, 72, y + 4, ["We follow the schedule of Smith et al. (2020) for all runs",
                               "and keep every other setting fixed across the experiments."])
    doc.save(path)
    return path


def related_work_in_introduction(path: Path, heading_font: str = "hebo",
                                 heading_size: float = 12.0) -> Path:
    """No related-work section: the Introduction surveys prior work in one paragraph dense with
    citations, and has a paragraph that cites once; then Method and References. With
    ``heading_font="helv"`` and ``heading_size=10`` the section headings look like body text
    (the reference list keeps its bold heading)."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 150, 60, ["Parsing Scientific Papers Correctly"], size=16, font="hebo")
    y = write_lines(p, 72, 110, ["Introduction"], size=heading_size, font=heading_font)
    y = write_lines(p, 72, y + 4, INTRO)
    y = write_lines(p, 72, y + 8, RELATED)
    y = write_lines(p, 72, y + 12, ["Method"], size=heading_size, font=heading_font)
    y = write_lines(p, 72, y + 4, BACKGROUND * 2)
    y = write_lines(p, 72, y + 4, ["We read every page once and write the result once, in",
                                   "order, and we check it against the layout we expect."] * 3)
    y = write_lines(p, 72, y + 12, ["References"], size=12, font="hebo")
    references(p, 72, y + 4)
    doc.save(path)
    return path


def review_one_column_plain_headings(path: Path) -> Path:
    """ECCV/LNCS review copy: one column, each line numbered in both margins, numbered section
    headings set larger than the text but in the regular font."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    w = Numbered(p, 1, both=True)
    write_lines(p, 150, 60, ["Parsing Scientific Papers Correctly"], size=14)
    y = w.lines(90, 110, ["1   Introduction"], size=12)
    y = w.lines(90, y + 4, INTRO * 2)
    y = w.lines(90, y + 12, ["2   Related Work"], size=12)
    y = w.lines(90, y + 4, RELATED * 2)
    y = w.lines(90, y + 12, ["3   Method"], size=12)
    y = w.lines(90, y + 4, BACKGROUND * 2)
    y = w.lines(90, y + 12, ["References"], size=12)
    for entry in REFS:
        y = w.lines(90, y + 2, entry[:1], size=9)
        y = w.lines(100, y, entry[1:], size=9)
    doc.save(path)
    return path
