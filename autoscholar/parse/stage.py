"""parse stage: Paper with a PDF -> ParsedPaper, through the configured backend."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..config import Settings
from ..errors import ParseError
from ..io import count_lines, read_json, read_jsonl, write_atomic
from ..records import Paper, ParsedPaper, Reject
from ..runner import StageStats, key_of, require, run_stage
from . import BACKENDS


def parse_papers(items: Iterable[tuple[Paper, Path]], settings: Settings,
                 run_dir: Path) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    """Dispatch to the configured backend; results come back in completion order."""
    return BACKENDS[settings.parser].parse_batch(items, settings, run_dir)


MAX_TRIES = 3  # runs in which a PDF may fail transiently (a timeout) before it is given up


class Tries:
    """How many runs each PDF has failed transiently in, kept across runs in parse.tries.json
    (a transient reject row is dropped on the next run), so a hostile PDF that always times
    out costs at most MAX_TRIES timeouts, then is a permanent reject with the reason."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / "parse.tries.json"
        self.counts: dict[str, int] = {}
        if self.path.exists():
            data = read_json(self.path, "delete it (its PDFs are tried again) and rerun")
            self.counts = {k: v for k, v in data.items() if isinstance(v, int)}

    def failed(self, key: str, error: ParseError) -> ParseError:
        """Count one more transient failure; the error to record (final after MAX_TRIES)."""
        import fcntl

        # Ray shards of one run count into the same file: read it again under a lock, so
        # one shard's count does not overwrite another's.
        with open(self.path.parent / ".parse.tries.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.counts = Tries(self.path.parent).counts
            self.counts[key] = self.counts.get(key, 0) + 1
            write_atomic(self.path, json.dumps(self.counts, indent=1, sort_keys=True))
        if self.counts[key] < MAX_TRIES:
            return error
        return ParseError(error.reason, f"{error.detail} (gave up after {MAX_TRIES} tries)")


def parse(settings: Settings, run_dir: Path) -> StageStats:
    source = require(run_dir, "fetch")
    papers = ((p.paper_id, p) for p in read_jsonl(source, Paper))  # a stream, read as parsed

    def work(items: Iterable[tuple[str, Paper]]) -> Iterator[tuple[str, list | Reject]]:
        pairs = ((paper, Path(paper.pdf_path or "")) for _, paper in items)
        tries = Tries(run_dir)
        for paper, result in parse_papers(pairs, settings, run_dir):
            if isinstance(result, ParseError):
                if result.transient:
                    result = tries.failed(paper.paper_id, result)
                yield paper.paper_id, Reject(stage="parse", key=paper.paper_id,
                                             reason=result.reason, detail=result.detail,
                                             transient=result.transient)
            else:
                yield paper.paper_id, [result]

    return run_stage(run_dir, "parse", papers, work, key_of("paper", "paper_id"),
                     label=f"parse ({settings.parser})", total=count_lines(source))
