"""Duplicate clusters over a whole dataset: exact keys + verified LSH edges + union-find.

Definitions used by DP500/DP501 and ``dedup --clusters``:

* exact duplicates: equal ``exact_hash`` (same normalised text);
* near duplicates: estimated Jaccard >= threshold between MinHash signatures, found through LSH
  candidates; documents without shingles (empty signature) are never near duplicates;
* a cluster is a connected component (two or more documents) of exact and near edges; its id is
  its rank by smallest member, ``similarity`` the minimum over its verified edges (exact = 1.0);
* one document per cluster is kept (``keep`` policy, ties to the earliest); of every exact group
  inside a cluster the representative is the kept document if it belongs to the group, else the
  group's first occurrence. Other members of the group are ``exact`` duplicates, a representative
  that is not kept is a ``near`` duplicate. So ``exact`` count = n - distinct exact keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import lsh
from .minhash import DEFAULT_CONFIG, MinHashConfig, is_empty, is_unread

DUP_KINDS = ("none", "exact", "near")
NONE, EXACT, NEAR = 0, 1, 2
KEEP_POLICIES = ("first", "longest", "most-trainable-tokens")


class UnionFind:
    """Disjoint sets over 0..n-1, merged a batch of edges at a time (numpy hook + compress).

    Every root is the smallest index of its set, so ``roots()`` is deterministic.
    """

    def __init__(self, n: int):
        self.parent = np.arange(n, dtype=np.int64)

    def _compress(self) -> None:
        p = self.parent
        while True:
            gp = p[p]
            if np.array_equal(gp, p):
                break
            p = gp
        self.parent = p

    def union(self, i: np.ndarray | int, j: np.ndarray | int) -> None:
        i = np.atleast_1d(np.asarray(i, dtype=np.int64))
        j = np.atleast_1d(np.asarray(j, dtype=np.int64))
        self._compress()
        while True:
            ri, rj = self.parent[i], self.parent[j]
            diff = ri != rj
            if not diff.any():
                return
            lo = np.minimum(ri[diff], rj[diff])
            hi = np.maximum(ri[diff], rj[diff])
            # Hook each larger root under the smallest root it meets; roots only ever point to
            # smaller indices, so no cycle can form. Repeat until every edge is inside one set.
            np.minimum.at(self.parent, hi, lo)
            self._compress()

    def roots_view(self) -> np.ndarray:
        """Every element's root, without a copy (valid until the next ``union``)."""
        self._compress()
        return self.parent

    def find(self, i: int) -> int:
        self._compress()
        return int(self.parent[i])

    def roots(self) -> np.ndarray:
        self._compress()
        return self.parent.copy()


@dataclass(frozen=True)
class Cluster:
    id: int
    members: np.ndarray  # document indices, ascending
    kept: int
    similarity: float  # minimum estimated Jaccard over the cluster's verified edges


@dataclass
class DedupResult:
    """Per-document arrays plus clusters stored flat (members of cluster k are
    ``cluster_members[cluster_offsets[k]:cluster_offsets[k+1]]``)."""

    cluster_id: np.ndarray  # int64 (n,), -1 for documents in no cluster
    is_kept: np.ndarray  # bool (n,), True for singletons and each cluster's kept document
    dup_kind: np.ndarray  # uint8 (n,), index into DUP_KINDS
    cluster_offsets: np.ndarray  # int64 (n_clusters + 1,)
    cluster_members: np.ndarray  # int64
    cluster_kept: np.ndarray  # int64 (n_clusters,)
    cluster_similarity: np.ndarray  # float32 (n_clusters,)
    params: dict
    candidate_pairs: int = 0  # LSH candidates verified (for diagnostics)
    unread: np.ndarray | None = None  # bool (n,): not compared (text not read or blank); kept, in no cluster

    @property
    def not_compared(self) -> int:
        return 0 if self.unread is None else int(np.count_nonzero(self.unread))

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_kept)

    @property
    def exact_duplicates(self) -> int:
        return int(np.count_nonzero(self.dup_kind == EXACT))

    @property
    def near_duplicates(self) -> int:
        return int(np.count_nonzero(self.dup_kind == NEAR))

    @property
    def kept(self) -> int:
        """Compared documents kept (singletons and one per cluster); not-compared ones are extra."""
        return int(np.count_nonzero(self.is_kept)) - self.not_compared

    def cluster(self, k: int) -> Cluster:
        a, b = self.cluster_offsets[k], self.cluster_offsets[k + 1]
        return Cluster(k, self.cluster_members[a:b], int(self.cluster_kept[k]), float(self.cluster_similarity[k]))

    def clusters(self) -> Iterator[Cluster]:
        for k in range(self.n_clusters):
            yield self.cluster(k)

    def summary(self) -> dict:
        """The counts of ``dedup --json`` (line numbers and paths are the caller's business)."""
        return {
            "examples": len(self.cluster_id),
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "clusters": self.n_clusters,
            "kept": self.kept,
            "not_compared": self.not_compared,
            "params": self.params,
        }


