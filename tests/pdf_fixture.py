"""PDFs for the PyMuPDF backend's tests, laid out by PyMuPDF from text written here."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from autoscholar.parse.pymupdf import pdf
from autoscholar.records import Paper


PAPER = Paper(paper_id="t", venue="local")


def write_lines(page, x, y, lines, size=10.0, font="helv", lead=None):
    lead = lead or size * 1.25
    for text in lines:
        page.insert_text((x, y), text, fontname=font, fontsize=size)
        y += lead
    return y


def one_column_numeric(path: Path) -> Path:
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 72, 30, ["Preprint. Under review at TEST 2026."], size=8)
    y = write_lines(p, 150, 80, ["A Study of Parsing Scientific Papers"], size=16, font="hebo")
    y = write_lines(p, 260, y + 6, ["Jane Roe, Test University"], size=11)
    y = write_lines(p, 72, y + 14, ["Abstract"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "We study how documents are parsed into sections and citations, and we",
        "find that careful layout analysis matters a great deal for quality.",
    ])
    y = write_lines(p, 72, y + 12, ["1   Introduction"], size=12, font="hebo")
    body_start = y + 4
    y = write_lines(p, 72, body_start, [
        "Scientific parsing has a long history [1]. Many systems exist and they",
        "are compared on benchmarks [2, 3]. Here we find that the layout of a docu-",
        "ment matters, e.g. for the order of columns, as Fig. 1 shows.",
    ])
    y = write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = write_lines(p, 72, y + 6, ["2.1   Dense Retrieval"], size=10.5, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "Dense retrieval was studied by many authors [1, 2]. Later work [3-5]",
        "improved it with hard negatives and larger batches. J. Smith et al. also",
        "looked at distillation [4].",
    ])
    # review-copy line numbers in the left margin
    for i, yy in enumerate(range(int(body_start), int(y), 12)):
        p.insert_text((40, yy), str(i + 1), fontname="helv", fontsize=7)
    write_lines(p, 300, 760, ["1"], size=9)
    p = doc.new_page(width=612, height=792)
    write_lines(p, 72, 30, ["Preprint. Under review at TEST 2026."], size=8)
    y = write_lines(p, 72, 80, ["2.2   Sparse Retrieval"], size=10.5, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "Sparse methods remain strong baselines [5]. They are fast and simple to",
        "deploy in practice.",
    ])
    y = write_lines(p, 72, y + 12, ["3   Method"], size=12, font="hebo")
    method = "Our method reads the PDF twice and writes the result once."
    y = write_lines(p, 72, y + 4, [method])
    # a footnote mark (superscript) and its footnote in small print
    p.insert_text((72 + pymupdf.get_text_length(method, fontname="helv", fontsize=10), y - 12.5 - 3.5),
                  "2", fontname="helv", fontsize=6.5)
    write_lines(p, 72, 740, ["2 Code at https://example.org/parser."], size=7.5)
    y = write_lines(p, 72, y + 12, ["References"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "[1] A. Smith and B. Jones. Dense passage retrieval for testing. In Proc. of",
        "     TEST, 2020. arXiv:2004.12345v2.",
        "[2] C. Doe. A survey of parsers. Journal of Tests, 12(3):1-10, 2019.",
        "     doi:10.1000/jt.2019.42.",
        "[3] D. Lee, E. Kim, and F. Park. Hard negatives for dense retrieval. In",
        "     Proceedings of RET, 2021.",
        "[4] G. Smith. Distilling retrievers. arXiv preprint arXiv:2101.00001, 2021.",
        "[5] H. Robertson. The probabilistic relevance framework. Foundations and",
        "     Trends in IR, 2009.",
    ], size=9)
    write_lines(p, 300, 760, ["2"], size=9)
    doc.save(path)
    return path


def two_column_author_year(path: Path) -> Path:
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    write_lines(p, 170, 70, ["Parsing Two Columns Correctly"], size=15, font="hebo")
    left, right = 50, 317
    y = write_lines(p, left, 120, ["1   INTRODUCTION"], size=11, font="hebo")
    y = write_lines(p, left, y + 4, [
        "Reading order matters for two-column",
        "papers (Smith et al., 2020; Doe, 2019a).",
        "We parse them with a layout model.",
    ], size=9)
    y = write_lines(p, left, y + 10, ["2   RELATED WORK"], size=11, font="hebo")
    y = write_lines(p, left, y + 4, [
        "Lee and Kim (2018) proposed column",
        "detection. Earlier systems used rules",
        "(Doe, 2019b). This sentence continues",
    ], size=9)
    y = write_lines(p, right, 120, [
        "into the right column without a break,",
        "as noted by Smith et al. [2020].",
    ], size=9)
    y = write_lines(p, right, y + 10, ["2.1   Neural Parsers"], size=9.5, font="hebo")
    y = write_lines(p, right, y + 4, [
        "Neural parsers learn layouts (van der",
        "Berg and Lee, 2021) from many pages.",
    ], size=9)
    y = write_lines(p, right, y + 10, ["3   METHOD"], size=11, font="hebo")
    y = write_lines(p, right, y + 4, ["We combine both ideas in one tool."], size=9)
    y = write_lines(p, right, y + 10, ["REFERENCES"], size=11, font="hebo")
    entries = [
        ["Jane Doe. 2019a. A rule-based parser for", "documents. In Proc. of DOC."],
        ["Jane Doe. 2019b. Rules for reading order.", "Journal of Layout, 3:1-9."],
        ["Minh Lee and Ann Kim. 2018. Column", "detection in scanned papers. In ICDAR."],
        ["John Smith, Ann Kim, and Bo Wu. 2020.", "Learning to read papers. arXiv preprint",
         "arXiv:2001.01234."],
        ["Piet van der Berg and Minh Lee. 2021.", "Neural layout parsers. In CVPR."],
    ]
    for entry in entries:
        y = write_lines(p, right, y + 2, entry[:1], size=8.5)
        y = write_lines(p, right + 10, y, entry[1:], size=8.5)
    doc.save(path)
    return path


def superscript_numeric(path: Path) -> Path:
    """Nature style: superscript callouts, a "1." numbered list."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)

    def say(y, parts):
        x = 72
        for text, sup in parts:
            size = 6.5 if sup else 10
            p.insert_text((x, y - (3.5 if sup else 0)), text, fontname="helv", fontsize=size)
            x += pymupdf.get_text_length(text, fontname="helv", fontsize=size)

    write_lines(p, 72, 80, ["Introduction"], size=12, font="hebo")
    say(100, [("Transformers changed language modelling", False), ("1,3", True),
              (" and vision", False), ("2", True), (".", False)])
    say(112, [("Retrieval helps as well", False), ("4-6", True), (". Older work used trees", False),
              ("7", True), (".", False)])
    write_lines(p, 72, 140, ["Related Work"], size=12, font="hebo")
    say(160, [("Sparse models came first", False), ("2", True), (" and dense ones later", False),
              ("5", True), (".", False)])
    write_lines(p, 72, 190, ["References"], size=12, font="hebo")
    write_lines(p, 72, 205, [f"{i}. Author{i} A. Title number {i}. J. Tests {i}, 1-2 (20{10 + i})."
                        for i in range(1, 8)], size=9)
    doc.save(path)
    return path


