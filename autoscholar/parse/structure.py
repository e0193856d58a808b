"""Lines in reading order -> section headings, paragraphs of body text, and reference lines.

``build(layout) -> Structure``: headings are found from layout and text (numbered "2", "2.1",
"A.1", "IV."; unnumbered; ALL CAPS or small caps; bold or larger than the body font), each
section gets its heading path so subsections stay under their parent. Body paragraphs are
joined across line, column and page breaks with hyphenation repaired. Captions, footnotes and
other small print are left out of the body. The lines under References/Bibliography are kept
apart, with geometry, for the bibliography splitter.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from autoscholar.parse.layout import Layout, Line

_NUMBERED = re.compile(
    r"^(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,3}|[A-H](?:\.\d{1,2}){0,3}|[IVX]{1,5})\.?)\s+(?P<title>\S.*)$"
)
_CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|Tab\.|Algorithm|Listing|Scheme)\s*[A-Z]?\d+\s*[:.|]", re.I)
_ENV = re.compile(r"^(?:Proposition|Theorem|Lemma|Corollary|Definition|Remark|Example|Assumption|"
                  r"Proof|Claim|Conjecture|Algorithm|Step|Case)\b")
_REFS = re.compile(r"^(?:references?|bibliography|literature cited|works cited|cited literature)$", re.I)
_APPENDIX = re.compile(r"^(?:appendix|appendices|supplementary|supplemental)\b", re.I)
_TOP_NAMES = re.compile(
    r"^(?:abstract|introduction|related work|related works|background|conclusions?|discussion|"
    r"acknowledge?ments?|references|bibliography|limitations|ethics statement|broader impacts?|"
    r"appendix|appendices|experiments|results|method|methods|methodology|"
    r"(?:background and |background & )?related work|prior work|previous work|literature review|"
    r"conclusion and future work|future work|impact statement|reproducibility statement)$",
    re.I,
)


@dataclass
class RawSection:
    title: str
    number: str | None
    path: list[str]
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Structure:
    sections: list[RawSection] = field(default_factory=list)
    reference_lines: list[Line] = field(default_factory=list)
    body_size: float = 10.0


def clean_title(text: str) -> str:
    title = re.sub(r"\s+", " ", text).strip().rstrip(":.").strip()
    if title.isupper() and len(title) > 3:  # "RELATED WORK" -> "Related Work"
        small = {"and", "of", "the", "for", "in", "on", "to", "a", "an", "with"}
        words = title.lower().split()
        title = " ".join(w if i and w in small else w[:1].upper() + w[1:]
                         for i, w in enumerate(words))
    return title


def _heading_parts(text: str) -> tuple[str | None, str]:
    m = _NUMBERED.match(text)
    if m and (m.group("title")[0].isupper() or m.group("title")[0].isdigit()):
        num = m.group("num").rstrip(".")
        return num, m.group("title")
    return None, text


def _looks_like_heading(ln: Line, body: float, first_in_block: bool, next_line: Line | None) -> bool:
    text = ln.text.strip()
    styled = ln.bold or ln.size >= body + 0.9 or ln.caps
    if not styled and not text[:1].isdigit():  # the common case, decided cheaply
        return False
    words = text.split()
    if not (1 <= len(words) <= 14) or len(text) > 120 or _CAPTION.match(text):
        return False
    if text[-1] in ",;" or sum(c.isalpha() for c in text) < 3 or "=" in text or _ENV.match(text):
        return False
    number, title = _heading_parts(text)
    if not title[:1].isalpha() or (number is None and not title[0].isupper()):
        return False
    if text.endswith(".") and not text.endswith("etc."):
        # "2. Task Synthesis." is a numbered list item or a run-in heading, not a section
        if len(title.split()) > 1 or number is None:
            return False
    if not styled:
        return number is not None and _TOP_NAMES.match(clean_title(title)) is not None
    if ln.size < body - 1.5:
        return False
    if next_line is not None and next_line.bold == ln.bold and abs(next_line.size - ln.size) < 0.5 \
            and next_line.caps == ln.caps and not first_in_block \
            and not (number and "." in number):  # "2 RELATED WORK" / "2.1 Constrained ... from"
        return False  # bold text running on inside a paragraph
    if number is None and not first_in_block:
        return False
    return True


def _style(ln: Line) -> tuple:
    return (round(ln.size), ln.bold, ln.caps)


_SUSPENDED = re.compile(r"^(?:and|or|to|nor|as\s+well\s+as|versus|vs\.)\b(?!-)")


def _dehyphenate(prev: str, nxt: str, vocab: set[str], hyphenated: set[str]) -> str:
    """Join two line texts; "docu-" + "ment" -> "document", "state-of-the-" + "art" kept,
    "sentence-" + "and token-level" keeps its suspended hyphen and the space."""
    if prev.endswith("-") and _SUSPENDED.match(nxt):
        return prev + " " + nxt
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isupper() and nxt[:1].islower():
        return prev + nxt  # "NLI-" + "based", "BERT-" + "style": an acronym's compound
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isalpha() and nxt[:1].islower():
        a = re.search(r"([\w\-]+)-$", prev[-80:])
        b = re.match(r"([\w]+)((?:-\w+)*)", nxt)
        if a and b:
            joined = (a.group(1) + b.group(1)).lower()
            compound = (a.group(1) + "-" + b.group(1)).lower()
            if compound in hyphenated and joined not in vocab or "-" in a.group(1):
                return prev + nxt
            if b.group(2) and (joined not in vocab or compound + b.group(2).lower() in hyphenated):
                return prev + nxt  # "end-" + "to-end", "Chain-" + "of-thought": one compound
        return prev[:-1] + nxt
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isalpha() and nxt[:1].isupper():
        return prev + nxt  # "Ref-" + "Seer", "BERT-" + "Large": no space either way
    return prev + " " + nxt


_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _vocab(layout: Layout) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    hyph: set[str] = set()
    for blk in layout.blocks:
        for ln in blk:
            for w in _WORD.findall(ln.text.rstrip("-")):
                (hyph if "-" in w else words).add(w.lower())
    return words, hyph


def _is_anchor(number: str | None, title: str) -> bool:
    return number is not None or bool(_TOP_NAMES.match(title) or _REFS.match(title))


def _next_top(last: str | None, num: str) -> bool:
    """Does top-level number ``num`` follow ``last`` ("3" after "2", "B" after "A")?"""
    if last is None:
        return num in {"0", "1", "2", "I"}
    if num.isdigit() and last.isdigit():
        return int(last) < int(num) <= int(last) + 2
    if num.isalpha() and len(num) == 1 and last.isalpha() and len(last) == 1 and num not in "IVX":
        return ord(last) < ord(num) <= ord(last) + 2
    if num.isalpha() and num == "A":  # appendices after numbered sections
        return True
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    if num in roman and last in roman:
        return roman.index(last) < roman.index(num) <= roman.index(last) + 2
    return False


def _accepted_headings(layout: Layout, body: float) -> list[tuple[int, int]]:
    """Heading candidates that survive the document-level checks: numbering runs in sequence,
    front matter (title, authors) is not a section, unnumbered headings in a numbered paper
    share a numbered heading's style or carry a known section name."""
    raw: list[tuple[int, int, str | None, str, Line]] = []
    flat = [(bi, li) for bi, blk in enumerate(layout.blocks) for li in range(len(blk))]
    is_cand = set()
    for bi, blk in enumerate(layout.blocks):
        for li, ln in enumerate(blk):
            nxt = blk[li + 1] if li + 1 < len(blk) else None
            if not ln.mono and _looks_like_heading(ln, body, li == 0, nxt):
                is_cand.add((bi, li))
    for i, (bi, li) in enumerate(flat):
        if (bi, li) not in is_cand:
            continue
        ln = layout.blocks[bi][li]
        number, title = _heading_parts(ln.text.strip())
        title = clean_title(title)
        if number is None and not _is_anchor(None, title):
            # an unnumbered heading is followed by running text (or another heading); table
            # headers, author names and display maths are followed by short fragments
            after = flat[i + 1] if i + 1 < len(flat) else None
            if after is None or after not in is_cand and len(
                    layout.blocks[after[0]][after[1]].text) < 35:
                continue
        raw.append((bi, li, number, title, ln))
    out: list[tuple[int, int]] = []
    last_top: str | None = None
    started = False
    numbered_styles: set[tuple] = set()
    for bi, li, number, title, ln in raw:
        if not started:
            if not _is_anchor(number, title):
                continue
            started = True
        if number is not None:
            top = number.split(".")[0]
            if "." not in number:
                if not _next_top(last_top, top):
                    continue
                last_top = top
            elif top != last_top:
                continue
            numbered_styles.add(_style(ln))
        out.append((bi, li))
    if len(numbered_styles) == 0:
        return out
    keep = []
    for bi, li in out:
        ln = layout.blocks[bi][li]
        number, title = _heading_parts(ln.text.strip())
        title = clean_title(title)
        if number is not None or _style(ln) in numbered_styles or _is_anchor(None, title) \
                or _APPENDIX.match(title):
            keep.append((bi, li))
    return keep


