"""The stages over a run directory, callable from Python; the CLI is a thin layer over these.

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
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import __version__
from .config import Settings
from .contexts import extract_contexts, find_target_sections
from .errors import InputError, LLMOutputError, ParseError, ServiceError
from .records import CitationContext, MatchedQuery, Paper, ParsedPaper, Query, Reject
from .runner import StageStats, read_jsonl, run_stage, write_atomic

STAGES = ("fetch", "parse", "contexts", "generate", "match", "publish", "audit")
SNAPSHOT_SUFFIXES = (".jsonl", ".json", ".gz", ".zip")


def _key(*path: str):
    def key_of(line: bytes) -> str:
        value = json.loads(line)
        for part in path:
            value = value[part]
        return value

    return key_of


def _require(run_dir: Path, stage: str) -> Path:
    path = run_dir / f"{stage}.jsonl"
    if not path.exists():
        raise InputError(f"{run_dir} has no {stage}.jsonl yet: run `autoscholar {stage}` first")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- fetch


def fetch(settings: Settings, run_dir: Path) -> StageStats:
    from .sources import download_pdf, list_papers

    listing = run_dir / "listing.jsonl"
    origin = run_dir / "listing.source.json"
    wanted = {"venue": settings.venue, "year": settings.year,
              "pdf_dir": str(settings.pdf_dir.resolve()) if settings.pdf_dir else None}
    if listing.exists() and origin.exists():
        # A run directory holds one venue's papers: never mix in another listing silently.
        made_for = json.loads(origin.read_text())
        if made_for != wanted:
            raise InputError(f"{run_dir} was made for {made_for}, not {wanted}: "
                             "choose another run directory with --out")
    if listing.exists():
        papers = list(read_jsonl(listing, Paper))
    else:
        papers = list_papers(settings)
        write_atomic(listing, "".join(p.model_dump_json() + "\n" for p in papers))
        write_atomic(origin, json.dumps(wanted))
    if settings.limit is not None:
        papers = papers[: settings.limit]

    def work(items: list[tuple[str, Paper]]) -> Iterator[tuple[str, list | Reject]]:
        for key, paper in items:
            try:
                if paper.pdf_path:
                    path = Path(paper.pdf_path)
                    if not path.is_absolute():
                        path = run_dir / path
                    if not path.exists():
                        raise InputError(f"PDF not found: {path}")
                else:
                    path = download_pdf(paper, run_dir / "pdfs", settings)
            except (ServiceError, InputError) as exc:
                yield key, Reject(stage="fetch", key=key, reason="download-failed",
                                  detail=str(exc), transient=getattr(exc, "transient", False))
                continue
            yield key, [paper.model_copy(update={"pdf_path": str(path),
                                                 "pdf_sha256": sha256_file(path)})]

    return run_stage(run_dir, "fetch", [(p.paper_id, p) for p in papers], work,
                     _key("paper_id"))


# ---------------------------------------------------------------- parse


def parse_papers(items: list[tuple[Paper, Path]], settings: Settings,
                 run_dir: Path) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    """Dispatch to the configured backend; results come back in completion order."""
    if settings.parser == "grobid":
        from .parse.grobid import parse_with_grobid

        return parse_with_grobid(items, settings, run_dir / "cache" / "grobid",
                                 run_dir / "grobid.ledger.jsonl")
    from .parse.pool import parse_isolated

    return parse_isolated(items, settings.parse_workers, settings.parse_timeout,
                          settings.parse_memory_mb)


def parse(settings: Settings, run_dir: Path) -> StageStats:
    papers = list(read_jsonl(_require(run_dir, "fetch"), Paper))

    def work(items: list[tuple[str, Paper]]) -> Iterator[tuple[str, list | Reject]]:
        pairs = [(paper, Path(paper.pdf_path or "")) for _, paper in items]
        for paper, result in parse_papers(pairs, settings, run_dir):
            if isinstance(result, ParseError):
                yield paper.paper_id, Reject(stage="parse", key=paper.paper_id,
                                             reason=result.reason, detail=result.detail,
                                             transient=result.transient)
            else:
                yield paper.paper_id, [result]

    return run_stage(run_dir, "parse", [(p.paper_id, p) for p in papers], work,
                     _key("paper", "paper_id"), label=f"parse ({settings.parser})")


# ---------------------------------------------------------------- contexts


def contexts_for(parsed: ParsedPaper, settings: Settings) -> list[CitationContext] | Reject:
    key = parsed.paper.paper_id
    if not find_target_sections(parsed, settings.sections):
        heads = "; ".join(s.title for s in parsed.sections if not s.path[1:])[:300]
        return Reject(stage="contexts", key=key, reason="no-related-work-section",
                      detail=f"headings: {heads}")
    found = extract_contexts(parsed, settings.sections)
    if not found:
        return Reject(stage="contexts", key=key, reason="no-citation-contexts",
                      detail="the target sections cite no bibliography entry")
    return found


def contexts(settings: Settings, run_dir: Path) -> StageStats:
    items = [(p.paper.paper_id, p) for p in read_jsonl(_require(run_dir, "parse"), ParsedPaper)]

    def work(pending):
        for key, parsed in pending:
            yield key, contexts_for(parsed, settings)

    return run_stage(run_dir, "contexts", items, work, _key("source", "paper_id"))


# ---------------------------------------------------------------- generate


def in_threads(fn, pending: list[tuple[str, object]], workers: int) -> Iterator[tuple[str, object]]:
    """(key, fn(item)) in input order with `workers` threads. At most 2 x workers calls are
    queued, so a failure or Ctrl-C stops new (paid) calls at once instead of draining a queue."""
    window: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for key, item in pending:
                window.append((key, pool.submit(fn, item)))
                if len(window) >= 2 * workers:
                    key_done, future = window.popleft()
                    yield key_done, future.result()
            while window:
                key_done, future = window.popleft()
                yield key_done, future.result()
        finally:
            for _, future in window:
                future.cancel()


def generate(settings: Settings, run_dir: Path) -> StageStats:
    from .generate import generate_queries

    items = [(c.context_id, c) for c in read_jsonl(_require(run_dir, "contexts"), CitationContext)]
    cache_dir = run_dir / "cache" / "llm"

    def one(context: CitationContext) -> list[Query] | Reject:
        try:
            queries = generate_queries(context, settings, cache_dir)
        except LLMOutputError as exc:
            return Reject(stage="generate", key=context.context_id,
                          reason="malformed-llm-output", detail=str(exc))
        if not queries:
            return Reject(stage="generate", key=context.context_id, reason="no-query",
                          detail="no citing sentence gave a question")
        return queries

    def work(pending: list[tuple[str, CitationContext]]):
        if settings.llm == "none":
            for key, context in pending:
                yield key, one(context)
            return
        # Model calls wait on the network: run a few at once. A ServiceError stops the run
        # (everything finished so far is on disk and in the cache; rerun to go on).
        yield from in_threads(one, pending, max(1, settings.llm_concurrency))

    label = "generate (offline)" if settings.llm == "none" else f"generate ({settings.llm})"
    return run_stage(run_dir, "generate", items, work, _key("context", "context_id"), label)


# ---------------------------------------------------------------- match


def index_source(settings: Settings) -> Path:
    """The arXiv index (or snapshot) a run matches against; the bundled one for the demo."""
    source = settings.arxiv_index
    if source is None:
        if settings.venue != "demo":
            raise InputError("no arXiv index given: build one with `autoscholar arxiv-index build "
                             "SNAPSHOT --out PATH` and pass --arxiv-index PATH")
        from .sources.demo import demo_index_path

        source = demo_index_path()
    if not source.exists():
        raise InputError(f"arXiv index not found: {source}")
    return source


def open_index(settings: Settings, run_dir: Path):
    """Load the arXiv index; a Kaggle-format snapshot is first built into the run directory."""
    from .arxiv.index import build_index, load_index

    source = index_source(settings)
    if source.is_file() and source.name.endswith(SNAPSHOT_SUFFIXES):
        built = run_dir / "arxiv-index"
        stamp = run_dir / "arxiv-index.source.json"
        want = {"source": str(source.resolve()), "sha256": sha256_file(source)}
        if not (built.exists() and stamp.exists() and json.loads(stamp.read_text()) == want):
            build_index(source, built)
            write_atomic(stamp, json.dumps(want))
        source = built
    return load_index(source)


def match(settings: Settings, run_dir: Path) -> StageStats:
    from .arxiv.match import match_query

    items = [(q.query_id, q) for q in read_jsonl(_require(run_dir, "generate"), Query)]

    def work(pending: list[tuple[str, Query]]) -> Iterator[tuple[str, list[MatchedQuery]]]:
        index = open_index(settings, run_dir)  # only when something is left to match
        resolver = None
        if settings.arxiv_online:
            from .arxiv.online import API, ArxivAPI, resolve_online

            api = ArxivAPI(run_dir / "cache" / "arxiv-api", base_url=settings.arxiv_api_url or API)
            resolver = lambda entry: resolve_online(entry, index, api, settings.match_threshold)  # noqa: E731
        for key, query in pending:
            yield key, [match_query(query, index, settings.match_threshold, resolver)]

    return run_stage(run_dir, "match", items, work, _key("query", "query_id"))


# ---------------------------------------------------------------- manifest and build


def _index_checksum(run_dir: Path, settings: Settings) -> dict:
    """The snapshot an index was built from here, or the given index folder's meta.json."""
    stamp = run_dir / "arxiv-index.source.json"
    if stamp.exists():
        return json.loads(stamp.read_text())
    meta = Path(settings.arxiv_index or "") / "meta.json"
    if settings.arxiv_index and meta.is_file():
        return {"source": str(Path(settings.arxiv_index).resolve()),
                "meta_sha256": sha256_file(meta)}
    return {}


