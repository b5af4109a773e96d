"""LSH banding over a signature matrix, and linking of the documents that share a band.

Each band of ``rows`` signature slots is hashed to one uint64 per document; documents whose band
hashes are equal share a bucket. Inside a bucket, documents are linked to a leader and verified
by the estimated Jaccard similarity (fraction of equal slots over all ``num_perm`` slots):
``link_buckets`` within one dataset, ``cross_links`` from queries to an index. Both cost O(k)
for a bucket of k documents, not the k(k-1)/2 pairs of comparing every member with every other.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .shingles import fmix64_np

# Rounds of leaders per bucket and band (see link_buckets): a bucket of k rows costs at most this
# many times k verifications. Members left after them meet their near duplicates in other bands.
MAX_ROUNDS = 8
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


def _runs(col: np.ndarray, stable: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, run starts, run ends) of the equal values of ``col`` in sorted order."""
    # numpy's default quicksort is ~5x faster on uint64 than a stable sort; callers that need
    # index order inside a run ask for it (or take a per-run minimum, which is order-free).
    order = np.argsort(col, kind="stable" if stable else None)
    s = col[order]
    brk = np.flatnonzero(s[1:] != s[:-1]) + 1
    return order, np.concatenate([[0], brk]), np.concatenate([brk, [len(col)]])


def band_buckets(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members of every bucket of two or more rows of one band column: (rows, bucket id per
    row), grouped by bucket (bucket ids ascending from 0, rows in no particular order)."""
    order, starts, ends = _runs(col)
    size = ends - starts
    multi = size >= 2
    rows = order[np.repeat(multi, size)]
    bucket = np.repeat(np.arange(int(multi.sum()), dtype=np.int64), size[multi])
    return rows, bucket


def _group_starts(keys: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1]) if len(keys) else np.zeros(0, np.int64)


def link_buckets(bh: np.ndarray, verify: Callable[[np.ndarray, np.ndarray], np.ndarray], threshold: float,
                 uf, *, max_rounds: int = MAX_ROUNDS) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Verified near-duplicate edges among the rows of ``bh`` (n, bands), linear in bucket size.

    Band by band, every bucket of k >= 2 rows is linked as a star: its leader (smallest row) is
    verified against each other member (``verify(i, j)`` gives their estimated Jaccard), and
    members at or above ``threshold`` are merged into the leader's set of ``uf`` (a
    ``UnionFind`` over the rows). A pair already in one set is not verified again: after the
    first bands almost every member is, so a whole dataset costs about one verification per row.
    Members that fail stay in the bucket for the next round, led by the smallest of them, so
    two members that are near duplicates of each other but not of the leader still meet; after
    ``max_rounds`` rounds the rest wait for another band. A bucket of k rows thus costs at most
    ``max_rounds * k`` verifications, in time and memory, instead of k(k-1)/2 pairs.

    Every edge merged is a verified one, so a set never joins rows through an unverified
    collision. The sets only depend on the rows and signatures (not on how the work is split), so
    every engine that calls this with the same ``bh`` gets the same sets. Returns the merged
    edges (i, j, similarity) and the number of pairs verified.
    """
    thr = np.float32(threshold)
    ei: list[np.ndarray] = []
    ej: list[np.ndarray] = []
    es: list[np.ndarray] = []
    n_verified = 0
    for k in range(bh.shape[1]):
        rows, bucket = band_buckets(bh[:, k])
        for _ in range(max_rounds):
            if len(rows) < 2:
                break
            starts = _group_starts(bucket)
            size = np.diff(np.append(starts, len(rows)))
            if (size < 2).any():  # a bucket left with one member has nothing to link
                keep = np.repeat(size >= 2, size)
                rows, bucket = rows[keep], bucket[keep]
                starts = _group_starts(bucket)
                size = np.diff(np.append(starts, len(rows)))
                if not len(rows):
                    break
            leader = np.repeat(np.minimum.reduceat(rows, starts), size)
            root = uf.roots_view()
            need = root[rows] != root[leader]  # the leader itself, and rows already merged, are done
            i, j = leader[need], rows[need]
            if not len(i):
                break
            sim = verify(i, j)
            n_verified += len(i)
            ok = sim >= thr
            if ok.any():
                ei.append(i[ok])
                ej.append(j[ok])
                es.append(sim[ok])
                uf.union(i[ok], j[ok])
            failed = np.zeros(len(rows), dtype=bool)
            failed[np.flatnonzero(need)[~ok]] = True
            rows, bucket = rows[failed], bucket[failed]
    if not ei:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0, dtype=np.float32), n_verified
    return np.concatenate(ei), np.concatenate(ej), np.concatenate(es), n_verified


