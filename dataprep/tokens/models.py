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
    "ThroughputTable",
    "UnknownModelError",
    "default_model",
    "epoch_rules",
    "formula",
    "get_model",
    "gpu_throughput",
    "list_models",
    "providers",
]


class UnknownModelError(ValueError):
    """``--model`` names no row of rules/models.toml."""


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

    @property
    def provider_spec(self) -> ProviderSpec:
        return providers()[self.provider]

    @property
    def hosted(self) -> bool:
        return self.price_per_1m_training_tokens_usd is not None


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
        )
    return out


def default_model() -> str:
    return _table("models.toml")["default_model"]


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
    raise UnknownModelError(
        f"unknown model {name!r}; known models: {', '.join(models)} "
        f"(table: rules/models.toml)"
    )


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
