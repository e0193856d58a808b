"""--dry-run: what the generate stage would send and what it would cost, without sending it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..io import read_jsonl
from ..records import CitationContext, Usage
from ..runner import read_done, require
from . import batch, first_request, generator_kind
from .cost import ESTIMATE_LABEL, price_for, prompt_counter
from .llm import Endpoint, cache_key, request_body

# Until the cache holds answers of this model to learn from: a typical answer is 3 queries of
# about 40 tokens plus the JSON around them.
COMPLETION_GUESS = 150


@dataclass
class Plan:
    model: str
    contexts: int = 0  # contexts the stage has yet to do
    cached: int = 0  # of those, answered from the cache
    requests: int = 0  # requests that would be sent (first answers; repairs come on top)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completion_basis: str = ""
    prompt_basis: str = ESTIMATE_LABEL
    cost_sync: float | None = None
    cost_batch: float | None = None
    price_basis: str = ""
    batches: int | None = None  # with --batch: how many batches the requests split into

    def lines(self) -> list[str]:
        out = [f"dry run ({self.model}): {self.contexts} contexts to generate, {self.requests} "
               f"requests to send ({self.cached} answered from the cache)",
               f"prompt tokens     ~{self.prompt_tokens:,} ({self.prompt_basis})",
               f"completion tokens ~{self.completion_tokens:,} ({self.completion_basis})"]
        if self.cost_sync is None:
            out.append("cost: unknown (model not in the price table: give --price-in and "
                       "--price-out, USD per 1M tokens)")
        else:
            out.append(f"cost: ~${self.cost_sync:.4f} sync, ~${self.cost_batch:.4f} with --batch "
                       f"({self.price_basis})")
        if self.batches is not None:
            out.append(f"with --batch: {self.requests} requests in {self.batches} batch(es) "
                       "under the Batch API's limits; no repair requests")
        out.append("nothing was sent; invalid answers add one repair request each")
        return out


def _completion_per_request(cache_dir: Path, model: str) -> tuple[float, str]:
    seen = []
    for path in cache_dir.glob("*/*.json"):
        try:
            entry = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        usage = entry.get("usage") or {}
        if entry.get("request", {}).get("model") == model and usage.get("completion_tokens"):
            seen.append(usage["completion_tokens"])
    if len(seen) >= 5:
        return sum(seen) / len(seen), f"mean of {len(seen)} cached answers of this model"
    return COMPLETION_GUESS, f"guess: {COMPLETION_GUESS} per request until answers are cached"


def plan(settings: Settings, run_dir: Path) -> Plan:
    out = Plan(model=settings.llm)
    if generator_kind(settings) == "offline":
        out.completion_basis = "offline generator: free"
        out.cost_sync = out.cost_batch = 0.0
        out.price_basis = "no model"
        return out
    cache_dir = run_dir / "cache" / "llm"
    endpoint = Endpoint(settings, cache_dir)
    done = read_done(run_dir / "generate.done")
    to_batch: dict[str, dict] = {}
    count = prompt_counter(settings.llm)
    out.prompt_basis = count.label
    for context in read_jsonl(require(run_dir, "contexts"), CitationContext):
        if context.context_id in done:
            continue
        out.contexts += 1
        messages, schema = first_request(context)
        if endpoint.cached(messages, schema) is not None:
            out.cached += 1
            continue
        out.requests += 1
        out.prompt_tokens += count(messages)
        if settings.llm_batch:
            body = request_body(messages, settings, schema, endpoint.mode or "json_schema")
            to_batch[cache_key(body, settings.llm_base_url)] = body
    if settings.llm_batch:
        out.batches = len(batch.split(list(to_batch), to_batch))
    per_request, out.completion_basis = _completion_per_request(cache_dir, settings.llm)
    out.completion_tokens = round(per_request * out.requests)
    price = price_for(settings)
    if price is not None:
        usage = Usage(prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens)
        out.cost_sync = price.cost(usage)
        out.cost_batch = price.cost(usage, batch=True)
        out.price_basis = (f"${price.input}/${price.output} per 1M in/out"
                           + ("" if settings.llm_price_in is not None else
                              f", price table of {price.checked}"))
    return out

