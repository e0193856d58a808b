"""pymupdf/footnotes.py: footnotes kept out of the body, small print that is no footnote kept in."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from autoscholar.parse.pymupdf.pdf import parse_pdf
from pdf_fixture import (PAPER, intro_and_related_work, method_and_references, sentences,
                         write_lines)


def _footnote_pdf(path: Path, raised_mark: bool) -> Path:
    """A Related Work paragraph that runs over a page break, with a 9 pt footnote under a short
    rule at the foot of the first page (10 pt body), and a 9 pt remark mid-page that stays."""
    doc = pymupdf.open()
    p, y = intro_and_related_work(doc, ["Open information extraction reads relations from the Web at scale."])
    filler = "Earlier extraction systems were built by hand for one relation at a time, and"
    y = write_lines(p, 72, y + 4, [filler] * 40 + ["later systems were trained on"])
    p.draw_line((72, 700), (180, 700), width=0.4)
    # the mark: a 6 pt digit, raised (a superscript) or on the footnote's baseline
    p.insert_text((72, 714 - (3 if raised_mark else 0)), "5", fontname="helv", fontsize=6)
    write_lines(p, 72 + pymupdf.get_text_length("5", "helv", 6), 714, [
        "We carried out several preliminary experiments using a data-driven approach [2]"], size=9)
    write_lines(p, 72, 725, ["that confirmed this hypothesis."], size=9)
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["large corpora of web text [1]. They need no hand-written rules at all."])
    y = write_lines(p, 72, y + 6, ["1 Small print in the middle of the page is kept as it is written."],
               size=9)
    y = write_lines(p, 72, y + 6, ["Our system follows this line of work and extends it to the Web [3]."])
    method_and_references(p, y + 12, ["We describe the extractor in this section."])
    doc.save(path)
    return path


@pytest.mark.parametrize("raised_mark", [True, False])
def test_footnote_at_the_foot_of_the_page_is_not_body_text(tmp_path, raised_mark):
    parsed = parse_pdf(PAPER, _footnote_pdf(tmp_path / "f.pdf", raised_mark))
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    text = " ".join(sentences(rw))
    assert "preliminary experiments" not in text and "hypothesis" not in text, text[-400:]
    # the sentence the footnote interrupted is whole again, across the page break
    assert "later systems were trained on large corpora of web text [1]." in text
    assert "Small print in the middle of the page is kept" in text  # body text below it: no footnote
    cited = {k for p in rw.paragraphs for se in p.sentences for c in se.cites for k in c.keys}
    assert cited == {"ref1", "ref3"}  # [2] was only cited in the footnote


_BODY = "The main text of the paper is set in ten point type and runs across the whole page width."
_SMALL_RW = [  # Related Work in \small, as papers set it to save space
    "Point cloud methods were studied by many authors [1], and voxel grids were the first choice of",
    "3D detectors for a long time [2]. Later work used multi-view images [3] and learned to fuse",
    "them with depth [1]. Recent transformers scale to 12 languages and more sensors [2], and",
    "12 benchmarks now measure this setting in the open world, with strong baselines [3]."]


def _small_rw_pdf(path: Path, url_footnote: bool) -> Path:
    """Related Work in 9 pt (10 pt body) at the foot of a page, after a page that ends with a
    footnote that breaks off in lower case (a URL), or not."""
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, [_BODY] * (40 if url_footnote else 30))
    if url_footnote:
        p.draw_line((72, 700), (180, 700), width=0.4)
        write_lines(p, 72, 714, ["1 Our code is at https://github.com/example/parser"], size=9)
        p = doc.new_page(width=612, height=792)
        y = write_lines(p, 72, 60, [_BODY] * 20)
    y = write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    write_lines(p, 72, y + 4, _SMALL_RW, size=9)
    p = doc.new_page(width=612, height=792)
    method_and_references(p, 60, [_BODY] * 5)
    doc.save(path)
    return path


@pytest.mark.parametrize("url_footnote", [False, True])
def test_small_related_work_at_the_foot_of_a_page_is_no_footnote(tmp_path, url_footnote):
    # lines that start "3D ..." or "12 benchmarks ..." look like footnotes "3 ...", and the
    # URL footnote of the page before ends as if cut off mid-sentence
    parsed = parse_pdf(PAPER, _small_rw_pdf(tmp_path / "s.pdf", url_footnote))
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    assert " ".join(sentences(rw)) == " ".join(_SMALL_RW)
    assert "github.com" not in " ".join(se for s in parsed.sections for se in sentences(s))
