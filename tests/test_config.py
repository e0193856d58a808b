"""Settings: what a run records about itself must never carry a credential."""

import json

import pytest

from autoscholar.config import Settings, redact_url
from autoscholar.errors import ServiceError
from autoscholar.generate import generate_queries
from test_generate import make_context


@pytest.mark.parametrize("url,shown", [
    (None, None),
    ("http://localhost:8070", "http://localhost:8070"),
    ("https://user:sk-SECRET@llm.example.org/v1", "https://user:***@llm.example.org/v1"),
    ("https://sk-SECRET@llm.example.org/v1", "https://***@llm.example.org/v1"),
    ("https://x.example.org/v1?api-key=sk-SECRET&deployment=gpt",
     "https://x.example.org/v1?api-key=***&deployment=gpt"),
    ("https://x.example.org/v1?access_token=sk-SECRET", "https://x.example.org/v1?access_token=***"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_manifest_settings_carry_no_credential_from_any_url():
    settings = Settings(llm="m", llm_base_url="https://me:sk-SECRET@llm.example.org/v1",
                        grobid_url="http://admin:sk-SECRET@grobid:8070",
                        venue_base_url="http://mirror/?token=sk-SECRET",
                        arxiv_api_url="http://u:sk-SECRET@arxiv-mirror/api/query",
                        llm_api_key="sk-SECRET", hub_token="hf_SECRET")
    public = json.dumps(settings.public_dict())
    assert "SECRET" not in public
    assert settings.public_dict()["llm_base_url"] == "https://me:***@llm.example.org/v1"
    assert settings.public_dict()["llm_api_key_set"] is True


def test_unreachable_endpoint_error_does_not_print_its_password(tmp_path):
    settings = Settings(llm="m", llm_base_url="http://me:sk-SECRET@127.0.0.1:9/v1",
                        llm_max_retries=0, llm_timeout=2)
    with pytest.raises(ServiceError, match="cannot reach") as err:
        generate_queries(make_context(), settings, tmp_path)
    assert "sk-SECRET" not in str(err.value) and "127.0.0.1:9" in str(err.value)
