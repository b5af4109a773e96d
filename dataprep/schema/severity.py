"""How much a finding weighs. Its own module so that the catalog (which gives every rule a default
severity) and the findings model (which builds findings from catalog rules) need not import each
other."""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]
