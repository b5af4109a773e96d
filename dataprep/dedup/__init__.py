"""Exact and MinHash near-duplicate detection, clustering, DP503 conflicts, leakage, splits.

Per shard (inside the scan): ``sketch(texts, config)`` -> signatures + exact keys.
Whole dataset: ``find_duplicates(sigs, exact, config, keep=...)``; across files/splits:
``leakage(...)``; splitting: ``assign_splits(groups_from_clusters(result.cluster_id), ...)``.
Over a scanned Profile: ``analyze(profile, keep=..., against=[...])`` -> ``DedupReport``
(findings DP500-DP503, clusters, kept lines); ``split(profile, fractions, seed=...)``;
persistent indexes ``LocalIndex(DIR)`` and ``RedisIndex(HOST:PORT, ...)``.
"""

import importlib
import sys
import types

# Public name -> the submodule that defines it. Nothing is imported until a name is used
# (PEP 562), so the scan, which needs only ``dedup.minhash`` per shard, does not load the command
# layer (``analyze``, ``splitting``, ``index``), and that layer can import what it needs from the
# rest of the package without a loop through this file.
_LAZY = {
    **dict.fromkeys(("DedupReport", "Leak", "analyze", "duplicates"), ".analyze"),
    **dict.fromkeys(("DUP_KINDS", "KEEP_POLICIES", "Cluster", "Conflict", "DedupResult", "UnionFind",
                     "conflicting_answers", "find_duplicates"), ".clusters"),
    **dict.fromkeys(("LocalIndex", "RedisIndex"), ".index"),
    **dict.fromkeys(("LEAK_KINDS", "LeakageResult", "leakage"), ".leakage"),
    "lsh_params": ".lsh",
    **dict.fromkeys(("EMPTY", "MinHashConfig", "is_empty", "reference_minhash", "signatures", "sketch"), ".minhash"),
    **dict.fromkeys(("exact_hash", "exact_hashes", "ngram_hashes", "normalize", "words"), ".shingles"),
    **dict.fromkeys(("assign_splits", "groups_from_clusters"), ".split"),
    **dict.fromkeys(("SplitResult", "check_fractions", "split", "write_split"), ".splitting"),
    **dict.fromkeys(("COMPARE_MODES", "compare_text", "prompt_and_answer"), ".text"),
}
# Public functions named like a submodule: the package attribute is the function.
_SHADOWED = frozenset({"analyze", "leakage", "split"})


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dataprep.dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    # Importing a submodule makes Python bind the package attribute of the same name to it,
    # after the submodule ran; for the names above that would hide the function, so the
    # binding is dropped and ``__getattr__`` answers with the function.
    def __setattr__(self, name: str, value) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "COMPARE_MODES",
    "DedupReport",
    "Leak",
    "LocalIndex",
    "RedisIndex",
    "SplitResult",
    "analyze",
    "check_fractions",
    "duplicates",
    "split",
    "write_split",
    "DUP_KINDS",
    "EMPTY",
    "KEEP_POLICIES",
    "LEAK_KINDS",
    "Cluster",
    "Conflict",
    "DedupResult",
    "LeakageResult",
    "MinHashConfig",
    "UnionFind",
    "assign_splits",
    "compare_text",
    "conflicting_answers",
    "exact_hash",
    "exact_hashes",
    "find_duplicates",
    "groups_from_clusters",
    "is_empty",
    "leakage",
    "lsh_params",
    "ngram_hashes",
    "normalize",
    "prompt_and_answer",
    "reference_minhash",
    "signatures",
    "sketch",
    "words",
]