def _keep_scores(n: int, keep: str, lengths, trainable_tokens) -> np.ndarray | None:
    if keep == "first":
        return None
    if keep == "longest":
        if lengths is None:
            raise ValueError("keep='longest' needs lengths")
        scores = np.asarray(lengths)
    elif keep == "most-trainable-tokens":
        if trainable_tokens is None:
            raise ValueError("keep='most-trainable-tokens' needs trainable_tokens")
        scores = np.asarray(trainable_tokens)
    else:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {keep!r}")
    if scores.shape != (n,):
        raise ValueError(f"{keep}: expected {n} values, got shape {scores.shape}")
    return scores


def find_duplicates(
    sigs: np.ndarray,
    exact: np.ndarray,
    config: MinHashConfig = DEFAULT_CONFIG,
    *,
    keep: str = "first",
    lengths: Sequence[float] | np.ndarray | None = None,
    trainable_tokens: Sequence[float] | np.ndarray | None = None,
    unread: np.ndarray | None = None,
    max_rounds: int = lsh.MAX_ROUNDS,
) -> DedupResult:
    """Exact and near-duplicate clusters of a whole dataset.

    ``sigs`` (n, num_perm) and ``exact`` (n,) come from ``minhash.sketch`` (per shard, then
    concatenated in line order). ``lengths``/``trainable_tokens`` feed the keep policies.
    ``unread`` (bool, n; default ``minhash.is_unread(exact)``): documents whose text was not read
    or is blank: they are in no cluster, whatever their keys and signatures say. Near edges come from
    ``lsh.link_buckets`` (linear in bucket size; ``max_rounds`` leaders per bucket and band).
    """
    sigs = np.asarray(sigs)
    exact = np.asarray(exact, dtype=np.uint64)
    n = len(exact)
    if sigs.shape != (n, config.num_perm):
        raise ValueError(f"signatures of shape {sigs.shape}, expected ({n}, {config.num_perm})")
    scores = _keep_scores(n, keep, lengths, trainable_tokens)
    rep_of, active = exact_groups(exact, is_unread(exact) if unread is None else unread)
    active = nonempty_rows(sigs, active)
    ei, ej, es, n_cand = near_edges(
        lambda rows: lsh.band_hashes(sigs, *config.bands_rows, rows), active,
        lambda i, j: lsh.pair_similarity(sigs, i, sigs, j), config.threshold, max_rounds)
    dup = np.flatnonzero(rep_of != np.arange(n))
    ei = np.concatenate([rep_of[dup], ei])
    ej = np.concatenate([dup, ej])
    es = np.concatenate([np.ones(len(dup), dtype=np.float32), es])
    return clusters_from_edges(n, rep_of, ei, ej, es, scores, config, n_cand,
                               is_unread(exact) if unread is None else np.asarray(unread, dtype=bool))


def nonempty_rows(sigs: np.ndarray, rows: np.ndarray, block: int = 65536) -> np.ndarray:
    """``rows`` whose signature is not the empty one, read in blocks (no copy of the matrix)."""
    keep = np.empty(len(rows), dtype=bool)
    for a in range(0, len(rows), block):
        keep[a:a + block] = ~is_empty(sigs[rows[a:a + block]])
    return rows[keep]


