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
from .stages import BY_NAME, STAGES

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


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("autoscholar")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return __version__


def _show_version(given: bool) -> None:
    if given:
        typer.echo(f"autoscholar {_installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Build AutoScholarQuery-style datasets: scholarly search queries paired with the arXiv
    papers that answer them, mined from the Related Work sections of a venue's papers.

    Try it offline: autoscholar build --venue demo"""


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
            msg = err["msg"].removeprefix("Value error, ")
            where = ".".join(map(str, err["loc"]))
            _fail(f"invalid setting {where}: {msg}" if where else msg, 2)
        except OSError as exc:  # disk full, read-only run directory: never a traceback
            _fail(os_error_line(exc))
        except KeyboardInterrupt:
            _fail("interrupted: finished work is saved; rerun the same command to continue", 130)

    return wrapper


def _split_sections(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _query_checks(text: str | None) -> dict | None:
    """'multi-condition=reject,long-question=off' -> a mapping; Settings checks the names."""
    if text is None:
        return None
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        check, eq, action = part.partition("=")
        if not eq or action.strip() not in ("reject", "flag", "off"):
            raise typer.BadParameter(f"--query-checks wants CHECK=reject|flag|off, got {part!r}")
        out[check.strip()] = action.strip()
    return out


def _given(**flags) -> dict:
    """The flags given, under their Settings names, with venue and parser checked."""
    given = {k: v for k, v in flags.items() if v is not None}
    if given.get("venue") not in (None, *VENUES):
        raise typer.BadParameter(f"--venue must be one of {', '.join(VENUES)}")
    if given.get("parser") not in (None, *PARSERS):
        raise typer.BadParameter(f"--parser must be one of {', '.join(PARSERS)}")
    if "sections" in given:
        given["sections"] = _split_sections(given["sections"])
    return given


def _settings(**flags) -> Settings:
    return Settings(**_given(**flags))


# Flags that the other settings make pointless: given anyway, they are refused rather than
# silently ignored (a user who passes --grobid-url believes Grobid parses). Each row: the
# Settings field, its flag, and when the build would not use it.
UNUSED_WHEN: tuple[tuple[str, str, Callable[[Settings], bool], str], ...] = (
    ("pdf_dir", "--pdf-dir", lambda s: s.venue != "local", "only --venue local reads a folder"),
    ("pdf_recursive", "--recursive", lambda s: s.venue != "local",
     "only --venue local reads a folder"),
    ("year", "--year", lambda s: s.venue == "demo", "the demo corpus has no years"),
    ("grobid_url", "--grobid-url", lambda s: s.parser != "grobid", "only --parser grobid uses it"),
    ("grobid_concurrency", "--grobid-concurrency", lambda s: s.parser != "grobid",
     "only --parser grobid uses it"),
    *((field, flag, lambda s: s.llm == "none", "the offline generator (--llm none) sends no "
       "request") for field, flag in (
        ("llm_base_url", "--llm-base-url"), ("llm_json_mode", "--llm-json-mode"),
        ("llm_max_tokens", "--llm-max-tokens"), ("llm_max_cost", "--max-cost"),
        ("llm_price_in", "--price-in"), ("llm_price_out", "--price-out"),
        ("llm_price_file", "--price-file"))),
    *((field, flag, lambda s: s.executor != "ray", "only --executor ray uses it")
      for field, flag in (("ray_address", "--ray-address"), ("shard_size", "--shard-size"))),
)


def refuse_unused(settings: Settings, given: dict) -> None:
    for field, flag, unused, why in UNUSED_WHEN:
        if given.get(field) is not None and unused(settings):
            raise InputError(f"{flag} is not used here: {why}")


def _llm_flags(json_mode, max_tokens, max_cost, price_in, price_out, price_file, batch=None,
               batch_poll=None) -> dict:
    """The LLM flags that build and generate share, under their Settings names."""
    return {"llm_json_mode": json_mode, "llm_max_tokens": max_tokens, "llm_max_cost": max_cost,
            "llm_price_in": price_in, "llm_price_out": price_out, "llm_price_file": price_file,
            "llm_batch": batch, "llm_batch_poll": batch_poll}


def _match_flags(printed_id, id_author_mismatch) -> dict:
    """The match-policy flags that build, match and status share, under their Settings names
    (Settings refuses a value outside its Literal with one line)."""
    return {"printed_id": printed_id, "id_author_mismatch": id_author_mismatch}


def _executor_flags(executor, ray_address, shard_size) -> dict:
    """The flags choosing where stages run (executors/), under their Settings names."""
    return {"executor": executor, "ray_address": ray_address, "shard_size": shard_size}


def _check_batch(settings: Settings) -> None:
    """Before any stage runs: --batch is about requests, and the offline generator sends none."""
    if settings.llm_batch and settings.llm == "none":
        raise InputError("--batch needs a model (--llm NAME): the offline generator sends no "
                         "requests")


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
    if isinstance(recorded.get("query_checks"), dict) and flags.get("query_checks"):
        flags["query_checks"] = {**recorded["query_checks"], **flags["query_checks"]}
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
            retries = (s.get("extra") or {}).get("retries")
            if retries:  # fetch: the retries a flaky host cost, by cause
                line += f"\n{'':9s} retries {json.dumps(retries, sort_keys=True)}"
            usage = (s.get("extra") or {}).get("usage")
            if usage:
                paid = usage["this_run"]
                cost = "unknown cost" if paid["cost_usd"] is None else f"${paid['cost_usd']:.4f}"
                batched = (f" ({paid['batch_requests']} by batch)"
                           if paid.get("batch_requests") else "")
                line += (f"\n{'':9s} LLM this run: {paid['requests']} requests{batched}, "
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
ContextUnitOpt = typer.Option(None, "--context-unit", help="What one prompt shows the model: "
                              "paragraph (default: each citing paragraph) or section (a whole "
                              "Related Work section with its subsections, as PaSa did).")
QueryChecksOpt = typer.Option(None, "--query-checks", metavar="CHECK=ACTION,...", help="What a "
                              "failed check of a model's query does: reject, flag or off, e.g. "
                              "'multi-condition=reject,author-in-question=flag'. Checks: "
                              "unknown-key, empty-question, long-question, title-in-question, "
                              "author-in-question (reject by default), multi-condition (flag).")
BatchOpt = typer.Option(None, "--batch/--no-batch", help="Send generate's requests through the "
                        "OpenAI Batch API (half price, done within 24 h); a killed run resumes "
                        "the same batch and never pays twice.")
BatchPollOpt = typer.Option(None, "--batch-poll", metavar="SECONDS", min=0.01, help="Seconds "
                            "between polls of an open batch (default 30).")
MaxErrorRateOpt = typer.Option(None, "--max-error-rate", help="Exit non-zero when a stage "
                               "failed (download, parse, malformed LLM output; not inputs that "
                               "do not qualify) on more than this share of its inputs, counted "
                               "on disk (default 0.5).")
FetchWorkersOpt = typer.Option(None, "--fetch-workers", min=1, help="PDF downloads at once "
                               "(default 4); each host still gets no more than its own limit.")
HostRateOpt = typer.Option(None, "--host-rate", metavar="HOST=RPS[:INFLIGHT]", help="Requests "
                           "per second and at once for one host, e.g. aclanthology.org=0.5:2 "
                           "(repeatable; replaces that host's default: README, 'Downloads').")
RetryAfterCapOpt = typer.Option(None, "--retry-after-cap", metavar="SECONDS", min=0,
                                help="Longest Retry-After of a 429/503 that is waited on "
                                "(default 600); a server asking for more fails that download "
                                "as transient, retried by the next run.")
DeadlineOpt = typer.Option(None, "--download-deadline", metavar="SECONDS", min=1, help="Most "
                           "time one PDF may take, retries and waits included (default 1800).")
GrobidConcOpt = typer.Option(None, "--grobid-concurrency", min=1, help="PDFs in flight to "
                             "Grobid (default 10, Grobid's default engine pool); a smaller "
                             "pool's 503s are retried with back-off.")
ExecutorOpt = typer.Option(None, "--executor", help="Where each stage's inputs are worked "
                           "on: local (this process and its workers, default) or ray (shards "
                           "as Ray tasks; pip install 'autoscholar[ray]').")
RayAddressOpt = typer.Option(None, "--ray-address", help="With --executor ray: the cluster to "
                             "join (e.g. auto, or ray://HEAD:10001); default: start Ray on this "
                             "machine. The run directory must be on storage every node sees.")
ShardSizeOpt = typer.Option(None, "--shard-size", min=1, help="With --executor ray: inputs per "
                            "Ray task (default 32).")
OnlineOpt = typer.Option(None, "--online/--offline", help="Ask the arXiv API (rate-limited, "
                         "cached) for references the local index does not hold (default: off).")
PrintedIdOpt = typer.Option(None, "--printed-id", metavar="POLICY", help="A well-formed "
                            "arXiv id printed in a reference that the index lacks: keep "
                            "(default: kept as an answer marked unverified), verify (ask the "
                            "arXiv API, rate-limited and cached; an id it does not know is "
                            "dropped as not-on-arxiv) or drop (dropped as id-not-in-index).")
IdAuthorMismatchOpt = typer.Option(None, "--id-author-mismatch", metavar="POLICY", help="A "
                                   "printed arXiv id whose record names other authors (and "
                                   "another title): title (default: the printed title decides; "
                                   "no title match, no answer) or id (the id stands). Either "
                                   "way flagged id-author-mismatch.")


@app.command()
@friendly
def build(
    venue: Optional[list[str]] = typer.Option(
        None, help=VenueOpt.help + " (default: demo, or AUTOSCHOLAR_VENUE). Repeat it for one "
        "dataset over several venue-years, each written VENUE:YEAR (iclr:2023), demo, or "
        "local:FOLDER: one run per venue-year under --out, then one dataset over all."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", metavar="FILE.toml", help="A TOML "
                                          "recipe file: its list of venues, optionally the out "
                                          "folder and shared settings (README: Many venues)."),
    year: Optional[int] = YearOpt,
    pdf_dir: Optional[Path] = PdfDirOpt,
    recursive: Optional[bool] = typer.Option(None, "--recursive", help="With --venue local: "
                                             "also the PDFs in --pdf-dir's sub-folders."),
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
    printed_id: Optional[str] = PrintedIdOpt,
    id_author_mismatch: Optional[str] = IdAuthorMismatchOpt,
    redo: Optional[str] = RedoOpt,
    llm_json_mode: Optional[str] = JsonModeOpt,
    llm_max_tokens: Optional[int] = MaxTokensOpt,
    max_cost: Optional[float] = MaxCostOpt,
    price_in: Optional[float] = PriceInOpt,
    price_out: Optional[float] = PriceOutOpt,
    price_file: Optional[Path] = PriceFileOpt,
    batch: Optional[bool] = BatchOpt,
    batch_poll: Optional[float] = BatchPollOpt,
    dry_run: bool = DryRunOpt,
    context_unit: Optional[str] = ContextUnitOpt,
    query_checks: Optional[str] = QueryChecksOpt,
    max_error_rate: Optional[float] = MaxErrorRateOpt,
    fetch_workers: Optional[int] = FetchWorkersOpt,
    host_rate: Optional[list[str]] = HostRateOpt,
    retry_after_cap: Optional[float] = RetryAfterCapOpt,
    download_deadline: Optional[float] = DeadlineOpt,
    grobid_concurrency: Optional[int] = GrobidConcOpt,
    executor: Optional[str] = ExecutorOpt,
    ray_address: Optional[str] = RayAddressOpt,
    shard_size: Optional[int] = ShardSizeOpt,
) -> None:
    """Run every stage (fetch, parse, contexts, generate, match, publish, audit). Resumable:
    rerun the same command after an interruption and it finishes without redoing work."""
    from .stages import build as run_build

    shared = dict(pdf_recursive=recursive, parser=parser,
                  grobid_url=grobid_url, llm=llm, llm_base_url=llm_base_url,
                  arxiv_index=arxiv_index, limit=limit, sections=sections,
                  match_threshold=match_threshold, arxiv_online=online,
                  context_unit=context_unit, query_checks=_query_checks(query_checks),
                  max_error_rate=max_error_rate, fetch_workers=fetch_workers,
                  host_rates=host_rate or None, retry_after_cap=retry_after_cap,
                  download_deadline=download_deadline,
                  grobid_concurrency=grobid_concurrency,
                  **_match_flags(printed_id, id_author_mismatch),
                  **_executor_flags(executor, ray_address, shard_size),
                  **_llm_flags(llm_json_mode, llm_max_tokens, max_cost, price_in,
                               price_out, price_file, batch, batch_poll))
    venues = venue or []
    if recipe is not None or len(venues) > 1 or any(":" in v for v in venues):
        _build_many(venues, recipe, year, pdf_dir, out, shared, redo, dry_run)
        return
    settings = _settings(venue=venues[0] if venues else None, year=year, pdf_dir=pdf_dir,
                         run_dir=out, **shared)
    if settings.venue == "local" and settings.pdf_dir is None:
        raise typer.BadParameter("--venue local needs --pdf-dir")
    refuse_unused(settings, {"pdf_dir": pdf_dir, "pdf_recursive": recursive, "year": year,
                             "grobid_url": grobid_url, "grobid_concurrency": grobid_concurrency,
                             **_llm_flags(llm_json_mode, llm_max_tokens, max_cost, price_in,
                                          price_out, price_file),
                             "llm_base_url": llm_base_url,
                             **_executor_flags(None, ray_address, shard_size)})
    _check_batch(settings)
    if dry_run:
        from .stages import NAMES

        _report(run_build(settings, stages=NAMES[:NAMES.index("generate")], redo_from=redo))
        _dry_run(settings, settings.resolved_run_dir())
        return
    from .preflight import preflight

    failed = preflight(settings)
    if failed:  # before any fetch, and before a run folder exists
        for line in failed[:-1]:
            typer.echo(f"error: {line}", err=True)
        _fail(failed[-1])
    stats = run_build(settings, redo_from=redo)
    _report(stats)
    run_dir = settings.resolved_run_dir()
    typer.echo(f"dataset: {run_dir / 'dataset'}\nreport:  {run_dir / 'audit' / 'report.html'}")
    from .verdict import problems

    found = problems(run_dir, stats, settings.max_error_rate)
    if found:
        _fail("; ".join(found))


def _preflight_all(runs: list[Settings]) -> None:
    from .preflight import preflight

    failed = list(dict.fromkeys(line for s in runs for line in preflight(s)))
    if failed:  # before any member fetches, and before any folder exists
        for line in failed[:-1]:
            typer.echo(f"error: {line}", err=True)
        _fail(failed[-1])


def _build_many(venues: list[str], recipe: Path | None, year: int | None, pdf_dir: Path | None,
                out: Path | None, flags: dict, redo: str | None, dry_run: bool) -> None:
    """build with several venue-years (or a recipe): combine.build_many, its refusals first."""
    from .combine import build_many, member_settings
    from .recipe import load_recipe, members_of
    from .verdict import problems

    if pdf_dir is not None:
        raise InputError("--pdf-dir is for one venue: beside others, give each folder as "
                         "--venue local:FOLDER")
    if dry_run:
        raise InputError("--dry-run takes one venue at a time: --venue VENUE --year YEAR")
    shared: dict = {}
    if recipe is not None:
        if venues:
            raise InputError("--venue and --recipe both list venues: give them in one place")
        if year is not None:
            raise InputError("--year with --recipe: write each year in the recipe's venues")
        members, shared, recipe_out = load_recipe(recipe)
        out = out or recipe_out
    else:
        members = members_of(venues, year)
    if out is None:
        raise InputError("several venues need --out FOLDER (or out = in the recipe): each "
                         "venue-year's run and the combined dataset go there")
    given = {**shared, **_given(**flags)}
    if given.get("pdf_recursive") and not any(m.venue == "local" for m in members):
        raise InputError("--recursive is not used here: only --venue local:FOLDER reads a folder")
    runs = member_settings(members, given, out)
    for settings in runs:
        refuse_unused(settings, {"grobid_url": given.get("grobid_url"),
                                 "llm_base_url": given.get("llm_base_url"),
                                 **{k: given.get(k) for k in _llm_flags(*[None] * 6)}})
        _check_batch(settings)
    _preflight_all(runs)

    def built(member, stats: dict) -> None:
        typer.echo(f"== {member.name} ({out / member.name})", err=True)
        _report(stats)

    results = build_many(members, given, out, redo_from=redo, on_member=built)
    typer.echo(f"== combined ({len(members)} runs)", err=True)
    _report(results["combined"])
    typer.echo(f"dataset: {out / 'dataset'}\nreport:  {out / 'audit' / 'report.html'}")
    found = [f"{m.name}: {line}" for m, s in zip(members, runs)
             for line in problems(s.resolved_run_dir(), results[m.name], s.max_error_rate)]
    found += problems(out, results["combined"], runs[0].max_error_rate)
    if found:
        _fail("; ".join(found))


@app.command()
@friendly
def merge(
    run_dirs: list[Path] = typer.Argument(..., help="Run directories made by `autoscholar "
                                          "build`, one per venue-year, in any order."),
    out: Path = typer.Option(..., "--out", help="Folder of the combined dataset (dataset/, "
                             "audit/, manifest.json listing the runs)."),
    dev_size: Optional[float] = typer.Option(None, "--dev-size", help="As publish's."),
    test_size: Optional[float] = typer.Option(None, "--test-size", help="As publish's."),
    license: Optional[str] = typer.Option(None, "--license", help="As publish's."),
) -> None:
    """One dataset over runs made separately: near-duplicates removed across them, split by
    source paper, audited with a row per venue-year. The same runs give the same bytes in any
    order."""
    from .combine import combined_settings, merge as run_merge
    from .verdict import problems

    settings = combined_settings(_given(dev_size=dev_size, test_size=test_size,
                                        license=license), out)
    stats = run_merge(run_dirs, out, settings)
    _report(stats)
    typer.echo(f"dataset: {out / 'dataset'}\nreport:  {out / 'audit' / 'report.html'}")
    found = problems(out, stats, settings.max_error_rate)
    if found:
        _fail("; ".join(found))


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
    printed_id: Optional[str] = PrintedIdOpt,
    id_author_mismatch: Optional[str] = IdAuthorMismatchOpt,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per stage instead."),
    context_unit: Optional[str] = ContextUnitOpt,
) -> None:
    """Each stage of a run: done, partial, stale (made with other settings than the run's own,
    changed by the options given, which are build's) or not started, with counts from disk."""
    from .status import batch_lines, lines, open_batches, status as run_status

    settings = _settings_for_run(run_dir, venue=venue, year=year, pdf_dir=pdf_dir, parser=parser,
                                 grobid_url=grobid_url, llm=llm, llm_base_url=llm_base_url,
                                 llm_json_mode=llm_json_mode, llm_max_tokens=llm_max_tokens,
                                 arxiv_index=arxiv_index, limit=limit, sections=sections,
                                 match_threshold=match_threshold, arxiv_online=online,
                                 context_unit=context_unit,
                                 **_match_flags(printed_id, id_author_mismatch))
    rows, note = run_status(settings, run_dir)
    batches = open_batches(run_dir)
    for line in ([json.dumps(r.as_dict()) for r in rows] + [json.dumps(b) for b in batches]
                 if as_json else lines(rows) + batch_lines(batches)):
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
        executor: Optional[str] = ExecutorOpt,
        ray_address: Optional[str] = RayAddressOpt,
        shard_size: Optional[int] = ShardSizeOpt,
    ) -> None:
        from .stages import run_named

        settings = _settings_for_run(run_dir, parser=parser, grobid_url=grobid_url, llm=llm,
                                     llm_base_url=llm_base_url, arxiv_index=arxiv_index,
                                     match_threshold=match_threshold, arxiv_online=online,
                                     **_executor_flags(executor, ray_address, shard_size))
        _report({stage: run_named(stage, settings, run_dir, redo_from=stage if redo else None)})

    command.__doc__ = doc
    app.command(name=stage)(friendly(command))


# publish (--push-to-hub), contexts (also takes one PDF), generate (LLM spending), match (its
# policies) and audit (review, judge, gates) have commands of their own below.
for _stage in STAGES:
    if _stage.name not in ("publish", "contexts", "generate", "match", "audit"):
        _stage_command(_stage.name, _stage.doc)


@app.command(help=BY_NAME["match"].doc)
@friendly
def match(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    arxiv_index: Optional[Path] = IndexOpt,
    match_threshold: Optional[float] = ThresholdOpt,
    online: Optional[bool] = OnlineOpt,
    printed_id: Optional[str] = PrintedIdOpt,
    id_author_mismatch: Optional[str] = IdAuthorMismatchOpt,
    redo: bool = typer.Option(False, "--redo", help="Redo this stage and every stage after it "
                              "with the settings given."),
) -> None:
    from .stages import run_named

    settings = _settings_for_run(run_dir, arxiv_index=arxiv_index,
                                 match_threshold=match_threshold, arxiv_online=online,
                                 **_match_flags(printed_id, id_author_mismatch))
    _report({"match": run_named("match", settings, run_dir, redo_from="match" if redo else None)})


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
    batch: Optional[bool] = BatchOpt,
    batch_poll: Optional[float] = BatchPollOpt,
    dry_run: bool = DryRunOpt,
    redo: bool = typer.Option(False, "--redo", help="Redo this stage and every stage after it "
                              "with the settings given (paid LLM answers stay cached)."),
    query_checks: Optional[str] = QueryChecksOpt,
    executor: Optional[str] = ExecutorOpt,
    ray_address: Optional[str] = RayAddressOpt,
    shard_size: Optional[int] = ShardSizeOpt,
) -> None:
    """Generate stage only: citation contexts -> queries, offline or through an LLM."""
    from .stages import run_named

    settings = _settings_for_run(run_dir, llm=llm, llm_base_url=llm_base_url,
                                 query_checks=_query_checks(query_checks),
                                 **_executor_flags(executor, ray_address, shard_size),
                                 **_llm_flags(llm_json_mode, llm_max_tokens, max_cost,
                                              price_in, price_out, price_file, batch,
                                              batch_poll))
    _check_batch(settings)
    if dry_run:
        _dry_run(settings, run_dir)
        return
    _report({"generate": run_named("generate", settings, run_dir,
                                   redo_from="generate" if redo else None)})



