"""Token and cost analysis of a scanned Profile: the estimate plus DP400/DP401 findings.

With an exact counter (``dataprep.tokens.exact``: the model's chat template, or mistral-common)
the valid examples are re-counted as the trainer renders them and the estimate uses those counts;
``max_length`` lists the examples a trainer cutting at that length would truncate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    max_length: int | None = None  # the trainer's cut (--max-length); None: not asked
    exact: Any = None  # dataprep.tokens.exact.ExactReport when counted through the chat template

    @property
    def over_max_length(self) -> list[int]:
        """Lines of the examples longer than ``max_length`` (a trainer truncates them silently)."""
        if self.max_length is None:
            return []
        return self.lines[self.tokens > self.max_length].tolist()

    def to_dict(self) -> dict:
        d = self.estimate.to_dict(lines=self.lines)
        out = {"path": self.path, **d}
        if self.max_length is not None:
            out["max_length"] = self.max_length
            out["over_max_length"] = self.over_max_length
        if self.exact is not None:
            out["exact"] = self.exact.to_dict()
        return out


def analyze(profile, *, model: str | None = None, epochs: int | None = None, budget: int | None = None,
            gpu_price: float | None = None, method: str | None = None, tokenizer: str | None = None,
            max_length: int | None = None, exact: Any = None) -> TokensReport:
    """Estimate training tokens and cost over the profile's valid examples.

    Invalid lines are left out: the provider would reject them, so they are never billed.
    ``exact``: a counter from :func:`dataprep.tokens.exact.exact_counter` (its ``max_length`` is
    the trainer's cut); the estimate then uses its per-example counts.
    """
    profile.require("tokens", "the token and cost estimate")
    profile.require("content", "the token and cost estimate (it bills valid examples only)")
    rows = profile.rows
    ex = rows.filter(pl.col("is_example") & pl.col("valid")) if rows.height else rows
    lines = ex["line"].to_numpy() if ex.height else np.zeros(0, np.int64)
    tokens = ex["tokens_total"].to_numpy() if ex.height else np.zeros(0, np.int64)
    trainable = ex["tokens_trainable"].to_numpy() if ex.height else np.zeros(0, np.int64)
    exact_report = None
    if exact is not None:
        from dataprep.tokens.exact import count_file

        exact_report = count_file(profile.path, lines, tokens, trainable, exact)
        tokens, trainable = exact_report.totals, exact_report.trainable
        if max_length is None:
            max_length = exact.max_length
    est = estimate(tokens, model or profile.options.model, epochs, budget, trainable_tokens=trainable,
                   gpu_price=gpu_price, method=method, tokenizer=tokenizer or profile.options.tokenizer)
    sink = Sink(profile.path)
    for i in est.over_limit:
        sink.add("DP400", f"{int(tokens[i]):,} tokens; {est.model} trains on at most {est.context_limit:,} per "
                 "example, the rest is truncated. Shorten or split it", line=int(lines[i]))
    if est.over_budget and budget is not None:
        sink.add("DP401", f"{est.charged_tokens:,} billed tokens ({est.epochs} epochs x {est.billed_tokens:,}) "
                 f"exceed the budget of {budget:,}", line=0)
    return TokensReport(profile.path, est, lines, tokens, sink.findings, max_length, exact_report)
