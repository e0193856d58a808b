"""Citation callouts and sentences: text-level helpers shared by the PyMuPDF and Grobid backends.

Public functions
- ``find_numeric_callouts(text) -> list[Callout]``: ``[12]``, ``[3, 5-7]`` (ranges expanded).
  Each ref is ``("", "12")``.
- ``find_author_year_callouts(text) -> list[Callout]``: ``(Smith et al., 2020; Doe, 2019a)``,
  ``Smith et al. (2020)``, ``Smith and Doe [2020]``, ``(Touvron et al., 2023a,b)``.
  Each ref is ``(surname, year)`` with the year as printed, e.g. ``("Doe", "2019a")``.
- ``find_callouts(text) -> list[Callout]``: both kinds, non-overlapping, sorted by start.
- ``Bibliography(entries)``: a paper's entries prepared once for linking (made by the caller).
- ``link_author_year(surname, year, bibliography) -> str | None``: the BibEntry.key of the entry
  whose first author is ``surname`` and whose year is ``year`` (a/b suffix honoured); surnames
  match as whole names ("Pan" is not "Sapana"), the second author only as a fallback.
- ``entry_matches(surname, year, entry, first_only=False) -> bool``: the same test against one
  entry (to verify a link made elsewhere, e.g. a Grobid target).
- ``surname_forms(name) -> set[str]``: the folded whole-name forms a citation may print.
- ``link_numeric(label, bibliography, labels=None) -> str | None``: printed number -> key;
  ``labels`` maps printed labels to keys (default: keys of the form ``ref<N>``).
- ``cite_spans(text, bibliography, labels=None) -> list[CiteSpan]``: callouts of ``text`` linked
  to the bibliography; callouts that link to nothing are left out (they are usually not
  citations: "(CVPR 2020)", "[0, 1]").
- ``split_sentences(text, cites) -> list[Sentence]``: abbreviation-aware ("et al.", "e.g.",
  "Fig.", initials), never splits inside a callout; CiteSpan offsets are rebased per sentence.

A ``Callout`` is ``(start, end, refs)``: character offsets into ``text`` and a list of
``(surname, year)`` pairs, where numeric callouts use ``("", number)``.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from autoscholar.parse.lexicon import SURNAME_PARTICLES, YEAR, YEAR_SPAN
from autoscholar.records import BibEntry, CiteSpan, Sentence
from autoscholar.text import ascii_letters

Callout = tuple[int, int, list[tuple[str, str]]]

# ------------------------------------------------------------------ numeric

_NUM_ITEM = r"\d{1,4}(?:\s*[-–—]\s*\d{1,4})?"
_NUMERIC_RE = re.compile(rf"\[\s*({_NUM_ITEM}(?:\s*[,;]\s*{_NUM_ITEM})*)\s*\]")
_MAX_RANGE = 60  # "[1-1000]" is not a citation range


def _expand_numbers(inner: str) -> list[str] | None:
    out: list[str] = []
    for part in re.split(r"\s*[,;]\s*", inner.strip()):
        bounds = re.split(r"\s*[-–—]\s*", part)
        if len(bounds) == 1:
            out.append(str(int(bounds[0])))
            continue
        lo, hi = int(bounds[0]), int(bounds[1])
        if hi < lo or hi - lo > _MAX_RANGE:
            return None
        out.extend(str(n) for n in range(lo, hi + 1))
    return out


def find_numeric_callouts(text: str) -> list[Callout]:
    found: list[Callout] = []
    for m in _NUMERIC_RE.finditer(text):
        numbers = _expand_numbers(m.group(1))
        if numbers and "0" not in numbers:
            found.append((m.start(), m.end(), [("", n) for n in numbers]))
    return found


# ------------------------------------------------------------------ author-year

_CAP = "A-ZÀ-ÖØ-ÞĀ-ſ"  # upper-case initial incl. Latin-1 / Latin Extended-A
# a particle printed lower case or capitalised ("van der Berg", "Van der Berg"), or "St."
_PARTICLE = "(?:%s|St\\.)" % "|".join(f"[{w[0]}{w[0].upper()}]{w[1:]}"
                                       for w in sorted(SURNAME_PARTICLES))
# a dot inside a name only between letters: organisations cited as authors ("CAMEL-AI.org")
_NAME = rf"(?<![\w'’\-])(?:{_PARTICLE}[\s\-]+)*[{_CAP}](?:[\w'’\-]*\.(?=[a-z]{{2}}))*[\w'’\-]*[\w]"
# later names in a list may have two words ("Yin, Wortman Vaughan, and Wallach"); the first may
# not, or "As Smith" would read as one name
_LATER = rf"{_NAME}(?:\s+[{_CAP}][\w'’\-]*\w(?=\s*,|\s+and\b|\s*&))?"
_AUTHORS = (
    # ACM's small-caps callouts come out of the PDF as "[JIMENEZ ET AL. 2023]"
    rf"{_NAME}(?:\s+(?:et\s+al|ET\s+AL)\.?|(?:\s*,\s*{_LATER})*,?\s+(?:and|&)\s+{_LATER})?"
)
# "2019a,b" or a span "2008–2023"
_YEAR = rf"{YEAR}(?:{YEAR_SPAN}|[a-z]?(?:\s*,\s*[a-z](?![\w]))*)"
_YEARS = rf"{_YEAR}(?:\s*,\s*{_YEAR})*"
_IN_PAREN_RE = re.compile(rf"({_AUTHORS})\s*,?\s*({_YEARS})(?![\d\w])")
_NARRATIVE_RE = re.compile(rf"({_AUTHORS})(?:'s|’s)?\s*[\(\[]\s*({_YEARS})\s*[\)\]]")
_GROUP_RE = re.compile(r"\(([^()]{4,600})\)|\[([^\[\]]{4,600})\]")
_HAS_YEAR_RE = re.compile(YEAR)
# Words that may stand beside citations inside one parenthesis without being content.
_FILLER_RE = re.compile(
    r"[\s,;.:]*(?:(?:e\.\s?g\.|i\.\s?e\.|see(?:\s+also)?|cf\.|also|and|for\s+example|"
    r"for\s+instance|inter\s+alia|among\s+others|among\s+many\s+others|etc\.)[\s,;.:]*)*",
    re.I,
)
_NOT_SURNAMES = {
    "In", "See", "For", "The", "This", "That", "These", "Table", "Figure", "Fig", "Section",
    "Sec", "Eq", "Appendix", "Chapter", "January", "February", "March", "April", "May",
    "June", "July", "August", "September", "October", "November", "December", "Also", "And",
}


def _first_surname(authors: str) -> str:
    """'Smith et al.' -> 'Smith'; 'van den Oord and Vinyals' -> 'van den Oord'."""
    first = re.split(r"\s+(?:et\s+al|ET\s+AL)|\s*,\s*|\s+and\s+|\s*&\s*", authors.strip())[0]
    return first.strip()


def _split_years(years: str) -> list[str]:
    """'2023a,b' -> ['2023a', '2023b']; '2018, 2019' -> ['2018', '2019']; '2008–2023' -> ['2008']."""
    out: list[str] = []
    for part in re.split(r"\s*,\s*", years.strip()):
        part = re.sub(rf"^({YEAR}){YEAR_SPAN}$", r"\1", part)
        if re.fullmatch(rf"{YEAR}[a-z]?", part):
            out.append(part)
        elif re.fullmatch(r"[a-z]", part) and out:
            out.append(out[-1][:4] + part)
    return out


def _refs(authors: str, years: str) -> list[tuple[str, str]]:
    surname = _first_surname(authors)
    if surname in _NOT_SURNAMES:
        return []
    return [(surname, y) for y in _split_years(years)]


def find_author_year_callouts(text: str) -> list[Callout]:
    found: list[Callout] = []
    for g in _GROUP_RE.finditer(text):
        inner = g.group(1) if g.group(1) is not None else g.group(2)
        if not _HAS_YEAR_RE.search(inner):
            continue
        offset = g.start() + 1
        matches = [m for m in _IN_PAREN_RE.finditer(inner) if _refs(m.group(1), m.group(2))]
        if not matches:
            continue
        rest = "".join(
            inner[a:b] for a, b in zip([0] + [m.end() for m in matches],
                                       [m.start() for m in matches] + [len(inner)])
        )
        if _FILLER_RE.fullmatch(rest):
            refs = [r for m in matches for r in _refs(m.group(1), m.group(2))]
            found.append((g.start(), g.end(), refs))
        else:  # "(BERT; Devlin et al., 2019)": keep the words, mark only the citations
            for m in matches:
                found.append((offset + m.start(), offset + m.end(), _refs(m.group(1), m.group(2))))
    for m in _NARRATIVE_RE.finditer(text):
        refs = _refs(m.group(1), m.group(2))
        if refs:
            found.append((m.start(), m.end(), refs))
    return _non_overlapping(found)


def _non_overlapping(found: list[Callout]) -> list[Callout]:
    """Keep the earliest-starting, then longest, callout where callouts overlap."""
    found.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    out: list[Callout] = []
    for c in found:
        if out and c[0] < out[-1][1]:
            continue
        out.append(c)
    return out


def find_callouts(text: str) -> list[Callout]:
    return _non_overlapping(find_numeric_callouts(text) + find_author_year_callouts(text))


# ------------------------------------------------------------------ linking


_INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,3}")


def surname_forms(name: str) -> set[str]:
    """The folded ways a citation may print this author's surname, as whole names:
    'Aaron van den Oord' -> {'oord', 'denoord', 'vandenoord', 'aaronvandenoord'};
    'Smith, J.' -> {'smith'}; 'Smith JA' (initials after the surname) -> {'smith', ...}."""
    name = name.strip()
    if "," in name:
        name = name.split(",")[0]
    # "RadimŘehůřek": a space the PDF or Grobid lost between given name and surname
    name = re.sub(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-ÞĀ-Ž][a-zà-ÿ])", " ", name)
    words = [ascii_letters(w) for w in re.split(r"[\s.]+", name)]
    words = [w for w in words if w]
    forms = {"".join(words[i:]) for i in range(len(words))}
    last = name.split()[-1] if name.split() else ""
    if len(words) > 1 and _INITIALS.fullmatch(last):  # "Smith JA": surname first
        forms |= {"".join(words[i:-1]) for i in range(len(words) - 1)}
    return forms


def _raw_head(entry: BibEntry) -> str:
    """The author part of the raw entry: everything before the first year."""
    m = _HAS_YEAR_RE.search(entry.raw)
    return entry.raw[: m.start()] if m else entry.raw[:120]


_AUTHOR_SEP = re.compile(r"\s*(?:,|;|&|\band\b)\s*")


def _head_authors(head: str) -> list[set[str]]:
    """Surname forms of the first two names printed in a raw entry's author part. 'Smith, J.,
    and Doe, K.' prints a comma inside each name; a piece made only of initials is skipped."""
    out: list[set[str]] = []
    # the names end at the first full stop after a word ("DeepSeek-AI. Deepseek-r1: ..."),
    # not after an initial ("J. Smith")
    head = re.split(r"(?<=[^\W\d_]{2})\.\s", head, maxsplit=1)[0]
    for piece in _AUTHOR_SEP.split(head.strip()):
        piece = piece.strip(" .:")
        if not piece or _INITIALS.fullmatch(piece.replace(" ", "")):
            continue
        out.append(surname_forms(piece))
        if len(out) == 2:
            break
    return out


