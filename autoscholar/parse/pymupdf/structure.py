"""Lines in reading order -> section headings, paragraphs of body text, and reference lines.

``build(layout) -> Structure``: headings are found from layout and text (numbered "2", "2.1",
"A.1", "IV."; unnumbered; ALL CAPS or small caps; bold or larger than the body font), each
section gets its heading path so subsections stay under their parent. A run-in heading (a bold
or italic run that opens a paragraph: "Binary setup. Assume ...", "Semantic segmentation Fully
connected ...") starts a subsection of the heading above it. Body paragraphs are joined across
line, column and page breaks with hyphenation repaired. Captions, footnotes and other small
print are left out of the body. The lines under References/Bibliography are kept apart, with
geometry, for the bibliography splitter.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from autoscholar.parse.lexicon import APPENDIX_TITLE as _APPENDIX
from autoscholar.parse.lexicon import CAPTION as _CAPTION
from autoscholar.parse.lexicon import DEFAULT_SECTIONS
from autoscholar.parse.lexicon import REFERENCES_TITLE as _REFS
from autoscholar.parse.lexicon import TOP_SECTION_TITLE as _TOP_NAMES
from autoscholar.parse.pymupdf.footnotes import footnote_lines
from autoscholar.parse.pymupdf.layout import Layout, Line

_NUMBERED = re.compile(
    # appendices run past H ("I.3 Training Configurations"); a lone letter is held to its place
    # in the sequence (_next_top), so "S" opening a title is not taken for a number
    r"^(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,3}|[A-Z](?:\.\d{1,2}){0,3}|[IVX]{1,5})\.?)\s+(?P<title>\S.*)$"
)
_ENV = re.compile(r"^(?:Proposition|Theorem|Lemma|Corollary|Definition|Remark|Example|Assumption|"
                  r"Proof|Claim|Conjecture|Algorithm|Step|Case)\b")


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
        a = re.search(r"(\w+)-$", prev[-80:])
        b = re.match(r"\w+", nxt)
        if a and b and (a.group(0)[:-1] + b.group(0)).lower() in vocab \
                and (a.group(0) + b.group(0)).lower() not in hyphenated:
            return prev[:-1] + nxt  # "GRO-" + "BID" where the paper also prints "Grobid"
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
    # "I" after "H" is the ninth appendix, not roman one: only a letter that follows a roman
    # numeral is read as roman
    if num.isalpha() and len(num) == 1 and last.isalpha() and len(last) == 1 and \
            (num not in "IVX" or last not in "IVX"):
        return ord(last) < ord(num) <= ord(last) + 2
    if num.isalpha() and num == "A":  # appendices after numbered sections
        return True
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    if num in roman and last in roman:
        return roman.index(last) < roman.index(num) <= roman.index(last) + 2
    return False


def _named_heading_in_block(prev: Line, ln: Line) -> bool:
    """A heading set in bold at body size that MuPDF read into the block of the paragraph
    above it ("... in practice." / "Related Work"): a whole bold line with a section's name,
    after a finished sentence, counts as opening its block."""
    return ln.bold and ln.head == ln.text and _ends_sentence(prev.text) and \
        _TOP_NAMES.match(clean_title(_heading_parts(ln.text.strip())[1])) is not None


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
            first = li == 0 or _named_heading_in_block(blk[li - 1], ln)
            if not ln.mono and _looks_like_heading(ln, body, first, nxt):
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


def _starts_paragraph(ln: Line, last: Line | None, blk: list[Line], para: list[str],
                      text: str = "") -> bool:
    """Does ``ln`` (with ``text``) begin a new paragraph after ``last``, the previous body line,
    whose text ends ``para``? The sentence before is complete, and a new block (not starting in
    lower case), an indent or a gap follows."""
    if last is None or not para:
        return True
    if not _ends_sentence(para[-1]):
        return False
    if ln.block != last.block:
        return not text[:1].islower()
    return ln.x0 - min(l.x0 for l in blk) > 0.6 * ln.size or ln.y0 - last.y1 > 0.9 * ln.size


_FUNCTION_WORDS = frozenset("a an and as at by for from in into of on or the to via vs with".split())
_CITE_LIKE = re.compile(r"\d{4}|\[\d|\bet al\b")
# a run-in heading without a period is words only ("Semantic segmentation"), not "B — BM25"
_PLAIN_TITLE = re.compile(r"[A-Z][\w'’&/\-]*(?:\s+[\w'’&/()\-]+)*")
# a run-in heading with the name of a related-work section stays in its paragraph: "Other related
# work." in an Introduction is not the paper's Related Work section. Built from the target
# sections, so that no run-in heading can become a target section of its own
_RELATED_KIND = re.compile(r"\b(?:%s)\b" % "|".join(r"\s+".join(map(re.escape, name.split()))
                                                    for name in DEFAULT_SECTIONS), re.I)
# one word that names a model or a system ("LLaMA", "RoBERTa", "GPT-3", "Sentence-BERT"), which a
# paragraph may open with in bold or italic, not a heading
_NAME_SHAPE = re.compile(r"[a-z][A-Z]|[A-Z]{2}|\d")
_SUB_NUMBER = re.compile(r"(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(?=[A-Z])")  # "3.3.1 Overview of ..."


def _continues_head(prev: Line, ln: Line, right: float) -> bool:
    """Does the emphasised line ``prev`` wrap into the leading run of ``ln`` ("... Team Perfor-"
    / "mance. To address ...")? ``prev`` ends in a hyphen or reaches the right edge ``right``."""
    return bool(ln.head) and ln.head != ln.text and ln.head_bold == prev.head_bold and \
        ln.text.startswith(ln.head) and abs(ln.size - prev.size) < 0.5 and ln.x0 < prev.x1 and \
        -2 <= ln.y0 - prev.y1 < 0.8 * prev.size and \
        (prev.text.endswith("-") or prev.x1 >= right - 2 * prev.size)


def _head_end(blk: list[Line], li: int, k: int) -> int | None:
    """A run-in heading begins at ``blk[li]`` and covers whole emphasised lines up to
    ``blk[k - 1]``: which line does it end on, in a roman tail ("... Team Perfor-" / "mance. To
    address ...")? None when it does not end so."""
    last = blk[k - 1]
    if not last.head:
        return None
    if last.head != last.text:
        return k - 1 if last.text.startswith(last.head) else None
    if last.head_bold and k < len(blk) and _continues_head(last, blk[k], max(l.x1 for l in blk)):
        return k
    return None


def _run_in(blk: list[Line], li: int, end: int, vocab: set[str], hyph: set[str],
            max_words: int = 12) -> tuple[str, str | None, str] | None:
    """The run-in heading from ``blk[li]`` to the bold (or italic) run that starts ``blk[end]``,
    followed by roman text ("Binary setup. Assume ...", "Semantic segmentation Fully connected
    ..."): (title, number, the rest of line ``end``), or None when it does not look like one."""
    head = blk[li].text if end > li else ""
    for ln in blk[li + 1:end]:
        head = _dehyphenate(head, ln.text, vocab, hyph)
    ln = blk[end]
    head = _dehyphenate(head, ln.head, vocab, hyph) if head else ln.head
    rest = ln.text[len(ln.head):].lstrip()
    if rest[:1] in (".", ":"):  # "Audit space" in bold, ". Following ..." in roman
        head, rest = head + rest[0], rest[1:].lstrip()
    number = None
    m = _SUB_NUMBER.match(head)
    if m:
        number, head = m.group(1), head[m.end():]
    title = head.strip()
    if not title[:1].isupper() or sum(c.isalpha() for c in title) < 4 \
            or len(title.split()) > max_words or rest[:1].islower() \
            or _ENV.match(title) or _CAPTION.match(title) or _RELATED_KIND.search(title):
        return None
    if _CITE_LIKE.search(title):
        return None  # "Platt scaling (Platt et al., 1999)." keeps its callout in the text
    if title[-1] not in ".:?!":
        # an italic run without a period is emphasis ("*Dense Passage Retrieval* DPR [1] ...")
        if not ln.head_bold or " " not in title and _NAME_SHAPE.search(title):
            return None
        # no period: words only, a complete phrase, and running text after it ("Dataset
        # Samples" / "Docs Words Sents" is a table row)
        if not (_PLAIN_TITLE.fullmatch(title) and rest[:1].isupper()
                and title.split()[-1].lower() not in _FUNCTION_WORDS
                and any(w[:1].islower() for w in rest.split()[:8]) and not _title_tail(rest)):
            return None
    return title, number, rest


def _title_tail(text: str) -> bool:
    """Is ``text`` the rest of a title, capitalised but for its function words ("Prompting" |
    "*LLMs* for Retrieval"), rather than running text ("... performance" | "Since the")?"""
    words = text.split()
    return words[-1][:1].isupper() and all(w[:1].isupper() or w in _FUNCTION_WORDS for w in words)


def _fills_line(blk: list[Line], li: int) -> bool:
    """Does ``blk[li]`` reach the right edge of the other lines of its block, as the first line
    of a paragraph does? A heading alone in its block or above a longer line does not."""
    ln = blk[li]
    right = max((l.x1 for l in blk if l is not ln), default=None)
    return right is not None and ln.x1 >= right - 2 * ln.size


def _heading_run_ins(layout: Layout, cand: set[tuple[int, int]], continued: set,
                     vocab: set[str], hyph: set[str]) -> dict[tuple[int, int], tuple]:
    """Heading candidates that end in roman text are run-in headings: one that wraps ("... for
    Team Perfor-" / "mance. To address ...") or fills its line ("What is the best highlighting
    algorithm? We"). (title, number, rest of the last line, index of that line) by position."""
    out = {}
    for bi, li in cand:
        blk = layout.blocks[bi]
        if blk[li].size > layout.body_size + 0.4:
            continue  # set larger than the text: a heading, whatever font its words are in
        k = li + 1
        while (bi, k) in continued:
            k += 1
        end = _head_end(blk, li, k)
        run_in = _run_in(blk, li, end, vocab, hyph, 24) if end is not None else None
        if run_in is not None and end == li and run_in[0][-1] not in ".:?!" \
                and not _fills_line(blk, li):
            continue  # "2.2 Prompting *LLMs* for Retrieval": one word in italic, not running text
        if run_in is not None:
            out[(bi, li)] = (*run_in, end)
    return out


def build(layout: Layout) -> Structure:
    return _Builder(layout).run()


def _levels_by_style(layout: Layout, cand: set[tuple[int, int]]) -> dict[tuple, Counter]:
    """Per heading style, how often numbered headings in it sit at each level: an unnumbered
    heading in the same style takes the commonest level."""
    out: dict[tuple, Counter] = {}
    for bi, li in cand:
        ln = layout.blocks[bi][li]
        num, _ = _heading_parts(ln.text)
        if num:
            out.setdefault(_style(ln), Counter())[num.count(".") + 1] += 1
    return out


class _Builder:
    """One walk over the lines in reading order, with the state it carries from line to line:
    the heading stack, the section and the paragraph being filled, whether it is in the
    references, and the text left on a line after a run-in heading."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.body = body = layout.body_size
        self.vocab, self.hyph = _vocab(layout)
        self.st = Structure(body_size=body)
        self.stack: list[tuple[int, str, bool]] = []  # (level, title, is a run-in heading)
        self.unnumbered_levels: dict[tuple, int] = {}
        # text before the first heading (title, authors, an unheaded abstract): kept only when
        # the paper has no headings at all, so that it is not silently empty
        self.front = RawSection(title="", number=None, path=[])
        self.current: RawSection | None = self.front
        self.in_refs = False
        self.para: list[str] = []  # lines of the paragraph being built
        self.last_line: Line | None = None
        self.rest_of: dict[tuple[int, int], str] = {}  # line -> its text after a run-in heading
        self.cand = set(_accepted_headings(layout, body))
        self.levels_by_style = _levels_by_style(layout, self.cand)
        self.continued = _heading_continuations(layout, self.cand, body)
        self.heading_run_ins = _heading_run_ins(layout, self.cand, self.continued, self.vocab,
                                                self.hyph)
        self.footnotes = footnote_lines(layout, body)

    def run(self) -> Structure:
        caption_end: Line | None = None  # last line of a caption block, to follow its run-on
        for bi, blk in enumerate(self.layout.blocks):
            skip_block = bool(blk) and not self.in_refs and (
                _CAPTION.match(blk[0].text) is not None or _continues_caption(caption_end, blk))
            caption_end = blk[-1] if skip_block and blk else None
            for li in range(len(blk)):
                self._line(bi, li, blk, skip_block)
        self.close_para()
        if not self.st.sections and self.front.paragraphs:
            self.st.sections.append(self.front)
        return self.st

    def _line(self, bi: int, li: int, blk: list[Line], skip_block: bool) -> None:
        ln = blk[li]
        if (bi, li) in self.continued and (bi, li) not in self.rest_of:
            return
        run_in = self.heading_run_ins.get((bi, li)) if not self.in_refs else None
        if run_in is not None:
            title, number, rest, end = run_in
            self.open_run_in(title, number)
            self.rest_of[(bi, end)] = rest
            if end > li:
                return
        elif (bi, li) in self.cand:
            self._heading(bi, li, blk)
            return
        if self.in_refs:
            self.st.reference_lines.append(ln)
            return
        if skip_block or ln.size < self.body - 1.2 or _figure_text(blk, ln, self.body) or \
                (bi, li) in self.footnotes:
            return
        text = self._body_text(bi, li, blk)
        if text:  # None or "": the run-in heading took the line
            self._append(ln, blk, text)

    def _heading(self, bi: int, li: int, blk: list[Line]) -> None:
        ln = blk[li]
        text = ln.text.strip()
        k = li + 1
        while (bi, k) in self.continued:
            text = _dehyphenate(text, blk[k].text.strip(), self.vocab, self.hyph)
            k += 1
        number, title = _heading_parts(text)
        title = clean_title(title)
        if self.in_refs and not (number and number[0].isalpha() and number[0] not in "IVX"
                                 or _APPENDIX.match(title)
                                 or ln.size >= self.body + 0.9 and ln.bold):
            self.st.reference_lines.append(ln)
            return
        self.open_heading(ln, number, title)

    def _body_text(self, bi: int, li: int, blk: list[Line]) -> str | None:
        """The text ``blk[li]`` adds to the body, after any run-in heading it opens; None when
        that heading ends on the next line (which then carries the text)."""
        ln = blk[li]
        if (bi, li) in self.rest_of:
            return self.rest_of.pop((bi, li))
        if not ln.head or self.current is self.front:
            return ln.text
        para = self.para
        run_in = None
        laid_out = _starts_paragraph(ln, self.last_line, blk, para)
        # a bold run after a full stop opens a paragraph even without an indent or a gap
        # ("... or knowledge." / "Knowledge guided neural networks Analyzing"), unless it is a
        # label of a list ("... Medicine." / "DBpedia: DBpedia provides"); an italic run does
        # not ("... EEOC v." / "Ford Motor Company.")
        if laid_out or ln.head_bold and _ends_sentence(para[-1]) and not para[-1].endswith(":"):
            end = _head_end(blk, li, li + 1)
            run_in = _run_in(blk, li, end, self.vocab, self.hyph) if end is not None else None
        if run_in is None or not laid_out and run_in[0].endswith(":"):
            return ln.text
        self.open_run_in(run_in[0], run_in[1])
        if end > li:  # the heading ends on the next line
            self.rest_of[(bi, end)] = run_in[2]
            return None
        return run_in[2]

    def _append(self, ln: Line, blk: list[Line], text: str) -> None:
        para = self.para
        if self.last_line is not None and para and (
                text[:1] in _BULLETS  # each list item is a paragraph of its own
                or _starts_paragraph(ln, self.last_line, blk, para, text)):
            self.close_para()
        self.para.append(text)
        self.last_line = ln

    def close_para(self) -> None:
        if self.para and self.current is not None:
            text = self.para[0]
            for nxt in self.para[1:]:
                text = _dehyphenate(text, nxt, self.vocab, self.hyph)
            self.current.paragraphs.append(text)
        self.para = []

    def _open(self, title: str, number: str | None, kept: bool = True) -> None:
        self.current = RawSection(title=title, number=number, path=[t for _, t, _ in self.stack])
        if kept:
            self.st.sections.append(self.current)
        self.last_line = None

    def open_run_in(self, title: str, number: str | None) -> None:
        """A run-in heading starts a subsection of the heading above it, and ends the previous
        run-in one: "Multi-agent LLM systems." and "Agent social platforms." are siblings."""
        self.close_para()
        stack = self.stack
        while stack and stack[-1][2]:
            stack.pop()
        # not clean_title: a run-in heading in capitals is an acronym ("PEFT."), not shouting
        title = re.sub(r"\s+", " ", title).strip().rstrip(":.").strip()
        stack.append(((stack[-1][0] + 1) if stack else 1, title, True))
        self._open(stack[-1][1], number)

    def open_heading(self, ln: Line, number: str | None, title: str) -> None:
        self.close_para()
        level = self._level(ln, number, title)
        stack = self.stack
        while stack and (stack[-1][0] >= level or stack[-1][2]):
            stack.pop()
        stack.append((level, title, False))
        self.in_refs = bool(_REFS.match(title))
        self._open(title, number, kept=not self.in_refs)

    def _level(self, ln: Line, number: str | None, title: str) -> int:
        style = _style(ln)
        if number:
            return number.count(".") + 1
        if style in self.levels_by_style:
            return self.levels_by_style[style].most_common(1)[0][0]
        if _TOP_NAMES.match(title) or _REFS.match(title) or ln.size >= self.body + 1.5:
            return 1
        if style not in self.unnumbered_levels:
            # siblings share a style: "Modeling Human Behavior" then "Optimizing Behavior-Aware
            # AI" are both subsections, not one nested in the other
            real = [lv for lv, _, is_run_in in self.stack if not is_run_in]
            self.unnumbered_levels[style] = (real[-1] + 1) if real else 1
        return self.unnumbered_levels[style]
