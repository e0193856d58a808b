"""Word lists and patterns that both parser backends (and the stages after them) read.

Each is defined here once. Where two look alike but differ, they answer different questions,
and each is named by its question.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- section names

# Headings of the sections the dataset is mined from (Settings.sections defaults to these).
DEFAULT_SECTIONS = [
    "related work",
    "related works",
    "related literature",
    "background and related work",
    "related work and background",
    "prior work",
    "previous work",
    "prior literature",
    "related research",
    "related studies",
    "previous studies",
    "prior studies",
    "literature review",
    "literature survey",
    "background information",
    "background",
]
# Targets taken only when the paper has no other target: a paper with both keeps its Related
# Work and leaves its (often tutorial) Background out.
SECONDARY_SECTIONS = frozenset({"background", "background information"})
# A PDF heading whose whole title is one of these is a top-level section (PyMuPDF: its level,
# and where the paper's sections start). Not built from DEFAULT_SECTIONS: "related
# literature" is a target but not a top-level name.
TOP_SECTION_TITLE = re.compile(
    r"^(?:abstract|introduction|related work|related works|background|conclusions?|discussion|"
    r"acknowledge?ments?|references|bibliography|limitations|ethics statement|broader impacts?|"
    r"appendix|appendices|experiments|results|method|methods|methodology|"
    r"(?:background and |background & )?related work|prior work|previous work|literature review|"
    r"prior literature|related research|related studies|previous studies|prior studies|"
    r"literature survey|background information|"
    r"conclusion and future work|future work|impact statement|reproducibility statement)$",
    re.I,
)
# A Grobid head that starts with one of these never nests under the numbered section before it.
# A prefix, not a whole title: Grobid heads keep their subtitle ("Related Work and Motivation").
TOP_SECTION_START = re.compile(
    r"^(abstract|introduction|related\s+works?|background|prior\s+work|previous\s+work|"
    r"literature\s+review|conclusions?|discussions?|limitations?|acknowledge?ments?|"
    r"references|bibliography|appendix|appendices|supplementary|ethics|broader\s+impact|"
    r"reproducibility|funding|author\s+contributions?|future\s+work)\b",
    re.I,
)
REFERENCES_TITLE = re.compile(
    r"^(?:references?|bibliography|literature cited|works cited|cited literature)$", re.I)
APPENDIX_TITLE = re.compile(r"^(?:appendix|appendices|supplementary|supplemental)\b", re.I)

# ---------------------------------------------------------------- captions

# "Figure 2", "Tab. 3", "Algorithm A1": the label a caption opens with.
CAPTION_LABEL = r"(?:Figure|Fig\.|Table|Tab\.|Algorithm|Listing|Scheme)\s*[A-Z]?\d+"
# A line that opens a caption ("Figure 2: ...", "Table 1. ..."): kept out of the body text (and
# out of a reference list that a table follows without a heading).
CAPTION = re.compile(rf"^{CAPTION_LABEL}\s*[:.|]", re.I)
# A Grobid head that is a caption label and nothing else ("Figure 3", "Table 2:"): no heading.
CAPTION_ALONE = re.compile(rf"^{CAPTION_LABEL}\s*[:.]?\s*$")

# ---------------------------------------------------------------- names

# Lower-case words that open a surname: "van der Berg", "de la Cruz", "bin Zayed".
SURNAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du",
                               "le", "la", "dos", "das", "ten", "ter", "bin", "al", "el"})

# ---------------------------------------------------------------- years

# A year as citations and reference lists print it.
YEAR = r"(?:19|20)\d\d"
# The end of a span of years: software and series are cited and listed as "2008–2023", and
# both sides key the span by its first year.
YEAR_SPAN = rf"\s*[–—-]\s*(?:{YEAR}|present)"
# The year of a reference entry standing as its own token: up to 2049, so that "2077" in
# "pp. 2071-2077" or an id is not taken for one.
ENTRY_YEAR = re.compile(r"(?<![\w/.\-])((?:19\d|20[0-4])\d)([a-z]?)(?![\w\-/])")
# Years that can date an arXiv paper or its references, for comparing with arXiv dates.
ARXIV_ERA_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")

# ---------------------------------------------------------------- arXiv identifiers

# Old-style archives (before April 2007), e.g. hep-th/9901001, math.AG/0101001, cs.CL/0501001.
_OLD_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|"
    "comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|"
    "mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|quant-ph|solv-int|supr-con"
)
_OLD = rf"(?P<old>(?:{_OLD_ARCHIVES})(?:\.[A-Za-z]{{2}})?/\d{{7}})"
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_VER = r"(?:v\d+)?"
# A prefix that says "this is an arXiv id": arXiv:, arxiv.org/abs|pdf/, DOI 10.48550/arXiv., CoRR abs/.
_PREFIX = (r"(?:arxiv\s*[:.]?\s*(?:e-?prints?\s*[:,]?\s*)?|arxiv\.org/(?:abs|pdf|format)/|10\.48550/arxiv\.|\babs/"
           r"|\\showeprint\s*\[arxiv\]\s*\{)")  # the last one: ACM .bbl files
ARXIV_PREFIXED = re.compile(rf"{_PREFIX}\s*(?:{_NEW}|{_OLD}){_VER}(?![\d])", re.IGNORECASE)
ARXIV_BARE_NEW = re.compile(rf"(?<![\w./-]){_NEW}{_VER}(?!\d|\.\d)")
ARXIV_BARE_OLD = re.compile(rf"(?<![\w.-]){_OLD}{_VER}(?!\d)")
# An arXiv id as reference lists print it after any arXiv-ish prefix, unvalidated and with its
# archive as printed ("arXiv preprint: 1106.6251", "CoRR, abs/1907.11692", "math.AG/0101001");
# group 1 is the id. Looser than ARXIV_PREFIXED on purpose: the PyMuPDF bibliography has always
# read ids (and cut them out before looking for the year) this way, while the matcher counts
# as "prefixed" only what ARXIV_PREFIXED finds.
PRINTED_ARXIV = re.compile(
    r"(?:arxiv(?:\s+preprint)?\s*(?:abs/)?:?\s*|arxiv\.org/(?:abs|pdf)/|corr\s*,?\s*abs/|abs/)"
    r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
    re.I,
)
