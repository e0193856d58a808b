"""Runs one stage over a run directory, resumably.

A stage reads the previous stage's JSONL, skips the input keys it has already finished, and for
each remaining input appends its output records to `<stage>.jsonl`, its rejects (with a reason)
to `<stage>.rejects.jsonl`, and last the input key to `<stage>.done`. A key is finished only once
its line in `.done` is complete, so after a crash (SIGKILL included) `recover` cuts any partial
line and drops outputs of unfinished keys; rerunning then redoes exactly the unfinished keys.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from . import executors, progress
from .errors import InputError
from .io import damaged, named, partial_tail, numbered_lines, write_atomic
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
    lines, _ = _numbered(path)
    return {_done_key(path, n, ln) for n, ln in lines}


def _numbered(path: Path) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete lines of a stage file with their numbers, and the partial tail after them."""
    raw = path.read_bytes() if path.exists() else b""
    cut = raw.rfind(b"\n") + 1
    return numbered_lines(raw[:cut]), raw[cut:]


def _done_key(path: Path, number: int, line: bytes) -> str:
    try:
        key = json.loads(line)
    except ValueError:
        key = None
    if not isinstance(key, str):
        raise damaged(path, number, "not a finished key")
    return key


def _line_key(path: Path, number: int, line: bytes, out_key: Callable[[bytes], str]) -> str:
    try:
        key = out_key(line)
    except (ValueError, KeyError, TypeError, IndexError):
        key = None
    if not isinstance(key, str):
        raise damaged(path, number, "not a record of this stage")
    return key


def _tail_key(tail: bytes, field: str | None) -> str | None:
    """The key a partial line was written for, when the part on disk still holds it."""
    if not field:
        return None
    found = re.search(rb'"%s":("(?:[^"\\]|\\.)*")' % re.escape(field.encode()), tail)
    try:
        return json.loads(found.group(1)) if found else None
    except ValueError:
        return None


def recover(out: Path, rejects: Path, done_path: Path, out_key: Callable[[bytes], str]) -> set[str]:
    """Bring a stage's files back to a state made only of finished keys; return those keys.

    A partial last line (a crash mid-write, a truncated copy) is dropped and its key, and every
    key finished after it, is redone even when `.done` lists it, so a cut file never silently
    loses a record. Any other line that is not a record of this stage is an error naming the
    file, the line and --redo. (A line repeated byte for byte is left: readers take it once.)
    """
    done_lines, done_tail = _numbered(done_path)  # a partial done line: that key is not done
    order = list(dict.fromkeys(_done_key(done_path, n, ln) for n, ln in done_lines))
    redo: set[str] = set()
    files = []
    reject_key = key_of("key")
    for path, key_fn in ((out, out_key), (rejects, reject_key)):
        keys, tail = _line_keys(path, key_fn)
        if tail.strip():
            # Lines are appended in the order keys finish, so everything from the cut line's key
            # on may be lost: redo those keys (none when the cut line's key was not finished).
            key = _tail_key(tail, getattr(key_fn, "field", None))
            if key is None:  # cut before its key: start from the last whole line's key
                key = keys[-1] if keys else None
            start = 0 if key is None else order.index(key) if key in order else len(order)
            redo.update(order[start:])
        files.append((path, keys, bool(tail)))
    done = [k for k in order if k not in redo]
    finished = set(done)
    if len(done) != len(done_lines) or done_tail:
        write_atomic(done_path, b"".join(json.dumps(k).encode() + b"\n" for k in done))
    for path, keys, cut in files:
        keep = [key in finished for key in keys]
        if cut or not all(keep):
            write_atomic(path, _kept_lines(path, keep))
    return finished


def _line_keys(path: Path, key_fn: Callable[[bytes], str]) -> tuple[list[str], bytes]:
    """The key of each complete, non-blank line of a stage file, and the partial line after
    them; read a line at a time, so only the keys are held (a stage file can exceed memory)."""
    keys: list[str] = []
    if not path.exists():
        return keys, b""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                return keys, line
            if line.strip():
                keys.append(_line_key(path, number, line, key_fn))
    return keys, b""


def _kept_lines(path: Path, keep: list[bool]) -> Iterator[bytes]:
    """The complete, non-blank lines of `path` whose flag in `keep` is set (one per line)."""
    with path.open("rb") as fh:
        flags = iter(keep)
        for line in fh:
            if line.endswith(b"\n") and line.strip() and next(flags):
                yield line


class StageFiles:
    def __init__(self, run_dir: Path, stage: str):
        self.stage = stage
        self.out = run_dir / f"{stage}.jsonl"
        self.rejects = run_dir / f"{stage}.rejects.jsonl"
        self.done = run_dir / f"{stage}.done"


