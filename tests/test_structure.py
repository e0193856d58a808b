"""pymupdf/structure.py: headings, run-in headings, paragraphs and dehyphenation."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import find_target_sections
from autoscholar.parse.pymupdf.pdf import parse_pdf
from pdf_fixture import (PAPER, intro_and_related_work, method_and_references, references,
                         run_in_line, sentences, styled, write_lines)


def test_dehyphenation_keeps_suspended_hyphens():
    from autoscholar.parse.pymupdf.structure import _dehyphenate

    assert _dehyphenate("many sentence-", "and token-level tasks", set(), set()) == \
        "many sentence- and token-level tasks"
    assert _dehyphenate("a docu-", "ment here", {"document"}, set()) == "a document here"
    assert _dehyphenate("an NLI-", "based model", {"nlibased"}, set()) == "an NLI-based model"
    assert _dehyphenate("Chain-", "of-thought can", {"chainof"}, {"chain-of-thought"}) == \
        "Chain-of-thought can"
    assert _dehyphenate("our end-", "to-end model", {"end", "our"}, set()) == "our end-to-end model"
    assert _dehyphenate("a docu-", "ment-level model", {"document"}, set()) == "a document-level model"
    # a capitalised word broken at a line end: one word if the paper prints it whole elsewhere
    assert _dehyphenate("For example, GRO-", "BID (Grobid", {"grobid"}, set()) == \
        "For example, GROBID (Grobid"
    assert _dehyphenate("uses BERT-", "Large and", {"bert", "large"}, set()) == "uses BERT-Large and"
    assert _dehyphenate("uses BERT-", "Large and", {"bertlarge"}, {"bert-large"}) == \
        "uses BERT-Large and"


def _structure_pdf(path: Path) -> Path:
    """Headings with a code-font word, a heading that wraps, unnumbered sibling subsections,
    a bulleted list, and a line that ends on "et al." before the next block."""
    doc = pymupdf.open()
    p, y = intro_and_related_work(doc, [
        "Parsing papers is hard and we explain why in the sections that follow here.",
    ])
    y = write_lines(p, 72, y + 4, [
        "Approaches in this space can be broadly categorized into two families here:",
        "\u2022 Procedural generation trains models on generated problems [1]. It works.",
        "\u2022 Model-based generation uses language models to write problems [2].",
    ])
    lead = "3   Design of "
    p.insert_text((72, y + 18), lead, fontname="hebo", fontsize=12)
    p.insert_text((72 + pymupdf.get_text_length(lead, "hebo", 12), y + 18), "papermage",
                  fontname="cobo", fontsize=12)
    y = write_lines(p, 72, y + 18 + 19, [
        "The toolkit has three parts that we describe in the following subsections.",
    ])
    y = write_lines(p, 72, y + 12, ["3.1   Representing and manipulating",
                               "visually-rich documents with magelib"], size=10.5, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "In this section we show code snippets of the library and its abstractions.",
    ])
    write_lines(p, 72, 740, ["1"], size=9)
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["References"], size=12, font="hebo")
    write_lines(p, 72, y + 4, [
        "[1] A. Author. Procedural problems for reasoning. In Proc. X, 2020.",
        "[2] B. Writer. Problems written by language models. In Proc. Y, 2021.",
    ])
    doc.save(path)
    return path


def test_headings_with_code_words_wrapped_titles_and_bullets(tmp_path):
    parsed = parse_pdf(PAPER, _structure_pdf(tmp_path / "s.pdf"))
    paths = [s.path for s in parsed.sections]
    assert ["Design of papermage"] in paths  # a code-font word does not make it a code line
    assert ["Design of papermage",
            "Representing and manipulating visually-rich documents with magelib"] in paths
    rw = next(s for s in parsed.sections if s.path == ["Related Work"])
    texts = [" ".join(se.text for se in para.sentences) for para in rw.paragraphs]
    assert len(texts) == 3 and texts[1][2:].startswith("Procedural") \
        and texts[2][2:].startswith("Model-based"), texts
    assert not any("Design of" in t or "visually-rich" in t for t in texts)
    sub = next(s for s in parsed.sections if len(s.path) == 2)
    body = " ".join(se.text for para in sub.paragraphs for se in para.sentences)
    assert body.startswith("In this section"), body


def test_unnumbered_sibling_subsections_share_a_level(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = 60
    for title, size in [("Introduction", 12), ("Method", 12), ("Modeling Human Behavior", 11),
                        ("Optimizing Behavior-Aware AI", 11), ("Conclusion", 12)]:
        y = write_lines(p, 72, y + 12, [title], size=size, font="hebo")
        y = write_lines(p, 72, y + 4, ["This paragraph is running text of the section above it."])
    doc.save(tmp_path / "u.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "u.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Method"], ["Method", "Modeling Human Behavior"],
        ["Method", "Optimizing Behavior-Aware AI"], ["Conclusion"]]


def test_line_ending_on_an_abbreviation_does_not_end_a_paragraph():
    from autoscholar.parse.pymupdf.structure import _ends_sentence

    assert not _ends_sentence("while the pipeline of Galgani et al.")
    assert not _ends_sentence("many cues, e.g.")
    assert _ends_sentence("as we show in Section 3.")


def test_subsection_heading_in_the_block_of_its_parent_heading(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["1   INTRODUCTION"], size=11, font="hebo")
    y = write_lines(p, 72, y + 2, ["Lip sync is a hard problem and this paper studies it in detail here."],
               size=9)
    y = write_lines(p, 72, y + 10, ["2   RELATED WORK", "2.1   Constrained Talking Face Generation from",
                               "Speech"], size=11, font="hebo", lead=13)
    write_lines(p, 72, y + 2, ["We first review works on talking face generation [1] in this part."],
           size=9)
    doc.save(tmp_path / "h.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "h.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Related Work"],
        ["Related Work", "Constrained Talking Face Generation from Speech"]]
    body = parsed.sections[2].paragraphs[0].sentences[0].text
    assert body.startswith("We first review"), body


def test_caption_split_over_two_blocks_stays_out_of_the_body():
    from autoscholar.parse.pymupdf.layout import Layout, Line
    from autoscholar.parse.pymupdf.structure import build

    def ln(text, y, block, bold=False, size=10.0):
        return Line(text, 72, y, 300, y + size, size, bold, False, 0, block)

    lay = Layout(blocks=[
        [ln("1 Introduction", 50, 1, bold=True, size=12)],
        [ln("Given enough refine-", 70, 2)],
        [ln("Figure 2: Prototype list derived from the develop-", 90, 3),
         ln("ment set of the data. The BOUND-", 102, 3)],
        [ln("ARY field is not present in the original annotation,", 114, 4),
         ln("but added to model boundaries (see Section 5.3).", 126, 4)],
        [ln("ments the model learns to segment with a good match.", 160, 5)],
    ], body_size=10.0, pages=1)
    st = build(lay)
    assert st.sections[0].paragraphs == [
        "Given enough refinements the model learns to segment with a good match."]


# ------------------------------------------------------------------ run-in headings


@pytest.mark.parametrize("numbered", [False, True])
def test_wrapped_run_in_heading_keeps_its_hyphenated_end(tmp_path, numbered):
    # "... for Team Perfor-" in bold, then "mance." in bold and the paragraph in roman on the
    # next line: the heading is "... Team Performance", the paragraph starts "To address"
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    num = (lambda n: f"{n}   " if numbered else "")
    y = write_lines(p, 72, 60, [num(1) + "Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["Teams of people and models decide together, and we study how."])
    y = write_lines(p, 72, y + 12, [num(2) + "Extended Related Work"], size=12, font="hebo")
    y = run_in_line(p, 72, y + 6, "Human-AI Collaboration and Trust.",
                     "Collaboration relies on trust in the model [1].")
    y = write_lines(p, 72, y + 6, ["Behavior-Aware AI and Optimization for Team Perfor-"], font="hebo")
    y = run_in_line(p, 72, y, "mance.", "To address these challenges, recent studies adopt")
    y = write_lines(p, 72, y, ["behavior-aware frameworks that model human reliance [2]."])
    y = run_in_line(p, 72, y + 6, "Ensemble and Multi-Objective Learning.",
                     "Mixtures of experts combine specialised models [3].")
    y = write_lines(p, 72, y + 12, [num(3) + "Method"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["Our method routes each instance to one of two models."])
    references(p, y + 12)
    doc.save(tmp_path / "w.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "w.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    rw = "Extended Related Work"
    assert (rw, "Behavior-Aware AI and Optimization for Team Performance") in by_path, list(by_path)
    wrapped = by_path[(rw, "Behavior-Aware AI and Optimization for Team Performance")]
    assert sentences(wrapped) == [
        "To address these challenges, recent studies adopt behavior-aware frameworks that model "
        "human reliance [2]."]
    # its siblings are run-in headings of the same section, not subsections of it
    assert (rw, "Human-AI Collaboration and Trust") in by_path
    assert sentences(by_path[(rw, "Ensemble and Multi-Objective Learning")]) == [
        "Mixtures of experts combine specialised models [3]."]
    assert [s.path[-1] for s in find_target_sections(parsed, DEFAULT_SECTIONS)][1:] == [
        "Human-AI Collaboration and Trust", "Behavior-Aware AI and Optimization for Team Performance",
        "Ensemble and Multi-Objective Learning"]


def test_bold_run_in_heading_without_period(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["Segmentation of aerial images is the task we study in this paper."])
    y = run_in_line(p, 72, y + 6, "Other related work.",
                     "Pooling was also studied for other kinds of images [3].")
    y = write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = run_in_line(p, 72, y + 4, "Semantic segmentation",
                     "Fully connected networks (FCN) were proposed for this task [1].")
    y = write_lines(p, 72, y, ["They label every pixel of an image."])
    # right under the sentence before, without a gap or an indent
    y = run_in_line(p, 72, y, "Knowledge guided networks",
                     "Analyzing aerial images needs rules of geography [2].")
    y = run_in_line(p, 72, y + 6, "Pooling functions.", "There are various studies of pooling [2].")
    y = run_in_line(p, 72, y + 6, "Max pooling", "is the most common choice in practice [3].")
    method_and_references(p, y + 12,
                           ["We pool by a local spatial statistic instead of the maximum."])
    doc.save(tmp_path / "r.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "r.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    seg = by_path.get(("Related Work", "Semantic segmentation"))
    assert seg is not None, list(by_path)
    assert sentences(seg) == ["Fully connected networks (FCN) were proposed for this task [1].",
                               "They label every pixel of an image."]
    assert sentences(by_path[("Related Work", "Knowledge guided networks")]) == [
        "Analyzing aerial images needs rules of geography [2]."]
    # the same as a run-in heading with a period, and its sibling, not its child
    pooling = by_path[("Related Work", "Pooling functions")]
    # bold words that start a sentence ("Max pooling is ...") are no heading
    assert sentences(pooling) == ["There are various studies of pooling [2].",
                                   "Max pooling is the most common choice in practice [3]."]
    # "Other related work." inside the Introduction does not make it a Related Work section
    assert "Other related work." in sentences(by_path[("Introduction",)])
    assert [s.path for s in find_target_sections(parsed, DEFAULT_SECTIONS)] == [
        ["Related Work"], ["Related Work", "Semantic segmentation"],
        ["Related Work", "Knowledge guided networks"], ["Related Work", "Pooling functions"]]


def test_emphasised_name_opening_a_paragraph_is_no_run_in_heading(tmp_path):
    doc = pymupdf.open()
    p, y = intro_and_related_work(doc, ["We study language models and how they are evaluated today."])
    more = "and this line continues the paragraph with more words about the model."
    for runs in ([("LLaMA", "heit"), (" Touvron et al. [1] released open weights for models.", "helv")],
                 [("Chain-of-Thought", "heit"), (" Prompting [2] asks the model to reason.", "helv")],
                 [("RoBERTa", "hebo"), (" By training longer, Liu et al. improved BERT [3].", "helv")],
                 [("Sentence-BERT", "hebo"), (" SBERT [1] fine-tunes siamese encoders.", "helv")],
                 [("Dense Passage Retrieval", "heit"), (" DPR [2] trains a dual encoder.", "helv")],
                 [("Scaling alone is not enough.", "hebo"), (" Many works [3] found that", "helv")]):
        y = styled(p, 72, y + 6, runs)
        y = write_lines(p, 72, y, [more])
    # a bold name that starts a line right after a full stop, inside a paragraph
    y = write_lines(p, 72, y, ["data quality matters as much as the model size."])
    y = styled(p, 72, y, [("ColBERT", "hebo"), (" Khattab and Zaharia [1] keep one vector per", "helv")])
    y = write_lines(p, 72, y, ["token and score late."])
    method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "e.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "e.pdf")
    assert [s.path for s in parsed.sections] == [
        ["Introduction"], ["Related Work"], ["Related Work", "Scaling alone is not enough"],
        ["Method"]]
    rw = sentences(parsed.sections[1])
    for opening in ("LLaMA Touvron et al. [1] released", "Chain-of-Thought Prompting [2] asks",
                    "RoBERTa By training longer", "Sentence-BERT SBERT [1] fine-tunes",
                    "Dense Passage Retrieval DPR [2] trains"):
        assert any(se.startswith(opening) for se in rw), (opening, rw)
    assert "ColBERT Khattab and Zaharia [1] keep one vector per token and score late." in \
        sentences(parsed.sections[2])


@pytest.mark.parametrize("size", [11, 12])
def test_heading_with_one_word_in_another_font_stays_whole(tmp_path, size):
    # "2.2 Prompting *LLMs* for Retrieval": the italic (or typewriter) word is no end of a
    # run-in heading, numbered or not
    fill = "and the paragraph goes on with enough running words to look like body text."
    doc = pymupdf.open()
    p, y = intro_and_related_work(doc, ["We study retrieval with language models on many benchmarks."])
    y = write_lines(p, 72, y + 6, ["2.1   Dense Retrieval"], font="hebo", size=size)
    y = write_lines(p, 72, y + 4, ["Dense retrievers encode queries and passages separately [1].", fill])
    y = styled(p, 72, y + 8, [("2.2   Prompting ", "hebo"), ("LLMs", "heit"),
                               (" for Retrieval", "hebo")], size=size)
    y = write_lines(p, 72, y + 4, ["Recent work prompts large models to rerank passages [2].", fill])
    y = styled(p, 72, y + 8, [("2.3   Comparing ", "hebo"), ("GROBID", "cour"),
                               (" to Other Parsers", "hebo")], size=size)
    y = write_lines(p, 72, y + 4, ["Parsers differ in how they treat columns and tables [3].", fill])
    method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "h.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "h.pdf")
    by_path = {tuple(s.path): s for s in parsed.sections}
    assert list(by_path) == [
        ("Introduction",), ("Related Work",), ("Related Work", "Dense Retrieval"),
        ("Related Work", "Prompting LLMs for Retrieval"),
        ("Related Work", "Comparing GROBID to Other Parsers"), ("Method",)]
    assert sentences(by_path[("Related Work", "Prompting LLMs for Retrieval")])[0].startswith(
        "Recent work prompts large models to rerank passages [2].")
    # unnumbered: the section after Related Work is no subsection of it
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["Related Work"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["Dense retrievers encode queries and passages separately [1].", fill])
    y = styled(p, 72, y + 12, [("Evaluating ", "hebo"), ("GPT-4", "heit"), (" as a Judge", "hebo")],
                size=12)
    y = write_lines(p, 72, y + 4, ["We ask the model to grade each answer on a five point scale [2].", fill])
    references(p, y + 12)
    doc.save(tmp_path / "u.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "u.pdf")
    assert [s.path for s in parsed.sections] == [["Related Work"], ["Evaluating GPT-4 as a Judge"]]


def test_related_literature_run_in_stays_in_the_introduction(tmp_path):
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 72, 60, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["We study retrieval with language models on many benchmarks [1]."])
    y = run_in_line(p, 72, y + 6, "Related literature.", "Dense retrievers were studied widely [2].")
    y = write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["Sparse retrievers remain strong baselines in many settings [3]."])
    method_and_references(p, y + 12, ["Our method is simple and we describe it here."])
    doc.save(tmp_path / "l.pdf")
    parsed = parse_pdf(PAPER, tmp_path / "l.pdf")
    assert [s.path for s in parsed.sections] == [["Introduction"], ["Related Work"], ["Method"]]
    assert "Dense retrievers were studied widely [2]." in sentences(parsed.sections[0])
    assert [s.path for s in find_target_sections(parsed, DEFAULT_SECTIONS)] == [["Related Work"]]
