"""Reference -> arXiv paper (the pure resolver): printed id, then exact normalised title, then
blocked fuzzy match. The match stage's own rules (leak cut-off, answer dedup) are in match.py.

Every link records how it was made (`method`) and how sure it is (`score`, 0-100), and every
reference that is not linked says why (`reason`), so nothing is silently lost.

A title that is not the whole printed title needs more than its words: a record that covers
only part of the printed title (a subtitle added or dropped at a colon, a short title inside a
longer one) or differs from it by a content word is linked only when an author surname of the
record is printed, and for a changed word only when the printed year is the record's
first-version year too; a record without authors is never linked on part of a title. Author
and year agreement also raise the score of a fuzzy match, since a title that lost a word
between versions is otherwise indistinguishable from a near-miss.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from autoscholar.arxiv.index import ArxivIndex
from autoscholar.arxiv.normalize import extract_arxiv_ids, id_month, normalize_title, surname, years_in
from autoscholar.records import BibEntry

MIN_PARTIAL_CHARS = 15  # shorter titles fit by chance inside any reference string
MIN_TITLE_TOKENS = 3  # exact matches of shorter titles need an author to agree
AMBIGUOUS_MARGIN = 2.0
AUTHOR_PENALTY_LONG = 10.0  # long title, no author in common: perhaps a garbled author list
AUTHOR_PENALTY_SHORT = 30.0
YEAR_PENALTY = 30.0  # reference dated >1 year before the arXiv first version
BARE_ID_MIN_SCORE = 70.0
ID_TITLE_ABSENT = 60.0  # below this the id's own title is not in the string
ID_TITLE_AGREES = 90.0  # at this the id's own title is printed: authors that disagree are noise
SUBTITLE_SCORE = 95.0  # the printed title is the record's up to a colon, authors and year agree
AUTHOR_BONUS = 6.0  # a fuzzy title whose author is printed
YEAR_BONUS = 4.0  # ... and whose printed year is the first version's or the next
EVIDENCE_FLOOR = 70.0  # a title this unlike the printed one is not weighed further
FUZZY_MAX = 99.0  # evidence never lifts a fuzzy match to an exact one
CONTENT_PENALTY = 25.0  # a content word differs and authors or year do not both agree
PARTIAL_PENALTY = 30.0  # covers part of the printed title without a printed author
CLOSE_WORD = 85.0  # fuzz.ratio at which two words of similar length are one word misspelt
# Words whose difference between two titles says nothing about which paper it is.
STOP_WORDS = frozenset(
    "a an the of for in on and or to with by from at as is are via its into using towards toward "
    "do does we our be can".split())
_VENUE_START = ("in ", "proc", "arxiv", "journal", "trans", "conference", "advances", "ieee",
                "acm", "preprint", "workshop", "international", "corr", "vol")

# Pieces of a reference string a title can start or end at: sentence ends, commas, brackets,
# quotes. A title holding such a character spans several pieces; runs of pieces are tried.
_SEGMENT_SPLIT = re.compile(r"([.?!:;]\s+|,|[()\[\]\"“”«»]|\s[–—]\s)")


@dataclass
class Resolution:
    arxiv_id: str | None
    title: str | None
    method: str  # a records.MatchMethod, or "unresolved"
    score: float
    first_version: dt.date | None = None
    reason: str | None = None  # when unresolved
    flags: list[str] = field(default_factory=list)  # records.MatchFlag values


@dataclass
class Ref:
    raw_norm: str
    title_norm: str
    segments: list[tuple[int, int]]  # char spans of raw_norm, one per printed segment
    tokens: set[str]
    years: list[int]
    gaps: list[str] = field(default_factory=list)  # raw text before each segment (and after the last)
    # Per segment: the printed title goes on past a colon after it / began before one before it.
    after: list[bool] = field(default_factory=list)
    before: list[bool] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # each segment's text


@dataclass
class Candidate:
    row: int
    score: float
    exact: bool
    norm: str
    subtitle: bool = False  # the printed title is this one up to a colon


def prepare(entry: BibEntry) -> Ref:
    parts, spans, gaps, pos, gap = [], [], [], 0, ""
    pieces = _SEGMENT_SPLIT.split(entry.raw or "")
    for k, piece in enumerate(pieces):
        norm = normalize_title(piece) if k % 2 == 0 else ""
        if norm:
            parts.append(norm)
            spans.append((pos, pos + len(norm)))
            gaps.append(gap)
            gap = ""
            pos += len(norm) + 1
        else:
            gap += piece
    gaps.append(gap)
    raw_norm = " ".join(parts)
    tokens = set(raw_norm.split())
    for author in entry.authors:
        tokens.update(surname(author).split())
    years = [entry.year] if entry.year else years_in(entry.raw or "")
    ref = Ref(raw_norm, normalize_title(entry.title or ""), spans, tokens, years, gaps)
    # Once per reference: every candidate's score asks whether its printed span is cut.
    ref.after = [_cut_after(ref, j) for j in range(len(spans))]
    ref.before = [_cut_before(ref, i) for i in range(len(spans))]
    ref.texts = parts
    return ref


_NOT_NAMES = frozenset({"et al", "etal", "al", "et", "others", "and others"})


def _author_ok(index: ArxivIndex, row: int, ref: Ref) -> bool | None:
    """True if an author surname of the record appears in the reference; None if unknown."""
    # "Huang et.al." in a catalogue's author field leaves "et al" as a surname: not a name.
    known = False
    for name in index.surnames(row):
        if name in _NOT_NAMES:
            continue
        known = True
        words = name.split()
        if words and max(words, key=len) in ref.tokens:
            return True
    return False if known else None


def _year_ok(index: ArxivIndex, row: int, ref: Ref) -> bool:
    first = index.first_version(row)
    if first is None or not ref.years or index.first_version_source(row) == "update_date":
        return True
    return max(ref.years) >= first.year - 1


def _year_fit(index: ArxivIndex, row: int, ref: Ref) -> str:
    """"same": a printed year is the first version's; "next": the year after (the published
    version); "unknown": no printed year or no reliable first version; else "other"."""
    first = index.first_version(row)
    if first is None or not ref.years or index.first_version_source(row) == "update_date":
        return "unknown"
    years = set(ref.years)
    if first.year in years or first.year + 1 in years:
        # A year inside the title ("... in COLIEE 2021") says nothing about when it was posted.
        years -= set(years_in(index.titles[row]))
        if not years:
            return "unknown"
    if first.year in years:
        return "same"
    return "next" if first.year + 1 in years else "other"


def _content(words: list[str]) -> list[str]:
    return [w for w in words if len(w) >= 2 and w not in STOP_WORDS]


def _close(word: str, words: set[str], joined: str) -> bool:
    """The word, or it misspelt, split or joined, is among `words`."""
    if word in words or (len(word) >= 4 and word in joined):
        return True
    return any(abs(len(w) - len(word)) <= 2 and fuzz.ratio(word, w) >= CLOSE_WORD for w in words)


def _missing(norm: str, printed: str) -> tuple[int, int]:
    """Content words of the record title not printed, and printed ones not in the record title
    (a word printed fewer times than the record has it counts as missing)."""
    rec, prt = _content(norm.split()), _content(printed.split())
    rec_n, prt_n = Counter(rec), Counter(prt)
    rec_set, prt_set = set(norm.split()), set(printed.split())
    rec_joined, prt_joined = norm.replace(" ", ""), printed.replace(" ", "")
    miss_rec = sum(not _close(w, prt_set, prt_joined) for w in rec)
    miss_prt = sum(not _close(w, rec_set, rec_joined) for w in prt)
    miss_rec += sum(max(0, k - prt_n[w]) for w, k in rec_n.items() if w in prt_n)
    miss_prt += sum(max(0, k - rec_n[w]) for w, k in prt_n.items() if w in rec_n)
    return miss_rec, miss_prt


def _authors_like(norm: str) -> bool:
    """A printed piece that ends an author list or an author-date label, not a title head."""
    words = norm.split()
    return (not words or len(words[-1]) == 1 or norm.endswith("et al")
            or bool(re.fullmatch(r"\d{4}[a-z]?", words[-1])))


def _venue_like(norm: str) -> bool:
    return norm == "in" or norm.startswith(_VENUE_START)


def _title_like(ref: Ref, i: int, j: int) -> bool:
    """Segments i..j could be a title: not an element of a comma-separated author list, nor a
    name after an initial ("Y. Mao. On path ..." prints the author Mao, not a paper MAO)."""
    if ref.gaps[i].strip() == "," or ref.gaps[j + 1].strip() == ",":
        return False
    if i == j and i > 0 and ref.gaps[i].strip() == ".":
        a, b = ref.segments[i - 1]
        if len(ref.raw_norm[a:b].split()[-1]) == 1:
            return False
    return True


def _cut_after(ref: Ref, j: int) -> bool:
    """The printed title goes on after segment j, past a colon that does not open a venue."""
    if j + 1 < len(ref.segments) and ":" in ref.gaps[j + 1]:
        a, b = ref.segments[j + 1]
        return not _venue_like(ref.raw_norm[a:b])
    return False


def _cut_before(ref: Ref, i: int) -> bool:
    """The printed title starts before segment i, at a colon that does not end an author list."""
    if i > 0 and ":" in ref.gaps[i]:
        a, b = ref.segments[i - 1]
        return not _authors_like(ref.raw_norm[a:b])
    return False


def _colon_cut(ref: Ref, i: int, j: int) -> bool:
    """Segments i..j are one side of a printed title cut at a colon."""
    return ref.after[j] or ref.before[i]


def _runs(ref: Ref) -> dict[str, bool | None]:
    """The parsed title and each run of 1-3 printed segments: False a whole title, True one
    side of a colon cut, None a run that cannot be a title (looked up only as a whole title)."""
    runs: dict[str, bool | None] = {ref.title_norm: False} if ref.title_norm else {}
    segs = ref.segments
    n = len(segs)
    after, before = ref.after, ref.before
    comma = [g.strip() == "," for g in ref.gaps]
    for i in range(n):
        for j in range(i, min(i + 4, n)):
            key = ref.raw_norm[segs[i][0]:segs[j][1]]
            title_like = not (comma[i] or comma[j + 1]) and (i != j or _title_like(ref, i, j))
            kind = (after[j] or before[i]) if title_like else None
            old = runs.get(key, kind)
            runs[key] = False if False in (old, kind) else old if old is not None else kind
    return runs


def _raw_score(title: str, ref: Ref) -> tuple[float, str, bool]:
    """How well a title matches inside the raw string, judged against whole printed segments;
    with the printed text it was judged against and whether that text is one side of a colon
    cut (the printed title goes on past it)."""
    raw, segs = ref.raw_norm, ref.segments
    if not raw or not segs:
        return 0.0, "", False
    if len(title) < MIN_PARTIAL_CHARS or len(title) >= len(raw):
        scores = [fuzz.ratio(title, text) for text in ref.texts]
        score = max(scores)
        k = len(scores) - 1 - scores[::-1].index(score)  # the last of equals, as max((s, k)) picks
        return score, ref.texts[k], _colon_cut(ref, k, k)
    align = fuzz.partial_ratio_alignment(title, raw)
    if align is None:
        return 0.0, "", False
    lo, hi = align.dest_start, align.dest_end
    overlap = [(min(b, hi) - max(a, lo), k) for k, (a, b) in enumerate(segs) if a < hi and b > lo]
    if not overlap:
        return 0.0, "", False
    # A segment the window only grazes (the venue after the title) is not part of the title.
    inside = [k for o, k in overlap if 2 * o >= segs[k][1] - segs[k][0]] or [max(overlap)[1]]
    # Nor is a year or a page number on its edge ("(2025) Title", "Title 12:34").
    while len(inside) > 1 and raw[segs[inside[0]][0]:segs[inside[0]][1]].isdigit():
        inside.pop(0)
    while len(inside) > 1 and raw[segs[inside[-1]][0]:segs[inside[-1]][1]].isdigit():
        inside.pop()
    i, j = inside[0], inside[-1]
    a, b = segs[i][0], segs[j][1]
    extra = len(raw[a:lo].split()) + len(raw[hi:b].split())
    return max(fuzz.ratio(title, raw[a:b]), align.score - 2.5 * extra), raw[a:b], _colon_cut(ref, i, j)


@dataclass
class _Lookup:
    runs: dict[str, bool | None]
    keys: list[str]
    hashes: object  # np.ndarray of the keys' title hashes, shared by both lookups


def _lookup(index: ArxivIndex, ref: Ref) -> _Lookup:
    runs = _runs(ref)
    keys = sorted(runs)
    return _Lookup(runs, keys, index.title_hashes(keys))


def _whole_rows(index: ArxivIndex, look: _Lookup) -> dict[int, bool]:
    """Rows whose title equals the parsed title or a run of printed segments (True: the run is
    one side of a colon cut)."""
    return {row: bool(look.runs[index.norms[row]])
            for row in index.rows_with_titles(look.keys, look.hashes)}


def _part_rows(index: ArxivIndex, look: _Lookup) -> list[int]:
    """Rows whose title's head or tail at a colon is a whole printed title."""
    # A printed title that is itself cut at a colon and a record cut at one are two different
    # subtitles, not one title with and without it.
    pick = [n for n, k in enumerate(look.keys)
            if look.runs[k] is False and not _venue_like(k) and _content(k.split())]
    return index.rows_with_part([look.keys[n] for n in pick], look.hashes[pick] if pick else None)


