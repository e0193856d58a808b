"""The stages of a build, in order, and how to run them over a run directory.

runs/<venue>-<year>/
  listing.jsonl            the venue's papers as listed (fetched once)
  fetch.jsonl              Paper with a local PDF and its checksum
  parse.jsonl              ParsedPaper
  contexts.jsonl           CitationContext
  generate.jsonl           Query
  generate.batches.json    with --batch: the Batch API's batch and file ids, keys, statuses
  match.jsonl              MatchedQuery
  <stage>.rejects.jsonl    what a stage could not use, with the reason
  <stage>.done             input keys the stage has finished
  parse.tries.json         runs each PDF has timed out in (3, then a permanent reject)
  dataset/                 {train,dev,test}.jsonl, hf/ (parquet + card)
  audit/report.html        the data-quality report
  manifest.json            tool version, settings (no secrets), input checksums, counts:
                           per stage on disk (totals), and each command run here (history)

A new stage is one module with a function (settings, run_dir) -> stats and one line in STAGES.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path

from . import __version__, executors
from .config import Settings
from .errors import InputError
from .io import read_json, read_jsonl, write_atomic
from .records import Paper


@dataclass(frozen=True)
class Stage:
    name: str
    module: str  # where `name` is defined: a function (settings, run_dir) -> stats dataclass
    reads: str | None  # the stage whose <stage>.jsonl it reads (None: the listing, or nothing)
    key: tuple[str, ...] = ()  # path to the input key in each output record ('' = no records)
    counts: str = ""  # what one output record is, for the audit's funnel
    doc: str = ""  # the per-stage command's help
    settings: tuple[str, ...] = ()  # the Settings fields its output depends on
    version: int = 1  # bump when the stage's behaviour changes what it writes
    depends_on: tuple[str, ...] = ()  # "module:function" giving more values it depends on

    def function(self) -> Callable[[Settings, Path], object]:
        # Imported on use, so `autoscholar --help` does not load PyMuPDF, datasets or openai.
        return getattr(import_module(self.module, __package__), self.name)


STAGES: tuple[Stage, ...] = (
    Stage("fetch", ".fetch", None, ("paper_id",), "papers with a PDF",
          "Fetch stage only: list the venue's papers and download their PDFs.",
          # 2: NeurIPS 2018 starts on 2 December (its Expo day), not the 3rd
          settings=("venue", "year", "pdf_dir"), version=2,
          depends_on=(".sources.local:recursive_identity",)),
    Stage("parse", ".parse.stage", "fetch", ("paper", "paper_id"), "papers parsed",
          "Parse stage only: PDFs -> sections, citations and bibliography.",
          # 2: review line numbers, contents pages (issue 10); 3: a lone callout sentence joins
          # the one before; 4: a PDF with one line of body text parses (was rejected corrupt)
          settings=("parser",), version=4),
    Stage("contexts", ".contexts", "parse", ("source", "paper_id"), "citation contexts",
          "Contexts stage only: Related Work sections -> citation contexts.",
          settings=("sections", "front_matter_fallback"),
          depends_on=(".contexts:unit_identity",)),
    Stage("generate", ".generate.stage", "contexts", ("context", "context_id"),
          "queries generated", "Generate stage only: citation contexts -> queries (LLM or offline).",
          settings=("llm", "llm_base_url", "llm_temperature"),
          depends_on=(".generate:prompt_identity",)),
    Stage("match", ".match", "generate", ("query", "query_id"), "queries matched",
          "Match stage only: resolve answers to arXiv ids, drop leaks and duplicates.",
          settings=("match_threshold", "arxiv_online", "printed_id", "id_author_mismatch"),
          version=2, depends_on=(".match:index_identity",)),
    Stage("publish", ".publish", "match", (), "",
          "Publish stage only: dedup, split, write JSONL, parquet and a dataset card."),
    Stage("audit", ".audit", None, (), "", "Audit stage only: write audit/report.html."),
)
BY_NAME = {stage.name: stage for stage in STAGES}
NAMES = tuple(BY_NAME)


@dataclass
class Invocation:
    """One command run over a run directory, as manifest.json's history keeps it."""

    command: list[str]
    time: str
    counts: dict = field(default_factory=dict)  # stage -> its stats in this invocation
    _entry: int | None = None  # its place in the history, once written

    @classmethod
    def now(cls, argv: list[str] | None = None) -> "Invocation":
        import datetime as dt
        import sys

        from .config import redact_argv

        argv = list(sys.argv if argv is None else argv)
        if argv:
            argv[0] = Path(argv[0]).name
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return cls(command=redact_argv(argv), time=stamp.replace("+00:00", "Z"))

    def entry(self) -> dict:
        return {"time": self.time, "command": self.command, "stages": list(self.counts),
                "counts": self.counts}


