"""Exact and MinHash near-duplicate detection, clustering, DP503 conflicts, leakage, splits.

Per shard (inside the scan): ``sketch(texts, config)`` -> signatures + exact keys.
Whole dataset: ``find_duplicates(sigs, exact, config, keep=...)``; across files/splits:
``leakage(...)``; splitting: ``assign_splits(groups_from_clusters(result.cluster_id), ...)``.
Over a scanned Profile: ``analyze(profile, keep=..., against=[...])`` -> ``DedupReport``
(findings DP500-DP503, clusters, kept lines); ``split(profile, fractions, seed=...)``;
persistent indexes ``LocalIndex(DIR)`` and ``RedisIndex(HOST:PORT, ...)``.
"""

# The command layer over a scanned Profile (dataprep dedup / dataprep split).
from .analyze import DedupReport, Leak, analyze, duplicates  # noqa: E402
from .clusters import (
    DUP_KINDS,
    KEEP_POLICIES,
    Cluster,
    Conflict,
    DedupResult,
    UnionFind,
    conflicting_answers,
    find_duplicates,
)
from .index import LocalIndex, RedisIndex  # noqa: E402
from .leakage import LEAK_KINDS, LeakageResult, leakage
from .lsh import lsh_params
from .minhash import EMPTY, MinHashConfig, is_empty, reference_minhash, signatures, sketch
from .shingles import exact_hash, exact_hashes, ngram_hashes, normalize, words
from .split import assign_splits, groups_from_clusters
from .splitting import SplitResult, check_fractions, split, write_split  # noqa: E402
from .text import COMPARE_MODES, compare_text, prompt_and_answer

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