# A catalogue "title" that is an author list ("Narayan et al"): a bad record, never a title match.
_AUTHOR_LIST = re.compile(r"(?:^|\s)et al(?:\s|$)")


def _evidence(score: float, author: bool | None, year: str) -> float:
    if author:
        score += AUTHOR_BONUS
        if year in ("same", "next"):
            score += YEAR_BONUS
    return min(score, FUZZY_MAX)


def judge(index: ArxivIndex, row: int, ref: Ref, exact: bool, subtitle: bool = False) -> Candidate:
    """Score one record against the reference: title similarity, then author and year evidence."""
    norm = index.norms[row]
    if "et al" in norm and _AUTHOR_LIST.search(norm):
        return Candidate(row, 0.0, False, norm)
    author = _author_ok(index, row, ref)
    # The year only weighs with an author in common (see below): found only then.
    year = _year_fit(index, row, ref) if author is True and (subtitle or not exact) else "unknown"
    short = len(norm.split()) < MIN_TITLE_TOKENS
    if exact and subtitle:
        # Printed title and record title agree up to a colon: the same paper when its authors
        # and year agree; another paper with a phrase in common otherwise.
        ok = author is True and year in ("same", "next")
        return Candidate(row, SUBTITLE_SCORE if ok else SUBTITLE_SCORE - PARTIAL_PENALTY, False, norm, ok)
    if exact:
        score = 100.0
    else:
        score, printed, cut = _raw_score(norm, ref)
        if ref.title_norm:
            by_title = fuzz.ratio(norm, ref.title_norm)
            if by_title >= score:
                score, printed, cut = by_title, ref.title_norm, False
        # Below the floor no evidence can make a link: skip the word-by-word comparison.
        miss_rec, miss_prt = _missing(norm, printed) if score >= EVIDENCE_FLOOR else (1, 1)
        miss_prt += cut  # the printed title's other side of the colon is not in this record
        if score < EVIDENCE_FLOOR:
            pass
        elif miss_rec and miss_prt:  # a word changed: the same paper only if authors and year agree
            # (a title cut at a colon whose other side is not this record's is another subtitle)
            if author is True and year == "same" and max(miss_rec, miss_prt) == 1 and not cut:
                score = _evidence(score, author, year)
            else:
                score -= CONTENT_PENALTY
        elif miss_rec or miss_prt:  # one title covers part of the other: authors must agree
            if author is not True:
                score -= PARTIAL_PENALTY
            elif year not in ("same", "next", "unknown"):
                score -= CONTENT_PENALTY
        else:  # the same words, misspelt or split differently
            score = _evidence(score, author, year)
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


