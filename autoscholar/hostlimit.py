"""Per-host politeness: requests per second and requests in flight, for every host we fetch from.

Every request of the HTTP client (listings, PDFs, the arXiv API) takes a slot of its host first:
at most `inflight` at once, and starts at least 1/rps seconds apart. A server that answers 429
or 503 with Retry-After holds its host: no worker starts a request there before the time asked.

The defaults are what each service asks of automated clients, where it says; a host not listed
gets DEFAULT, and a loopback host (a test server, a local mirror, a local Grobid) is not limited
unless `--host-rate` names it. `--host-rate HOST=RPS[:INFLIGHT]` overrides any of them.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class HostLimit:
    rps: float  # request starts per second; 0 means no spacing
    inflight: int  # requests at once

    def __str__(self) -> str:
        return f"{self.rps:g}:{self.inflight}"


# Where each default comes from (looked up 2026-12; say so here when one changes):
ARXIV = HostLimit(1 / 3, 1)  # info.arxiv.org/help/api/tou.html: "no more than one request every
#                              three seconds", "a single connection at a time"
# OpenReview: guests are limited per minute and per hour; a 2026 report (mireklzicar/
# openreview_downloader#4) shows GET /attachment (the PDFs) answering 429 after 36 requests in
# an hour, "try again in 60 minutes"; openreview/openreview#254 (2025) raised guest search to
# 20/min. One at a time, 36 an hour, is what the service allows; log in or raise it knowingly.
OPENREVIEW = HostLimit(36 / 3600, 1)
# aclanthology.org/robots.txt (acl-org/acl-anthology hugo/static/robots.txt): "User-agent: *
# Disallow:" and no Crawl-delay; one request a second, two at once, is still a polite crawler.
ACL = HostLimit(1.0, 2)
# CVF open access, PMLR and papers.nips.cc publish no crawl rate that we could find (no
# Crawl-delay known for them): the generic polite default below.
DEFAULT = HostLimit(1.0, 2)

DEFAULT_LIMITS: dict[str, HostLimit] = {
    "export.arxiv.org": ARXIV,
    "arxiv.org": ARXIV,
    "openreview.net": OPENREVIEW,
    "api.openreview.net": OPENREVIEW,
    "api2.openreview.net": OPENREVIEW,
    "aclanthology.org": ACL,
    "openaccess.thecvf.com": DEFAULT,
    "proceedings.mlr.press": DEFAULT,
    "papers.nips.cc": DEFAULT,
    "proceedings.neurips.cc": DEFAULT,
}


def parse_host_rate(text: str) -> tuple[str, HostLimit]:
    """'HOST=RPS[:INFLIGHT]' -> (host, HostLimit); INFLIGHT defaults to 1."""
    host, eq, rate = text.partition("=")
    rps_text, _, inflight_text = rate.partition(":")
    try:
        rps, inflight = float(rps_text), int(inflight_text or 1)
    except ValueError:
        rps, inflight = -1.0, 0
    if not eq or not host.strip() or rps < 0 or inflight < 1:
        raise ValueError(f"--host-rate wants HOST=RPS[:INFLIGHT] (e.g. aclanthology.org=0.5:2), "
                         f"got {text!r}")
    return host.strip().lower(), HostLimit(rps, inflight)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Host:
    def __init__(self, limit: HostLimit | None):
        self.limit = limit
        self.cond = threading.Condition()
        self.running = 0
        self.next_start = 0.0  # monotonic time before which no request may start


class HostLimiter:
    """Slots per host; thread-safe. `overrides` win over DEFAULT_LIMITS."""

    def __init__(self, overrides: dict[str, HostLimit] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self._clock = clock
        self._rules: dict[str, HostLimit] = {}  # default_for(): a client's own rule
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def limit_of(self, host: str) -> HostLimit | None:
        """The limit a host gets (None: not limited)."""
        host = host.lower()
        if host in self.overrides:
            return self.overrides[host]
        if host in self._rules:
            return self._rules[host]
        if _is_loopback(host):
            return None
        return DEFAULT_LIMITS.get(host, DEFAULT)

    def default_for(self, host: str, limit: HostLimit) -> None:
        """A client's own rule for a host (the arXiv API's 3 s wherever it points), used
        unless --host-rate names that host."""
        host = host.lower()
        with self._lock:
            self._rules[host] = limit
            if host not in self.overrides:
                self._hosts.pop(host, None)  # the next slot sees the new rule

    def _host(self, host: str) -> _Host:
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = _Host(self.limit_of(host))
            return self._hosts[host]

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Wait for a free slot of `host` (and its spacing, and any hold), then hold it."""
        h = self._host(host.lower())
        with h.cond:
            while True:
                now = self._clock()
                busy = h.limit is not None and h.running >= h.limit.inflight
                if not busy and now >= h.next_start:
                    break
                h.cond.wait(timeout=None if busy else h.next_start - now)
            h.running += 1
            if h.limit is not None and h.limit.rps > 0:
                h.next_start = max(h.next_start, now + 1 / h.limit.rps)
        try:
            yield
        finally:
            with h.cond:
                h.running -= 1
                h.cond.notify_all()

    def hold(self, host: str, seconds: float) -> None:
        """No request to `host` starts in the next `seconds` (a server's Retry-After)."""
        h = self._host(host.lower())
        with h.cond:
            h.next_start = max(h.next_start, self._clock() + seconds)
            h.cond.notify_all()


LIMITER = HostLimiter()  # the process's limiter; configure() replaces its overrides


def configure(overrides: dict[str, HostLimit]) -> None:
    """Set the --host-rate overrides for this process (slots already waited on keep theirs)."""
    global LIMITER
    LIMITER = HostLimiter(overrides)


def configure_from(settings) -> None:
    """configure() from Settings.host_rates (already checked by Settings)."""
    configure(dict(parse_host_rate(text) for text in settings.host_rates))
