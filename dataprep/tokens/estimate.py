"""Epochs, billed tokens, cost and GPU-hours for a dataset's per-example token counts.

All constants come from rules/ (models.toml, epochs.toml, gpu_throughput.toml); the arithmetic
is numpy over the per-example arrays.

- epochs: ``--epochs N`` or the cookbook's default heuristic (:func:`default_epochs`).
- billed tokens (per epoch) = sum over examples of ``min(context_limit, tokens)``: the service
  truncates an example at the model's training context and bills what it trains on.
- charged tokens = epochs x billed tokens; hosted cost = charged tokens x price per 1M / 1e6.
- open models: GPU-hours = charged tokens / (tokens/s per GPU) / 3600, with the throughput of
  the model's size bucket and the training method (gpu_throughput.toml); a cost only when a GPU
  price per hour is given (there is no default).
- budget (DP401): a limit on charged tokens (epochs x billed tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from dataprep.tokens.models import ModelSpec, epoch_rules, get_model, gpu_throughput

__all__ = ["Estimate", "default_epochs", "estimate", "render_histogram"]


def default_epochs(n: int) -> int:
    """The OpenAI cookbook's default epoch count for ``n`` training examples (rules/epochs.toml).

    ``n * target < min_target`` → ``min(max_default, min_target // n)``;
    ``n * target > max_target`` → ``max(min_default, max_target // n)``; else ``target``.
    ``n == 0`` is taken as the limit n → 0+: ``max_default``.
    """
    r = epoch_rules()
    n = int(n)
    if n < 0:
        raise ValueError(f"number of examples must be >= 0, got {n}")
    if n == 0:
        return r.max_default_epochs
    if n * r.target_epochs < r.min_target_examples:
        return min(r.max_default_epochs, r.min_target_examples // n)
    if n * r.target_epochs > r.max_target_examples:
        return max(r.min_default_epochs, r.max_target_examples // n)
    return r.target_epochs


@dataclass(slots=True)
class Estimate:
    """What training on a dataset will cost, for one model."""

    model: str
    provider: str
    examples: int
    total_tokens: int
    trainable_tokens: int | None
    max_example_tokens: int
    over_limit: np.ndarray  # 0-based indices into the input array, tokens > context_limit
    context_limit: int
    epochs: int
    epochs_default: bool  # True when the cookbook heuristic chose `epochs`
    billed_tokens: int  # per epoch, each example truncated at context_limit
    charged_tokens: int  # epochs x billed_tokens
    price_per_1m_training_tokens_usd: float | None
    estimated_cost_usd: float | None  # hosted: price; open: GPU cost when a GPU price is given
    gpu_hours: float | None = None
    gpu_method: str | None = None
    gpu_tokens_per_second: float | None = None
    gpu_bucket: str | None = None
    gpu_price_per_hour_usd: float | None = None
    budget: int | None = None
    over_budget: bool = False
    price_as_of: str = ""
    price_source: str = ""
    warnings: list[str] = field(default_factory=list)

    def over_limit_lines(self, lines: Any = None) -> list[int]:
        """Over-limit examples as 1-based line numbers: ``lines[i]`` for each index when the
        caller gives the line number of every counted example, else ``i + 1``."""
        if lines is None:
            return (self.over_limit + 1).tolist()
        return np.asarray(lines, dtype=np.int64)[self.over_limit].tolist()

    def to_dict(self, lines: Any = None) -> dict[str, Any]:
        """The ``tokens --json`` object for one file (DESIGN.md), plus extra keys."""

        def money(x: float | None) -> float | None:
            return None if x is None else round(float(x), 6)

        return {
            "examples": self.examples,
            "total_tokens": self.total_tokens,
            "trainable_tokens": self.trainable_tokens,
            "max_example_tokens": self.max_example_tokens,
            "over_limit": self.over_limit_lines(lines),
            "model": self.model,
            "context_limit": self.context_limit,
            "epochs": self.epochs,
            "billed_tokens": self.billed_tokens,
            "estimated_cost_usd": money(self.estimated_cost_usd),
            # extras
            "provider": self.provider,
            "epochs_default": self.epochs_default,
            "charged_tokens": self.charged_tokens,
            "price_per_1m_training_tokens_usd": self.price_per_1m_training_tokens_usd,
            "price_as_of": self.price_as_of,
            "price_source": self.price_source,
            "gpu_hours": None if self.gpu_hours is None else round(self.gpu_hours, 4),
            "gpu_method": self.gpu_method,
            "gpu_tokens_per_second": self.gpu_tokens_per_second,
            "gpu_price_per_hour_usd": self.gpu_price_per_hour_usd,
            "budget": self.budget,
            "over_budget": self.over_budget,
            "warnings": list(self.warnings),
        }


def _provider_warning(spec: ModelSpec, today: date) -> str | None:
    prov = spec.provider_spec
    if prov.status != "winding-down":
        return None
    stop = prov.new_jobs_stop
    if stop is None:
        return f"{prov.name} is winding down fine-tuning ({prov.source})."
    if today >= stop:
        when = f"new fine-tuning jobs stopped on {stop.isoformat()}"
    else:
        when = f"new fine-tuning jobs stop on {stop.isoformat()} ({(stop - today).days} days left)"
    return (
        f"{prov.name} self-serve fine-tuning is winding down: {when}; existing fine-tuned models "
        f"keep serving until their base model retires. Azure OpenAI and open-weight models are "
        f"alternatives ({prov.source}, as of {prov.as_of})."
    )


def estimate(
    examples_tokens: Any,
    model: str | ModelSpec | None = None,
    epochs: int | None = None,
    budget: int | None = None,
    *,
    trainable_tokens: Any = None,
    gpu_price: float | None = None,
    method: str | None = None,
    throughput: float | None = None,
    tokenizer: str | None = None,
    today: date | None = None,
) -> Estimate:
    """Estimate training tokens, epochs and cost.

    ``examples_tokens``: total tokens per example (1-D, e.g. ``TokenCounts.total`` of every valid
    line). ``trainable_tokens``: per-example array or a precomputed sum. ``budget``: limit on
    epochs x billed tokens. ``gpu_price`` (USD per GPU-hour), ``method`` (full|lora|qlora) and
    ``throughput`` (tokens/s per GPU, overrides the table) apply to open models. ``tokenizer``:
    the --tokenizer spec used for counting, if any (silences the stand-in-tokenizer warning).
    """
    spec = model if isinstance(model, ModelSpec) else get_model(model)
    tokens = np.asarray(examples_tokens, dtype=np.int64).reshape(-1)
    n = int(tokens.size)
    ctx = np.int64(spec.training_context)

    if epochs is None:
        n_epochs, is_default = default_epochs(n), True
    else:
        n_epochs, is_default = int(epochs), False
        if n_epochs < 1 or n_epochs != epochs:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")

    total = int(tokens.sum(dtype=np.int64))
    longest = int(tokens.max()) if n else 0
    over = np.flatnonzero(tokens > ctx)
    billed = int(np.minimum(tokens, ctx).sum(dtype=np.int64))
    charged = int(np.int64(n_epochs) * np.int64(billed))

    if trainable_tokens is None:
        trainable = None
    else:
        trainable = int(np.asarray(trainable_tokens, dtype=np.int64).sum(dtype=np.int64))

    warnings: list[str] = []
    day = today or date.today()
    life = spec.lifecycle_notice(day)  # retiring (with the dates) or retired: said first
    if life:
        warnings.append(life)
    w = None if spec.status == "retired" else _provider_warning(spec, day)
    if w:
        warnings.append(w)

    est = Estimate(
        model=spec.id,
        provider=spec.provider,
        examples=n,
        total_tokens=total,
        trainable_tokens=trainable,
        max_example_tokens=longest,
        over_limit=over,
        context_limit=int(ctx),
        epochs=n_epochs,
        epochs_default=is_default,
        billed_tokens=billed,
        charged_tokens=charged,
        price_per_1m_training_tokens_usd=spec.price_per_1m_training_tokens_usd,
        estimated_cost_usd=None,
        price_as_of=spec.price_as_of or spec.as_of,
        price_source=spec.source,
        budget=None if budget is None else int(budget),
        warnings=warnings,
    )

    if spec.hosted and spec.price_per_1m_training_tokens_usd is None:
        warnings.append(
            f"No cost: {spec.provider_spec.name} publishes no training price dataprep could verify for "
            f"{spec.id} (UNVERIFIED; {spec.provider_spec.source}, as of {spec.as_of}). Tokens and epochs "
            f"above are estimates; ask the provider for the price.")
    elif spec.hosted:
        price = np.float64(spec.price_per_1m_training_tokens_usd)
        est.estimated_cost_usd = float(np.float64(charged) * price / np.float64(1e6))
        warnings.append(
            f"Estimate only: counts follow the OpenAI cookbook formula (tool definitions as "
            f"compact JSON, images not counted); the service's own count may differ. Price "
            f"{spec.price_per_1m_training_tokens_usd:g} USD per 1M training tokens as of "
            f"{spec.price_as_of or spec.as_of} ({spec.source})."
        )
    else:
        table = gpu_throughput()
        if throughput is not None:
            tps, bucket = float(throughput), "given"
            est.gpu_method = method or table.default_method
        else:
            if spec.params_b is None:
                raise ValueError(f"model {spec.id} has no params_b in rules/models.toml")
            tps, bucket = table.tokens_per_second(spec.params_b, method)
            est.gpu_method = method or table.default_method
        est.gpu_tokens_per_second = tps
        est.gpu_bucket = bucket
        est.gpu_hours = float(np.float64(charged) / np.float64(tps) / np.float64(3600.0))
        if gpu_price is not None:
            est.gpu_price_per_hour_usd = float(gpu_price)
            est.estimated_cost_usd = float(np.float64(est.gpu_hours) * np.float64(gpu_price))
        else:
            warnings.append("No --gpu-price given: reporting GPU-hours only, no cost.")
        warnings.append(
            f"Estimate only: GPU-hours assume {tps:g} tokens/s per GPU ({est.gpu_method}, "
            f"{bucket} bucket, {table.reference_gpu}; {table.source}, as of {table.as_of}). "
            f"Measure your own setup for a real budget."
        )
    if not spec.encoding_exact and tokenizer is None:
        warnings.append(
            f"Token counts use {spec.encoding} as a stand-in for {spec.id}'s own tokenizer; "
            f"pass --tokenizer path/to/model-dir (tokenizer.json + tokenizer_config.json) for exact counts."
        )

    if over.size:
        warnings.append(
            f"{over.size} example(s) exceed the {int(ctx):,}-token training context of {spec.id} "
            f"and will be truncated (DP400)."
        )
    if budget is not None and charged > int(budget):
        est.over_budget = True
        warnings.append(
            f"{charged:,} training tokens (epochs x billed) exceed the budget of {int(budget):,} (DP401)."
        )
    return est


def render_histogram(
    tokens: Any, context_limit: int | None = None, *, width: int = 40, plain: bool = False
) -> str:
    """A terminal histogram of example lengths on power-of-two bins, with the context limit
    marked by a separator line (examples below it fit, the ones after it are truncated).

    Returns plain text (no markup); ``plain=True`` uses ASCII only.
    """
    t = np.asarray(tokens, dtype=np.int64).reshape(-1)
    if t.size == 0:
        return "no examples"
    mn, mx = int(t.min()), int(t.max())
    if mn <= 0:
        edges = [0, 1]
    else:
        edges = [1 << int(np.floor(np.log2(mn)))]
    while edges[-1] <= mx:
        edges.append(edges[-1] * 2)
    limit_edge = None
    if context_limit is not None:
        limit_edge = int(context_limit) + 1  # bins are [a, b); over the limit means > limit
        if edges[0] < limit_edge < edges[-1]:
            # a power-of-two edge right next to the limit (4,096 vs 4,097) would leave a
            # one-token bin: move that edge onto the limit instead
            near = [e for e in edges[1:-1] if abs(e - limit_edge) * 50 <= limit_edge]
            edges = sorted((set(edges) - set(near)) | {limit_edge})
    counts, _ = np.histogram(t, bins=np.asarray(edges, dtype=np.int64))
    peak = max(int(counts.max()), 1)
    full, half = ("#", "+") if plain else ("\u2588", "\u258c")
    sep = "-" if plain else "\u2500"
    lw = len(f"{edges[-1] - 1:,}")
    marker = None if context_limit is None else f"{sep * 3} context limit {int(context_limit):,} tokens"
    rows = []
    if marker and limit_edge <= edges[0]:
        rows.append(f"{marker}: every example is over it {sep * 3}")
    for i, c in enumerate(counts):
        a, b = edges[i], edges[i + 1] - 1
        if marker and a == limit_edge:
            rows.append(f"{marker} {sep * 3}")
        halves = int(c * width * 2 // peak)
        bar = full * (halves // 2) + (half if halves % 2 else "")
        if c and not bar:
            bar = half
        rows.append(f"{a:>{lw},} - {b:>{lw},} | {bar:<{width}} {int(c):,}")
    if marker and limit_edge >= edges[-1]:
        rows.append(f"{marker}: every example fits (longest {mx:,}) {sep * 3}")
    return "\n".join(rows)
