"""Training targets: judge a dataset by the rules of the place it will train (``--target NAME``).

A target is data, one TOML file per place under ``rules/targets/`` (``openai``, ``azure``,
``together``, ``fireworks``, ``vertex``, ``bedrock-nova``, ``trl``, ``axolotl``, ``llamafactory``,
``mistral``), or any TOML file with the same keys. This module is the one place targets are read.

Keys of a target file (all dated and sourced; the facts are the project's reference PROVIDERS.md):

* ``name``, ``title``, ``kind`` (hosted | trainer), ``status`` (available | open-weights |
  winding-down | deprecated), ``no_new_jobs_from`` (a date, winding-down targets), ``as_of`` (when
  the facts were read), ``sources`` (URLs).
* ``models``: rows of rules/models.toml this target trains (never a retired one); the first is
  the model whose training context DP400 checks and ``tokens`` counts with when none is given.
* ``formats``: the dataset formats (``dataprep.checks.formats``) the target reads as they are;
  ``convert_to``: the ``dataprep convert --to`` shape that makes a file readable for it.
* ``roles``: the message roles it takes; ``alternation``: the turn order it demands (``none``;
  ``system-first``: a system message only first; ``strict``: system first, then user and assistant
  alternate, tool results only after a call; ``llamafactory``: LLaMA-Factory's converter, which
  silently skips rows that are not user/assistant pairs).
* ``bom``: ``warn`` (a byte-order mark is flagged, DP106) or ``required`` (a missing one is DP701).
* ``reserved_strings`` (Bedrock Nova's, DP707), ``tool_call_id_length`` (Mistral's 9, DP706),
  ``max_length`` (a trainer's default truncation length: TRL's 1024, read by ``tokens``).
* ``[limits]``: ``min_examples`` (DP109), ``max_examples`` (DP702), ``max_file_bytes`` (DP107),
  ``max_images_per_example``, ``max_image_bytes``.
* ``[severity]``: rule id -> error | warning | info | off. The rule ids stay the catalog's; a
  target only changes which fire and how hard, and adds its own DP7xx rules.
* ``[unverified]``: rule id -> why its basis is not confirmed. Such a rule is at most a warning
  (a file that breaks it is never failed on a guess) and its message says UNVERIFIED.

``apply_target(findings, target, profile)`` turns the findings of one scanned file into the
target's: re-graded, dropped, and with the target's own rules added, each naming the target, its
date and its first source. The precedence of where a target comes from is: the command line, then
the project config (``dataprep.toml`` or ``[tool.dataprep]`` in ``pyproject.toml`` in the current
directory), then the preset's ``target``; with none of them, no target is applied and the findings
are today's (OpenAI's chat format as the lingua franca, no retired model named).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dataprep.checks import formats as F
from dataprep.schema.catalog import all_rules, get_rule
from dataprep.schema.findings import Finding, Severity

__all__ = ["Target", "TargetError", "apply_target", "builtin_targets", "choose_target", "load_target",
           "project_target"]

SEVERITIES = ("error", "warning", "info", "off")
STATUSES = ("available", "open-weights", "winding-down", "deprecated")
ALTERNATIONS = ("none", "system-first", "strict", "llamafactory")
ROLE_LETTERS = {"s": "system", "d": "developer", "u": "user", "a": "assistant", "t": "tool", "f": "function"}
KEYS = {"name": str, "title": str, "kind": str, "status": str, "no_new_jobs_from": (str, date), "as_of": (str, date),
        "sources": list, "models": list, "formats": list, "convert_to": str, "roles": list, "alternation": str, "bom": str,
        "reserved_strings": bool, "tool_call_id_length": int, "max_length": int, "limits": dict,
        "severity": dict, "unverified": dict}
LIMIT_KEYS = ("min_examples", "max_examples", "max_file_bytes", "max_images_per_example", "max_image_bytes")


class TargetError(ValueError):
    """A target that cannot be used (unknown name, bad file); ``str()`` says which and what to do."""


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    kind: str
    status: str
    as_of: str
    sources: tuple[str, ...]
    formats: frozenset[str]
    roles: frozenset[str]
    alternation: str = "none"
    bom: str = "warn"
    convert_to: str = ""
    no_new_jobs_from: str = ""
    reserved_strings: bool = False
    tool_call_id_length: int = 0
    max_length: int | None = None
    models: tuple[str, ...] = ()
    limits: dict = field(default_factory=dict)
    severity: dict = field(default_factory=dict)  # rule id -> error|warning|info|off
    unverified: dict = field(default_factory=dict)  # rule id -> why it is not confirmed
    path: str = ""

    @property
    def cite(self) -> str:
        """What each of the target's findings ends with: whose rule, read when, where."""
        return f"[{self.name} rule, as of {self.as_of}: {self.sources[0]}]"

    def rule_severity(self, rule: str) -> Severity | None:
        """The target's severity of ``rule`` (catalog default if it sets none; None: off)."""
        v = self.severity.get(rule)
        if v is None:
            return all_rules()[rule].severity
        return None if v == "off" else Severity(v)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "status": self.status, "as_of": self.as_of,
                "sources": list(self.sources), "formats": sorted(self.formats), "limits": dict(self.limits),
                "severity": dict(self.severity), "unverified": dict(self.unverified)}


