"""ICLR from OpenReview: accepted papers of a year, through the public notes API.

API v2 (api2.openreview.net) first: accepted papers are exactly the notes whose
content.venueid is the conference group, "ICLR.cc/<year>/Conference" (rejected and withdrawn
ones carry ".../Rejected_Submission" or ".../Withdrawn_Submission"). Content fields are
{"value": ...} objects. Years that live only on API v1 (ICLR <= 2023 at the time of writing)
give no v2 notes; then the v1 Blind_Submission invitation is read with its direct replies and
a paper counts as accepted when its venueid says so or its Decision reply starts "Accept".

published = pdate (publication, i.e. acceptance of the camera-ready the PDF is), else odate
(when it went public), else cdate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from autoscholar import http
from autoscholar.config import Settings
from autoscholar.errors import ServiceError
from autoscholar.records import Paper
from autoscholar.sources.common import clean_text, venue_paper

API_V2 = "https://api2.openreview.net"
API_V1 = "https://api.openreview.net"
SITE = "https://openreview.net"  # where content.pdf ("/pdf/<hash>.pdf") is served
PAGE = 1000  # the API's maximum page size
MAX_PAGES = 200  # a server that never stops paginating is a bug, not 200k papers


def venue_id(year: int) -> str:
    return f"ICLR.cc/{year}/Conference"


def _value(field: Any) -> Any:
    """v2 wraps every content field as {"value": x}; v1 stores x directly."""
    if isinstance(field, dict) and "value" in field:
        return field["value"]
    return field


def _date(note: dict) -> dt.date | None:
    for key in ("pdate", "odate", "cdate"):
        stamp = note.get(key)
        if isinstance(stamp, (int, float)) and stamp > 0:
            return dt.datetime.fromtimestamp(stamp / 1000, tz=dt.timezone.utc).date()
    return None


def _paginate(url: str, params: dict[str, Any]) -> list[dict]:
    notes: list[dict] = []
    for _ in range(MAX_PAGES):
        page = http.get_json(url, {**params, "offset": len(notes), "limit": PAGE})
        if not isinstance(page, dict) or not isinstance(page.get("notes"), list):
            raise ServiceError(f"GET {url}: unexpected reply (no 'notes' list)", transient=False)
        batch = page["notes"]
        notes.extend(batch)
        count = page.get("count")
        # Trust "count" when given (a server may cap pages below our limit); else a short page
        # is the last one.
        if not batch or (len(notes) >= count if isinstance(count, int) else len(batch) < PAGE):
            return notes
    raise ServiceError(f"GET {url}: more than {MAX_PAGES} pages, giving up", transient=False)


def _to_paper(note: dict, year: int, site: str) -> Paper | None:
    content = note.get("content") or {}
    native = note.get("forum") or note.get("id")
    title = _value(content.get("title"))
    if not native or not isinstance(title, str) or not title.strip():
        return None
    authors = _value(content.get("authors")) or []
    pdf = _value(content.get("pdf"))
    pdf_url = None
    if isinstance(pdf, str) and pdf:
        pdf_url = pdf if pdf.startswith(("http://", "https://")) else site + "/" + pdf.lstrip("/")
    return venue_paper(
        "iclr", year, str(native),
        title=clean_text(title),
        authors=[str(a).strip() for a in authors if isinstance(a, str) and a.strip()],
        pdf_url=pdf_url,
        published=_date(note),
        source="openreview",
    )


def _accepted_v1(note: dict, year: int) -> bool:
    content = note.get("content") or {}
    if content.get("venueid") == venue_id(year):
        return True
    # Decisions moved around over the years: .../-/Acceptance_Decision (2018), a Meta_Review's
    # "recommendation" (2019), .../Paper<n>/-/Decision (2020 on). "Invite to Workshop Track"
    # and "Reject" are not acceptances.
    for reply in (note.get("details") or {}).get("directReplies") or []:
        invitation = str(reply.get("invitation", ""))
        reply_content = reply.get("content") or {}
        if invitation.endswith("Decision"):
            verdict = reply_content.get("decision", "")
        elif invitation.endswith("Meta_Review") and "recommendation" in reply_content:
            verdict = reply_content["recommendation"]
        else:
            continue
        return str(_value(verdict)).strip().lower().startswith("accept")
    return False


def list_papers(settings: Settings) -> list[Paper]:
    year = settings.year
    assert year is not None
    base = settings.venue_base_url
    api_v2, api_v1, site = (base.rstrip("/"),) * 3 if base else (API_V2, API_V1, SITE)
    notes = _paginate(f"{api_v2}/notes", {"content.venueid": venue_id(year)})
    papers = [p for n in notes if (p := _to_paper(n, year, site))]
    if papers or year > 2023:
        return papers
    invitation = f"{venue_id(year)}/-/Blind_Submission"
    notes = _paginate(f"{api_v1}/notes", {"invitation": invitation, "details": "directReplies"})
    return [p for n in notes if _accepted_v1(n, year) and (p := _to_paper(n, year, site))]
