"""The stages of a build, in order, and how to run them over a run directory.

runs/<venue>-<year>/
  listing.jsonl            the venue's papers as listed (fetched once)
  fetch.jsonl              Paper with a local PDF and its checksum
  parse.jsonl              ParsedPaper
  contexts.jsonl           CitationContext
  generate.jsonl           Query
  match.jsonl              MatchedQuery
  <stage>.rejects.jsonl    what a stage could not use, with the reason
  <stage>.done             input keys the stage has finished
  dataset/                 {train,dev,test}.jsonl, hf/ (parquet + card)
  audit/report.html        the data-quality report
  manifest.json            tool version, settings (no secrets), input checksums, counts

A new stage is one module with a function (settings, run_dir) -> stats and one line in STAGES.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path

from . import __version__
from .config import Settings
from .errors import InputError
from .io import read_jsonl, write_atomic
from .records import Paper


@dataclass(frozen=True)
class Stage:
    name: str
    module: str  # where `name` is defined: a function (settings, run_dir) -> stats dataclass
    reads: str | None  # the stage whose <stage>.jsonl it reads (None: the listing, or nothing)
    key: tuple[str, ...] = ()  # path to the input key in each output record ('' = no records)
    counts: str = ""  # what one output record is, for the audit's funnel
    doc: str = ""  # the per-stage command's help

    def function(self) -> Callable[[Settings, Path], object]:
        # Imported on use, so `autoscholar --help` does not load PyMuPDF, datasets or openai.
        return getattr(import_module(self.module, __package__), self.name)


STAGES: tuple[Stage, ...] = (
    Stage("fetch", ".fetch", None, ("paper_id",), "papers with a PDF",
          "Fetch stage only: list the venue's papers and download their PDFs."),
    Stage("parse", ".parse.stage", "fetch", ("paper", "paper_id"), "papers parsed",
          "Parse stage only: PDFs -> sections, citations and bibliography."),
    Stage("contexts", ".contexts", "parse", ("source", "paper_id"), "citation contexts",
          "Contexts stage only: Related Work sections -> citation contexts."),
    Stage("generate", ".generate.stage", "contexts", ("context", "context_id"),
          "queries generated", "Generate stage only: citation contexts -> queries (LLM or offline)."),
    Stage("match", ".match", "generate", ("query", "query_id"), "queries matched",
          "Match stage only: resolve answers to arXiv ids, drop leaks and duplicates."),
    Stage("publish", ".publish", "match", (), "",
          "Publish stage only: dedup, split, write JSONL, parquet and a dataset card."),
    Stage("audit", ".audit", None, (), "", "Audit stage only: write audit/report.html."),
)
BY_NAME = {stage.name: stage for stage in STAGES}
NAMES = tuple(BY_NAME)


def update_manifest(run_dir: Path, settings: Settings, stage: str, stats: dict) -> None:
    from .match import index_checksum

    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    manifest["tool"] = "autoscholar"
    manifest["version"] = __version__
    manifest["settings"] = settings.public_dict()
    fetched = run_dir / "fetch.jsonl"
    manifest["inputs"] = {
        "pdfs": {p.paper_id: p.pdf_sha256 for p in read_jsonl(fetched, Paper)},
        "arxiv_index": index_checksum(run_dir, settings),
    }
    manifest.setdefault("stages", {})[stage] = stats
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True, default=str))


def run_named(stage: str, settings: Settings, run_dir: Path) -> dict:
    """Run one stage over a run directory and record its counts in manifest.json."""
    if stage not in BY_NAME:
        raise InputError(f"unknown stage {stage!r}: one of {', '.join(NAMES)}")
    stats = asdict(BY_NAME[stage].function()(settings, run_dir))
    update_manifest(run_dir, settings, stage, stats)
    return stats


def build(settings: Settings, stages: Iterable[str] = NAMES) -> dict[str, dict]:
    stages = list(stages)
    if "match" in stages:
        from .match import index_source

        index_source(settings)  # fail before hours of fetching and parsing, not at match
    run_dir = settings.resolved_run_dir()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot use {run_dir} as the run directory: {exc.strerror or exc}") from None
    return {stage: run_named(stage, settings, run_dir) for stage in stages}
