"""The records that cross stage boundaries: the only contract between stages.

Paper -> ParsedPaper -> CitationContext -> Query -> MatchedQuery -> Example.
Every record says where it came from, so the audit can trace a published query back to
the sentence and the bibliography entry that produced it.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_serializer

# How an answer was linked to arXiv: by the printed id, the exact normalised title, the title
# up to a subtitle at a colon, or a fuzzy title match, against the local index or (with
# --online) the arXiv API; or by a well-formed printed id the index lacks, not checked
# (printed-id-unverified: title as printed, first version the first day of the id's YYMM).
MatchMethod = Literal["arxiv-id", "exact-title", "title-subtitle", "fuzzy-title",
                      "printed-id-unverified",
                      "arxiv-id-online", "exact-title-online", "fuzzy-title-online"]
# Doubts about an answer that did not stop it: id-author-mismatch, the printed id's record
# names other authors (the answer is then the printed title's paper).
MatchFlag = Literal["id-author-mismatch"]
FUZZY_METHODS = frozenset(m for m in get_args(MatchMethod) if m.startswith("fuzzy-"))
# Why an answer of a query was not kept.
DropReason = Literal["not-on-arxiv", "newer-than-source", "duplicate", "ambiguous",
                     "below-threshold", "no-title", "key-not-in-context",
                     "id-author-mismatch", "id-not-in-index",
                     "lookup-failed"]  # --online: the arXiv API could not be asked
# Why a stage could not use an input: fetch, parse (PyMuPDF and Grobid), contexts, generate,
# publish.
RejectReason = Literal[
    "download-failed",
    "empty-file", "not-a-pdf", "encrypted", "corrupt", "truncated", "unreadable", "no-text",
    "too-many-pages", "too-many-blocks", "out-of-memory", "timeout", "worker-crashed",
    "parser-error", "bad-input", "bad-tei", "entity-expansion", "connection", "server-busy",
    "server-error", "grobid-failed",
    "no-related-work-section", "no-citation-contexts",
    "malformed-llm-output", "truncated-llm-output", "llm-refusal", "llm-request-rejected",
    "batch-failed", "no-query",
    # generate's checks of each query (generate/validate.py); a dropped query's reject names it
    "unknown-key", "title-in-question", "author-in-question", "empty-question", "long-question",
    "multi-condition",
    "no-answer-on-arxiv", "near-duplicate",
]
# Every reason is one of two kinds, and the exit code of `build` depends on which: a failure
# (a download, a file, a parser, a service or the model broke on this input; too many of them
# and the build exits non-zero, see --max-error-rate), or an input that was handled correctly
# and simply does not qualify (no Related Work, no answer on arXiv, a deliberate size cap).
# Both are listed in full, so a new reason must be classified: tests/test_records.py checks
# that the two sets split RejectReason exactly.
NOT_QUALIFYING_REASONS: frozenset[str] = frozenset({
    "too-many-pages", "too-many-blocks",  # size caps we set, not a broken file
    "no-related-work-section", "no-citation-contexts", "no-query",
    "no-answer-on-arxiv", "near-duplicate",
    # a model's question that quotes a title or names an author, is empty or too long: the
    # model answered, the question does not qualify (generate/validate.py)
    "title-in-question", "author-in-question", "empty-question", "long-question",
    "multi-condition",
})
FAILURE_REASONS: frozenset[str] = frozenset({
    "download-failed",
    "empty-file", "not-a-pdf", "encrypted", "corrupt", "truncated", "unreadable", "no-text",
    "out-of-memory", "timeout", "worker-crashed", "parser-error", "bad-input", "bad-tei",
    "entity-expansion", "connection", "server-busy", "server-error", "grobid-failed",
    "malformed-llm-output", "truncated-llm-output", "llm-refusal", "llm-request-rejected",
    "batch-failed",
    "unknown-key",  # an answer the passage does not cite: the model broke the one hard rule
})


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Fields added after a record's shape was first written out: left out of the JSON while they
    # are None or empty, so runs that do not use them write the same bytes as before.
    _omit_empty: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        data = handler(self)
        for name in self._omit_empty:
            if name in data and data[name] in (None, [], {}):
                del data[name]
        return data


# ---------------------------------------------------------------- fetch -> parse

# Where a paper's `published` date came from: a field of the venue's own listing (OpenReview's
# pdate, the Anthology volume's ingest-date), the date a proceedings page says the volume came
# out (PMLR), the first day of the meeting from a venue-year table (NeurIPS, CVPR, ICML when
# the page has none), the arXiv stamp or the metadata of a local PDF, or the demo's generator.
DateSource = Literal["listing field", "proceedings page", "conference dates table",
                     "PDF stamp", "PDF metadata", "generated"]


class Paper(Record):
    """One accepted paper of a venue (or one PDF of a local folder)."""

    _omit_empty = ("date_source",)  # added later: runs listed before it keep their bytes

    paper_id: str  # unique within a run; safe as a file name
    venue: str
    year: int | None = None
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    pdf_path: str | None = None  # local file, relative to the run directory or absolute
    pdf_url: str | None = None
    pdf_sha256: str | None = None  # of the PDF as parsed: the manifest's input checksum
    published: dt.date | None = None  # when the paper became public: the leakage cut-off
    source: str = ""  # where the metadata came from: "demo", "local", "openreview", ...
    date_source: DateSource | None = None  # where `published` came from; None with no date


# ---------------------------------------------------------------- parse -> contexts


class CiteSpan(Record):
    """A citation callout inside a sentence, e.g. "[3-5]" or "(Smith et al., 2020)"."""

    start: int  # character offsets into Sentence.text
    end: int
    text: str
    keys: list[str] = Field(default_factory=list)  # BibEntry.key values; empty if unlinked


class Sentence(Record):
    text: str
    cites: list[CiteSpan] = Field(default_factory=list)


class Paragraph(Record):
    sentences: list[Sentence] = Field(default_factory=list)


class Section(Record):
    title: str
    number: str | None = None  # "2", "2.1", "A" as printed, if any
    # Heading path from the top-level section down to this one, e.g.
    # ["Related Work", "Dense retrieval"], so subsections stay with their parent.
    path: list[str] = Field(default_factory=list)
    paragraphs: list[Paragraph] = Field(default_factory=list)


class BibEntry(Record):
    """One entry of the paper's own bibliography."""

    key: str  # stable within the paper: "b12" (Grobid) or "ref12" / "smith2020" (PyMuPDF)
    raw: str  # the entry as printed
    title: str | None = None
    authors: list[str] = Field(default_factory=list)  # as printed; surnames recoverable
    year: int | None = None
    arxiv_id: str | None = None  # when printed in the entry, without version
    doi: str | None = None
    venue: str | None = None


