"""Bulk MinHash signatures in numpy, identical to ``datasketch.MinHash`` (scheme ``affine32``).

datasketch 2.0's ``affine32`` scheme, for a 32-bit input hash ``x``: pre-mix once with the 32-bit
MurmurHash3 finaliser, then for each permutation k take ``a_k * fmix32(x) + b_k mod 2^32`` and keep
the minimum over the document's shingles. The (a, b) parameters are drawn with datasketch's own
recipe (see ``permutations``; the tests hold them equal to ``MinHash(...).permutations``).

The bulk path hashes all shingles of a batch into one array, applies the permutations as one
(num_perm x shingles) matrix per chunk and reduces each document's columns with
``np.minimum.reduceat``.

A text that cannot be read or is blank gets a reserved exact key (``is_unread``): such rows are
never exact or near duplicates of anything.

An empty document (no shingles) gets datasketch's empty signature: every slot ``EMPTY``
(2^32 - 1). Such rows never take part in LSH (see ``is_empty``): all empty documents would
otherwise share every band and look like near duplicates of each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import shingles as sh

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)
# Exact keys of texts that are not compared (see ``sketch``): a real text's xxh3_64 is one of
# these with probability 2^-63. Keeping the reason in the key keeps the Profile's columns as
# they are (and the cache format with them).
UNREAD_EMPTY = np.uint64(0)  # no text at all, or only white space
UNREAD_SHAPE = np.uint64(1)  # a message content of a shape the extraction does not read
DEFAULT_NUM_PERM = 128
DEFAULT_SEED = 1
DEFAULT_THRESHOLD = 0.8
# Weights (false positive, false negative) given to datasketch's band/row optimiser. Candidates
# are always verified against the signatures, so a false positive costs one 128-slot comparison
# while a false negative is a missed duplicate: favour recall. At 0.8/128 this gives 16 bands x 8
# rows (a pair at J=0.8 is a candidate 95% of the time) instead of 9 x 13 (40%).
DEFAULT_LSH_WEIGHTS = (0.05, 0.95)

# Shingles per chunk of the permutation step: 128 x 8192 uint32 = 4 MiB, cache friendly
# (measured: 2-4x slower at 64k, where the matrix no longer fits the cache).
_CHUNK = 8192
# Documents per batch of the hashing step, bounding the Python word lists held at once.
_TEXT_BATCH = 4096


@dataclass(frozen=True)
class MinHashConfig:
    """All parameters that make two signatures comparable, plus the LSH threshold."""

    num_perm: int = DEFAULT_NUM_PERM
    seed: int = DEFAULT_SEED
    mode: str = "word"  # "word" or "char"
    ngram: int = 0  # 0: the mode's default (5 words, 24 characters)
    threshold: float = DEFAULT_THRESHOLD
    lsh_weights: tuple[float, float] = field(default=DEFAULT_LSH_WEIGHTS)

    def __post_init__(self) -> None:
        if self.mode not in ("word", "char"):
            raise ValueError(f"mode must be 'word' or 'char', got {self.mode!r}")
        if self.ngram == 0:
            default = sh.DEFAULT_WORD_NGRAM if self.mode == "word" else sh.DEFAULT_CHAR_NGRAM
            object.__setattr__(self, "ngram", default)
        if self.ngram < 1 or self.num_perm < 1:
            raise ValueError("ngram and num_perm must be positive")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")

    @property
    def bands_rows(self) -> tuple[int, int]:
        from .lsh import bands_rows

        return bands_rows(self.threshold, self.num_perm, self.lsh_weights)

    def as_dict(self) -> dict:
        """The ``params`` object of ``dedup --json``."""
        b, r = self.bands_rows
        return {
            "num_perm": self.num_perm,
            "bands": b,
            "rows": r,
            "ngram": self.ngram,
            "mode": self.mode,
            "threshold": self.threshold,
            "seed": self.seed,
            "scheme": SCHEME,
        }


DEFAULT_CONFIG = MinHashConfig()


@lru_cache(maxsize=16)
def permutations(num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters (a, b), each uint32 of length num_perm.

    Drawn with datasketch's own recipe (``MinHash._init_permutations``: numpy's legacy
    ``RandomState(seed)``, ``a = 2 * randint(0, 2^31) + 1`` for an odd multiplier, then
    ``b = randint(0, 2^32)``) instead of read from a ``MinHash``: importing datasketch costs
    ~0.4 s (it pulls in scipy), which every scan and every scan worker would pay at start-up.
    tests/test_dedup_core.py holds the signatures equal to datasketch's for several
    (num_perm, seed), so a change of recipe upstream fails there.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def fmix32_np(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, datasketch's ``affine32`` pre-mix (new uint32 array)."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def signatures_from_hashes(
    hashes64: np.ndarray, counts: np.ndarray, num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """MinHash signatures (n_docs, num_perm) uint32 from 64-bit shingle hashes and per-doc counts.

    Each shingle's 32-bit input to the scheme is the top half of its 64-bit hash (the same value
    ``shingles.word_shingle_hash`` gives datasketch).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    out = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    total = int(counts.sum())
    if total == 0:
        return out
    a, b = permutations(num_perm, seed)
    a_col, b_col = a[:, None], b[:, None]
    hv = fmix32_np((np.asarray(hashes64, dtype=np.uint64) >> np.uint64(32)).astype(np.uint32))
    off = sh.offsets(counts)
    nonempty = np.flatnonzero(counts > 0)
    doc_starts = off[nonempty]
    buf = np.empty((num_perm, min(_CHUNK, total)), dtype=np.uint32)
    for s in range(0, total, _CHUNK):
        e = min(s + _CHUNK, total)
        x = buf[:, : e - s]
        # Column layout: each permutation row is one contiguous multiply-add over the chunk, which
        # is ~4x faster in numpy than broadcasting 128 columns per shingle.
        np.multiply(a_col, hv[None, s:e], out=x)
        x += b_col
        # Segments: pieces of documents inside [s, e). A document split by a chunk boundary
        # gets one piece per chunk, combined with np.minimum below.
        lo = np.searchsorted(doc_starts, s, side="right") - 1  # document holding shingle s
        hi = np.searchsorted(doc_starts, e, side="left")
        seg_docs = nonempty[lo:hi]
        seg_starts = np.maximum(doc_starts[lo:hi], s) - s
        mins = np.minimum.reduceat(x, seg_starts, axis=1)
        out[seg_docs] = np.minimum(out[seg_docs], mins.T)
    return out