def _author_forms(entry: BibEntry) -> list[set[str]]:
    """Surname forms of the entry's first two authors, from the parsed authors and from the
    raw entry (which fills in where the author parse failed or glued names together)."""
    parsed = [surname_forms(a) for a in entry.authors[:2]]
    raw = _head_authors(_raw_head(entry))
    return [(parsed[i] if i < len(parsed) else set()) | (raw[i] if i < len(raw) else set())
            for i in range(max(len(parsed), len(raw)))]


def _name_score(want: str, forms: list[set[str]]) -> int:
    """2: ``want`` is the first author's surname; 1: the second's (Grobid shifts name parts);
    0: neither, as a whole name."""
    if forms and want in forms[0]:
        return 2
    if len(forms) > 1 and want in forms[1]:
        return 1
    return 0


def entry_matches(surname: str, year: str, entry: BibEntry, first_only: bool = False) -> bool:
    """Could this callout ("Smith", "2019a") cite this entry? The surname is one of the first
    two authors' surnames (the first's with ``first_only``) as a whole name, and the year is
    the entry's (or, when the entry has none, printed in its raw text; an entry with neither is
    not ruled out by year)."""
    want = ascii_letters(surname)
    if not want or _name_score(want, _author_forms(entry)) < (2 if first_only else 1):
        return False
    if not year:
        return True
    if entry.year is not None:
        return str(entry.year) == year[:4]
    return year[:4] in entry.raw or not _HAS_YEAR_RE.search(entry.raw)


