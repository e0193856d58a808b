"""Reference-list lines -> BibEntry records.

- ``split_entries(lines) -> list[tuple[str | None, str]]``: (printed label, raw text) per entry.
  Numbered (``[12] ...``, ``12. ...``) lists split at their labels; otherwise hanging indentation
  (first line out, continuation lines in) splits author-year lists; otherwise block and
  vertical-gap boundaries do.
- ``parse_entry(raw, key) -> BibEntry``: title, authors, year, arXiv id (no version), DOI.
- ``parse_bibliography(lines) -> list[BibEntry]``: both. Keys are ``ref<N>`` for numbered lists
  (so ``citations.default_labels`` links ``[N]``) and ``<surname><year>`` otherwise.
"""

from __future__ import annotations

import re
from statistics import median

from autoscholar.parse.lexicon import CAPTION, ENTRY_YEAR, PRINTED_ARXIV, SURNAME_PARTICLES, YEAR, YEAR_SPAN
from autoscholar.parse.pymupdf.layout import SUP_CLOSE, SUP_OPEN, Line
from autoscholar.records import BibEntry
from autoscholar.text import ascii_letters

_NAMED_LABEL = re.compile(r"^(?:[•·▪]\s*)?\[[^\[\]]*[A-Za-z][^\[\]]{0,80}\]\s*")
_BRACKET_LABEL = re.compile(r"^\[(\d{1,4})\]\s*")
_DOT_LABEL = re.compile(r"^(\d{1,4})\.\s+(?=\S)")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_BACKREFS = re.compile(r"(?<=[).])\s+\d{1,3}(?:\s*,\s*\d{1,3})*\s*$")
_TRAILING_DATE = re.compile(
    r",?\s*(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+)?"
    rf"{YEAR}[a-z]?$", re.I)


def _strip_sup(text: str) -> str:
    return re.sub(f"{SUP_OPEN}[^{SUP_CLOSE}]*{SUP_CLOSE}", "", text)


_COMPOUND = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+")


def _compounds(lines: list[Line]) -> set[str]:
    """Hyphenated words printed inside a line of the list ("Bibliometric-enhanced"): the same
    word broken at its hyphen by a line end keeps the hyphen."""
    return {w.lower() for ln in lines for w in _COMPOUND.findall(ln.text)}


def _join(lines: list[str], compounds: frozenset[str] | set[str] = frozenset()) -> str:
    text = ""
    for t in lines:
        t = _strip_sup(t).strip()
        if not text:
            text = t
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and t[:1].islower() \
                and (text[-2].isupper() or _broken_compound(text, t, compounds)):
            # "NLI-" + "based"; "Bibliometric-" + "enhanced", printed whole elsewhere
            text += t
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and (
                t[:1].islower() or text[-2].isupper() and t[:2].isupper()):
            text = text[:-1] + t  # "SciB-" + "ERT" was one word broken by the line
        elif text.endswith("-") and len(text) > 1 and text[-2].isalpha() and t[:1].isupper():
            text += t  # "Sentence-" + "BERT": a compound's hyphen, no space either way
        elif text.endswith(("/", "-")) and not t[:1].isupper() or _open_url(text, t):
            text += t  # URLs and DOIs broken across lines
        else:
            text += " " + t
    return text


def _broken_compound(text: str, nxt: str, compounds: frozenset[str] | set[str]) -> bool:
    a = re.search(r"([A-Za-z]+)-$", text)
    b = re.match(r"[A-Za-z]+", nxt)
    return bool(a and b) and f"{a.group(1)}-{b.group(0)}".lower() in compounds


def _open_url(text: str, nxt: str) -> bool:
    """Does ``text`` end inside a URL that ``nxt`` continues ("https:" + "//x.org", "arxiv." + "org/")?"""
    last = text.rsplit(" ", 1)[-1]
    if nxt.startswith("//"):
        return True
    return ("://" in last or last.startswith("www.")) and last[-1] in "./_-=?&#" and \
        not nxt[:1].isupper()


def _labelled(lines: list[Line], pattern: re.Pattern) -> list[int] | None:
    """Indices of lines that start a numbered entry, if numbering runs 1, 2, 3, ..."""
    starts, expect = [], None
    for i, ln in enumerate(lines):
        m = pattern.match(ln.text)
        if not m:
            continue
        n = int(m.group(1))
        if expect is None or n == expect:
            starts.append(i)
            expect = n + 1
    if len(starts) >= 3 and len(starts) >= 0.1 * len(lines):
        return starts
    return None


def _segments(lines: list[Line]) -> list[list[int]]:
    """Runs of lines in one column of one page."""
    segs: list[list[int]] = []
    for i, ln in enumerate(lines):
        prev = lines[i - 1] if i else None
        if prev is None or ln.page != prev.page or ln.y0 < prev.y0 - 5 or abs(ln.x0 - prev.x0) > 120:
            segs.append([i])
        else:
            segs[-1].append(i)
    return segs


