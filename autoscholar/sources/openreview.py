"""ICLR from OpenReview, through the official client library (openreview-py).

The API is chosen by year. ICLR 2024 on is on API v2 (api2.openreview.net): the accepted papers
are exactly the notes whose content.venueid is the conference group "ICLR.cc/<year>/Conference"
(rejected and withdrawn ones carry ".../Rejected_Submission", ".../Withdrawn_Submission");
content fields are {"value": x}. ICLR 2018-2023 are on API v1 (api.openreview.net): the
".../-/Blind_Submission" notes with their direct replies, a paper counting as accepted when
its venueid says so or its decision starts "Accept" (the Decision reply; 2019's Meta_Review
"recommendation"; 2018's Acceptance_Decision). Both are read with the client's get_all_notes,
which pages by `after=<last id>` sorted by id, 1000 notes a request.

Credentials: OpenReview (2026) answers anonymous API calls with HTTP 403
ChallengeRequiredError. OPENREVIEW_TOKEN, else OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD,
are read from the environment when needed and never kept in Settings, the manifest, the
listing or a cache; the login is the client's own (POST /login on the v2 host, which is
where openreview-py's v1 client logs in too), and its token serves both APIs. preflight()
makes one small request first, so a refusal is one line before anything runs.

published = pdate (publication: the camera-ready the PDF is), else odate (when it went
public), else cdate; date_source "listing field".
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from autoscholar.config import Settings
from autoscholar.errors import InputError, ServiceError
from autoscholar.records import Paper
from autoscholar.sources.common import clean_text, venue_paper

API_V2 = "https://api2.openreview.net"
API_V1 = "https://api.openreview.net"
SITE = "https://openreview.net"  # where content.pdf ("/pdf/<hash>.pdf") is served
FIRST_V2_YEAR = 2024  # ICLR 2024 was the first ICLR run on API v2

CREDENTIALS_HINT = ("set OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD (an OpenReview account), "
                    "or OPENREVIEW_TOKEN")
# One login per process and account: preflight's token is reused by the listing. Memory only.
_TOKENS: dict[tuple[str, str], str] = {}


def venue_id(year: int) -> str:
    return f"ICLR.cc/{year}/Conference"


def api_version(year: int) -> int:
    return 2 if year >= FIRST_V2_YEAR else 1


def _hosts(settings: Settings) -> tuple[str, str, str]:
    """(API v2, API v1, site): the real hosts, or --venue-base-url for all three."""
    base = settings.venue_base_url
    return (base.rstrip("/"),) * 3 if base else (API_V2, API_V1, SITE)


# ------------------------------------------------------------------ client and errors


def _error(exc: Exception) -> dict:
    """The API's error body ({"name", "message", "status", "details"}) from an
    OpenReviewException, which carries it as its first argument (a dict, or a string)."""
    body = exc.args[0] if exc.args else {}
    return body if isinstance(body, dict) else {"name": "Error", "message": str(body)}


def _credentials() -> tuple[str | None, str | None, str | None]:
    env = os.environ
    return (env.get("OPENREVIEW_TOKEN") or None, env.get("OPENREVIEW_USERNAME") or None,
            env.get("OPENREVIEW_PASSWORD") or None)


def _service_error(exc: Exception, what: str, logged_in: bool) -> Exception:
    """The one line for a failed call; a 403 names the credentials to set (or to check)."""
    import openreview
    import requests

    if isinstance(exc, requests.RequestException):
        return ServiceError(f"{what}: cannot reach OpenReview: {type(exc).__name__}")
    if isinstance(exc, openreview.MfaRequiredException):
        return InputError(f"{what}: the OpenReview account asks for a second factor: log in "
                          "once yourself and set OPENREVIEW_TOKEN")
    body = _error(exc)
    name, status = body.get("name", "Error"), body.get("status")
    message = clean_text(str(body.get("message", "")))[:200]
    if status == 403 or name == "ChallengeRequiredError":
        if not logged_in:
            return InputError(f"{what}: OpenReview refused an anonymous request (HTTP 403 "
                              f"{name}): {CREDENTIALS_HINT}")
        return InputError(f"{what}: OpenReview refused the request with the given credentials "
                          f"(HTTP 403 {name}): {message}")
    transient = not isinstance(status, int) or status >= 500 or status == 429
    return ServiceError(f"{what}: OpenReview answered HTTP {status} {name}: {message}",
                        transient=transient)


def _token(api_v2: str) -> str | None:
    """The session token: OPENREVIEW_TOKEN, or a login with username and password."""
    import openreview

    token, username, password = _credentials()
    if token or not (username or password):
        return token
    if not (username and password):
        raise InputError("OpenReview login needs both OPENREVIEW_USERNAME and "
                         "OPENREVIEW_PASSWORD (or set OPENREVIEW_TOKEN)")
    key = (api_v2, username)
    if key not in _TOKENS:
        try:
            client = openreview.api.OpenReviewClient(baseurl=api_v2, username=username,
                                                     password=password)
        except Exception as exc:  # noqa: BLE001 - the client's errors, as one line
            failed = _service_error(exc, "OpenReview login", logged_in=False)
            if isinstance(exc, openreview.OpenReviewException) and not isinstance(
                    exc, openreview.MfaRequiredException):
                body = _error(exc)
                failed = InputError(f"OpenReview login refused (HTTP {body.get('status')} "
                                    f"{body.get('name')}): "
                                    f"{clean_text(str(body.get('message', '')))[:200]}: check "
                                    "OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD")
            raise failed from None
        _TOKENS[key] = client.token
    return _TOKENS[key]


def _client(settings: Settings, version: int):
    """openreview-py's client for the API of that version, logged in when credentials are set."""
    import openreview

    api_v2, api_v1, _ = _hosts(settings)
    token = _token(api_v2)
    # Given a token the client does not log in again (without one it would read the same
    # environment variables, which are then unset: _token logged in whenever they are set).
    if version == 2:
        return openreview.api.OpenReviewClient(baseurl=api_v2, token=token)
    return openreview.Client(baseurl=api_v1, token=token)


