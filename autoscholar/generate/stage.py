"""generate stage: CitationContext -> Query, offline or through an LLM."""

from __future__ import annotations

from pathlib import Path

from .. import executors
from ..config import Settings
from ..errors import InputError, LLMOutputError
from ..io import count_lines, read_jsonl
from ..records import CitationContext, Query, Reject, Usage
from ..runner import StageStats, in_threads, key_of, read_done, require, run_stage
from . import batch, generator_kind, make_generator
from .cost import price_for
from .llm import NotCached, RequestRejected


def generate(settings: Settings, run_dir: Path) -> StageStats:
    source = require(run_dir, "contexts")
    # A stream, read as generated (--batch reads it once more to fill its batches).
    items = ((c.context_id, c) for c in read_jsonl(source, CitationContext))
    cache_dir = run_dir / "cache" / "llm"
    llm = generator_kind(settings) == "openai"
    if settings.llm_batch and not llm:
        raise InputError("--batch needs a model (--llm NAME): the offline generator sends "
                         "no requests")
    kwargs = {}
    if llm:
        if not settings.llm_batch:
            batch.refuse_live_while_open(run_dir)
        # One budget for the run: this process's, or (--executor ray) a Ray actor that every
        # worker's requests go through.
        kwargs["budget"] = executors.current().budget(settings)
        kwargs["live"] = not settings.llm_batch
    work = Work(settings, cache_dir, kwargs)
    generator = work.generator
    if llm and settings.llm_batch:
        done = read_done(run_dir / "generate.done")
        work.batched = batch.prefill(generator.endpoint, run_dir,
                                     [c for c in read_jsonl(source, CitationContext)
                                      if c.context_id not in done],
                                     settings.llm_batch_poll)

    stats = run_stage(run_dir, "generate", items, work, key_of("context", "context_id"),
                      generator.label, total=count_lines(source))
    if llm:
        # Requests sent by Ray workers went through their own copies of the endpoint; the
        # shared budget saw each of them.
        paid = generator.endpoint.paid + getattr(kwargs["budget"], "paid_by_workers", [])
        stats.extra["usage"] = usage_report(settings, run_dir, paid)
    if work.batched is not None:
        stats.extra["batch"] = {"batches_created": work.batched.batches,
                                "answered": work.batched.requests,
                                "failed": len(work.batched.failed)}
    return stats


class Work:
    """The generate stage's work over pending (key, context) pairs. Picklable, so the Ray
    executor can send it to workers: each process builds its own generator (an Endpoint holds
    locks and an HTTP client) from the settings, sharing the budget and the cache on disk."""

    def __init__(self, settings: Settings, cache_dir: Path, kwargs: dict):
        self.settings, self.cache_dir, self.kwargs = settings, cache_dir, kwargs
        self.batched: batch.Outcome | None = None  # --batch: what the batches left unanswered
        self.mode: str | None = None  # the JSON mode the batches were sent in
        self._generator = None

    @property
    def generator(self):
        if self._generator is None:
            self._generator = make_generator(self.settings, self.cache_dir, **self.kwargs)
            if self.mode:
                self._generator.endpoint.mode = self.mode
        return self._generator

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        endpoint = getattr(self._generator, "endpoint", None)
        state["mode"] = endpoint.mode if endpoint is not None else self.mode
        state["_generator"] = None
        return state

    def one(self, context: CitationContext) -> list[Query] | Reject:
        try:
            queries = self.generator(context)
        except NotCached as exc:
            why = batch.not_answered(exc.key, self.batched)
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

    def __call__(self, pending: list[tuple[str, CitationContext]]):
        if self.generator.concurrency == 1:
            for key, context in pending:
                yield key, self.one(context)
            return
        # Model calls wait on the network: run a few at once. A ServiceError stops the run
        # (everything finished so far is on disk and in the cache; rerun to go on).
        yield from in_threads(self.one, pending, self.generator.concurrency)


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

