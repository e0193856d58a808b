"""Fallback for papers where no Related Work heading matches: the front matter's citing
paragraphs that read as related work.

Many papers discuss prior work in their Introduction instead of a section of its own, and some
templates print headings the parser cannot see, leaving the paper as one untitled section.
Either way the paragraphs that survey prior work sit before the method, and they are dense
with citations: several distinct works, cited in most sentences. Those paragraphs are taken,
and each is marked by FRONT_MATTER in its context's section field so that the audit counts them
apart and a user can filter them. Settings.front_matter_fallback turns this off.
"""

from __future__ import annotations

from .records import ParsedPaper, Section

FRONT_MATTER = "(front matter)"
# top-level titles that open a paper, before its method; "" is text before any heading
FRONT_TITLES = frozenset({"", "introduction", "overview", "motivation", "introduction and motivation"})
SKIPPED = frozenset({"abstract", "keywords", "index terms"})
MIN_KEYS = 3  # distinct cited entries in a paragraph
MIN_CITING_SHARE = 0.5  # of its sentences that cite
UNTITLED_SHARE = 0.5  # of an untitled paper's paragraphs that count as its front


def _top(section: Section) -> str:
    from .contexts import normalize_heading

    return normalize_heading((section.path or [section.title])[0])


def front_sections(parsed: ParsedPaper) -> list[Section]:
    """The sections before the first one that is neither the paper's opening nor skipped,
    with an untitled paper (no heading found) cut to its first half."""
    out: list[Section] = []
    for section in parsed.sections:
        top = _top(section)
        if top in SKIPPED:
            continue
        if top not in FRONT_TITLES:
            break
        out.append(section)
    if len(out) == 1 and not out[0].title and out[0] is parsed.sections[-1]:
        whole = out[0]
        cut = max(1, int(len(whole.paragraphs) * UNTITLED_SHARE))
        out = [whole.model_copy(update={"paragraphs": whole.paragraphs[:cut]})]
    return out


def reads_as_related_work(paragraph, known: set[str]) -> bool:
    keys: set[str] = set()
    citing = 0
    for sentence in paragraph.sentences:
        found = {k for c in sentence.cites for k in c.keys if k in known}
        citing += bool(found)
        keys |= found
    return len(keys) >= MIN_KEYS and citing >= MIN_CITING_SHARE * len(paragraph.sentences)


def fallback_sections(parsed: ParsedPaper) -> list[Section]:
    """Front-matter sections cut to their related-work paragraphs, titled with FRONT_MATTER;
    empty when none reads as related work."""
    known = {e.key for e in parsed.bibliography}
    out = []
    for section in front_sections(parsed):
        paragraphs = [p for p in section.paragraphs if reads_as_related_work(p, known)]
        if paragraphs:
            title = " > ".join(section.path or [section.title]) or "untitled"
            out.append(section.model_copy(update={
                "title": f"{title} {FRONT_MATTER}", "path": [f"{title} {FRONT_MATTER}"],
                "paragraphs": paragraphs}))
    return out