def run_stage(
    run_dir: Path,
    stage: str,
    items: Iterable[tuple[str, object]],
    work: Callable[[Iterable[tuple[str, object]]], Iterable[tuple[str, Outcome]]],
    out_key: Callable[[bytes], str],
    label: str | None = None,
    in_process: bool = False,
    total: int | None = None,
) -> StageStats:
    """Run `work` over the items whose key is not yet done, appending results as they come.

    `work` receives the pending (key, input) pairs and yields (key, outputs-or-Reject) in any
    order; it may run them in parallel. Every yielded key is marked done. `in_process` keeps
    the work in this process whatever the executor (work that shares state across inputs).
    `items` may be a stream (a generator reading the previous stage's file): it is read as the
    work takes it, so only the inputs in flight are in memory; `total`, its length if known,
    only sizes the progress bar.
    """
    files = StageFiles(run_dir, stage)
    run_dir.mkdir(parents=True, exist_ok=True)
    done = recover(files.out, files.rejects, files.done, out_key)
    files.out.touch()  # even with nothing to do: the next stage reads it (empty is an answer)
    stats = StageStats(stage=stage)
    # A list's pending count is exact; a stream's is estimated from its length.
    count = (sum(k not in done for k, _ in items) if isinstance(items, Sized)
             else max((total or 0) - len(done), 1))
    pending: Iterable = _unfinished(items, done, stats)
    first = next(pending, None)  # the finished keys before it are read (and counted) now
    pending = itertools.chain([first], pending) if first is not None else ()
    if pending:
        with (
            # Unbuffered: each line is on disk when _append returns, and a full disk is raised
            # there, naming the file, not again from a buffer flushed at close.
            files.out.open("ab", buffering=0) as out,
            files.rejects.open("ab", buffering=0) as rej,
            files.done.open("ab", buffering=0) as dn,
            progress.bar(label or stage, count) as advance,
        ):
            # The executor runs `work` (here, or in shards on a Ray cluster) and hands every
            # outcome to `append` in input order.
            executors.current(in_process).run(stage, work, pending, Appender(out, rej, dn, stats, advance),
                                    run_dir)
    return stats


def _unfinished(items: Iterable, done: set[str], stats: StageStats) -> Iterator:
    for key, value in items:
        stats.inputs += 1
        if key in done:
            stats.skipped += 1
        else:
            yield key, value


class Appender:
    """Writes the outcome of one input to a stage's files as it comes: outputs, rejects, and
    last its key in .done. run_stage and each Ray shard (into its part files) use it alike, so
    a stage file merged from parts is byte for byte the one written here."""

    def __init__(self, out, rej, dn, stats: StageStats, advance=None):
        self.out, self.rej, self.dn, self.stats = out, rej, dn, stats
        self.advance = advance or (lambda rejected=False: None)

    def __call__(self, key: str, outcome: Outcome) -> None:
        stats, out, rej, dn, advance = self.stats, self.out, self.rej, self.dn, self.advance
        if isinstance(outcome, Reject):
            stats.rejects += 1
            stats.reasons[outcome.reason] = stats.reasons.get(outcome.reason, 0) + 1
            _append(rej, outcome.model_dump_json().encode() + b"\n")
            if outcome.transient:
                # Not done: a rerun retries it, and recover() drops this row then.
                advance(rejected=True)
                return
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
                _append(out, b"".join(r.model_dump_json().encode() + b"\n"
                                      for r in outcome))
            stats.outputs += len(outcome)
        # Only now is the key finished: its outputs are already on disk.
        _append(dn, json.dumps(key).encode() + b"\n")
        stats.processed += 1
        advance(rejected=isinstance(outcome, Reject))

    def merge(self, out: Path, rejects: Path, done: Path, stats: dict) -> None:
        """Append one shard's part files, whole, and count its stats (a Ray shard's outcomes
        were appended to its parts by an Appender like this one)."""
        for part, into in ((out, self.out), (rejects, self.rej), (done, self.dn)):
            with part.open("rb") as fh:  # done last: only then are its keys finished
                while chunk := fh.read(1 << 20):
                    _append(into, chunk)
        for name in ("processed", "outputs", "rejects"):
            setattr(self.stats, name, getattr(self.stats, name) + stats[name])
        for reason, n in stats["reasons"].items():
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + n
        for _ in range(stats["processed"]):
            self.advance()


def _append(fh, data: bytes) -> None:
    """Append to an unbuffered file; a full disk is an OSError naming the file (the half line
    it may leave, recover() drops on the next run)."""
    view = memoryview(data)
    try:
        while view:
            view = view[fh.write(view):]
    except OSError as exc:
        raise named(exc, fh.name) from None


def key_of(*path: str) -> Callable[[bytes], str]:
    """The input key of an output line: the value at `path` in its JSON object."""
    def key(line: bytes) -> str:
        value = json.loads(line)
        for part in path:
            value = value[part]
        return value

    key.field = path[-1]  # type: ignore[attr-defined]  # to find the key in a partial line
    return key


def require(run_dir: Path, stage: str) -> Path:
    """The output file of an earlier stage, which must exist."""
    path = run_dir / f"{stage}.jsonl"
    if not path.exists():
        raise InputError(f"{run_dir} has no {stage}.jsonl yet: run `autoscholar {stage}` first")
    if partial_tail(path):  # reading on would silently lose its last record
        raise InputError(f"{path} ends in a partial line: rerun `autoscholar {stage} {run_dir}` "
                         "(or the build) to redo that record first")
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
