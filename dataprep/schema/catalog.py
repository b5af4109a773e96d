"""The rule catalog (RULES.md) as data: ids, names, default severities, docs and examples.

The catalog itself lives in ``catalog.toml`` beside this module so that docs and examples are
edited as text, not code. Ids are a public contract: never renumber, only add.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from dataprep.schema.severity import Severity

THRESHOLD_KINDS = ("share", "int", "bool", "languages")
THRESHOLD_OPS = ("<=", ">=")


@dataclass(frozen=True, slots=True)
class ThresholdSpec:
    """What a preset threshold key means (a ``[[rule.threshold]]`` table of the catalog)."""

    key: str
    kind: str  # share | int | bool | languages
    rule: str | None  # the rule a failure reports under; None: a parameter of another threshold
    op: str  # "<=": measured must not exceed the limit; ">=": must reach it; "": not compared
    label: str
    doc: str
    parameter_of: str | None = None  # the threshold this parameter belongs to
    default: object = None  # a parameter's value when no preset sets it


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str  # when it fires, one line
    doc: str  # why this is bad, one paragraph
    bad: str  # an example that triggers it
    fixed: str  # the same example, fixed
    thresholds: tuple[ThresholdSpec, ...] = ()  # what presets may set for it (dataset-level rules)

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
            thresholds=tuple(_threshold(r["id"], t) for t in r.get("threshold", ())),
        )
    return dict(sorted(rules.items()))


def _threshold(rule: str, t: dict) -> ThresholdSpec:
    """One ``[[rule.threshold]]`` table; a malformed one is a packaging bug, named precisely."""
    where = f"catalog.toml {rule} threshold {t.get('key')!r}"
    if t.get("kind") not in THRESHOLD_KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(THRESHOLD_KINDS)}, not {t.get('kind')!r}")
    if "parameter_of" in t:
        return ThresholdSpec(t["key"], t["kind"], None, "", "", t["doc"], t["parameter_of"], t.get("default"))
    if t.get("op") not in THRESHOLD_OPS:
        raise ValueError(f"{where}: op must be \"<=\" or \">=\", not {t.get('op')!r}")
    return ThresholdSpec(t["key"], t["kind"], rule, t["op"], t["label"], t["doc"], None, t.get("default"))


@lru_cache(maxsize=1)
def all_thresholds() -> dict[str, ThresholdSpec]:
    """Every threshold key a preset may set, from the catalog, in rule id order."""
    return {t.key: t for r in all_rules().values() for t in r.thresholds}


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
