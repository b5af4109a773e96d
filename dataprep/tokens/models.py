"""The dated tables under ``rules/`` (installed as ``dataprep.rules``): models, providers,
counting formulas, epochs heuristic and GPU throughput. Every number the token estimator uses
comes from here; nothing is hard-coded in Python.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "EpochRules",
    "Formula",
    "ModelSpec",
    "ProviderSpec",
    "STATUSES",
    "ThroughputTable",
    "UnknownModelError",
    "default_model",
    "epoch_rules",
    "formula",
    "get_model",
    "gpu_throughput",
    "list_models",
    "models_table_digest",
    "providers",
]

#: the values of a model row's `status` (rules/models.toml header says what each means)
STATUSES = ("available", "retiring", "retired", "open-weights")


class UnknownModelError(ValueError):
    """``--model`` names no row of rules/models.toml (the message suggests the closest ids)."""


@cache
def _table(name: str) -> dict[str, Any]:
    text = resources.files("dataprep.rules").joinpath(name).read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True, slots=True)
class Formula:
    """How messages become tokens (see [counting.*] in rules/models.toml)."""

    name: str
    per_message: int
    per_name: int
    reply_priming: int
    count_all_strings: bool  # True: every string value (cookbook); False: content + tool calls


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    id: str
    name: str
    kind: str
    status: str
    notes: str
    source: str
    as_of: str
    new_jobs_stop: date | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    provider: str
    encoding: str
    encoding_exact: bool
    formula: str
    training_context: int
    status: str
    notes: str
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    price_per_1m_training_tokens_usd: float | None = None
    params_b: float | None = None
    price_as_of: str | None = None  # when the price was read (status may be newer: as_of)
    no_new_jobs_from: date | None = None  # retiring: new fine-tuning jobs refused from this day
    retires_on: date | None = None  # retiring: the model and its fine-tunes stop serving
    retired_on: date | None = None  # retired: the day it was shut

    @property
    def provider_spec(self) -> ProviderSpec:
        return providers()[self.provider]

    @property
    def hosted(self) -> bool:
        """A service trains it (billed per token, when a price is published); else GPU-hours."""
        return self.provider_spec.kind == "hosted"

    def is_retired(self, today: date | None = None) -> bool:
        """Retired by the table, or retiring with its retirement day reached."""
        if self.status == "retired":
            return True
        return self.retires_on is not None and (today or date.today()) >= self.retires_on

    def accepts_new_jobs(self, today: date | None = None) -> bool:
        """Whether a hosted service still takes a new fine-tuning job on this model today."""
        today = today or date.today()
        if self.is_retired(today):
            return False
        stop = self.no_new_jobs_from or self.provider_spec.new_jobs_stop
        return stop is None or today < stop

    def lifecycle_notice(self, today: date | None = None) -> str | None:
        """One sentence for a retiring or retired model (None when it is neither)."""
        today = today or date.today()
        src = f"({self.source.split(' ; ')[0]}, as of {self.as_of})"
        if self.is_retired(today):
            when = self.retired_on or self.retires_on
            return (f"{self.id} is retired (shut on {when.isoformat() if when else 'an earlier date'}): it can no "
                    f"longer be fine-tuned or served; pick an available or open-weights model {src}.")
        if self.status != "retiring":
            return None
        parts = []
        if self.no_new_jobs_from is not None:
            days = (self.no_new_jobs_from - today).days
            parts.append(f"no new fine-tuning jobs from {self.no_new_jobs_from.isoformat()}"
                         + (f" ({days} days left)" if days > 0 else " (already refused)"))
        if self.retires_on is not None:
            parts.append(f"the model and its fine-tunes retire on {self.retires_on.isoformat()} "
                         f"({(self.retires_on - today).days} days left)")
        return (f"{self.id} is retiring: {'; '.join(parts) or 'retirement announced'}. Plan on an open-weights "
                f"model (e.g. {default_model()}) or another hosted target {src}.")


def _date(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


@cache
def formula(name: str) -> Formula:
    raw = _table("models.toml")["counting"]
    if name not in raw:
        raise ValueError(f"unknown counting formula {name!r}; known: {', '.join(raw)}")
    r = raw[name]
    return Formula(
        name=name,
        per_message=int(r["per_message"]),
        per_name=int(r["per_name"]),
        reply_priming=int(r["reply_priming"]),
        count_all_strings=bool(r["count_all_strings"]),
    )


@cache
def providers() -> dict[str, ProviderSpec]:
    out = {}
    for r in _table("models.toml")["provider"]:
        out[r["id"]] = ProviderSpec(
            id=r["id"],
            name=r["name"],
            kind=r["kind"],
            status=r["status"],
            notes=" ".join(r.get("notes", "").split()),
            source=r["source"],
            as_of=str(r["as_of"]),
            new_jobs_stop=_date(r.get("new_jobs_stop")),
        )
    return out


@cache
def list_models() -> dict[str, ModelSpec]:
    """Every model row of rules/models.toml, keyed by canonical id, in table order."""
    out = {}
    for r in _table("models.toml")["model"]:
        price = r.get("price_per_1m_training_tokens_usd")
        params = r.get("params_b")
        if r["status"] not in STATUSES:
            raise ValueError(f"rules/models.toml: model {r['id']}: status {r['status']!r} is not one of "
                             f"{', '.join(STATUSES)}")
        if r["status"] == "retiring" and "retires_on" not in r:
            raise ValueError(f"rules/models.toml: model {r['id']} is retiring but has no retires_on date")
        if r["status"] == "retired" and "retired_on" not in r:
            raise ValueError(f"rules/models.toml: model {r['id']} is retired but has no retired_on date")
        out[r["id"]] = ModelSpec(
            id=r["id"],
            provider=r["provider"],
            encoding=r["encoding"],
            encoding_exact=bool(r.get("encoding_exact", True)),
            formula=r["formula"],
            training_context=int(r["training_context"]),
            status=r["status"],
            notes=r.get("notes", ""),
            source=r["source"],
            as_of=str(r["as_of"]),
            aliases=tuple(r.get("aliases", ())),
            price_per_1m_training_tokens_usd=None if price is None else float(price),
            params_b=None if params is None else float(params),
            price_as_of=None if r.get("price_as_of") is None else str(r["price_as_of"]),
            no_new_jobs_from=_date(r.get("no_new_jobs_from")),
            retires_on=_date(r.get("retires_on")),
            retired_on=_date(r.get("retired_on")),
        )
    return out


def default_model() -> str:
    return _table("models.toml")["default_model"]


@cache
def models_table_digest() -> str:
    """SHA-256 (first 16 hex digits) of rules/models.toml: what a cached token count depends on
    besides the file (the default model, each row's vocabulary and formula)."""
    import hashlib

    data = resources.files("dataprep.rules").joinpath("models.toml").read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


def suggest_models(name: str, n: int = 3) -> list[str]:
    """The ids (or aliases, reported as their ids) closest to a misspelt ``name`` (difflib)."""
    import difflib

    models = list_models()
    names: dict[str, str] = {}
    for m in models.values():
        names.setdefault(m.id.lower(), m.id)
        for a in m.aliases:
            names.setdefault(a.lower(), m.id)
    out: list[str] = []
    for hit in difflib.get_close_matches(name.strip().lower(), list(names), n=n * 2, cutoff=0.6):
        if names[hit] not in out:
            out.append(names[hit])
    return out[:n]


def get_model(name: str | None = None) -> ModelSpec:
    """Look a model up by id, alias (case-insensitive) or fine-tuned id ``ft:<base>:org::id``.

    Raises :class:`UnknownModelError` listing the known ids.
    """
    models = list_models()
    key = (name or default_model()).strip()
    if key.startswith("ft:"):  # ft:gpt-4o-mini-2024-07-18:org:suffix:id -> its base model
        key = key.split(":")[1]
    if key in models:
        return models[key]
    low = key.lower()
    for m in models.values():
        if m.id.lower() == low or low in (a.lower() for a in m.aliases):
            return m
    close = suggest_models(key)
    if close:
        raise UnknownModelError(f"unknown model {name!r}; did you mean {' or '.join(repr(c) for c in close)}? "
                                f"(every id: rules/models.toml)")
    raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(models)} (table: rules/models.toml)")


