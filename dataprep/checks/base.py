"""What every check receives: where it is, and a place to put findings."""

from __future__ import annotations

from dataprep.schema.catalog import all_rules
from dataprep.schema.findings import Finding, Severity

_RULES: dict = {}
_REDACT = None


def _redact(message: str) -> str:
    # dataprep.mask imports the content rules, which import this module: bound at first use
    global _REDACT
    if _REDACT is None:
        from dataprep.mask import redact

        _REDACT = redact
    return _REDACT(message)


def _load_rules() -> dict:
    global _RULES
    _RULES = all_rules()
    return _RULES


class Sink:
    """Collects findings for one line of one file. Checks call ``add``; nothing else."""

    __slots__ = ("path", "line", "findings", "_rules")

    def __init__(self, path: str, line: int = 0):
        self.path = path
        self.line = line
        self.findings: list[Finding] = []
        self._rules = _RULES or _load_rules()  # all_rules() is cached: fetch it once, not per line

    def add(self, rule: str, message: str, pointer: str | None = None, column: int | None = None,
            line: int | None = None) -> None:
        """Record a finding. Its message and pointer are masked here, once for every output:
        they quote the data (an unknown role, a schema type, a key), which may hold a secret."""
        r = self._rules[rule]
        self.findings.append(Finding(rule, r.name, r.severity, self.path, self.line if line is None else line,
                                     _redact(message), column, pointer and _redact(pointer)))

    @property
    def has_error(self) -> bool:
        if not self.findings:  # most lines: skip building a generator
            return False
        return any(f.severity is Severity.ERROR for f in self.findings)


def pointer_escape(key: str) -> str:
    """RFC 6901 escaping of one reference token."""
    return key.replace("~", "~0").replace("/", "~1")


def short(value: object, limit: int = 60) -> str:
    """A value rendered for a message, cut to ``limit`` characters."""
    s = value if isinstance(value, str) else repr(value)
    s = s.replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def type_name(value: object) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