def _printed_ids(entry: BibEntry) -> list[tuple[str, bool]]:
    found = extract_arxiv_ids(entry.raw or "")
    for text in (entry.arxiv_id, entry.doi):
        if text:
            found = [(i, True) for i, _ in extract_arxiv_ids(text)] + found
    if not found and entry.arxiv_id:
        found = [(entry.arxiv_id, True)]
    return found


def _by_id(entry: BibEntry, index: ArxivIndex, ref: Ref) -> tuple[Resolution | None, list[str]]:
    """The printed arXiv id, if the index holds it; second value: the ids printed with an arXiv
    prefix (or given as the entry's id) that the index does not hold."""
    rows: dict[int, None] = {}
    absent: list[str] = []
    for ident, prefixed in _printed_ids(entry):
        row = index.row_of(ident)
        if row is None:
            if prefixed and ident not in absent:
                absent.append(ident)
            continue
        # A bare number like 1905.01234 could be pages or a report number: the title or an
        # author must agree before it counts.
        if prefixed or (_year_ok(index, row, ref) and (
                _author_ok(index, row, ref) or judge(index, row, ref, False).score >= BARE_ID_MIN_SCORE)):
            rows[row] = None
    if len(rows) == 1:
        return _linked(index, next(iter(rows)), "arxiv-id", 100.0), absent
    if len(rows) > 1:  # several papers' ids: keep the one the title agrees with, if any
        judged = sorted((judge(index, r, ref, False) for r in rows), key=lambda c: -c.score)
        if judged[0].score >= 90 and judged[0].score - judged[1].score > AMBIGUOUS_MARGIN:
            return _linked(index, judged[0].row, "arxiv-id", 100.0), absent
        return unresolved("ambiguous"), absent
    return None, absent