class Bibliography:
    """A paper's bibliography, with each entry's year as text and the surname forms of its
    first two authors worked out once: one paper links many callouts against the same entries.
    The caller makes one per paper and passes it to ``link_author_year`` and ``cite_spans``."""

    def __init__(self, entries: Sequence[BibEntry]) -> None:
        self.entries = list(entries)
        self.prepared = [(e, str(e.year) if e.year is not None else None, _author_forms(e))
                         for e in self.entries]


def link_author_year(surname: str, year: str, bibliography: Bibliography) -> str | None:
    """Key of the entry by first author ``surname`` in ``year`` ("2019a" picks among same-year
    entries of that author by the printed suffix, else by order).

    The surname must equal an author's surname as a whole name ("Pan" is not "Sapana", nor
    "Pang"); the first author is preferred, the second is a fallback for entries whose name
    parts Grobid shifted; later authors never count ("Liu" as a 4th author is another paper)."""
    want = ascii_letters(surname)
    if not want:
        return None
    digits, suffix = year[:4], year[4:]
    scored: list[tuple[int, int, BibEntry]] = []
    for i, (e, y, forms) in enumerate(bibliography.prepared):
        if y is not None and y != digits:
            continue
        if y is None and digits not in e.raw:
            continue
        score = _name_score(want, forms)
        if score:
            scored.append((score, i, e))
    if not scored:
        return None
    best = max(s for s, _, _ in scored)
    cands = [e for s, _, e in sorted(scored, key=lambda t: t[1]) if s == best]
    if len(cands) == 1:
        return cands[0].key
    if suffix:
        printed = [e for e in cands if re.search(rf"{digits}{suffix}(?![a-z])", e.raw)]
        if len(printed) == 1:
            return printed[0].key
        idx = ord(suffix) - ord("a")
        if 0 <= idx < len(cands):
            return cands[idx].key
        return None
    # same author and year, no suffix printed: prefer an entry without a suffix
    plain = [e for e in cands if not re.search(rf"{digits}[a-z](?![a-z])", e.raw)]
    return (plain or cands)[0].key


