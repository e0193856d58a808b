"""pymupdf/layout.py: lines from MuPDF spans."""

from __future__ import annotations


def test_ligatures_and_spacing_accents_repaired():
    from autoscholar.parse.pymupdf.layout import _line_from_spans

    span = {"text": "ﬁnd the eﬀect of H¨ullermeier", "flags": 0, "size": 10.0, "font": "Times",
            "origin": (0, 10), "bbox": (0, 0, 100, 10)}
    assert _line_from_spans([span], 0, 0).text == "find the effect of Hüllermeier"
