"""generate stage: CitationContext -> Query, offline or through an LLM."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import LLMOutputError
from ..io import read_jsonl
from ..records import CitationContext, Query, Reject
from ..runner import StageStats, in_threads, key_of, require, run_stage
from . import generate_queries


def generate(settings: Settings, run_dir: Path) -> StageStats:
    items = [(c.context_id, c) for c in read_jsonl(require(run_dir, "contexts"), CitationContext)]
    cache_dir = run_dir / "cache" / "llm"

    def one(context: CitationContext) -> list[Query] | Reject:
        try:
            queries = generate_queries(context, settings, cache_dir)
        except LLMOutputError as exc:
            return Reject(stage="generate", key=context.context_id,
                          reason="malformed-llm-output", detail=str(exc))
        if not queries:
            return Reject(stage="generate", key=context.context_id, reason="no-query",
                          detail="no citing sentence gave a question")
        return queries

    def work(pending: list[tuple[str, CitationContext]]):
        if settings.llm == "none":
            for key, context in pending:
                yield key, one(context)
            return
        # Model calls wait on the network: run a few at once. A ServiceError stops the run
        # (everything finished so far is on disk and in the cache; rerun to go on).
        yield from in_threads(one, pending, max(1, settings.llm_concurrency))

    label = "generate (offline)" if settings.llm == "none" else f"generate ({settings.llm})"
    return run_stage(run_dir, "generate", items, work, key_of("context", "context_id"), label)
