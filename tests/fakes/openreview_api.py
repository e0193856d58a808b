"""The OpenReview API as openreview-py talks to it: GET /notes (v1 and v2 note shapes),
POST /login, and the 403 ChallengeRequiredError OpenReview answers anonymous calls with (2026).

Checked against openreview-py 2.9.1 (openreview/openreview.py and openreview/api/client.py):
- GET /notes takes the filters (content.venueid=..., or invitation=... with details=...),
  limit (at most 1000), offset, after=<note id> with sort=id (how get_all_notes pages: tools.
  efficient_iterget), count=true|false; the body is {"notes": [...], "count": N}. The v1
  client reads "count" without asking for it, so it is always sent.
- POST /login with {"id", "password", "expiresIn"} answers {"token", "user": {"id",
  "profile": {"id"}}} (the client's __handle_authorization reads token and
  user.profile.id); later calls carry "Authorization: Bearer <token>". A wrong password:
  "Invalid username or password" (the message openreview-py's own tests expect).
- Errors are JSON {"name", "message", "status", "details": {"path", "user", "reqId"}}, the
  shape of a real 2026 ForbiddenError body; the ChallengeRequiredError 403 is written in it
  (no verbatim capture of that body was found).
Notes: ICLR 2024 v2 notes around the real titles and authors of the processed listing in
../shared/data (its ids are the real forum ids); ICLR 2019 v1 notes written in the v1 shape.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.parse
from pathlib import Path

ICLR_VENUE = "ICLR.cc/2024/Conference"
HOSTILE_ID = "../../etc/passwd"
V1_YEAR = 2019
MAX_PAGE = 1000  # the real API caps limit at 1000


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def iclr_notes(shared: Path) -> list[dict]:
    listing = json.loads((shared / "venues/openreview_iclr_SUBSTITUTE/glimpse-data__ICLR2024.json")
                         .read_text(encoding="utf-8"))
    notes = []
    for number, (url, entry) in enumerate(listing.items(), 1):
        note_id = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["id"][0]
        notes.append(v2_note(note_id, number, entry["title"], entry["authors"], ICLR_VENUE,
                             f"ICLR 2024 {entry['volume']}"))
    notes.append(v2_note(HOSTILE_ID, 9998, "A Hostile Identifier", ["Mallory"], ICLR_VENUE,
                         "ICLR 2024 poster"))
    notes.append(v2_note("rejected01", 9999, "A Rejected Paper", ["R. Eject"],
                         "ICLR.cc/2024/Conference/Rejected_Submission", "Submitted to ICLR 2024"))
    return notes


def v2_note(note_id: str, number: int, title: str, authors: list[str], venueid: str,
            venue: str) -> dict:
    return {
        "id": note_id, "forum": note_id, "number": number, "domain": ICLR_VENUE,
        "invitations": [f"{ICLR_VENUE}/-/Submission", f"{ICLR_VENUE}/-/Post_Submission",
                        f"{ICLR_VENUE}/Submission{number}/-/Camera_Ready_Revision"],
        "readers": ["everyone"], "writers": [ICLR_VENUE, f"{ICLR_VENUE}/Submission{number}/Authors"],
        "signatures": [f"{ICLR_VENUE}/Submission{number}/Authors"],
        "content": {"title": {"value": title}, "authors": {"value": authors},
                    "pdf": {"value": f"/pdf/{urllib.parse.quote(note_id, safe='')}.pdf"},
                    "venue": {"value": venue}, "venueid": {"value": venueid}},
        "cdate": _ms(dt.date(2023, 9, 22)), "odate": _ms(dt.date(2023, 10, 13)),
        "pdate": _ms(dt.date(2024, 1, 16)), "mdate": _ms(dt.date(2024, 3, 1)),
        "tcdate": _ms(dt.date(2023, 9, 22)), "tmdate": _ms(dt.date(2024, 3, 1)),
        "license": "CC BY 4.0", "version": 2,
    }


def v1_notes() -> list[dict]:
    """ICLR 2019 Blind_Submission notes (v1: plain content values, decisions as replies)."""
    conf = f"ICLR.cc/{V1_YEAR}/Conference"

    def note(nid: str, title: str, decision: str | None, venueid: str | None = None,
             style: str = "decision") -> dict:
        content = {"title": title, "authors": ["Ada Lovelace", "Alan Turing"],
                   "authorids": ["ada@example.org", "alan@example.org"],
                   "pdf": f"/pdf/{nid}.pdf", "paperhash": "lovelace|" + nid.lower()}
        if venueid:
            content["venueid"] = venueid
        replies = [{"id": nid + "r", "invitation": f"{conf}/-/Paper1/Official_Review",
                    "forum": nid, "replyto": nid, "content": {"rating": "7"}}]
        if decision and style == "meta":  # ICLR 2019: the meta-review carries the decision
            replies.append({"id": nid + "m", "invitation": f"{conf}/-/Paper1/Meta_Review",
                            "forum": nid, "replyto": nid,
                            "content": {"metareview": "...", "recommendation": decision}})
        elif decision and style == "acceptance":  # ICLR 2018
            replies.append({"id": nid + "a", "invitation": "ICLR.cc/2018/Conference/-/"
                            "Acceptance_Decision", "forum": nid, "replyto": nid,
                            "content": {"decision": decision}})
        elif decision:  # ICLR 2020 on
            replies.append({"id": nid + "d", "invitation": f"{conf}/Paper1/-/Decision",
                            "forum": nid, "replyto": nid, "content": {"decision": decision}})
        return {"id": nid, "original": nid + "o", "number": 1, "forum": nid, "replyto": None,
                "invitation": f"{conf}/-/Blind_Submission", "content": content,
                "readers": ["everyone"], "nonreaders": [], "writers": [conf],
                "signatures": [conf], "referent": None, "ddate": None,
                "cdate": _ms(dt.date(2018, 9, 28)), "tcdate": _ms(dt.date(2018, 9, 28)),
                "tmdate": _ms(dt.date(2019, 2, 22)), "details": {"directReplies": replies}}

    return [note("v1accOral", "Accepted as an Oral", "Accept (Oral)"),
            note("v1accPoster", "Accepted as a Poster", "Accept (Poster)", style="meta"),
            note("v1workshop", "Invited to the Workshop", "Invite to Workshop Track",
                 style="acceptance"),
            note("v1accepted2018", "Accepted in 2018 Style", "Accept (Poster)", style="acceptance"),
            note("v1reject", "Rejected Submission", "Reject", style="meta"),
            note("v1venueid", "Accepted by Venue Id", None, f"ICLR.cc/{V1_YEAR}/Conference"),
            note("v1nodecision", "No Decision Yet", None)]


def error(status: int, name: str, message: str, path: str, user: str) -> tuple[int, dict]:
    req_id = f"{dt.date.today().isoformat()}-{secrets.randbelow(10**7)}"
    return status, {"name": name, "message": f"{message} ({req_id})", "status": status,
                    "details": {"path": path, "user": user, "reqId": req_id}}


class OpenReviewAPI:
    """The protocol only; VenueServer routes /notes and /login here."""

    def __init__(self, shared: Path | None):
        self.shared = shared
        self.challenge = False  # True: anonymous calls get 403 ChallengeRequiredError
        self.accounts: dict[str, str] = {}  # username -> password
        self.tokens: set[str] = set()
        self.log: list[dict] = []  # method, path, query, authorization, login id
        self._iclr: list[dict] | None = None

    def login(self, body: bytes) -> tuple[int, dict]:
        try:
            user = json.loads(body or b"{}")
        except ValueError:
            return error(400, "Error", "Invalid JSON", "/login", "guest")
        self.log.append({"method": "POST", "path": "/login", "id": user.get("id"),
                         "fields": sorted(user)})
        if not user.get("id") or self.accounts.get(user["id"]) != user.get("password"):
            return error(400, "Error", "Invalid username or password", "/login", "guest")
        token = secrets.token_hex(16)
        self.tokens.add(token)
        profile = "~" + user["id"].split("@")[0].title().replace(".", "_") + "1"
        return 200, {"token": token, "user": {"id": profile, "profile": {
            "id": profile, "usernames": [profile], "preferredEmail": user["id"]}}}

    def notes(self, path_query: str, query: dict[str, str],
              authorization: str | None) -> tuple[int, dict]:
        token = (authorization or "").removeprefix("Bearer ").strip()
        self.log.append({"method": "GET", "path": "/notes", "query": dict(query),
                         "authorized": token in self.tokens})
        if self.challenge and token not in self.tokens:
            return error(403, "ChallengeRequiredError",
                         "A challenge is required to access this resource", path_query,
                         f"guest_{secrets.randbelow(10**13)}")
        if query.get("content.venueid", "").startswith(ICLR_VENUE):
            if self._iclr is None:
                if self.shared is None:
                    raise LookupError("the ICLR 2024 notes need the shared data folder")
                self._iclr = iclr_notes(self.shared)
            notes = [n for n in self._iclr
                     if n["content"]["venueid"]["value"] == query["content.venueid"]]
        elif query.get("invitation") == f"ICLR.cc/{V1_YEAR}/Conference/-/Blind_Submission":
            notes = v1_notes()
            if "directReplies" not in query.get("details", ""):
                notes = [{k: v for k, v in n.items() if k != "details"} for n in notes]
        else:
            notes = []
        if query.get("sort", "").startswith("id"):
            notes = sorted(notes, key=lambda n: n["id"])
        if "after" in query:
            notes = [n for n in notes if n["id"] > query["after"]]
        count = len(notes)
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", MAX_PAGE)), MAX_PAGE)
        return 200, {"notes": notes[offset: offset + limit], "count": count}
