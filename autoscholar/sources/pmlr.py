"""ICML from PMLR: the proceedings volume page, https://proceedings.mlr.press/v<N>/.

Each paper is <div class="paper"><p class="title">..</p><p class="details"><span
class="authors">A,&nbsp;B</span>..</p><p class="links">[<a href="..html">abs</a>][<a
href="..pdf">Download PDF</a>]..</p></div>. The whole volume is the accepted papers.

published = the date the volume page says PMLR published it ("Published as Volume 202 by the
Proceedings of Machine Learning Research on 03 July 2023.", date_source "proceedings page"),
else the first day of the conference from CONFERENCE_DATES ("conference dates table"), which
covers every year of VOLUMES; a year missing from either is refused by check_year.

Plain HTTP: PMLR has no API or client library; the page is what a browser gets.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse


from autoscholar import http
from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.records import DateSource, Paper
from autoscholar.sources.common import (check_dates_table, clean_text, mirrored, parse_html,
                                        venue_paper)

ROOT = "https://proceedings.mlr.press"

VOLUMES = {2013: 28, 2014: 32, 2015: 37, 2016: 48, 2017: 70, 2018: 80, 2019: 97, 2020: 119,
           2021: 139, 2022: 162, 2023: 202, 2024: 235, 2025: 267}
# First day of the whole meeting (tutorials included; checked against the conference sites,
# the PMLR volume pages and dblp in December 2026).
CONFERENCE_DATES = {
    2013: dt.date(2013, 6, 16), 2014: dt.date(2014, 6, 21), 2015: dt.date(2015, 7, 6),
    2016: dt.date(2016, 6, 19), 2017: dt.date(2017, 8, 6), 2018: dt.date(2018, 7, 10),
    2019: dt.date(2019, 6, 9),
    2020: dt.date(2020, 7, 12), 2021: dt.date(2021, 7, 18), 2022: dt.date(2022, 7, 17),
    2023: dt.date(2023, 7, 23), 2024: dt.date(2024, 7, 21), 2025: dt.date(2025, 7, 13),
}
_PUBLISHED = re.compile(r"Published as Volume \d+ by the Proceedings of Machine Learning "
                        r"Research on (\d{1,2}) ([A-Za-z]+) (\d{4})")


def check_year(year: int) -> None:
    if year not in VOLUMES:
        known = f"{min(VOLUMES)}-{max(VOLUMES)}"
        raise InputError(f"no PMLR volume known for ICML {year} (known: {known}): add it to "
                         "VOLUMES in autoscholar/sources/pmlr.py")
    check_dates_table(CONFERENCE_DATES, year, "ICML",
                      "CONFERENCE_DATES in autoscholar/sources/pmlr.py")


def _published(tree, year: int) -> tuple[dt.date | None, DateSource | None]:
    match = _PUBLISHED.search(clean_text(tree.text_content()))
    if match:
        try:
            day = dt.datetime.strptime(" ".join(match.groups()), "%d %B %Y").date()
            return day, "proceedings page"
        except ValueError:
            pass
    day = CONFERENCE_DATES.get(year)
    return day, ("conference dates table" if day else None)


def parse_volume(html: bytes, page_url: str, year: int) -> list[Paper]:
    tree = parse_html(html)
    published, date_source = _published(tree, year)
    papers = []
    for div in tree.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " paper ")]'):
        title = clean_text("".join(t.text_content() for t in div.xpath('.//p[@class="title"]')))
        authors_text = "".join(a.text_content() for a in div.xpath('.//span[@class="authors"]'))
        pdf_url = abs_url = None
        for link in div.xpath(".//p[@class='links']//a[@href]"):
            href, label = link.get("href").strip(), clean_text(link.text_content()).lower()
            if href.endswith(".pdf") and "supp" not in label and not pdf_url:
                pdf_url = urllib.parse.urljoin(page_url, href)
            elif label == "abs" and not abs_url:
                abs_url = urllib.parse.urljoin(page_url, href)
        native = (abs_url or pdf_url or "").rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
        native = native.removesuffix(".pdf")
        if not title or not native:
            continue
        papers.append(venue_paper(
            "icml", year, native,
            title=title,
            authors=[a for a in (clean_text(x) for x in authors_text.split(",")) if a],
            pdf_url=pdf_url,
            published=published,
            source="pmlr",
            date_source=date_source,
        ))
    return papers


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    check_year(year)
    root = (settings.venue_base_url or ROOT).rstrip("/")
    page_url = f"{root}/v{VOLUMES[year]}/"
    papers = parse_volume(http.get_bytes(page_url), page_url, year)
    return [p.model_copy(update={"pdf_url": mirrored(p.pdf_url, ROOT, settings.venue_base_url)})
            for p in papers]