def bad_pdf(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.pdf"
    if kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "not-a-pdf":
        path.write_text("<html><body>404 Not Found</body></html>")
    elif kind == "truncated":
        good = one_column_numeric(tmp_path / "good.pdf").read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif kind == "corrupt":  # a PDF header and trailer around noise
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    elif kind == "encrypted":
        doc = pymupdf.open(one_column_numeric(tmp_path / "good.pdf"))
        doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    elif kind == "no-text":  # a scan: one page holding only an image
        doc = pymupdf.open()
        page = doc.new_page()
        pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 260), 0)
        pix.clear_with(200)
        page.insert_image(page.rect, pixmap=pix)
        doc.save(path)
    elif kind == "too-many-pages":
        doc = pymupdf.open()
        for _ in range(pdf.MAX_PAGES + 1):
            doc.new_page()
        doc.save(path)
    return path


def run_in_line(page, x, y, bold, roman, size=10.0):
    """One line that starts with a bold run and goes on in roman type: a run-in heading."""
    page.insert_text((x, y), bold, fontname="hebo", fontsize=size)
    page.insert_text((x + pymupdf.get_text_length(bold + " ", "hebo", size), y), roman,
                     fontname="helv", fontsize=size)
    return y + size * 1.25


def references(page, y):
    y = write_lines(page, 72, y, ["References"], size=12, font="hebo")
    return write_lines(page, 72, y + 4, [
        "[1] A. Author. Trust in human-AI teams. In Proc. X, 2020.",
        "[2] B. Writer. Behavior-aware optimization. In Proc. Y, 2021.",
        "[3] C. Person. Mixtures of experts revisited. In Proc. Z, 2022.",
    ], size=9)


def method_and_references(page, y, body):
    """A "3 Method" section with ``body`` from ``y`` on, then the reference list."""
    y = write_lines(page, 72, y, ["3   Method"], size=12, font="hebo")
    return references(page, write_lines(page, 72, y + 4, body) + 12)


def sentences(section) -> list[str]:
    return [se.text for p in section.paragraphs for se in p.sentences]


def styled(page, x, y, runs, size=10.0):
    """One line made of (text, font) runs, each set right after the one before."""
    for text, font in runs:
        page.insert_text((x, y), text, fontname=font, fontsize=size)
        x += pymupdf.get_text_length(text, fontname=font, fontsize=size)
    return y + size * 1.25


def intro_and_related_work(doc, intro: list[str]):
    """A new page opening with "1 Introduction" (``intro`` as its text) and the "2 Related Work"
    heading: (the page, the y where the Related Work text starts, before its own gap)."""
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, intro)
    return p, write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
