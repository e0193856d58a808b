"""Generic text normalisation: two ways of folding a string for comparison."""

from __future__ import annotations

import unicodedata

# Letters NFKD does not decompose into base + combining mark.
_FOLD = str.maketrans({
    "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "œ": "oe",
    "Œ": "OE", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i", "\u00ad": None,
    "’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"',
})


def fold_accents(text: str) -> str:
    """Unicode NFKC (ligatures, full-width forms), accents removed, lower case; every other
    character kept: 'Schölkopf’s ﬁt' -> "scholkopf's fit"."""
    if text.isascii():  # NFKC, NFKD and _FOLD leave ASCII as it is: most text, and the hot path
        return text.lower()
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def ascii_letters(s: str) -> str:
    """Lower-case ASCII letters only, everything else dropped: 'Müller-Ávila' -> 'mulleravila'."""
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s.lower() if "a" <= ch <= "z")