def pair_similarity(sigs_a: np.ndarray, i: np.ndarray, sigs_b: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of ``sigs_a[i[k]]`` and ``sigs_b[j[k]]`` for every k (float32)."""
    out = np.empty(len(i), dtype=np.float32)
    num_perm = sigs_a.shape[1]
    for s in range(0, len(i), _VERIFY_CHUNK):
        e = min(s + _VERIFY_CHUNK, len(i))
        eq = np.count_nonzero(sigs_a[i[s:e]] == sigs_b[j[s:e]], axis=1)
        out[s:e] = eq / np.float32(num_perm)
    return out


def cross_links(bh_query: np.ndarray, bh_index: np.ndarray, index_group: np.ndarray,
                verify: Callable[[np.ndarray, np.ndarray], np.ndarray], threshold: float, *,
                max_rounds: int = MAX_ROUNDS) -> tuple[np.ndarray, np.ndarray]:
    """For every query row, one verified index row (-1: none) and its similarity: linear in bucket size.

    Band by band, each query not matched yet meets the index rows of its bucket: the first row
    (in index order) of each of the bucket's first ``max_rounds`` distinct ``index_group`` values
    (e.g. duplicate clusters of the index: their members are alike, one of them stands for all).
    The best verified one (highest similarity, then smallest row) is the match and the query is
    done. A query costs at most ``max_rounds`` verifications per band, however big the bucket.
    """
    nq = bh_query.shape[0]
    match = np.full(nq, -1, dtype=np.int64)
    best = np.zeros(nq, dtype=np.float32)
    thr = np.float32(threshold)
    index_group = np.asarray(index_group)
    for k in range(bh_index.shape[1]):
        todo = np.flatnonzero(match < 0)
        if not len(todo) or not bh_index.shape[0]:
            break
        col = bh_index[:, k]
        order, starts, ends = _runs(col, stable=True)  # rows ascending inside each bucket
        bucket = np.repeat(np.arange(len(starts)), ends - starts)
        g = index_group[order]
        # First row of each (bucket, group), then the bucket's first max_rounds of them.
        o = np.lexsort((np.arange(len(order)), g, bucket))
        first = o[np.concatenate([[True], (bucket[o][1:] != bucket[o][:-1]) | (g[o][1:] != g[o][:-1])])]
        first.sort()  # back to bucket order, rows ascending
        fb = bucket[first]
        rank = np.arange(len(first)) - np.repeat(_group_starts(fb), np.diff(np.append(_group_starts(fb), len(fb))))
        first, fb = first[rank < max_rounds], fb[rank < max_rounds]
        rep_start = np.searchsorted(fb, np.arange(len(starts)))
        rep_end = np.searchsorted(fb, np.arange(len(starts)), side="right")
        values = col[order[starts]]
        q = bh_query[todo, k]
        pos = np.minimum(np.searchsorted(values, q), len(values) - 1)
        hit = values[pos] == q
        qs, b = todo[hit], pos[hit]
        cnt = rep_end[b] - rep_start[b]
        qi = np.repeat(qs, cnt)
        off = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        xi = order[first[np.repeat(rep_start[b], cnt) + off]]
        if not len(qi):
            continue
        sim = verify(qi, xi)
        ok = sim >= thr
        qi, xi, sim = qi[ok], xi[ok], sim[ok]
        if len(qi):
            o = np.lexsort((xi, -sim, qi))
            qi, xi, sim = qi[o], xi[o], sim[o]
            f = np.concatenate([[True], qi[1:] != qi[:-1]])
            match[qi[f]], best[qi[f]] = xi[f], sim[f]
    return match, best
