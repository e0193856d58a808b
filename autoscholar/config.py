"""Settings for a run: flags, environment (AUTOSCHOLAR_*), defaults. Secrets stay SecretStr."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .executors import EXECUTORS
from .parse import BACKENDS
from .parse.lexicon import DEFAULT_SECTIONS
from .sources import SOURCES

VENUES = tuple(SOURCES)
PARSERS = tuple(BACKENDS)

QUERY_CHECKS = {"unknown-key": "reject", "empty-question": "reject", "long-question": "reject",
                "title-in-question": "reject", "author-in-question": "reject",
                "multi-condition": "flag"}

URL_FIELDS = ("venue_base_url", "grobid_url", "llm_base_url", "arxiv_api_url", "ray_address")
# Query parameters that carry a credential in some OpenAI-compatible or proxy endpoints.
_SECRET_PARAM = re.compile(r"key|token|secret|password|auth|sig", re.I)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOSCHOLAR_", extra="forbid")

    venue: str = "demo"
    year: int | None = None
    pdf_dir: Path | None = None
    pdf_recursive: bool = False  # --recursive: also the PDFs in pdf_dir's sub-folders
    run_dir: Path | None = None  # default: runs/<venue>-<year>
    limit: int | None = None  # at most this many papers (for trying things out)
    # Root URL that replaces a venue source's real hosts (a mirror, or a test server).
    venue_base_url: str | None = None
    # Downloads: this many at once, each host under its own limit (hostlimit.py: requests per
    # second and in flight per host, the defaults from each service's terms, robots.txt).
    fetch_workers: int = Field(4, ge=1)
    host_rates: list[str] = Field(default_factory=list)  # "HOST=RPS[:INFLIGHT]", overrides
    retry_after_cap: float = Field(600.0, ge=0)  # longest Retry-After waited on (s)
    download_deadline: float = Field(1800.0, gt=0)  # one PDF, retries and waits included (s)

    parser: str = "pymupdf"
    grobid_url: str = "http://localhost:8070"
    grobid_timeout: float = 180.0
    # PDFs in flight to Grobid: its default pool (grobid-home/config/grobid.yaml "concurrency:
    # 10"); a smaller server pool answers the surplus with 503, which the back-off absorbs.
    grobid_concurrency: int = Field(10, ge=1)
    grobid_retries: int = 6  # retries of a 503 (server busy) per PDF
    grobid_backoff: float = 1.0  # seconds; doubles per 503 retry, with jitter
    grobid_backoff_cap: float = 30.0
    sections: list[str] = Field(default_factory=lambda: list(DEFAULT_SECTIONS))
    # What one prompt shows the model: a citing paragraph, or a whole target section with its
    # subsections (as PaSa did); section contexts keep each sentence's heading and paragraph.
    context_unit: Literal["paragraph", "section"] = "paragraph"
    # no target heading: mine the front matter's citing paragraphs that read as related work,
    # marked "(front matter)" in the context's section (front_matter.py)
    front_matter_fallback: bool = True
    parse_workers: int = 0  # 0 = one per core
    parse_timeout: float = 120.0  # seconds per PDF
    parse_memory_mb: int = 2048

    llm: str = "none"  # model name, or "none" for the offline generator
    llm_base_url: str | None = None  # OpenAI-compatible endpoint (vLLM, Ollama); None = OpenAI
    llm_api_key: SecretStr | None = None
    llm_temperature: float = 0.0
    llm_max_retries: int = 3
    llm_timeout: float = 120.0
    llm_concurrency: int = 4  # model calls in flight at once
    # auto: json_schema, else json_object with the schema, else text (the first that the
    # endpoint takes, remembered per endpoint and model)
    llm_json_mode: Literal["auto", "json_schema", "json_object", "text"] = "auto"
    llm_max_tokens: int = Field(1024, ge=16)  # per request; a longer answer is a reject
    llm_max_cost: float | None = Field(None, ge=0)  # USD for this run's requests
    llm_price_in: float | None = Field(None, ge=0)  # USD per 1M prompt tokens
    llm_price_out: float | None = Field(None, ge=0)  # USD per 1M completion tokens
    llm_price_file: Path | None = None  # a price table like data/prices.json
    # What each check of a model's query does when it fails (generate/validate.py): "reject"
    # drops the query, "flag" keeps it with the check in Query.flags, "off" skips the check.
    # A mapping given replaces only the checks it names.
    query_checks: dict[str, Literal["reject", "flag", "off"]] = Field(
        default_factory=lambda: dict(QUERY_CHECKS))
    # Through the OpenAI Batch API (half price, answers within 24 h) instead of live requests.
    # Not part of generate's fingerprint: the answers land in the same cache either way.
    llm_batch: bool = False
    llm_batch_poll: float = Field(30.0, gt=0)  # seconds between polls of an open batch

    arxiv_index: Path | None = None  # default for the demo: the bundled mini index
    match_threshold: float = Field(90.0, ge=0, le=100)  # a 0-100 similarity score
    # Ask the arXiv API (one request per 3 s, cached) for references the local index lacks.
    arxiv_online: bool = False
    arxiv_api_url: str | None = None
    # A well-formed printed arXiv id the index lacks: keep it unverified, verify it with the
    # arXiv API (one request per 3 s, cached), or drop the answer.
    printed_id: Literal["keep", "verify", "drop"] = "keep"
    # A printed id whose record names other authors: the printed title decides, or the id.
    id_author_mismatch: Literal["title", "id"] = "title"

    split_seed: str = "autoscholar"
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    # Split sizes given as `--dev-size/--test-size`: a whole number >= 1 is a count of queries
    # (PaSa's 1000), reached by whole source papers; below 1, a fraction of the source papers.
    # None keeps dev_fraction/test_fraction, so runs made before the flags split as they did.
    dev_size: float | None = Field(None, ge=0)
    test_size: float | None = Field(None, ge=0)
    # The dataset card's YAML license (a Hub license id); see publish.LICENSE_NOTE.
    license: str = "other"
    hub_token: SecretStr | None = None
    # build exits non-zero when a stage failed (FAILURE_REASONS) on more than this share of
    # its inputs; inputs that merely do not qualify never count.
    max_error_rate: float = Field(0.5, ge=0, le=1)

    # Where a stage's inputs are worked on (executors/): here, or in shards on a Ray cluster
    # (ray_address: an existing cluster, e.g. "auto" or ray://head:10001; None starts one here).
    # Not part of any fingerprint: the stage files are the same bytes either way.
    executor: str = "local"
    ray_address: str | None = None
    shard_size: int = Field(32, ge=1)  # inputs per Ray task

    # The registries are the only lists of venues and parsers, so a value from the
    # environment (AUTOSCHOLAR_VENUE, AUTOSCHOLAR_PARSER) is refused like a flag would be.
    @field_validator("venue", "parser", "executor")
    @classmethod
    def _registered(cls, value: str, info) -> str:
        known = {"venue": SOURCES, "parser": BACKENDS, "executor": EXECUTORS}[info.field_name]
        if value not in known:
            raise ValueError(f"unknown {info.field_name} {value!r}: one of {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _year_the_venue_covers(self) -> "Settings":
        if self.year is not None and (why := SOURCES[self.venue].check_year(self.year)):
            raise ValueError(f"--year {self.year} is outside what --venue {self.venue} {why}")
        return self

    @field_validator("host_rates")
    @classmethod
    def _host_rates(cls, value: list[str]) -> list[str]:
        from .hostlimit import parse_host_rate

        for text in value:
            parse_host_rate(text)  # ValueError names the one that is wrong
        return value

    @field_validator("query_checks")
    @classmethod
    def _known_checks(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(QUERY_CHECKS))
        if unknown:
            raise ValueError(f"unknown check {', '.join(unknown)}: the checks are "
                             f"{', '.join(QUERY_CHECKS)}")
        return {**QUERY_CHECKS, **value}

    def resolved_run_dir(self) -> Path:
        if self.run_dir is not None:
            return self.run_dir
        name = self.venue
        if self.venue == "local" and self.pdf_dir is not None:
            name += "-" + (re.sub(r"[^\w.-]+", "_", self.pdf_dir.resolve().name) or "pdfs")
        return Path("runs") / (f"{name}-{self.year}" if self.year else name)

    def public_dict(self) -> dict:
        """Settings as recorded in manifest.json: secrets left out entirely."""
        data = self.model_dump(mode="json", exclude={"llm_api_key", "hub_token"})
        for field in URL_FIELDS:
            data[field] = redact_url(data[field])
        data["llm_api_key_set"] = self.llm_api_key is not None
        data["hub_token_set"] = self.hub_token is not None
        return data


def redact_url(url: str | None) -> str | None:
    """The URL with a password in it, or a key in its query, replaced by ***.

    Endpoints may be given as https://user:KEY@host/v1 or ...?api-key=KEY; the manifest, error
    messages and logs show where a run talked to, never with what.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return "***"
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_SECRET_FLAG = re.compile(r"^--?[\w-]*(key|token|secret|password)[\w-]*$", re.I)


def redact_argv(argv: list[str]) -> list[str]:
    """A command line as it may be recorded: the value of any key/token flag and any
    credential inside a URL replaced by ***."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        flag, eq, value = arg.partition("=")
        if _SECRET_FLAG.match(flag):
            if eq:
                out.append(f"{flag}=***")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact_url(arg) if "://" in arg else arg)
    return out
