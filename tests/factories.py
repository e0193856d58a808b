"""Builders for the records tests hand to a stage: one citation context and the query made
from it, with only what a test cares about spelled out at the call."""

from __future__ import annotations

from typing import Iterable

from autoscholar.records import BibEntry, CitationContext, Query, SourceMeta


def context(refs: Iterable[BibEntry], sentences: Iterable[str] = ("text",), paper_id: str = "p1",
            n: int = 0, section: str = "Related Work", **source) -> CitationContext:
    """Context ``<paper_id>:<n>`` citing ``refs``; ``source`` fills SourceMeta (title, year,
    published, ...)."""
    return CitationContext(context_id=f"{paper_id}:{n}",
                           source=SourceMeta(paper_id=paper_id, **source), section=section,
                           sentences=list(sentences), refs=list(refs))


def query(ctx: CitationContext, answer_keys: Iterable[str], question: str = "q?", k: int = 0,
          generator: str = "offline-template", prompt_version: str = "v1") -> Query:
    """Query ``<context_id>:<k>`` of ``ctx`` answered by ``answer_keys``."""
    return Query(query_id=f"{ctx.context_id}:{k}", context=ctx, question=question,
                 answer_keys=list(answer_keys), generator=generator, prompt_version=prompt_version)
