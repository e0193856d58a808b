"""ACL from the ACL Anthology: the volume XML of a year's meeting (data/xml/<collection>.xml).

Collections are "<year>.acl" from 2020 on and "P<yy>" before. A collection holds several
volumes; the accepted papers are the main-conference volumes ("main" in 2020-2022, "long" and
"short" later, "1"/"2" in the P-era when they are long/short papers). Student research
workshop, demos, tutorials and industry volumes are left out, and so are the Findings, which
are a separate collection. The choice is made from the volume's booktitle so it holds across
both id schemes. Frontmatter is not a paper.

published = the volume's ingest-date (when the Anthology made the PDFs public), else the
first day of its <month>; both are fields of the listing (date_source "listing field"). A main
volume with neither is an error naming it, not a paper dated 31 December by default.

Plain HTTP, not the `acl-anthology` library: the library reads a local clone of the whole
data repository (Anthology.from_repo clones acl-org/acl-anthology, several hundred MB) and
brings about fifteen dependencies (numpy, gitpython, omegaconf, citeproc-py, langcodes...),
to read the one file a year needs; it sends no HTTP request of its own to mirror. What this
module reads is that same file, data/xml/<collection>.xml of the same repository, and it
follows the library's reading of it: volumes from <meta>, authors from <first>/<last>.
"""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from autoscholar import http
from autoscholar.config import Settings
from autoscholar.errors import ServiceError
from autoscholar.records import Paper
from autoscholar.sources.common import clean_text, venue_paper

XML_ROOT = "https://raw.githubusercontent.com/acl-org/acl-anthology/master"  # + /data/xml/..
PDF_ROOT = "https://aclanthology.org"  # + /<url>.pdf

_NOT_MAIN = ("student research workshop", "system demonstration", "demo", "tutorial",
             "industry", "findings", "workshop", "doctoral consortium")
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}

# No DTDs, no entity expansion, no network: the XML comes from the web.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True)


def collection_id(year: int) -> str:
    return f"{year}.acl" if year >= 2020 else f"P{year % 100:02d}"


def _text(element) -> str:
    """Flatten mixed content such as <fixed-case>BERT</fixed-case> or <tex-math>."""
    return clean_text("".join(element.itertext())) if element is not None else ""


def is_main_volume(volume) -> bool:
    """Main-conference papers: the booktitle names no side track (demos, SRW, tutorials...)."""
    booktitle = _text(volume.find("meta/booktitle")).lower()
    return bool(booktitle) and not any(word in booktitle for word in _NOT_MAIN)


def _volume_date(volume, year: int) -> dt.date:
    ingest = volume.get("ingest-date") or ""
    try:
        return dt.date.fromisoformat(ingest)
    except ValueError:
        pass
    month = re.match(r"\s*([A-Za-z]{3})", _text(volume.find("meta/month")))
    if month and month.group(1).lower() in _MONTHS:
        return dt.date(year, _MONTHS[month.group(1).lower()], 1)
    raise ServiceError(f"ACL Anthology volume {volume.get('id')!r} of {year} has neither an "
                       "ingest-date nor a <month>: its papers cannot be dated", transient=False)


def _author(element) -> str:
    first, last = _text(element.find("first")), _text(element.find("last"))
    return " ".join(part for part in (first, last) if part) or _text(element)


def parse_collection(xml: bytes, year: int, pdf_root: str = PDF_ROOT,
                     main_only: bool = True) -> list[Paper]:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ServiceError(f"ACL Anthology XML is not well-formed: {exc}", transient=False)
    papers = []
    for volume in root.iter("volume"):
        if main_only and not is_main_volume(volume):
            continue
        published = None  # dated once the volume turns out to hold a paper
        for paper in volume.findall("paper"):
            url = _text(paper.find("url"))
            title = _text(paper.find("title"))
            if not url or not title or "://" in url:
                continue  # removed papers have no url; external urls are not Anthology PDFs
            published = published or _volume_date(volume, year)
            papers.append(venue_paper(
                "acl", year, url,
                title=title,
                authors=[a for a in map(_author, paper.findall("author")) if a],
                pdf_url=f"{pdf_root}/{url}.pdf",
                published=published,
                source="acl-anthology",
                date_source="listing field",
            ))
    return papers


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    base = settings.venue_base_url
    xml_root, pdf_root = (base.rstrip("/"),) * 2 if base else (XML_ROOT, PDF_ROOT)
    xml = http.get_bytes(f"{xml_root}/data/xml/{collection_id(year)}.xml")
    return parse_collection(xml, year, pdf_root)
