"""Runs one stage over a run directory, resumably.

A stage reads the previous stage's JSONL, skips the input keys it has already finished, and for
each remaining input appends its output records to `<stage>.jsonl`, its rejects (with a reason)
to `<stage>.rejects.jsonl`, and last the input key to `<stage>.done`. A key is finished only once
its line in `.done` is complete, so after a crash (SIGKILL included) `recover` cuts any partial
line and drops outputs of unfinished keys; rerunning then redoes exactly the unfinished keys.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from . import progress
from .errors import InputError
from .io import complete_lines, split_lines, write_atomic
from .records import Reject

Outcome = list[BaseModel] | Reject  # the list may hold Rejects of dropped parts


@dataclass
class StageStats:
    stage: str
    inputs: int = 0
    skipped: int = 0  # finished in an earlier run
    processed: int = 0
    outputs: int = 0
    rejects: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # what one stage alone reports (LLM usage)


def read_done(path: Path) -> set[str]:
    return {json.loads(ln) for ln in complete_lines(path)}


def _keep_complete(path: Path, keep: Callable[[bytes], bool]) -> list[bytes]:
    """Cut a partial last line and the lines `keep` refuses (one read, one rewrite at most);
    return the lines kept."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = split_lines(raw)
    kept = [ln for ln in lines if keep(ln)]
    if len(kept) != len(lines) or (raw and not raw.endswith(b"\n")):
        write_atomic(path, b"".join(ln + b"\n" for ln in kept))
    return kept


def recover(out: Path, rejects: Path, done_path: Path, out_key: Callable[[bytes], str]) -> set[str]:
    """Bring a stage's files back to a state made only of finished keys; return those keys."""
    done = {json.loads(ln) for ln in _keep_complete(done_path, lambda ln: True)}
    _keep_complete(out, lambda ln: out_key(ln) in done)
    _keep_complete(rejects, lambda ln: json.loads(ln)["key"] in done)
    return done


class StageFiles:
    def __init__(self, run_dir: Path, stage: str):
        self.stage = stage
        self.out = run_dir / f"{stage}.jsonl"
        self.rejects = run_dir / f"{stage}.rejects.jsonl"
        self.done = run_dir / f"{stage}.done"


def run_stage(
    run_dir: Path,
    stage: str,
    items: list[tuple[str, object]],
    work: Callable[[list[tuple[str, object]]], Iterable[tuple[str, Outcome]]],
    out_key: Callable[[bytes], str],
    label: str | None = None,
) -> StageStats:
    """Run `work` over the items whose key is not yet done, appending results as they come.

    `work` receives the pending (key, input) pairs and yields (key, outputs-or-Reject) in any
    order; it may run them in parallel. Every yielded key is marked done.
    """
    files = StageFiles(run_dir, stage)
    run_dir.mkdir(parents=True, exist_ok=True)
    done = recover(files.out, files.rejects, files.done, out_key)
    files.out.touch()  # even with nothing to do: the next stage reads it (empty is an answer)
    stats = StageStats(stage=stage, inputs=len(items))
    pending = [(k, v) for k, v in items if k not in done]
    stats.skipped = len(items) - len(pending)
    if pending:
        with (
            files.out.open("ab") as out,
            files.rejects.open("ab") as rej,
            files.done.open("ab") as dn,
            progress.bar(label or stage, len(pending)) as advance,
        ):
            for key, outcome in work(pending):
                if isinstance(outcome, Reject):
                    stats.rejects += 1
                    stats.reasons[outcome.reason] = stats.reasons.get(outcome.reason, 0) + 1
                    rej.write(outcome.model_dump_json().encode() + b"\n")
                    rej.flush()
                    if outcome.transient:
                        # Not done: a rerun retries it, and recover() drops this row then.
                        advance(rejected=True)
                        continue
                else:
                    # A list may carry Rejects of the parts of one input that were dropped
                    # (generate: a query that failed a check) beside the records kept.
                    dropped = [r for r in outcome if isinstance(r, Reject)]
                    outcome = [r for r in outcome if not isinstance(r, Reject)]
                    for part in dropped:
                        stats.reasons[part.reason] = stats.reasons.get(part.reason, 0) + 1
                        rej.write(part.model_dump_json().encode() + b"\n")
                    stats.rejects += len(dropped)
                    if dropped:
                        rej.flush()
                    if outcome:
                        out.write(b"".join(r.model_dump_json().encode() + b"\n" for r in outcome))
                        out.flush()
                    stats.outputs += len(outcome)
                # Only now is the key finished: its outputs are already on disk.
                dn.write(json.dumps(key).encode() + b"\n")
                dn.flush()
                stats.processed += 1
                advance(rejected=isinstance(outcome, Reject))
    return stats


def key_of(*path: str) -> Callable[[bytes], str]:
    """The input key of an output line: the value at `path` in its JSON object."""
    def key(line: bytes) -> str:
        value = json.loads(line)
        for part in path:
            value = value[part]
        return value

    return key


def require(run_dir: Path, stage: str) -> Path:
    """The output file of an earlier stage, which must exist."""
    path = run_dir / f"{stage}.jsonl"
    if not path.exists():
        raise InputError(f"{run_dir} has no {stage}.jsonl yet: run `autoscholar {stage}` first")
    return path


def in_threads(fn, pending: list[tuple[str, object]], workers: int) -> Iterator[tuple[str, object]]:
    """(key, fn(item)) in input order with `workers` threads. At most 2 x workers calls are
    queued, so a failure or Ctrl-C stops new (paid) calls at once instead of draining a queue.
    When a call fails, the calls already running are waited for and their results yielded
    before the error is raised: an answer paid for is kept, not only cached."""
    window: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for key, item in pending:
                window.append((key, pool.submit(fn, item)))
                if len(window) >= 2 * workers:
                    yield _first(window)
            while window:
                yield _first(window)
        except Exception:
            for _, future in window:
                future.cancel()
            for key, future in window:
                if not future.cancelled() and future.exception() is None:
                    yield key, future.result()
            window.clear()
            raise
        finally:
            for _, future in window:
                future.cancel()


def _first(window: deque) -> tuple[str, object]:
    key, future = window.popleft()
    return key, future.result()
