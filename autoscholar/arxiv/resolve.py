"""Reference -> arXiv paper (the pure resolver): printed id, then exact normalised title, then
blocked fuzzy match. The match stage's own rules (leak cut-off, answer dedup) are in match.py.

Every link records how it was made (`method`) and how sure it is (`score`, 0-100), and every
reference that is not linked says why (`reason`), so nothing is silently lost.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from autoscholar.arxiv.index import ArxivIndex
from autoscholar.arxiv.normalize import extract_arxiv_ids, normalize_title, surname, years_in
from autoscholar.records import BibEntry

MIN_PARTIAL_CHARS = 15  # shorter titles fit by chance inside any reference string
MIN_TITLE_TOKENS = 3  # exact matches of shorter titles need an author to agree
AMBIGUOUS_MARGIN = 2.0
AUTHOR_PENALTY_LONG = 10.0  # long title, no author in common: perhaps a garbled author list
AUTHOR_PENALTY_SHORT = 30.0
YEAR_PENALTY = 30.0  # reference dated >1 year before the arXiv first version
BARE_ID_MIN_SCORE = 70.0
ID_TITLE_ABSENT = 60.0  # below this the id's own title is not in the string

# Pieces of a reference string a title can start or end at: sentence ends, commas, brackets,
# quotes. A title holding such a character spans several pieces; runs of pieces are tried.
_SEGMENT_SPLIT = re.compile(r"[.?!:;]\s+|,|[()\[\]\"“”«»]|\s[–—]\s")


@dataclass
class Resolution:
    arxiv_id: str | None
    title: str | None
    method: str  # "arxiv-id" | "exact-title" | "fuzzy-title" | "unresolved"
    score: float
    first_version: dt.date | None = None
    reason: str | None = None  # when unresolved


@dataclass
class Ref:
    raw_norm: str
    title_norm: str
    segments: list[tuple[int, int]]  # char spans of raw_norm, one per printed segment
    tokens: set[str]
    years: list[int]


@dataclass
class Candidate:
    row: int
    score: float
    exact: bool
    norm: str


def prepare(entry: BibEntry) -> Ref:
    parts, spans, pos = [], [], 0
    for piece in _SEGMENT_SPLIT.split(entry.raw or ""):
        norm = normalize_title(piece)
        if norm:
            parts.append(norm)
            spans.append((pos, pos + len(norm)))
            pos += len(norm) + 1
    raw_norm = " ".join(parts)
    tokens = set(raw_norm.split())
    for author in entry.authors:
        tokens.update(surname(author).split())
    years = [entry.year] if entry.year else years_in(entry.raw or "")
    return Ref(raw_norm, normalize_title(entry.title or ""), spans, tokens, years)


def _author_ok(index: ArxivIndex, row: int, ref: Ref) -> bool | None:
    """True if an author surname of the record appears in the reference; None if unknown."""
    names = index.surnames(row)
    if not names:
        return None
    for name in names:
        words = name.split()
        if words and max(words, key=len) in ref.tokens:
            return True
    return False


def _year_ok(index: ArxivIndex, row: int, ref: Ref) -> bool:
    first = index.first_version(row)
    if first is None or not ref.years or index.first_version_source(row) == "update_date":
        return True
    return max(ref.years) >= first.year - 1


def _raw_score(title: str, ref: Ref) -> float:
    """How well a title matches inside the raw string, judged against whole printed segments."""
    raw = ref.raw_norm
    if not raw:
        return 0.0
    if len(title) < MIN_PARTIAL_CHARS or len(title) >= len(raw):
        return max(fuzz.ratio(title, raw[a:b]) for a, b in ref.segments) if ref.segments else 0.0
    align = fuzz.partial_ratio_alignment(title, raw)
    if align is None:
        return 0.0
    lo, hi = align.dest_start, align.dest_end
    inside = [(a, b) for a, b in ref.segments if a < hi and b > lo]
    if not inside:
        return 0.0
    a, b = inside[0][0], inside[-1][1]
    extra = len(raw[a:lo].split()) + len(raw[hi:b].split())
    return max(fuzz.ratio(title, raw[a:b]), align.score - 2.5 * extra)


def _exact_rows(index: ArxivIndex, ref: Ref) -> set[int]:
    """Rows whose title equals the parsed title or a run of 1-3 printed segments."""
    keys = {ref.title_norm} if ref.title_norm else set()
    segs = ref.segments
    for i in range(len(segs)):
        for j in range(i, min(i + 4, len(segs))):
            keys.add(ref.raw_norm[segs[i][0]:segs[j][1]])
    return set(index.rows_with_titles(sorted(keys)))


def judge(index: ArxivIndex, row: int, ref: Ref, exact: bool) -> Candidate:
    norm = index.norms[row]
    if exact:
        score = 100.0
    else:
        score = _raw_score(norm, ref)
        if ref.title_norm:
            score = max(score, fuzz.ratio(norm, ref.title_norm))
    author = _author_ok(index, row, ref)
    short = len(norm.split()) < MIN_TITLE_TOKENS
    if author is False or (short and author is None and exact):
        score -= AUTHOR_PENALTY_SHORT if short else AUTHOR_PENALTY_LONG
        exact = False
    if not _year_ok(index, row, ref):
        score -= YEAR_PENALTY
        exact = False
    return Candidate(row, max(score, 0.0), exact, norm)


def unresolved(reason: str, score: float = 0.0) -> Resolution:
    return Resolution(None, None, "unresolved", round(score, 1), None, reason)


def _linked(index: ArxivIndex, row: int, method: str, score: float) -> Resolution:
    return Resolution(index.ids[row].decode(), index.titles[row], method, round(score, 1),
                      index.first_version(row))


def _by_id(entry: BibEntry, index: ArxivIndex, ref: Ref) -> tuple[Resolution | None, bool]:
    """The printed arXiv id, if the index holds it; second value: a printed id is not in it."""
    found = extract_arxiv_ids(entry.raw or "")
    for text, trusted in ((entry.arxiv_id, True), (entry.doi, True)):
        if text:
            found = [(i, trusted) for i, _ in extract_arxiv_ids(text)] + found
    if not found and entry.arxiv_id:
        found = [(entry.arxiv_id, True)]
    rows: dict[int, None] = {}
    absent = False
    for ident, prefixed in found:
        row = index.row_of(ident)
        if row is None:
            absent = True
            continue
        # A bare number like 1905.01234 could be pages or a report number: the title or an
        # author must agree before it counts.
        if prefixed or (_year_ok(index, row, ref) and (
                _author_ok(index, row, ref) or judge(index, row, ref, False).score >= BARE_ID_MIN_SCORE)):
            rows[row] = None
    if len(rows) == 1:
        return _linked(index, next(iter(rows)), "arxiv-id", 100.0), True
    if len(rows) > 1:  # several papers' ids: keep the one the title agrees with, if any
        judged = sorted((judge(index, r, ref, False) for r in rows), key=lambda c: -c.score)
        if judged[0].score >= 90 and judged[0].score - judged[1].score > AMBIGUOUS_MARGIN:
            return _linked(index, judged[0].row, "arxiv-id", 100.0), True
        return unresolved("ambiguous"), True
    return None, absent


def _title_over_id(index: ArxivIndex, ref: Ref, by_id: Resolution) -> Resolution | None:
    """A printed title of another paper beats the printed id in two cases: the title holds the
    id ("Comment on arXiv:2511.21731" cites the comment), or the id's own title is nowhere in
    the string (a mistyped id)."""
    if by_id.arxiv_id is None:
        return None
    exact = sorted(_exact_rows(index, ref))
    if not exact:
        return None
    id_row = index.row_of(by_id.arxiv_id)
    id_title_absent = id_row is not None and judge(index, id_row, ref, False).score < ID_TITLE_ABSENT
    for row in exact:
        if index.ids[row].decode() == by_id.arxiv_id:
            continue
        if id_title_absent or by_id.arxiv_id in index.titles[row]:
            cand = judge(index, row, ref, True)
            if cand.exact:
                return _linked(index, row, "exact-title", cand.score)
    return None


def resolve(entry: BibEntry, index: ArxivIndex, threshold: float = 90.0) -> Resolution:
    """Link one bibliography entry to an arXiv paper of the index, or say why not."""
    ref = prepare(entry)
    by_id, id_absent = _by_id(entry, index, ref)
    if by_id is not None:
        return _title_over_id(index, ref, by_id) or by_id
    if len(ref.raw_norm.split()) + len(ref.title_norm.split()) < 2:
        return unresolved("no-title")
    pool: dict[int, Candidate] = {}
    for row in _exact_rows(index, ref):
        pool[row] = judge(index, row, ref, True)
    # A validated exact title needs no fuzzy search: any rival that could make it ambiguous
    # (a twin title, a longer title containing it) is itself an exact run of printed segments.
    if not any(c.exact for c in pool.values()):
        query = ref.raw_norm if ref.title_norm in ref.raw_norm else f"{ref.title_norm} {ref.raw_norm}"
        for row in index.candidates(query):
            if row not in pool:
                pool[row] = judge(index, row, ref, False)
    missing = "id-not-in-index" if id_absent else "not-in-index"
    if not pool:
        return unresolved(missing)
    ranked = sorted(pool.values(), key=lambda c: (-c.score, -len(c.norm), c.row))
    best = ranked[0]
    if best.score < threshold:
        return unresolved("below-threshold" if best.score >= 60 else missing, best.score)
    best_id = index.ids[best.row]
    for other in ranked[1:]:
        if other.score < best.score - AMBIGUOUS_MARGIN:
            break
        # A shorter title contained in the best one is a less specific reading of the same text.
        if index.ids[other.row] == best_id or (other.norm != best.norm and other.norm in best.norm):
            continue
        return unresolved("ambiguous", best.score)
    return _linked(index, best.row, "exact-title" if best.exact else "fuzzy-title", best.score)


def resolve_raw(raw: str, index: ArxivIndex, threshold: float = 90.0) -> Resolution:
    """Resolve a reference given only as printed text (one line of `autoscholar resolve`)."""
    return resolve(BibEntry(key="raw", raw=raw), index, threshold)
