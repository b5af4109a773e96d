"""n-gram Vendi score: the effective number of distinct examples in a sample.

Vendi (Friedman & Dieng, 2023) = exp(Shannon entropy of the eigenvalues of K/n), K the n x n
similarity matrix of the sample: 1 when all examples are alike, n when all are unrelated.
Here an example is its text (user then assistant) as a TF-IDF vector of word 1- and 2-grams
(sublinear tf = 1 + ln(count), smooth idf = 1 + ln((1 + n) / (1 + df)) over the sample, so
that words every text uses, like "the", do not make all texts look alike), hashed into 2^14
buckets with a hash-derived sign (collisions cancel on average); K is the cosine similarity. The sample is ``sample_indices(len(texts), 500)``: 500 examples
evenly spread, deterministic. Examples without any word are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dataprep.diversity.language import sample_indices
from dataprep.diversity.lexical import ngram_ids
from dataprep.diversity.words import word_ids

VENDI_SAMPLE = 500
VENDI_DIMS_BITS = 14
VENDI_NGRAMS = (1, 2)


def hashed_vectors(texts: Sequence[str | None], *, dims_bits: int = VENDI_DIMS_BITS, ngrams=VENDI_NGRAMS) -> np.ndarray:
    """L2-normalised TF-IDF rows, signed-hashed (all-zero rows for texts without words)."""
    ids, off = word_ids(texts)
    n_docs, dims = len(texts), 1 << dims_bits
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(off))
    feats, docs = [], []
    for n in ngrams:
        h, starts = ngram_ids(ids, off, n, with_starts=True)
        feats.append(h * np.uint64(2 * n + 1))  # keep the 1-gram and 2-gram id spaces apart
        docs.append(doc_of[starts])
    h = np.concatenate(feats)
    d = np.concatenate(docs)
    if len(h) == 0:
        return np.zeros((n_docs, dims), dtype=np.float32)
    # term counts per (doc, feature), then document frequency per feature, all by sorting
    key_order = np.lexsort((h, d))
    h, d = h[key_order], d[key_order]
    new = np.ones(len(h), dtype=bool)
    new[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new)
    tf = np.diff(np.append(starts, len(h))).astype(np.float64)
    uh, ud = h[starts], d[starts]
    feat_ids, inv, df = np.unique(uh, return_inverse=True, return_counts=True)
    idf = 1.0 + np.log((1.0 + n_docs) / (1.0 + df))
    w = (1.0 + np.log(tf)) * idf[inv]
    mixed = (uh * np.uint64(0x9E3779B97F4A7C15)) ^ (uh >> np.uint64(29))
    col = (mixed >> np.uint64(64 - dims_bits)).astype(np.int64)
    sign = np.where(mixed & np.uint64(1), 1.0, -1.0)
    x = np.bincount(ud * dims + col, weights=w * sign, minlength=n_docs * dims).reshape(n_docs, dims)
    norm = np.sqrt(np.einsum("ij,ij->i", x, x))
    nz = norm > 0
    x[nz] /= norm[nz, None]
    return x.astype(np.float32)  # cosines need no more; halves the product's cost


def vendi_from_vectors(x: np.ndarray) -> float:
    """exp(entropy of the eigenvalues of X X^T / n) for unit rows ``x``."""
    n = len(x)
    if n == 0:
        return 0.0
    k = (x @ x.T).astype(np.float64) / n
    w = np.linalg.eigvalsh(k)
    w = w[w > 1e-12]
    return float(np.exp(-(w * np.log(w)).sum()))


def vendi_score(texts: Sequence[str | None], *, sample: int = VENDI_SAMPLE) -> dict:
    """``{score, normalized, sample, empty, method}`` on an evenly spread sample of ``texts``."""
    idx = sample_indices(len(texts), sample)
    x = hashed_vectors([texts[i] for i in idx])
    keep = np.abs(x).sum(axis=1) > 0
    x = x[keep]
    score = vendi_from_vectors(x)
    return {
        "score": score,
        "normalized": score / len(x) if len(x) else None,
        "sample": int(len(x)),
        "empty": int((~keep).sum()),
        "method": f"TF-IDF of word 1-2-grams, {1 << VENDI_DIMS_BITS} signed hashed buckets, cosine similarity",
    }