def _id_title_score(index: ArxivIndex, row: int, ref: Ref) -> float:
    """How well the id's own title matches the string, before author and year evidence."""
    norm = index.norms[row]
    score = _raw_score(norm, ref)[0]
    return max(score, fuzz.ratio(norm, ref.title_norm)) if ref.title_norm else score


def _title_over_id(index: ArxivIndex, ref: Ref, by_id: Resolution) -> Resolution | None:
    """A printed title of another paper beats the printed id in two cases: the title holds the
    id ("Comment on arXiv:2511.21731" cites the comment), or the id's own title is nowhere in
    the string (a mistyped id)."""
    if by_id.arxiv_id is None:
        return None
    exact = sorted(r for r, cut in _whole_rows(index, _lookup(index, ref)).items() if not cut)
    if not exact:
        return None
    id_row = index.row_of(by_id.arxiv_id)
    id_title_absent = id_row is not None and _id_title_score(index, id_row, ref) < ID_TITLE_ABSENT
    for row in exact:
        if index.ids[row].decode() == by_id.arxiv_id:
            continue
        if id_title_absent or by_id.arxiv_id in index.titles[row]:
            cand = judge(index, row, ref, True)
            if cand.exact:
                return _linked(index, row, "exact-title", cand.score)
    return None


# Author names in the text before the first sentence end: "K. He", "He, K.", "et al",
# "Li and Liu".
_NAMES = re.compile(r"\b[A-Z]\.\s*(?:[A-Z]\.\s*)*[A-Z][a-z]|\b[A-Z][a-z]+,\s*[A-Z]\.|\bet al\b|"
                    r"\b[A-Z][a-z]+ (?:and|&) [A-Z][a-z]+\b")


