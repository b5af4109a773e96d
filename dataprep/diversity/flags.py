"""Rule hits of the diversity analysis, before they become findings with paths and lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Flag:
    """A diversity rule that fired.

    ``rows`` are 0-based example rows the flag is about (``None``: about the dataset as a
    whole); ``data`` holds the numbers behind the message for machine outputs.
    """

    rule: str
    message: str
    rows: np.ndarray | None = None
    data: dict = field(default_factory=dict)


def flags_to_findings(flags: Sequence[Flag], path: str, lines: Sequence[int] | np.ndarray | None = None) -> list:
    """Findings for ``flags``: one per flagged row (its 1-based ``line`` from ``lines``, or
    row + 1), and line 0 for dataset-level flags."""
    from dataprep.schema.findings import make_finding

    out = []
    for f in flags:
        if f.rows is None:
            out.append(make_finding(f.rule, path, 0, f.message))
            continue
        for r in np.asarray(f.rows).tolist():
            line = int(lines[r]) if lines is not None else r + 1
            out.append(make_finding(f.rule, path, line, f.message))
    return out
