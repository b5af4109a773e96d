"""Provider limits from rules/limits.toml (never hard-coded in Python)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


@cache
def provider_limits(provider: str = "openai") -> dict:
    table = tomllib.loads(resources.files("dataprep.rules").joinpath("limits.toml").read_text("utf-8"))
    if provider not in table:
        raise KeyError(f"unknown provider {provider!r} in rules/limits.toml; known: {', '.join(sorted(table))}")
    return table[provider]
