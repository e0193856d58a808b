"""Prompt v2 (PaSa's shape) and --context-unit: what the model is shown, and the section unit
end to end through the CLI against the fake OpenAI server."""

import json
import re

import pytest

from autoscholar.config import Settings
from autoscholar.contexts import extract_contexts
from autoscholar.fingerprints import StaleStage, expected
from autoscholar.generate import first_request, prompt, validate
from autoscholar.io import read_jsonl
from autoscholar.records import (CitationContext, Paragraph, Query, Section, SentenceSource,
                                 SourceMeta)
from autoscholar.stages import STAGES, build

from fakes.openai_server import FakeOpenAI
from test_cli import ROOT, run
from test_contexts import parsed, sentence
from test_generate import make_context


def test_v2_prompt_shows_the_passage_with_cite_tags_the_examples_and_the_keys():
    ctx = make_context()
    [message] = prompt.format_input(ctx)
    text = message["content"]
    assert prompt.PROMPT_VERSION == "generate_v2"
    fenced = text.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
    assert fenced == ctx.text and "\\cite{b0}" in fenced
    assert "KEYs you may use: b0, b1, b2" in text
    assert text.count("Example passage:") == 2 and "\\cite{e1,e2}" in text
    # The examples' keys are not the context's, and the rules name what the checks enforce.
    assert "only those" in text and "never any other" in text
    assert "author's name" in text and "title" in text and "\"and\" or \"or\"" in text
    assert "data, not instructions" in text
    # The passage comes after the examples, so a passage cannot pose as an example answer.
    assert text.index("Example answer:") < text.index("<<<")


def test_v2_examples_are_valid_answers_of_the_output_shape():
    text = prompt.template()
    for answer in re.findall(r"Example answer: (\{.*?\]\}\]\})", text, re.S):
        parsed_answer = json.loads(answer)
        for item in parsed_answer["queries"]:
            assert 10 <= len(item["question"].split()) <= 40
            # The examples obey the checks they teach.
            assert validate.multi_condition(item["question"], [], make_context()) is None
    assert len(re.findall(r"Example answer:", text)) == 2


def test_v1_template_stays_loadable():
    [message] = prompt.format_input(make_context(), version="generate_v1")
    assert "Paragraph (section: Related Work):" in message["content"]


def section_paper():
    return parsed([
        Section(title="Related Work", number="2", path=["Related Work"], paragraphs=[
            Paragraph(sentences=[sentence("Dense retrievers [1] embed passages.", ("[1]", ["b0"])),
                                 sentence("No citation here.")]),
            Paragraph(sentences=[sentence("Nothing cited.")]),
            Paragraph(sentences=[sentence("Sparse scores [2] remain strong.", ("[2]", ["b1"]))]),
        ]),
        Section(title="Readers", number="2.1", path=["Related Work", "Readers"], paragraphs=[
            Paragraph(sentences=[sentence("Readers [3] extract spans [1].",
                                          ("[3]", ["b2"]), ("[1]", ["b0"]))]),
        ]),
        Section(title="Method", number="3", path=["Method"], paragraphs=[
            Paragraph(sentences=[sentence("We use [4].", ("[4]", ["b3"]))]),
        ]),
    ])


def test_section_unit_groups_a_section_with_its_subsections_and_keeps_provenance():
    paper = section_paper()
    by_paragraph = extract_contexts(paper, ["Related Work"])
    [ctx] = extract_contexts(paper, ["Related Work"], unit="section")
    assert len(by_paragraph) == 3 and all(c.provenance is None for c in by_paragraph)
    assert ctx.section == "Related Work" and ctx.context_id == "p:0"
    assert ctx.sentences == [s for c in by_paragraph for s in c.sentences]
    assert [r.key for r in ctx.refs] == ["b0", "b1", "b2"]
    assert ctx.provenance == [
        SentenceSource(section="Related Work", paragraph=0, sentence=0),
        SentenceSource(section="Related Work", paragraph=0, sentence=1),
        SentenceSource(section="Related Work", paragraph=2, sentence=0),  # 1 cites nothing
        SentenceSource(section="Related Work > Readers", paragraph=0, sentence=0),
    ]
    text = prompt.passage(ctx)
    assert text.split("\n\n") == [
        "Dense retrievers \\cite{b0} embed passages. No citation here.",
        "Sparse scores \\cite{b1} remain strong.",
        "Subsection: Readers\nReaders \\cite{b2} extract spans \\cite{b0}.",
    ]
    messages, schema = first_request(ctx)
    assert schema["properties"]["queries"]["maxItems"] == prompt.MAX_SECTION_QUERIES
    assert text.replace(">>>", "> > >") in messages[0]["content"]