@dataclass(frozen=True, slots=True)
class EpochRules:
    target_epochs: int
    min_target_examples: int
    max_target_examples: int
    min_default_epochs: int
    max_default_epochs: int
    source: str
    as_of: str


@cache
def epoch_rules() -> EpochRules:
    r = _table("epochs.toml")
    return EpochRules(
        target_epochs=int(r["target_epochs"]),
        min_target_examples=int(r["min_target_examples"]),
        max_target_examples=int(r["max_target_examples"]),
        min_default_epochs=int(r["min_default_epochs"]),
        max_default_epochs=int(r["max_default_epochs"]),
        source=r["source"],
        as_of=str(r["as_of"]),
    )


@dataclass(frozen=True, slots=True)
class ThroughputTable:
    methods: tuple[str, ...]
    default_method: str
    reference_gpu: str
    source: str
    as_of: str
    buckets: tuple[dict[str, Any], ...] = field(default=())

    def tokens_per_second(self, params_b: float, method: str | None = None) -> tuple[float, str]:
        """(tokens/s per GPU, bucket name) for a model of ``params_b`` billion parameters."""
        m = method or self.default_method
        if m not in self.methods:
            raise ValueError(f"unknown training method {m!r}; known: {', '.join(self.methods)}")
        for b in self.buckets:
            if params_b <= b["max_params_b"]:
                return float(b[m]), b["name"]
        raise ValueError(
            f"no throughput bucket for a {params_b:g}B-parameter model in rules/gpu_throughput.toml "
            f"(largest: {self.buckets[-1]['name']}); give the throughput explicitly"
        )


@cache
def gpu_throughput() -> ThroughputTable:
    r = _table("gpu_throughput.toml")
    buckets = tuple(sorted(r["bucket"], key=lambda b: b["max_params_b"]))
    return ThroughputTable(
        methods=tuple(r["methods"]),
        default_method=r["default_method"],
        reference_gpu=r["reference_gpu"],
        source=r["source"],
        as_of=str(r["as_of"]),
        buckets=buckets,
    )
