"""Text normalisation shared by the index and the matcher, and arXiv id extraction.

Both sides of every comparison go through the same function, so a title printed as
"{BERT}: Pre- training of Deep Bidirectional Transformers" in a PDF and
"BERT: Pre-training of Deep Bidirectional Transformers" on arXiv become the same string.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from autoscholar.parse.lexicon import ARXIV_BARE_NEW as _BARE_NEW
from autoscholar.parse.lexicon import ARXIV_BARE_OLD as _BARE_OLD
from autoscholar.parse.lexicon import ARXIV_ERA_YEAR as _YEAR
from autoscholar.parse.lexicon import ARXIV_PREFIXED as _PREFIXED
from autoscholar.text import fold_accents as fold  # the name normalize_title calls it by

# ---------------------------------------------------------------- LaTeX

# Accent commands: \"u, {\"u}, \"{u}, \'e, \c{c}, \v{s} ... keep the base letter; the accent
# is folded away later anyway, so both spellings of "Schölkopf" meet at "scholkopf".
# A letter accent (\v, \b, \d, ...) followed by another letter is a longer macro name:
# \beta, \delta, \rho, \bf, \url are not accents on "e", "e", "h", "f", "r".
_ACCENT = re.compile(r"\{?\\(?:[\"'`^~=.]|[uvHckrbd](?![A-Za-z]))\s*\{?\s*(\\?[A-Za-z])\s*\}?\}?")
_LETTER_MACROS = {
    "ss": "ss", "o": "o", "O": "O", "aa": "a", "AA": "A", "ae": "ae", "AE": "AE",
    "oe": "oe", "OE": "OE", "l": "l", "L": "L", "i": "i", "j": "j",
}
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "l",
}
# Formatting macros whose argument is the text: \emph{Deep} -> Deep.
_FORMAT = re.compile(
    r"\\(?:emph|textit|textbf|textsc|texttt|textrm|textsf|text|mathrm|mathbf|mathit|mathcal|"
    r"mathbb|mathsf|mathtt|boldsymbol|bm|mbox|hbox|url|bf|it|em|rm|sc|tt|sf|small|large|"
    r"Large|footnotesize|normalsize|operatorname)\b\s*"
)
_MACRO = re.compile(r"\\([A-Za-z]+)")
# Other macros taking an argument wrap text (\showarticletitle{...}, \bibinfo{title}{...}): drop
# the name. Without an argument the name is the text (\LaTeX, \alpha).
_WRAPPER = re.compile(r"\\([A-Za-z]+)\s*(?=\{)")
_ESCAPED = re.compile(r"\\([&%$#_{}])")

# ---------------------------------------------------------------- Unicode

# Hyphens inside a word join it ("pre-training", "pre- training" at a line break, "pretraining"
# all become "pretraining"); dashes between words are spaces.
_JOIN_HYPHEN = re.compile(r"(?<=\w)[-\u2010\u2011]\s*(?=\w)")
_NON_WORD = re.compile(r"[\W_]+")  # letters of any script stay


def delatex(text: str) -> str:
    """Plain text from a LaTeX-ish string: accents, formatting macros, math delimiters."""
    if "\\" in text:
        text = _ACCENT.sub(lambda m: _LETTER_MACROS.get(m.group(1)[1:], m.group(1)[-1]), text)
        text = _FORMAT.sub("", text)
        text = _ESCAPED.sub(r"\1", text)
        text = _WRAPPER.sub(lambda m: _GREEK.get(m.group(1), ""), text)
        text = _MACRO.sub(lambda m: _GREEK.get(m.group(1), _LETTER_MACROS.get(m.group(1), m.group(1))), text)
    # Sub/superscript markers go, so "$\\ell_1$" meets a printed "ℓ1".
    return text.translate(_DROP_TEX)


_DROP_TEX = str.maketrans({"$": None, "{": None, "}": None, "_": None, "^": None, "~": " "})


@lru_cache(maxsize=1 << 16)  # pieces of references repeat (venues, "arXiv preprint", years)
def normalize_title(text: str) -> str:
    """The comparison key of a title or a whole reference string: words joined by one space."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    text = fold(delatex(text))
    text = _JOIN_HYPHEN.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def surname(name: str) -> str:
    """Normalised family name of a printed author name ("Smith, J." or "J. Smith")."""
    name = _ET_AL.sub("", name).strip()  # "Rongjie Huang et.al.": the name is Huang
    if "," in name:
        name = name.split(",", 1)[0]
    else:
        parts = [p for p in name.split() if p.rstrip(".").lower() not in _SUFFIXES]
        name = parts[-1] if parts else ""
    return normalize_title(name)


_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_ET_AL = re.compile(r"\s*\bet\.?\s*al\b\.?\s*$", re.IGNORECASE)


def years_in(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text)]


# ---------------------------------------------------------------- arXiv identifiers

def _clean_old(old: str) -> str:
    archive, number = old.split("/")
    return f"{archive.split('.')[0].lower()}/{number}"


def _valid_new(new: str) -> bool:
    yymm, number = new.split(".")
    yy, mm = int(yymm[:2]), int(yymm[2:])
    if not (1 <= mm <= 12) or yy < 7:
        return False
    return len(number) == (4 if yy < 15 else 5)


def extract_arxiv_ids(text: str) -> list[tuple[str, bool]]:
    """arXiv ids printed in a string, without version, in order of appearance, deduplicated.

    Each comes with `prefixed`: True when the string says it is an arXiv id (arXiv:, an
    arxiv.org URL, the arXiv DOI, CoRR abs/); a bare "2106.09685" could be something else.
    """
    if not text:
        return []
    found: list[tuple[int, str, bool]] = []
    spans: list[tuple[int, int]] = []
    for m in _PREFIXED.finditer(text):
        ident = m.group("new") or _clean_old(m.group("old"))
        if m.group("new") and not _valid_new(ident):
            continue
        found.append((m.start(), ident, True))
        spans.append(m.span())
    for rx in (_BARE_NEW, _BARE_OLD):
        for m in rx.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            ident = m.group("new") if rx is _BARE_NEW else _clean_old(m.group("old"))
            if rx is _BARE_NEW and not _valid_new(ident):
                continue
            # An old-style id after "arXiv:" style prefixes is caught above; a bare one
            # ("hep-th/9901001") is specific enough to count as prefixed.
            found.append((m.start(), ident, rx is _BARE_OLD))
    seen: dict[str, bool] = {}
    for _, ident, prefixed in sorted(found):
        seen[ident] = seen.get(ident, False) or prefixed
    return list(seen.items())


def canonical_id(arxiv_id: str) -> str | None:
    """"arXiv:2106.09685v2" -> "2106.09685"; None when the string holds no arXiv id."""
    ids = extract_arxiv_ids(arxiv_id.strip())
    return ids[0][0] if ids else None


def id_month(arxiv_id: str) -> tuple[int, int] | None:
    """(year, month) encoded in an arXiv id: 2106.09685 -> (2021, 6); hep-th/9901001 -> (1999, 1)."""
    m = re.search(r"(\d{2})(\d{2})[.\d]", arxiv_id.split("/")[-1])
    if not m:
        return None
    yy, mm = int(m.group(1)), int(m.group(2))
    if not 1 <= mm <= 12:
        return None
    return (1900 + yy if yy >= 91 else 2000 + yy), mm
