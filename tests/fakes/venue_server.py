"""A local HTTP server (127.0.0.1, random port) that speaks each venue source's protocol.

Real captures are read from ../shared/data at test time and served as they are (see its
venues/SOURCES-turn2.md): the ACL Anthology XML of 2019, 2020 (and EMNLP 2020) and 2024, the
PMLR volume pages v202 (ICML 2023) and v235 (ICML 2024), the NeurIPS 2019 and 2023 year
listings, the CVPR 2019 listing. The OpenReview API is openreview_api.py (notes written
around the real ICLR 2024 titles and authors there: no verbatim API capture exists); the
CVPR 2020 day pages are written in CVF's markup; PDFs are made with PyMuPDF.
Faults on demand: `fail_once` paths answer 500 the first time; /pdf/missing.pdf is 404;
/pdf/html.pdf is an HTML page; /pdf/truncated.pdf is not a PDF either.
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pymupdf

from local_server import LocalServer
from openreview_api import HOSTILE_ID, OpenReviewAPI  # noqa: F401 (HOSTILE_ID: for the tests)

JSON = "application/json; charset=utf-8"

PMLR_PAGES = {"/v202/": "pmlr/pmlr_v202_index.html", "/v235/": "pmlr/pmlr_v235_index.html"}
NEURIPS_PAGES = {"/paper_files/paper/2019": "neurips/nips2019_book_page_RECONSTRUCTED_DERIVED.html",
                 "/paper_files/paper/2023": "neurips/neurips_2023_listing.html"}
ACL_XML = ("2020.acl.xml", "P19.xml", "2020.emnlp.xml", "2024.acl.xml")


@lru_cache(maxsize=64)
def make_pdf(title: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), title[:60], fontsize=18)
    page.insert_text((72, 140), "Related Work. We build on prior work [1].", fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


CVPR_2020_MAIN = b"""<html><body><dl><dd><a href="/CVPR2020?day=2020-06-16">Day 1: 2020-06-16</a>
</dd><dd><a href="/CVPR2020?day=2020-06-17">Day 2: 2020-06-17</a></dd>
<dd><a href="/CVPR2020?day=2020-06-17">Day 2 again</a></dd></dl></body></html>"""


def _cvpr_day(title: str, stem: str) -> bytes:
    content = f"/content_CVPR_2020/{{}}/{stem}_CVPR_2020_paper"
    return f"""<html><body><dl><dt class="ptitle"><br><a href="{content.format('html')}.html">
{title}</a></dt>
<dd><form id="f1" action="/CVPR2020_search.py" method="post" class="authsearch">
<input type="hidden" name="query" value="Kaiming He"><a href="#">Kaiming He</a>,</form>
<form class="authsearch"><a href="#"> Ross Girshick</a></form></dd>
<dd>[<a href="{content.format('papers')}.pdf">pdf</a>]
[<a href="/content_CVPR_2020/supplemental/{stem}-supp.pdf">supp</a>]</dd>
</dl></body></html>""".encode()


class VenueServer(LocalServer):
    def __init__(self, shared: Path | None = None):
        self.shared = shared
        self.hits: Counter[str] = Counter()  # "path?query" -> requests served
        self.fail_once: set[str] = set()  # "path?query" prefixes that answer 500 the first time
        self.fail_always: set[str] = set()  # "path?query" keys that always answer 500
        self._failed: set[str] = set()
        self.openreview = OpenReviewAPI(shared)
        self._listen(self._handler(), poll_interval=0.05)

    @property
    def url(self) -> str:
        return self.root

    # ------------------------------------------------------------ routing
    def route(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path.startswith("/pdf/") or path.endswith(".pdf"):
            return self._pdf(path)
        if path.rstrip("/") + "/" in PMLR_PAGES:
            page = self._need_shared() / "venues" / PMLR_PAGES[path.rstrip("/") + "/"]
            return 200, "text/html; charset=utf-8", page.read_bytes()
        if path in NEURIPS_PAGES:
            page = self._need_shared() / "venues" / NEURIPS_PAGES[path]
            return 200, "text/html", page.read_bytes()
        if path.startswith("/data/xml/") and path.endswith(".xml"):
            name = path.rsplit("/", 1)[-1]
            xml = self._need_shared() / "venues/acl" / name
            if name in ACL_XML:
                return 200, "application/xml", xml.read_bytes()
        if path == "/CVPR2019" and query.get("day") == "all":
            page = self._need_shared() / "venues/cvpr/mattdeitke-CVPR2019__cvpr2019oar.html"
            return 200, "text/html", page.read_bytes()
        if path == "/CVPR2020":
            day = query.get("day")
            if day is None:
                return 200, "text/html", CVPR_2020_MAIN
            if day == "all":
                return 200, "text/html", b"<html><body>No papers for day all.</body></html>"
            if day == "2020-06-16":
                return 200, "text/html", _cvpr_day("Momentum Contrast", "He_Momentum_Contrast")
            if day == "2020-06-17":
                return 200, "text/html", _cvpr_day("Another Paper", "Doe_Another_Paper")
        return 404, "text/plain", b"not found"

    def _need_shared(self) -> Path:
        if self.shared is None:
            raise LookupError("this route needs the shared data folder")
        return self.shared

    def _pdf(self, path: str) -> tuple[int, str, bytes]:
        name = urllib.parse.unquote(path.rsplit("/", 1)[-1]).removesuffix(".pdf")
        if name == "missing":
            return 404, "text/html", b"<html>Not Found</html>"
        if name == "html":
            return 200, "text/html", b"<!DOCTYPE html><html><body>Please log in</body></html>"
        if name == "truncated":
            return 200, "application/pdf", b""
        return 200, "application/pdf", make_pdf(f"Paper {name}")

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urllib.parse.urlsplit(self.path)
                key = parts.path + ("?" + parts.query if parts.query else "")
                server.hits[key] += 1
                if key in server.fail_always or (
                        any(key.startswith(f) for f in server.fail_once)
                        and key not in server._failed):
                    server._failed.add(key)
                    status, ctype, body = 500, "text/plain", b"internal error"
                else:
                    query = dict(urllib.parse.parse_qsl(parts.query))
                    if parts.path == "/notes":
                        code, answer = server.openreview.notes(
                            key, query, self.headers.get("Authorization"))
                        status, ctype, body = code, JSON, json.dumps(answer).encode()
                    else:
                        status, ctype, body = server.route(parts.path, query)
                self._send(status, ctype, body)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                if urllib.parse.urlsplit(self.path).path == "/login":
                    code, answer = server.openreview.login(data)
                    self._send(code, JSON, json.dumps(answer).encode())
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler
