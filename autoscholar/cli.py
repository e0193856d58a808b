"""The command line: parses flags into Settings and calls the library. No logic of its own."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from . import __version__
from .config import PARSERS, VENUES, Settings
from .errors import AutoscholarError, InputError, os_error_line
from .stages import STAGES

app = typer.Typer(
    help="Build AutoScholarQuery-style datasets: scholarly search queries paired with the arXiv "
    "papers that answer them, mined from the Related Work sections of a venue's papers.\n\n"
    "Try it offline: autoscholar build --venue demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="The local arXiv metadata index.", no_args_is_help=True)
app.add_typer(index_app, name="arxiv-index")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def friendly(fn: Callable) -> Callable:
    """Bad input and failing services become one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AutoscholarError as exc:
            _fail(str(exc))
        except ValidationError as exc:
            err = exc.errors()[0]
            _fail(f"invalid setting {'.'.join(map(str, err['loc']))}: {err['msg']}", 2)
        except OSError as exc:  # disk full, read-only run directory: never a traceback
            _fail(os_error_line(exc))
        except KeyboardInterrupt:
            _fail("interrupted: finished work is saved; rerun the same command to continue", 130)

    return wrapper


def _split_sections(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _settings(**flags) -> Settings:
    given = {k: v for k, v in flags.items() if v is not None}
    if given.get("venue") not in (None, *VENUES):
        raise typer.BadParameter(f"--venue must be one of {', '.join(VENUES)}")
    if given.get("parser") not in (None, *PARSERS):
        raise typer.BadParameter(f"--parser must be one of {', '.join(PARSERS)}")
    if "sections" in given:
        given["sections"] = _split_sections(given["sections"])
    return Settings(**given)


def _llm_flags(json_mode, max_tokens, max_cost, price_in, price_out, price_file) -> dict:
    """The LLM flags that build and generate share, under their Settings names."""
    return {"llm_json_mode": json_mode, "llm_max_tokens": max_tokens, "llm_max_cost": max_cost,
            "llm_price_in": price_in, "llm_price_out": price_out, "llm_price_file": price_file}


def _settings_for_run(run_dir: Path, **flags) -> Settings:
    """A stage command on an existing run: the run's recorded settings, then the flags given."""
    manifest = run_dir / "manifest.json"
    if not run_dir.is_dir():
        raise typer.BadParameter(f"{run_dir} is not a run directory")
    try:
        recorded = json.loads(manifest.read_text())["settings"] if manifest.exists() else {}
        recorded = dict(recorded)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{manifest} is damaged ({type(exc).__name__}: {exc}): "
                         "fix or delete it and rerun `autoscholar build`") from None
    recorded = {k: v for k, v in recorded.items() if not k.endswith("_set")}
    recorded.update({k: v for k, v in flags.items() if v is not None})
    recorded["run_dir"] = str(run_dir)
    if isinstance(recorded.get("sections"), str):
        recorded["sections"] = _split_sections(recorded["sections"])
    return Settings(**recorded)


def _report(stats: dict[str, dict]) -> None:
    for stage, s in stats.items():
        if "processed" in s:
            line = (f"{stage:9s} {s['outputs']} out from {s['processed']} new inputs "
                    f"({s['skipped']} already done), {s['rejects']} rejected")
            if s["reasons"]:
                line += " " + json.dumps(s["reasons"], sort_keys=True)
            usage = (s.get("extra") or {}).get("usage")
            if usage:
                paid = usage["this_run"]
                cost = "unknown cost" if paid["cost_usd"] is None else f"${paid['cost_usd']:.4f}"
                line += (f"\n{'':9s} LLM this run: {paid['requests']} requests, "
                         f"{paid['prompt_tokens']} prompt + {paid['completion_tokens']} "
                         f"completion tokens, {cost}")
        elif stage == "publish":
            line = f"{stage:9s} {json.dumps(s['examples'])}, dropped {json.dumps(s['rejects'])}"
        else:
            line = f"{stage:9s} {json.dumps(s)}"
        typer.echo(line, err=True)


VenueOpt = typer.Option(None, help=f"Venue: {', '.join(VENUES)}. 'demo' is offline and bundled.")
YearOpt = typer.Option(None, help="Conference year.")
PdfDirOpt = typer.Option(None, "--pdf-dir", help="Folder of PDFs (with --venue local).")
OutOpt = typer.Option(None, "--out", help="Run directory (default: runs/<venue>-<year>).")
ParserOpt = typer.Option(None, help="PDF parser: pymupdf (embedded, default) or grobid.")
GrobidOpt = typer.Option(None, "--grobid-url", help="Grobid server (default: http://localhost:8070).")
LlmOpt = typer.Option(None, "--llm", help="Model for query generation, or 'none' for the "
                      "deterministic offline generator (default). Key: AUTOSCHOLAR_LLM_API_KEY "
                      "or OPENAI_API_KEY.")
