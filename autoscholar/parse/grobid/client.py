"""Grobid backend: PDFs -> TEI through grobid-client-python, cached, with a failure ledger.

- `/api/isalive` first: a dead server is one clear ServiceError, not a failure per PDF.
- `processFulltextDocument` with sentence segmentation and raw citations on, consolidation off
  (matching references is our own stage). Requests go through the client's `post`, not its
  `process_pdf`, whose 503 handling is an unbounded recursive retry with a fixed sleep: a 503
  here is retried a bounded number of times with capped exponential backoff and jitter.
- Concurrency is `grobid_concurrency` (default 10, the `concurrency` of Grobid's default
  grobid-home/config/grobid.yaml). The server does not tell its pool size: `/api/health`
  answers an empty 200 (HealthResource). A request that finds every engine busy for
  `poolMaxWait` (1 s) gets a bare 503, and the back-off here retries it, so a smaller pool
  slows the run down instead of failing PDFs.
- Each PDF's outcome is appended to a JSONL ledger. A rerun skips PDFs whose failure is
  permanent (bad input, no text, too many blocks) and retries transient ones (timeouts, 503s,
  other 500s) until they have failed MAX_TRANSIENT_ATTEMPTS times.
- TEI responses are cached as <cache_dir>/<paper_id>.tei.xml (temp file + os.replace), and a
  cached TEI is read without asking the server.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import random
import re
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import requests
from grobid_client.grobid_client import GrobidClient, ServerUnavailableException

from autoscholar.config import Settings, redact_url
from autoscholar.errors import ParseError, ServiceError
from autoscholar.parse.grobid.tei import read_tei
from autoscholar.records import Paper, ParsedPaper
from autoscholar.io import write_atomic

SERVICE = "processFulltextDocument"
FORM = {
    "segmentSentences": "1",
    "includeRawCitations": "1",
    "consolidateCitations": "0",
    "consolidateHeader": "0",
}
MAX_TRANSIENT_ATTEMPTS = 3  # runs in which a PDF may fail transiently before we give up on it
START_HINT = "start it with `docker run --rm -p 8070:8070 grobid/grobid:0.8.1` or pass --grobid-url"


# ---------------------------------------------------------------- server


def connect(settings: Settings) -> GrobidClient:
    """A client for settings.grobid_url, after checking /api/isalive."""
    url = settings.grobid_url.rstrip("/")
    client = GrobidClient(grobid_server=url, timeout=settings.grobid_timeout, check_server=False)
    client.logger.setLevel(logging.CRITICAL)  # we report failures ourselves, once
    try:
        alive, status = client.ping()
    except ServerUnavailableException:
        raise ServiceError(f"Grobid is not reachable at {redact_url(url)}: {START_HINT}") from None
    if not alive:
        raise ServiceError(f"Grobid at {redact_url(url)} is not ready (/api/isalive answered HTTP {status})")
    return client


def classify(status: int, body: str) -> ParseError | None:
    """Grobid's answer -> None when it is a TEI, else the failure with its class."""
    text = (body or "").strip()
    if status == 200 and text:
        return None
    detail = " ".join(text.split())[:300]
    if status in (200, 204):
        return ParseError("no-text", "Grobid found no text in the PDF", transient=False)
    if status == 400:
        return ParseError("bad-input", detail or "Grobid rejected the PDF", transient=False)
    if status == 408:
        return ParseError("timeout", detail or "request timed out", transient=True)
    if status == 500:
        upper = text.upper()
        if "TOO_MANY_BLOCKS" in upper or "TOO MANY BLOCKS" in upper:
            return ParseError("too-many-blocks", detail, transient=False)
        if "TIMEOUT" in upper:
            return ParseError("timeout", detail, transient=True)
        return ParseError("server-error", detail or "HTTP 500", transient=True)
    if status == 503:
        return ParseError("server-busy", "Grobid stayed busy (HTTP 503) through every retry", transient=True)
    return ParseError("server-error", f"HTTP {status}: {detail}", transient=True)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with jitter: uniform in [d/2, d], d = min(cap, base * 2^attempt)."""
    d = min(cap, base * (2 ** attempt))
    return d / 2 + (rng or random).random() * d / 2


def fetch_tei(client: GrobidClient, pdf: Path, settings: Settings,
              sleep: Callable[[float], None] = time.sleep) -> bytes:
    """POST one PDF; retry 503s with backoff; raise ParseError for everything that is not a TEI.

    The TEI is returned as the bytes Grobid sent: Grobid does not name a charset, and letting
    requests guess one would garble the UTF-8."""
    url = client.get_server_url(SERVICE)
    for attempt in range(settings.grobid_retries + 1):
        try:
            with open(pdf, "rb") as fh:
                res, status = client.post(
                    url=url,
                    files={"input": (pdf.name, fh, "application/pdf", {"Expires": "0"})},
                    data=dict(FORM),
                    headers={"Accept": "application/xml"},
                    timeout=settings.grobid_timeout,
                )
        except OSError as e:
            if isinstance(e, requests.exceptions.Timeout):
                raise ParseError("timeout", f"no answer within {settings.grobid_timeout:g}s", True) from None
            if isinstance(e, requests.exceptions.ConnectionError):
                raise ParseError("connection", f"connection to Grobid failed: {e}", True) from None
            if isinstance(e, requests.RequestException):
                raise ParseError("server-error", str(e), True) from None
            raise ParseError("bad-input", f"cannot read {pdf.name}: {e}", False) from None
        if status == 503 and attempt < settings.grobid_retries:
            sleep(backoff_delay(attempt, settings.grobid_backoff, settings.grobid_backoff_cap))
            continue
        failure = classify(status, res.content.decode("utf-8", errors="replace"))
        if failure:
            raise failure
        return res.content
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- cache and ledger


def cache_path(cache_dir: Path, paper_id: str) -> Path:
    return cache_dir / (re.sub(r"[^\w.\-]", "_", paper_id) + ".tei.xml")


def read_ledger(ledger_path: Path) -> dict[str, dict]:
    """paper_id -> {'status', 'reason', 'transient', 'attempts', ...} from its last line."""
    state: dict[str, dict] = {}
    if not ledger_path.exists():
        return state
    for line in ledger_path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            state[row["paper_id"]] = row
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash
    return state


def _append_ledger(ledger_path: Path, row: dict) -> None:
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger_path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
        fh.flush()


def _gives_up(row: dict | None) -> bool:
    if not row or row.get("status") != "failed":
        return False
    return not row.get("transient") or row.get("attempts", 0) >= MAX_TRANSIENT_ATTEMPTS


# ---------------------------------------------------------------- the stage


def _read_cached(paper: Paper, path: Path) -> ParsedPaper | ParseError:
    try:
        return read_tei(path.read_bytes(), paper)
    except ParseError as e:
        return e


def parse_with_grobid(
    items: Iterable[tuple[Paper, Path]], settings: Settings, cache_dir: Path, ledger_path: Path,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    """Parse PDFs with Grobid; yields each paper with its ParsedPaper or the ParseError.

    Cached TEI and recorded permanent failures come first and need no server; the rest are
    yielded as Grobid finishes them. A dead server raises ServiceError.
    """
    ledger = read_ledger(ledger_path)
    todo: list[tuple[Paper, Path]] = []
    for paper, pdf in items:
        cached = cache_path(cache_dir, paper.paper_id)
        row = ledger.get(paper.paper_id)
        if cached.exists():
            yield paper, _read_cached(paper, cached)
        elif _gives_up(row):
            note = "not retried" if not row.get("transient") else f"gave up after {row.get('attempts')} runs"
            yield paper, ParseError(row.get("reason", "grobid-failed"),
                                    f"{row.get('detail', '')} ({note})", transient=False)
        else:
            todo.append((paper, pdf))
    if not todo:
        return

    client = connect(settings)
    workers = max(1, min(settings.grobid_concurrency, len(todo)))
    executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grobid")
    try:
        futures = {executor.submit(fetch_tei, client, pdf, settings, sleep): (paper, pdf)
                   for paper, pdf in todo}
        for fut in cf.as_completed(futures):
            paper, pdf = futures[fut]
            prev = ledger.get(paper.paper_id) or {}
            row = {"paper_id": paper.paper_id, "pdf": str(pdf),
                   "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
            try:
                tei = fut.result()
                parsed = read_tei(tei, paper)
            except ParseError as e:
                if e.reason == "connection":
                    # The server went away mid-run: not the PDF's fault, so not in the ledger.
                    # Stop here; what was parsed so far is cached and already yielded.
                    executor.shutdown(wait=False, cancel_futures=True)
                    raise ServiceError(f"Grobid stopped answering at {redact_url(settings.grobid_url)} "
                                       f"(while parsing {pdf.name}): {START_HINT}") from None
                transient = e.transient
                attempts = (prev.get("attempts", 0) if prev.get("status") == "failed" else 0) + 1
                row.update(status="failed", reason=e.reason, detail=e.detail,
                           transient=transient, attempts=attempts)
                _append_ledger(ledger_path, row)
                if transient and attempts >= MAX_TRANSIENT_ATTEMPTS:
                    e = ParseError(e.reason, f"{e.detail} (gave up after {attempts} runs)")
                yield paper, e
                continue
            write_atomic(cache_path(cache_dir, paper.paper_id), tei)
            row.update(status="ok")
            _append_ledger(ledger_path, row)
            yield paper, parsed
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
