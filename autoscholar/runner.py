"""Runs one stage over a run directory, resumably.

A stage reads the previous stage's JSONL, skips the input keys it has already finished, and for
each remaining input appends its output records to `<stage>.jsonl`, its rejects (with a reason)
to `<stage>.rejects.jsonl`, and last the input key to `<stage>.done`. A key is finished only once
its line in `.done` is complete, so after a crash (SIGKILL included) `recover` cuts any partial
line and drops outputs of unfinished keys; rerunning then redoes exactly the unfinished keys.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeRemainingColumn)

from .errors import InputError
from .records import Reject

M = TypeVar("M", bound=BaseModel)
Outcome = list[BaseModel] | Reject


@dataclass
class StageStats:
    stage: str
    inputs: int = 0
    skipped: int = 0  # finished in an earlier run
    processed: int = 0
    outputs: int = 0
    rejects: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path, model: type[M]) -> Iterator[M]:
    if not path.exists():
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if line.endswith(b"\n") and line.strip():
                try:
                    yield model.model_validate_json(line)
                except ValidationError as exc:
                    first = str(exc).splitlines()[0]
                    raise InputError(f"{path}:{number} is not a {model.__name__} record "
                                     f"({first}): was the file edited or written by another "
                                     "version?") from None


def _split(data: bytes) -> list[bytes]:
    """Complete, non-blank lines: the piece after the last newline is "" or a partial line."""
    return [ln for ln in data.split(b"\n")[:-1] if ln.strip()]


def _complete_lines(path: Path) -> list[bytes]:
    return _split(path.read_bytes()) if path.exists() else []


def read_done(path: Path) -> set[str]:
    return {json.loads(ln) for ln in _complete_lines(path)}


def _keep_complete(path: Path, keep: Callable[[bytes], bool]) -> list[bytes]:
    """Cut a partial last line and the lines `keep` refuses (one read, one rewrite at most);
    return the lines kept."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = _split(raw)
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
            _progress(label or stage, len(pending)) as advance,
        ):
            for key, outcome in work(pending):
                if isinstance(outcome, Reject):
                    stats.rejects += 1
                    stats.reasons[outcome.reason] = stats.reasons.get(outcome.reason, 0) + 1
                    rej.write(outcome.model_dump_json().encode() + b"\n")
                    rej.flush()
                    if outcome.transient:
                        # Not done: a rerun retries it, and recover() drops this row then.
                        advance()
                        continue
                else:
                    if outcome:
                        out.write(b"".join(r.model_dump_json().encode() + b"\n" for r in outcome))
                        out.flush()
                    stats.outputs += len(outcome)
                # Only now is the key finished: its outputs are already on disk.
                dn.write(json.dumps(key).encode() + b"\n")
                dn.flush()
                stats.processed += 1
                advance()
    return stats


def count_lines(path: Path) -> int:
    return len(_complete_lines(path))


def reject_reasons(path: Path) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for ln in _complete_lines(path):
        reason = json.loads(ln)["reason"]
        reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


class _progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise (CI, pipes)."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout stays clean for JSON output
            disable=not sys.stderr.isatty(),
            transient=False,
        )

    def __enter__(self) -> Callable[[], None]:
        self.bar.__enter__()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)


def counter(label: str) -> Progress:
    """An open-ended progress line on stderr (a terminal only): `with counter(...) as bar:`
    then `bar.update(bar.task_ids[0], completed=n)`."""
    bar = Progress(SpinnerColumn(), TextColumn(f"[bold]{label}[/] {{task.completed:,}}"),
                   console=Console(stderr=True), disable=not sys.stderr.isatty())
    bar.add_task(label, total=None)
    return bar
