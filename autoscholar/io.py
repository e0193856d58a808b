"""Files of a run directory: atomic writes, JSONL reading with validation, checksums."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

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


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        normal_mode(fd)
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


def split_lines(data: bytes) -> list[bytes]:
    """Complete, non-blank lines: the piece after the last newline is "" or a partial line."""
    return [ln for ln in data.split(b"\n")[:-1] if ln.strip()]


def complete_lines(path: Path) -> list[bytes]:
    return split_lines(path.read_bytes()) if path.exists() else []


def count_lines(path: Path) -> int:
    return len(complete_lines(path))


def reject_reasons(path: Path) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for ln in complete_lines(path):
        reason = json.loads(ln)["reason"]
        reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
