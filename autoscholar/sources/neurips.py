"""NeurIPS from the proceedings site: https://papers.nips.cc/paper_files/paper/<year>.

The year page lists <li><a href="/paper_files/paper/2022/hash/<hash>-Abstract-<Track>.html">
Title</a> <i>A, B</i></li>; the PDF is .../file/<hash>-Paper-<Track>.pdf (no track suffix in
years before the tracks, -Abstract.html -> -Paper.pdf). The older site (still in saved pages,
e.g. the 2019 book page) linked /paper/<n>-<slug> with authors as <a class="author">, PDF at
/paper/<n>-<slug>.pdf. Both are read. Every track the year page lists (main conference and
Datasets and Benchmarks) counts as accepted.

published = the first day of the conference (CONFERENCE_DATES, date_source "conference dates
table"); the proceedings pages carry no date. The table covers every year the source accepts
(2001 on); a year it lacks (the current one, until added) is refused by check_year.

Plain HTTP: the proceedings site has no API or client library.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse


from autoscholar import http
from autoscholar.config import Settings
from autoscholar.records import Paper
from autoscholar.sources.common import check_dates_table, clean_text, parse_html, venue_paper

ROOT = "https://papers.nips.cc"

# First day of the whole meeting, Expo and tutorials included (checked against the conference
# sites, the proceedings front matter and dblp in December 2026).
CONFERENCE_DATES = {
    2001: dt.date(2001, 12, 3), 2002: dt.date(2002, 12, 9), 2003: dt.date(2003, 12, 8),
    2004: dt.date(2004, 12, 13), 2005: dt.date(2005, 12, 5), 2006: dt.date(2006, 12, 4),
    2007: dt.date(2007, 12, 3), 2008: dt.date(2008, 12, 8), 2009: dt.date(2009, 12, 7),
    2010: dt.date(2010, 12, 6), 2011: dt.date(2011, 12, 12), 2012: dt.date(2012, 12, 3),
    2013: dt.date(2013, 12, 5), 2014: dt.date(2014, 12, 8), 2015: dt.date(2015, 12, 7), 2016: dt.date(2016, 12, 5), 2017: dt.date(2017, 12, 4),
    2018: dt.date(2018, 12, 2), 2019: dt.date(2019, 12, 8), 2020: dt.date(2020, 12, 6),
    2021: dt.date(2021, 12, 6), 2022: dt.date(2022, 11, 28), 2023: dt.date(2023, 12, 10),
    2024: dt.date(2024, 12, 10), 2025: dt.date(2025, 12, 2),
}
_HASH_LINK = re.compile(
    r"/paper_files/paper/(\d{4})/hash/([0-9a-fA-F]+)-Abstract(-[A-Za-z_]+)?\.html$")
_OLD_LINK = re.compile(r"^/paper/(\d+)-[^/?#]+$")


def check_year(year: int) -> None:
    check_dates_table(CONFERENCE_DATES, year, "NeurIPS",
                      "CONFERENCE_DATES in autoscholar/sources/neurips.py")


def parse_listing(html: bytes, page_url: str, year: int) -> list[Paper]:
    tree = parse_html(html)
    papers = []
    for item in tree.iter("li"):
        links = item.xpath(".//a[@href]")  # nested in a <div> on newer pages
        if not links:
            continue
        href = urllib.parse.urlsplit(urllib.parse.urljoin(page_url, links[0].get("href")))
        new, old = _HASH_LINK.search(href.path), _OLD_LINK.match(href.path)
        site = f"{href.scheme}://{href.netloc}"
        if new:
            native = new.group(2)
            pdf_path = href.path.replace("/hash/", "/file/").replace("-Abstract", "-Paper")
            pdf_path = pdf_path.removesuffix(".html") + ".pdf"
            # <i>A, B</i>; newer pages: <span class="paper-authors">
            spans = item.xpath('.//i | .//*[contains(@class, "author")]')
            names = ",".join(x.text_content() for x in spans[:1]).split(",")
        elif old:
            native = old.group(1)
            pdf_path = href.path + ".pdf"
            names = [a.text_content() for a in item.xpath('.//a[contains(@class, "author")]')]
        else:
            continue
        title = clean_text(links[0].text_content())
        if not title:
            continue
        papers.append(venue_paper(
            "neurips", year, native,
            title=title,
            authors=[a for a in map(clean_text, names) if a],
            pdf_url=site + pdf_path,
            published=CONFERENCE_DATES.get(year),
            source="neurips-proceedings",
            date_source="conference dates table",
        ))
    return papers


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    check_year(year)
    root = (settings.venue_base_url or ROOT).rstrip("/")
    page_url = f"{root}/paper_files/paper/{year}"
    return parse_listing(http.get_bytes(page_url), page_url, year)