def _heading_continuations(layout: Layout, cand: set[tuple[int, int]], body: float) -> set:
    """Second lines of headings that wrap ("3.1 Representing and manipulating" / "visually-rich
    documents with magelib"): the next line of the block in the same heading style, starting
    no further left than the heading, before any body text. They belong to the title."""
    out: set[tuple[int, int]] = set()
    for bi, li in cand:
        blk = layout.blocks[bi]
        head = blk[li]
        k = li + 1
        while k < len(blk) and k - li <= 2:
            ln = blk[k]
            if (bi, k) in cand or _style(ln) != _style(head) or ln.mono or \
                    not (ln.bold or ln.caps or ln.size >= body + 0.9) or \
                    ln.x0 < head.x0 - 1 or ln.y0 - head.y1 > 0.8 * head.size or \
                    len(ln.text) > 80 or _CAPTION.match(ln.text):
                break
            out.add((bi, k))
            head = ln
            k += 1
    return out


def _continues_caption(end: Line | None, blk: list[Line]) -> bool:
    """A caption that MuPDF split into two blocks ("... The BOUND-" / "ARY field is not ..."):
    the caption's last line ends mid-sentence and this block starts right under it."""
    if end is None or not blk or _ends_sentence(end.text):
        return False
    first = blk[0]
    return first.page == end.page and abs(first.x0 - end.x0) < 3 and \
        -1 <= first.y0 - end.y1 < 0.8 * end.size


