"""generate stage: CitationContext -> Query, offline or through an LLM."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import LLMOutputError
from ..io import read_jsonl
from ..records import CitationContext, Query, Reject, Usage
from ..runner import StageStats, in_threads, key_of, require, run_stage
from . import generator_kind, make_generator
from .cost import Budget, price_for
from .llm import RequestRejected


def generate(settings: Settings, run_dir: Path) -> StageStats:
    items = [(c.context_id, c) for c in read_jsonl(require(run_dir, "contexts"), CitationContext)]
    cache_dir = run_dir / "cache" / "llm"
    kwargs = {}
    if generator_kind(settings) == "openai":
        kwargs["budget"] = Budget(settings.llm_max_cost, price_for(settings))
    generator = make_generator(settings, cache_dir, **kwargs)

    def one(context: CitationContext) -> list[Query] | Reject:
        try:
            queries = generator(context)
        except LLMOutputError as exc:
            return Reject(stage="generate", key=context.context_id, reason=exc.reason,
                          detail=str(exc), raw_output=exc.raw)
        except RequestRejected as exc:
            return Reject(stage="generate", key=context.context_id,
                          reason="llm-request-rejected", detail=str(exc))
        if not queries:
            return Reject(stage="generate", key=context.context_id, reason="no-query",
                          detail="no citing sentence gave a question")
        return queries

    def work(pending: list[tuple[str, CitationContext]]):
        if generator.concurrency == 1:
            for key, context in pending:
                yield key, one(context)
            return
        # Model calls wait on the network: run a few at once. A ServiceError stops the run
        # (everything finished so far is on disk and in the cache; rerun to go on).
        yield from in_threads(one, pending, generator.concurrency)

    stats = run_stage(run_dir, "generate", items, work, key_of("context", "context_id"),
                      generator.label)
    if generator_kind(settings) == "openai":
        stats.extra["usage"] = usage_report(settings, run_dir, generator.endpoint.paid)
    return stats


def usage_report(settings: Settings, run_dir: Path, paid: list[dict]) -> dict:
    """Tokens and cost of the requests this run sent, and of everything generate.jsonl holds
    (each context's usage counted once, however many queries it gave)."""
    price = price_for(settings)
    this_run = Usage.total(paid)
    per_context = {}
    for query in read_jsonl(run_dir / "generate.jsonl", Query):
        if query.usage is not None:
            per_context[query.context.context_id] = query.usage
    on_disk = Usage(**{f: sum(getattr(u, f) for u in per_context.values())
                       for f in Usage.model_fields})

    def priced(u: Usage) -> dict:
        return {**u.model_dump(), "cost_usd": round(price.cost(u), 6) if price else None}

    return {"this_run": priced(this_run), "on_disk": priced(on_disk)}