@app.command()
@friendly
def audit(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    export_review: Optional[Path] = typer.Option(
        None, "--export-review", metavar="FILE.csv", help="Write the reviewable sample (PaSa's "
        "rubric as empty y/n columns) for a person to fill."),
    import_review: Optional[Path] = typer.Option(
        None, "--import-review", metavar="FILE.csv", help="Read a filled review back; the page "
        "shows qualified rates with Wilson 95% intervals."),
    judge: Optional[str] = typer.Option(None, "--judge", metavar="MODEL", help="Fill the "
                                        "rubric for the sample with this LLM (cached; --max-cost)."),
    sample: int = typer.Option(100, "--sample", min=1, help="Queries in the reviewable sample "
                               "(stratified by venue)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample."),
    fail_under: Optional[list[str]] = typer.Option(
        None, "--fail-under", metavar="KEY=VALUE", help="Exit 1 naming each figure that falls "
        "short, e.g. query_qualified=0.9 (repeat the flag, or separate with commas)."),
    llm_base_url: Optional[str] = LlmUrlOpt,
    llm_json_mode: Optional[str] = JsonModeOpt,
    llm_max_tokens: Optional[int] = MaxTokensOpt,
    max_cost: Optional[float] = MaxCostOpt,
    price_in: Optional[float] = PriceInOpt,
    price_out: Optional[float] = PriceOutOpt,
    price_file: Optional[Path] = PriceFileOpt,
) -> None:
    """Audit stage only: audit/report.html and audit/audit.json; with options, a reviewable
    sample (export / import), an LLM judge, and gates for CI."""
    from .audit.run import run_audit

    settings = _settings_for_run(run_dir)
    flags = {"llm_base_url": llm_base_url, **_llm_flags(llm_json_mode, llm_max_tokens, max_cost,
                                                          price_in, price_out, price_file)}
    outcome = run_audit(settings, run_dir, export_review=export_review,
                        import_review=import_review, judge=judge, judge_flags=flags,
                        sample_size=sample, seed=seed, fail_under=fail_under or [])
    for line in outcome.lines:
        typer.echo(line, err=True)
    if outcome.failed:
        for line in outcome.failed:
            typer.echo(f"fail-under: {line}", err=True)
        raise typer.Exit(1)


