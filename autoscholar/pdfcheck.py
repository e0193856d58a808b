"""Is a downloaded file a whole PDF? The checks, and the ledger of files that passed them.

A body that starts with `%PDF-` can still be cut short (a dropped connection without a
Content-Length, a proxy serving half a file): parse would then reject it as truncated for good.
So a download passes only when it starts like a PDF, ends with `%%EOF` in its last KiB (where
readers look for it), and PyMuPDF opens it and counts its pages. PyMuPDF runs in a child
process with a time and memory cap: a hostile PDF may hang or balloon it (as in parse/pool.py);
the processes are kept between files (Opener).

`<pdf dir>/verified.jsonl` remembers each file that passed, with its sha256 and page count: a
present file is reused only when its bytes are still the ones that passed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import multiprocessing as mp
import threading
from pathlib import Path

from autoscholar.http import Retry
from autoscholar.io import sha256_file

HEAD = TAIL = 1024
OPEN_TIMEOUT = 60.0  # seconds for PyMuPDF to open the file and count its pages
OPEN_MEMORY_MB = 2048
LEDGER = "verified.jsonl"

def header_problem(head: bytes) -> str | None:
    """None when the bytes start a PDF (the header may follow up to 1 KiB of junk)."""
    if b"%PDF-" in head[:HEAD]:
        return None
    if not head.strip():
        return "not a PDF (empty body)"
    return f"not a PDF (starts with {head[:20].decode('latin-1').strip()!r})"


def _serve(conn, memory_mb: int) -> None:
    """A child process: paths in, page counts (or the error) out, until the pipe closes."""
    from .parse.pool import cap_address_space

    cap_address_space(memory_mb)
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return
        try:
            with pymupdf.open(path, filetype="pdf") as doc:
                conn.send(("ok", doc.page_count))
        except Exception as exc:  # noqa: BLE001 - whatever MuPDF says is the reason
            conn.send(("err", f"{type(exc).__name__}: {exc}"[:200]))


class Opener:
    """Child processes that open PDFs with PyMuPDF, one per calling thread at a time, kept
    between files (importing PyMuPDF costs seconds on a busy machine). A child that overruns
    the time limit or dies is killed and replaced. Use as a context manager, or close()."""

    def __init__(self, timeout: float = OPEN_TIMEOUT, memory_mb: int = OPEN_MEMORY_MB,
                 processes: int = 0):
        self.timeout, self.memory_mb = timeout, memory_mb
        # Opening is CPU work: more children than cores only adds start-ups (0 = one per core).
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)
        self._idle: list = []
        self._all: list = []
        self._lock = threading.Condition()

    def _child(self):
        with self._lock:
            while not self._idle and len(self._all) >= self.processes:
                self._lock.wait()
            if self._idle:
                return self._idle.pop()
            self._all.append(None)  # this slot is ours while the child starts
        ctx = mp.get_context("spawn")  # no fork: the parent's threads stay out of the child
        conn, child_end = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child_end, self.memory_mb), daemon=True)
        try:
            proc.start()
        except BaseException:
            with self._lock:
                self._all.remove(None)
                self._lock.notify()
            raise
        child_end.close()
        with self._lock:
            self._all[self._all.index(None)] = (conn, proc)
        return conn, proc

    def _kill(self, child) -> None:
        conn, proc = child
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        conn.close()
        with self._lock:
            if child in self._all:
                self._all.remove(child)
            self._lock.notify()  # a replacement may start

    def page_count(self, path: Path) -> int:
        """Pages PyMuPDF finds in the file; Retry("pymupdf") when it cannot open it."""
        child = self._child()
        conn, proc = child
        try:
            conn.send(str(path))
            # The first answer of a new child includes its start-up (importing PyMuPDF).
            if not conn.poll(self.timeout):
                self._kill(child)
                raise Retry("pymupdf", f"PyMuPDF did not open it within {self.timeout:g} s",
                            transient=False)
            status, value = conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._kill(child)
            code = proc.exitcode
            raise Retry("pymupdf", f"PyMuPDF crashed on it (exit code {code})",
                        transient=False) from None
        with self._lock:
            self._idle.append(child)
            self._lock.notify()
        if status != "ok":
            raise Retry("pymupdf", f"PyMuPDF cannot open it ({value})", transient=False)
        if value < 1:
            raise Retry("pymupdf", "PyMuPDF finds no pages in it", transient=False)
        return value

    def close(self) -> None:
        with self._lock:
            children, self._all, self._idle = list(self._all), [], []
        for conn, proc in filter(None, children):
            conn.close()  # the child's recv ends: it returns
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def __enter__(self) -> "Opener":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def verify(path: Path, opener: Opener | None = None) -> int:
    """The page count of a whole PDF; Retry naming the first check it fails. Without an
    opener, one is started for this file alone."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(HEAD)
        fh.seek(max(0, size - TAIL))
        tail = fh.read(TAIL)
    if problem := header_problem(head):
        raise Retry("not-a-pdf", problem, transient=False)
    if b"%%EOF" not in tail:
        # Cut before its end: another attempt (or a later run) may get all of it.
        raise Retry("eof", f"no %%EOF in its last {TAIL} bytes ({size} bytes): cut short")
    if opener is not None:
        return opener.page_count(path)
    with Opener() as own:
        return own.page_count(path)


class Ledger:
    """file name -> {sha256, bytes, pages, checked} of the PDFs in one folder that passed."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LEDGER
        self._lock = threading.Lock()
        self._rows: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self._rows[row["file"]] = row
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a crash: that file is checked again

    def passed(self, pdf: Path) -> bool:
        """True when pdf is byte for byte the file that passed the checks."""
        with self._lock:
            row = self._rows.get(pdf.name)
        if not row or not pdf.is_file() or pdf.stat().st_size != row.get("bytes"):
            return False
        return sha256_file(pdf) == row.get("sha256")

    def record(self, pdf: Path, pages: int) -> None:
        row = {"file": pdf.name, "sha256": sha256_file(pdf), "bytes": pdf.stat().st_size,
               "pages": pages,
               "checked": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        line = (json.dumps(row) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)  # one write of one line: threads never interleave
            finally:
                os.close(fd)
            self._rows[pdf.name] = row