# --------------------------------------------------------------------------------------------- loading

def _builtin_dir():
    return resources.files("dataprep.rules").joinpath("targets")


def builtin_targets() -> list[str]:
    """Names of the built-in targets."""
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def load_target(spec: str | Path | Target) -> Target:
    """A built-in target by name (``together``) or a target TOML file; raises TargetError."""
    if isinstance(spec, Target):
        return spec
    return _load(str(spec))


@lru_cache(maxsize=64)
def _load(spec: str) -> Target:
    if "/" not in spec and "\\" not in spec and not spec.endswith(".toml"):
        if spec not in builtin_targets():
            raise TargetError(f"unknown target {spec!r}; the built-in targets are {', '.join(builtin_targets())} "
                              "(or give a target TOML file)")
        res = _builtin_dir().joinpath(spec + ".toml")
        return _parse(str(res), res.read_text("utf-8"))
    p = Path(spec)
    try:
        return _parse(str(p), p.read_text("utf-8"))
    except FileNotFoundError:
        raise TargetError(f"no such target file: {spec}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TargetError(f"cannot read target file {spec}: {e}") from None


def _parse(path: str, text: str) -> Target:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path}: invalid TOML: {e}") from None

    def fail(msg: str):
        raise TargetError(f"{path}: {msg}")

    for k, v in raw.items():
        if k not in KEYS:
            fail(f"unknown key {k!r} (known: {', '.join(KEYS)})")
        if not isinstance(v, KEYS[k]) or (KEYS[k] is int and isinstance(v, bool)):
            fail(f"{k!r} has the wrong type ({type(v).__name__})")
    for k in ("name", "title", "status", "as_of", "sources"):
        if k not in raw:
            fail(f"{k!r} is missing (every target names itself, its status, its date and its sources)")
    if not raw["sources"] or not all(isinstance(s, str) and s for s in raw["sources"]):
        fail("'sources' must list at least one URL or document")
    if raw["status"] not in STATUSES:
        fail(f"status must be one of {', '.join(STATUSES)}, not {raw['status']!r}")
    alt = raw.get("alternation", "none")
    if alt not in ALTERNATIONS:
        fail(f"alternation must be one of {', '.join(ALTERNATIONS)}, not {alt!r}")
    if raw.get("bom", "warn") not in ("warn", "required"):
        fail(f"bom must be \"warn\" or \"required\", not {raw['bom']!r}")
    known_formats = set(F.LABELS) - {F.UNKNOWN}
    for f in raw.get("formats", []):
        if f not in known_formats:
            fail(f"unknown format {f!r} in formats (known: {', '.join(sorted(known_formats))})")
    for r in raw.get("roles", []):
        if r not in ROLE_LETTERS.values():
            fail(f"unknown role {r!r} in roles (known: {', '.join(ROLE_LETTERS.values())})")
    for k, v in raw.get("limits", {}).items():
        if k not in LIMIT_KEYS:
            fail(f"unknown key {k!r} in [limits] (known: {', '.join(LIMIT_KEYS)})")
        if type(v) is not int or v < 0:
            fail(f"[limits] {k} must be a whole number >= 0, not {v!r}")
    sev: dict[str, str] = {}
    for k, v in raw.get("severity", {}).items():
        try:
            rid = get_rule(k).id
        except KeyError:
            fail(f"unknown rule {k!r} in [severity] (`dataprep rules` lists them)")
        if v not in SEVERITIES:
            fail(f"[severity] {k} must be one of {', '.join(SEVERITIES)}, not {v!r}")
        if rid in ("DP100", "DP199"):
            fail(f"[severity] {k}: unreadable input and failed analyses always count; a target cannot change them")
        sev[rid] = v
    unv: dict[str, str] = {}
    for k, v in raw.get("unverified", {}).items():
        try:
            rid = get_rule(k).id
        except KeyError:
            fail(f"unknown rule {k!r} in [unverified]")
        if not isinstance(v, str) or not v:
            fail(f"[unverified] {k} must say why the rule is not confirmed")
        # Fail closed the other way too: an unconfirmed rule never fails a file.
        if (sev.get(rid) or all_rules()[rid].severity.value) == "error":
            fail(f"[unverified] {k} is not confirmed, so it may be at most a warning; set [severity] {k} = "
                 "\"warning\"")
        unv[rid] = v
    models = []
    for m in raw.get("models", []):
        from dataprep.tokens.models import UnknownModelError, get_model

        try:
            row = get_model(m)
        except (UnknownModelError, KeyError, ValueError):
            fail(f"unknown model {m!r} in models (rules/models.toml lists the known ones)")
        if row.status == "retired":  # nobody is told to train on a model that is gone
            fail(f"model {m!r} is retired (rules/models.toml); list models the target still trains")
        models.append(row.id)
    limits = dict(raw.get("limits", {}))
    limits.setdefault("min_examples", 1)
    asof = raw["as_of"]
    stop = raw.get("no_new_jobs_from", "")
    return Target(
        name=raw["name"], title=raw["title"], kind=raw.get("kind", "hosted"), status=raw["status"],
        as_of=asof.isoformat() if isinstance(asof, date) else asof, sources=tuple(raw["sources"]),
        formats=frozenset(raw.get("formats", [])), roles=frozenset(raw.get("roles", ROLE_LETTERS.values())),
        alternation=alt, bom=raw.get("bom", "warn"), convert_to=raw.get("convert_to", ""),
        no_new_jobs_from=stop.isoformat() if isinstance(stop, date) else stop,
        reserved_strings=raw.get("reserved_strings", False), tool_call_id_length=raw.get("tool_call_id_length", 0),
        max_length=raw.get("max_length") or None, models=tuple(models), limits=limits, severity=sev, unverified=unv, path=path)


