"""What generation costs: the price table, prompt-token estimates and the --max-cost budget.

Prices are per 1M tokens (data/prices.json, dated); --price-in/--price-out or a user price file
override them. A model served from a local endpoint that is not in the table has no price: its
cost is unknown, not zero, unless the user says so with --price-in 0 --price-out 0.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import InputError, ServiceError
from ..records import Usage
from ..resources import resource

# Calibrated against the prompt_tokens that llama.cpp's server reports for the generate_v*
# prompts of the demo and the 23-PDF local build (scripts/bench_generate.py --calibrate):
# English prose with \cite{KEY} tags and bibliography lines, plus the chat template's overhead.
CHARS_PER_TOKEN = 3.6
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REQUEST = 3


@dataclass(frozen=True)
class Price:
    input: float
    cached_input: float
    output: float
    batch_discount: float = 0.5
    checked: str = ""  # the date of the price table it came from
    # A model whose Batch API price is not the table's discount of its sync price says so.
    batch_input: float | None = None
    batch_output: float | None = None

    def rates(self, batch: bool = False) -> tuple[float, float, float]:
        """USD per 1M (fresh input, cached input, output) tokens."""
        if not batch:
            return self.input, self.cached_input, self.output
        d = self.batch_discount
        return (self.input * d if self.batch_input is None else self.batch_input,
                self.cached_input * d,
                self.output * d if self.batch_output is None else self.batch_output)

    def cost(self, usage: Usage, batch: bool = False) -> float:
        """USD for the tokens of `usage`."""
        fresh_rate, cached_rate, output_rate = self.rates(batch)
        fresh = usage.prompt_tokens - usage.cached_tokens
        return (fresh * fresh_rate + usage.cached_tokens * cached_rate
                + usage.completion_tokens * output_rate) / 1e6


def _table(settings: Settings) -> dict:
    path = settings.llm_price_file or resource("data", "prices.json")
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the price file {path}: {exc}") from exc


def price_for(settings: Settings) -> Price | None:
    """The price of the configured model, or None when nobody knows it."""
    table = _table(settings)
    discount = float(table.get("batch_discount", 0.5))
    models = table.get("models", {})
    # Dated snapshots ("gpt-4o-2024-08-06") cost what their family costs.
    base = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", settings.llm)
    row = models.get(settings.llm) or models.get(base)
    if settings.llm_price_in is not None or settings.llm_price_out is not None:
        row = dict(row or {})
        if settings.llm_price_in is not None:
            row["input"] = row["cached_input"] = settings.llm_price_in
        if settings.llm_price_out is not None:
            row["output"] = settings.llm_price_out
    if not row or "input" not in row or "output" not in row:
        return None
    try:
        return Price(float(row["input"]), float(row.get("cached_input", row["input"])),
                     float(row["output"]), discount, str(table.get("checked", "?")),
                     _rate(row, "batch_input"), _rate(row, "batch_output"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"the price table's row for {settings.llm} is not numbers: "
                         f"{exc}") from exc


def _rate(row: dict, name: str) -> float | None:
    return None if row.get(name) is None else float(row[name])


def estimate_prompt_tokens(messages: list[dict]) -> int:
    """Prompt tokens of one chat request, estimated from its characters."""
    chars = sum(len(m.get("content") or "") for m in messages)
    return round(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages) + TOKENS_PER_REQUEST


ESTIMATE_LABEL = f"estimate: {CHARS_PER_TOKEN} chars/token (calibrated)"


class _NoNetwork(Exception):
    pass


def _refuse_download(*_args, **_kwargs):
    raise _NoNetwork("tiktoken wanted to download its BPE file")


def _offline_encoding(model: str):
    """tiktoken's encoding for `model` if tiktoken is installed, knows the model and has its BPE
    file in its cache; else None. tiktoken downloads that file on first use, which here would
    fail or hang, so its downloader is swapped for one that refuses while the encoding loads."""
    try:
        import tiktoken
        import tiktoken.load
    except Exception:  # absent, or broken: both mean "no tokenizer"
        return None
    try:
        name = tiktoken.encoding_name_for_model(model)
    except Exception:  # a model tiktoken does not know (a local GGUF): its tokenizer differs
        return None
    original = tiktoken.load.read_file
    tiktoken.load.read_file = _refuse_download
    try:
        return tiktoken.get_encoding(name)
    except Exception:
        return None
    finally:
        tiktoken.load.read_file = original


@dataclass(frozen=True)
class PromptCounter:
    """Counts the prompt tokens of a chat request: a real tokenizer where one works offline,
    else the calibrated estimate; `label` says which, for the --dry-run plan."""

    label: str = ESTIMATE_LABEL
    encoding: object = None

    def __call__(self, messages: list[dict]) -> int:
        if self.encoding is None:
            return estimate_prompt_tokens(messages)
        # Paper text is untrusted: a literal "<|endoftext|>" in it is text, not a special token.
        tokens = sum(len(self.encoding.encode(m.get("content") or "", disallowed_special=()))
                     for m in messages)
        return tokens + TOKENS_PER_MESSAGE * len(messages) + TOKENS_PER_REQUEST


def prompt_counter(model: str) -> PromptCounter:
    encoding = _offline_encoding(model)
    if encoding is None:
        return PromptCounter()
    return PromptCounter(f"tokenizer: tiktoken {encoding.name}", encoding)


class BudgetExceeded(ServiceError):
    def __init__(self, message: str):
        super().__init__(message, transient=False)


class Budget:
    """--max-cost: a request is sent only if what was spent, plus what is in flight, plus this
    request at its worst (its estimated prompt and max_tokens of output) stays within the
    budget, so the limit holds with requests running in parallel."""

    def __init__(self, max_cost: float | None, price: Price | None):
        if max_cost is not None and price is None:
            raise InputError("--max-cost needs the model's price: it is not in the price table; "
                             "give --price-in and --price-out (USD per 1M tokens)")
        self.max_cost = max_cost
        self.price = price
        self.spent = 0.0
        self.in_flight = 0.0
        self.requests = 0
        self._lock = threading.Lock()

    def reserve(self, prompt_tokens: int, max_tokens: int, batch: bool = False) -> float:
        if self.price is None:
            return 0.0
        # The prompt estimate may be short by a few percent; a margin keeps the cap a cap.
        worst = self.price.cost(Usage(prompt_tokens=round(prompt_tokens * 1.25),
                                      completion_tokens=max_tokens), batch=batch)
        with self._lock:
            if self.max_cost is not None and self.spent + self.in_flight + worst > self.max_cost:
                raise BudgetExceeded(
                    f"generate stopped before passing --max-cost ${self.max_cost:.4f}: spent "
                    f"${self.spent:.4f} on {self.requests} requests in this run; everything so far "
                    f"is saved, rerun with a higher --max-cost to go on")
            self.in_flight += worst
        return worst

    def settle(self, reserved: float, usage: dict | None, batch: bool = False) -> None:
        with self._lock:
            self.in_flight -= reserved
            if usage is not None:
                self.requests += 1
                if self.price is not None:
                    self.spent += self.price.cost(Usage.total([usage]), batch=batch)
