"""Errors written for the person at the terminal: the CLI prints str(error) as one line."""


class AutoscholarError(Exception):
    """Base class: anything the user can fix (bad input, missing server, bad flag)."""


class InputError(AutoscholarError):
    """A file or flag the user gave is unusable."""


class ParseError(AutoscholarError):
    """A PDF or TEI document could not be parsed; `reason` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str = "", transient: bool = False):
        self.reason = reason
        self.detail = detail
        # Transient (server busy, timeout): a rerun tries again. Otherwise it is final.
        self.transient = transient
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ServiceError(AutoscholarError):
    """A server we talk to (Grobid, an LLM endpoint, a venue site) failed or is unreachable."""

    def __init__(self, message: str, transient: bool = True):
        self.transient = transient
        super().__init__(message)


class LLMOutputError(AutoscholarError):
    """The model answered, but not with output we can validate. `reason` is the reject reason
    (malformed-llm-output, truncated-llm-output, llm-refusal); `raw` what the model said."""

    def __init__(self, message: str, reason: str = "malformed-llm-output", raw: str = ""):
        self.reason = reason
        self.raw = raw
        super().__init__(message)


def os_error_line(exc: OSError) -> str:
    """An OSError (disk full, read-only or missing folder) as one line naming the path: what
    the person at the terminal needs to free space or pick another --out."""
    what = exc.strerror or str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else "a file"
    hint = " (free some space and rerun: finished work is kept)" if exc.errno == 28 else ""
    return f"cannot use {where}: {what}{hint}"
