"""front_matter.py: with no Related Work heading, the front matter's citing paragraphs that
read as related work are mined, marked, and counted apart; off by a setting."""

from __future__ import annotations

from autoscholar.config import Settings
from autoscholar.contexts import contexts_for
from autoscholar.front_matter import FRONT_MATTER
from autoscholar.parse.pymupdf.pdf import parse_pdf
from autoscholar.records import Reject
from pdf_fixture import PAPER
from rw_fixture import one_column, related_work_in_introduction

CITED = {"Rules for reading order", "Column detection in scanned papers", "Neural layout parsers"}


def _settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def test_introduction_paragraph_dense_with_citations_is_mined_and_marked(tmp_path):
    doc = parse_pdf(PAPER, related_work_in_introduction(tmp_path / "p.pdf"))
    found = contexts_for(doc, _settings())
    assert not isinstance(found, Reject), found
    assert [c.section for c in found] == [f"Introduction {FRONT_MATTER}"]
    assert {r.title for r in found[0].refs} == CITED  # not the intro's single-citation paragraph
    assert found[0].text.startswith("Column detection was proposed")


def test_fallback_off_is_a_reject_that_lists_the_headings(tmp_path):
    doc = parse_pdf(PAPER, related_work_in_introduction(tmp_path / "p.pdf"))
    found = contexts_for(doc, _settings(front_matter_fallback=False))
    assert isinstance(found, Reject) and found.reason == "no-related-work-section"
    assert found.detail == "headings: Introduction; Method"


def test_paper_without_headings_falls_back_to_its_first_half(tmp_path):
    doc = parse_pdf(PAPER, related_work_in_introduction(tmp_path / "p.pdf", "helv", 10.0))
    assert [s.title for s in doc.sections] == [""]  # no heading to see
    found = contexts_for(doc, _settings())
    assert not isinstance(found, Reject), found
    assert [c.section for c in found] == [f"untitled {FRONT_MATTER}"]
    assert {r.title for r in found[0].refs} == CITED
    off = contexts_for(doc, _settings(front_matter_fallback=False))
    assert isinstance(off, Reject) and off.detail == "headings: (none found)"


def test_a_related_work_heading_wins_over_the_fallback(tmp_path):
    doc = parse_pdf(PAPER, one_column(tmp_path / "p.pdf"))
    found = contexts_for(doc, _settings())
    assert {c.section for c in found} == {"Related Work"}


def test_no_citing_front_matter_is_still_a_reject(tmp_path):
    doc = parse_pdf(PAPER, one_column(tmp_path / "p.pdf", rw_title="2   Design Space"))
    found = contexts_for(doc, _settings())
    assert isinstance(found, Reject) and found.reason == "no-related-work-section"
    assert found.detail.startswith("headings: Introduction; Design Space; Method")


def test_audit_counts_front_matter_contexts_apart(tmp_path):
    from autoscholar.audit.figures import front_matter_contexts

    fallback = parse_pdf(PAPER, related_work_in_introduction(tmp_path / "a.pdf"))
    heading = parse_pdf(PAPER.model_copy(update={"paper_id": "u"}), one_column(tmp_path / "b.pdf"))
    rows = contexts_for(fallback, _settings()) + contexts_for(heading, _settings())
    (tmp_path / "contexts.jsonl").write_text("".join(c.model_dump_json() + "\n" for c in rows))
    assert len(rows) > 1
    assert front_matter_contexts(tmp_path) == {"contexts": 1, "papers": 1}