def default_labels(bibliography: list[BibEntry]) -> dict[str, str]:
    """Printed numeric label -> key, for keys of the form ``ref<N>``."""
    out = {}
    for e in bibliography:
        m = re.fullmatch(r"ref(\d+)", e.key)
        if m:
            out[m.group(1)] = e.key
    return out


def link_numeric(label: str, bibliography: list[BibEntry],
                 labels: Mapping[str, str] | None = None) -> str | None:
    labels = default_labels(bibliography) if labels is None else labels
    return labels.get(str(int(label)) if label.isdigit() else label)


def cite_spans(text: str, bibliography: Bibliography,
               labels: Mapping[str, str] | None = None) -> list[CiteSpan]:
    labels = default_labels(bibliography.entries) if labels is None else labels
    spans: list[CiteSpan] = []
    for start, end, refs in find_callouts(text):
        keys: list[str] = []
        for surname, value in refs:
            key = (link_numeric(value, bibliography.entries, labels) if not surname
                   else link_author_year(surname, value, bibliography))
            if key and key not in keys:
                keys.append(key)
        if not keys and len(refs) == 1 and refs[0][0]:
            # "PubMed Central, Saier and Färber (2019)": the name list swallowed a word before
            # the real first author; try the later names and start the span there
            head = text[start:end]
            for m in re.finditer(rf",\s*({_NAME})", head):
                key = link_author_year(m.group(1), refs[0][1], bibliography)
                if key:
                    keys, start = [key], start + m.start(1)
                    break
        if keys:
            spans.append(CiteSpan(start=start, end=end, text=text[start:end], keys=keys))
    return spans


