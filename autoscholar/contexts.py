"""contexts stage: Related Work section(s) -> citation contexts, one per citing paragraph
(--context-unit paragraph) or one per target section with its subsections (section: what PaSa
gave its model), each sentence then carrying the heading, paragraph and sentence it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .front_matter import fallback_sections
from .io import count_lines, read_jsonl
from .parse.lexicon import SECONDARY_SECTIONS
from .records import (BibEntry, CitationContext, ParsedPaper, Reject, Section, Sentence,
                      SentenceSource, SourceMeta)
from .runner import StageStats, key_of, require, run_stage

_NUMBERING = re.compile(r"^\s*(?:[0-9]+(?:\.[0-9]+)*\.?|[A-Z]\.(?:[0-9]+\.?)*|[IVX]+\.)\s+")


def normalize_heading(title: str) -> str:
    """'2.1  RELATED WORKS:' -> 'related works'."""
    title = _NUMBERING.sub("", title)
    title = re.sub(r"[^\w\s&]", " ", title.lower()).replace("&", " and ")
    return re.sub(r"\s+", " ", title).strip()


def is_target(heading: str, wanted: set[str]) -> bool:
    """Exact heading, or a multi-word target inside a short heading ("Extended Related Work",
    "Related Work and Discussion"); one-word targets such as "background" only match exactly."""
    heading = normalize_heading(heading)
    if heading in wanted:
        return True
    padded = f" {heading} "
    return len(heading.split()) <= 6 and any(
        " " in t and f" {t} " in padded for t in wanted)


def find_target_sections(parsed: ParsedPaper, targets: list[str]) -> list[Section]:
    """Sections whose own heading, or any heading above them, is a target (subsections stay in)."""
    wanted = {normalize_heading(t) for t in targets}
    found = []
    for section in parsed.sections:
        path = section.path or [section.title]
        if any(is_target(h, wanted) for h in path):
            found.append(section)
    # "Background" is a target only when the paper has no Related Work proper: a paper with both
    # keeps its Related Work and leaves its (often tutorial) Background out.
    primary = [s for s in found if not _only_background(s, wanted)]
    return primary or found


def _only_background(section: Section, wanted: set[str]) -> bool:
    hits = [normalize_heading(h) for h in (section.path or [section.title])]
    hits = [h for h in hits if is_target(h, wanted)]
    return bool(hits) and all(h in SECONDARY_SECTIONS for h in hits)


# Text from the PDF is untrusted: a literal "\cite{x}" printed in it must not read as one of our
# markers (it would give the sentence an answer it never cited). Every backslash of the PDF's
# text is written as LaTeX's \textbackslash{}, so the only "\cite{" left are cite_sentence's.
BACKSLASH = "\\textbackslash{}"


def escape_text(text: str) -> str:
    return text.replace("\\", BACKSLASH)


def cite_sentence(sentence: Sentence, known: set[str]) -> str:
    """Replace each linked callout by \\cite{k1,k2}; drop callouts that link to nothing known.
    The PDF's own text around them is escaped (escape_text)."""
    out, pos = [], 0
    for cite in sorted(sentence.cites, key=lambda c: c.start):
        out.append(escape_text(sentence.text[pos : cite.start]))
        keys = [k for k in cite.keys if k in known]
        if keys:
            out.append("\\cite{" + ",".join(keys) + "}")
        pos = cite.end
    out.append(escape_text(sentence.text[pos:]))
    text = "".join(out)
    text = re.sub(r"\s+([,.;:)])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


@dataclass
class _Unit:
    heading: str
    sentences: list[str]
    keys: list[str]
    provenance: list[SentenceSource] | None = None  # section unit only


def _cited_keys(paragraph, bib) -> list[str]:
    keys: list[str] = []
    for sentence in paragraph.sentences:
        for cite in sentence.cites:
            keys.extend(k for k in cite.keys if k in bib and k not in keys)
    return keys


def _unit_heading(section: Section, wanted: set[str]) -> str:
    """The heading path down to the first target heading: what a section-unit context groups
    by, so "Related Work > Dense retrieval" joins "Related Work"."""
    path = section.path or [section.title]
    first = next((i for i, h in enumerate(path) if is_target(h, wanted)), len(path) - 1)
    return " > ".join(path[: first + 1])


def extract_contexts(parsed: ParsedPaper, targets: list[str], unit: str = "paragraph",
                     sections: list[Section] | None = None) -> list[CitationContext]:
    """One context per paragraph of the target sections (or of ``sections``, when given) that
    cites at least one known entry, or (unit="section") one per target section holding all its
    citing paragraphs, subsections included, with each sentence's provenance."""
    bib = {entry.key: entry for entry in parsed.bibliography}
    paper = parsed.paper
    source = SourceMeta(
        paper_id=paper.paper_id,
        title=paper.title,
        venue=paper.venue,
        year=paper.year,
        published=paper.published,
    )
    wanted = {normalize_heading(t) for t in targets}
    units: list[_Unit] = []
    by_heading: dict[str, _Unit] = {}  # section unit: the context each target section fills
    for section in find_target_sections(parsed, targets) if sections is None else sections:
        heading = " > ".join(section.path or [section.title])
        for number, paragraph in enumerate(section.paragraphs):
            keys = _cited_keys(paragraph, bib)
            if not keys:
                continue
            sentences = [cite_sentence(s, set(bib)) for s in paragraph.sentences]
            if unit == "paragraph":
                units.append(_Unit(heading, sentences, keys))
                continue
            top = _unit_heading(section, wanted)
            if top not in by_heading:
                by_heading[top] = _Unit(top, [], [], [])
                units.append(by_heading[top])
            into = by_heading[top]
            into.sentences.extend(sentences)
            into.keys.extend(k for k in keys if k not in into.keys)
            into.provenance.extend(SentenceSource(section=heading, paragraph=number, sentence=i)
                                   for i in range(len(sentences)))
    return [
        CitationContext(
            context_id=f"{paper.paper_id}:{n}",
            source=source,
            section=u.heading,
            sentences=u.sentences,
            refs=[bib[k] for k in u.keys],
            parser=parsed.parser,
            provenance=u.provenance,
        )
        for n, u in enumerate(units)
    ]


def contexts_for(parsed: ParsedPaper, settings: Settings) -> list[CitationContext] | Reject:
    key = parsed.paper.paper_id
    sections = find_target_sections(parsed, settings.sections)
    if not sections and settings.front_matter_fallback:
        sections = fallback_sections(parsed)  # marked "(front matter)" in their section field
    if not sections:
        heads = "; ".join(s.title for s in parsed.sections if not s.path[1:])[:300]
        return Reject(stage="contexts", key=key, reason="no-related-work-section",
                      detail=f"headings: {heads or '(none found)'}")
    found = extract_contexts(parsed, settings.sections, settings.context_unit, sections)
    if not found:
        return Reject(stage="contexts", key=key, reason="no-citation-contexts",
                      detail="the target sections cite no bibliography entry")
    return found


def unit_identity(settings: Settings) -> dict:
    """The contexts stage's output depends on the unit; the paragraph unit, which is what the
    stage always did, adds nothing, so fingerprints of runs made before the flag still fit."""
    return {} if settings.context_unit == "paragraph" else {"context_unit": settings.context_unit}


def contexts(settings: Settings, run_dir: Path) -> StageStats:
    # A stream: a parsed paper is hundreds of KiB, so only the one in work is held.
    source = require(run_dir, "parse")
    items = ((p.paper.paper_id, p) for p in read_jsonl(source, ParsedPaper))

    def work(pending):
        for key, parsed in pending:
            yield key, contexts_for(parsed, settings)

    return run_stage(run_dir, "contexts", items, work, key_of("source", "paper_id"),
                     total=count_lines(source))
