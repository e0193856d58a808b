"""--batch: the OpenAI Batch API fills the request cache before the generate stage runs, at
half the price of live requests, and the stage then reads every answer from that cache.

The first request of each context that is not cached goes into a JSONL file (`custom_id` is
its cache key), which is uploaded (/v1/files) and run as a batch (/v1/batches); its output file
is stored entry by entry with llm.store(), exactly as a live answer would be. The state lives
in the run directory (generate.batches.json: batch and file ids, the keys of each batch), so a
killed run resumes polling the same batch and never pays for it twice. Items a batch did not
answer (failed, expired, cancelled) are sent once more in a new batch, then become rejects
(batch-failed) with the endpoint's message.

JSON mode: a batch cannot negotiate per request, so it uses --llm-json-mode when one is given,
else the mode recorded for this endpoint and model (cache/llm/json_modes.json) or negotiated by
build's preflight, else json_schema (what OpenAI takes). A batch sends no repair turn: an invalid first answer is a reject.

A batch-failed key stays failed for this run directory (even with --redo generate): delete
generate.batches.json, once no batch in it is open, to try those requests again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import openai
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console

from .. import progress
from ..errors import AutoscholarError, InputError, ServiceError
from ..io import write_atomic
from ..records import CitationContext
from . import first_request
from .cost import BudgetExceeded, estimate_prompt_tokens
from .llm import Endpoint, _endpoint_id, _short, cache_key, cache_path, request_body, store

STATE_FILE = "generate.batches.json"
ENDPOINT = "/v1/chat/completions"
# The Batch API's limits per input file (platform.openai.com/docs/guides/batch).
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
ATTEMPTS = 2  # the first submission and one resubmission
UPLOAD = "upload the requests"
OPEN = ("validating", "in_progress", "finalizing", "cancelling")


class Job(BaseModel):
    """One batch at the endpoint. `id` is None between the upload and a confirmed create."""

    model_config = ConfigDict(extra="forbid")
    input_file_id: str
    keys: list[str]
    id: str | None = None
    status: str = "uploaded"
    counts: dict = Field(default_factory=dict)  # request_counts as last polled
    collected: bool = False  # its output is in the cache (or it answered nothing)


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str  # where and which model (the URL redacted), never the key
    jobs: list[Job] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)  # cache key -> why, after the retry


def state_path(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def load(run_dir: Path) -> State | None:
    path = state_path(run_dir)
    if not path.exists():
        return None
    try:
        return State.model_validate_json(path.read_text("utf-8"))
    except ValueError:
        raise InputError(f"{path} is damaged: its batches may still be open at the endpoint; "
                         "check them there, then delete the file and rerun") from None


def save(run_dir: Path, state: State) -> None:
    write_atomic(state_path(run_dir), state.model_dump_json(indent=1))


def open_jobs(run_dir: Path) -> list[Job]:
    state = load(run_dir)
    return [job for job in state.jobs if not job.collected] if state else []


def refuse_live_while_open(run_dir: Path) -> None:
    """A live run would pay again for what an open batch is already answering."""
    jobs = open_jobs(run_dir)
    if jobs:
        ids = ", ".join(job.id or f"upload {job.input_file_id}" for job in jobs)
        raise InputError(f"{len(jobs)} batch(es) of this run are still open at the endpoint "
                         f"({ids}), already paid for: rerun with --batch to collect them")


@dataclass
class Outcome:
    """What the batches left for the stage: why each unanswered key failed, and the budget
    stop that kept some requests out of the batch."""

    failed: dict[str, str] = field(default_factory=dict)
    over_budget: BudgetExceeded | None = None
    batches: int = 0  # created in this run
    requests: int = 0  # answered by a batch in this run


def prefill(endpoint: Endpoint, run_dir: Path, contexts: list[CitationContext],
            poll: float) -> Outcome:
    """Answer the first request of every context in `contexts` that the cache lacks through
    the Batch API; returns once every batch is over."""
    settings = endpoint.settings
    endpoint.keep_probed()  # a mode preflight negotiated is the batch's, and recorded
    mode = endpoint.mode or "json_schema"
    endpoint.mode = mode  # the stage then looks up exactly what the batch stored
    bodies: dict[str, dict] = {}
    for context in contexts:
        messages, schema = first_request(context)
        body = request_body(messages, settings, schema, mode)
        bodies[cache_key(body, settings.llm_base_url)] = body
    state = load(run_dir) or State(endpoint=_endpoint_id(settings))
    run = _Run(endpoint, run_dir, state, bodies, poll)
    out = Outcome()
    while True:
        for job in state.jobs:
            if not job.collected:
                out.requests += run.finish(job)
        todo = [k for k in bodies if k not in state.failed and not run.cached(k)]
        given_up = [k for k in todo if run.attempts(k) >= ATTEMPTS]
        for key in given_up:
            state.failed[key] = run.errors.get(key, "no answer from two batches")
            todo.remove(key)
        if given_up:
            save(run_dir, state)
        todo, out.over_budget = run.within_budget(todo, out.over_budget)
        if not todo:
            break
        for chunk in split(todo, bodies):
            run.submit(chunk)
            out.batches += 1
    save(run_dir, state)
    out.failed = {k: v for k, v in state.failed.items() if k in bodies}
    return out


def line_of(key: str, body: dict) -> bytes:
    return (json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body},
                       ensure_ascii=False) + "\n").encode()


def split(keys: list[str], bodies: dict[str, dict]) -> list[list[str]]:
    """Keys in groups whose input files stay under the API's limits."""
    chunks: list[list[str]] = [[]]
    size = 0
    for key in keys:
        n = len(line_of(key, bodies[key]))
        if n > MAX_BYTES:
            raise InputError(f"one request is {n:,} bytes, over the Batch API's file limit")
        if chunks[-1] and (len(chunks[-1]) >= MAX_REQUESTS or size + n > MAX_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(key)
        size += n
    return [c for c in chunks if c]


class _Run:
    def __init__(self, endpoint: Endpoint, run_dir: Path, state: State, bodies: dict, poll: float):
        self.endpoint, self.run_dir, self.state, self.bodies = endpoint, run_dir, state, bodies
        self.poll = poll
        self.cache_dir = endpoint.cache_dir
        self.errors: dict[str, str] = {}  # key -> the endpoint's message for it, this run
        self.reserved: dict[str, float] = {}
        self.console = Console(stderr=True)

    def cached(self, key: str) -> bool:
        return cache_path(self.cache_dir, key).exists()

    def attempts(self, key: str) -> int:
        return sum(key in job.keys for job in self.state.jobs)

    @property
    def llm(self) -> openai.OpenAI:
        return self.endpoint._client()

    def within_budget(self, todo: list[str], stop: BudgetExceeded | None):
        """The requests whose worst case at the batch rate fits --max-cost; the rest wait."""
        fits = []
        for key in todo:
            messages = self.bodies[key]["messages"]
            try:
                self.reserved[key] = self.endpoint.budget.reserve(
                    estimate_prompt_tokens(messages), self.endpoint.settings.llm_max_tokens,
                    batch=True)
            except BudgetExceeded as exc:
                return fits, exc
            fits.append(key)
        return fits, stop

    # ------------------------------------------------------------ one batch

    def submit(self, keys: list[str]) -> None:
        data = b"".join(line_of(k, self.bodies[k]) for k in keys)
        n = len(self.state.jobs) + 1
        uploaded = _call(lambda: self.llm.files.create(
            file=(f"autoscholar-generate-{n}.jsonl", data), purpose="batch"), UPLOAD)
        job = Job(input_file_id=uploaded.id, keys=keys)
        self.state.jobs.append(job)
        save(self.run_dir, self.state)  # before create: a kill now is found again, not re-sent
        self._create(job)

    def _create(self, job: Job) -> None:
        made = _call(lambda: self.llm.batches.create(
            input_file_id=job.input_file_id, endpoint=ENDPOINT, completion_window="24h",
            metadata={"autoscholar_input": job.input_file_id}), "create a batch")
        self._update(job, made)

    def _adopt(self, job: Job) -> None:
        """A run killed between create and saving its id: the batch may exist; find it by its
        input file rather than create (and pay for) a second one."""
        page = _call(lambda: self.llm.batches.list(limit=100), "list batches")
        for batch in page.data:
            if batch.input_file_id == job.input_file_id:
                return self._update(job, batch)
        self._create(job)

    def _update(self, job: Job, batch) -> None:
        counts = batch.request_counts.model_dump() if batch.request_counts else {}
        changed = (batch.id, batch.status) != (job.id, job.status)
        if changed or counts != job.counts:
            job.id, job.status, job.counts = batch.id, batch.status, counts
            save(self.run_dir, self.state)
        if changed:
            self.console.print(f"batch {batch.id}: {batch.status} "
                               f"({_done(counts)}/{counts.get('total', len(job.keys))} requests)",
                               highlight=False)

    def finish(self, job: Job) -> int:
        """Poll `job` until it is over, put its answers in the cache; how many it answered."""
        if job.id is None:
            self._adopt(job)
        with progress.counter(f"batch {job.id}: requests done") as line:
            task = line.task_ids[0]
            self.console = line.console  # status lines print above the live progress line
            while True:
                batch = _call(lambda: self.llm.batches.retrieve(job.id), f"poll batch {job.id}")
                self._update(job, batch)
                line.update(task, completed=_done(job.counts))
                if batch.status not in OPEN:
                    break
                time.sleep(self.poll)
        stored = self._collect(job, batch)
        job.collected = True
        save(self.run_dir, self.state)
        return stored

    def _collect(self, job: Job, batch) -> int:
        stored = 0
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            text = _call(lambda: self.llm.files.content(file_id), f"download file {file_id}").text
            for raw in text.splitlines():
                if raw.strip():
                    stored += self._one(json.loads(raw))
        why = _batch_error(batch)
        for key in job.keys:
            if not self.cached(key):
                self.errors.setdefault(key, why)
                self.endpoint.budget.settle(self.reserved.pop(key, 0.0), None, batch=True)
        return stored

    def _one(self, line: dict) -> int:
        key = line.get("custom_id")
        response = line.get("response") or {}
        if key not in self.bodies:
            return 0
        if response.get("status_code") == 200 and isinstance(response.get("body"), dict):
            entry = store(self.cache_dir, key, self.bodies[key], response["body"])
            usage = entry.get("usage") or {}
            self.endpoint.budget.settle(self.reserved.pop(key, 0.0), usage, batch=True)
            self.endpoint.paid.append({**usage, "batch": True})
            return 1
        error = line.get("error") or (response.get("body") or {}).get("error") or {}
        status = f"HTTP {response['status_code']}: " if response.get("status_code") else ""
        self.errors[key] = (f"{status}{error.get('code') or ''} "
                            f"{error.get('message') or 'no answer'}").strip()[:300]
        return 0


def _done(counts: dict) -> int:
    return (counts.get("completed") or 0) + (counts.get("failed") or 0)


def _batch_error(batch) -> str:
    errors = getattr(batch.errors, "data", None) or []
    detail = "; ".join(f"{e.code}: {e.message}" for e in errors[:3])
    return f"batch {batch.id} {batch.status}" + (f" ({detail})" if detail else "")


def _call(fn, what: str):
    try:
        return fn()
    except openai.AuthenticationError as exc:
        raise ServiceError("the LLM endpoint refused the API key (HTTP 401): set "
                           "AUTOSCHOLAR_LLM_API_KEY or OPENAI_API_KEY", transient=False) from exc
    except openai.NotFoundError as exc:
        if what == UPLOAD:
            raise ServiceError("the LLM endpoint answered HTTP 404 to the batch upload: it has "
                               "no Batch API (local servers such as llama.cpp's have none); run "
                               "without --batch", transient=False) from exc
        raise ServiceError(f"the LLM endpoint answered HTTP 404 when asked to {what} "
                           f"({_short(exc)}): was {STATE_FILE} made with another endpoint or "
                           "key?", transient=False) from exc
    except openai.APIStatusError as exc:
        raise ServiceError(f"the LLM endpoint could not {what}: HTTP {exc.status_code}: "
                           f"{_short(exc)}") from exc
    except openai.APIConnectionError as exc:
        raise ServiceError(f"cannot reach the LLM endpoint to {what}: {_short(exc)}") from exc


def not_answered(key: str, outcome: Outcome) -> AutoscholarError | str:
    """Why the batch left `key` unanswered: a reject's detail, or the error to stop on."""
    if key in outcome.failed:
        return outcome.failed[key]
    if outcome.over_budget is not None:
        return outcome.over_budget
    return ServiceError(f"the batch did not answer request {key[:12]}: rerun with --batch")

