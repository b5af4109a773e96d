"""The rule catalog (RULES.md) as data: ids, names, default severities, docs and examples.

The catalog itself lives in ``catalog.toml`` beside this module so that docs and examples are
edited as text, not code. Ids are a public contract: never renumber, only add.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from dataprep.schema.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str  # when it fires, one line
    doc: str  # why this is bad, one paragraph
    bad: str  # an example that triggers it
    fixed: str  # the same example, fixed

    @property
    def group(self) -> str:
        return self.id[:3] + "xx"


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule of the catalog, keyed by id, in id order."""
    raw = tomllib.loads(resources.files("dataprep.schema").joinpath("catalog.toml").read_text("utf-8"))
    rules = {}
    for r in raw["rule"]:
        rules[r["id"]] = Rule(
            id=r["id"],
            name=r["name"],
            severity=Severity(r["severity"]),
            summary=r["summary"],
            doc=r["doc"].strip(),
            bad=r["bad"].strip(),
            fixed=r["fixed"].strip(),
        )
    return dict(sorted(rules.items()))


def get_rule(key: str) -> Rule:
    """Look a rule up by id (``DP211``) or name (``invalid-tool-call``)."""
    rules = all_rules()
    k = key.strip()
    if k.upper() in rules:
        return rules[k.upper()]
    for r in rules.values():
        if r.name == k.lower():
            return r
    raise KeyError(f"unknown rule {key!r}; `dataprep rules` lists them all")
