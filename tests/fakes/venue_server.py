"""A local HTTP server (127.0.0.1, random port) that speaks each venue source's protocol.

Real captures (ACL XML, CVF and NeurIPS listings) are read from ../shared/data at test time and
served as they are; OpenReview v2/v1 JSON and the PMLR volume page are built from the processed
ICLR 2024 / ICML 2023 listings there (real titles, authors); PDFs are made with PyMuPDF.
Faults on demand: `fail_once` paths answer 500 the first time; /pdf/missing.pdf is 404;
/pdf/html.pdf is an HTML page; /pdf/truncated.pdf is not a PDF either.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import urllib.parse
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pymupdf

from local_server import LocalServer

ICLR_VENUE = "ICLR.cc/2024/Conference"
HOSTILE_ID = "../../etc/passwd"
V1_YEAR = 2019
MAX_PAGE = 1000  # the real API caps limit at 1000


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


@lru_cache(maxsize=64)
def make_pdf(title: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), title[:60], fontsize=18)
    page.insert_text((72, 140), "Related Work. We build on prior work [1].", fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


def iclr_notes(shared: Path) -> list[dict]:
    listing = json.loads((shared / "venues/openreview_iclr_SUBSTITUTE/glimpse-data__ICLR2024.json")
                         .read_text(encoding="utf-8"))
    notes = []
    for url, entry in listing.items():
        note_id = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["id"][0]
        notes.append(_v2_note(note_id, entry["title"], entry["authors"], ICLR_VENUE,
                              f"ICLR 2024 {entry['volume']}"))
    notes.append(_v2_note(HOSTILE_ID, "A Hostile Identifier", ["Mallory"], ICLR_VENUE,
                          "ICLR 2024 poster"))
    notes.append(_v2_note("rejected01", "A Rejected Paper", ["R. Eject"],
                          "ICLR.cc/2024/Conference/Rejected_Submission", "Submitted to ICLR 2024"))
    return notes


def _v2_note(note_id: str, title: str, authors: list[str], venueid: str, venue: str) -> dict:
    return {
        "id": note_id, "forum": note_id, "number": 1, "invitations": [f"{ICLR_VENUE}/-/Submission"],
        "content": {"title": {"value": title}, "authors": {"value": authors},
                    "pdf": {"value": f"/pdf/{urllib.parse.quote(note_id, safe='')}.pdf"},
                    "venue": {"value": venue}, "venueid": {"value": venueid}},
        "cdate": _ms(dt.date(2023, 9, 22)), "odate": _ms(dt.date(2023, 10, 13)),
        "pdate": _ms(dt.date(2024, 1, 16)), "mdate": _ms(dt.date(2024, 3, 1)),
    }


def v1_notes() -> list[dict]:
    """ICLR 2019 Blind_Submission notes (v1: plain content values, decisions as replies)."""
    def note(nid: str, title: str, decision: str | None, venueid: str | None = None,
             style: str = "decision") -> dict:
        content = {"title": title, "authors": ["Ada Lovelace", "Alan Turing"],
                   "pdf": f"/pdf/{nid}.pdf"}
        if venueid:
            content["venueid"] = venueid
        replies = [{"invitation": "ICLR.cc/2019/Conference/-/Paper1/Official_Review",
                    "content": {"rating": "7"}}]
        if decision and style == "meta":  # ICLR 2019: the meta-review carries the decision
            replies.append({"invitation": "ICLR.cc/2019/Conference/-/Paper1/Meta_Review",
                            "content": {"metareview": "...", "recommendation": decision}})
        elif decision and style == "acceptance":  # ICLR 2018
            replies.append({"invitation": "ICLR.cc/2018/Conference/-/Acceptance_Decision",
                            "content": {"decision": decision}})
        elif decision:  # ICLR 2020 on
            replies.append({"invitation": "ICLR.cc/2019/Conference/Paper1/-/Decision",
                            "content": {"decision": decision}})
        return {"id": nid, "forum": nid, "content": content, "cdate": _ms(dt.date(2018, 9, 28)),
                "details": {"directReplies": replies}}

    return [note("v1accOral", "Accepted as an Oral", "Accept (Oral)"),
            note("v1accPoster", "Accepted as a Poster", "Accept (Poster)", style="meta"),
            note("v1workshop", "Invited to the Workshop", "Invite to Workshop Track",
                 style="acceptance"),
            note("v1accepted2018", "Accepted in 2018 Style", "Accept (Poster)", style="acceptance"),
            note("v1reject", "Rejected Submission", "Reject", style="meta"),
            note("v1venueid", "Accepted by Venue Id", None, "ICLR.cc/2019/Conference"),
            note("v1nodecision", "No Decision Yet", None)]


def pmlr_page(shared: Path) -> bytes:
    listing = json.loads((shared / "venues/pmlr_icml_SUBSTITUTE/glimpse-data__ICML2023.json")
                         .read_text(encoding="utf-8"))
    rows = []
    for url, entry in listing.items():
        stem = url.rsplit("/", 1)[-1].removesuffix(".html")
        authors = ",&nbsp;".join(html.escape(a) for a in entry["authors"])
        rows.append(
            f'<div class="paper">\n<p class="title">{html.escape(entry["title"])}</p>\n'
            f'<p class="details"><span class="authors">{authors}</span>; <span class="info">'
            f"Proceedings of the 40th International Conference on Machine Learning, PMLR 202:1-19"
            f'</span></p>\n<p class="links">[<a href="https://proceedings.mlr.press/v202/{stem}'
            f'.html">abs</a>][<a href="/v202/{stem}/{stem}.pdf" target="_blank">Download PDF</a>]'
            f'[<a href="/v202/{stem}/{stem}-supp.pdf">Supplementary PDF</a>]</p>\n</div>')
    head = ("<html><head><title>Proceedings of ICML 2023</title></head><body><h2>Volume 202: "
            "International Conference on Machine Learning, 23-29 July 2023, Honolulu, Hawaii, "
            "USA</h2><p>Published as Volume 202 by the Proceedings of Machine Learning Research "
            "on 03 July 2023.</p>")
    return (head + "\n".join(rows) + "</body></html>").encode()


NEURIPS_2023 = b"""<html><body><ul class="paper-list">
<li class="conference"><div class="paper-content"><a title="paper title"
 href="/paper_files/paper/2023/hash/0001aaaabbbbccccddddeeeeffff0000-Abstract-Conference.html">
 Direct Preference Optimization</a> <i>Rafael Rafailov, Archit Sharma</i></div></li>