def project_target(cwd: str | Path | None = None) -> str | None:
    """``target`` from ``dataprep.toml`` or ``[tool.dataprep]`` of ``pyproject.toml`` in ``cwd``."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    for name, section in (("dataprep.toml", ()), ("pyproject.toml", ("tool", "dataprep"))):
        p = base / name
        if not p.is_file():
            continue
        try:
            data = tomllib.loads(p.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise TargetError(f"{p}: cannot read the project config: {e}") from None
        for key in section:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        t = data.get("target") if isinstance(data, dict) else None
        if t is None:
            continue
        if not isinstance(t, str) or not t:
            raise TargetError(f"{p}: target must be a target name such as \"trl\", not {t!r}")
        # A path in the config is relative to the config's directory, not to where one runs.
        if ("/" in t or t.endswith(".toml")) and not Path(t).is_absolute():
            t = str(base / t)
        return t
    return None


def choose_target(cli: str | None = None, preset_target: str | None = None, *,
                  cwd: str | Path | None = None) -> Target | None:
    """The target by precedence: command line, project config, preset; None when none names one."""
    spec = cli or project_target(cwd) or preset_target
    return load_target(spec) if spec else None


# --------------------------------------------------------------------------------------------- applying

def _copy(f: Finding) -> Finding:
    return Finding(f.rule, f.name, f.severity, f.path, f.line, f.message, f.column, f.pointer)


def _graded(target: Target, f: Finding) -> Finding | None:
    """``f`` at the target's severity, citing it; None when the target switches the rule off."""
    if f.rule not in target.severity and f.rule not in target.unverified:
        return f
    sev = target.rule_severity(f.rule)
    if sev is None:
        return None
    if f.rule in target.unverified and sev is Severity.ERROR:  # unreachable for a loaded target; belt and braces
        sev = Severity.WARNING
    f.severity = sev
    from dataprep.checks.targets import cited

    f.message = cited(target, f.rule, f.message)
    return f


def apply_target(findings: list[Finding], target: Target | None, profile) -> list[Finding]:
    """The findings of one scanned file (``profile``) as ``target`` judges them (see the module doc).

    Returns new Finding objects (the profile's, possibly cached, are never changed). An
    unreadable file keeps its findings as they are: DP100 says it all.
    """
    if target is None:
        return list(findings)
    out = [_copy(f) for f in findings]
    if not profile.readable:
        return out
    from dataprep.checks.targets import file_findings, row_findings, text_findings

    path = out[0].path if out else profile.path  # validate renames a spooled stdin to "-"
    added = file_findings(profile, target, path)
    replaced = set()
    if profile.rows.height == profile.state.lines:  # line by line: the file limits are the target's now
        replaced |= {"DP107", "DP109", "DP110"}
        if profile.state.format not in target.formats and F.OPENAI_CHAT in target.formats \
                and any(f.rule == "DP110" for f in out):
            replaced.discard("DP110")  # the scan's own "convert to OpenAI chat" advice holds for this target
            added = [f for f in added if f is None or f.rule != "DP700"]
    if target.bom == "required":
        replaced.add("DP106")  # the target wants the mark: its presence is not a finding
    rows, covered = row_findings(profile, target, path)
    added += rows
    added += text_findings(profile, target, path)
    kept = []
    for f in out:
        if f.rule in replaced or (f.rule == "DP215" and f.line in covered):
            continue  # recomputed for the target, or explained by its own turn-order rule on this line
        g = _graded(target, f)
        if g is not None:
            kept.append(g)
    kept += [f for f in added if f is not None]
    kept.sort(key=lambda f: (f.line, f.rule))
    return kept
