"""Checks, before fetch starts, that the services later stages need are there: a missing
Grobid or an unusable index is one line now, not a failure hours later at parse or match.

CHECKS is the registry: (name, applies to these settings, check raising AutoscholarError).
Offline settings need no network: the LLM check only looks for a key, so it never pays.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import Settings
from .errors import AutoscholarError, InputError


def _grobid(settings: Settings) -> None:
    from .parse.grobid.client import connect

    connect(settings)  # /api/isalive, with the start hint when nothing answers


def _arxiv_index(settings: Settings) -> None:
    from .arxiv.index import load_index
    from .match import SNAPSHOT_SUFFIXES, index_source

    source = index_source(settings)
    if source.is_file() and source.name.endswith(SNAPSHOT_SUFFIXES):
        return  # a snapshot, built into the run directory at match; its reader checks it then
    index = load_index(source)  # format version and every array, or one error line
    if len(index) == 0:
        raise InputError(f"arXiv index {source} has no records: rebuild it from a snapshot")


def _llm_key(settings: Settings) -> None:
    from .generate.llm import api_key

    # A local endpoint (vLLM, Ollama, llama.cpp) takes any key; OpenAI itself needs one.
    if settings.llm_base_url is None and not api_key(settings):  # unset or ""
        raise InputError(f"--llm {settings.llm} needs an API key: set AUTOSCHOLAR_LLM_API_KEY "
                         "or OPENAI_API_KEY, or pass --llm-base-url for a local endpoint")


CHECKS: tuple[tuple[str, Callable[[Settings], bool], Callable[[Settings], None]], ...] = (
    ("llm", lambda s: s.llm != "none", _llm_key),
    ("grobid", lambda s: s.parser == "grobid", _grobid),
    ("arxiv-index", lambda s: True, _arxiv_index),
)


def preflight(settings: Settings) -> list[str]:
    """Every failing check as one line (all of them, so one run shows everything to fix)."""
    failures = []
    for name, applies, check in CHECKS:
        if applies(settings):
            try:
                check(settings)
            except AutoscholarError as exc:
                failures.append(f"preflight {name}: {exc}")
    return failures
