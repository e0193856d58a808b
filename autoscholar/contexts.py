"""contexts stage: Related Work section(s) -> citation contexts, one per citing paragraph."""

from __future__ import annotations

import re
from pathlib import Path

from .config import Settings
from .io import read_jsonl
from .records import BibEntry, CitationContext, ParsedPaper, Reject, Section, Sentence, SourceMeta
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
    return bool(hits) and all(h == "background" for h in hits)


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


def extract_contexts(parsed: ParsedPaper, targets: list[str]) -> list[CitationContext]:
    """One context per paragraph of the target sections that cites at least one known entry."""
    bib = {entry.key: entry for entry in parsed.bibliography}
    paper = parsed.paper
    source = SourceMeta(
        paper_id=paper.paper_id,
        title=paper.title,
        venue=paper.venue,
        year=paper.year,
        published=paper.published,
    )
    contexts: list[CitationContext] = []
    for section in find_target_sections(parsed, targets):
        heading = " > ".join(section.path or [section.title])
        for paragraph in section.paragraphs:
            keys: list[str] = []
            for sentence in paragraph.sentences:
                for cite in sentence.cites:
                    keys.extend(k for k in cite.keys if k in bib and k not in keys)
            if not keys:
                continue
            refs: list[BibEntry] = [bib[k] for k in keys]
            contexts.append(
                CitationContext(
                    context_id=f"{paper.paper_id}:{len(contexts)}",
                    source=source,
                    section=heading,
                    sentences=[cite_sentence(s, set(bib)) for s in paragraph.sentences],
                    refs=refs,
                    parser=parsed.parser,
                )
            )
    return contexts


def contexts_for(parsed: ParsedPaper, settings: Settings) -> list[CitationContext] | Reject:
    key = parsed.paper.paper_id
    if not find_target_sections(parsed, settings.sections):
        heads = "; ".join(s.title for s in parsed.sections if not s.path[1:])[:300]
        return Reject(stage="contexts", key=key, reason="no-related-work-section",
                      detail=f"headings: {heads}")
    found = extract_contexts(parsed, settings.sections)
    if not found:
        return Reject(stage="contexts", key=key, reason="no-citation-contexts",
                      detail="the target sections cite no bibliography entry")
    return found


def contexts(settings: Settings, run_dir: Path) -> StageStats:
    items = [(p.paper.paper_id, p) for p in read_jsonl(require(run_dir, "parse"), ParsedPaper)]

    def work(pending):
        for key, parsed in pending:
            yield key, contexts_for(parsed, settings)

    return run_stage(run_dir, "contexts", items, work, key_of("source", "paper_id"))