_FULL_NAME = re.compile(r"[A-Z][\w'-]+(?: [A-Z][\w'-]+){1,3}")  # "Ahmet Kerem Aksoy. 2022. ..."


def _prints_authors(entry: BibEntry) -> bool:
    if entry.authors:
        return True
    block = re.split(r"(?<![A-Z])[.?!]\s", entry.raw or "", maxsplit=1)[0].strip()
    return bool(_NAMES.search(block) or _FULL_NAME.fullmatch(block))


def _id_authors_disagree(entry: BibEntry, index: ArxivIndex, ref: Ref, by_id: Resolution) -> bool:
    """The reference prints authors, the id's record names others, and the record's title is not
    printed either: the id is mistyped or the record is not the paper the reference describes."""
    row = index.row_of(by_id.arxiv_id or "")
    if row is None or _author_ok(index, row, ref) is not False or not _prints_authors(entry):
        return False
    return _id_title_score(index, row, ref) < ID_TITLE_AGREES


def _printed_title(entry: BibEntry, ref: Ref) -> str:
    """The parsed title, else the longest printed segment: the answer's title when only the
    printed id names the paper."""
    if entry.title:
        return " ".join(entry.title.split())
    quoted = re.findall(r"[“\"]([^”\"]{8,})[”\"]", entry.raw or "")
    if quoted:
        return quoted[0].strip(" .,")
    pieces = [p.strip(" .,") for p in re.split(r"[.?!]\s+", entry.raw or "")]
    # A title is words, not an author list, a venue with volume and pages, or an id.
    pieces = [p for p in pieces if len(p.split()) >= 3 and not extract_arxiv_ids(p)
              and not re.search(r"\d|\bet al\b|\b[A-Z]\b", p) and p.count(",") < 2]
    return max(pieces, key=lambda p: len(p.split()), default="")