@app.command()
@friendly
def publish(
    run_dir: Path = typer.Argument(..., help="Run directory made by `autoscholar build`."),
    push_to_hub: Optional[str] = typer.Option(
        None, "--repo", "--push-to-hub", metavar="OWNER/NAME",
        help="Then push dataset/hf (parquet + card) to this Hugging Face dataset repo, created if "
        "missing. Token: AUTOSCHOLAR_HUB_TOKEN or HF_TOKEN. HF_ENDPOINT picks another Hub."),
    private: bool = typer.Option(False, "--private", help="Create the Hub repo as private."),
    dev_size: Optional[float] = typer.Option(
        None, "--dev-size", help="Dev split: a whole number of queries (e.g. 1000, reached by "
        "whole source papers) or a fraction of the source papers (e.g. 0.1, the default)."),
    test_size: Optional[float] = typer.Option(None, "--test-size", help="Test split: as --dev-size."),
    license: Optional[str] = typer.Option(
        None, "--license", help="The dataset card's license (a Hub license id; default 'other': "
        "the contexts quote the source papers, whose licenses vary)."),
) -> None:
    """Publish stage only: dedup, split, write JSONL, parquet and a dataset card; with
    --push-to-hub, also upload the parquet files and card to the Hugging Face Hub."""
    from .hub import push
    from .stages import run_named

    settings = _settings_for_run(run_dir, dev_size=dev_size, test_size=test_size, license=license)
    if push_to_hub:  # a bad token is one line now, before publish writes anything
        from .preflight import hub_preflight

        hub_preflight(settings)
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
    context_unit: Optional[str] = ContextUnitOpt,
) -> None:
    """Print the citation contexts of one PDF as JSON lines, or run the contexts stage."""
    from .contexts import contexts_for
    from .parse.stage import parse_papers
    from .records import Paper, Reject
    from .stages import run_named

    if path.is_dir():
        settings = _settings_for_run(path, parser=parser, grobid_url=grobid_url,
                                     sections=sections, context_unit=context_unit)
        _report({"contexts": run_named("contexts", settings, path,
                                       redo_from="contexts" if redo else None)})
        return
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}")
    settings = _settings(parser=parser, grobid_url=grobid_url, sections=sections, parse_workers=1,
                         context_unit=context_unit)
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
    """Resolve reference strings to arXiv ids: one JSON line per input line, blank lines
    included (method "unresolved", reason "empty-line"), so output line N is input line N."""
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
                if not ref:  # still one output line, so line N of the output is line N in
                    typer.echo(json.dumps({"ref": "", "arxiv_id": None, "title": None,
                                           "method": "unresolved", "score": 0.0,
                                           "reason": "empty-line"}))
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
    typer.echo(f"autoscholar {_installed_version()}")


if __name__ == "__main__":
    app()
