"""One dataset over several runs (PaSa's five venue-years): each member is a normal run
directory, resumable on its own; the combined folder holds only what is made from all of them.

runs/asq/
  iclr-2023/ ... cvpr-2024/   the member runs (with `build --venue X:Y ...`; `merge` takes
                              runs made anywhere)
  dataset/, publish.rejects.jsonl, audit/   publish and audit over every member's match.jsonl
  manifest.json               the members (name, venue, year, folder, stage fingerprints,
                              match.jsonl checksum) and the combined dataset's checksums

The members are always taken in venue-year order and publish sorts queries by id, so the same
member runs give the same bytes whatever order they were given or finished in. Nothing is
copied: publish and the audit read each member's stage files where they are (stage_files).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MANIFEST = "manifest.json"
# What a combined folder makes itself, from all members at once.
OWN_FILES = ("publish", "dataset", "audit", MANIFEST)


def member_runs(run_dir: Path) -> list[dict]:
    """The members manifest.json lists for a combined folder (name, venue, year, run_dir
    relative to it, ...), in venue-year order; [] for a normal run dir."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return []
    members = manifest.get("members") if isinstance(manifest, dict) else None
    return members if isinstance(members, list) else []


def member_dirs(run_dir: Path) -> list[Path]:
    return [run_dir / m["run_dir"] for m in member_runs(run_dir)]


def stage_files(run_dir: Path, name: str) -> list[Path]:
    """A record stage's file (`match.jsonl`, `fetch.rejects.jsonl`, ...): the run's own, or
    for a combined folder each member's. Publish's and the audit's outputs are never a
    member's: those are the combined folder's own."""
    members = [] if name.startswith(OWN_FILES) else member_dirs(run_dir)
    return [m / name for m in members] if members else [run_dir / name]


@dataclass(frozen=True)
class MemberRun:
    path: Path
    name: str  # venue-year, as a build names its run directory: iclr-2023, demo, local-papers
    venue: str
    year: int | None
    papers: frozenset[str]

    def sort_key(self) -> tuple:
        return (self.venue, self.year or 0, self.name)


def _recorded_settings(run_dir: Path):
    from .config import Settings

    path = run_dir / MANIFEST
    try:
        recorded = json.loads(path.read_text())["settings"]
        recorded = {k: v for k, v in dict(recorded).items() if not k.endswith("_set")}
        recorded["run_dir"] = str(run_dir)
        return Settings(**recorded)
    except OSError:
        raise InputError(f"{run_dir} has no {MANIFEST}: not a run directory made by "
                         "`autoscholar build`") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is damaged ({type(exc).__name__}): fix it or rerun the "
                         "member's build") from None


def open_member(run_dir: Path) -> MemberRun:
    """A run that can be combined: its match stage finished. Refused with one line otherwise."""
    from .io import read_jsonl
    from .records import Paper
    from .status import DONE, status

    if not (run_dir / "match.jsonl").exists():
        raise InputError(f"{run_dir} has no match.jsonl: finish its build first "
                         f"(autoscholar build --out {run_dir} ...)")
    settings = _recorded_settings(run_dir)
    rows, _ = status(settings, run_dir)
    match = next(r for r in rows if r.stage == "match")
    if match.state != DONE:
        raise InputError(f"{run_dir}: its match stage is {match.state} ({match.detail}): "
                         "rerun its build to finish it first")
    name = settings.model_copy(update={"run_dir": None}).resolved_run_dir().name
    papers = frozenset(p.paper_id for p in read_jsonl(run_dir / "fetch.jsonl", Paper))
    return MemberRun(run_dir, name, settings.venue, settings.year, papers)


def check_members(runs: list[MemberRun]) -> list[MemberRun]:
    """In venue-year order; refuses two runs of one venue-year or sharing a paper id (one
    paper's queries would then sit in two members and could straddle the splits)."""
    if not runs:
        raise InputError("nothing to combine: give at least one run directory")
    runs = sorted(runs, key=MemberRun.sort_key)
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            if a.name == b.name:
                raise InputError(f"{a.path} and {b.path} are both {a.name}: combine each "
                                 "venue-year once")
            shared = sorted(a.papers & b.papers)
            if shared:
                raise InputError(f"{a.path} and {b.path} share {len(shared)} paper id(s) "
                                 f"(first {shared[0]!r}): a paper may be in one member only")
    return runs


