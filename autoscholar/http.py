"""The project's one HTTP client: GET with retries, a User-Agent, a size cap, atomic downloads.

Error messages show URLs redacted (config.redact_url). Standard library only (urllib), so
fetching needs no extra dependency. Every request first takes a slot of its host
(hostlimit.py: requests per second and in flight). Transient failures (5xx, 429, timeouts,
stalls mid-body, refused or reset connections, a body shorter than its Content-Length) and
bodies that fail the caller's check are retried with capped exponential backoff, or after the
server's Retry-After (seconds or HTTP-date, up to RETRY_AFTER_CAP, for the whole host); a 404 or
403 fails at once as a permanent ServiceError. Retries are counted by cause in a Tally.

Redirects are followed only to http(s) URLs whose host resolves to public addresses: a listing
or PDF link can point anywhere, and a redirect to ftp:// or to a private, link-local
(169.254.169.254, the cloud metadata service) or loopback address is refused as a permanent
error before any connection to it. A URL given on purpose is never checked (a local Grobid or
LLM server is fine), and a service on loopback may redirect within loopback.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoscholar import hostlimit
from autoscholar.config import redact_url
from autoscholar.errors import ServiceError
from autoscholar.io import normal_mode

USER_AGENT = "autoscholar/0.1 (dataset builder; +https://github.com/autoscholar/autoscholar)"
TIMEOUT = 60.0  # seconds per socket operation: a body that stalls this long is retried
RETRIES = 4  # attempts after the first one
BACKOFF_BASE = 1.0  # seconds; doubled each retry
BACKOFF_CAP = 30.0  # our own backoff never waits longer than this between attempts
# A server's Retry-After is honoured up to this (a 429 asking for 10 minutes gets them); one
# asking for longer is not waited on here: the download fails as transient, a rerun retries.
RETRY_AFTER_CAP = 600.0
DEADLINE = 1800.0  # seconds one download may take, waits and retries included
MAX_PAGE_BYTES = 200 * 1024 * 1024  # listing pages and JSON
MAX_PDF_BYTES = 200 * 1024 * 1024
_CHUNK = 1 << 16

_sleep = time.sleep  # tests replace this to skip the waiting


class Tally:
    """Retries counted by cause (http-429, stall, content-length, ...), across threads: what
    the fetch stage reports in the manifest."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, cause: str) -> None:
        with self._lock:
            self._counts[cause] = self._counts.get(cause, 0) + 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


class Retry(Exception):
    """A response that arrived but failed a check: retried, and named if it never passes.
    transient: whether a later run could fare better (a cut body) or not (not a PDF)."""

    def __init__(self, cause: str, detail: str, transient: bool = True):
        super().__init__(detail)
        self.cause, self.detail, self.transient = cause, detail, transient


