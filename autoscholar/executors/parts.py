"""A stage's shards and their part files under <run>/parts/<stage>/, for the Ray executor.

A shard is a run of consecutive pending inputs (cut by count, in input order); its id is a
hash of its keys. A task writes the shard's outcomes with runner.Appender into
  <id>.<attempt>.jsonl / .rejects.jsonl / .done     (the stage's three files, for this shard)
and last, atomically, the completion marker
  <id>.complete.json   {"keys", "attempt", "stats", "sizes"}
Part files are named by attempt, so a task Ray retries after a lost worker, or a straggler
still writing, never writes into the files another attempt's marker names; parts without a
marker (a half-written shard) are never read, only deleted.

A driver killed before merging finds the markers on its next run: `cut` hands such a shard
back whole when its keys come up again in the same order, and it is merged, not redone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ..io import write_atomic

SUFFIXES = (".jsonl", ".rejects.jsonl", ".done")


@dataclass
class Shard:
    keys: list[str]
    items: list[tuple[str, object]] | None  # None: finished in an earlier run (marker)
    marker: dict | None = None

    @property
    def id(self) -> str:
        return hashlib.sha256("\n".join(self.keys).encode()).hexdigest()[:20]


class Parts:
    def __init__(self, folder: Path):
        self.folder = folder

    def marker_path(self, shard_id: str) -> Path:
        return self.folder / f"{shard_id}.complete.json"

    def paths(self, shard_id: str, attempt: str) -> tuple[Path, Path, Path]:
        return tuple(self.folder / f"{shard_id}.{attempt}{s}" for s in SUFFIXES)  # type: ignore

    def finished(self) -> dict[str, dict]:
        """The markers of shards finished but not yet merged, by their first key; a marker
        whose part files are missing or not the size it recorded is not finished."""
        found: dict[str, dict] = {}
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.complete.json")):
            try:
                marker = json.loads(path.read_text("utf-8"))
                shard_id = path.name.removesuffix(".complete.json")
                files = self.paths(shard_id, marker["attempt"])
                whole = all(f.stat().st_size == n for f, n in zip(files, marker["sizes"]))
                keys = marker["keys"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if whole and keys and Shard(keys, None).id == shard_id:
                found[keys[0]] = marker
        return found

    def write(self, stage: str, shard: Shard, work: Callable) -> dict:
        """Run `work` over the shard's inputs into its part files; then the marker."""
        from ..runner import Appender, StageStats

        self.folder.mkdir(parents=True, exist_ok=True)
        attempt = uuid.uuid4().hex[:12]
        files = self.paths(shard.id, attempt)
        stats = StageStats(stage=stage)
        handles = [f.open("wb", buffering=0) for f in files]
        try:
            append = Appender(*handles, stats)
            for key, outcome in work(shard.items):
                append(key, outcome)
            for fh in handles:  # on disk before the marker says so (a shared filesystem too)
                os.fsync(fh.fileno())
        except BaseException:
            for fh in handles:
                fh.close()
            for f in files:
                f.unlink(missing_ok=True)
            raise
        for fh in handles:
            fh.close()
        counts = asdict(stats)
        counts.pop("extra")
        marker = {"keys": shard.keys, "attempt": attempt, "stats": counts,
                  "sizes": [f.stat().st_size for f in files]}
        write_atomic(self.marker_path(shard.id), json.dumps(marker))
        return marker

    def merge(self, shard: Shard, marker: dict, append) -> None:
        """Append a finished shard's parts to the stage files, then delete them (a crash in
        between leaves a marker whose keys are done: never picked up, deleted with the rest)."""
        append.merge(*self.paths(shard.id, marker["attempt"]), marker["stats"])
        self.discard(shard.id)

    def discard(self, shard_id: str) -> None:
        self.marker_path(shard_id).unlink(missing_ok=True)
        for path in self.folder.glob(f"{shard_id}.*"):
            path.unlink(missing_ok=True)

    def clean(self) -> None:
        """Every shard merged: what is left (parts of abandoned attempts) goes."""
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # parts/ itself, when no other stage has parts
        except OSError:
            pass


def cut(pending: Iterable[tuple[str, object]], size: int,
        finished: dict[str, dict]) -> Iterator[Shard]:
    """Shards of at most `size` consecutive inputs, reading `pending` as a stream; a run of
    inputs that a finished marker lists, in its order, comes back as that shard."""
    source = iter(pending)
    buffer: list[tuple[str, object]] = []
    for key, value in source:
        marker = finished.get(key)
        if marker is None:
            buffer.append((key, value))
            if len(buffer) >= size:
                yield Shard([k for k, _ in buffer], buffer)
                buffer = []
            continue
        if buffer:
            yield Shard([k for k, _ in buffer], buffer)
            buffer = []
        taken = [(key, value)]
        for want in marker["keys"][1:]:
            step = next(source, None)
            if step is None:
                break
            taken.append(step)
            if step[0] != want:
                break
        if [k for k, _ in taken] == marker["keys"]:
            yield Shard(marker["keys"], None, marker)
            continue
        # Not the same run of keys any more (inputs changed): those inputs are new work.
        for start in range(0, len(taken), size):
            chunk = taken[start:start + size]
            if len(chunk) == size:
                yield Shard([k for k, _ in chunk], chunk)
            else:
                buffer = chunk
    if buffer:
        yield Shard([k for k, _ in buffer], buffer)
