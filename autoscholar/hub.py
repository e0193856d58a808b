"""Push the published dataset folder (`<run>/dataset/hf`) to a dataset repo on the Hugging Face Hub.

The folder is already in the Hub's layout (data/<split>-00000-of-00001.parquet plus a README.md
card with YAML `configs`), so pushing is one commit, the card after the data. Remote files that are not in
the folder are deleted in the same commit, so after a push the repo holds exactly the folder (and
the Hub's own .gitattributes): a split that became empty does not linger on the Hub.

The token is only ever handed to huggingface_hub, which sends it as the `authorization` header;
every message we build is scrubbed of it in case a server echoes it back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import __version__
from .errors import InputError, ServiceError

log = logging.getLogger(__name__)

def resolve_endpoint(endpoint: str | None) -> str | None:
    """The endpoint given, else HF_ENDPOINT read now (huggingface_hub only reads it at import),
    else None: the library's default (huggingface.co, or its staging host when asked)."""
    chosen = endpoint or os.environ.get("HF_ENDPOINT") or None
    return chosen.rstrip("/") if chosen else None


def check_folder(hf_dir: Path) -> list[str]:
    """The files a push would upload, relative to hf_dir; InputError when it is not a dataset.
    Only the card and data/*.parquet: anything else in the folder (editor or temp files such as
    write_atomic's `.README.md.*.tmp` after a crash) is neither uploaded nor kept on the Hub."""
    if not hf_dir.is_dir():
        raise InputError(f"{hf_dir} is not a folder: run `autoscholar publish` first")
    if not (hf_dir / "README.md").is_file():
        raise InputError(f"{hf_dir} has no README.md dataset card: run `autoscholar publish` again")
    parquet = sorted(p.relative_to(hf_dir).as_posix() for p in (hf_dir / "data").glob("*.parquet"))
    if not parquet:
        raise InputError(f"{hf_dir}/data has no parquet files: the published dataset is empty")
    return ["README.md", *parquet]


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise InputError(f"Hub repo must be OWNER/NAME, got {repo_id!r}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise InputError(f"invalid Hub repo {repo_id!r}: {str(exc).splitlines()[0]}") from None


def operations(api, repo_id: str, hf_dir: Path, files: list[str]) -> list:
    """One commit: remote files the folder no longer has deleted, the parquet files added, and
    the card last. upload_folder would send the card first (it sorts paths) and, with hf_xet,
    may split a folder over several commits; one commit with the card after the data means the
    Hub never shows a card describing files it does not hold yet."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    remote = api.list_repo_files(repo_id, repo_type="dataset")
    stale = [path for path in remote if path not in files and path != ".gitattributes"]
    data = [f for f in files if f != "README.md"]
    return ([CommitOperationDelete(path_in_repo=path) for path in stale]
            + [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(hf_dir / f))
               for f in [*data, "README.md"]])


def push(hf_dir: Path, repo_id: str, token: str | None, endpoint: str | None = None,
         private: bool = False) -> str:
    """Create the dataset repo if needed and commit the folder to its main branch; returns the
    commit URL. `token` None falls back to HF_TOKEN or a saved `hf auth login` token. `private`
    only applies when the repo is created: an existing repo keeps its visibility."""
    from huggingface_hub import HfApi, get_token

    hf_dir = Path(hf_dir)
    files = check_folder(hf_dir)
    check_repo_id(repo_id)
    endpoint = resolve_endpoint(endpoint)
    token = token or get_token()
    if not token:
        raise InputError("no Hugging Face token: set AUTOSCHOLAR_HUB_TOKEN or HF_TOKEN "
                         "(a token with write access), or run `hf auth login`")
    api = HfApi(endpoint=endpoint, token=token)
    where = api.endpoint
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=operations(api, repo_id, hf_dir, files),
            commit_message=f"Publish dataset ({len(files)} files) with autoscholar {__version__}",
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line, or is re-raised
        error = service_error(exc, repo_id, where, token)
        if error is None:
            raise
        # Keep the library's error for tracebacks, unless a server echoed the token into it.
        leaks = any(token in str(e) for e in _chain(exc))
        raise error from (None if leaks else exc)
    log.info("pushed %d files to dataset %s on %s: %s", len(files), repo_id, where, info.commit_url)
    return info.commit_url


def _transport_error() -> type[Exception]:
    try:
        from httpx2 import TransportError
    except ImportError:  # huggingface_hub before 2.x spoke httpx
        from httpx import TransportError
    return TransportError


def _chain(exc: BaseException):
    """exc, then what caused it (the library wraps LFS upload failures in RuntimeError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__


def service_error(exc: Exception, repo_id: str, endpoint: str, token: str) -> ServiceError | None:
    """A one-line ServiceError for a failure of the push, or None for a bug of ours."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    transport = _transport_error()
    repo = f"dataset repo {repo_id} on {endpoint}"
    if isinstance(exc, ValueError) and not isinstance(exc, HfHubHTTPError):
        # The library's own verdict, e.g. "Invalid metadata in README.md" with the Hub's reasons.
        return _scrubbed(f"pushing to {repo} failed: {_one_line(exc)}", token, transient=False)
    for cause in _chain(exc):
        if isinstance(cause, OfflineModeIsEnabled):
            return _scrubbed("cannot push to the Hugging Face Hub: HF_HUB_OFFLINE is set", token,
                             transient=False)
        if isinstance(cause, transport):
            return _scrubbed(f"cannot reach the Hugging Face Hub at {endpoint}: "
                             f"{_one_line(cause) or type(cause).__name__}", token)
        if isinstance(cause, HfHubHTTPError):
            status = cause.response.status_code if cause.response is not None else 0
            server = _one_line(cause.server_message or "", sep="; ")
            detail = f" ({server})" if server else ""
            if isinstance(cause, RepositoryNotFoundError):
                msg = f"{repo} not found, or the token cannot see it: HTTP {status}{detail}"
            elif status == 401:
                msg = (f"the Hugging Face Hub at {endpoint} rejected the token: 401 Unauthorized"
                       f"{detail}; check AUTOSCHOLAR_HUB_TOKEN / HF_TOKEN")
            elif status == 403:
                msg = (f"the token may not write to {repo}: 403 Forbidden{detail}; it needs write "
                       "access to that namespace")
            else:
                msg = f"the Hugging Face Hub refused the push to {repo}: HTTP {status}{detail}"
            return _scrubbed(msg, token, transient=status >= 500 or status == 429)
    if isinstance(exc, (RuntimeError, OSError)):
        # A failed Xet or LFS transfer that carries no HTTP answer.
        return _scrubbed(f"pushing to {repo} failed: {_one_line(exc) or type(exc).__name__}",
                         token)
    return None


def _one_line(value: object, limit: int = 300, sep: str = " ") -> str:
    """The library's messages span lines (URL, hints, server text): one line for the terminal."""
    text = sep.join(line.strip() for line in str(value).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scrubbed(message: str, token: str, transient: bool = True) -> ServiceError:
    return ServiceError(message.replace(token, "***") if token else message, transient=transient)