def resolve(entry: BibEntry, index: ArxivIndex, threshold: float = 90.0,
            id_author_mismatch: str = "title") -> Resolution:
    """Link one bibliography entry to an arXiv paper of the index, or say why not.

    A printed id whose record names other authors and another title is flagged
    `id-author-mismatch`; with id_author_mismatch="title" (the default) the printed title
    decides (no link if it finds none), with "id" the id stands, flagged.
    A well-formed prefixed id the index lacks, when the title finds nothing either, is
    returned as `printed-id-unverified` (first version: the first day of its YYMM)."""
    ref = prepare(entry)
    by_id, absent = _by_id(entry, index, ref)
    if by_id is not None:
        over = _title_over_id(index, ref, by_id)
        if over is not None:
            return over
        if not _id_authors_disagree(entry, index, ref, by_id):
            if by_id.title and _AUTHOR_LIST.search(normalize_title(by_id.title)):
                by_id.title = _printed_title(entry, ref) or by_id.title  # the record's is a name list
            return by_id
        by_id.flags.append("id-author-mismatch")
        if id_author_mismatch == "id":
            return by_id
        by_title = _by_title(index, ref, threshold, False)
        if by_title.arxiv_id and by_title.arxiv_id != by_id.arxiv_id:
            by_title.flags.append("id-author-mismatch")
            return by_title
        return unresolved("id-author-mismatch", by_title.score)
    res = _by_title(index, ref, threshold, bool(absent))
    # The printed id is evidence the paper is not a record with another id: only the exact
    # title beats it (a mistyped id); a near title is more likely a related paper.
    if len(absent) == 1 and (res.arxiv_id is None or res.method != "exact-title"):
        month = id_month(absent[0])
        return Resolution(absent[0], _printed_title(entry, ref), "printed-id-unverified", 100.0,
                          dt.date(month[0], month[1], 1) if month else None)
    return res


def _by_title(index: ArxivIndex, ref: Ref, threshold: float, id_absent: bool) -> Resolution:
    if len(ref.raw_norm.split()) + len(ref.title_norm.split()) < 2:
        return unresolved("no-title")
    look = _lookup(index, ref)
    pool = {row: judge(index, row, ref, True, subtitle=cut) for row, cut in _whole_rows(index, look).items()}
    # A validated exact title needs no other search: a subtitle match (at most SUBTITLE_SCORE,
    # never exact) could neither beat it nor make it ambiguous, and any fuzzy rival that could
    # (a twin title, a longer title containing it) is itself an exact run of printed segments.
    if not any(c.exact for c in pool.values()):
        for row in _part_rows(index, look):
            if row not in pool:
                pool[row] = judge(index, row, ref, True, subtitle=True)
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
    method = "exact-title" if best.exact else "title-subtitle" if best.subtitle else "fuzzy-title"
    return _linked(index, best.row, method, best.score)


def resolve_raw(raw: str, index: ArxivIndex, threshold: float = 90.0) -> Resolution:
    """Resolve a reference given only as printed text (one line of `autoscholar resolve`)."""
    return resolve(BibEntry(key="raw", raw=raw), index, threshold)