def update_manifest(run_dir: Path, settings: Settings, stage: str, stats: dict,
                    invocation: Invocation | None = None) -> None:
    """Record one finished stage: its counts in this invocation (`stages`, and this
    invocation's entry in `history`) and every stage's records and rejects on disk (`totals`),
    which a resumed run's own counts (0 new outputs) do not show."""
    from .match import index_checksum
    from .status import totals

    path = run_dir / "manifest.json"
    manifest = read_json(path, "move it away and rerun (a new one is written; the stages' "
                         "files are intact)") if path.exists() else {}
    manifest["tool"] = "autoscholar"
    manifest["version"] = __version__
    manifest["settings"] = settings.public_dict()
    fetched = run_dir / "fetch.jsonl"
    manifest["inputs"] = {
        "pdfs": {p.paper_id: p.pdf_sha256 for p in read_jsonl(fetched, Paper)},
        "arxiv_index": index_checksum(run_dir, settings),
    }
    manifest.setdefault("stages", {})[stage] = stats
    manifest["totals"] = totals(run_dir)
    invocation = invocation or Invocation.now()
    invocation.counts[stage] = stats
    history = manifest.setdefault("history", [])
    if invocation._entry is None:
        history.append(invocation.entry())
        invocation._entry = len(history) - 1
    else:
        history[invocation._entry] = invocation.entry()
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True, default=str))


def _stage(name: str) -> Stage:
    if name not in BY_NAME:
        raise InputError(f"unknown stage {name!r}: one of {', '.join(NAMES)}")
    return BY_NAME[name]


def redo(run_dir: Path, stage: str) -> None:
    """Delete the output of `stage` and of every stage after it (never caches or PDFs), so the
    next run makes them anew with the settings given."""
    import shutil

    first = NAMES.index(_stage(stage).name)
    for later in STAGES[first:]:
        for suffix in (".jsonl", ".rejects.jsonl", ".done", ".settings.json", ".tries.json"):
            (run_dir / f"{later.name}{suffix}").unlink(missing_ok=True)
    if first == 0:
        for name in ("listing.jsonl", "listing.source.json"):
            (run_dir / name).unlink(missing_ok=True)
    for folder in ("dataset", "audit"):
        shutil.rmtree(run_dir / folder, ignore_errors=True)
    for later in STAGES[first:]:  # the Ray executor's unmerged shards (executors/parts.py)
        shutil.rmtree(run_dir / "parts" / later.name, ignore_errors=True)


def _run_one(stage: Stage, settings: Settings, run_dir: Path, want,
             invocation: Invocation) -> dict:
    from . import fingerprints

    if stage.name in want:
        fingerprints.check(run_dir, want[stage.name])
        fingerprints.remember(run_dir, want[stage.name])
    stats = asdict(stage.function()(settings, run_dir))
    update_manifest(run_dir, settings, stage.name, stats, invocation)
    return stats


def run_named(stage: str, settings: Settings, run_dir: Path, redo_from: str | None = None) -> dict:
    """Run one stage over a run directory and record its counts in manifest.json. Refuses
    (StaleStage) when the stage's output on disk was made with other settings."""
    from . import fingerprints
    from .lock import RunLock

    found = _stage(stage)
    with RunLock(run_dir):
        if redo_from:
            redo(run_dir, redo_from)
        want = fingerprints.expected(settings, STAGES)
        with executors.chosen(settings):
            return _run_one(found, settings, run_dir, want, Invocation.now())


def build(settings: Settings, stages: Iterable[str] = NAMES,
          redo_from: str | None = None) -> dict[str, dict]:
    """Every stage in order. Before any work, every stage already on disk is checked against
    the settings given, so a changed setting is refused at once, not after hours of fetching."""
    from . import fingerprints
    from .lock import RunLock

    stages = [_stage(name) for name in stages]
    if redo_from:
        _stage(redo_from)
    if any(s.name == "match" for s in stages):
        from .match import index_source

        index_source(settings)  # fail before hours of fetching and parsing, not at match
    run_dir = settings.resolved_run_dir()
    fresh = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot use {run_dir} as the run directory: {exc.strerror or exc}") from None
    try:
        with RunLock(run_dir):
            if redo_from:
                redo(run_dir, redo_from)
            want = fingerprints.expected(settings, STAGES)
            for stage in stages:
                if stage.name in want:
                    fingerprints.check(run_dir, want[stage.name])
            invocation = Invocation.now()
            with executors.chosen(settings):
                return {s.name: _run_one(s, settings, run_dir, want, invocation) for s in stages}
    except BaseException:
        if fresh:  # a run that failed before writing anything leaves no empty folder behind
            leftover = [p for p in run_dir.iterdir() if p.name != ".lock"] if run_dir.exists() else []
            if not leftover:
                (run_dir / ".lock").unlink(missing_ok=True)
                run_dir.rmdir()
        raise
