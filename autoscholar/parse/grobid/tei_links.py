"""Citation callouts in Grobid TEI: link each <ref> (and what Grobid missed) to bibliography keys.

- numeric refs follow the printed numbers: ranges ("[3-6]", target on the first only), groups
  split over refs ("[18," "21]"), refs without a target; the number -> entry map is learnt
  from the refs Grobid did link, so an entry Grobid lost shifts the rest correctly;
- author-year refs keep Grobid's target only when it names the printed surname and year,
  else are linked by surname + year ("2017a,b" gives both entries);
- callouts not tagged bibr (plain text, or mis-tagged as formula/figure) are found with the
  shared finders in `citations` and linked the same way;
- pieces of one printed group are merged into one CiteSpan, and a parenthesis of citations
  Grobid tagged only in part becomes one callout with every printed name + year linked;
- two references Grobid read as one biblStruct (tei_bibl.is_merged) are never linked to: its
  one title belongs to only one of them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from autoscholar.parse import citations
from autoscholar.parse.grobid.tei_bibl import T, is_merged, text_of
from autoscholar.parse.lexicon import YEAR
from autoscholar.records import BibEntry, CiteSpan
from autoscholar.text import ascii_letters


@dataclass
class Ref:
    start: int
    end: int
    type: str
    target: str | None
    text: str


@dataclass
class Linker:
    bibliography: citations.Bibliography  # the entries a callout may link to (not merged ones)
    by_key: dict[str, BibEntry]
    labels: dict[str, str]  # printed number -> key
    numeric_style: bool


def _numbers(ref_text: str) -> list[str]:
    """'[3-6]' / '[11,' / '12]' / '7' -> printed numbers, ranges expanded; [] if not numeric."""
    t = ref_text.strip().strip(",;.").strip()
    if not re.fullmatch(r"[\[(]?\s*\d[\d\s,;\-–—]*[\])]?", t):
        return []
    inner = t.strip("[]() ")
    callouts = citations.find_numeric_callouts(f"[{inner}]")
    return [n for _, n in callouts[0][2]] if len(callouts) == 1 else []


def _author_year(ref_text: str) -> list[tuple[str, str]]:
    """'Hamilton et al., 2017a,b;' -> [('Hamilton', '2017a'), ('Hamilton', '2017b')]."""
    t = ref_text.strip().strip(",;").strip()
    found = citations.find_author_year_callouts(t)
    if not found:
        found = citations.find_author_year_callouts(f"({t.strip('()[] ')})")
    return [r for c in found for r in c[2]]


def _looks_author_year(ref_text: str) -> bool:
    refs = _author_year(ref_text)
    return bool(refs) and ref_text.strip(" ();,[]").startswith(refs[0][0])


def _number_map(seen: dict[int, Counter], size: int) -> dict[str, int]:
    """Printed number -> bibliography index, from the (number, target) pairs Grobid linked.

    Grobid drops or splits the odd entry, so the offset between the printed number and the
    position changes along the list ([11] -> b10 but [13] -> b11 when #12 was lost). A number
    Grobid never linked takes the offset of its neighbours when both agree; between neighbours
    that disagree it is likely the lost entry and stays unmapped.
    """
    if not seen:
        return {str(i + 1): i for i in range(size)}
    points = sorted((n, c.most_common(1)[0][0] - n) for n, c in seen.items())
    out: dict[str, int] = {}
    top = max(size, points[-1][0]) + 1
    j = 0
    for n in range(1, top + 1):
        while j < len(points) and points[j][0] < n:
            j += 1
        if j < len(points) and points[j][0] == n:
            delta = points[j][1]
        else:
            lo = points[j - 1][1] if j > 0 else None
            hi = points[j][1] if j < len(points) else None
            if lo is not None and hi is not None and lo != hi:
                continue
            delta = lo if lo is not None else hi
        if 0 <= n + delta < size:
            out[str(n)] = n + delta
    return out


def make_linker(root: etree._Element, bibliography: list[BibEntry]) -> Linker:
    index = {b.key: i for i, b in enumerate(bibliography)}
    seen: dict[int, Counter] = {}
    numeric = author_year = 0
    for ref in root.iterfind(f".//{T}text/{T}body//{T}ref[@type='bibr']"):
        text = text_of(ref)
        nums = _numbers(text)
        if nums:
            numeric += 1
            target = (ref.get("target") or "").lstrip("#")
            if target in index:
                seen.setdefault(int(nums[0]), Counter())[index[target]] += 1
        elif re.search(YEAR, text):
            author_year += 1
    labels: dict[str, str] = {}
    # A label printed in the raw entry ("[12] Smith ...") is the surest numbering.
    printed = {}
    for b in bibliography:
        m = re.match(r"\s*\[(\d{1,4})\]", b.raw)
        if m:
            printed[m.group(1)] = b.key
    if bibliography and len(printed) >= 0.8 * len(bibliography):
        labels = printed
    elif numeric:
        labels = {n: bibliography[i].key for n, i in _number_map(seen, len(bibliography)).items()}
    # Two references read as one biblStruct carry one title for two papers: a link to it is
    # wrong half the time, and no link beats a wrong one.
    merged = {bibliography[i].key for i, bib in enumerate(
        root.iterfind(f".//{T}back//{T}listBibl/{T}biblStruct")) if i < len(bibliography)
        and is_merged(bib)}
    linkable = [b for b in bibliography if b.key not in merged]
    labels = {n: k for n, k in labels.items() if k not in merged}
    return Linker(citations.Bibliography(linkable), {b.key: b for b in linkable}, labels,
                   numeric_style=numeric > author_year)


def _names(entry: BibEntry, surname: str, year: str = "") -> bool:
    """Is the entry by ``surname`` (whole name, first or second author) and, when both are
    known, from ``year``? (Grobid sometimes shifts name parts: "M Iulia, Murray Comsa".)"""
    return citations.entry_matches(surname, year, entry)


def _link_undated(surname: str, year: str, bibliography: list[BibEntry]) -> str | None:
    """Grobid often loses an entry's date: then a surname among the first two authors of the
    undated entries decides, if it points to one entry (or, with "2023b", to the 2nd of them)."""
    want = ascii_letters(surname)
    cands = [b for b in bibliography if b.year is None and year[:4] not in b.raw and any(
        ascii_letters(a.split()[-1]) == want for a in b.authors[:2] if a.split())]
    if len(cands) == 1 and len(year) == 4:
        return cands[0].key
    if len(year) == 5 and 0 <= ord(year[4]) - ord("a") < len(cands):
        return cands[ord(year[4]) - ord("a")].key
    return None


def _link_refs(refs: list[tuple[str, str]], linker: Linker) -> list[str]:
    out: list[str] = []
    for surname, value in refs:
        if surname:
            key = citations.link_author_year(surname, value, linker.bibliography)
            if key and not _names(linker.by_key[key], surname, value):
                key = None  # a loose match ("Pan" inside "Sapana"): no link beats a wrong one
            key = key or _link_undated(surname, value, linker.bibliography.entries)
        else:
            key = linker.labels.get(value)
        if key and key not in out:
            out.append(key)
    return out


def link(text: str, refs: list[Ref], linker: Linker) -> list[CiteSpan]:
    spans: list[tuple[int, int, list[str]]] = []
    for r in refs:
        if r.type != "bibr":
            continue  # mis-tagged citations are picked up from the plain text below
        span = _bibr_span(r, linker)
        if span is not None:
            spans.append(span)
    _add_untagged(text, spans, linker)
    return _merge(text, _close_brackets(text, _whole_groups(text, spans, linker)))


def _bibr_span(r: Ref, linker: Linker) -> tuple[int, int, list[str]] | None:
    """The callout of one <ref type="bibr"> and the keys it links to; None when it is no
    citation (a footnote mark, a list of values, "CoNLL-2003")."""
    target = r.target if r.target in linker.by_key else None
    nums = _numbers(r.text)
    if nums and not target and not linker.numeric_style:
        return None  # a footnote mark or a list of values ("[5, 10, 15]") tagged as bibr
    if nums:
        # Grobid puts the target on the first number of a range only: the printed numbers are
        # the truth when the bibliography is numbered.
        from_labels = [linker.labels[n] for n in nums if n in linker.labels]
        keys = [target] if target else []
        keys += [k for k in (from_labels[1:] if target else from_labels) if k not in keys]
    else:
        keys, r = _author_year_keys(r, target, linker)
    if keys or nums or _looks_author_year(r.text):  # keep unlinked callouts, not "CoNLL-2003"
        return r.start, r.end, keys
    return None


def _author_year_keys(r: Ref, target: str | None, linker: Linker) -> tuple[list[str], Ref]:
    """Keys of an author-year bibr ref, checking Grobid's ``target`` against the printed names;
    the ref is trimmed to start at the first name when words precede it."""
    found = _author_year(r.text)
    extra = _link_refs(found, linker)
    if target and found and not _names(linker.by_key[target], *found[0]):
        # Grobid's target names someone else: trust the printed surname + year
        target = None
    elif target and found and not citations.entry_matches(
            *found[0], linker.by_key[target], first_only=True):
        # the printed name is only the target's 2nd author: an entry it heads wins
        better = citations.link_author_year(*found[0], linker.bibliography)
        if better and citations.entry_matches(*found[0], linker.by_key[better], first_only=True):
            target = better
    keys = [target] if target else []
    if not target or len(extra) > 1:
        keys += [k for k in extra if k not in keys]
    if keys and found:
        # "CNNs (Yamins et al. (2014)": the words before the callout stay text
        lead = r.text.find(found[0][0])
        if lead > 0 and re.search(r"\w", r.text[:lead].rstrip(" (")):
            cut = lead - (1 if r.text[lead - 1] == "(" else 0)
            r = Ref(r.start + cut, r.end, r.type, r.target, r.text[cut:])
    return keys, r


def _add_untagged(text: str, spans: list[tuple[int, int, list[str]]], linker: Linker) -> None:
    """Add to ``spans`` the callouts Grobid did not tag as bibr: plain-text author-year ("see
    Smith et al. (2020)"), mis-tagged ones ("Suzgun et al. ( <ref type="formula">2022</ref>)"),
    numeric in a numbered paper. Only parts not already covered by a bibr ref are added."""
    taken = [(a, b) for a, b, _ in spans]
    for start, end, found in citations.find_callouts(text):
        if any(not r[0] for r in found) and (
            not linker.numeric_style or re.search(r"[\d%=±<>]\s*$", text[:start])
        ):
            continue  # "98% [86-100]", "x = [1, 2]": an interval, not a citation
        overlaps = [(a, b) for a, b in taken if a < end and start < b]
        if not overlaps:
            keys = _link_refs(found, linker)
            if keys:
                spans.append((start, end, keys))
                taken.append((start, end))
            continue
        have = {k for a, b, ks in spans if a < end and start < b for k in ks}
        for surname, value in found:
            if not surname:
                continue
            key = _link_refs([(surname, value)], linker)
            if not key or key[0] in have:
                continue
            hole = _free_piece(text, start, end, overlaps, surname)
            if hole:
                spans.append((hole[0], hole[1], key))
                taken.append(hole)
                have.add(key[0])


def _whole_groups(text: str, spans: list[tuple[int, int, list[str]]],
                  linker: Linker) -> list[tuple[int, int, list[str]]]:
    """Grobid often tags only part of a printed group ("(Mahmood, <ref>Lu, and Yin 2024)</ref>",
    "<ref>(Cobbe et al., 2021</ref>)"): a parenthesis that holds only citations becomes one
    callout, each printed name + year linked once, keeping a Grobid link that names it."""
    for start, end, refs in citations.find_author_year_callouts(text):
        if text[start] not in "([":
            continue  # not a whole parenthesis
        inside = [s for s in spans if s[0] < end and start < s[1]]
        if not inside or any(a < start or b > end for a, b, _ in inside):
            continue
        if len(inside) == 1 and inside[0][:2] == (start, end):
            continue
        keys: list[str] = []
        for surname, year in refs:
            have = [k for _, _, ks in inside for k in ks if k not in keys and k in linker.by_key
                    and _names(linker.by_key[k], surname, year)]
            key = have[0] if have else next(iter(_link_refs([(surname, year)], linker)), None)
            if key and key not in keys:
                keys.append(key)
        spans = [s for s in spans if s not in inside] + [(start, end, keys)]
    return spans


def _close_brackets(text: str, spans: list[tuple[int, int, list[str]]]
                    ) -> list[tuple[int, int, list[str]]]:
    """'(Murdoch et al. (2019)' + ')': take in the bracket the callout opened."""
    out = []
    for a, b, keys in spans:
        seg = text[a:b]
        for o, c in ("()", "[]"):
            if seg.count(o) > seg.count(c):
                m = re.match(rf"\s*\{c}", text[b:])
                if m:
                    b += m.end()
                    seg = text[a:b]
        out.append((a, b, keys))
    return out


def _free_piece(text: str, start: int, end: int, taken: list[tuple[int, int]],
                surname: str) -> tuple[int, int] | None:
    """The uncovered stretch of text[start:end] that names ``surname``, trimmed."""
    cuts = sorted(taken)
    pos = start
    for a, b in cuts + [(end, end)]:
        if a > pos:
            seg = text[pos:min(a, end)]
            if surname in seg:
                lead = len(seg) - len(seg.lstrip(" ;,("))
                trail = len(seg.rstrip(" ;,"))
                if trail > lead:
                    return pos + lead, pos + trail
        pos = max(pos, b)
    return None


def _merge(text: str, spans: list[tuple[int, int, list[str]]]) -> list[CiteSpan]:
    """Join the pieces of one printed group ('[22,' '23,' ... '27]') into one callout."""
    spans.sort(key=lambda s: (s[0], s[1]))
    merged: list[list] = []
    for a, b, keys in spans:
        if merged:
            pa, pb, pkeys = merged[-1]
            gap = text[pb:a]
            if a >= pb and re.fullmatch(r"[\s,;]*", gap) and (
                re.search(r"[,;]", gap) or re.search(r"[,;]\s*$", text[pa:pb])
            ):
                merged[-1] = [pa, max(pb, b), pkeys + [k for k in keys if k not in pkeys]]
                continue
            if a < pb:  # overlap: keep the first
                continue
        merged.append([a, b, list(keys)])
    return [CiteSpan(start=a, end=b, text=text[a:b], keys=k) for a, b, k in merged]
