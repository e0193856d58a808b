"""A local stand-in for Grobid's REST API, for tests: real HTTP on 127.0.0.1, a random port.

It answers as Grobid 0.8 does (grobid-service sources at kermitt2/grobid b8d6bec, copied in
../shared/data/venues/grobid with FACTS.md):
- GET /api/isalive -> 200 text/plain "true" (GrobidRestService.isAlive);
- GET /api/health -> 200 with an empty body (HealthResource.alive: Response.ok().build()): it
  says nothing about the engine pool;
- multipart POST /api/processFulltextDocument -> a TEI chosen by the uploaded file's name. With
  a `pool`, at most that many documents are worked on at once (Grobid's `concurrency`); a
  request that finds no free engine within `pool_max_wait` seconds (`poolMaxWait`, default 1)
  gets 503 with no body and no Retry-After, as GrobidRestProcessFiles answers the pool's
  NoSuchElementException.
A script per file name injects failures: a list of steps consumed one per request, each
(status, body, delay_seconds), status 0 meaning "close the connection without answering";
once the script is used up the TEI is served.
"""

from __future__ import annotations

import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler

from local_server import LocalServer

Step = tuple[int, str, float]


class FakeGrobid(LocalServer):
    def __init__(self, tei_by_name: dict[str, bytes], pool: int | None = None,
                 pool_max_wait: float = 1.0, work_time: float = 0.02):
        self.tei_by_name = tei_by_name
        self.pool = pool
        self.pool_max_wait = pool_max_wait
        self.work_time = work_time  # long enough for concurrent requests to overlap
        self.engines = threading.BoundedSemaphore(pool) if pool else None
        self.busy_answers = 0  # 503s sent because the pool was full
        self.scripts: dict[str, list[Step]] = {}
        self.requests: list[dict] = []  # one per processFulltextDocument call
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._listen(self._handler())
        self.url = self.root

    def calls(self, name: str) -> int:
        return sum(1 for r in self.requests if r["filename"] == name)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, ctype: str | None) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith("/api/isalive"):
                    self._send(200, b"true", "text/plain")
                elif self.path.startswith("/api/health"):
                    self._send(200, b"", None)  # Response.ok().build(): no entity
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                if not self.path.startswith("/api/processFulltextDocument"):
                    self._send(404, b"not found", "text/plain")
                    return
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                msg = BytesParser(policy=HTTP).parsebytes(head + raw)
                fields, filename, pdf = {}, None, b""
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if part.get_filename():
                        filename, pdf = part.get_filename(), part.get_payload(decode=True)
                    else:
                        fields[name] = part.get_content().strip()
                with fake._lock:
                    fake.requests.append({"filename": filename, "fields": fields, "size": len(pdf),
                                          "accept": self.headers.get("Accept")})
                if fake.engines and not fake.engines.acquire(timeout=fake.pool_max_wait):
                    with fake._lock:
                        fake.busy_answers += 1
                    self._send(503, b"", None)  # no engine within poolMaxWait
                    return
                with fake._lock:
                    script = fake.scripts.get(filename) or []
                    step = script.pop(0) if script else None
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                # A request counts as in flight while the "engine" works on it, not while its
                # answer travels back: the client may send its next request as soon as it has
                # read this answer, before this thread would get to a decrement after the send.
                try:
                    if step is not None:
                        status, body, delay = step
                        time.sleep(delay)
                        reply = None if status == 0 else (status, body.encode(), "text/plain")
                    else:
                        tei = fake.tei_by_name.get(filename)
                        if tei is None:
                            reply = (500, b"[PDFALTO_CONVERSION_FAILURE] no such test file", "text/plain")
                        else:
                            time.sleep(fake.work_time)
                            reply = (200, tei, "application/xml; charset=UTF-8")
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                    if fake.engines:
                        fake.engines.release()
                if reply is None:  # the server dies: close without an answer
                    self.close_connection = True
                    return
                try:
                    self._send(*reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

        return Handler