LlmUrlOpt = typer.Option(None, "--llm-base-url", help="OpenAI-compatible endpoint (vLLM, "
                         "Ollama), e.g. http://localhost:8000/v1.")
IndexOpt = typer.Option(None, "--arxiv-index", help="arXiv index built by `arxiv-index build`, "
                        "or a Kaggle-format snapshot to build one from.")
LimitOpt = typer.Option(None, "--limit", min=1, help="Only the first N papers.")
SectionsOpt = typer.Option(None, "--sections", help="Comma-separated section headings to mine "
                           "(default: Related Work and its variants).")
ThresholdOpt = typer.Option(None, "--match-threshold", help="Fuzzy title match threshold 0-100.")
RedoOpt = typer.Option(None, "--redo", metavar="STAGE", help="Redo this stage and every "
                       "stage after it with the settings given (their old output is deleted; "
                       "PDFs and paid LLM answers stay cached). Needed when a setting that a "
                       "finished stage depends on has changed.")
JsonModeOpt = typer.Option(None, "--llm-json-mode", help="How to ask for JSON: auto (default: "
                           "json_schema, else json_object with the schema, else plain text; the "
                           "one that works is remembered per endpoint), json_schema, "
                           "json_object or text.")
MaxTokensOpt = typer.Option(None, "--llm-max-tokens", min=16, help="Most tokens per answer "
                            "(default 1024); a longer answer is a reject, not a crash.")
MaxCostOpt = typer.Option(None, "--max-cost", metavar="USD", min=0, help="Stop generate, "
                          "everything so far saved, before this run's LLM spend (paid plus in "
                          "flight, counted at most) would pass USD.")
PriceInOpt = typer.Option(None, "--price-in", min=0, help="USD per 1M prompt tokens (overrides "
                          "the price table).")
PriceOutOpt = typer.Option(None, "--price-out", min=0, help="USD per 1M completion tokens "
                           "(overrides the price table).")
PriceFileOpt = typer.Option(None, "--price-file", help="A price table like the bundled "
                            "data/prices.json.")
DryRunOpt = typer.Option(False, "--dry-run", help="Count the LLM requests the run would send "
                         "(after the cache), their tokens and cost, sync and batch; send none. "
                         "build --dry-run runs fetch, parse and contexts first (no LLM).")
OnlineOpt = typer.Option(None, "--online/--offline", help="Ask the arXiv API (rate-limited, "
                         "cached) for references the local index does not hold (default: off).")


@app.command()
@friendly
def build(
    venue: str = typer.Option("demo", help=VenueOpt.help),
    year: Optional[int] = YearOpt,
    pdf_dir: Optional[Path] = PdfDirOpt,
    out: Optional[Path] = OutOpt,
    parser: Optional[str] = ParserOpt,
    grobid_url: Optional[str] = GrobidOpt,
    llm: Optional[str] = LlmOpt,
    llm_base_url: Optional[str] = LlmUrlOpt,
    arxiv_index: Optional[Path] = IndexOpt,
    limit: Optional[int] = LimitOpt,
    sections: Optional[str] = SectionsOpt,
    match_threshold: Optional[float] = ThresholdOpt,
    online: Optional[bool] = OnlineOpt,
    redo: Optional[str] = RedoOpt,
    llm_json_mode: Optional[str] = JsonModeOpt,
    llm_max_tokens: Optional[int] = MaxTokensOpt,
    max_cost: Optional[float] = MaxCostOpt,
    price_in: Optional[float] = PriceInOpt,
    price_out: Optional[float] = PriceOutOpt,
    price_file: Optional[Path] = PriceFileOpt,
    dry_run: bool = DryRunOpt,
) -> None:
    """Run every stage (fetch, parse, contexts, generate, match, publish, audit). Resumable:
    rerun the same command after an interruption and it finishes without redoing work."""
    from .stages import build as run_build

    settings = _settings(venue=venue, year=year, pdf_dir=pdf_dir, run_dir=out, parser=parser,
                         grobid_url=grobid_url, llm=llm, llm_base_url=llm_base_url,
                         arxiv_index=arxiv_index, limit=limit, sections=sections,
                         match_threshold=match_threshold, arxiv_online=online,
                         **_llm_flags(llm_json_mode, llm_max_tokens, max_cost, price_in,
                                      price_out, price_file))
    if settings.venue == "local" and settings.pdf_dir is None:
        raise typer.BadParameter("--venue local needs --pdf-dir")
    if dry_run:
        from .stages import NAMES

        _report(run_build(settings, stages=NAMES[:NAMES.index("generate")], redo_from=redo))
        _dry_run(settings, settings.resolved_run_dir())
        return
    stats = run_build(settings, redo_from=redo)
    _report(stats)
    run_dir = settings.resolved_run_dir()
    typer.echo(f"dataset: {run_dir / 'dataset'}\nreport:  {run_dir / 'audit' / 'report.html'}")


