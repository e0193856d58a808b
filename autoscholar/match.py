"""match stage: each answer -> an arXiv id against the local index (arxiv/resolve.py), then
this stage's own rules: which index, the leak cut-off, one answer per arXiv id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .arxiv.index import ArxivIndex
from .arxiv.resolve import Resolution, resolve
from .config import Settings
from .errors import InputError
from .io import count_lines, read_json, read_jsonl, sha256_file, write_atomic
from .records import (BibEntry, DroppedAnswer, MatchedQuery, Query, ResolvedAnswer, SourceMeta)
from .resources import resource
from .runner import StageStats, key_of, require, run_stage

SNAPSHOT_SUFFIXES = (".jsonl", ".json", ".gz", ".zip")
STAMP_ADVICE = "delete it and rerun: the index is built again from the snapshot"


def demo_index_path() -> Path:
    """The bundled mini arXiv index (Kaggle snapshot format) the demo matches against."""
    return resource("data", "demo_arxiv.jsonl")


def index_source(settings: Settings) -> Path:
    """The arXiv index (or snapshot) a run matches against; the bundled one for the demo."""
    source = settings.arxiv_index
    if source is None:
        if settings.venue != "demo":
            raise InputError("no arXiv index given: build one with `autoscholar arxiv-index build "
                             "SNAPSHOT --out PATH` and pass --arxiv-index PATH")
        source = demo_index_path()
    if not source.exists():
        raise InputError(f"arXiv index not found: {source}")
    return source


def open_index(settings: Settings, run_dir: Path) -> ArxivIndex:
    """Load the arXiv index; a Kaggle-format snapshot is first built into the run directory."""
    import fcntl

    from .arxiv.index import build_index, cached_index

    source = index_source(settings)
    if source.is_file() and source.name.endswith(SNAPSHOT_SUFFIXES):
        built = run_dir / "arxiv-index"
        stamp = run_dir / "arxiv-index.source.json"
        want = {"source": str(source.resolve()), "sha256": _snapshot_sha(source)}
        # Ray shards of match start at once: one builds the index, the others wait for it.
        with open(run_dir / ".arxiv-index.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (built.exists() and stamp.exists() and read_json(stamp, STAMP_ADVICE) == want):
                build_index(source, built)
                write_atomic(stamp, json.dumps(want))
        source = built
    return cached_index(source)


_SHAS: dict[tuple, str] = {}


def _snapshot_sha(path: Path) -> str:
    """sha256 of a snapshot, once per process while the file is unchanged (every Ray shard of
    match opens the index; a full Kaggle snapshot is gigabytes)."""
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ino)
    if key not in _SHAS:
        _SHAS[key] = sha256_file(path)
    return _SHAS[key]


def index_checksum(run_dir: Path, settings: Settings) -> dict:
    """The snapshot an index was built from here, or the given index folder's meta.json."""
    stamp = run_dir / "arxiv-index.source.json"
    if stamp.exists():
        return read_json(stamp, STAMP_ADVICE)
    meta = Path(settings.arxiv_index or "") / "meta.json"
    if settings.arxiv_index and meta.is_file():
        return {"source": str(Path(settings.arxiv_index).resolve()),
                "meta_sha256": sha256_file(meta)}
    return {}


def leak_cutoff(published: dt.date | None, year: int | None) -> dt.date | None:
    """The last day an answer may have been first posted to arXiv and still be cited fairly.

    No publication date known (a local PDF, a venue without dates): the paper still came out
    in its year, so an answer first posted after that year is a leak all the same.
    """
    return published or (dt.date(year, 12, 31) if year else None)


