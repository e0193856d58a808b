"""A PDF host for download tests: real HTTP on 127.0.0.1 that misbehaves on demand.

GET /<name>.pdf serves a real PDF (made with PyMuPDF) after `delay` seconds. A script per name
injects faults, one step per request, then the PDF is served:
  "short"    Content-Length 1000 bytes longer than the body, then the connection closes
  "stall"    headers and half the body, then nothing for `stall` seconds
  "cut"      a body cut before its %%EOF, with a Content-Length that matches it
  "html"     a 200 HTML page (a login wall, an error page)
  "garbage"  starts with %PDF- and ends with %%EOF, but is no PDF
  ("429-date", SECONDS)  429 with Retry-After as an HTTP-date SECONDS from now
  ("503-secs", SECONDS)  503 with Retry-After in delay-seconds
Every request is recorded with its arrival time (time.monotonic) and how many requests were
being served at that moment, so tests can check overlap and per-host limits.
"""

from __future__ import annotations

import email.utils
import threading
import time
from http.server import BaseHTTPRequestHandler

import pymupdf

from local_server import LocalServer


def make_pdf(title: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), title, fontsize=14)
    for line in range(60):  # a body of some KiB, uncompressed, to stream and to cut
        page.insert_text((72, 100 + line * 11), f"line {line}: " + " ".join(
            f"w{line * 31 + k}" for k in range(14)), fontsize=8)
    data = doc.tobytes(deflate=False)
    doc.close()
    return data


class PdfHost(LocalServer):
    def __init__(self, delay: float = 0.0, stall: float = 3.0):
        self.delay, self.stall = delay, stall
        self.scripts: dict[str, list] = {}
        self.arrivals: list[tuple[float, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._pdfs: dict[str, bytes] = {}
        self._listen(self._handler(), poll_interval=0.05)

    def pdf(self, name: str) -> bytes:
        with self._lock:
            made = self._pdfs.get(name)
        if made is None:  # made outside the lock: requests for other names go on meanwhile
            made = make_pdf(f"Paper {name}")
            with self._lock:
                made = self._pdfs.setdefault(name, made)
        return made

    def url(self, name: str) -> str:
        return f"{self.root}/{name}.pdf"

    def hits(self, name: str) -> list[float]:
        return [t for t, path in self.arrivals if path == f"/{name}.pdf"]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _head(self, status: int, length: int | None, ctype: str = "application/pdf",
                      extra: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()

            def do_GET(self) -> None:
                name = self.path.lstrip("/").removesuffix(".pdf")
                with fake._lock:
                    fake.arrivals.append((time.monotonic(), self.path))
                    script = fake.scripts.get(name) or []
                    step = script.pop(0) if script else "ok"
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(step, fake.pdf(name))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a stall: as a real server sees it
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, step, pdf: bytes) -> None:
                kind, arg = (step, None) if isinstance(step, str) else step
                if kind == "ok":
                    time.sleep(fake.delay)
                    self._head(200, len(pdf))
                    self.wfile.write(pdf)
                elif kind == "short":
                    self._head(200, len(pdf) + 1000)
                    self.wfile.write(pdf)
                    self.close_connection = True
                elif kind == "stall":
                    self._head(200, len(pdf))
                    self.wfile.write(pdf[: len(pdf) // 2])
                    self.wfile.flush()
                    time.sleep(fake.stall)
                    self.wfile.write(pdf[len(pdf) // 2:])
                elif kind == "cut":
                    body = pdf[: len(pdf) // 2]
                    self._head(200, len(body))
                    self.wfile.write(body)
                elif kind == "html":
                    body = b"<!DOCTYPE html><html><body>Please log in</body></html>"
                    self._head(200, len(body), "text/html; charset=utf-8")
                    self.wfile.write(body)
                elif kind == "garbage":
                    body = b"%PDF-1.7\n" + b"\x00not really a pdf\x00" * 200 + b"\n%%EOF\n"
                    self._head(200, len(body))
                    self.wfile.write(body)
                elif kind == "429-date":
                    when = email.utils.formatdate(time.time() + arg, usegmt=True)
                    self._head(429, 0, "text/plain", {"Retry-After": when})
                elif kind == "503-secs":
                    self._head(503, 0, "text/plain", {"Retry-After": str(arg)})
                else:
                    raise AssertionError(f"unknown step {step!r}")

        return Handler