def _hanging_starts(lines: list[Line]) -> list[int] | None:
    starts: list[int] = []
    indented_segments = 0
    segs = _segments(lines)
    for seg in segs:
        xs = [lines[i].x0 for i in seg]
        left = min(xs)
        inner = [x for x in xs if x > left + 3]
        if inner and len(inner) < len(xs):
            indented_segments += 1
        for i in seg:
            if lines[i].x0 <= left + 2:
                starts.append(i)
    if indented_segments >= max(1, len(segs) // 2):
        return starts
    return None


def _gap_starts(lines: list[Line]) -> list[int]:
    pitches = [b.y0 - a.y0 for a, b in zip(lines, lines[1:]) if 0 < b.y0 - a.y0 < 3 * a.size]
    pitch = median(pitches) if pitches else 12.0
    starts = [0]
    for i in range(1, len(lines)):
        a, b = lines[i - 1], lines[i]
        if b.block != a.block or b.y0 - a.y0 > 1.12 * pitch or b.y0 < a.y0:
            starts.append(i)
    return starts


def split_entries(lines: list[Line]) -> list[tuple[str | None, str]]:
    lines = [ln for ln in lines if ln.text.strip()]
    if not lines:
        return []
    sizes: dict[float, int] = {}
    for ln in lines:
        sizes[ln.size] = sizes.get(ln.size, 0) + len(ln.text)
    main = max(sizes, key=sizes.get)
    # footnotes and page furniture that share the page with the list are set in other sizes
    lines = [ln for ln in lines if abs(ln.size - main) <= 0.8]
    compounds = _compounds(lines)
    for pattern in (_BRACKET_LABEL, _DOT_LABEL):
        starts = _labelled(lines, pattern)
        if starts:
            out = []
            for a, b in zip(starts, starts[1:] + [len(lines)]):
                raw = _join([ln.text for ln in lines[a:b]], compounds)
                m = pattern.match(raw)
                out.append((m.group(1), raw[m.end():].strip()))
            return out
    starts = _hanging_starts(lines) or _gap_starts(lines)
    if not starts or starts[0] != 0:
        starts = [0] + starts
    out = []
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        raw = _join([ln.text for ln in lines[a:b]], compounds)
        if out and not re.search(YEAR, out[-1][1]) and len(out[-1][1]) < 60:
            out[-1] = (None, out[-1][1] + " " + raw)  # a stray first line: glue it on
        else:
            out.append((None, raw))
    return out


# Software and series are dated by a span: "Grobid. 2008–2023. Grobid. https://...".
_YEAR_RANGE_FIELD = re.compile(rf"(?:^|\.\s|\()\s*({YEAR}){YEAR_SPAN}\s*[.)]")
_PAGES_BEFORE = re.compile(r"(?:pp?\.|pages?)\s*$", re.I)


def _year(text: str) -> tuple[int | None, str]:
    clean = _URL.sub(" ", _DOI.sub(" ", PRINTED_ARXIV.sub(" ", text)))
    cands = list(ENTRY_YEAR.finditer(clean))
    for m in cands:  # a year standing as its own field: "(2020)", ". 2020.", ", 2020."
        before, after = clean[max(0, m.start() - 2):m.start()], clean[m.end():m.end() + 1]
        if before.endswith("(") or (before.strip() in {".", ","} or before.endswith(". ")) and after in {".", ")", ""}:
            return int(m.group(1)), m.group(2)
    for span in _YEAR_RANGE_FIELD.finditer(clean):  # not a page range "pp. 2001–2010."
        if not _PAGES_BEFORE.search(clean[max(0, span.start() - 8):span.start(1)]):
            return int(span.group(1)), ""
    if not cands:
        return None, ""
    m = cands[-1]
    return int(m.group(1)), m.group(2)


def _split_fields(text: str) -> list[str]:
    """Split at ". " unless the dot ends an initial ("J. Smith") or a common abbreviation."""
    parts, start = [], 0
    # a title ending in "?" or "!" runs straight into the venue ("You said that? arXiv
    # preprint ..."); a subtitle after it ("Is it? A study") does not split
    for m in re.finditer(r"\.\s+|[?!]\s+(?=(?:arXiv|ArXiv|CoRR|In|Proc|Proceedings|Advances|"
                         r"Journal|Transactions|IEEE|ACM|Preprint|Technical)\b)", text):
        word = re.search(r"(\S+)$", text[start:m.start()] or " ")
        w = word.group(1) if word else ""
        if re.fullmatch(r"[A-Z]|[A-Z]\.[A-Z]|[A-Z][a-z]?\.-?[A-Z]|Jr|Sr|vs|Proc|Conf|Int|Vol|No|pp|eds?|St", w):
            continue
        parts.append(text[start:m.start() + 1].strip())
        start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _authors(text: str) -> list[str]:
    text = re.sub(r"\bet\s+al\.?", "", text)
    items = [p.strip(" .") for p in re.split(r",|;|\band\b|&", text) if p.strip(" .")]
    out: list[str] = []
    for it in items:
        if out and re.fullmatch(r"(?:[A-Z]\.?\s*-?)+", it) and "," not in out[-1]:
            out[-1] = f"{out[-1]}, {it}"  # "Smith, J." split at the comma
        else:
            out.append(it)
    return [a for a in out if any(c.isalpha() for c in a)][:100]


def parse_entry(raw: str, key: str) -> BibEntry:
    raw = re.sub(r"\s+", " ", raw).strip()
    arxiv = PRINTED_ARXIV.search(raw)
    doi = _DOI.search(raw)
    year, _suffix = _year(raw)
    title: str | None = None
    authors_text = ""
    raw = _BACKREFS.sub("", raw)  # "... (2024) 2, 5, 6": pages citing the entry
    # a printed label ("[Agichtein and Gravano, 2000] E. Agichtein ...", "[Smi20] J. Smith ...")
    # is not part of the author list
    text = _NAMED_LABEL.sub("", raw, count=1)
    lncs = re.match(r"^([^:]{3,800}?(?:\b[A-Z]\.|et al\.))\s*:\s+(.+)$", text)
    quoted = re.search(r"[“\"](.{8,300}?)[,.]?[”\"]", text)
    acl = re.match(rf"^(.+?)\.\s+\(?({YEAR}[a-z]?)(?:{YEAR_SPAN})?\)?\.\s+(.+)$", text)
    apa = re.match(rf"^(.+?)\s*\(({YEAR}[a-z]?(?:{YEAR_SPAN})?|n\.d\.|in press)\)\.?\s+(.+)$",
                   text)
    if lncs and not re.search(YEAR, lncs.group(1)):
        authors_text = lncs.group(1)
        title = _split_fields(lncs.group(2))[0]
    elif quoted:
        title = quoted.group(1)
        authors_text = text[: quoted.start()].rstrip(" ,:")
    elif acl and len(acl.group(1)) < 4000 and len(_split_fields(acl.group(1))) == 1:
        authors_text = acl.group(1)
        title = _split_fields(acl.group(3))[0]
    elif apa and len(apa.group(1)) < 4000:
        authors_text = apa.group(1)
        title = _split_fields(apa.group(3))[0]
    else:
        fields = _split_fields(text)
        if len(fields) >= 2:
            authors_text, title = fields[0], fields[1]
        elif fields:
            title = fields[0]
    if title:
        title = re.sub(r"^(?:In|in)\s+", "", title).strip(" .,")
        title = _TRAILING_DATE.sub("", title).strip(" .,")
        if len(title) < 3:
            title = None
    return BibEntry(
        key=key,
        raw=raw,
        title=title,
        authors=_authors(authors_text) if authors_text else [],
        year=year,
        arxiv_id=arxiv.group(1) if arxiv else None,
        doi=doi.group(1).rstrip(".,;)]") if doi else None,
    )


def _key(entry: BibEntry, raw: str, taken: set[str]) -> str:
    first = entry.authors[0] if entry.authors else raw.split()[0] if raw.split() else "ref"
    if "," in first:
        surname = first.split(",")[0]
    else:  # "Piet van der Berg" -> "van der Berg"
        tokens = first.split() or ["ref"]
        i = next((i for i, t in enumerate(tokens[:-1]) if i and t.lower() in SURNAME_PARTICLES),
                 len(tokens) - 1)
        surname = " ".join(tokens[i:])
    _, suffix = _year(raw)
    base = (ascii_letters(surname)[:24] or "ref") + (str(entry.year) if entry.year else "") + suffix
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _mostly_numbers(raw: str) -> bool:
    chars = [c for c in raw if not c.isspace()]
    return sum(c.isalpha() for c in chars) < 0.4 * len(chars)


def parse_bibliography(lines: list[Line]) -> list[BibEntry]:
    entries: list[BibEntry] = []
    taken: set[str] = set()
    for i, (label, raw) in enumerate(split_entries(lines)):
        if len(raw) < 10 or CAPTION.match(raw) or _mostly_numbers(raw):
            continue  # a table or figure that follows the list without a heading
        if label is not None:
            key = f"ref{int(label)}"
            if key in taken:
                continue
            entry = parse_entry(raw, key)
        else:
            entry = parse_entry(raw, f"tmp{i}")
            entry = entry.model_copy(update={"key": _key(entry, raw, taken)})
        taken.add(entry.key)
        entries.append(entry)
    return entries
