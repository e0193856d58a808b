"""generate stage: CitationContext -> Query, offline or through an LLM."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import InputError, LLMOutputError
from ..io import read_jsonl
from ..records import CitationContext, Query, Reject, Usage
from ..runner import StageStats, in_threads, key_of, read_done, require, run_stage
from . import batch, generator_kind, make_generator
from .cost import Budget, price_for
from .llm import NotCached, RequestRejected


def generate(settings: Settings, run_dir: Path) -> StageStats:
    items = [(c.context_id, c) for c in read_jsonl(require(run_dir, "contexts"), CitationContext)]
    cache_dir = run_dir / "cache" / "llm"
    llm = generator_kind(settings) == "openai"
    if settings.llm_batch and not llm:
        raise InputError("--batch needs a model (--llm NAME): the offline generator sends "
                         "no requests")
    kwargs = {}
    if llm:
        if not settings.llm_batch:
            batch.refuse_live_while_open(run_dir)
        kwargs["budget"] = Budget(settings.llm_max_cost, price_for(settings))
        kwargs["live"] = not settings.llm_batch
    generator = make_generator(settings, cache_dir, **kwargs)
    batched = None
    if llm and settings.llm_batch:
        done = read_done(run_dir / "generate.done")
        batched = batch.prefill(generator.endpoint, run_dir,
                                [c for key, c in items if key not in done],
                                settings.llm_batch_poll)

    def one(context: CitationContext) -> list[Query] | Reject:
        try:
            queries = generator(context)
        except NotCached as exc:
            why = batch.not_answered(exc.key, batched)
            if isinstance(why, Exception):
                raise why from None
            return Reject(stage="generate", key=context.context_id, reason="batch-failed",
                          detail=why)
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
    if llm:
        stats.extra["usage"] = usage_report(settings, run_dir, generator.endpoint.paid)
    if batched is not None:
        stats.extra["batch"] = {"batches_created": batched.batches,
                                "answered": batched.requests, "failed": len(batched.failed)}
    return stats


def usage_report(settings: Settings, run_dir: Path, paid: list[dict]) -> dict:
    """Tokens and cost of the requests this run sent (a batch's at the batch rate), and of
    everything generate.jsonl holds (each context's usage counted once, however many queries
    it gave; priced at the rate of this run's mode, sync or batch)."""
    price = price_for(settings)
    batched = [u for u in paid if u.get("batch")]
    this_run = Usage.total(paid)
    per_context = {}
    for query in read_jsonl(run_dir / "generate.jsonl", Query):
        if query.usage is not None:
            per_context[query.context.context_id] = query.usage
    on_disk = Usage(**{f: sum(getattr(u, f) for u in per_context.values())
                       for f in Usage.model_fields})

    def priced(u: Usage, batch_part: Usage | None = None) -> dict:
        if price is None:
            return {**u.model_dump(), "cost_usd": None}
        if batch_part is None:
            usd = price.cost(u, batch=settings.llm_batch)
        else:  # the sync requests of this run (repairs, none under --batch) and the batch ones
            sync = Usage(**{f: getattr(u, f) - getattr(batch_part, f) for f in Usage.model_fields})
            usd = price.cost(sync) + price.cost(batch_part, batch=True)
        return {**u.model_dump(), "cost_usd": round(usd, 6)}

    return {"mode": "batch" if settings.llm_batch else "sync",
            "this_run": {**priced(this_run, Usage.total(batched)),
                         "batch_requests": len(batched)},
            "on_disk": priced(on_disk)}

