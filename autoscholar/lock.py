"""One build at a time per run directory: an exclusive flock on <run_dir>/.lock.

Two builds appending to the same stage files would duplicate records and pay every LLM call
twice. flock is released by the kernel when its holder dies, so a lock left by a killed process
never blocks the next run; the file's text only says who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path

from .config import redact_argv
from .errors import InputError


class RunLock:
    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / ".lock"
        self._fh = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            try:
                who = json.loads(holder)
                desc = f"pid {who['pid']} ({who['command']}, since {who['since']})"
            except (ValueError, KeyError, TypeError):
                desc = "another process"
            raise InputError(f"{self.path.parent} is in use by {desc}: wait for it to finish "
                             "or stop it, or use another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "command": " ".join(redact_argv(sys.argv))[:300],
                             "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
