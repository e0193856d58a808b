"""Checks, before fetch starts, that the services later stages need are there: a missing
Grobid or an unusable index is one line now, not a failure hours later at parse or match.
The venue check comes first: the year is one the source can list and date (sources/*.py
check_year: a year its conference dates table lacks is refused), and the service takes our
requests (OpenReview: the login, or the one line saying which credentials to set).

CHECKS is the registry: (name, applies to these settings, check raising AutoscholarError).
Offline settings need no network (`--llm none` skips the LLM check). The LLM check lists the
endpoint's models (GET /v1/models, free), then finds the JSON mode the endpoint takes with
generate/llm.py's own negotiation (Endpoint.probe: up to three 1-token requests with the real
schema's shape; none when the run has the mode recorded, unless the server has no model listing
and one request is the only way to learn the model is there). The mode found is kept for this
process and recorded in the run's cache by generate, which starts in it.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import Settings, redact_url
from .errors import AutoscholarError, InputError, ServiceError

SHOWN_MODELS = 5  # how many listed models the "no such model" line names


def _venue(settings: Settings) -> None:
    from .sources import preflight as venue_preflight

    venue_preflight(settings)


def _grobid(settings: Settings) -> None:
    from .parse.grobid.client import connect

    connect(settings)  # /api/isalive, with the start hint when nothing answers


def _arxiv_index(settings: Settings) -> None:
    from .arxiv.index import load_index
    from .match import SNAPSHOT_SUFFIXES, index_source

    source = index_source(settings)
    if source.is_file() and source.name.endswith(SNAPSHOT_SUFFIXES):
        return  # a snapshot, built into the run directory at match; its reader checks it then
    index = load_index(source)  # format version and every array, or one error line
    if len(index) == 0:
        raise InputError(f"arXiv index {source} has no records: rebuild it from a snapshot")


def _llm_key(settings: Settings) -> None:
    from .generate.llm import api_key

    # A local endpoint (vLLM, Ollama, llama.cpp) takes any key; OpenAI itself needs one.
    if settings.llm_base_url is None and not api_key(settings):  # unset or ""
        raise InputError(f"--llm {settings.llm} needs an API key: set AUTOSCHOLAR_LLM_API_KEY "
                         "or OPENAI_API_KEY, or pass --llm-base-url for a local endpoint")


def _llm(settings: Settings) -> None:
    _llm_key(settings)
    _llm_endpoint(settings)


def _llm_endpoint(settings: Settings) -> None:
    import openai

    from .generate.llm import Endpoint, ModeRefused, _said, client

    where = redact_url(settings.llm_base_url) or "the OpenAI API"
    llm = client(settings).with_options(max_retries=1)  # a check, not a job: fail fast
    endpoint = Endpoint(settings, settings.resolved_run_dir() / "cache" / "llm", llm)
    try:
        try:
            listed = [model.id for model in llm.models.list()]
        except openai.NotFoundError:  # no listing endpoint: the probe asks the model itself
            listed = None
        if listed is not None and settings.llm not in listed:
            shown = ", ".join(listed[:SHOWN_MODELS]) or "none"
            if len(listed) > SHOWN_MODELS:
                shown += f" (and {len(listed) - SHOWN_MODELS} more)"
            raise InputError(f"the LLM endpoint at {where} has no model {settings.llm!r}; "
                             f"it lists: {shown}")
        endpoint.probe(ask=listed is None)
    except ModeRefused as exc:
        raise InputError(f"the LLM endpoint at {where} {exc}") from None
    except openai.AuthenticationError:
        raise InputError(f"the LLM endpoint at {where} refused the API key (HTTP 401): set "
                         "AUTOSCHOLAR_LLM_API_KEY or OPENAI_API_KEY") from None
    except openai.NotFoundError:
        raise InputError(f"the LLM endpoint at {where} has no model {settings.llm!r} "
                         "(HTTP 404)") from None
    except openai.APIStatusError as exc:
        raise ServiceError(f"the LLM endpoint at {where} failed with HTTP {exc.status_code}: "
                           f"{_said(exc)}") from None
    except openai.APIConnectionError as exc:  # includes timeouts
        raise ServiceError(f"cannot reach the LLM endpoint at {where}: "
                           f"{(str(exc).splitlines() or ['no answer'])[0][:200]}") from None


CHECKS: tuple[tuple[str, Callable[[Settings], bool], Callable[[Settings], None]], ...] = (
    ("venue", lambda s: True, _venue),
    ("llm", lambda s: s.llm != "none", _llm),
    ("grobid", lambda s: s.parser == "grobid", _grobid),
    ("arxiv-index", lambda s: True, _arxiv_index),
)


def preflight(settings: Settings) -> list[str]:
    """Every failing check as one line (all of them, so one run shows everything to fix;
    a failing venue check alone, since nothing else matters for a run that cannot list)."""
    failures = []
    for name, applies, check in CHECKS:
        if applies(settings):
            try:
                check(settings)
            except AutoscholarError as exc:
                failures.append(f"preflight {name}: {exc}")
                if name == "venue":  # a run that cannot list asks no other service anything
                    break
    return failures


def hub_preflight(settings: Settings, endpoint: str | None = None) -> None:
    """Before `publish --push-to-hub` writes anything: a token is there and the Hub accepts it
    with write access (GET /api/whoami-v2, as huggingface_hub's whoami)."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    from .hub import resolve_endpoint

    token = settings.hub_token.get_secret_value() if settings.hub_token else None
    token = token or get_token()
    if not token:
        raise InputError("preflight hub: no Hugging Face token: set AUTOSCHOLAR_HUB_TOKEN or "
                         "HF_TOKEN (a token with write access), or run `hf auth login`")
    api = HfApi(endpoint=resolve_endpoint(endpoint), token=token)
    where = api.endpoint
    try:
        info = api.whoami()
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status == 401:
            raise InputError(f"preflight hub: the Hugging Face Hub at {where} rejected the "
                             "token: 401 Unauthorized") from None
        raise ServiceError(f"preflight hub: the Hugging Face Hub at {where} failed with HTTP "
                           f"{status}") from None
    except OSError as exc:  # requests/httpx connection errors are OSErrors
        raise ServiceError(f"preflight hub: cannot reach the Hugging Face Hub at {where}: "
                           f"{type(exc).__name__}") from None
    role = ((info.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise InputError(f"preflight hub: the token of {info.get('name')!r} is read-only: "
                         "pushing needs a token with write access")
