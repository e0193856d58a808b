"""Files of a run directory: atomic writes, JSONL reading with validation, checksums."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InputError

M = TypeVar("M", bound=BaseModel)


def umask() -> int:
    """The process umask, read without changing it where Linux shows it (os.umask can only
    set it, and setting it even briefly would race with files other threads create)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def normal_mode(fd: int) -> None:
    """Give a mkstemp file (always 0600) the mode open() would have: 0666 less the umask, so
    published files are readable by others as usual (0644 under umask 022)."""
    os.fchmod(fd, 0o666 & ~umask())


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file handle whose content replaces `path` only when the block ends without error, so
    readers see the old or the new content, never half (written into a temporary sibling)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        normal_mode(fd)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise named(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str | Iterable[bytes]) -> None:
    """Write a whole file atomically (atomic_file). `data` may be an iterable of chunks (a
    file larger than memory, written as it is read)."""
    chunks = [data.encode() if isinstance(data, str) else data] if isinstance(data, (str, bytes)) else data
    with atomic_file(path) as fh:
        for chunk in chunks:
            fh.write(chunk)


def named(exc: OSError, path: Path | str) -> OSError:
    """The error with the path it is about (a failed write() on an open file names none)."""
    if exc.filename is None:
        return OSError(exc.errno, exc.strerror or str(exc), str(path))
    return exc


def stage_of(path: Path) -> str:
    """The stage that writes a run-directory file, for the way on named in an error."""
    name = path.name.split(".")[0]
    if path.parent.name == "dataset":
        return "publish"
    return "fetch" if name == "listing" else name


def damaged(path: Path, number: int | None, what: str) -> InputError:
    """One line for a damaged run-directory file: where, what, and the way on."""
    where = f"{path}:{number}" if number else str(path)
    return InputError(f"{where} is damaged ({what}): rerun with --redo {stage_of(path)} "
                      "(redoes that stage and every stage after it) or choose a new --out")


def read_jsonl(path: Path, model: type[M]) -> Iterator[M]:
    """The complete lines of `path` as `model` records. A partial last line (a crash mid-write)
    is not a record; a line repeated byte for byte (a double append) counts once, the first."""
    for _, record in read_jsonl_at(path, model):
        yield record


def read_jsonl_at(path: Path, model: type[M]) -> Iterator[tuple[int, M]]:
    """read_jsonl with the byte offset of each record's line (publish reads it back by it)."""
    if not path.exists():
        return
    seen = DigestSet()
    offset = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            start, offset = offset, offset + len(line)
            if line.endswith(b"\n") and line.strip():
                if not seen.add(hashlib.blake2b(line, digest_size=16).digest()):
                    continue
                try:
                    yield start, model.model_validate_json(line)
                except ValidationError as exc:
                    first = str(exc).splitlines()[0]
                    raise damaged(path, number, f"not a {model.__name__} record: {first}") from None


class DigestSet:
    """A set of 16-byte digests in one numpy table (open addressing, at most half full): about
    40 bytes a digest, against about 100 in a set of bytes objects, so reading a stage file of
    millions of lines holds little more than the line in hand."""

    def __init__(self) -> None:
        import numpy as np  # only where files are read, not for `autoscholar --help`

        self._np = np
        self._table = np.zeros((1 << 12, 2), dtype=np.uint64)  # (0, 0) marks a free slot
        self._count = 0

    def add(self, digest: bytes) -> bool:
        """Add the digest; False if it was there already."""
        hi, lo = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:16], "little")
        if not (hi or lo):
            lo = 1  # (0, 0) is the free mark: fold the one digest that equals it
        if not self._insert(self._table, hi, lo):
            return False
        self._count += 1
        if 2 * self._count > len(self._table):
            self._grow()
        return True

    @staticmethod
    def _insert(table, hi: int, lo: int) -> bool:
        mask = len(table) - 1
        slot = hi & mask
        while True:
            a, b = int(table[slot, 0]), int(table[slot, 1])
            if not (a or b):
                table[slot, 0], table[slot, 1] = hi, lo
                return True
            if a == hi and b == lo:
                return False
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = self._table[(self._table[:, 0] != 0) | (self._table[:, 1] != 0)]
        self._table = self._np.zeros((2 * len(self._table), 2), dtype=self._np.uint64)
        # A few thousand at a time: a list of every digest as Python ints would be the peak.
        for start in range(0, len(old), 4096):
            for hi, lo in old[start:start + 4096].tolist():
                self._insert(self._table, hi, lo)


def read_json(path: Path, advice: str) -> dict:
    """A small JSON object file of the run directory; a damaged one is one line naming it."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged (not JSON: {exc}): {advice}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is damaged (a {type(data).__name__}, not an object): {advice}")
    return data


def partial_tail(path: Path) -> bool:
    """Whether the file ends in a line without its newline (a crash or a truncation)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) != b"\n"


def split_lines(data: bytes) -> list[bytes]:
    """Complete, non-blank lines: the piece after the last newline is "" or a partial line."""
    return [ln for ln in data.split(b"\n")[:-1] if ln.strip()]


def numbered_lines(data: bytes) -> list[tuple[int, bytes]]:
    """split_lines with each line's number in the file (1-based), for error messages."""
    return [(n, ln) for n, ln in enumerate(data.split(b"\n")[:-1], 1) if ln.strip()]


def complete_lines(path: Path) -> list[bytes]:
    return split_lines(path.read_bytes()) if path.exists() else []


def count_lines(path: Path) -> int:
    """len(complete_lines(path)), read a line at a time: a stage file can exceed memory."""
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.endswith(b"\n") and line.strip())


def _reject_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) of a rejects file; a line that is no reject record is damage."""
    for number, ln in numbered_lines(path.read_bytes()) if path.exists() else []:
        try:
            row = json.loads(ln)
            row["reason"]  # noqa: B018 - the shape check
        except (ValueError, KeyError, TypeError):
            raise damaged(path, number, "not a reject record") from None
        yield number, row


def reject_reasons(path: Path) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for _, row in _reject_rows(path):
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    return reasons


def reject_keys(path: Path) -> dict[str, set[str]]:
    """Each reject reason of a rejects file with the input keys it rejected whole (a reject
    naming one query_id dropped a single query of an input that gave others)."""
    keys: dict[str, set[str]] = {}
    for number, row in _reject_rows(path):
        if row.get("query_id") is None:
            try:
                keys.setdefault(row["reason"], set()).add(row["key"])
            except (KeyError, TypeError):
                raise damaged(path, number, "not a reject record") from None
    return keys


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
