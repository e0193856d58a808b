"""ICML from PMLR: the proceedings volume page, https://proceedings.mlr.press/v<N>/.

Each paper is <div class="paper"><p class="title">..</p><p class="details"><span
class="authors">A,&nbsp;B</span>..</p><p class="links">[<a href="..html">abs</a>][<a
href="..pdf">Download PDF</a>]..</p></div>. The whole volume is the accepted papers.

published = the date the volume page says PMLR published it ("Published as Volume 202 by the
Proceedings of Machine Learning Research on 03 July 2023."), else the first day of the
conference from CONFERENCE_DATES.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse


from autoscholar import http
from autoscholar.config import Settings
from autoscholar.errors import InputError
from autoscholar.records import Paper
from autoscholar.sources.common import clean_text, parse_html, venue_paper

ROOT = "https://proceedings.mlr.press"

VOLUMES = {2013: 28, 2014: 32, 2015: 37, 2016: 48, 2017: 70, 2018: 80, 2019: 97, 2020: 119,
           2021: 139, 2022: 162, 2023: 202, 2024: 235, 2025: 267}
CONFERENCE_DATES = {
    2017: dt.date(2017, 8, 6), 2018: dt.date(2018, 7, 10), 2019: dt.date(2019, 6, 9),
    2020: dt.date(2020, 7, 12), 2021: dt.date(2021, 7, 18), 2022: dt.date(2022, 7, 17),
    2023: dt.date(2023, 7, 23), 2024: dt.date(2024, 7, 21), 2025: dt.date(2025, 7, 13),
}
_PUBLISHED = re.compile(r"Published as Volume \d+ by the Proceedings of Machine Learning "
                        r"Research on (\d{1,2}) ([A-Za-z]+) (\d{4})")


def _published(tree, year: int) -> dt.date | None:
    match = _PUBLISHED.search(clean_text(tree.text_content()))
    if match:
        try:
            return dt.datetime.strptime(" ".join(match.groups()), "%d %B %Y").date()
        except ValueError:
            pass
    return CONFERENCE_DATES.get(year)


def parse_volume(html: bytes, page_url: str, year: int) -> list[Paper]:
    tree = parse_html(html)
    published = _published(tree, year)
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
        ))
    return papers


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    if year not in VOLUMES:
        known = f"{min(VOLUMES)}-{max(VOLUMES)}"
        raise InputError(f"no PMLR volume known for ICML {year} (known: {known})")
    root = (settings.venue_base_url or ROOT).rstrip("/")
    page_url = f"{root}/v{VOLUMES[year]}/"
    return parse_volume(http.get_bytes(page_url), page_url, year)
