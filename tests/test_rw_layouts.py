"""Related Work found under other names and in the layouts that used to hide it."""

from __future__ import annotations

import pytest

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import extract_contexts, find_target_sections
from autoscholar.parse.pymupdf.pdf import parse_pdf
from pdf_fixture import PAPER
from rw_fixture import one_column

CITED = {"Rules for reading order", "Column detection in scanned papers", "Neural layout parsers"}


def _cited(doc) -> set[str]:
    return {r.title for c in extract_contexts(doc, DEFAULT_SECTIONS) for r in c.refs}


@pytest.mark.parametrize("title", ["2   Prior Literature", "2   Background Information",
                                   "2   Related Research", "2   Previous Studies"])
def test_related_work_under_other_names(tmp_path, title):
    doc = parse_pdf(PAPER, one_column(tmp_path / "p.pdf", rw_title=title))
    assert [s.title for s in find_target_sections(doc, DEFAULT_SECTIONS)] == [title.split("   ")[1]]
    assert _cited(doc) == CITED
