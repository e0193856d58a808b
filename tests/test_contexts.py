from autoscholar.config import DEFAULT_SECTIONS
from autoscholar.contexts import extract_contexts, find_target_sections, normalize_heading
from autoscholar.records import BibEntry, CiteSpan, Paper, Paragraph, ParsedPaper, Section, Sentence


def sentence(text: str, *cites: tuple[str, list[str]]) -> Sentence:
    spans = []
    for callout, keys in cites:
        start = text.index(callout)
        spans.append(CiteSpan(start=start, end=start + len(callout), text=callout, keys=keys))
    return Sentence(text=text, cites=spans)


def parsed(sections: list[Section]) -> ParsedPaper:
    bib = [BibEntry(key=f"b{i}", raw=f"Entry {i}", title=f"Title {i}") for i in range(4)]
    return ParsedPaper(paper=Paper(paper_id="p", venue="demo", title="T"), parser="test",
                       sections=sections, bibliography=bib)


def test_heading_normalisation():
    assert normalize_heading("2.1  RELATED WORKS:") == "related works"
    assert normalize_heading("II. Background & Related Work") == "background and related work"
    assert normalize_heading("A.1 Prior Work") == "prior work"


def test_variants_of_related_work_match_but_background_only_exactly():
    from autoscholar.contexts import is_target
    wanted = {normalize_heading(t) for t in DEFAULT_SECTIONS}
    for heading in ("Extended Related Work", "C. Additional Related Works", "Related Work and "
                    "Discussion", "LITERATURE REVIEW", "Background"):
        assert is_target(heading, wanted), heading
    for heading in ("Background on Transformers", "Experiments", "Work related to the method "
                    "that we describe in this section at length"):
        assert not is_target(heading, wanted), heading


def test_subsections_stay_with_related_work_and_background_yields_to_it():
    secs = [
        Section(title="Introduction", number="1", path=["Introduction"]),
        Section(title="Background", number="2", path=["Background"]),
        Section(title="Related Work", number="3", path=["Related Work"]),
        Section(title="Dense retrieval", number="3.1", path=["Related Work", "Dense retrieval"]),
        Section(title="Method", number="4", path=["Method"]),
    ]
    found = find_target_sections(parsed(secs), DEFAULT_SECTIONS)
    assert [s.title for s in found] == ["Related Work", "Dense retrieval"]
    only_background = find_target_sections(parsed(secs[:2] + secs[4:]), DEFAULT_SECTIONS)
    assert [s.title for s in only_background] == ["Background"]


def test_contexts_replace_callouts_with_cite_keys_and_collect_refs():
    para = Paragraph(sentences=[
        sentence("Transformers [1] replaced recurrence.", ("[1]", ["b1"])),
        sentence("Later work (Doe, 2019; Roe, 2020) scaled them [2, 3].",
                 ("(Doe, 2019; Roe, 2020)", ["b3", "b0"]), ("[2, 3]", ["b2", "b3"])),
        sentence("An unlinked callout [9] disappears.", ("[9]", [])),
    ])
    empty = Paragraph(sentences=[Sentence(text="No citations here.")])
    secs = [Section(title="Related Work", number="2", path=["Related Work"],
                    paragraphs=[empty, para])]
    [ctx] = extract_contexts(parsed(secs), DEFAULT_SECTIONS)
    assert ctx.context_id == "p:0" and ctx.section == "Related Work"
    assert ctx.sentences == [
        "Transformers \\cite{b1} replaced recurrence.",
        "Later work \\cite{b3,b0} scaled them \\cite{b2,b3}.",
        "An unlinked callout disappears.",
    ]
    assert [r.key for r in ctx.refs] == ["b1", "b3", "b0", "b2"]
