"""Deterministic train/val/test assignment that never cuts a duplicate cluster in two.

Units are whole groups (a duplicate cluster, or a single document). Within each stratum the
groups are put in a seeded pseudo-random order (xxh3 of seed and the group's smallest index, so
the order is stable across runs and machines) and laid end to end; a group goes to the split in
which the middle of its span falls. Split sizes then match the fractions to within one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash


def groups_from_clusters(cluster_id: np.ndarray) -> np.ndarray:
    """Group key per document: its cluster's smallest member, or itself when in no cluster."""
    cluster_id = np.asarray(cluster_id, dtype=np.int64)
    n = len(cluster_id)
    group = np.arange(n, dtype=np.int64)
    inc = np.flatnonzero(cluster_id >= 0)
    if len(inc):
        first = np.full(int(cluster_id.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first, cluster_id[inc], inc)
        group[inc] = first[cluster_id[inc]]
    return group


def assign_splits(
    groups: np.ndarray,
    fractions: Sequence[float],
    seed: int = 0,
    strata: Sequence | np.ndarray | None = None,
) -> np.ndarray:
    """Split index (0..len(fractions)-1) per document; members of one group share a split.

    ``groups`` from ``groups_from_clusters``; ``strata`` (e.g. format or language per document)
    is balanced separately, a group counting in the stratum of its smallest member.
    """
    groups = np.asarray(groups, dtype=np.int64)
    n = len(groups)
    fr = np.asarray(fractions, dtype=np.float64)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if (fr < 0).any() or fr.sum() <= 0:
        raise ValueError("fractions must be non-negative with a positive sum")
    bounds = np.cumsum(fr / fr.sum())
    uniq, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if strata is None:
        g_stratum = np.zeros(len(uniq), dtype=np.int64)
    else:
        _, s_inv = np.unique(np.asarray(strata), return_inverse=True)
        s_inv = s_inv.ravel()
        first_member = np.full(len(uniq), n, dtype=np.int64)
        np.minimum.at(first_member, inverse, np.arange(n))
        g_stratum = s_inv[first_member]
    salt = int(seed).to_bytes(8, "little", signed=True)
    rank = np.fromiter(
        (xxhash.xxh3_64_intdigest(salt + int(g).to_bytes(8, "little", signed=True)) for g in uniq.tolist()),
        dtype=np.uint64,
        count=len(uniq),
    )
    g_split = np.zeros(len(uniq), dtype=np.int64)
    for s in np.unique(g_stratum).tolist():
        gs = np.flatnonzero(g_stratum == s)
        gs = gs[np.lexsort((uniq[gs], rank[gs]))]
        end = np.cumsum(sizes[gs])
        mid = (end - sizes[gs] / 2.0) / end[-1]
        g_split[gs] = np.minimum(np.searchsorted(bounds, mid, side="right"), len(fr) - 1)
    return g_split[inverse]
