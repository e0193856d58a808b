import json

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


def _hostile_markup_pdf(path):
    import pymupdf

    from pdf_fixture import references, write_lines

    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    y = write_lines(p, 150, 80, ["Hostile Markup in Related Work"], size=16, font="hebo")
    y = write_lines(p, 72, y + 14, ["1   Introduction"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, ["We study trust and optimization in teams [1, 2]."])
    y = write_lines(p, 72, y + 12, ["2   Related Work"], size=12, font="hebo")
    y = write_lines(p, 72, y + 4, [
        "Trust in teams was studied by many authors [1]. Their macro \\cite{ref2} is",
        "printed literally here. Behaviour-aware optimization followed [2].",
    ])
    references(p, y + 12)
    doc.save(path)
    return path


def _snapshot_line(arxiv_id, title, author):
    return json.dumps({"id": arxiv_id, "submitter": author, "authors": author, "title": title,
                       "versions": [{"version": "v1", "created": "Mon, 6 Jan 2020 12:00:00 GMT"}],
                       "update_date": "2020-01-06", "authors_parsed": [[author.split()[-1],
                                                                        author.split()[0], ""]]})


def test_a_literal_cite_in_the_pdf_text_is_not_a_citation(tmp_path):
    """The sentence prints "\\cite{ref2}" as text: only the parser's own callouts ([1], [2])
    become markers, so its question is answered by ref1's paper alone."""
    from test_cli import run

    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    _hostile_markup_pdf(pdfs / "hostile.pdf")
    out = run("contexts", pdfs / "hostile.pdf").stdout.splitlines()
    [ctx] = [json.loads(line) for line in out]
    assert ctx["text"].count("\\cite{") == 2  # [1] and [2], not the printed one
    assert "macro \\textbackslash{}cite{ref2} is printed" in ctx["text"]

    snapshot = tmp_path / "arxiv.jsonl"
    snapshot.write_text(_snapshot_line("2001.00001", "Trust in human-AI teams", "A. Author")
                        + "\n" + _snapshot_line("2001.00002", "Behavior-aware optimization",
                                                "B. Writer") + "\n")
    run_dir = tmp_path / "run"
    run("build", "--venue", "local", "--pdf-dir", pdfs, "--arxiv-index", snapshot,
        "--year", "2024", "--out", run_dir)
    rows = [json.loads(line) for split in ("train", "dev", "test")
            for line in (run_dir / "dataset" / f"{split}.jsonl").read_text().splitlines()]
    assert [row["answer_arxiv_id"] for row in rows] == [["2001.00001"]]
    # The printed "\cite{ref2}" cites nothing: no query is made from its sentence.
    assert not [row for row in rows if "macro" in row["question"].lower()]
    queries = [json.loads(line) for line in (run_dir / "generate.jsonl").read_text().splitlines()]
    assert not [q for q in queries if "macro" in q["question"].lower()]