def _query(year: int) -> dict[str, Any]:
    if api_version(year) == 2:
        return {"content": {"venueid": venue_id(year)}}
    return {"invitation": f"{venue_id(year)}/-/Blind_Submission", "details": "directReplies"}


def preflight(settings: Settings) -> None:
    """One request of the listing's own kind (one note): the year's API answers us."""
    year = settings.year
    assert year is not None
    logged_in = any(_credentials())
    where = f"preflight of ICLR {year} (API v{api_version(year)})"
    client = _client(settings, api_version(year))
    try:
        client.get_notes(**_query(year), limit=1)
    except Exception as exc:  # noqa: BLE001 - the client's and requests' errors, as one line
        raise _service_error(exc, where, logged_in) from None


# ------------------------------------------------------------------ notes -> papers


def _value(field: Any) -> Any:
    """v2 wraps every content field as {"value": x}; v1 stores x directly."""
    if isinstance(field, dict) and "value" in field:
        return field["value"]
    return field


def _date(note: Any) -> dt.date | None:
    for key in ("pdate", "odate", "cdate"):
        stamp = getattr(note, key, None)
        if isinstance(stamp, (int, float)) and stamp > 0:
            return dt.datetime.fromtimestamp(stamp / 1000, tz=dt.timezone.utc).date()
    return None


def _to_paper(note: Any, year: int, site: str) -> Paper | None:
    content = note.content or {}
    native = note.forum or note.id
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
        date_source="listing field",
    )


def accepted_v1(note: Any, year: int) -> bool:
    content = note.content or {}
    if _value(content.get("venueid")) == venue_id(year):
        return True
    # Decisions moved around over the years: .../-/Acceptance_Decision (2018), a Meta_Review's
    # "recommendation" (2019), .../Paper<n>/-/Decision (2020 on). "Invite to Workshop Track"
    # and "Reject" are not acceptances.
    for reply in (note.details or {}).get("directReplies") or []:
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
    version = api_version(year)
    _, _, site = _hosts(settings)
    client = _client(settings, version)
    try:
        notes = client.get_all_notes(**_query(year))
    except Exception as exc:  # noqa: BLE001 - the client's and requests' errors, as one line
        raise _service_error(exc, f"ICLR {year} listing (API v{version})",
                             any(_credentials())) from None
    if version == 1:
        notes = [n for n in notes if accepted_v1(n, year)]
    return [p for n in notes if (p := _to_paper(n, year, site))]
