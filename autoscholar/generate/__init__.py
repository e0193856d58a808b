"""generate stage: citation context -> queries whose answers are entries the context cites."""

from __future__ import annotations

from ..errors import LLMOutputError
from ..records import CitationContext, Query, Usage
from . import offline, prompt
from .llm import Completion, Endpoint, NotCached


def _queries(context: CitationContext, pairs, generator: str, version: str, raw: str,
             usage: Usage | None = None) -> list[Query]:
    return [
        Query(
            query_id=f"{context.context_id}:{i}",
            context=context,
            question=question,
            answer_keys=keys,
            generator=generator,
            prompt_version=version,
            raw_output=raw,
            usage=usage,
        )
        for i, (question, keys) in enumerate(pairs)
    ]


def offline_queries(context: CitationContext) -> list[Query]:
    return _queries(context, offline.generate(context), offline.GENERATOR,
                    offline.PROMPT_VERSION, "")


def _answer(done: Completion) -> str:
    """The text to validate, or an LLMOutputError for an answer no repair can fix."""
    if done.refusal or done.finish_reason == "content_filter":
        raise LLMOutputError(f"the model refused: {(done.refusal or 'content filter')[:200]}",
                             "llm-refusal", done.text)
    if done.finish_reason == "length":
        raise LLMOutputError("the answer was cut at --llm-max-tokens (finish_reason=length)",
                             "truncated-llm-output", done.text)
    return done.text


def first_request(context: CitationContext) -> tuple[list[dict], dict]:
    """The messages and schema of a context's first request: what the stage sends and what
    --dry-run counts and looks up in the cache."""
    return prompt.format_input(context), prompt.output_schema([ref.key for ref in context.refs])


def llm_queries(context: CitationContext, endpoint: Endpoint) -> list[Query]:
    """Queries for one context. Raises LLMOutputError when the model's answer (after one
    repair request) is not valid, RequestRejected when the endpoint refuses this request,
    ServiceError when the endpoint fails."""
    settings = endpoint.settings
    messages, schema = first_request(context)
    first = endpoint.complete(messages, schema)
    usages = [first.usage]
    text = _answer(first)
    try:
        pairs = prompt.format_output(text, context)
    except LLMOutputError as error:
        # One repair turn: the conversation differs, so it is its own cache entry.
        repair = messages + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"That answer was invalid ({error}). "
                                        "Reply again with the JSON object only."},
        ]
        try:
            second = endpoint.complete(repair, schema)
        except NotCached:  # --batch sends no repair turn live: the first answer is final
            raise LLMOutputError(f"{error} (no repair turn under --batch); raw output: "
                                 f"{text[:300]!r}", error.reason, text) from error
        usages.append(second.usage)
        text = _answer(second)
        try:
            pairs = prompt.format_output(text, context)
        except LLMOutputError as again:
            raise LLMOutputError(f"{again}; raw output: {text[:300]!r}", again.reason,
                                 text) from again
    return _queries(context, pairs, settings.llm, prompt.PROMPT_VERSION, text,
                    Usage.total(usages))


class OfflineGenerator:
    """The deterministic template generator: free, no endpoint."""

    concurrency = 1

    def __init__(self, settings, cache_dir=None, **_):
        self.settings = settings

    @property
    def label(self) -> str:
        return "generate (offline)"

    @staticmethod
    def identity(settings) -> dict:
        return {"prompt_version": offline.PROMPT_VERSION}

    def __call__(self, context: CitationContext) -> list[Query]:
        return offline_queries(context)


class LLMGenerator:
    """A model behind the OpenAI chat completions API (OpenAI or any compatible server)."""

    def __init__(self, settings, cache_dir, client=None, budget=None, live=True):
        self.settings = settings
        self.endpoint = Endpoint(settings, cache_dir, client, budget, live)
        self.concurrency = max(1, settings.llm_concurrency)

    @property
    def label(self) -> str:
        return f"generate ({self.settings.llm})"

    @staticmethod
    def identity(settings) -> dict:
        # What changes the request, and so the answer; the model and endpoint are settings
        # the stage records anyway.
        return {"prompt_version": prompt.PROMPT_VERSION, "json_mode": settings.llm_json_mode,
                "max_tokens": settings.llm_max_tokens}

    def __call__(self, context: CitationContext) -> list[Query]:
        return llm_queries(context, self.endpoint)


GENERATORS = {"offline": OfflineGenerator, "openai": LLMGenerator}


def generator_kind(settings) -> str:
    """--llm none is the offline generator; any other value names a model."""
    return "offline" if settings.llm == "none" else "openai"


def make_generator(settings, cache_dir, **kwargs):
    return GENERATORS[generator_kind(settings)](settings, cache_dir, **kwargs)


def generate_queries(context: CitationContext, settings, cache_dir, client=None) -> list[Query]:
    """Queries for one context with the generator the settings name (one call, no budget)."""
    return make_generator(settings, cache_dir, client=client)(context)


def prompt_identity(settings) -> dict:
    """What the generate stage's output depends on beyond its listed settings."""
    return GENERATORS[generator_kind(settings)].identity(settings)