@app.command()
@friendly
def status(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    venue: Optional[str] = VenueOpt,
    year: Optional[int] = YearOpt,
    pdf_dir: Optional[Path] = PdfDirOpt,
    parser: Optional[str] = ParserOpt,
    grobid_url: Optional[str] = GrobidOpt,
    llm: Optional[str] = LlmOpt,
    llm_base_url: Optional[str] = LlmUrlOpt,
    llm_json_mode: Optional[str] = JsonModeOpt,
    llm_max_tokens: Optional[int] = MaxTokensOpt,
    arxiv_index: Optional[Path] = IndexOpt,
    limit: Optional[int] = LimitOpt,
    sections: Optional[str] = SectionsOpt,
    match_threshold: Optional[float] = ThresholdOpt,
    online: Optional[bool] = OnlineOpt,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per stage instead."),
) -> None:
    """Each stage of a run: done, partial, stale (made with other settings than the run's own,
    changed by the options given, which are build's) or not started, with counts from disk."""
    from .status import lines, status as run_status

    settings = _settings_for_run(run_dir, venue=venue, year=year, pdf_dir=pdf_dir, parser=parser,
                                 grobid_url=grobid_url, llm=llm, llm_base_url=llm_base_url,
                                 llm_json_mode=llm_json_mode, llm_max_tokens=llm_max_tokens,
                                 arxiv_index=arxiv_index, limit=limit, sections=sections,
                                 match_threshold=match_threshold, arxiv_online=online)
    rows, note = run_status(settings, run_dir)
    for line in ([json.dumps(r.as_dict()) for r in rows] if as_json else lines(rows)):
        typer.echo(line)
    if note:
        typer.echo(f"note: {note}", err=True)


def _stage_command(stage: str, doc: str) -> None:
    def command(
        run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
        parser: Optional[str] = ParserOpt,
        grobid_url: Optional[str] = GrobidOpt,
        llm: Optional[str] = LlmOpt,
        llm_base_url: Optional[str] = LlmUrlOpt,
        arxiv_index: Optional[Path] = IndexOpt,
        match_threshold: Optional[float] = ThresholdOpt,
        online: Optional[bool] = OnlineOpt,
        redo: bool = typer.Option(False, "--redo", help="Redo this stage and every stage "
                                  "after it with the settings given (PDFs and paid LLM "
                                  "answers stay cached)."),
    ) -> None:
        from .stages import run_named

        settings = _settings_for_run(run_dir, parser=parser, grobid_url=grobid_url, llm=llm,
                                     llm_base_url=llm_base_url, arxiv_index=arxiv_index,
                                     match_threshold=match_threshold, arxiv_online=online)
        _report({stage: run_named(stage, settings, run_dir, redo_from=stage if redo else None)})

    command.__doc__ = doc
    app.command(name=stage)(friendly(command))


# publish (--push-to-hub), contexts (also takes one PDF) and generate (LLM spending) have
# commands of their own below.
for _stage in STAGES:
    if _stage.name not in ("publish", "contexts", "generate"):
        _stage_command(_stage.name, _stage.doc)


def _dry_run(settings: Settings, run_dir: Path) -> None:
    from .generate.plan import plan

    for line in plan(settings, run_dir).lines():
        typer.echo(line)


@app.command()
@friendly
def generate(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    llm: Optional[str] = LlmOpt,
    llm_base_url: Optional[str] = LlmUrlOpt,
    llm_json_mode: Optional[str] = JsonModeOpt,
    llm_max_tokens: Optional[int] = MaxTokensOpt,
    max_cost: Optional[float] = MaxCostOpt,
    price_in: Optional[float] = PriceInOpt,
    price_out: Optional[float] = PriceOutOpt,
    price_file: Optional[Path] = PriceFileOpt,
    dry_run: bool = DryRunOpt,
    redo: bool = typer.Option(False, "--redo", help="Redo this stage and every stage after it "
                              "with the settings given (paid LLM answers stay cached)."),
) -> None:
    """Generate stage only: citation contexts -> queries, offline or through an LLM."""
    from .stages import run_named

    settings = _settings_for_run(run_dir, llm=llm, llm_base_url=llm_base_url,
                                 **_llm_flags(llm_json_mode, llm_max_tokens, max_cost,
                                              price_in, price_out, price_file))
    if dry_run:
        _dry_run(settings, run_dir)
        return
    _report({"generate": run_named("generate", settings, run_dir,
                                   redo_from="generate" if redo else None)})



