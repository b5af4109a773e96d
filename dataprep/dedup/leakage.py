"""DP502: documents of another split/file that also appear in the training set.

For every "other" document (validation, test, a new batch) find one training document that it
leaks from, by the strongest kind that applies:

* ``exact``: same ``exact_hash`` (normalised text);
* ``near``: estimated Jaccard >= threshold through LSH buckets (``lsh.cross_links``: linear in
  bucket size; the best verified candidate of the first band that has one);
* ``ngram``: at least one shared word n-gram (13 by default, as GPT-3 / lm-eval-harness), from
  ``shingles.ngram_hashes``; texts shorter than n words have no n-grams and only match by the
  two kinds above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import lsh
from .minhash import DEFAULT_CONFIG, MinHashConfig, is_empty, is_unread

LEAK_KINDS = ("none", "exact", "near", "ngram")
L_NONE, L_EXACT, L_NEAR, L_NGRAM = 0, 1, 2, 3


@dataclass
class LeakageResult:
    match: np.ndarray  # int64 (n_other,), training index or -1
    kind: np.ndarray  # uint8 (n_other,), index into LEAK_KINDS
    similarity: np.ndarray  # float32: 1.0 exact, estimated Jaccard near, share of n-grams found
    ngram_overlap: np.ndarray  # int64: number of the document's n-grams seen in training (0 if not computed)

    @property
    def leaked(self) -> np.ndarray:
        return np.flatnonzero(self.kind != L_NONE)

    def counts(self) -> dict[str, int]:
        return {name: int(np.count_nonzero(self.kind == k)) for k, name in enumerate(LEAK_KINDS) if k}


def _first_index_lookup(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the smallest index i with keys[i] == query, or -1."""
    uniq, first = np.unique(keys, return_index=True)
    if not len(uniq):
        return np.full(len(queries), -1, dtype=np.int64)
    pos = np.searchsorted(uniq, queries)
    pos = np.minimum(pos, len(uniq) - 1)
    hit = uniq[pos] == queries
    return np.where(hit, first[pos], -1).astype(np.int64)


def leakage(
    train_sigs: np.ndarray,
    train_exact: np.ndarray,
    other_sigs: np.ndarray,
    other_exact: np.ndarray,
    config: MinHashConfig = DEFAULT_CONFIG,
    *,
    train_ngrams: tuple[np.ndarray, np.ndarray] | None = None,
    other_ngrams: tuple[np.ndarray, np.ndarray] | None = None,
    train_groups: np.ndarray | None = None,
    max_rounds: int = lsh.MAX_ROUNDS,
) -> LeakageResult:
    """Match every other-document to a training document (see the module doc for the kinds).

    ``*_ngrams`` are ``(hashes, counts)`` from ``shingles.ngram_hashes``; pass both or neither.
    ``train_groups``: a group key per training document (e.g. its duplicate cluster,
    ``split.groups_from_clusters``); a bucket offers one document per group to a query, so a
    heavily duplicated training set costs no more than a clean one (default: exact-key groups).
    The near match is the best verified candidate of the first band that verifies one
    (``lsh.cross_links``). Documents whose text was not read (``minhash.is_unread``) on either
    side never match.
    """
    n_other = len(other_exact)
    match = np.full(n_other, -1, dtype=np.int64)
    kind = np.zeros(n_other, dtype=np.uint8)
    sim = np.zeros(n_other, dtype=np.float32)
    overlap = np.zeros(n_other, dtype=np.int64)
    train_exact = np.asarray(train_exact, dtype=np.uint64)
    other_exact = np.asarray(other_exact, dtype=np.uint64)
    t_read = ~is_unread(train_exact)
    o_read = ~is_unread(other_exact)

    t_idx = np.flatnonzero(t_read)
    ex = _first_index_lookup(train_exact[t_idx], other_exact)
    hit = (ex >= 0) & o_read
    match[hit], kind[hit], sim[hit] = t_idx[ex[hit]], L_EXACT, 1.0

    # One query per exact group of the other side (its copies take the same answer).
    o_cand = np.flatnonzero(~hit & o_read & ~is_empty(other_sigs))
    if len(o_cand):
        _, ofirst, oinv = np.unique(other_exact[o_cand], return_index=True, return_inverse=True)
        o_act = o_cand[ofirst]
    else:
        o_act, oinv = o_cand, np.zeros(0, np.int64)
    t_act = t_idx[~is_empty(train_sigs[t_idx])] if len(t_idx) else t_idx
    if len(t_act) and len(o_act):
        bands, rows = config.bands_rows
        if train_groups is None:
            _, tinv = np.unique(train_exact[t_act], return_inverse=True)
            groups = tinv.ravel()
        else:
            groups = np.asarray(train_groups)[t_act]
        q, s = lsh.cross_links(
            lsh.band_hashes(other_sigs, bands, rows, o_act),
            lsh.band_hashes(train_sigs, bands, rows, t_act),
            groups,
            lambda a, b: lsh.pair_similarity(other_sigs, o_act[a], train_sigs, t_act[b]),
            config.threshold, max_rounds=max_rounds)
        found = q >= 0
        # Spread each query's answer over its exact copies.
        qa, sa, fa = q[oinv.ravel()], s[oinv.ravel()], found[oinv.ravel()]
        d = o_cand[fa]
        match[d], kind[d], sim[d] = t_act[qa[fa]], L_NEAR, sa[fa]

    if (train_ngrams is None) != (other_ngrams is None):
        raise ValueError("pass train_ngrams and other_ngrams together")
    if train_ngrams is not None:
        th, tc = train_ngrams
        oh, oc = other_ngrams
        t_doc = np.repeat(np.arange(len(tc), dtype=np.int64), tc)
        o_doc = np.repeat(np.arange(len(oc), dtype=np.int64), oc)
        if not t_read.all():  # text partly read is not compared: none of its n-grams count
            th, t_doc = th[t_read[t_doc]], t_doc[t_read[t_doc]]
        if not o_read.all():
            oh, o_doc = oh[o_read[o_doc]], o_doc[o_read[o_doc]]
        found = np.isin(oh, th)
        overlap = np.bincount(o_doc[found], minlength=n_other).astype(np.int64)
        share = np.divide(overlap, oc, out=np.zeros(n_other), where=np.asarray(oc) > 0).astype(np.float32)
        todo = np.flatnonzero((kind == L_NONE) & (overlap > 0))
        if len(todo):
            # The training document of each leaking document's first shared n-gram.
            where = np.flatnonzero(found & np.isin(o_doc, todo))
            docs, first_pos = np.unique(o_doc[where], return_index=True)
            src = _first_index_lookup(th, oh[where[first_pos]])
            match[docs], kind[docs], sim[docs] = t_doc[src], L_NGRAM, share[docs]
    return LeakageResult(match, kind, sim, overlap)
