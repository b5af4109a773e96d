"""``dataprep split``: train/val/test files from a scanned Profile, deterministic, and no exact or
near-duplicate cluster (the profile's MinHash settings) ever straddles two splits.

Every example goes to exactly one split, duplicates included (they land together: run
``dedup --out`` first to drop them). Lines that are not examples (blank, unparsable, another
format) are written nowhere and counted as ``skipped_invalid``. Output lines are byte-identical
copies of the input lines, in input order. Word 13-gram overlap (a shared sentence) is not a
grouping criterion: templated answers would chain most of a dataset into one group.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analyze import duplicates, read_lines, route_lines
from .clusters import DedupResult
from .split import assign_splits, groups_from_clusters

SPLIT_NAMES = ("train", "val", "test")
STRATIFY = ("format", "language", "none")
MANIFEST_VERSION = 1
# Fractions must sum to 1 within this (they are typed by hand: 0.8 + 0.1 + 0.1 in floating point).
FRACTION_TOLERANCE = 1e-6


@dataclass
class SplitResult:
    path: str
    seed: int
    fractions: dict[str, float]
    stratify: str
    example_lines: np.ndarray  # 1-based input line of each example
    assignment: np.ndarray  # split index per example (into SPLIT_NAMES)
    strata: list[str] | None  # stratum label per example
    result: DedupResult
    skipped_invalid: int
    params: dict
    compare: str

    def lines(self, name: str) -> np.ndarray:
        return self.example_lines[self.assignment == SPLIT_NAMES.index(name)]

    def counts(self) -> dict[str, int]:
        return {name: int(np.count_nonzero(self.assignment == k)) for k, name in enumerate(SPLIT_NAMES)}

    def manifest(self, files: Mapping[str, str] | None = None) -> dict:
        n = len(self.example_lines)
        sizes = np.diff(self.result.cluster_offsets)
        d = {
            "version": MANIFEST_VERSION,
            "input": self.path,
            "seed": self.seed,
            "fractions": self.fractions,
            "stratify": self.stratify,
            "examples": n,
            "counts": self.counts(),
            "shares": {k: (v / n if n else 0.0) for k, v in self.counts().items()},
            "skipped_invalid": self.skipped_invalid,
            "clusters": self.result.n_clusters,
            "examples_in_clusters": int(sizes.sum()),
            "largest_cluster": int(sizes.max()) if len(sizes) else 0,
            "compare": self.compare,
            "params": self.params,
        }
        if self.strata is not None:
            per: dict[str, dict[str, int]] = {}
            for s, k in zip(self.strata, self.assignment.tolist()):
                per.setdefault(s, dict.fromkeys(SPLIT_NAMES, 0))[SPLIT_NAMES[k]] += 1
            d["strata"] = dict(sorted(per.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
        if files:
            d["files"] = dict(files)
        return d


def check_fractions(fractions: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
    """``{train, val, test}`` fractions, each in [0, 1], summing to 1; ValueError otherwise."""
    vals = list(fractions.values()) if isinstance(fractions, Mapping) else list(fractions)
    if len(vals) != len(SPLIT_NAMES):
        raise ValueError(f"give {len(SPLIT_NAMES)} fractions ({', '.join(SPLIT_NAMES)})")
    if any(not (0.0 <= v <= 1.0) for v in vals):
        raise ValueError("fractions must lie between 0 and 1")
    if abs(sum(vals) - 1.0) > FRACTION_TOLERANCE:
        raise ValueError(f"fractions must sum to 1, got {' + '.join(f'{v:g}' for v in vals)} = {sum(vals):g}")
    return dict(zip(SPLIT_NAMES, vals))


def _languages(profile, ex: np.ndarray, jobs: int) -> list[str]:
    """Language of every example: the assistant text's, else the user text's (langdetect)."""
    import orjson

    from dataprep.diversity.language import UND, detect_texts
    from dataprep.text import example_format, texts_of

    fmts = profile.rows["format"].to_list()
    users, assistants = [], []
    for ln, data in read_lines(profile, ex + 1):
        try:
            rec = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:
            rec = {}
        u, a = texts_of(rec, example_format(fmts[ln - 1], profile.format))[:2] if type(rec) is dict else ("", "")
        users.append(u)
        assistants.append(a)
    langs = [x[0] for x in detect_texts(assistants, jobs=jobs)]
    und = [i for i, x in enumerate(langs) if x == UND]
    if und:
        for i, (lang, _) in zip(und, detect_texts([users[i] for i in und], jobs=jobs)):
            langs[i] = lang
    return langs


def split(profile, fractions, *, seed: int = 0, stratify: str = "format", jobs: int = 1) -> SplitResult:
    """Assign every example of ``profile`` to train/val/test (see the module doc)."""
    fr = check_fractions(fractions)
    if stratify not in STRATIFY:
        raise ValueError(f"stratify must be one of {', '.join(STRATIFY)}, got {stratify!r}")
    ex, res = duplicates(profile, "first")
    strata = None
    if stratify == "format":
        strata = [str(x) for x in profile.rows["format"].to_numpy()[ex]]
    elif stratify == "language":
        strata = _languages(profile, ex, jobs)
    assignment = assign_splits(groups_from_clusters(res.cluster_id), list(fr.values()), seed, strata)
    return SplitResult(profile.path, seed, fr, stratify, ex + 1, assignment, strata, res,
                       profile.rows.height - len(ex), res.params, profile.options.compare)


def write_split(profile, result: SplitResult, out_dir: str | os.PathLike, *,
                manifest_name: str = "split.json") -> dict[str, str]:
    """Write ``train.jsonl``, ``val.jsonl``, ``test.jsonl`` and the manifest into ``out_dir``.

    Returns the paths written, by split name (and ``manifest``).
    """
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dest = np.full(profile.rows.height, -1, dtype=np.int64)
    dest[result.example_lines - 1] = result.assignment
    paths = {name: str(out / f"{name}.jsonl") for name in SPLIT_NAMES}
    handles = [open(paths[name], "wb") for name in SPLIT_NAMES]
    try:
        route_lines(profile, dest, handles)
    finally:
        for h in handles:
            h.close()
    man = out / manifest_name
    man.write_text(json.dumps(result.manifest({k: os.path.basename(v) for k, v in paths.items()}), indent=2) + "\n",
                   encoding="utf-8")
    return paths | {"manifest": str(man)}


def summary_renderables(result: SplitResult, paths: Mapping[str, str] | None = None) -> list:
    """The summary table of ``dataprep split`` (rich renderables)."""
    from rich.table import Table

    n = len(result.example_lines)
    t = Table(title=f"split {result.path} (seed {result.seed}, stratified by {result.stratify})", title_justify="left")
    for col, j in (("split", "left"), ("examples", "right"), ("share", "right"), ("asked", "right"), ("file", "left")):
        t.add_column(col, justify=j)
    for name, k in result.counts().items():
        t.add_row(name, f"{k:,}", f"{k / n:.1%}" if n else "", f"{result.fractions[name]:.1%}",
                  (paths or {}).get(name, ""))
    m = result.manifest()
    t.caption = (f"{m['clusters']:,} duplicate clusters ({m['examples_in_clusters']:,} examples, largest "
                 f"{m['largest_cluster']}) each kept within one split")
    out: list = [t]
    if result.skipped_invalid:
        out.append(f"{result.skipped_invalid:,} line(s) that are not examples (blank, invalid JSON, other format) "
                   "were not written; `dataprep validate` lists them")
    return out


__all__ = ["SPLIT_NAMES", "STRATIFY", "SplitResult", "check_fractions", "split", "summary_renderables", "write_split"]