@app.command()
@friendly
def publish(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    push_to_hub: Optional[str] = typer.Option(
        None, "--push-to-hub", metavar="OWNER/NAME",
        help="Then push dataset/hf (parquet + card) to this Hugging Face dataset repo, created if "
        "missing. Token: AUTOSCHOLAR_HUB_TOKEN or HF_TOKEN. HF_ENDPOINT picks another Hub."),
    private: bool = typer.Option(False, "--private", help="Create the Hub repo as private."),
) -> None:
    """Publish stage only: dedup, split, write JSONL, parquet and a dataset card; with
    --push-to-hub, also upload the parquet files and card to the Hugging Face Hub."""
    from .hub import push
    from .stages import run_named

    settings = _settings_for_run(run_dir)
    _report({"publish": run_named("publish", settings, run_dir)})
    if push_to_hub:
        token = settings.hub_token.get_secret_value() if settings.hub_token else None
        url = push(run_dir / "dataset" / "hf", push_to_hub, token, private=private)
        typer.echo(f"pushed:  {url}")


@app.command()
@friendly
def contexts(
    path: Path = typer.Argument(..., help="A PDF, or a run directory to run the contexts stage."),
    parser: Optional[str] = ParserOpt,
    grobid_url: Optional[str] = GrobidOpt,
    sections: Optional[str] = SectionsOpt,
    redo: bool = typer.Option(False, "--redo", help="With a run directory: redo the contexts "
                              "stage and every stage after it with the settings given."),
) -> None:
    """Print the citation contexts of one PDF as JSON lines, or run the contexts stage."""
    from .contexts import contexts_for
    from .parse.stage import parse_papers
    from .records import Paper, Reject
    from .stages import run_named

    if path.is_dir():
        settings = _settings_for_run(path, parser=parser, grobid_url=grobid_url,
                                     sections=sections)
        _report({"contexts": run_named("contexts", settings, path,
                                       redo_from="contexts" if redo else None)})
        return
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}")
    settings = _settings(parser=parser, grobid_url=grobid_url, sections=sections, parse_workers=1)
    paper = Paper(paper_id=path.stem, venue="local", title=path.stem)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        [(paper, result)] = list(parse_papers([(paper, path)], settings, Path(tmp)))
    if isinstance(result, Exception):
        _fail(f"{path.name}: {result}")
    found = contexts_for(result, settings)
    if isinstance(found, Reject):
        _fail(f"{path.name}: {found.reason} ({found.detail})")
    for ctx in found:
        typer.echo(json.dumps({
            "section": ctx.section,
            "text": ctx.text,
            "refs": [{"key": r.key, "raw": r.raw, "title": r.title} for r in ctx.refs],
        }, ensure_ascii=False))


@index_app.command("build")
@friendly
def index_build(
    snapshot: Path = typer.Argument(..., help="Kaggle arXiv metadata snapshot: JSON lines, "
                                    "plain, .gz or .zip."),
    out: Path = typer.Option(..., "--out", help="Where to write the index."),
) -> None:
    """Build the local arXiv index from the Kaggle arXiv metadata snapshot."""
    import time

    from .arxiv.index import build_index, load_index
    from .progress import counter

    if not snapshot.is_file():
        raise typer.BadParameter(f"no such file: {snapshot}")
    with counter("arXiv records read") as bar:
        task = bar.task_ids[0]
        stats = asdict(build_index(snapshot, out,
                                     progress=lambda n: bar.update(task, completed=n)))
    start = time.perf_counter()
    load_index(out)
    stats["load_seconds"] = round(time.perf_counter() - start, 4)
    typer.echo(json.dumps(stats, default=str))


@app.command()
@friendly
def resolve(
    file: str = typer.Argument("-", help="One raw reference string per line; '-' for stdin."),
    index: Path = typer.Option(..., "--index", help="arXiv index (from `arxiv-index build`)."),
    threshold: float = typer.Option(90.0, help="Fuzzy title match threshold 0-100."),
) -> None:
    """Resolve reference strings to arXiv ids: one JSON line per input line."""
    from .arxiv.index import load_index
    from .arxiv.resolve import resolve_raw

    loaded = load_index(index)
    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        with stream:
            for line in stream:
                ref = line.strip()
                if not ref:
                    continue
                r = resolve_raw(ref, loaded, threshold)
                out = {"ref": ref, "arxiv_id": r.arxiv_id, "title": r.title, "method": r.method,
                       "score": r.score}
                if r.arxiv_id is None:
                    out["reason"] = r.reason
                typer.echo(json.dumps(out, ensure_ascii=False))
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


if __name__ == "__main__":
    app()
