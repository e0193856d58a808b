"""Grobid TEI -> ParsedPaper: sections in reading order, sentences with linked callouts, bibliography.

Grobid's output is good but not clean, and this reader repairs what real files contain:
- divs are flat: nesting is inferred from section numbers ("2" -> "2.1"), unnumbered heads
  after a numbered one are its children, and a number glued into the head text ("Model 2.1
  Overview", "3.Experimental Methods") is split off;
- bibr refs without a `target`, numeric groups split over several refs ("[18," "21]") and
  ranges ("[3-6]", target on the first only) are linked by the printed numbers;
- citations tagged as another ref type ("Suzgun et al. ( <ref type="formula">2022</ref>)",
  "[12]" as a figure ref) and author-year callouts left as plain text are found again with the
  shared callout finders and linked by surname + year.
XML is parsed with entity resolution, DTD loading and network access off; a document that
declares entities is refused rather than half-read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from autoscholar.errors import ParseError
from autoscholar.parse import citations
from autoscholar.parse.grobid.tei_bibl import T, text_of, normalize_arxiv_id, read_bibliography
from autoscholar.parse.grobid.tei_links import Linker, Ref, link, make_linker
from autoscholar.parse.lexicon import CAPTION_ALONE
from autoscholar.parse.lexicon import TOP_SECTION_START as _TOP_LEVEL
from autoscholar.records import Paper, Paragraph, ParsedPaper, Section, Sentence

__all__ = ["read_tei", "split_head", "normalize_arxiv_id", "read_bibliography"]



# ---------------------------------------------------------------- XML


def _parse_xml(xml: bytes) -> etree._Element:
    # Grobid never writes a DTD; one that declares entities is an expansion attack or junk.
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    # Markup declarations can only be markup: text would carry them escaped ("&lt;!ENTITY").
    if b"<!ENTITY" in xml or b"<!DOCTYPE" in xml:
        raise ParseError("entity-expansion", "the TEI carries a DTD or entity declarations; refused")
    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
        dtd_validation=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as e:
        raise ParseError("bad-tei", f"malformed XML: {e}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise ParseError("entity-expansion", "the TEI carries a DTD; refused")
    if etree.QName(root).localname != "TEI":
        raise ParseError("bad-tei", f"root element is <{etree.QName(root).localname}>, not <TEI>")
    return root


# ---------------------------------------------------------------- section heads


_ROMAN = r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)"
_LEADING_NUM = re.compile(
    rf"^(?:(?:Appendix|APPENDIX)\s+)?"
    rf"(\d{{1,2}}(?:\.\d{{1,2}})*|[A-Z](?:\.\d{{1,2}})+|[A-Z]|{_ROMAN}(?=\.))"
    r"\.?(?:\s+|(?<=\.)(?=[A-Z]))(\S.*)$"
)
_VALID_NUM = re.compile(rf"^(?:\d{{1,2}}|[A-Z]|{_ROMAN})(?:\.\d{{1,2}})*$")


def split_head(text: str, n_attr: str | None, in_back: bool = False) -> tuple[str | None, str]:
    """('2.1. Dense retrieval' or head/@n) -> ('2.1', 'Dense retrieval')."""
    text = " ".join(text.split())
    number = (n_attr or "").strip().rstrip(".") or None
    if number and not _VALID_NUM.match(number):
        number = None
    m = _LEADING_NUM.match(text)
    if m:
        lead, rest = m.group(1), m.group(2)
        letter_only = re.fullmatch(r"[A-Z]", lead) is not None
        # "A Study of ..." is a title, "B AUTOGPT DETAILS" / "C SPICE Results" an appendix.
        plausible = not letter_only or text.lower().startswith("appendix") or in_back or (
            lead not in "AI" and rest[:1].isupper())
        if plausible and (number is None or number == lead):
            number, text = lead, rest
    return number, text


def _split_glued(number: str | None, title: str) -> list[tuple[str | None, str]]:
    """'Model 2.1 Overview' under number 2 -> [('2', 'Model'), ('2.1', 'Overview')]."""
    if number:
        m = re.search(rf"\s({re.escape(number)}\.\d{{1,2}})\.?\s+(\S.*)$", title)
        if m and m.start() > 0:
            return [(number, title[: m.start()].strip()), (m.group(1), m.group(2).strip())]
    return [(number, title)]


_DEBRIS_RE = re.compile(r"^[^\w\"“‘']|[#%$=<>|]|arXiv:\d{4}\.\d")


def _is_debris(head: str, paragraphs: list[etree._Element]) -> bool:
    """An unnumbered head that is not a heading: a table cell ("# of Nodes", "Batch Size" over
    a two-word cell), an arXiv stamp, a caption label, a sentence fragment ("respectively.").
    Its div is text that continues the section before it."""
    letters = sum(ch.isalpha() for ch in head)
    if letters < 2 or head[:1].islower() or _DEBRIS_RE.search(head) or CAPTION_ALONE.match(head):
        return True
    words = sum(len(text_of(p).split()) for p in paragraphs)
    return bool(paragraphs) and words < 5


@dataclass
class _Div:
    number: str | None
    title: str
    paragraphs: list[etree._Element] = field(default_factory=list)
    has_head: bool = True


def _collect_divs(root: etree._Element) -> list[_Div]:
    body = root.find(f"{T}text/{T}body")
    back = root.find(f"{T}text/{T}back")
    abstract = root.find(f"{T}teiHeader/{T}profileDesc/{T}abstract")
    divs: list[tuple[etree._Element, bool]] = []
    out: list[_Div] = []
    if abstract is not None:
        # Grobid sometimes files the first body sections under the abstract: keep them.
        inner = abstract.findall(f"{T}div")
        if abstract.findall(f"{T}p") or (inner and inner[0].find(f"{T}head") is None):
            first = inner[0] if inner and inner[0].find(f"{T}head") is None else abstract
            out.append(_Div(None, "Abstract", first.findall(f"{T}p")))
            inner = [d for d in inner if d is not first]
        divs += [(d, False) for d in inner]
    if body is not None:
        divs += [(d, False) for d in body.iterfind(f"{T}div")]
    if back is not None:
        for top in back.iterfind(f"{T}div"):
            if top.get("type") == "references" or top.find(f".//{T}listBibl") is not None:
                continue
            inner = top.findall(f"{T}div")
            divs += [(d, True) for d in inner] if inner else [(top, True)]
    for div, in_back in divs:
        head = div.find(f"{T}head")
        paragraphs = div.findall(f"{T}p")
        head_text = text_of(head)
        if not head_text:
            out.append(_Div(None, "", paragraphs, has_head=False))
            continue
        number, title = split_head(head_text, head.get("n"), in_back)
        if number is None and _is_debris(head_text, paragraphs):
            out.append(_Div(None, "", paragraphs, has_head=False))
            continue
        parts = _split_glued(number, title or head_text)
        for i, (num, ttl) in enumerate(parts):
            out.append(_Div(num, ttl, paragraphs if i == len(parts) - 1 else []))
    return out


def _build_sections(divs: list[_Div], read_paragraph) -> list[Section]:
    headed = [d for d in divs if d.has_head]
    numbered = sum(1 for d in headed if d.number)
    # Some files number a couple of list items as heads ("2. Practical framework:") and
    # nothing else: then numbering says nothing about where unnumbered heads belong.
    nest_unnumbered = bool(headed) and numbered * 3 >= len(headed)
    sections: list[Section] = []
    by_number: dict[str, list[str]] = {}
    last_numbered: list[str] | None = None
    for d in divs:
        paragraphs = [p for el in d.paragraphs for p in read_paragraph(el)]
        if not d.has_head:
            if sections:  # a div Grobid split off at a figure or page break
                sections[-1].paragraphs.extend(paragraphs)
            elif paragraphs:
                sections.append(Section(title="", path=[], paragraphs=paragraphs))
            continue
        if d.number:
            parent_path: list[str] = []
            parts = d.number.split(".")
            for k in range(len(parts) - 1, 0, -1):  # nearest ancestor that was printed
                anc = ".".join(parts[:k])
                if anc in by_number:
                    parent_path = by_number[anc]
                    break
            path = parent_path + [d.title]
            by_number[d.number] = path
            last_numbered = path
        elif nest_unnumbered and last_numbered is not None and not _TOP_LEVEL.match(d.title):
            path = last_numbered + [d.title]
        else:
            path = [d.title]
            last_numbered = None
        sections.append(Section(title=d.title, number=d.number, path=path, paragraphs=paragraphs))
    return sections


# ---------------------------------------------------------------- text with refs


_SKIP_INLINE = {"note", "figure", "table"}


def _flatten(el: etree._Element) -> tuple[str, list[Ref]]:
    """Text of a <p> or <s>, whitespace collapsed, with the offsets of its <ref>s."""
    pieces: list[str] = []
    raw_refs: list[tuple[int, int, etree._Element]] = []
    pos = 0

    def add(s: str | None) -> None:
        nonlocal pos
        if s:
            pieces.append(s)
            pos += len(s)

    def walk(node: etree._Element) -> None:
        add(node.text)
        for child in node:
            if not isinstance(child.tag, str):
                add(child.tail)
                continue
            tag = etree.QName(child).localname
            if tag == "ref":
                # "<ref>Radford et al., 2018;</ref><ref>Devlin ..." has no space between refs
                if pieces and pieces[-1][-1:] in (",", ";") and raw_refs and raw_refs[-1][1] == pos:
                    add(" ")
                start = pos
                add("".join(t for t in child.itertext() if isinstance(t, str)))
                raw_refs.append((start, pos, child))
            elif tag not in _SKIP_INLINE:
                walk(child)
            add(child.tail)

    walk(el)
    raw = "".join(pieces)
    # collapse whitespace, keeping a map from raw offsets to collapsed offsets
    out: list[str] = []
    where = [0] * (len(raw) + 1)
    space = True  # drops leading whitespace
    for i, ch in enumerate(raw):
        where[i] = len(out)
        if ch.isspace():
            if not space:
                out.append(" ")
                space = True
        else:
            out.append(ch)
            space = False
    where[len(raw)] = len(out)
    text = "".join(out).rstrip()
    refs: list[Ref] = []
    for a, b, node in raw_refs:
        while a < b and raw[a].isspace():
            a += 1
        while b > a and raw[b - 1].isspace():
            b -= 1
        if a == b:
            continue
        s, e = where[a], min(where[b - 1] + 1, len(text))
        target = (node.get("target") or "").lstrip("#").split()[0] if node.get("target") else None
        refs.append(Ref(s, e, node.get("type") or "", target, text[s:e]))
    return text, refs


# ---------------------------------------------------------------- paragraphs


def _paragraph(p: etree._Element, linker: Linker) -> list[Paragraph]:
    sentences: list[Sentence] = []
    s_elems = p.findall(f"{T}s")
    if s_elems:
        for s in s_elems:
            text, refs = _flatten(s)
            if text:
                sentences.append(Sentence(text=text, cites=link(text, refs, linker)))
    else:
        text, refs = _flatten(p)
        if text:
            sentences = citations.split_sentences(text, link(text, refs, linker))
    return [Paragraph(sentences=sentences)] if sentences else []


# ---------------------------------------------------------------- entry point


def read_tei(xml: bytes, paper: Paper) -> ParsedPaper:
    """Read Grobid TEI into a ParsedPaper; ParseError('bad-tei' | 'entity-expansion')."""
    root = _parse_xml(xml)
    app = root.find(f"{T}teiHeader/{T}encodingDesc/{T}appInfo/{T}application")
    version = app.get("version", "") if app is not None else ""
    bibliography = read_bibliography(root)
    linker = make_linker(root, bibliography)
    sections = _build_sections(_collect_divs(root), lambda p: _paragraph(p, linker))
    return ParsedPaper(paper=paper, parser="grobid", parser_version=version,
                       sections=sections, bibliography=bibliography)