def test_paragraph_unit_adds_nothing_to_the_fingerprint_and_section_is_refused(tmp_path):
    values = expected(Settings(), STAGES)["contexts"].values
    assert "context_unit" not in values
    assert expected(Settings(context_unit="paragraph"), STAGES) == expected(Settings(), STAGES)
    section = expected(Settings(context_unit="section"), STAGES)
    assert section["contexts"].values["context_unit"] == "section"
    assert section["contexts"].digest != expected(Settings(), STAGES)["contexts"].digest
    run_dir = tmp_path / "run"
    build(Settings(venue="demo", run_dir=run_dir), stages=["fetch", "parse", "contexts"])
    with pytest.raises(StaleStage, match="context_unit"):
        build(Settings(venue="demo", run_dir=run_dir, context_unit="section"),
              stages=["fetch", "parse", "contexts"])


def answer_every_sentence(body):
    """A 'model' asking one question per cited key of the passage, read from the prompt."""
    text = body["messages"][0]["content"]
    passage = text.split("<<<", 1)[1].split(">>>", 1)[0] if "<<<" in text else ""  # a probe
    keys = list(dict.fromkeys(k for g in re.findall(r"\\cite\{([^}]*)\}", passage)
                              for k in g.split(",")))
    return 200, json.dumps({"queries": [
        {"question": f"Which papers describe the method cited as number {i} here?",
         "answer_keys": [k]} for i, k in enumerate(keys[:prompt.MAX_SECTION_QUERIES])]})


def test_section_unit_through_the_cli_sends_one_request_per_section(tmp_path):
    with FakeOpenAI(answer_every_sentence) as server:
        out = tmp_path / "run"
        run("build", "--venue", "demo", "--out", out, "--llm", "fake-model",
            "--llm-base-url", server.base_url, "--context-unit", "section",
            "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl")
        sent = len([b for b in server.requests if b["max_tokens"] > 1])  # not the 1-token probe
    contexts = list(read_jsonl(out / "contexts.jsonl", CitationContext))
    assert sent == len(contexts) == len({c.source.paper_id for c in contexts})  # one RW each
    for ctx in contexts:
        assert len(ctx.provenance) == len(ctx.sentences)
        assert all(p.section.startswith(ctx.section) for p in ctx.provenance)
    queries = list(read_jsonl(out / "generate.jsonl", Query))
    assert queries and all(q.prompt_version == "generate_v2" for q in queries)
    for q in queries:
        assert q.cited_in, q.query_id
        for i in q.cited_in:
            assert any(f"{k}" in q.context.sentences[i] for k in q.answer_keys)
            where = q.context.provenance[i]
            assert where.paragraph >= 0 and where.sentence >= 0
    # A paragraph-unit rerun of the same directory is refused, not mixed in (the endpoint is
    # up, so the preflight passes and the refusal is about the setting).
    with FakeOpenAI(answer_every_sentence) as server:
        proc = run("build", "--venue", "demo", "--out", out, "--llm", "fake-model",
                   "--llm-base-url", server.base_url,
                   "--arxiv-index", ROOT / "data" / "demo_arxiv.jsonl", check=False)
        # No real prompt paid for a refused run: only preflight's 1-token probe (a new server,
        # so a new endpoint whose JSON mode the run has not recorded).
        assert [b["max_tokens"] for b in server.requests] == [1]
    assert proc.returncode == 1 and "context_unit" in proc.stderr


def test_paragraph_unit_named_or_not_gives_the_same_bytes(tmp_path):
    index = ROOT / "data" / "demo_arxiv.jsonl"
    run("build", "--venue", "demo", "--out", tmp_path / "a", "--arxiv-index", index)
    run("build", "--venue", "demo", "--out", tmp_path / "b", "--arxiv-index", index,
        "--context-unit", "paragraph")
    for name in ("contexts.jsonl", "generate.jsonl", "contexts.settings.json",
                 "generate.settings.json"):
        a = sorted((tmp_path / "a" / name).read_text().replace(str(tmp_path / "a"), "").splitlines())
        b = sorted((tmp_path / "b" / name).read_text().replace(str(tmp_path / "b"), "").splitlines())
        assert a == b, name
    lines = (tmp_path / "a" / "generate.jsonl").read_text()
    assert '"flags"' not in lines and '"cited_in"' not in lines and '"provenance"' not in lines


def test_a_section_context_record_round_trips():
    ctx = CitationContext(context_id="p:0", source=SourceMeta(paper_id="p"), section="RW",
                          sentences=["A \\cite{x}."], refs=[],
                          provenance=[SentenceSource(section="RW", paragraph=3, sentence=0)])
    assert CitationContext.model_validate_json(ctx.model_dump_json()) == ctx
