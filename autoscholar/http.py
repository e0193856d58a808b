"""The project's one HTTP client: GET with retries, a User-Agent, a size cap, atomic downloads.

Error messages show URLs redacted (config.redact_url). Standard library only (urllib), so
fetching needs no extra dependency. Transient failures (5xx, 429, timeouts, refused or reset
connections) are retried with capped exponential backoff; anything else (404, 403, a body that
fails its check) fails at once as a permanent ServiceError.

Redirects are followed only to http(s) URLs whose host resolves to public addresses: a listing
or PDF link can point anywhere, and a redirect to ftp:// or to a private, link-local
(169.254.169.254, the cloud metadata service) or loopback address is refused as a permanent
error before any connection to it. A URL given on purpose is never checked (a local Grobid or
LLM server is fine), and a service on loopback may redirect within loopback.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoscholar.config import redact_url
from autoscholar.errors import ServiceError
from autoscholar.io import normal_mode

USER_AGENT = "autoscholar/0.1 (dataset builder; +https://github.com/autoscholar/autoscholar)"
TIMEOUT = 60.0  # seconds per socket operation
RETRIES = 4  # attempts after the first one
BACKOFF_BASE = 1.0  # seconds; doubled each retry
BACKOFF_CAP = 30.0  # never wait longer than this between attempts (also caps Retry-After)
MAX_PAGE_BYTES = 200 * 1024 * 1024  # listing pages and JSON
MAX_PDF_BYTES = 200 * 1024 * 1024
_CHUNK = 1 << 16

_sleep = time.sleep  # tests replace this to skip the waiting


def with_params(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return url
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(params)


def _delay(attempt: int, retry_after: str | None) -> float:
    wait = BACKOFF_BASE * (2**attempt)
    if retry_after and retry_after.strip().isdigit():
        wait = max(wait, float(retry_after.strip()))
    return min(wait, BACKOFF_CAP)


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def redirect_problem(origin_host: str, target: str) -> str | None:
    """Why a redirect to `target` is refused (None: follow it). A redirect from a loopback
    host may stay on loopback (the tests' local servers, a local mirror)."""
    parts = urllib.parse.urlsplit(target)
    if parts.scheme not in ("http", "https"):
        return f"to a {parts.scheme or 'schemeless'} URL, not http(s)"
    if not parts.hostname:
        return "to a URL without a host"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None)
    except OSError:
        return None  # unresolvable: following it fails as an ordinary connection error
    local_ok = _is_loopback(origin_host)
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip.is_loopback and local_ok:
            continue
        if not ip.is_global:
            return f"to {ip}, not a public address"
    return None


class _PublicRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urllib.parse.urljoin(req.full_url, newurl)
        origin = urllib.parse.urlsplit(req.full_url).hostname or ""
        # origin_req_host is the first request's host, carried along the redirect chain.
        problem = redirect_problem(req.origin_req_host or origin, target)
        if problem:
            raise ServiceError(f"GET {redact_url(req.full_url)}: refused a redirect {problem} "
                               f"({redact_url(target)})", transient=False)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_PublicRedirects)


def _open(url: str, timeout: float):
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ServiceError(f"refusing to fetch non-HTTP URL: {redact_url(url)}", transient=False)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    return _OPENER.open(request, timeout=timeout)  # scheme checked, redirects checked


def _with_retries(url: str, action: Callable[[Any], Any], timeout: float, retries: int) -> Any:
    """Open url and hand the response to action; retry the whole thing on transient failures."""
    last = ""
    for attempt in range(retries + 1):
        retry_after = None
        try:
            with _open(url, timeout) as response:
                return action(response)
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise ServiceError(f"GET {redact_url(url)}: HTTP {exc.code} {exc.reason}", transient=False)
            last = f"HTTP {exc.code} {exc.reason}"
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, TimeoutError,
                ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
        if attempt < retries:
            _sleep(_delay(attempt, retry_after))
    attempts = f"{retries + 1} attempt{'s' if retries else ''}"
    raise ServiceError(f"GET {redact_url(url)}: {last} (gave up after {attempts})", transient=True)


def _read_capped(response, limit: int, url: str) -> bytes:
    chunks, size = [], 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ServiceError(f"GET {redact_url(url)}: response larger than {limit} bytes", transient=False)
        chunks.append(chunk)
    return b"".join(chunks)


def get_bytes(url: str, params: dict[str, Any] | None = None, *, timeout: float = TIMEOUT,
              retries: int = RETRIES, max_bytes: int = MAX_PAGE_BYTES) -> bytes:
    full = with_params(url, params)
    return _with_retries(full, lambda r: _read_capped(r, max_bytes, full), timeout, retries)


def get_json(url: str, params: dict[str, Any] | None = None, **kwargs) -> Any:
    body = get_bytes(url, params, **kwargs)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ServiceError(f"GET {redact_url(with_params(url, params))}: not JSON ({exc})", transient=False)


def download(url: str, dest: Path, *, check: Callable[[bytes], str | None] | None = None,
             timeout: float = TIMEOUT, retries: int = RETRIES,
             max_bytes: int = MAX_PDF_BYTES) -> Path:
    """Stream url into dest atomically: a temp file beside dest, checked, then os.replace.

    check(first_bytes) returns None when the body is acceptable, or a short reason when not;
    a rejected body is a permanent error and leaves nothing behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.part"):  # left by a killed earlier run
        stale.unlink(missing_ok=True)

    def save(response) -> Path:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            normal_mode(fd)
            size, head = 0, b""
            with os.fdopen(fd, "wb") as out:
                while chunk := response.read(_CHUNK):
                    if len(head) < 1024:
                        head += chunk[: 1024 - len(head)]
                    size += len(chunk)
                    if size > max_bytes:
                        raise ServiceError(f"GET {redact_url(url)}: larger than {max_bytes} bytes",
                                           transient=False)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if check is not None and (problem := check(head)):
                raise ServiceError(f"GET {redact_url(url)}: {problem}", transient=False)
            os.replace(tmp, dest)
            return dest
        finally:
            tmp.unlink(missing_ok=True)

    return _with_retries(url, save, timeout, retries)
