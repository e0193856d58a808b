"""Builders for the records tests hand to a stage: one citation context and the query made
from it, with only what a test cares about spelled out at the call."""

from __future__ import annotations

import shutil
from pathlib import Path
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


def built_run(tmp_path_factory, name: str, settings_stages=None, **settings) -> Path:
    """A demo run built once per module (``settings_stages`` limits the stages); tests take a
    copy with ``copy_run``."""
    from autoscholar.config import Settings
    from autoscholar.stages import build

    run_dir = tmp_path_factory.mktemp(name) / "run"
    stages = {"stages": settings_stages} if settings_stages else {}
    build(Settings(venue="demo", run_dir=run_dir, **settings), **stages)
    return run_dir


def copy_run(src: Path, tmp_path: Path) -> Path:
    """A test's own copy of a run directory, so it may change anything in it."""
    target = tmp_path / "run"
    shutil.copytree(src, target)
    return target