def _fingerprints(run_dir: Path) -> dict[str, str]:
    from .fingerprints import recorded
    from .stages import STAGES

    return {s.name: found["fingerprint"] for s in STAGES
            if s.key and (found := recorded(run_dir, s.name))}


def _relative(path: Path, out: Path) -> str:
    return os.path.relpath(path.resolve(), out.resolve())


def _write_manifest(out: Path, runs: list[MemberRun], settings, outputs: dict | None) -> None:
    from . import __version__
    from .io import count_lines, sha256_file, write_atomic

    members = [{"name": r.name, "venue": r.venue, "year": r.year,
                "run_dir": _relative(r.path, out), "papers": len(r.papers),
                "matched_queries": count_lines(r.path / "match.jsonl"),
                "match_sha256": sha256_file(r.path / "match.jsonl"),
                "fingerprints": _fingerprints(r.path)} for r in runs]
    shared = {k: v for k, v in settings.public_dict().items()
              if k not in ("venue", "year", "pdf_dir", "pdf_recursive")}
    manifest = {"tool": "autoscholar", "version": __version__, "combined": True,
                "members": members, "settings": shared}
    if outputs is not None:
        manifest["outputs"] = outputs
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str))


def _outputs(out: Path) -> dict[str, str]:
    from .io import sha256_file

    files = sorted(p for p in (out / "dataset").rglob("*") if p.is_file())
    files.append(out / "publish.rejects.jsonl")
    return {str(p.relative_to(out)): sha256_file(p) for p in files}


def check_out(out: Path) -> None:
    """The combined folder must not be a normal run directory: its manifest would be lost."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except OSError:
        return
    except ValueError:
        manifest = None
    if not (isinstance(manifest, dict) and manifest.get("combined")):
        raise InputError(f"{out} is a run directory, not a combined dataset's folder: choose "
                         "another --out")


def _combine_locked(run_dirs: list[Path], out: Path, settings) -> dict[str, dict]:
    from dataclasses import asdict

    from .audit import audit
    from .publish import publish

    runs = check_members([open_member(Path(d)) for d in run_dirs])
    for r in runs:
        if r.path.resolve() == out.resolve():
            raise InputError(f"{out} is a member run: --out must be another folder")
    _write_manifest(out, runs, settings, None)  # publish and the audit find the members here
    stats = {"publish": asdict(publish(settings, out))}
    stats["audit"] = asdict(audit(settings, out))
    _write_manifest(out, runs, settings, _outputs(out))
    return stats


def combined_settings(flags: dict, out: Path):
    """The settings of the combined publish (split seed and sizes, licence): the flags given,
    without a member's own venue, year and folder."""
    from .config import Settings

    shared = {k: v for k, v in flags.items() if k not in ("venue", "year", "pdf_dir", "run_dir")}
    return Settings(**shared, run_dir=out)


def merge(run_dirs: list[Path], out: Path, settings=None) -> dict[str, dict]:
    """`autoscholar merge`: publish and audit over runs made separately, into `out`."""
    from .lock import RunLock

    settings = settings or combined_settings({}, out)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        return _combine_locked(run_dirs, out, settings)


def member_settings(members, flags: dict, out: Path) -> list:
    """Each member's build settings: the shared flags, its venue-year, and its own run
    directory under `out`."""
    from .config import Settings

    shared = {k: v for k, v in flags.items() if k not in ("venue", "year", "pdf_dir", "run_dir")}
    return [Settings(**shared, venue=m.venue, year=m.year, pdf_dir=m.pdf_dir,
                     run_dir=out / m.name) for m in members]


def build_many(members, flags: dict, out: Path, redo_from: str | None = None,
               on_member=None) -> dict[str, dict]:
    """Build each member in venue-year order (each resumable on its own), then publish and
    audit them as one dataset under `out`. Returns {member name or "combined": stats}."""
    from .lock import RunLock
    from .stages import build

    runs = member_settings(members, flags, out)
    settings = combined_settings(flags, out)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    with RunLock(out):  # one multi-venue build per folder; each member also locks its own
        for member, member_run in zip(members, runs):
            results[member.name] = build(member_run, redo_from=redo_from)
            if on_member:
                on_member(member, results[member.name])
        results["combined"] = _combine_locked([r.resolved_run_dir() for r in runs], out,
                                              settings)
    return results