def match_query(query: Query, index: ArxivIndex, threshold: float = 90.0,
                resolver: Callable[[BibEntry], Resolution] | None = None,
                printed_id: str = "keep", verify: Callable[[str], Resolution | None] | None = None,
                id_author_mismatch: str = "title") -> MatchedQuery:
    """The match stage for one query: resolve its answers, drop leaks and duplicates.
    `resolver` replaces the local cascade (e.g. with the arXiv API fallback). A printed id the
    index lacks is kept unverified, dropped, or (printed_id="verify") looked up with `verify`,
    which returns None when arXiv has no such paper."""
    refs = {ref.key: ref for ref in query.context.refs}
    source: SourceMeta = query.context.source
    cutoff = leak_cutoff(source.published, source.year)
    answers: list[ResolvedAnswer] = []
    dropped: list[DroppedAnswer] = []
    seen: set[str] = set()
    for key in query.answer_keys:
        entry = refs.get(key)
        if entry is None:
            dropped.append(DroppedAnswer(key=key, raw="", reason="key-not-in-context"))
            continue
        res = resolver(entry) if resolver else resolve(entry, index, threshold, id_author_mismatch)
        if res.method == "printed-id-unverified" and printed_id != "keep":
            checked = verify(res.arxiv_id) if printed_id == "verify" and verify else None
            if checked is None:
                reason = "not-on-arxiv" if printed_id == "verify" else "id-not-in-index"
                dropped.append(DroppedAnswer(key=key, raw=entry.raw, reason=reason, arxiv_id=res.arxiv_id))
                continue
            res = checked
        if res.arxiv_id is None:
            reason = "not-on-arxiv" if res.reason in ("not-in-index", "id-not-in-index") else res.reason
            near = res.reason in ("below-threshold", "ambiguous")  # the audit's near misses
            dropped.append(DroppedAnswer(key=key, raw=entry.raw, reason=reason or "not-on-arxiv",
                                         score=res.score if near else None))
        elif cutoff is not None and res.first_version is not None and res.first_version > cutoff:
            dropped.append(DroppedAnswer(key=key, raw=entry.raw, reason="newer-than-source",
                                         arxiv_id=res.arxiv_id))
        elif res.arxiv_id in seen:
            dropped.append(DroppedAnswer(key=key, raw=entry.raw, reason="duplicate", arxiv_id=res.arxiv_id))
        else:
            seen.add(res.arxiv_id)
            answers.append(ResolvedAnswer(key=key, raw=entry.raw, arxiv_id=res.arxiv_id,
                                          title=res.title or "", method=res.method,
                                          score=res.score, first_version=res.first_version,
                                          flags=res.flags))
    return MatchedQuery(query=query, answers=answers, dropped=dropped)


def match(settings: Settings, run_dir: Path) -> StageStats:
    source = require(run_dir, "generate")
    items = ((q.query_id, q) for q in read_jsonl(source, Query))  # a stream, read as matched

    def work(pending: Iterable[tuple[str, Query]]) -> Iterator[tuple[str, list[MatchedQuery]]]:
        index = open_index(settings, run_dir)  # only when something is left to match
        resolver = verify = None
        if settings.arxiv_online or settings.printed_id == "verify":
            from .arxiv.online import API, ArxivAPI, resolve_online, verify_id
            from .hostlimit import configure_from

            configure_from(settings)  # --host-rate applies to the arXiv API too
            api = ArxivAPI(run_dir / "cache" / "arxiv-api", base_url=settings.arxiv_api_url or API)
            verify = lambda ident: verify_id(api, ident)  # noqa: E731
            if settings.arxiv_online:
                resolver = lambda entry: resolve_online(  # noqa: E731
                    entry, index, api, settings.match_threshold, settings.id_author_mismatch)
        for key, query in pending:
            yield key, [match_query(query, index, settings.match_threshold, resolver,
                                    settings.printed_id, verify, settings.id_author_mismatch)]

    return run_stage(run_dir, "match", items, work, key_of("query", "query_id"),
                     total=count_lines(source))


def index_identity(settings: Settings) -> dict:
    """What the match stage's output depends on in the index: its content, not its path."""
    source = index_source(settings)
    if source.is_dir():
        meta = source / "meta.json"
        if not meta.is_file():
            raise InputError(f"{source} is not an arXiv index (no meta.json): build one with "
                             "`autoscholar arxiv-index build`")
        return {"arxiv_index_sha256": sha256_file(meta)}
    return {"arxiv_index_sha256": sha256_file(source)}