def update_manifest(run_dir: Path, settings: Settings, stage: str, stats: dict) -> None:
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    manifest["tool"] = "autoscholar"
    manifest["version"] = __version__
    manifest["settings"] = settings.public_dict()
    fetched = run_dir / "fetch.jsonl"
    manifest["inputs"] = {
        "pdfs": {p.paper_id: p.pdf_sha256 for p in read_jsonl(fetched, Paper)},
        "arxiv_index": _index_checksum(run_dir, settings),
    }
    manifest.setdefault("stages", {})[stage] = stats
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True, default=str))


def run_named(stage: str, settings: Settings, run_dir: Path) -> dict:
    from dataclasses import asdict

    if stage == "publish":
        from .publish import publish

        stats = asdict(publish(run_dir, settings))
    elif stage == "audit":
        from .audit import audit

        stats = {"report": str(audit(run_dir))}
    else:
        stats = asdict(globals()[stage](settings, run_dir))
    update_manifest(run_dir, settings, stage, stats)
    return stats


def build(settings: Settings, stages: Iterable[str] = STAGES) -> dict[str, dict]:
    stages = list(stages)
    if "match" in stages:
        index_source(settings)  # fail before hours of fetching and parsing, not at match
    run_dir = settings.resolved_run_dir()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot use {run_dir} as the run directory: {exc.strerror or exc}") from None
    return {stage: run_named(stage, settings, run_dir) for stage in stages}

