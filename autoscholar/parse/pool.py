"""Parse PDFs in worker processes with a wall-time and memory limit per PDF.

``parse_isolated(items, workers, timeout, memory_mb) -> Iterator[(Paper, ParsedPaper | ParseError)]``

PyMuPDF can hang, crash or balloon on hostile files. Each worker is a separate (spawned) process
with an address-space limit (``resource.setrlimit(RLIMIT_AS)``); the parent hands out one PDF at
a time, waits on the workers' pipes and exit sentinels with the nearest deadline, and replaces a
worker that times out (killed; ParseError("timeout")), dies (ParseError("worker-crashed")) or runs
out of memory (ParseError("out-of-memory")). Results are yielded as they complete, so nothing
already parsed is lost when a later PDF misbehaves. Closing the iterator, an exception or
Ctrl-C in the parent kills and reaps every child.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path

from autoscholar.errors import ParseError
from autoscholar.records import Paper, ParsedPaper

_OOM_MARKERS = ("out of memory", "cannot allocate", "malloc", "memoryerror")


def _default_parse(paper: Paper, path: Path) -> ParsedPaper:
    from autoscholar.parse.pymupdf.pdf import parse_pdf

    return parse_pdf(paper, path)


def cap_address_space(memory_mb: int) -> None:
    """In a child process: ignore Ctrl-C (the parent decides and kills us) and cap this
    process's address space, so a hostile PDF fails with MemoryError instead of taking the
    machine; never above a hard limit already set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_mb <= 0:
        return
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no RLIMIT_AS on this platform: the time limit still holds


def _worker(conn: Connection, memory_mb: int, parse_fn: Callable) -> None:
    cap_address_space(memory_mb)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        idx, paper, path = task
        try:
            result = ("ok", idx, parse_fn(paper, Path(path)))
        except ParseError as exc:
            result = ("err", idx, exc.reason, exc.detail)
        except MemoryError:
            result = ("err", idx, "out-of-memory", f"over {memory_mb} MB")
        except Exception as exc:  # noqa: BLE001 - any failure of one PDF is that PDF's reject
            text = f"{type(exc).__name__}: {exc}"
            reason = "out-of-memory" if any(m in text.lower() for m in _OOM_MARKERS) else "parser-error"
            result = ("err", idx, reason, text[:300])
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("err", idx, "out-of-memory", "result too large"))
        if result[0] == "err" and result[2] == "out-of-memory":
            return  # a process that hit its limit may be in a bad state: start afresh


class _Slot:
    """One worker process and the task it is working on."""

    def __init__(self, ctx, memory_mb: int, parse_fn: Callable):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker, args=(child, memory_mb, parse_fn), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[int, Paper] | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


def parse_isolated(
    items: Iterable[tuple[Paper, Path]],
    workers: int = 0,
    timeout: float = 120.0,
    memory_mb: int = 2048,
    parse_fn: Callable[[Paper, Path], ParsedPaper] = _default_parse,
) -> Iterator[tuple[Paper, ParsedPaper | ParseError]]:
    """Yield (paper, ParsedPaper or ParseError) for each item as its worker finishes.

    ``parse_fn`` must be importable by name (it runs in a spawned process)."""
    from autoscholar.executors import cpus

    n = workers if workers > 0 else cpus()  # under Ray: the CPUs of this task, not the node
    ctx = mp.get_context("spawn")  # no fork: MuPDF state and parent threads stay out of children
    source = iter(items)
    slots: list[_Slot] = []
    exhausted = False
    counter = 0
    try:
        while True:
            # hand out work to idle workers (starting them lazily, at most n)
            while not exhausted:
                idle = next((s for s in slots if s.task is None), None)
                if idle is None and len(slots) < n:
                    idle = _Slot(ctx, memory_mb, parse_fn)
                    slots.append(idle)
                if idle is None:
                    break
                try:
                    paper, path = next(source)
                except StopIteration:
                    exhausted = True
                    break
                counter += 1
                idle.task = (counter, paper)
                idle.deadline = time.monotonic() + timeout
                idle.conn.send((counter, paper, str(path)))
            busy = [s for s in slots if s.task is not None]
            if not busy:
                return
            wait_for = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=wait_for)
            now = time.monotonic()
            for slot in busy:
                paper = slot.task[1]
                outcome: ParsedPaper | ParseError | None = None
                replace = False
                if slot.conn in ready:
                    try:
                        msg = slot.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg is None:
                        outcome, replace = _crashed(slot), True
                    elif msg[0] == "ok":
                        outcome = msg[2]
                    else:
                        outcome = ParseError(msg[2], msg[3])
                        replace = msg[2] == "out-of-memory"
                elif slot.proc.sentinel in ready:
                    outcome, replace = _crashed(slot), True
                elif now >= slot.deadline:
                    # transient: on a loaded machine a rerun may well finish it
                    outcome = ParseError("timeout", f"no result after {timeout:g} s", transient=True)
                    replace = True
                if outcome is None:
                    continue
                slot.task = None
                if replace:
                    slot.kill()
                    slots.remove(slot)
                yield paper, outcome
    finally:
        for slot in slots:
            slot.kill()


def _crashed(slot: _Slot) -> ParseError:
    slot.proc.join(timeout=5)
    code = slot.proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return ParseError("worker-crashed", f"worker killed by {name}")
    return ParseError("worker-crashed", f"worker exited with code {code}")