# ------------------------------------------------------------------ sentences

_ABBREVIATIONS = {
    "al", "e.g", "i.e", "eg", "ie", "fig", "figs", "eq", "eqs", "sec", "secs", "tab", "vs",
    "cf", "resp", "approx", "no", "nos", "vol", "pp", "p", "dr", "mr", "mrs", "ms", "prof",
    "st", "ch", "chap", "ref", "refs", "alg", "def", "thm", "lem", "prop", "cor", "app",
    "appx", "et", "ca", "viz", "incl", "esp", "w.r.t", "a.k.a", "approx", "jr", "sr", "inc",
    "ltd", "co", "corp", "dept", "univ", "u.s", "u.k", "max", "min", "avg", "std", "est",
    "sect", "equ", "eqn", "eqns", "tbl", "figure", "table", "section", "cp", "ed", "eds",
}
# the next sentence starts with a capital, a digit, or an enumerator "(ii) " / "(b) "
_END_RE = re.compile(
    r"[.?!]+[\"'”’)\]]*(?=\s+(?:[\"'“‘(\[]?[A-Z0-9À-Þ]|\((?:[ivx]{1,4}|[a-h])\)\s))")


_LAST_WORD = re.compile(r"([\w.\-]+)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = _LAST_WORD.search(text[max(0, dot - 40):dot])
    if not m:
        return False
    word = m.group(1)
    low = word.lower().strip(".")
    if low in _ABBREVIATIONS:
        return True
    if re.fullmatch(r"[A-Z]", word):  # an initial: "J. Smith"
        return True
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):  # "U.S", "e.g" forms
        return True
    return False


def split_sentences(text: str, cites: list[CiteSpan]) -> list[Sentence]:
    """Split a paragraph into sentences, carrying its CiteSpans (offsets into ``text``)."""
    inside = [(c.start, c.end) for c in cites]
    cuts = [0]
    for m in _END_RE.finditer(text):
        end = m.end()
        if any(a < m.start() < b or a < end < b for a, b in inside):
            continue
        if _is_abbreviation(text, m.start()):
            continue
        cuts.append(end)
    cuts.append(len(text))
    cuts = _join_bare_callouts(text, cites, cuts)
    out: list[Sentence] = []
    for a, b in zip(cuts, cuts[1:]):
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip())
        body = seg.strip()
        if not body:
            continue
        s0 = a + lead
        own = [
            CiteSpan(start=c.start - s0, end=c.end - s0, text=c.text, keys=list(c.keys))
            for c in cites if a <= c.start and c.end <= b
        ]
        out.append(Sentence(text=body, cites=own))
    return out


def _join_bare_callouts(text: str, cites: list[CiteSpan], cuts: list[int]) -> list[int]:
    """Cuts without those that would leave a sentence of callouts alone ("... generation [12].
    (Madotto et al., 2020)."): such a sentence names no topic, so its entries are cited for the
    sentence before it, and a query built from it alone would drop them."""
    kept = cuts[:2]
    for b in cuts[2:]:
        a = kept[-1]
        seg = text[a:b]
        for c in sorted((c for c in cites if a <= c.start and c.end <= b), key=lambda c: -c.start):
            seg = seg[:c.start - a] + seg[c.end - a:]
        if a > 0 and len(seg) < b - a and not re.search(r"\w", seg):
            kept[-1] = b  # one sentence with the one before
        else:
            kept.append(b)
    return kept
