"""Related Work found under other names and in the layouts that used to hide it."""

from __future__ import annotations

import pytest

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import extract_contexts, find_target_sections
from autoscholar.parse.pymupdf.pdf import parse_pdf
from pdf_fixture import PAPER
from rw_fixture import appendix_with_contents, one_column, two_column_body_size_heading

CITED = {"Rules for reading order", "Column detection in scanned papers", "Neural layout parsers"}


def _cited(doc) -> set[str]:
    return {r.title for c in extract_contexts(doc, DEFAULT_SECTIONS) for r in c.refs}


@pytest.mark.parametrize("title", ["2   Prior Literature", "2   Background Information",
                                   "2   Related Research", "2   Previous Studies"])
def test_related_work_under_other_names(tmp_path, title):
    doc = parse_pdf(PAPER, one_column(tmp_path / "p.pdf", rw_title=title))
    assert [s.title for s in find_target_sections(doc, DEFAULT_SECTIONS)] == [title.split("   ")[1]]
    assert _cited(doc) == CITED


def test_bold_body_size_heading_read_into_the_paragraph_block_above(tmp_path):
    doc = parse_pdf(PAPER, two_column_body_size_heading(tmp_path / "p.pdf"))
    assert [s.title for s in doc.sections] == ["Introduction", "Related Work", "Method"]
    assert _cited(doc) == CITED
    intro = " ".join(se.text for pa in doc.sections[0].paragraphs for se in pa.sentences)
    assert "Related Work" not in intro


def test_bold_line_in_a_paragraph_that_names_no_section_stays_text(tmp_path):
    doc = parse_pdf(PAPER, two_column_body_size_heading(tmp_path / "p.pdf", "Column detection"))
    assert [s.title for s in doc.sections] == ["Introduction", "Method"]


@pytest.mark.parametrize("leaders", [True, False])
def test_appendix_contents_are_no_headings_and_appendix_sections_do_not_nest(tmp_path, leaders):
    doc = parse_pdf(PAPER, appendix_with_contents(tmp_path / "p.pdf", leaders))
    paths = [" > ".join(s.path) for s in doc.sections]
    assert not any(ch.isdigit() for s in doc.sections for ch in s.title)  # no "Related Work 20"
    assert "Appendix > H Related Work > H.1 Neural Parsers" not in paths  # titles keep no number
    found = [" > ".join(s.path) for s in find_target_sections(doc, DEFAULT_SECTIONS)]
    assert found == ["Appendix > Related Work", "Appendix > Related Work > Neural Parsers"] \
        or found == ["Related Work", "Related Work > Neural Parsers"]
    assert any(p.endswith("Training Details > Training Configurations") for p in paths)
    assert _cited(doc) == CITED  # not Smith et al. (2020) of the training configurations
    text = " ".join(se.text for s in doc.sections for pa in s.paragraphs for se in pa.sentences)
    assert "Case Studies" not in text