class ParsedPaper(Record):
    paper: Paper
    parser: str  # "pymupdf" | "grobid"
    parser_version: str = ""
    sections: list[Section] = Field(default_factory=list)
    bibliography: list[BibEntry] = Field(default_factory=list)


# ---------------------------------------------------------------- contexts -> generate


class SourceMeta(Record):
    """The paper a query was mined from (PaSa's `source_meta`)."""

    paper_id: str
    title: str = ""
    venue: str = ""
    year: int | None = None
    published: dt.date | None = None


class SentenceSource(Record):
    """Where one sentence of a section-unit context was printed."""

    section: str  # heading path of its (sub)section, joined by " > "
    paragraph: int  # the paragraph's place among that (sub)section's paragraphs, from 0
    sentence: int  # the sentence's place in its paragraph, from 0


class CitationContext(Record):
    """The citing text a query is asked about: one paragraph of a target section that cites the
    paper's bibliography (--context-unit paragraph), or all citing paragraphs of one target
    section with its subsections (--context-unit section)."""

    _omit_empty = ("provenance",)

    context_id: str  # "<paper_id>:<n>", n counting contexts in reading order
    source: SourceMeta
    section: str  # heading path joined by " > "
    # Sentences with each callout replaced by \cite{key1,key2}; unlinked callouts removed.
    sentences: list[str]
    refs: list[BibEntry]  # the entries cited in this paragraph, in order of first citation
    parser: str = ""
    # Section unit only: where each of `sentences` was printed (index-aligned). A paragraph
    # context is its own provenance: context_id counts paragraphs, section names the heading.
    provenance: list[SentenceSource] | None = None

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