def exact_groups(exact: np.ndarray, unread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rep_of, reps): each document's exact group representative (its key's first occurrence;
    itself for an unread document) and the representatives that are read, ascending."""
    exact = np.asarray(exact, dtype=np.uint64)
    n = len(exact)
    idx = np.arange(n, dtype=np.int64)
    read = idx if unread is None else np.flatnonzero(~np.asarray(unread, dtype=bool))
    rep_of = idx.copy()
    if len(read):
        _, first, inverse = np.unique(exact[read], return_index=True, return_inverse=True)
        rep_of[read] = read[first[inverse.ravel()]]
    return rep_of, read[rep_of[read] == read]


def near_edges(band_hashes, active: np.ndarray, verify, threshold: float, max_rounds: int = lsh.MAX_ROUNDS):
    """Verified near edges (document indices i, j, similarity) and pairs verified, among ``active``.

    ``band_hashes(active)`` gives their (len(active), bands) band hashes and ``verify(i, j)`` the
    estimated Jaccard of documents i and j: the local path reads one signature matrix, the Ray
    engine computes both next to its signature blocks. The linking itself is
    ``lsh.link_buckets`` for every engine, so every engine finds the same clusters.
    """
    z = np.zeros(0, dtype=np.int64)
    if len(active) < 2:
        return z, z, np.zeros(0, dtype=np.float32), 0
    bh = band_hashes(active)
    uf = UnionFind(len(active))
    i, j, s, n = lsh.link_buckets(bh, lambda a, b: verify(active[a], active[b]), threshold, uf,
                                  max_rounds=max_rounds)
    return active[i], active[j], s, n


def clusters_from_edges(n: int, rep_of: np.ndarray, ei: np.ndarray, ej: np.ndarray, es: np.ndarray,
                        scores: np.ndarray | None, config: MinHashConfig, n_cand: int,
                        unread: np.ndarray | None = None) -> DedupResult:
    """Union-find over verified edges (exact and near) -> clusters, kept documents, kinds.

    Shared by the local path above and the Ray engine, which finds its edges distributed.
    """
    uf = UnionFind(n)
    if len(ei):
        uf.union(ei, ej)
    root = uf.roots()
    size = np.bincount(root, minlength=n)
    in_cluster = size[root] >= 2
    # Cluster ids in order of smallest member (= root, since roots are minimal indices).
    cluster_roots = np.flatnonzero(size >= 2)
    root_to_cluster = np.full(n, -1, dtype=np.int64)
    root_to_cluster[cluster_roots] = np.arange(len(cluster_roots))
    cluster_id = np.where(in_cluster, root_to_cluster[root], -1)

    members = np.flatnonzero(in_cluster)
    mcid = cluster_id[members]
    order = np.argsort(mcid, kind="stable")  # members ascending inside each cluster
    members, mcid = members[order], mcid[order]
    counts = np.bincount(mcid, minlength=len(cluster_roots))
    offsets = np.zeros(len(cluster_roots) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    if scores is None:
        kept = members[offsets[:-1]] if len(cluster_roots) else np.zeros(0, dtype=np.int64)
    else:
        # Highest score first, earliest index on ties.
        o = np.lexsort((members, -scores[members].astype(np.float64), mcid))
        kept = members[o][offsets[:-1]]
    kept = kept.astype(np.int64)

    similarity = np.ones(len(cluster_roots), dtype=np.float32)
    if len(ei):
        np.minimum.at(similarity, cluster_id[ei], es)

    is_kept = ~in_cluster
    is_kept[kept] = True
    dup_kind = np.zeros(n, dtype=np.uint8)
    if len(members):
        k_of = kept[mcid]
        group_rep = np.where(rep_of[k_of] == rep_of[members], k_of, rep_of[members])
        kind = np.where(members == group_rep, NEAR, EXACT).astype(np.uint8)
        kind[members == k_of] = NONE
        dup_kind[members] = kind

    return DedupResult(
        cluster_id=cluster_id,
        is_kept=is_kept,
        dup_kind=dup_kind,
        cluster_offsets=offsets,
        cluster_members=members,
        cluster_kept=kept,
        cluster_similarity=similarity,
        params=config.as_dict(),
        candidate_pairs=n_cand,
        unread=unread,
    )


# ----------------------------------------------------------------------------- DP503


@dataclass(frozen=True)
class Conflict:
    members: np.ndarray  # document indices sharing one normalised prompt, ascending
    min_similarity: float  # lowest answer-shingle Jaccard among the compared pairs


def conflicting_answers(
    prompt_keys: Sequence | np.ndarray,
    answer_texts: Sequence[str],
    *,
    threshold: float = 0.5,
    ngram: int = 3,
    max_group: int = 64,
) -> list[Conflict]:
    """DP503: groups with the same prompt key whose answers differ materially.

    "Materially": some pair of answers has an exact Jaccard similarity below ``threshold`` over
    their word ``ngram``-shingles (default 3: "the answer is 4" vs "the answer is 5" conflict,
    one word changed in a 40-word answer does not). Answers equal after normalisation never
    conflict and count once. Each distinct answer is compared with the group's first one, and two
    others only where the triangle inequality of the Jaccard distance leaves their pair open, so
    a group of near-identical answers costs k - 1 comparisons (the verdict is the all-pairs one).
    Groups of more than ``max_group`` distinct answers compare each with the first only.
    ``min_similarity`` is the lowest Jaccard among the pairs compared.
    ``prompt_keys`` are any hashable values equal for equal prompts (e.g. ``exact_hash`` of the
    prompt turns).
    """

    keys = np.asarray(prompt_keys)
    if len(keys) != len(answer_texts):
        raise ValueError("prompt_keys and answer_texts differ in length")
    if not len(keys):
        return []
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    multi = np.flatnonzero(counts[inverse] >= 2)
    if not len(multi):
        return []
    groups: dict[int, list[int]] = {}
    for i, g in zip(multi.tolist(), inverse[multi].tolist()):
        groups.setdefault(g, []).append(i)
    ordered = sorted(groups.values(), key=lambda m: m[0])
    out: list[Conflict] = []
    # Groups in chunks of about _CONFLICT_CHUNK answers: the shingle sets of one chunk are alive
    # at a time (a million-line file with 300k repeated prompts would otherwise hold ~2 GB).
    start = 0
    while start < len(ordered):
        stop, size = start, 0
        while stop < len(ordered) and (size < _CONFLICT_CHUNK or stop == start):
            size += len(ordered[stop])
            stop += 1
        out += _chunk_conflicts(ordered[start:stop], answer_texts, threshold, ngram, max_group)
        start = stop
    return out


_CONFLICT_CHUNK = 32768


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _chunk_conflicts(chunk: list[list[int]], answer_texts: Sequence[str], threshold: float, ngram: int,
                     max_group: int) -> list[Conflict]:
    from .shingles import shingle_hashes

    docs = [i for members in chunk for i in members]
    h, c, exact = shingle_hashes([answer_texts[i] for i in docs], "word", ngram)
    bounds = np.zeros(len(c) + 1, dtype=np.int64)
    np.cumsum(c, out=bounds[1:])
    # Python sets of the shingle hashes: a set intersection is ~20x cheaper than np.intersect1d
    # on these small arrays, and gives the same exact counts.
    hl, bl, el = h.tolist(), bounds.tolist(), exact.tolist()
    out: list[Conflict] = []
    k = 0
    # Jaccard distance (1 - J) is a metric, so comparing every answer with the group's first one
    # settles most groups in k - 1 comparisons: an answer below the threshold from the first is a
    # conflict; answers all within half the allowed distance of the first cannot be a conflict
    # among themselves. Only pairs whose two distances to the first add up to more than the
    # allowed distance are compared (and in groups over max_group, none: the first one alone).
    allowed = 1.0 - threshold
    for members in chunk:
        ks = range(k, k + len(members))
        k += len(members)
        distinct: dict[int, int] = {}
        for x in ks:
            distinct.setdefault(el[x], x)
        if len(distinct) == 1:
            continue
        reps = list(distinct.values())
        sets = [frozenset(hl[bl[x]:bl[x + 1]]) for x in reps]
        star = [_jaccard(sets[0], b) for b in sets[1:]]
        low = min(star)
        if low >= threshold and len(reps) <= max_group:
            dist = [0.0] + [1.0 - x for x in star]
            far = [x for x in range(1, len(reps)) if dist[x] > allowed / 2]
            for p, x in enumerate(far):
                for y in far[p + 1:] + [z for z in range(1, len(reps)) if dist[z] <= allowed / 2]:
                    if dist[x] + dist[y] > allowed:
                        low = min(low, _jaccard(sets[x], sets[y]))
                if low < threshold:
                    break
        if low < threshold:
            out.append(Conflict(np.asarray(members, dtype=np.int64), low))
    return out
