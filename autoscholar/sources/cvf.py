"""CVPR from CVF open access: https://openaccess.thecvf.com/CVPR<year>?day=all.

Each paper is <dt class="ptitle"><a href=".../html/<stem>_paper.html">Title</a></dt>, then a
<dd> of author <form>s (one <a> per author), then a <dd> with [<a href=".._paper.pdf">pdf</a>].
Some years do not answer day=all; their main page links one page per day (?day=YYYY-MM-DD),
which are read in turn. The listing is the main conference (workshops have their own pages).

published = the first day of the meeting (CONFERENCE_DATES, date_source "conference dates
table"); the listing has no date. The table covers every year the source accepts (2013 on); a
year it lacks (the current one, until added) is refused by check_year.

Plain HTTP: CVF open access has no API or client library.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse


from autoscholar import http
from autoscholar.config import Settings
from autoscholar.records import Paper
from autoscholar.sources.common import check_dates_table, clean_text, parse_html, venue_paper

ROOT = "https://openaccess.thecvf.com"

# First day of the whole meeting (workshops and tutorials included; checked against the
# conference and IEEE Computer Society pages and dblp in December 2026).
CONFERENCE_DATES = {
    2013: dt.date(2013, 6, 23), 2014: dt.date(2014, 6, 23), 2015: dt.date(2015, 6, 7),
    2016: dt.date(2016, 6, 26), 2017: dt.date(2017, 7, 21), 2018: dt.date(2018, 6, 18),
    2019: dt.date(2019, 6, 16),
    2020: dt.date(2020, 6, 14), 2021: dt.date(2021, 6, 19), 2022: dt.date(2022, 6, 19),
    2023: dt.date(2023, 6, 18), 2024: dt.date(2024, 6, 17), 2025: dt.date(2025, 6, 11),
}
MAX_DAY_PAGES = 20


def check_year(year: int) -> None:
    check_dates_table(CONFERENCE_DATES, year, "CVPR",
                      "CONFERENCE_DATES in autoscholar/sources/cvf.py")


def _next_dd(element):
    sibling = element.getnext()
    while sibling is not None and sibling.tag != "dd":
        if sibling.tag == "dt":
            return None
        sibling = sibling.getnext()
    return sibling


def parse_listing(html: bytes, page_url: str, year: int) -> list[Paper]:
    tree = parse_html(html)
    papers = []
    titles = '//dt[contains(concat(" ", normalize-space(@class), " "), " ptitle ")]'
    for dt_el in tree.xpath(titles):
        link = next(iter(dt_el.xpath(".//a[@href]")), None)
        if link is None:
            continue
        title = clean_text(link.text_content(), trim=",")
        html_url = urllib.parse.urljoin(page_url, link.get("href").strip())
        stem = urllib.parse.urlsplit(html_url).path.rsplit("/", 1)[-1].removesuffix(".html")
        authors_dd = _next_dd(dt_el)
        links_dd = _next_dd(authors_dd) if authors_dd is not None else None
        authors = []
        if authors_dd is not None:
            anchors = authors_dd.xpath(".//form//a") or authors_dd.xpath(".//a")
            authors = [a for a in (clean_text(x.text_content(), trim=",") for x in anchors) if a]
        pdf_url = None
        for dd in (links_dd, authors_dd):
            for a in dd.xpath(".//a[@href]") if dd is not None else []:
                href = a.get("href").strip()
                if clean_text(a.text_content(), trim=",").lower() == "pdf" or href.endswith("_paper.pdf"):
                    pdf_url = urllib.parse.urljoin(page_url, href)
                    break
            if pdf_url:
                break
        if not title or not stem:
            continue
        papers.append(venue_paper(
            "cvpr", year, stem.removesuffix(f"_CVPR_{year}_paper"),
            title=title,
            authors=authors,
            pdf_url=pdf_url,
            published=CONFERENCE_DATES.get(year),
            source="cvf-open-access",
            date_source="conference dates table",
        ))
    return papers


def _day_links(html: bytes, page_url: str) -> list[str]:
    tree = parse_html(html)
    links = []
    for href in tree.xpath("//a/@href"):
        url = urllib.parse.urljoin(page_url, href.strip())
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if query.get("day", [""])[0] not in ("", "all") and url not in links:
            links.append(url)
    return links[:MAX_DAY_PAGES]


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    check_year(year)
    root = (settings.venue_base_url or ROOT).rstrip("/")
    main_url = f"{root}/CVPR{year}"
    papers = parse_listing(http.get_bytes(main_url, {"day": "all"}), main_url, year)
    if papers:
        return papers
    main = http.get_bytes(main_url)
    papers = parse_listing(main, main_url, year)
    for day_url in _day_links(main, main_url):
        papers += parse_listing(http.get_bytes(day_url), day_url, year)
    return papers
