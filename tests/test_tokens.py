"""--dry-run's prompt-token counter: tiktoken only where it works offline, else the labelled
calibrated estimate; never a download attempt."""

import socket
import sys

import pytest

from autoscholar.generate import cost
from autoscholar.generate.cost import ESTIMATE_LABEL, estimate_prompt_tokens, prompt_counter

MESSAGES = [{"role": "system", "content": "Write search queries."},
            {"role": "user", "content": "as shown by \\cite{smith2020} <|endoftext|> in 2020"}]


def test_without_tiktoken_the_estimate_is_used_and_labelled(monkeypatch):
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # import tiktoken raises ImportError
    count = prompt_counter("gpt-4o")
    assert count.label == ESTIMATE_LABEL == "estimate: 3.6 chars/token (calibrated)"
    assert count(MESSAGES) == estimate_prompt_tokens(MESSAGES)


def test_a_broken_tiktoken_falls_back_to_the_estimate(monkeypatch, tmp_path):
    (tmp_path / "tiktoken").mkdir()
    (tmp_path / "tiktoken" / "__init__.py").write_text("raise RuntimeError('broken build')\n")
    monkeypatch.delitem(sys.modules, "tiktoken", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert prompt_counter("gpt-4o").label == ESTIMATE_LABEL


def test_tiktoken_without_its_cached_file_does_not_download(monkeypatch, tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    import tiktoken.load
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty: the BPE file is not there
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: connects.append(a) or 1 / 0)
    original = tiktoken.load.read_file
    count = prompt_counter("gpt-4o")
    assert count.label == ESTIMATE_LABEL and connects == []
    assert tiktoken.load.read_file is original  # the downloader is put back
    assert list(tmp_path.iterdir()) == []


def _byte_encoding():
    """A real tiktoken Encoding built offline: one token per byte."""
    tiktoken = pytest.importorskip("tiktoken")
    ranks = {bytes([b]): b for b in range(256)}
    return tiktoken.Encoding("bytes", pat_str=r".", mergeable_ranks=ranks,
                             special_tokens={"<|endoftext|>": 256})


def test_a_tokenizer_that_loads_offline_is_used_and_labelled(monkeypatch):
    encoding = _byte_encoding()
    monkeypatch.setattr(cost, "_offline_encoding", lambda model: encoding)
    count = prompt_counter("gpt-4o")
    assert count.label == "tokenizer: tiktoken bytes"
    # Untrusted text's "<|endoftext|>" is counted as text, one token per byte, never rejected.
    chars = sum(len(m["content"].encode()) for m in MESSAGES)
    assert count(MESSAGES) == chars + cost.TOKENS_PER_MESSAGE * 2 + cost.TOKENS_PER_REQUEST


def test_models_tiktoken_does_not_know_use_the_estimate():
    pytest.importorskip("tiktoken")
    assert prompt_counter("smollm2-135m-instruct").label == ESTIMATE_LABEL
