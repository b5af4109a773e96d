"""Rule presets: TOML files that set rule severities, a volume tier and quality thresholds.

Built-in presets live in ``rules/presets/*.toml`` (openai, style, task, domain, strict); a user
preset is any TOML file with the same keys, usually ``extends = "task"`` plus a few overrides.

```toml
name = "my-team"
extends = "task"                  # a built-in name or a path relative to this file
model = "azure/gpt-4.1-mini-2025-04-14"  # whose training context DP400 checks (rules/models.toml)
target = "azure"                  # judge by this training target's rules (rules/targets/, dataprep.targets)
analysis_failure = "error"        # an analysis that crashes (DP199): "error" exits 2, "fail" exits 1

[volume]                          # DP600
tier = "task"
fail_below = 200                  # fewer valid examples: DP600 at the [rules] severity (error)
warn_below = 500                  # fewer: DP600 warning

[rules]                           # severity per rule id (or name): error | warning | info | off
DP303 = "error"

[thresholds]                      # each failed one is explained with its measured value and limit
max_duplicate_share = 0.05        # plain value: fails at the severity of its rule
min_distinct_2 = { value = 0.2, severity = "error" }   # or with its own severity
allowed_languages = ["en"]
token_budget = "off"              # "off" removes a threshold inherited through extends
```

Any mistake (bad TOML, unknown key, wrong type, unknown rule id, a cycle of ``extends``) raises
:class:`PresetError` naming the file, the key and its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from dataprep.schema.catalog import ThresholdSpec, all_rules, all_thresholds, get_rule
from dataprep.schema.findings import Severity

SEVERITY_VALUES = ("error", "warning", "info", "off")
DEFAULT_PRESET = "openai"


class PresetError(ValueError):
    """A preset that cannot be used; ``str()`` is ``file:line: message``."""

    def __init__(self, path: str, message: str, *, key: str | None = None, line: int | None = None):
        self.path = path
        self.key = key
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


# What each threshold key means (its kind, the rule it reports under, the comparison) is part of
# the rule catalog: a rule's [[rule.threshold]] tables in schema/catalog.toml.
THRESHOLDS: dict[str, ThresholdSpec] = all_thresholds()

TOP_KEYS = {"name": "string", "description": "string", "extends": "string", "source": "string",
            "as_of": "date", "model": "string", "target": "string", "analysis_failure": "string", "rules": "table", "thresholds": "table",
            "volume": "table"}
# A crashed analysis always fails the file (DP199); this only picks the exit code: "error" = 2
# (could not judge, as for unreadable input), "fail" = 1 (judged as failing, like any error).
ANALYSIS_FAILURE_VALUES = ("error", "fail")
VOLUME_KEYS = {"tier": "string", "fail_below": "int", "warn_below": "int"}


@dataclass(frozen=True)
class ThresholdSetting:
    key: str
    value: object
    severity: Severity | None  # None: the preset's severity of the threshold's rule
    source: str  # the file that set it


@dataclass(frozen=True)
class Volume:
    tier: str
    fail_below: int
    warn_below: int


@dataclass
class Preset:
    """A resolved preset (its ``extends`` chain merged, child over parent)."""

    name: str
    description: str = ""
    source: str = ""
    as_of: str = ""
    model: str | None = None
    target: str | None = None  # a training target (dataprep.targets): name or TOML path
    files: list[str] = field(default_factory=list)  # the chain, base first
    rules: dict[str, str] = field(default_factory=dict)  # rule id -> error|warning|info|off
    thresholds: dict[str, ThresholdSetting] = field(default_factory=dict)
    volume: Volume | None = None
    analysis_failure: str = "error"  # exit 2 (error) or 1 (fail) when an analysis crashed

    def severity(self, rule: str, default: Severity | None = None) -> Severity | None:
        """The preset's severity of ``rule`` (None when switched off)."""
        v = self.rules.get(rule)
        if v is None:
            return default if default is not None else all_rules()[rule].severity
        return None if v == "off" else Severity(v)

    def threshold(self, key: str):
        """The value this preset sets for ``key``, else the catalog's default (None: not set)."""
        s = self.thresholds.get(key)
        return THRESHOLDS[key].default if s is None else s.value

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "files": list(self.files),
            "model": self.model,
            **({"target": self.target} if self.target else {}),
            "analysis_failure": self.analysis_failure,
            "volume": None if self.volume is None else {"tier": self.volume.tier, "fail_below": self.volume.fail_below,
                                                          "warn_below": self.volume.warn_below},
            "rules": dict(self.rules),
            "thresholds": {k: (s.value if s.severity is None else {"value": s.value, "severity": s.severity.value})
                           for k, s in self.thresholds.items()},
        }


# --------------------------------------------------------------------------------------------- lookup

def _builtin_dir():
    return resources.files("dataprep.rules").joinpath("presets")


