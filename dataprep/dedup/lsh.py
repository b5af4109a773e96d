"""LSH banding over a signature matrix, candidate pairs and their verification.

Each band of ``rows`` signature slots is hashed to one uint64 per document; documents whose band
hashes are equal in any band become candidate pairs. Every candidate is then verified by the
estimated Jaccard similarity (fraction of equal slots over all ``num_perm`` slots), so the
banding only decides which pairs are looked at.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .shingles import fmix64_np

# A bucket bigger than this is linked as a star (head to each member) plus a chain (each member
# to the next) instead of all k(k-1)/2 pairs, so one huge template bucket cannot blow up memory.
DEFAULT_MAX_BUCKET = 64
# Candidate pairs verified per step: 65536 pairs x 128 slots x 4 bytes x 2 = 64 MiB.
_VERIFY_CHUNK = 65536
_BAND_BLOCK = 8192  # rows per band-hashing block: 8192 x 128 x 4 bytes = 4 MiB


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.05, 0.95)) -> tuple[int, int]:
    """(bands, rows) from datasketch's optimiser for a Jaccard threshold.

    ``weights`` = (false positive, false negative) weight; see ``minhash.DEFAULT_LSH_WEIGHTS``.
    """
    from datasketch.lsh import _optimal_param

    fp, fn = weights
    return _optimal_param(threshold, num_perm, fp, fn)


# datasketch's optimiser's answers for the defaults, so a default run does not import datasketch
# (and scipy) just to learn them (~0.6 s); tests/test_dedup_core.py recomputes every entry.
KNOWN_PARAMS: dict[tuple[float, int, tuple[float, float]], tuple[int, int]] = {
    (0.8, 128, (0.05, 0.95)): (16, 8),
}


def bands_rows(threshold: float, num_perm: int, weights: tuple[float, float] = (0.05, 0.95)) -> tuple[int, int]:
    """``lsh_params``, answered from KNOWN_PARAMS when it holds the question."""
    known = KNOWN_PARAMS.get((threshold, num_perm, tuple(weights)))
    return known if known is not None else lsh_params(threshold, num_perm, tuple(weights))


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that a pair of this Jaccard similarity shares at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def band_hashes(sigs: np.ndarray, bands: int, rows: int, subset: np.ndarray | None = None) -> np.ndarray:
    """(n, bands) uint64: each band's ``rows`` slots folded and mixed into one 64-bit value.

    With ``subset`` (row indices) only those rows are hashed, without copying the matrix.
    """
    n_all, num_perm = sigs.shape
    if bands * rows > num_perm:
        raise ValueError(f"{bands} bands x {rows} rows need more than {num_perm} permutations")
    n = n_all if subset is None else len(subset)
    out = np.empty((n, bands), dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    # Blocks of rows that fit in cache: a column of the whole (n, num_perm) matrix is a strided
    # walk over all of it (128 such walks cost ~1 s at 1M rows; blocks ~4x less).
    for a in range(0, n, _BAND_BLOCK):
        b = min(n, a + _BAND_BLOCK)
        block = sigs[a:b] if subset is None else sigs[subset[a:b]]
        for k in range(bands):
            acc = np.full(b - a, k + 1, dtype=np.uint64)  # band number in the seed: bands never collide
            for c in range(k * rows, (k + 1) * rows):
                acc *= mult
                acc += block[:, c]
            out[a:b, k] = fmix64_np(acc)
    return out


def _run_pairs(order: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_bucket: int):
    """Pairs (I, J) of the original indices for each run ``order[starts[r]:ends[r]]``."""
    size = ends - starts
    small = size <= max_bucket
    out_i, out_j = [], []
    if small.any():
        s, e = starts[small], ends[small]
        # Every element p of a run pairs with each later element q of the same run.
        sz = e - s
        elem = np.repeat(s, sz) + (np.arange(sz.sum()) - np.repeat(np.cumsum(sz) - sz, sz))
        run_end = np.repeat(e, sz)
        cnt = run_end - elem - 1
        tot = int(cnt.sum())
        first = np.repeat(elem, cnt)
        base = np.repeat(np.cumsum(cnt) - cnt, cnt)
        second = first + 1 + (np.arange(tot) - base)
        out_i.append(order[first])
        out_j.append(order[second])
    if (~small).any():
        for a, b in zip(starts[~small].tolist(), ends[~small].tolist()):
            members = np.sort(order[a:b])  # index order, whatever the sort left
            out_i.append(np.repeat(members[0], b - a - 1))
            out_j.append(members[1:])
            out_i.append(members[1:-1])
            out_j.append(members[2:])
    if not out_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)


def _unique_pairs(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keep = lo != hi
    key = np.unique((lo[keep].astype(np.uint64) << np.uint64(32)) | hi[keep].astype(np.uint64))
    return (key >> np.uint64(32)).astype(np.int64), (key & np.uint64(0xFFFFFFFF)).astype(np.int64)


def candidate_pairs(bh: np.ndarray, max_bucket: int = DEFAULT_MAX_BUCKET) -> tuple[np.ndarray, np.ndarray]:
    """Unique candidate pairs (I < J, row indices of ``bh``) sharing at least one band hash."""
    n = bh.shape[0]
    if n >= 1 << 32:
        raise ValueError("at most 2^32 documents")
    all_i, all_j = [], []
    for k in range(bh.shape[1]):
        col = bh[:, k]
        # Not a stable sort (numpy's vectorised quicksort is ~5x faster on uint64): a run's order
        # only matters in _run_pairs' big buckets, which sort their members back to index order.
        order = np.argsort(col)
        s = col[order]
        brk = np.flatnonzero(s[1:] != s[:-1]) + 1
        starts = np.concatenate([[0], brk])
        ends = np.concatenate([brk, [n]])
        multi = ends - starts >= 2
        if multi.any():
            i, j = _run_pairs(order, starts[multi], ends[multi], max_bucket)
            all_i.append(i)
            all_j.append(j)
    if not all_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return _unique_pairs(np.concatenate(all_i), np.concatenate(all_j))


def pair_similarity(sigs_a: np.ndarray, i: np.ndarray, sigs_b: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of ``sigs_a[i[k]]`` and ``sigs_b[j[k]]`` for every k (float32)."""
    out = np.empty(len(i), dtype=np.float32)
    num_perm = sigs_a.shape[1]
    for s in range(0, len(i), _VERIFY_CHUNK):
        e = min(s + _VERIFY_CHUNK, len(i))
        eq = np.count_nonzero(sigs_a[i[s:e]] == sigs_b[j[s:e]], axis=1)
        out[s:e] = eq / np.float32(num_perm)
    return out


def cross_candidates(
    bh_query: np.ndarray, bh_index: np.ndarray, max_bucket: int = DEFAULT_MAX_BUCKET
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (query row, index row) sharing at least one band hash.

    A query meets at most ``max_bucket`` index documents per band (the first ones in index order).
    """
    all_q, all_x = [], []
    for k in range(bh_index.shape[1]):
        col = bh_index[:, k]
        order = np.argsort(col, kind="stable")
        s = col[order]
        q = bh_query[:, k]
        lo = np.searchsorted(s, q, side="left")
        hi = np.searchsorted(s, q, side="right")
        cnt = np.minimum(hi - lo, max_bucket)
        hit = np.flatnonzero(cnt > 0)
        if not len(hit):
            continue
        c = cnt[hit]
        qi = np.repeat(hit, c)
        pos = np.repeat(lo[hit], c) + (np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c))
        all_q.append(qi)
        all_x.append(order[pos])
    if not all_q:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    q = np.concatenate(all_q).astype(np.uint64)
    x = np.concatenate(all_x).astype(np.uint64)
    key = np.unique((q << np.uint64(32)) | x)
    return (key >> np.uint64(32)).astype(np.int64), (key & np.uint64(0xFFFFFFFF)).astype(np.int64)
