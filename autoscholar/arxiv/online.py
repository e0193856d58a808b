"""Optional online fallback (`--online`, off by default): the arXiv API for references the local
index does not hold. Requests go through the project's HTTP client (its User-Agent, retries,
per-host limit), over https, one at a time and 3 s apart (arXiv's API terms: "no more than one
request every three seconds", "a single connection at a time"); every answer is cached on disk,
and the candidates it returns are judged by the same scoring and checks as the local matcher.
A lookup that still fails after the retries is "lookup-failed" for that reference alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import urllib.parse
from pathlib import Path

from lxml import etree

from autoscholar import hostlimit, http
from autoscholar.arxiv.resolve import Resolution, judge, prepare, resolve, unresolved
from autoscholar.arxiv.index import ArxivIndex
from autoscholar.arxiv.normalize import (canonical_id, delatex, extract_arxiv_ids, normalize_title,
                                         surname)
from autoscholar.errors import ServiceError
from autoscholar.records import BibEntry
from autoscholar.text import fold_accents
from autoscholar.io import write_atomic

API = "https://export.arxiv.org/api/query"
MIN_INTERVAL = 3.0
_ATOM = "{http://www.w3.org/2005/Atom}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class ArxivAPI:
    """A small arXiv API client: rate-limited per host, cached by a hash of the request URL."""

    def __init__(self, cache_dir: Path, base_url: str = API, min_interval: float = MIN_INTERVAL,
                 timeout: float = 30.0, retries: int = http.RETRIES):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.base_url, self.timeout, self.retries = base_url, timeout, retries
        # The API's spacing holds wherever base_url points (a mirror, a test server), unless
        # --host-rate names that host; every retry takes its turn too.
        host = urllib.parse.urlsplit(base_url).hostname or ""
        rps = 1 / min_interval if min_interval > 0 else 0.0
        hostlimit.LIMITER.default_for(host, hostlimit.HostLimit(rps, 1))

    def _get(self, params: dict[str, str]) -> bytes:
        url = f"{self.base_url}?{urllib.parse.urlencode(params)}"
        path = self.cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.xml"
        if path.is_file():
            return path.read_bytes()
        try:
            body = http.get_bytes(url, timeout=self.timeout, retries=self.retries)
        except ServiceError as exc:
            raise ServiceError(f"arXiv API request failed: {exc}") from exc
        try:  # only a readable feed is cached: a cut or garbled body would fail every rerun
            etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise ServiceError(f"arXiv API returned unreadable XML: {exc}") from None
        write_atomic(path, body)
        return body

    def by_id(self, arxiv_id: str) -> list[dict]:
        return parse_feed(self._get({"id_list": arxiv_id, "max_results": "1"}))

    def by_title(self, title: str, max_results: int = 5) -> list[dict]:
        # Hyphens split here (the API tokenises "few-shot" as two words), unlike normalize_title.
        words = re.findall(r"[0-9a-z]+", fold_accents(delatex(title)))[:12]
        if not words:
            return []
        query = " AND ".join(f"ti:{w}" for w in words)
        return parse_feed(self._get({"search_query": query, "max_results": str(max_results)}))


def parse_feed(body: bytes) -> list[dict]:
    """Atom feed -> [{id, title, surnames, first_version}] (entries without an id skipped)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ServiceError(f"arXiv API returned unreadable XML: {exc}", transient=False) from exc
    out = []
    for entry in root.iter(f"{_ATOM}entry"):
        atom_id = entry.findtext(f"{_ATOM}id") or ""
        if "/api/errors" in atom_id:  # an error dressed as an entry ("incorrect id format for X")
            continue
        ident = canonical_id(atom_id)
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split())
        if not ident or not title:
            continue
        published = (entry.findtext(f"{_ATOM}published") or "")[:10]
        try:
            first = dt.date.fromisoformat(published)
        except ValueError:
            first = None
        names = [surname(a.findtext(f"{_ATOM}name") or "") for a in entry.iter(f"{_ATOM}author")]
        out.append({"id": ident, "title": title, "surnames": [n for n in names if n], "first_version": first})
    return out


class _Found:
    """The few index methods the matcher's judge needs, over records from the API."""

    def __init__(self, records: list[dict]):
        self.records = records
        self.titles = [r["title"] for r in records]
        self.norms = [normalize_title(r["title"]) for r in records]

    def surnames(self, row: int) -> list[str]:
        return self.records[row]["surnames"]

    def first_version(self, row: int) -> dt.date | None:
        return self.records[row]["first_version"]

    def first_version_source(self, row: int) -> str:
        return "versions"


def verify_id(api: ArxivAPI, arxiv_id: str) -> Resolution | None:
    """The arXiv record of a printed id, or None when arXiv has no such paper; unresolved
    "lookup-failed" when the API could not be asked (that reference only, not the stage)."""
    try:
        found = api.by_id(arxiv_id)
    except ServiceError:
        return unresolved("lookup-failed")
    records = [r for r in found if r["id"] == canonical_id(arxiv_id)]
    if not records:
        return None
    r = records[0]
    return Resolution(r["id"], r["title"], "arxiv-id-online", 100.0, r["first_version"])


def resolve_online(entry: BibEntry, index: ArxivIndex, api: ArxivAPI, threshold: float = 90.0,
                   id_author_mismatch: str = "title") -> Resolution:
    """The local cascade first; the API only for references the index does not hold (a printed
    id the index lacks is checked: one arXiv does not know names no paper)."""
    local = resolve(entry, index, threshold, id_author_mismatch)
    unverified = local.method == "printed-id-unverified"
    if not unverified and (local.arxiv_id or local.reason not in ("not-in-index", "id-not-in-index",
                                                                   "below-threshold")):
        return local
    ids = [i for i, prefixed in extract_arxiv_ids(entry.raw) if prefixed]
    if entry.arxiv_id:
        ids.insert(0, entry.arxiv_id)
    if ids:
        r = verify_id(api, ids[0])
        if r is not None:
            return r  # found, or lookup-failed
    if unverified:  # arXiv does not know the printed id: it names no paper, whatever the title
        local = unresolved("id-not-in-index")
    ref = prepare(entry)
    guess = entry.title or max(entry.raw.replace("“", ".").replace("”", ".").split(". "), key=len, default="")
    try:
        records = api.by_title(guess)
    except ServiceError:
        return unresolved("lookup-failed")
    if not records:
        return local
    found = _Found(records)
    judged = sorted((judge(found, i, ref, False) for i in range(len(records))), key=lambda c: -c.score)  # type: ignore[arg-type]
    best = judged[0]
    if best.score < threshold:
        return unresolved("below-threshold", best.score)
    if len(judged) > 1 and judged[1].score >= best.score - 2.0 and records[judged[1].row]["id"] != records[best.row]["id"]:
        return unresolved("ambiguous", best.score)
    r = records[best.row]
    method = "exact-title-online" if best.norm == normalize_title(guess) else "fuzzy-title-online"
    return Resolution(r["id"], r["title"], method, round(best.score, 1), r["first_version"])
