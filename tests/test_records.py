import datetime as dt
import json

from typing import get_args

import pytest
from pydantic import ValidationError

from autoscholar import records as r

SOURCE = r.SourceMeta(paper_id="p", title="T", venue="iclr", year=2023,
                      published=dt.date(2023, 2, 1))
ENTRY = r.BibEntry(key="b0", raw="A. B. Title. 2020.", title="Title", authors=["A. B"], year=2020,
                   arxiv_id="2001.00001")
CONTEXT = r.CitationContext(context_id="p:0", source=SOURCE, section="Related Work",
                            sentences=["X \\cite{b0}.", "Y."], refs=[ENTRY])
QUERY = r.Query(query_id="p:0:0", context=CONTEXT, question="Which papers do X?",
                answer_keys=["b0"], generator="offline-template", prompt_version="offline_v1")
EXAMPLES = [
    r.Paper(paper_id="p", venue="iclr", year=2023, published=dt.date(2023, 2, 1)),
    r.ParsedPaper(
        paper=r.Paper(paper_id="p", venue="iclr"), parser="pymupdf",
        sections=[r.Section(title="Related Work", number="2", path=["Related Work"],
                            paragraphs=[r.Paragraph(sentences=[r.Sentence(
                                text="X [1].", cites=[r.CiteSpan(start=2, end=5, text="[1]",
                                                                 keys=["b0"])])])])],
        bibliography=[ENTRY]),
    CONTEXT,
    QUERY,
    r.MatchedQuery(query=QUERY, answers=[r.ResolvedAnswer(
        key="b0", raw=ENTRY.raw, arxiv_id="2001.00001", title="Title", method="arxiv-id",
        score=100.0, first_version=dt.date(2020, 1, 1))],
        dropped=[r.DroppedAnswer(key="b1", raw="Book.", reason="not-on-arxiv")]),
    r.Example(qid="AutoScholarQuery_train_0", question="Which papers do X?", answer=["Title"],
              answer_arxiv_id=["2001.00001"],
              source_meta=r.PublishedSource(published_time="20230201", paper_id="p", title="T",
                                            venue="iclr", year=2023),
              query_id="p:0:0", section="Related Work", context="X \\cite{b0}.",
              answer_provenance=[r.AnswerProvenance(key="b0", raw=ENTRY.raw, method="arxiv-id",
                                                    score=100.0)],
              generator="offline-template", prompt_version="offline_v1"),
    r.Reject(stage="parse", key="p", reason="encrypted"),
]


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda x: type(x).__name__)
def test_every_record_round_trips_and_forbids_unknown_fields(record):
    line = record.model_dump_json()
    assert type(record).model_validate_json(line) == record
    data = json.loads(line)
    data["surprise"] = 1
    with pytest.raises(ValidationError):
        type(record).model_validate(data)


def test_published_record_has_the_pasa_fields_first():
    example = json.loads(EXAMPLES[5].model_dump_json())
    assert list(example)[:5] == ["qid", "question", "answer", "answer_arxiv_id", "source_meta"]
    assert set(example["source_meta"]) == {"published_time", "paper_id", "title", "venue", "year"}


def test_context_text_joins_sentences():
    assert CONTEXT.text == "X \\cite{b0}. Y."


def test_every_reject_reason_is_either_a_failure_or_not_qualifying():
    reasons = set(get_args(r.RejectReason))
    assert r.FAILURE_REASONS | r.NOT_QUALIFYING_REASONS == reasons
    assert not r.FAILURE_REASONS & r.NOT_QUALIFYING_REASONS
    assert {"download-failed", "timeout", "malformed-llm-output"} <= r.FAILURE_REASONS
    assert {"no-related-work-section", "no-answer-on-arxiv"} <= r.NOT_QUALIFYING_REASONS