def _figure_text(blk: list[Line], ln: Line, body: float) -> bool:
    """Chart labels and table cells: short lines in a small block, smaller than the body text or
    mostly digits ("0.892", "Training Strategy" at 8 pt beside 9 pt text)."""
    if len(blk) > 3 or any(len(l.text) > 40 for l in blk):
        return False
    chars = [c for c in ln.text if not c.isspace()]
    return ln.size < body - 0.5 or sum(c.isalpha() for c in chars) < 0.4 * len(chars)


_ABBREV_END = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bcf|\bvs|\bFigs?|\bEqs?|\bSecs?|\bresp)\.$")
_BULLETS = "•◦▪‣∙●○■□·"


def _ends_sentence(text: str) -> bool:
    """Does a line end a sentence ("... done." / "... (2020)." / a footnote mark after it)?"""
    if text.endswith("\x02"):
        return True
    body = text.rstrip("\"'”’)]")
    if _ABBREV_END.search(body):  # "... while Galgani et al." / "[18] experiment with ..."
        return False
    return body.endswith((".", "!", "?", ":"))


def build(layout: Layout) -> Structure:
    body = layout.body_size
    vocab, hyph = _vocab(layout)
    st = Structure(body_size=body)
    levels_by_style: dict[tuple, Counter] = {}
    stack: list[tuple[int, str]] = []
    unnumbered_levels: dict[tuple, int] = {}
    # text before the first heading (title, authors, an unheaded abstract): kept only when the
    # paper has no headings at all, so that it is not silently empty
    front = RawSection(title="", number=None, path=[])
    current: RawSection | None = front
    in_refs = False
    para: list[str] = []  # lines of the paragraph being built
    last_line: Line | None = None

    def close_para():
        nonlocal para
        if para and current is not None:
            text = para[0]
            for nxt in para[1:]:
                text = _dehyphenate(text, nxt, vocab, hyph)
            current.paragraphs.append(text)
        para = []

    cand = set(_accepted_headings(layout, body))
    for bi, li in cand:
        ln = layout.blocks[bi][li]
        num, _ = _heading_parts(ln.text)
        if num:
            levels_by_style.setdefault(_style(ln), Counter())[num.count(".") + 1] += 1

    continued = _heading_continuations(layout, cand, body)
    caption_end: Line | None = None  # last line of a caption block, to follow its run-on
    for bi, blk in enumerate(layout.blocks):
        skip_block = bool(blk) and not in_refs and (
            _CAPTION.match(blk[0].text) is not None or _continues_caption(caption_end, blk))
        caption_end = blk[-1] if skip_block and blk else None
        for li, ln in enumerate(blk):
            if (bi, li) in continued:
                continue
            if (bi, li) in cand:
                text = ln.text.strip()
                k = li + 1
                while (bi, k) in continued:
                    text = _dehyphenate(text, blk[k].text.strip(), vocab, hyph)
                    k += 1
                number, title = _heading_parts(text)
                title = clean_title(title)
                if in_refs and not (number and number[0].isalpha() and number[0] not in "IVX"
                                    or _APPENDIX.match(title) or ln.size >= body + 0.9 and ln.bold):
                    st.reference_lines.append(ln)
                    continue
                close_para()
                if number:
                    level = number.count(".") + 1
                elif _style(ln) in levels_by_style:
                    level = levels_by_style[_style(ln)].most_common(1)[0][0]
                elif _TOP_NAMES.match(title) or _REFS.match(title) or ln.size >= body + 1.5:
                    level = 1
                elif _style(ln) in unnumbered_levels:
                    # siblings share a style: "Modeling Human Behavior" then "Optimizing
                    # Behavior-Aware AI" are both subsections, not one nested in the other
                    level = unnumbered_levels[_style(ln)]
                else:
                    level = unnumbered_levels[_style(ln)] = (stack[-1][0] + 1) if stack else 1
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, title))
                in_refs = bool(_REFS.match(title))
                current = RawSection(title=title, number=number, path=[t for _, t in stack])
                if not in_refs:
                    st.sections.append(current)
                last_line = None
                continue
            if in_refs:
                st.reference_lines.append(ln)
                continue
            if skip_block or ln.size < body - 1.2 or _figure_text(blk, ln, body):
                continue
            text = ln.text
            if last_line is None:
                para.append(text)
            else:
                new_block = ln.block != last_line.block
                prev_end = _ends_sentence(para[-1]) if para else True
                indent = (not new_block and ln.x0 - min(l.x0 for l in blk) > 0.6 * ln.size)
                gap = (not new_block and ln.y0 - last_line.y1 > 0.9 * ln.size)
                starts_lower = text[:1].islower()
                if para and text[:1] in _BULLETS:  # each list item is a paragraph of its own
                    close_para()
                elif para and (new_block and prev_end and not starts_lower or
                             (indent or gap) and prev_end):
                    close_para()
                para.append(text)
            last_line = ln
    close_para()
    if not st.sections and front.paragraphs:
        st.sections.append(front)
    return st