def _batches(texts: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sketch(texts: Iterable[str | None], config: MinHashConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """Signatures (n, num_perm) uint32 and exact-duplicate keys (n,) uint64 of ``texts``.

    This is what the scan calls once per shard: one normalisation pass feeds both. A text that
    could not be read (``None``) gets the key ``UNREAD_SHAPE``, an empty or blank one
    ``UNREAD_EMPTY``, and the empty signature: ``is_unread`` rows are never compared.
    """
    sigs: list[np.ndarray] = []
    exact: list[np.ndarray] = []
    for batch in _batches(texts, _TEXT_BATCH):
        # isspace() stops at the first non-space character: cheap on long texts.
        unread = [k for k, t in enumerate(batch) if t is None or not t or t.isspace()]
        shape = [k for k in unread if batch[k] is None]
        for k in shape:
            batch[k] = ""
        h, c, ex = sh.shingle_hashes(batch, config.mode, config.ngram)
        if unread:
            ex[unread] = UNREAD_EMPTY
            ex[shape] = UNREAD_SHAPE
        sigs.append(signatures_from_hashes(h, c, config.num_perm, config.seed))
        exact.append(ex)
    if not sigs:
        return np.zeros((0, config.num_perm), dtype=np.uint32), np.zeros(0, dtype=np.uint64)
    return np.concatenate(sigs), np.concatenate(exact)


def is_unread(exact: np.ndarray) -> np.ndarray:
    """Rows whose text was not read (``UNREAD_SHAPE``) or is blank (``UNREAD_EMPTY``): never compared."""
    exact = np.asarray(exact, dtype=np.uint64)
    return (exact == UNREAD_EMPTY) | (exact == UNREAD_SHAPE)


def signatures(texts: Iterable[str], config: MinHashConfig = DEFAULT_CONFIG) -> np.ndarray:
    """MinHash signatures (n, num_perm) uint32 of ``texts``."""
    return sketch(texts, config)[0]


def is_empty(sigs: np.ndarray) -> np.ndarray:
    """Rows that are datasketch's empty MinHash (documents without shingles)."""
    return (sigs == EMPTY).all(axis=1)


def reference_minhash(shingles: Sequence, config: MinHashConfig = DEFAULT_CONFIG):
    """The datasketch ``MinHash`` of one document's shingles, built the slow, obvious way."""
    from datasketch import MinHash

    hashfunc = sh.word_shingle_hash if config.mode == "word" else sh.char_shingle_hash
    m = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=hashfunc, scheme=SCHEME)
    for s in shingles:
        m.update(s)
    return m


def reference_signature(text: str, config: MinHashConfig = DEFAULT_CONFIG) -> np.ndarray:
    """``reference_minhash`` of ``text``'s shingles, as a uint32 array."""
    if config.mode == "word":
        shingles = sh.word_shingles(text, config.ngram)
    else:
        shingles = sh.char_shingles(text, config.ngram)
    return reference_minhash(shingles, config).hashvalues.astype(np.uint32)


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the fraction of equal slots (datasketch's estimator)."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def lean_minhashes(sigs: np.ndarray, config: MinHashConfig = DEFAULT_CONFIG) -> list:
    """One ``datasketch.LeanMinHash`` per signature row, e.g. to insert into a ``MinHashLSH``
    (the persistent, Redis-backed index); ``datasketch_lsh`` builds one with our bands x rows."""
    from datasketch import LeanMinHash

    return [LeanMinHash(seed=config.seed, hashvalues=row, scheme=SCHEME) for row in sigs]


def datasketch_lsh(config: MinHashConfig = DEFAULT_CONFIG, storage_config: dict | None = None, **kwargs):
    """A ``datasketch.MinHashLSH`` with the same threshold and bands x rows as ``find_duplicates``."""
    from datasketch import MinHashLSH

    return MinHashLSH(
        threshold=config.threshold,
        num_perm=config.num_perm,
        params=config.bands_rows,
        storage_config=storage_config,
        **kwargs,
    )