<li class="datasets_and_benchmarks"><a
 href="/paper_files/paper/2023/hash/0002aaaabbbbccccddddeeeeffff0000-Abstract-\
Datasets_and_Benchmarks.html">A Benchmark</a> <i>Jane Doe</i></li>
<li><a href="/paper_files/paper/2023">Back</a></li>
</ul></body></html>"""

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
        self._iclr: list[dict] | None = None
        self._listen(self._handler(), poll_interval=0.05)

    @property
    def url(self) -> str:
        return self.root

    # ------------------------------------------------------------ routing
    def route(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path == "/notes":
            return self._notes(query)
        if path.startswith("/pdf/") or path.endswith(".pdf"):
            return self._pdf(path)
        if path in ("/v202/", "/v202"):
            return 200, "text/html", pmlr_page(self._need_shared())
        if path == "/paper_files/paper/2019":
            venues = self._need_shared() / "venues"
            page = venues / "neurips/nips2019_book_page_RECONSTRUCTED_DERIVED.html"
            return 200, "text/html", page.read_bytes()
        if path == "/paper_files/paper/2023":
            return 200, "text/html", NEURIPS_2023
        if path.startswith("/data/xml/") and path.endswith(".xml"):
            name = path.rsplit("/", 1)[-1]
            xml = self._need_shared() / "venues/acl" / name
            if name in ("2020.acl.xml", "P19.xml", "2020.emnlp.xml"):
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

    def _notes(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", MAX_PAGE)), MAX_PAGE)
        if query.get("content.venueid", "").startswith(ICLR_VENUE):
            if self._iclr is None:
                self._iclr = iclr_notes(self._need_shared())
            notes = [n for n in self._iclr
                     if n["content"]["venueid"]["value"] == query["content.venueid"]]
        elif query.get("invitation") == f"ICLR.cc/{V1_YEAR}/Conference/-/Blind_Submission":
            notes = v1_notes()
        else:
            notes = []
        body = {"notes": notes[offset: offset + limit], "count": len(notes)}
        return 200, "application/json", json.dumps(body).encode()

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
                    status, ctype, body = server.route(parts.path, query)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler
