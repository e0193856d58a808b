"""What a run directory holds, stage by stage, read from disk (never from a run's memory), so
`autoscholar status` and the manifest's totals agree with the files whoever wrote them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .config import Settings
from .errors import InputError
from .io import count_lines
from .publish import SPLITS
from .runner import read_done
from .stages import STAGES, Stage

DONE, PARTIAL, STALE, NOT_STARTED = "done", "partial", "stale", "not started"


@dataclass
class StageStatus:
    stage: str
    state: str  # done | partial | stale | not started
    records: int | None  # output records on disk (published rows for publish)
    rejects: int | None
    inputs: int | None = None  # inputs the stage has (record stages)
    finished: int | None = None  # of those, the ones it has finished
    detail: str = ""  # why it is stale or partial

    def as_dict(self) -> dict:
        return asdict(self)


def totals(run_dir: Path) -> dict[str, dict[str, int]]:
    """Records and rejects of each stage as they stand on disk (stages with files only)."""
    out = {}
    for stage in STAGES:
        records, rejects = _counts(run_dir, stage)
        if records is not None:
            out[stage.name] = {"records": records, "rejects": rejects}
    return out


def _counts(run_dir: Path, stage: Stage) -> tuple[int | None, int | None]:
    if stage.key:
        return (count_lines(run_dir / f"{stage.name}.jsonl"),
                count_lines(run_dir / f"{stage.name}.rejects.jsonl"))
    if stage.name == "publish":
        return (sum(count_lines(run_dir / "dataset" / f"{s}.jsonl") for s in SPLITS),
                count_lines(run_dir / "publish.rejects.jsonl"))
    return None, None


def _inputs(run_dir: Path, stage: Stage, settings: Settings) -> int:
    if stage.reads is None:  # fetch: the listing, cut to --limit as fetch cuts it
        listed = count_lines(run_dir / "listing.jsonl")
        return listed if settings.limit is None else min(listed, settings.limit)
    return count_lines(run_dir / f"{stage.reads}.jsonl")


def _started(run_dir: Path, stage: Stage) -> bool:
    if stage.key:
        from .fingerprints import has_output

        return has_output(run_dir, stage.name)
    if stage.name == "publish":
        return (run_dir / "dataset" / f"{SPLITS[0]}.jsonl").exists()
    return (run_dir / "audit" / "report.html").exists()


def status(settings: Settings, run_dir: Path) -> tuple[list[StageStatus], str]:
    """Each stage's state against `settings`, and a note when staleness could not be checked
    (for instance the arXiv index given does not exist)."""
    from . import fingerprints

    note = ""
    try:
        want = fingerprints.expected(settings, STAGES)
    except InputError as exc:
        want, note = {}, f"settings not checked against the run: {exc}"
    rows: list[StageStatus] = []
    upstream = DONE  # the state of the stage this one follows
    for stage in STAGES:
        records, rejects = _counts(run_dir, stage)
        row = StageStatus(stage.name, NOT_STARTED, records, rejects)
        if stage.key:
            row.inputs = _inputs(run_dir, stage, settings)
            row.finished = len(read_done(run_dir / f"{stage.name}.done"))
        if _started(run_dir, stage):
            reason = None
            if stage.name in want:
                try:
                    reason = fingerprints.stale_reason(run_dir, want[stage.name])
                except InputError as exc:  # a damaged <stage>.settings.json
                    reason = str(exc)
            if reason:
                row.state, row.detail = STALE, reason
            elif upstream == STALE:
                row.state, row.detail = STALE, "an earlier stage is stale"
            elif row.inputs is not None and row.finished < row.inputs:
                row.state = PARTIAL
                row.detail = f"{row.finished} of {row.inputs} inputs finished"
            elif upstream != DONE:
                row.state, row.detail = PARTIAL, "an earlier stage is not finished"
            else:
                row.state = DONE
        rows.append(row)
        upstream = row.state
    return rows, note


def lines(rows: list[StageStatus]) -> list[str]:
    """The table `autoscholar status` prints."""
    out = [f"{'stage':9s} {'state':12s} {'records':>8s} {'rejects':>8s}  detail"]
    for r in rows:
        num = lambda n: "-" if n is None else str(n)  # noqa: E731
        out.append(f"{r.stage:9s} {r.state:12s} {num(r.records):>8s} {num(r.rejects):>8s}  "
                   f"{r.detail}".rstrip())
    return out


def open_batches(run_dir: Path) -> list[dict]:
    """The --batch jobs of generate not yet collected (generate.batches.json): paid for at the
    endpoint, answered or not, so worth seeing before a rerun or a `rm -r`."""
    from .generate import batch

    try:
        jobs = batch.open_jobs(run_dir)
    except InputError as exc:  # a damaged state file: say so, the stage table still shows
        return [{"batch": None, "status": "unknown", "detail": str(exc)}]
    return [{"batch": job.id, "input_file": job.input_file_id, "status": job.status,
             "requests": len(job.keys), "completed": job.counts.get("completed"),
             "failed": job.counts.get("failed")} for job in jobs]


def batch_lines(batches: list[dict]) -> list[str]:
    out = []
    for b in batches:
        if b.get("detail"):
            out.append(f"batch: {b['detail']}")
            continue
        done = ("?" if b["completed"] is None
                else f"{b['completed']} completed, {b['failed'] or 0} failed")
        name = b["batch"] or f"(not created; upload {b['input_file']})"
        out.append(f"batch {name}: {b['status']}, {b['requests']} requests ({done}); "
                   "rerun generate with --batch to collect it")
    return out