# ---------------------------------------------------------------- generate -> match


class Usage(Record):
    """Tokens the model counted for the request(s) behind one context's queries (the first
    answer and any repair turn), as the endpoint reported them."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def total(cls, usages: list[dict | None]) -> Usage:
        out = cls()
        for u in usages:
            if not u:
                continue
            out.requests += 1
            out.prompt_tokens += u.get("prompt_tokens") or 0
            out.completion_tokens += u.get("completion_tokens") or 0
            out.cached_tokens += (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        return out


class Query(Record):
    _omit_empty = ("cited_in", "flags")

    query_id: str  # "<context_id>:<k>"
    context: CitationContext
    question: str
    answer_keys: list[str]  # BibEntry.key values from context.refs, never anything else
    generator: str  # model name, or "offline-template" for the deterministic generator
    prompt_version: str
    raw_output: str = ""  # what the model said, kept for auditing
    usage: Usage | None = None  # None for the offline generator
    # Indices into context.sentences of the sentences that cite an answer: set for model
    # queries and for section-unit contexts (an offline paragraph query is one sentence's).
    cited_in: list[int] | None = None
    flags: list[str] = Field(default_factory=list)  # checks that failed as "flag", not "reject"


# ---------------------------------------------------------------- match -> publish


class ResolvedAnswer(Record):
    key: str
    raw: str
    arxiv_id: str  # without version
    title: str  # the arXiv title
    method: MatchMethod
    score: float
    first_version: dt.date | None = None
    flags: list[MatchFlag] = Field(default_factory=list)


class DroppedAnswer(Record):
    key: str
    raw: str
    reason: DropReason
    arxiv_id: str | None = None
    score: float | None = None  # best candidate's title score, for below-threshold / ambiguous


class MatchedQuery(Record):
    query: Query
    answers: list[ResolvedAnswer]
    dropped: list[DroppedAnswer] = Field(default_factory=list)


# ---------------------------------------------------------------- published


class PublishedSource(Record):
    published_time: str  # "YYYYMMDD", "" when unknown
    paper_id: str
    title: str
    venue: str
    year: int | None


class AnswerProvenance(Record):
    key: str
    raw: str
    method: MatchMethod
    score: float


class Example(Record):
    """One published row: PaSa AutoScholarQuery fields plus provenance."""

    qid: str  # "AutoScholarQuery_<split>_<n>"
    question: str
    answer: list[str]  # arXiv titles, index-aligned with answer_arxiv_id
    answer_arxiv_id: list[str]
    source_meta: PublishedSource
    query_id: str
    section: str
    context: str
    answer_provenance: list[AnswerProvenance]
    generator: str
    prompt_version: str


class Reject(Record):
    """An input a stage could not use, with the reason, written to <stage>.rejects.jsonl."""

    _omit_empty = ("query_id",)

    stage: str
    key: str
    reason: RejectReason
    detail: str = ""
    raw_output: str | None = None  # the model's answer, when that is what was rejected
    # A transient failure (server down, timeout) is not marked done, so a rerun retries it.
    transient: bool = False
    # generate: the one query of the context (key) that a check dropped; its question is in
    # detail. The context's other queries may have been kept.
    query_id: str | None = None