def with_params(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return url
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(params)


def _delay(attempt: int) -> float:
    return min(BACKOFF_BASE * (2**attempt), BACKOFF_CAP)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for, in either RFC 9110 form: delay-seconds ("120")
    or an HTTP-date ("Fri, 31 Dec 1999 23:59:59 GMT"); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 9110: HTTP-dates are GMT
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


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


def _with_retries(url: str, action: Callable[[Any, float | None], Any], timeout: float,
                  retries: int, *, deadline: float | None = None,
                  retry_after_cap: float | None = None, tally: Tally | None = None) -> Any:
    """Open url in a slot of its host and hand the response (and the monotonic end of the
    deadline) to action; retry the whole thing on transient failures and failed checks.

    A 429 or 503 with Retry-After holds the host for everyone for as long as it asks (up to
    retry_after_cap); without one, this request backs off exponentially."""
    limiter = hostlimit.LIMITER
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    cap = RETRY_AFTER_CAP if retry_after_cap is None else retry_after_cap
    end = None if deadline is None else time.monotonic() + deadline
    last, transient = "", True
    for attempt in range(retries + 1):
        asked = None
        try:
            with limiter.slot(host), _open(url, timeout) as response:
                return action(response, end)
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise ServiceError(f"GET {redact_url(url)}: HTTP {exc.code} {exc.reason}", transient=False)
            last, cause, transient = f"HTTP {exc.code} {exc.reason}", f"http-{exc.code}", True
            asked = retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            if asked is not None and asked > cap:
                raise ServiceError(f"GET {redact_url(url)}: {last}, and the server asks to wait "
                                   f"{asked:.0f} s, more than the {cap:g} s we wait "
                                   "(--retry-after-cap): rerun later", transient=True) from None
        except Retry as exc:
            last, cause, transient = exc.detail, exc.cause, exc.transient
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, TimeoutError,
                ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
            timed_out = isinstance(reason, (socket.timeout, TimeoutError))
            cause, transient = ("stall" if timed_out else "connection"), True
            if timed_out:
                last = f"no data for {timeout:g} s ({last})"
        if attempt >= retries:
            break
        wait = asked if asked is not None else _delay(attempt)
        if end is not None and time.monotonic() + wait > end:
            raise ServiceError(f"GET {redact_url(url)}: {last} (gave up: the {deadline:g} s "
                               "deadline would pass before the next attempt)", transient=True)
        if tally is not None:
            tally.add(cause)
        if asked is not None:
            # Every worker waits, not only this one; "Retry-After: 0" still backs off a little.
            limiter.hold(host, max(asked, _delay(attempt)))
        else:
            _sleep(wait)
    attempts = f"{retries + 1} attempt{'s' if retries else ''}"
    raise ServiceError(f"GET {redact_url(url)}: {last} (gave up after {attempts})",
                       transient=transient)


def _read_capped(response, limit: int, url: str) -> bytes:
    chunks, size = [], 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ServiceError(f"GET {redact_url(url)}: response larger than {limit} bytes", transient=False)
        chunks.append(chunk)
    body = b"".join(chunks)
    _check_length(response, len(body))
    return body


def _check_length(response, size: int) -> None:
    """urllib returns a body cut short of its Content-Length without a word: check it here."""
    declared = response.headers.get("Content-Length")
    encoding = (response.headers.get("Content-Encoding") or "identity").lower()
    if declared and declared.strip().isdigit() and encoding == "identity" \
            and size != int(declared):
        raise Retry("content-length", f"short body: {size} of the {int(declared)} bytes its "
                    "Content-Length announced")


def get_bytes(url: str, params: dict[str, Any] | None = None, *, timeout: float = TIMEOUT,
              retries: int = RETRIES, max_bytes: int = MAX_PAGE_BYTES,
              tally: Tally | None = None) -> bytes:
    full = with_params(url, params)
    return _with_retries(full, lambda r, _end: _read_capped(r, max_bytes, full), timeout,
                         retries, tally=tally)


def get_json(url: str, params: dict[str, Any] | None = None, **kwargs) -> Any:
    body = get_bytes(url, params, **kwargs)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ServiceError(f"GET {redact_url(with_params(url, params))}: not JSON ({exc})", transient=False)


def download(url: str, dest: Path, *, check: Callable[[Path], None] | None = None,
             timeout: float = TIMEOUT, retries: int = RETRIES,
             max_bytes: int = MAX_PDF_BYTES, deadline: float | None = DEADLINE,
             retry_after_cap: float | None = None, tally: Tally | None = None) -> Path:
    """Stream url into dest atomically: a temp file beside dest, checked, then os.replace.

    The body must be as long as its Content-Length says; check(temp_path) raises Retry naming
    what is wrong with a complete body (not a PDF, no %%EOF). A failed check deletes the temp
    file and the download is tried again; the last failure is the error. A body that stalls
    for `timeout` seconds, or a download past `deadline` seconds in all, fails too.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.part"):  # left by a killed earlier run
        stale.unlink(missing_ok=True)

    def save(response, end: float | None) -> Path:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            normal_mode(fd)
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ServiceError(f"GET {redact_url(url)}: larger than {max_bytes} bytes",
                                           transient=False)
                    if end is not None and time.monotonic() > end:  # a trickle never stalls
                        raise ServiceError(f"GET {redact_url(url)}: not done within the "
                                           f"{deadline:g} s deadline ({size} bytes so far)",
                                           transient=True)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            _check_length(response, size)
            if check is not None:
                check(tmp)
            os.replace(tmp, dest)
            return dest
        finally:
            tmp.unlink(missing_ok=True)

    return _with_retries(url, save, timeout, retries, deadline=deadline,
                         retry_after_cap=retry_after_cap, tally=tally)
