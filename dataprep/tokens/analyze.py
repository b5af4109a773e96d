"""Token and cost analysis of a scanned Profile: the estimate plus DP400/DP401 findings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from dataprep.checks.base import Sink
from dataprep.schema.findings import Finding
from dataprep.tokens.estimate import Estimate, estimate


@dataclass
class TokensReport:
    path: str
    estimate: Estimate
    lines: np.ndarray  # 1-based line of each counted example
    tokens: np.ndarray  # total tokens of each counted example
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.estimate.to_dict(lines=self.lines)
        return {"path": self.path, **d}


def analyze(profile, *, model: str | None = None, epochs: int | None = None, budget: int | None = None,
            gpu_price: float | None = None, method: str | None = None, tokenizer: str | None = None) -> TokensReport:
    """Estimate training tokens and cost over the profile's valid examples.

    Invalid lines are left out: the provider would reject them, so they are never billed.
    """
    profile.require("tokens", "the token and cost estimate")
    profile.require("content", "the token and cost estimate (it bills valid examples only)")
    rows = profile.rows
    ex = rows.filter(pl.col("is_example") & pl.col("valid")) if rows.height else rows
    lines = ex["line"].to_numpy() if ex.height else np.zeros(0, np.int64)
    tokens = ex["tokens_total"].to_numpy() if ex.height else np.zeros(0, np.int64)
    trainable = ex["tokens_trainable"].to_numpy() if ex.height else np.zeros(0, np.int64)
    est = estimate(tokens, model or profile.options.model, epochs, budget, trainable_tokens=trainable,
                   gpu_price=gpu_price, method=method, tokenizer=tokenizer or profile.options.tokenizer)
    sink = Sink(profile.path)
    for i in est.over_limit:
        sink.add("DP400", f"{int(tokens[i]):,} tokens; {est.model} trains on at most {est.context_limit:,} per "
                 "example, the rest is truncated. Shorten or split it", line=int(lines[i]))
    if est.over_budget and budget is not None:
        sink.add("DP401", f"{est.charged_tokens:,} billed tokens ({est.epochs} epochs x {est.billed_tokens:,}) "
                 f"exceed the budget of {budget:,}", line=0)
    return TokensReport(profile.path, est, lines, tokens, sink.findings)