def builtin_presets() -> list[str]:
    """Names of the built-in presets."""
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def _resolve(spec: str, base: Path | None = None) -> tuple[str, str]:
    """(display path, text) of a preset given by built-in name or file path."""
    s = str(spec)
    if "/" not in s and "\\" not in s and not s.endswith(".toml") and s in builtin_presets():
        res = _builtin_dir().joinpath(s + ".toml")
        return str(res), res.read_text("utf-8")
    p = Path(s)
    if base is not None and not p.is_absolute():
        p = base / p
    if not p.is_file():
        raise FileNotFoundError(s)
    try:
        return str(p), p.read_text("utf-8")
    except UnicodeDecodeError as e:
        raise PresetError(str(p), f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def load_preset(spec: str | Path | Preset | None = None) -> Preset:
    """A built-in preset by name (``task``) or a TOML file, with its ``extends`` chain merged."""
    if isinstance(spec, Preset):
        return spec
    spec = DEFAULT_PRESET if spec is None else str(spec)
    try:
        path, text = _resolve(spec)
    except FileNotFoundError:
        raise PresetError(spec, f"no such preset: not a built-in ({', '.join(builtin_presets())}) "
                          "and no such file") from None
    except OSError as e:
        raise PresetError(spec, f"cannot read: {e.strerror or e}") from None
    return _load_chain(path, text, [])


def _load_chain(path: str, text: str, seen: list[str]) -> Preset:
    ident = str(Path(path).resolve()) if Path(path).exists() else path
    if ident in seen:
        chain = " -> ".join(Path(s).name for s in seen + [ident])
        raise PresetError(path, f"extends cycle: {chain}", key="extends", line=_key_line(text, None, "extends"))
    raw = _parse(path, text)
    parent = None
    ext = raw.get("extends")
    if ext is not None:
        try:
            ppath, ptext = _resolve(ext, Path(path).parent if Path(path).exists() else None)
        except FileNotFoundError:
            raise PresetError(path, f"extends {ext!r}: not a built-in preset ({', '.join(builtin_presets())}) "
                              "and no such file", key="extends", line=_key_line(text, None, "extends")) from None
        parent = _load_chain(ppath, ptext, seen + [ident])
    return _merge(parent, raw, path, text)


# --------------------------------------------------------------------------------------------- parsing

def _parse(path: str, text: str) -> dict:
    """One preset file, checked key by key (not merged yet)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in str(e):  # an unclosed array/table: point at the last line
            nonblank = [i for i, t in enumerate(text.splitlines(), 1) if t.strip()]
            line = nonblank[-1] if nonblank else 1
        msg = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(e))
        col = f", column {m.group(2)}" if m else ""
        raise PresetError(path, f"invalid TOML: {msg}{col}", line=line) from None

    def fail(key: str, table: str | None, msg: str):
        raise PresetError(path, msg, key=key if table is None else f"{table}.{key}", line=_key_line(text, table, key))

    out: dict = {}
    for key, val in data.items():
        if key not in TOP_KEYS:
            fail(key, None, f"unknown key {key!r} (known: {', '.join(TOP_KEYS)})")
        want = TOP_KEYS[key]
        if want == "table":
            if not isinstance(val, dict):
                fail(key, None, f"{key!r} must be a table ([{key}]), not {_tname(val)}")
        elif want == "date":
            if not isinstance(val, (str, date)):
                fail(key, None, f"{key!r} must be a date or a string, not {_tname(val)}")
            val = val.isoformat() if isinstance(val, date) else val
        elif not isinstance(val, str):
            fail(key, None, f"{key!r} must be a string, not {_tname(val)}")
        out[key] = val

    if "model" in out:
        from dataprep.tokens.models import UnknownModelError, get_model

        try:
            out["model"] = get_model(out["model"]).id
        except UnknownModelError:
            fail("model", None, f"unknown model {out['model']!r} (rules/models.toml lists the known ones)")

    if "target" in out:
        from dataprep.targets import TargetError, load_target

        t = out["target"]
        if ("/" in t or t.endswith(".toml")) and not Path(t).is_absolute() and Path(path).exists():
            t = str(Path(path).parent / t)  # a target file next to the preset, like extends
        try:
            load_target(t)
        except TargetError as e:
            fail("target", None, str(e))
        out["target"] = t

    if "analysis_failure" in out and out["analysis_failure"] not in ANALYSIS_FAILURE_VALUES:
        fail("analysis_failure", None, f"analysis_failure must be \"error\" (exit 2) or \"fail\" (exit 1), "
             f"not {out['analysis_failure']!r}")

    rules: dict[str, str] = {}
    for key, val in out.get("rules", {}).items():
        try:
            rid = get_rule(key).id
        except KeyError:
            fail(key, "rules", f"unknown rule {key!r} in [rules] (`dataprep rules` lists them)")
        if rid == "DP199" and val != "error":
            fail(key, "rules", "[rules] DP199 (analysis-failed) is always an error: a file whose checks did not "
                 "run cannot pass; set analysis_failure = \"fail\" for exit code 1 instead of 2")
        if not isinstance(val, str) or val not in SEVERITY_VALUES:
            fail(key, "rules", f"[rules] {key} must be one of {', '.join(map(repr, SEVERITY_VALUES))}, not {val!r}")
        rules[rid] = val
    out["rules"] = rules

    vol = out.get("volume", {})
    for key, val in vol.items():
        if key not in VOLUME_KEYS:
            fail(key, "volume", f"unknown key {key!r} in [volume] (known: {', '.join(VOLUME_KEYS)})")
        if VOLUME_KEYS[key] == "int" and (type(val) is not int or val < 0):
            fail(key, "volume", f"[volume] {key} must be a whole number >= 0, not {val!r}")
        if VOLUME_KEYS[key] == "string" and not isinstance(val, str):
            fail(key, "volume", f"[volume] {key} must be a string, not {_tname(val)}")

    ths: dict[str, ThresholdSetting | None] = {}
    for key, val in out.get("thresholds", {}).items():
        spec = THRESHOLDS.get(key)
        if spec is None:
            fail(key, "thresholds", f"unknown threshold {key!r} (known: {', '.join(THRESHOLDS)})")
        sev = None
        if isinstance(val, dict):
            extra = set(val) - {"value", "severity"}
            if extra or "value" not in val:
                fail(key, "thresholds", f"[thresholds] {key} as a table takes value and severity only"
                     + (f" (unknown: {', '.join(sorted(extra))})" if extra else " (value missing)"))
            s = val.get("severity")
            if s is not None:
                if s not in ("error", "warning", "info"):
                    fail(key, "thresholds", f"[thresholds] {key} severity must be error, warning or info, not {s!r}")
                if spec.rule is None:
                    fail(key, "thresholds", f"[thresholds] {key} is a parameter of {spec.parameter_of} and "
                         "takes no severity")
                sev = Severity(s)
            val = val["value"]
        if val == "off":
            ths[key] = None
            continue
        problem = _check_value(spec, val)
        if problem:
            fail(key, "thresholds", f"[thresholds] {key} {problem}")
        if spec.kind == "languages":
            val = [v.lower() for v in val]
        ths[key] = ThresholdSetting(key, val, sev, path)
    out["thresholds"] = ths
    return out


def _check_value(spec: ThresholdSpec, val) -> str | None:
    if spec.kind == "share":
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val <= 1:
            return f"must be a share between 0 and 1, not {val!r}"
    elif spec.kind == "int":
        if type(val) is not int or val <= 0:
            return f"must be a whole number > 0, not {val!r}"
    elif spec.kind == "bool":
        if not isinstance(val, bool):
            return f"must be true or false, not {val!r}"
    elif spec.kind == "languages":
        if not isinstance(val, list) or not val or not all(isinstance(v, str) and v for v in val):
            return f"must be a non-empty list of language codes like [\"en\", \"de\"], not {val!r}"
    return None


def _merge(parent: Preset | None, raw: dict, path: str, text: str) -> Preset:
    p = Preset(name=raw.get("name") or Path(path).stem)
    if parent is not None:
        p.description, p.source, p.as_of, p.model = parent.description, parent.source, parent.as_of, parent.model
        p.target = parent.target
        p.analysis_failure = parent.analysis_failure
        p.files = list(parent.files)
        p.rules = dict(parent.rules)
        p.thresholds = dict(parent.thresholds)
        p.volume = parent.volume
    p.files.append(path)
    for key in ("description", "source", "as_of", "model", "target", "analysis_failure"):
        if key in raw:
            setattr(p, key, raw[key])
    p.rules.update(raw["rules"])
    for key, s in raw["thresholds"].items():
        if s is None:
            p.thresholds.pop(key, None)
        else:
            p.thresholds[key] = s
    vol = raw.get("volume")
    if vol:
        base = p.volume
        tier = vol.get("tier", base.tier if base else p.name)
        fail_below = vol.get("fail_below", base.fail_below if base else 0)
        warn_below = vol.get("warn_below", base.warn_below if base else fail_below)
        if warn_below < fail_below:
            key = "warn_below" if "warn_below" in vol else "fail_below"
            raise PresetError(path, f"[volume] warn_below ({warn_below}) is below fail_below ({fail_below})",
                              key=f"volume.{key}", line=_key_line(text, "volume", key))
        p.volume = Volume(tier, fail_below, warn_below)
    return p


# --------------------------------------------------------------------------------------------- locating keys

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")


def _key_line(text: str, table: str | None, key: str) -> int | None:
    """The 1-based line where ``key`` is set inside ``[table]`` (None: top level).

    tomllib reports positions only for syntax errors; for a well-formed file with a bad key we
    find the key's line in the text. Dotted forms (``rules.DP303 = ...`` at top level) count too.
    """
    current = None
    k = re.escape(key)
    own = re.compile(rf"""^\s*(?:{k}|"{k}"|'{k}')\s*=""")
    dotted = re.compile(rf"""^\s*{re.escape(table)}\s*\.\s*(?:{k}|"{k}"|'{k}')\s*=""") if table else None
    header_only = None
    for i, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            current = m.group(1).strip().strip("\"'")
            if table is None and current == key:
                header_only = header_only or i
            continue
        if current == table and own.match(line):
            return i
        if current is None and dotted is not None and dotted.match(line):
            return i
    return header_only


def _tname(v) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "a table"
    return type(v).__name__
