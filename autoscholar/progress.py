"""Progress on stderr, so stdout stays clean for JSON output."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeRemainingColumn)

from .errors import InputError


ENV_INTERVAL = "AUTOSCHOLAR_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 10.0


def interval() -> float:
    """Seconds between progress lines when stderr is no terminal (0: none)."""
    raw = os.environ.get(ENV_INTERVAL, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_INTERVAL
    except ValueError:
        raise InputError(f"{ENV_INTERVAL}={raw!r} is not a number of seconds") from None
    if value < 0:
        raise InputError(f"{ENV_INTERVAL}={raw!r}: must be 0 (off) or more seconds")
    return value


class bar:
    """A rich progress bar on stderr when it is a terminal. Otherwise (CI logs, nohup, pipes)
    one plain line every interval() seconds, so a long stage is not silent until its end:
    `parse: 12/40 done, 1 rejected, 35 s`."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.tty = sys.stderr.isatty()
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not self.tty,
            transient=False,
        )
        self.done = self.rejected = 0
        self.every = 0.0 if self.tty else interval()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._lines = 0

    def _line(self) -> None:
        seconds = time.monotonic() - self._start
        print(f"{self.label}: {self.done}/{self.total} done, {self.rejected} rejected, "
              f"{seconds:.0f} s", file=sys.stderr, flush=True)
        self._lines += 1

    def _tick(self) -> None:
        # A thread, not a check on each advance: a single slow input still shows a line.
        while not self._stop.wait(self.every):
            self._line()

    def __enter__(self) -> Callable[..., None]:
        self.bar.__enter__()
        task = self.bar.add_task(self.label, total=self.total)
        self._start = time.monotonic()
        if self.every > 0:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

        def advance(rejected: bool = False) -> None:
            self.done += 1
            self.rejected += rejected
            self.bar.advance(task)

        return advance

    def __exit__(self, *exc) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            if self._lines:  # the stage was long enough to report: say where it ended
                self._line()
        self.bar.__exit__(*exc)


def counter(label: str) -> Progress:
    """An open-ended progress line on stderr (a terminal only): `with counter(...) as bar:`
    then `bar.update(bar.task_ids[0], completed=n)`."""
    line = Progress(SpinnerColumn(), TextColumn(f"[bold]{label}[/] {{task.completed:,}}"),
                    console=Console(stderr=True), disable=not sys.stderr.isatty())
    line.add_task(label, total=None)
    return line
