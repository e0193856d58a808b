"""Grobid TEI <biblStruct> -> BibEntry: title, authors, year, arXiv id, DOI, venue, raw text.

Real Grobid output puts a preprint's title in <monogr> only, an arXiv id in `idno type="arXiv"`
as "arXiv:1912.10667v1[cs.CV]" (or an untyped CoRR "abs/1907.11692", or only a ptr URL), and
leaves out the raw entry unless asked: then a raw string is rebuilt from the fields.
"""

from __future__ import annotations

import re

from lxml import etree

from autoscholar.arxiv.normalize import canonical_id as normalize_arxiv_id
from autoscholar.arxiv.normalize import extract_arxiv_ids
from autoscholar.parse.lexicon import YEAR
from autoscholar.records import BibEntry

NS = "http://www.tei-c.org/ns/1.0"
T = f"{{{NS}}}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def text_of(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(t for t in el.itertext() if isinstance(t, str)).split())


def _doi(value: str) -> str | None:
    v = re.sub(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*", "", value.strip(), flags=re.I)
    return v if v.startswith("10.") else None


def _persons(parent: etree._Element | None) -> list[str]:
    if parent is None:
        return []
    out = []
    for pers in parent.iterfind(f"{T}author/{T}persName"):
        forenames = [text_of(f) for f in pers.iterfind(f"{T}forename")]
        surname = text_of(pers.find(f"{T}surname"))
        name = " ".join(p for p in [*forenames, surname] if p)
        if name:
            out.append(name)
    return out


def _year(bib: etree._Element, raw: str) -> int | None:
    for date in bib.iter(f"{T}date"):
        for value in (date.get("when") or "", text_of(date)):
            m = re.search(YEAR, value)
            if m:
                return int(m.group(0))
    m = re.search(rf"\b{YEAR}\b", raw)
    return int(m.group(0)) if m else None


def read_bibl(bib: etree._Element, index: int) -> BibEntry:
    key = bib.get(XML_ID) or f"b{index}"
    analytic = bib.find(f"{T}analytic")
    monogr = bib.find(f"{T}monogr")
    title = text_of(analytic.find(f"{T}title")) if analytic is not None else ""
    venue = ""
    if monogr is not None:
        m_titles = monogr.findall(f"{T}title")
        if title:
            venue = text_of(m_titles[0]) if m_titles else ""
        else:
            # A title only in <monogr>: the book/preprint itself; a journal title is a venue.
            own = [t for t in m_titles if t.get("level") != "j"] or [
                t for t in m_titles if t.get("type") == "main"]
            title = text_of(own[0]) if own else ""
            others = [t for t in m_titles if not own or t is not own[0]]
            venue = text_of(others[0]) if others else ""
        if not venue:
            venue = text_of(monogr.find(f"{T}meeting"))
    if not venue:
        notes = [n for n in bib.iterfind(f"{T}note") if n.get("type") in (None, "report_type")]
        venue = text_of(notes[0]) if notes else ""
        venue = venue if len(venue) < 120 else ""
    authors = _persons(analytic) or _persons(monogr)

    raw = text_of(bib.find(f"{T}note[@type='raw_reference']"))
    arxiv_id = doi = None
    for idno in bib.iter(f"{T}idno"):
        kind = (idno.get("type") or "").lower()
        value = text_of(idno)
        if kind == "arxiv" and not arxiv_id:
            arxiv_id = normalize_arxiv_id(value)
        elif kind == "doi" and not doi:
            doi = _doi(value)
        elif not kind and not arxiv_id and value.startswith("abs/"):  # CoRR: <idno>abs/1907.11692</idno>
            arxiv_id = normalize_arxiv_id(value)
    if not arxiv_id:
        for ptr in bib.iter(f"{T}ptr"):
            target = ptr.get("target") or ""
            if "arxiv.org/" in target.lower():
                arxiv_id = normalize_arxiv_id(target)
                if arxiv_id:
                    break
    if not arxiv_id and doi and doi.lower().startswith("10.48550/arxiv."):
        arxiv_id = normalize_arxiv_id(doi)
    if not arxiv_id and raw:
        arxiv_id = next((i for i, prefixed in extract_arxiv_ids(raw) if prefixed), None)
    year = _year(bib, raw)
    if not title and raw:
        title = _title_from_raw(raw)
    if not raw:  # Grobid without includeRawCitations: rebuild a readable entry
        parts = [", ".join(authors), str(year) if year else "", title, venue]
        if arxiv_id:
            parts.append(f"arXiv:{arxiv_id}")
        if doi:
            parts.append(f"doi:{doi}")
        raw = ". ".join(p for p in parts if p)
    return BibEntry(
        key=key, raw=raw, title=title or None, authors=authors, year=year,
        arxiv_id=arxiv_id, doi=doi, venue=venue or None,
    )


def _title_from_raw(raw: str) -> str:
    """'Bruna, ... LeCun. 2014. Spectral networks on graphs. ICLR.' -> 'Spectral networks on graphs'.

    Only for entries where Grobid found no title; ACL-style raw entries put it after the year.
    """
    text = re.sub(r"(\w)- (\w)", r"\1\2", raw)  # line-break hyphens: "Pretrain- ing"
    m = re.search(rf"\b{YEAR}[a-z]?\)?\.\s+(.+?[^A-Z.])\.(?:\s|$)", text)
    if not m:
        return ""
    title = m.group(1).strip()
    return title if len(title.split()) >= 3 else ""


_BARE_YEAR = re.compile(rf"{YEAR}[a-z]?")
# a left-over <note> that names a venue or an edition, not a second title
_VENUE_WORDS = re.compile(
    r"^(?:in|advances|annual|international|association|ieee|acm)\b|\b(?:proceedings|conference|"
    r"journal|transactions|workshop|symposium|arxiv|preprint|edition|ed)\b", re.I)


def is_merged(bib: etree._Element) -> bool:
    """Did Grobid read two adjacent references as one biblStruct? Then its date lists two
    publication years ("1991. 2024"; a full date beside a year is a conference or access date,
    not a second year) and the second reference's title or venue is left over in an untyped
    <note> (for the same year twice, only a title counts: "2021. 2021" + "A general language
    assistant ..."). Two years without a left-over note are more often a year inside the
    title ("... to sept30, 2021") or a reprint."""
    pieces = [p.strip(" .,;") for d in bib.iter(f"{T}date") for p in re.split(r"\.\s+", text_of(d))]
    years = [p[:4] for p in pieces if _BARE_YEAR.fullmatch(p)]
    if len(years) < 2:
        return False
    notes = [text_of(n) for n in bib.iterfind(f"{T}note") if n.get("type") is None]
    if len(set(years)) >= 2:
        return any(notes)
    return any(len(n.split()) >= 4 and not _VENUE_WORDS.search(n) for n in notes)


def read_bibliography(root: etree._Element) -> list[BibEntry]:
    out: list[BibEntry] = []
    for i, bib in enumerate(root.iterfind(f".//{T}back//{T}listBibl/{T}biblStruct")):
        out.append(read_bibl(bib, i))
    return out
