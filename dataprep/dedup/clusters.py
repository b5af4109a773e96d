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
from .minhash import DEFAULT_CONFIG, MinHashConfig, is_empty

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
        return int(np.count_nonzero(self.is_kept))

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
    max_bucket: int = lsh.DEFAULT_MAX_BUCKET,
) -> DedupResult:
    """Exact and near-duplicate clusters of a whole dataset.

    ``sigs`` (n, num_perm) and ``exact`` (n,) come from ``minhash.sketch`` (per shard, then
    concatenated in line order). ``lengths``/``trainable_tokens`` feed the keep policies.
    """
    sigs = np.asarray(sigs)
    exact = np.asarray(exact, dtype=np.uint64)
    n = len(exact)
    if sigs.shape != (n, config.num_perm):
        raise ValueError(f"signatures of shape {sigs.shape}, expected ({n}, {config.num_perm})")
    scores = _keep_scores(n, keep, lengths, trainable_tokens)
    bands, rows = config.bands_rows

    # Exact groups: rep_of[i] = first occurrence of i's exact key.
    _, first, inverse = np.unique(exact, return_index=True, return_inverse=True)
    rep_of = first[inverse].astype(np.int64)
    dup = np.flatnonzero(rep_of != np.arange(n))
    edge_i = [rep_of[dup]]
    edge_j = [dup]
    edge_s = [np.ones(len(dup), dtype=np.float32)]

    # Near edges: LSH over one representative per exact group, empty documents left out.
    active = np.flatnonzero((rep_of == np.arange(n)) & ~is_empty(sigs))
    n_cand = 0
    if len(active) >= 2:
        ci, cj = lsh.candidate_pairs(lsh.band_hashes(sigs, bands, rows, active), max_bucket)
        n_cand = len(ci)
        ci, cj = active[ci], active[cj]
        sim = lsh.pair_similarity(sigs, ci, sigs, cj)
        ok = sim >= np.float32(config.threshold)
        edge_i.append(ci[ok])
        edge_j.append(cj[ok])
        edge_s.append(sim[ok])
    ei, ej, es = np.concatenate(edge_i), np.concatenate(edge_j), np.concatenate(edge_s)
    return clusters_from_edges(n, rep_of, ei, ej, es, scores, config, n_cand)


def clusters_from_edges(n: int, rep_of: np.ndarray, ei: np.ndarray, ej: np.ndarray, es: np.ndarray,
                        scores: np.ndarray | None, config: MinHashConfig, n_cand: int) -> DedupResult:
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
    conflict. Groups of more than ``max_group`` answers compare each answer with the first only.
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
    for members in chunk:
        ks = range(k, k + len(members))
        k += len(members)
        if len({el[x] for x in ks}) == 1:
            continue
        sets = {x: frozenset(hl[bl[x]:bl[x + 1]]) for x in ks}
        if len(ks) <= max_group:
            pairs = [(ks[x], ks[y]) for x in range(len(ks)) for y in range(x + 1, len(ks))]
        else:
            pairs = [(ks[0], x) for x in ks[1:]]
        low = 1.0
        for a, b in pairs:
            if el[a] != el[b]:
                sa, sb = sets[a], sets[b]
                if not sa and not sb:
                    sim = 1.0
                else:
                    inter = len(sa & sb)
                    sim = inter / (len(sa) + len(sb) - inter)
                low = min(low, sim)
        if low < threshold:
            out.append(Conflict(np.asarray(members, dtype=np.int64), low))
    return out
