"""pymupdf/margins.py: review-copy line numbers in both margins leave text and headings."""

from __future__ import annotations

import re

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import extract_contexts, find_target_sections
from autoscholar.parse.pymupdf.pdf import parse_pdf
from pdf_fixture import PAPER
from rw_fixture import review_two_column


def test_line_numbers_in_both_margins_leave_headings_and_text(tmp_path):
    doc = parse_pdf(PAPER, review_two_column(tmp_path / "review.pdf"))
    titles = [s.title for s in doc.sections]
    assert titles[:3] == ["Introduction", "Related work", "Background"]
    for s in doc.sections:
        for para in s.paragraphs:
            for sent in para.sentences:
                assert not re.search(r"\b\d{3}\b", sent.text), sent.text
    found = find_target_sections(doc, DEFAULT_SECTIONS)
    assert [s.title for s in found] == ["Related work"]  # not the Background after it
    cited = {r.title for c in extract_contexts(doc, DEFAULT_SECTIONS) for r in c.refs}
    assert cited == {"Rules for reading order", "Column detection in scanned papers",
                     "Neural layout parsers"}
    assert len(doc.bibliography) == 4


def test_a_column_of_numbers_in_the_text_is_not_line_numbering(tmp_path):
    """Digits stacked in a table inside the text column stay (they are not in a margin)."""
    import pymupdf

    from pdf_fixture import write_lines

    pdf = pymupdf.open()
    p = pdf.new_page(width=612, height=792)
    y = write_lines(p, 72, 80, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["We count the items in the table below, row by row, as follows."] * 3)
    for i in range(20):
        write_lines(p, 72, y + 12 * i, [f"Row label number {i} has the value of"])
        write_lines(p, 300, y + 12 * i, [str(100 + i)])
    doc = parse_pdf(PAPER, _save(pdf, tmp_path / "t.pdf"))
    text = " ".join(se.text for s in doc.sections for pa in s.paragraphs for se in pa.sentences)
    assert "has the value of 105" in text


def _save(pdf, path):
    pdf.save(path)
    return path


def test_author_year_callouts_of_a_review_copy_background_link(tmp_path):
    """ACL review copy with a Background and no Related Work: the numbers beside the reference
    list must not break its entries, so that the Background's callouts link."""
    from autoscholar.config import Settings
    from autoscholar.contexts import contexts_for
    from autoscholar.records import Reject

    doc = parse_pdf(PAPER, review_two_column(tmp_path / "r.pdf", rw_title="2   Design Space"))
    found = contexts_for(doc, Settings(_env_file=None))
    assert not isinstance(found, Reject), found
    assert {c.section for c in found} == {"Background"}
    assert {r.title for c in found for r in c.refs} == {"Learning to read papers"}
    assert {e.year for e in doc.bibliography} == {2018, 2019, 2020, 2021}


def test_numbers_in_both_margins_of_one_column_leave_plain_headings(tmp_path):
    """ECCV/LNCS: old parsing found no heading at all ("023 1 Introduction")."""
    from rw_fixture import review_one_column_plain_headings

    doc = parse_pdf(PAPER, review_one_column_plain_headings(tmp_path / "e.pdf"))
    assert [s.title for s in doc.sections] == ["Introduction", "Related Work", "Method"]
    cited = {r.title for c in extract_contexts(doc, DEFAULT_SECTIONS) for r in c.refs}
    assert cited == {"Rules for reading order", "Column detection in scanned papers",
                     "Neural layout parsers"}


def test_reference_numbers_in_a_column_of_their_own_are_kept(tmp_path):
    """A page of numbered references, each number a line of its own left of its entry: rising
    digits stacked at one x, but inside the text's left edge, so no line numbering."""
    import pymupdf

    from pdf_fixture import write_lines

    pdf = pymupdf.open()
    p = pdf.new_page(width=612, height=792)
    y = write_lines(p, 72, 80, ["1   Introduction"], size=12, font="hebo")
    write_lines(p, 72, y + 4, ["Dense retrieval has been studied widely [3], and sparse methods",
                               "remain strong [7]; we compare both here [12]."] * 4)
    p = pdf.new_page(width=612, height=792)
    y = write_lines(p, 72, 80, ["References"], size=12, font="hebo")
    for i in range(1, 15):
        write_lines(p, 72, y + 4, [str(i)], size=9)
        y = write_lines(p, 90, y + 4, [f"A. Author{i}. A study of retrieval number {i}. In Proc.",
                                       f"of the Conference on Tests, 20{10 + i}."], size=9)
    doc = parse_pdf(PAPER, _save(pdf, tmp_path / "n.pdf"))
    assert len(doc.bibliography) == 14
    assert [e.raw.split()[0] for e in doc.bibliography] == [str(i) for i in range(1, 15)]


def test_a_page_with_one_line_of_text_parses(tmp_path):
    """One body line is a list of one x-position: the margin bounds must index inside it
    (an empty listing page or a cover sheet is a real PDF, not a corrupt one)."""
    import pymupdf

    pdf = pymupdf.open()
    page = pdf.new_page(width=1600, height=792)  # wide enough for the whole text on one line
    page.insert_text((72, 100), "Only Title", fontsize=18)
    page.insert_text((72, 140), "Related Work. We build on prior work [1] here, and " * 5,
                     fontsize=10)
    path = tmp_path / "one.pdf"
    pdf.save(path)
    doc = parse_pdf(PAPER, path)
    text = " ".join(s.text for sec in doc.sections for p in sec.paragraphs for s in p.sentences)
    assert "We build on prior work" in text
