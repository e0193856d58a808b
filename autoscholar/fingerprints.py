"""What each stage's output was made with, so a rerun with other settings never passes old
output off as new.

Each record-writing stage keeps `<stage>.settings.json` beside its output: the values of the
settings it reads, its behaviour version, and the fingerprint of its input stage, hashed into
its own fingerprint. A change anywhere upstream therefore changes every fingerprint below it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from .config import Settings
from .errors import InputError
from .io import write_atomic


class StaleStage(InputError):
    """A stage's output on disk was made with other settings than the ones given."""


@dataclass(frozen=True)
class Fingerprint:
    stage: str
    values: dict
    input: str | None
    digest: str

    def record(self) -> dict:
        return {"fingerprint": self.digest, "values": self.values, "input": self.input}


def _call(ref: str, settings: Settings) -> dict:
    module, _, name = ref.partition(":")
    return getattr(import_module(module, __package__), name)(settings)


def values_of(stage, settings: Settings) -> dict:
    public = settings.public_dict()
    values = {name: public[name] for name in stage.settings}
    values["behaviour_version"] = stage.version
    for ref in stage.depends_on:
        values.update(_call(ref, settings))
    return values


def expected(settings: Settings, stages) -> dict[str, Fingerprint]:
    """The fingerprint each record stage would have with these settings, in stage order."""
    out: dict[str, Fingerprint] = {}
    upstream: str | None = None
    for stage in stages:
        if not stage.key:
            continue
        values = values_of(stage, settings)
        blob = json.dumps({"stage": stage.name, "values": values, "input": upstream},
                          sort_keys=True, default=str)
        digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
        out[stage.name] = Fingerprint(stage.name, values, upstream, digest)
        upstream = digest
    return out


def record_path(run_dir: Path, stage: str) -> Path:
    return run_dir / f"{stage}.settings.json"


def recorded(run_dir: Path, stage: str) -> dict | None:
    path = record_path(run_dir, stage)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        data["fingerprint"], data["values"]  # noqa: B018 - the shape check
        return data
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path} is damaged: rerun with --redo {stage}") from None


def has_output(run_dir: Path, stage: str) -> bool:
    return any((run_dir / f"{stage}{suffix}").exists()
               for suffix in (".jsonl", ".done", ".rejects.jsonl"))


def stale_reason(run_dir: Path, want: Fingerprint) -> str | None:
    """Why the stage's output on disk does not fit `want`, or None if it fits (or is absent)."""
    have = recorded(run_dir, want.stage)
    if have is None:
        if has_output(run_dir, want.stage):
            return "was made by an older autoscholar that kept no record of its settings"
        return None
    if have["fingerprint"] == want.digest:
        return None
    old, new = have["values"], want.values
    changed = [f"{k}={old.get(k)!r}, now {new.get(k)!r}" for k in sorted(set(old) | set(new))
               if old.get(k) != new.get(k)]
    if changed:
        return "was made with " + "; ".join(changed)
    return "was made from an earlier stage's output that has changed since"


def check(run_dir: Path, want: Fingerprint) -> None:
    reason = stale_reason(run_dir, want)
    if reason:
        raise StaleStage(
            f"{want.stage} in {run_dir} {reason}: rerun with --redo {want.stage} (redoes it and "
            "every stage after it; paid LLM answers stay cached) or choose a new --out")


def remember(run_dir: Path, want: Fingerprint) -> None:
    if recorded(run_dir, want.stage) is None:
        write_atomic(record_path(run_dir, want.stage), json.dumps(want.record(), indent=2,
                                                                   sort_keys=True, default=str))
