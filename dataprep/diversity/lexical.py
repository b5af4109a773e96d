"""Lexical diversity: distinct-1/2/3, vocabulary, MATTR and MTLD, exact and vectorised.

Definitions (all over the words of one role, see ``words.py``):

- distinct-n = distinct n-grams / total n-grams over all texts; n-grams never cross a text
  boundary (Li et al., 2016). ``vocab`` is the number of distinct words (distinct-1's numerator).
- MATTR and MTLD read a role's texts as running text, in file order, in blocks of consecutive
  examples: windows and factors run across the examples of a block and restart at block
  boundaries. So repetition *across* examples (templates, boilerplate) lowers them, not only
  repetition inside one reply. The scan's blocks are the examples whose lines start in the
  same 32 KiB window of the file (about 40 typical examples; a long example is a block of its
  own); lists in memory use blocks of 32 examples. Either rule is fixed by the file alone, so
  the numbers do not depend on how the scan cut it into shards: the blocks cut by a shard
  edge are stitched together when the shards are merged.
- MATTR, window ``W`` = 50 (Covington & McFall, 2010): the mean type-token ratio over every
  window of ``W`` consecutive words inside one block; a block shorter than ``W`` counts as one
  window of its own length. All windows of all blocks are pooled.
- MTLD, threshold 0.72 (McCarthy & Jarvis, 2010): walking a block, a factor ends as soon as
  the running type-token ratio is <= 0.72, and counting restarts; the leftover at the end of
  the block adds the partial factor (1 - TTR) / (1 - 0.72). MTLD = total words / total
  factors, computed forwards and backwards and averaged. ``None`` when there are no factors.

Ids are 64-bit hashes, so "exact" means exact up to a 64-bit hash collision.

The work splits in two so that the dataset-level step does no per-token Python: ``role_lexicons``
runs on a shard of texts (inside the parallel scan) and returns small mergeable ``RoleLexicon``s;
``merge_lexicons`` unions shards (and stitches the blocks cut by shard edges);
``lexical_metrics`` turns one into numbers.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from dataprep.diversity.words import word_ids

MATTR_WINDOW = 50
MTLD_THRESHOLD = 0.72
STREAM_BLOCK = 32
DEFAULT_BLOCKING = f"{STREAM_BLOCK} examples"
NGRAM_ORDERS = (1, 2, 3)

_U64 = np.uint64
_K = (_U64(0x9E3779B97F4A7C15), _U64(0xC2B2AE3D27D4EB4F), _U64(0x165667B19E3779F9))
_EMPTY_U64 = np.zeros(0, dtype=np.uint64)


def ngram_ids(ids: np.ndarray, offsets: np.ndarray, n: int, *, with_starts: bool = False):
    """uint64 ids of every word n-gram that lies inside one text, in text order (and, with
    ``with_starts``, the global index of each n-gram's first word)."""
    total = len(ids)
    if n == 1:
        return (ids, np.arange(total, dtype=np.int64)) if with_starts else ids
    m = total - n + 1
    if m <= 0:
        return (_EMPTY_U64, np.zeros(0, dtype=np.int64)) if with_starts else _EMPTY_U64
    # a sum of random ids times odd constants: uniform over 64 bits (the top-bit buckets of
    # the merge rely on that), and two different n-grams collide with odds 2^-64
    h = ids[:m] * _K[0]
    for j in range(1, n):
        h += ids[j : j + m] * _K[j % 3]
    valid = np.ones(total, dtype=bool)
    for j in range(1, n):  # the last n-1 words of a text start no n-gram
        p = offsets[1:] - j
        valid[p[p >= offsets[:-1]]] = False
    keep = valid[:m]
    return (h[keep], np.flatnonzero(keep)) if with_starts else h[keep]


def _sorted_unique(h: np.ndarray) -> np.ndarray:
    if len(h) == 0:
        return _EMPTY_U64
    s = np.sort(h)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


@dataclass
class Ratios:
    """A sum of fractions kept exactly: integer numerators per denominator.

    Adding shards in any grouping gives the same dict, so the float read at the end does not
    depend on how the scan cut the file.
    """

    terms: dict[int, int] = field(default_factory=dict)

    def add_arrays(self, den: np.ndarray, num: np.ndarray) -> None:
        if len(den) == 0:
            return
        u, inv = np.unique(den, return_inverse=True)
        sums = np.bincount(inv, weights=num, minlength=len(u))  # exact below 2^53
        for d, n in zip(u.tolist(), sums.tolist()):
            self.terms[d] = self.terms.get(d, 0) + int(n)

    def merge(self, other: Ratios) -> None:
        for d, n in other.terms.items():
            self.terms[d] = self.terms.get(d, 0) + n

    def value(self) -> float:
        return math.fsum(n / d for d, n in sorted(self.terms.items()))


# Words per prev_next piece: whole texts (streams) up to about this many words are done at a
# time, so the sort's gathers and scatters stay in the CPU cache (9M words in one piece: 2.2 s;
# in pieces of 256k: 0.5 s, the same result).
_PREV_NEXT_PIECE = 1 << 18


def prev_next(ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per word: local position of the same word's previous occurrence in its text (-1 if none),
    of its next occurrence (text length if none), and the sorted distinct ids.

    Texts are independent, so runs of whole texts of about ``_PREV_NEXT_PIECE`` words are done
    one at a time (``_prev_next``) and joined.
    """
    n = len(offsets) - 1
    if n <= 1 or offsets[-1] - offsets[0] <= _PREV_NEXT_PIECE:
        return _prev_next(ids, offsets)
    cuts = [0]
    while cuts[-1] < n:
        j = int(np.searchsorted(offsets, offsets[cuts[-1]] + _PREV_NEXT_PIECE, side="left"))
        cuts.append(min(n, max(j, cuts[-1] + 1)))  # a text longer than a piece is a piece alone
    prev, nxt, uniq = [], [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        o = offsets[a:b + 1]
        p, x, u = _prev_next(ids[o[0]:o[-1]], o - o[0])
        prev.append(p)
        nxt.append(x)
        uniq.append(u)
    return np.concatenate(prev), np.concatenate(nxt), _sorted_unique(np.concatenate(uniq))


def _prev_next(ids: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``prev_next`` in one piece: one sort of ``(top bits of id | index)`` keys groups equal
    words in text order; a rare group whose truncated ids collide is redone exactly with a
    lexsort."""
    total = len(ids)
    lens = np.diff(offsets)
    tstart = np.repeat(offsets[:-1], lens)
    tlen = np.repeat(lens, lens)
    if total == 0:
        return np.full(0, -1, dtype=np.int64), tlen, _EMPTY_U64
    bits = max(1, int(total - 1).bit_length())
    mask = _U64((1 << bits) - 1)
    key = ids & ~mask
    key |= np.arange(total, dtype=np.uint64)
    key.sort()
    idx = (key & mask).astype(np.int64)
    grp = key >> _U64(bits)
    del key
    same = grp[1:] == grp[:-1]
    sid = ids[idx]  # full ids and stream numbers in sorted order: two gathers, then neighbours
    sst = np.repeat(np.arange(len(lens), dtype=np.int32), lens)[idx]
    eq = sid[1:] == sid[:-1]
    impure = same & ~eq
    link = same & eq & (sst[1:] == sst[:-1])
    # idx is a permutation: one full scatter per direction beats selecting the linked pairs first
    prev_g = np.empty(total, dtype=np.int64)
    prev_g[idx[0]] = -1
    prev_g[idx[1:]] = np.where(link, idx[:-1], -1)
    nxt_g = np.empty(total, dtype=np.int64)
    nxt_g[idx[-1]] = -1
    nxt_g[idx[:-1]] = np.where(link, idx[1:], -1)
    prev = np.where(prev_g >= 0, prev_g - tstart, -1)
    nxt = np.where(nxt_g >= 0, nxt_g - tstart, tlen)
    starts = np.empty(total, dtype=bool)
    starts[0] = True
    np.logical_not(same, out=starts[1:])
    uniq_parts = [sid[starts]]
    if impure.any():
        bad = np.unique(grp[1:][impure])
        t = idx[np.isin(grp, bad)]
        prev[t] = -1
        nxt[t] = tlen[t]
        ts = t[np.lexsort((t, ids[t]))]
        ok = (ids[ts[1:]] == ids[ts[:-1]]) & (ts[:-1] >= tstart[ts[1:]])
        pa, pb = ts[:-1][ok], ts[1:][ok]
        prev[pb] = pa - tstart[pb]
        nxt[pa] = pb - tstart[pa]
        uniq_parts.append(ids[t])
    return prev, nxt, _sorted_unique(np.concatenate(uniq_parts))


def mattr_parts(prev_local: np.ndarray, offsets: np.ndarray, window: int = MATTR_WINDOW) -> tuple[Ratios, int]:
    """(sum of window TTRs as exact ``Ratios``, number of windows) over all streams;
    MATTR = first.value() / second.

    A word adds 1 to the distinct count of every window that contains it and not its previous
    occurrence; those windows are one contiguous range of start positions, so each word's share
    is a closed-form count and no window is ever materialised.
    """
    lens = np.diff(offsets)
    nonempty = lens > 0
    out = Ratios()
    if not nonempty.any():
        return out, 0
    w_text = np.minimum(window, lens)
    tstart = np.repeat(offsets[:-1], lens)
    tlen = np.repeat(lens, lens)
    w = np.repeat(w_text, lens)
    pos = np.arange(len(prev_local), dtype=np.int64) - tstart
    hi = np.minimum(pos, tlen - w)
    lo = np.maximum(prev_local + 1, pos - w + 1)
    c = hi - lo + 1
    np.maximum(c, 0, out=c)
    per_text = np.add.reduceat(c, offsets[:-1][nonempty])
    out.add_arrays(w_text[nonempty], per_text)
    return out, int(np.sum(lens[nonempty] - w_text[nonempty] + 1))


_ROUND_CELLS = 1 << 17  # words examined per round, summed over streams (sets the block width)
_MAX_CELLS = 1 << 20  # at most this many cells in one 2-D block


def _max_types(thr: float, n: int) -> np.ndarray:
    """``d[c]`` = the largest type count with ``d / c <= thr``, by the same float division as
    the definition, so the table never disagrees with it at an exact boundary."""
    c = np.arange(n + 1, dtype=np.int64)
    d = np.floor(thr * c).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d += ((d + 1) / c <= thr) & (c > 0)
        d -= (d / c > thr) & (c > 0)
    return d.astype(np.int32)


def mtld_factors(
    streams: Sequence[tuple[np.ndarray, np.ndarray]], threshold: float = MTLD_THRESHOLD
) -> list[tuple[int, Ratios]]:
    """MTLD factors of each group of streams: (complete factors, sum of (1 - TTR) of the
    leftovers as exact ``Ratios``); factors = first + second.value() / (1 - threshold).
    A group is ``(prev_local, offsets)``, its streams read in array order (pass
    ``reverse_prev`` for the backward direction).

    All streams advance together in rounds: each round looks at the next K words of every
    live stream at once (a 2-D block), finds where the current factor ends if it does, and
    moves each stream to that point or K words on. K grows as streams finish, so a few long
    streams do not cost one Python step per word.
    """
    prevs, starts, lens, owner = [], [], [], []
    base = 0
    for g, (p, off) in enumerate(streams):
        ln = np.diff(off)
        keep = ln > 0
        prevs.append(p)
        starts.append(off[:-1][keep] + base)
        lens.append(ln[keep])
        owner.append(np.full(int(keep.sum()), g, dtype=np.int64))
        base += len(p)
    if base == 0:
        return [(0, Ratios()) for _ in streams]
    prev = np.concatenate(prevs).astype(np.int32)
    st = np.concatenate(starts)
    ln = np.concatenate(lens)
    own = np.concatenate(owner)
    n = len(ln)
    pos = np.zeros(n, dtype=np.int64)  # next word to read, local to the stream
    seg = np.zeros(n, dtype=np.int32)  # where the current factor started
    types = np.zeros(n, dtype=np.int32)
    cnt = np.zeros(n, dtype=np.int32)
    fac = np.zeros(n, dtype=np.int64)
    dmax = _max_types(threshold, int(ln.max()) + 513)  # counts run up to K past a stream end (masked)
    live = np.arange(n)
    while live.size:
        q = _ROUND_CELLS // live.size
        k = 32 if q < 64 else min(512, 1 << (q.bit_length() - 1))  # wider blocks as streams finish
        step = _MAX_CELLS // k  # bounds the memory of one block when there are very many streams
        ar = np.arange(k, dtype=np.int64)
        for lo in range(0, live.size, step):
            lv = live[lo : lo + step]
            width = np.minimum(k, ln[lv] - pos[lv])
            col = np.minimum(ar, (width - 1)[:, None])  # stay inside the stream; masked below
            d = np.cumsum(prev[(st[lv] + pos[lv])[:, None] + col] < seg[lv][:, None], axis=1, dtype=np.int32)
            d += types[lv][:, None]
            c = cnt[lv][:, None] + (ar + 1).astype(np.int32)
            hit = d <= dmax[c]
            hit &= ar < width[:, None]
            has = hit.any(axis=1)
            first = hit.argmax(axis=1)
            h, nh = lv[has], lv[~has]
            fac[h] += 1  # a factor ended: restart right after it
            pos[h] += first[has] + 1
            seg[h] = pos[h]
            types[h] = 0
            cnt[h] = 0
            rows = np.flatnonzero(~has)  # no end in this block: carry the counts on
            last = width[rows] - 1
            types[nh] = d[rows, last]
            cnt[nh] = c[rows, last]
            pos[nh] += width[rows]
        live = live[pos[live] < ln[live]]
    full = np.bincount(own, weights=fac, minlength=len(streams))
    out = []
    part = cnt > 0  # the leftover of each stream adds (1 - TTR) / (1 - threshold) = (c - t) / c / (1 - threshold)
    for g in range(len(streams)):
        r = Ratios()
        sel = part & (own == g)
        r.add_arrays(cnt[sel].astype(np.int64), (cnt[sel] - types[sel]).astype(np.int64))
        out.append((int(full[g]), r))
    return out


def reverse_prev(nxt_local: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``prev_local`` of the texts read backwards, from the forward ``next`` positions."""
    lens = np.diff(offsets)
    tstart = np.repeat(offsets[:-1], lens)
    tlen = np.repeat(lens, lens)
    k = np.arange(len(nxt_local), dtype=np.int64) - tstart
    src = tstart + tlen - 1 - k
    return tlen - 1 - nxt_local[src]


@dataclass
class RoleLexicon:
    """Mergeable lexical summary of the texts of one role.

    ``uniq[n]`` holds the sorted distinct n-gram ids; ``pending`` the words of stream blocks
    this shard saw only part of (block id -> word-id pieces in file order), finished when the
    shards are merged or the metrics read; everything else is a plain sum.
    """

    texts: int = 0
    words: int = 0
    ngrams: dict[int, int] = field(default_factory=lambda: {n: 0 for n in NGRAM_ORDERS})
    uniq: dict[int, np.ndarray] = field(default_factory=lambda: {n: _EMPTY_U64 for n in NGRAM_ORDERS})
    mattr_sum: Ratios = field(default_factory=Ratios)  # sum of window TTRs
    mattr_windows: int = 0
    mtld_full: list[int] = field(default_factory=lambda: [0, 0])  # complete factors, forward and backward
    mtld_part: list[Ratios] = field(default_factory=lambda: [Ratios(), Ratios()])  # leftovers' (1 - TTR)
    pending: dict[int, list[np.ndarray]] = field(default_factory=dict)
    window: int = MATTR_WINDOW
    threshold: float = MTLD_THRESHOLD
    blocking: str = DEFAULT_BLOCKING  # how examples were grouped into stream blocks
    distinct: dict[int, int] | None = None  # set by merge_lexicons when the sets are dropped

    def params(self) -> tuple[int, float, str]:
        return (self.window, self.threshold, self.blocking)


def stream_blocks(n: int, *, start_row: int = 0, block: int = STREAM_BLOCK) -> np.ndarray:
    """Default block ids for ``n`` examples from file row ``start_row``: 32 rows a block."""
    return (start_row + np.arange(n, dtype=np.int64)) // block


def _split_blocks(blocks: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]], int, int]:
    """Cut a shard's rows by their (non-decreasing) block ids.

    Returns the row boundaries of every block, the first and last block as pieces
    ``(block id, first row, end row)`` (they may continue in the neighbouring shards, so the
    merge finishes them), and the row range ``[a, b)`` of the blocks wholly inside.
    """
    n = len(blocks)
    if n == 0:
        return np.zeros(1, dtype=np.int64), [], 0, 0
    if np.any(blocks[1:] < blocks[:-1]):
        raise ValueError("block ids must not decrease along the file")
    change = np.flatnonzero(blocks[1:] != blocks[:-1]) + 1
    bounds = np.concatenate(([0], change, [n])).astype(np.int64)
    if not len(change):
        return bounds, [(int(blocks[0]), 0, n)], 0, 0
    a, b = int(change[0]), int(change[-1])
    return bounds, [(int(blocks[0]), 0, a), (int(blocks[-1]), b, n)], a, b


def lexicon_from_ids(
    ids: np.ndarray,
    offsets: np.ndarray,
    blocks: np.ndarray,
    *,
    window: int = MATTR_WINDOW,
    threshold: float = MTLD_THRESHOLD,
    blocking: str = DEFAULT_BLOCKING,
) -> tuple[RoleLexicon, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A ``RoleLexicon`` for one shard of texts whose examples belong to stream ``blocks``,
    plus the MTLD input ``(forward prev, backward prev, stream offsets)`` of its inner blocks,
    so that a caller can batch the MTLD walk of several roles (see ``role_lexicons``)."""
    n = len(offsets) - 1
    bounds, pieces, a, b = _split_blocks(np.asarray(blocks))
    prev, nxt, uni = prev_next(ids, offsets[bounds])
    lex = RoleLexicon(texts=n, words=len(ids), window=window, threshold=threshold, blocking=blocking)
    lex.uniq[1] = uni
    lex.ngrams[1] = len(ids)
    for k in NGRAM_ORDERS[1:]:
        h = ngram_ids(ids, offsets, k)  # n-grams never cross an example boundary
        lex.ngrams[k] = len(h)
        lex.uniq[k] = _sorted_unique(h)
    for bid, r0, r1 in pieces:
        lex.pending[bid] = [ids[offsets[r0] : offsets[r1]]]
    # the inner blocks are one contiguous run of words; prev/next are local to each stream
    t0, t1 = offsets[a], offsets[b]
    inner = bounds[(bounds >= a) & (bounds <= b)]
    full_off = offsets[inner] - t0 if b > a else np.zeros(1, dtype=np.int64)
    fprev, fnxt = prev[t0:t1], nxt[t0:t1]
    lex.mattr_sum, lex.mattr_windows = mattr_parts(fprev, full_off, window)  # MTLD: batched by the caller
    return lex, (fprev, reverse_prev(fnxt, full_off), full_off)


def role_lexicons(
    roles: Sequence[Sequence[str | None]],
    *,
    blocks: np.ndarray | None = None,
    start_row: int = 0,
    window: int = MATTR_WINDOW,
    threshold: float = MTLD_THRESHOLD,
    block: int = STREAM_BLOCK,
    blocking: str | None = None,
    opening_words: int = 0,
):
    """One ``RoleLexicon`` per sequence of texts (e.g. the user texts and the assistant texts of
    a shard), each role's per-text word counts, and with ``opening_words=k`` each role's
    openings (first k words, a polars Series).

    ``blocks``: per example, the id of the stream block it belongs to (non-decreasing; see
    the module doc); by default ``block`` consecutive rows counted from ``start_row``.
    ``blocking`` names the rule in the output (shards with different rules do not merge).
    """
    n = len(roles[0]) if roles else 0
    if blocks is None:
        blocks = stream_blocks(n, start_row=start_row, block=block)
        blocking = blocking or f"{block} examples"
    elif len(blocks) != n:
        raise ValueError("blocks needs one id per example")
    blocking = blocking or "caller's blocks"
    lexes, streams, counts, opens = [], [], [], []
    for texts in roles:
        ids, off, op = word_ids(texts, opening_words=opening_words or 1)
        lex, (fwd, bwd, soff) = lexicon_from_ids(ids, off, blocks, window=window, threshold=threshold, blocking=blocking)
        lexes.append(lex)
        streams += [(fwd, soff), (bwd, soff)]
        counts.append(np.diff(off).astype(np.int32))
        opens.append(op)
    facs = mtld_factors(streams, threshold)
    for i, lex in enumerate(lexes):
        for d in (0, 1):
            lex.mtld_full[d], lex.mtld_part[d] = facs[2 * i + d]
    if opening_words:
        return lexes, counts, opens
    return lexes, counts


def role_lexicon(texts: Sequence[str | None], **kw) -> RoleLexicon:
    """``RoleLexicon`` of one sequence of texts."""
    return role_lexicons([texts], **kw)[0][0]


def _add_streams(lex: RoleLexicon, prev: np.ndarray, nxt: np.ndarray, off: np.ndarray) -> None:
    """Add the MATTR and MTLD parts of whole streams (prev/next local to each) to ``lex``."""
    ms, mw = mattr_parts(prev, off, lex.window)
    lex.mattr_sum.merge(ms)
    lex.mattr_windows += mw
    for d, (full, part) in enumerate(mtld_factors([(prev, off), (reverse_prev(nxt, off), off)], lex.threshold)):
        lex.mtld_full[d] += full
        lex.mtld_part[d].merge(part)


def _finish_pending(lex: RoleLexicon) -> None:
    """Stitch the blocks cut by shard edges and add their MATTR/MTLD parts (empties ``pending``)."""
    if not lex.pending:
        return
    pieces = [np.concatenate(lex.pending[k]) for k in sorted(lex.pending)]
    ids = np.concatenate(pieces)
    off = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=off[1:])
    prev, nxt, _ = prev_next(ids, off)
    _add_streams(lex, prev, nxt, off)
    lex.pending = {}


_BUCKET_BITS = 6


def union_count_sorted(parts: Sequence[np.ndarray], *, jobs: int = 1, keep: bool = True) -> tuple[int, np.ndarray]:
    """Size of the union of sorted-unique uint64 arrays (and the union itself when ``keep``).

    The id space is cut into 64 ranges by the top bits; each range's slices are sorted on their
    own, which stays in cache and is several times faster than one big sort.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return 0, _EMPTY_U64
    if len(parts) == 1:
        return len(parts[0]), (parts[0] if keep else _EMPTY_U64)
    nb = 1 << _BUCKET_BITS
    edges = np.arange(1, nb, dtype=np.uint64) << _U64(64 - _BUCKET_BITS)
    cuts = [np.concatenate(([0], np.searchsorted(p, edges), [len(p)])) for p in parts]

    def bucket(b: int) -> np.ndarray:
        return _sorted_unique(np.concatenate([p[c[b] : c[b + 1]] for p, c in zip(parts, cuts)]))

    if jobs > 1:  # numpy's sort releases the GIL, so threads share the work without copies
        with ThreadPoolExecutor(jobs) as ex:
            out = list(ex.map(bucket, range(nb)))
    else:
        out = [bucket(b) for b in range(nb)]
    total = sum(len(o) for o in out)
    return total, (np.concatenate(out) if keep else _EMPTY_U64)


def merge_lexicons(parts: Iterable[RoleLexicon], *, jobs: int = 1, keep_sets: bool = True) -> RoleLexicon:
    """Union of shard summaries, given in file order (exact). Blocks split between shards are
    stitched here (when their block ids run on across shards, see ``role_lexicons``). ``keep_sets=False`` keeps counts only, to save memory; the result then cannot
    be merged again."""
    parts = list(parts)
    out = RoleLexicon()
    hi = -1  # the last block id seen so far
    if parts:
        out.window, out.threshold, out.blocking = parts[0].params()
    for p in parts:
        if p.distinct is not None:
            raise ValueError("a lexicon merged with keep_sets=False cannot be merged again")
        if p.params() != out.params():
            raise ValueError("cannot merge lexicons computed with different window/threshold/blocking")
        out.texts += p.texts
        out.words += p.words
        out.mattr_sum.merge(p.mattr_sum)
        out.mattr_windows += p.mattr_windows
        for d in (0, 1):
            out.mtld_full[d] += p.mtld_full[d]
            out.mtld_part[d].merge(p.mtld_part[d])
        for n in NGRAM_ORDERS:
            out.ngrams[n] += p.ngrams[n]
        if p.pending:
            # Block ids must run on from shard to shard; shards made without offsets or
            # start_row all count from 0, so their blocks are kept apart instead of stitched.
            lo = min(p.pending)
            shift = hi + 1 - lo if lo < hi else 0
            for bid, pieces in p.pending.items():
                out.pending.setdefault(bid + shift, []).extend(pieces)
            hi = max(hi, max(p.pending) + shift)
    if not keep_sets:  # nothing can follow: finish the split blocks now
        _finish_pending(out)
    counts = {}
    for n in NGRAM_ORDERS:
        counts[n], out.uniq[n] = union_count_sorted([p.uniq[n] for p in parts], jobs=jobs, keep=keep_sets)
    out.distinct = None if keep_sets else counts
    return out


def _distinct(lex: RoleLexicon, n: int) -> int:
    return lex.distinct[n] if lex.distinct is not None else len(lex.uniq[n])


def lexical_metrics(lex: RoleLexicon) -> dict:
    """``{distinct_1, distinct_2, distinct_3, mattr, mtld, vocab, words}`` (None where undefined)."""
    if lex.pending:  # blocks still split (metrics read before a final merge): finish a copy
        lex = copy.copy(lex)
        lex.mattr_sum = Ratios(dict(lex.mattr_sum.terms))
        lex.mtld_full = list(lex.mtld_full)
        lex.mtld_part = [Ratios(dict(r.terms)) for r in lex.mtld_part]
        _finish_pending(lex)
    out = {}
    for n in NGRAM_ORDERS:
        out[f"distinct_{n}"] = _distinct(lex, n) / lex.ngrams[n] if lex.ngrams[n] else None
    out["mattr"] = lex.mattr_sum.value() / lex.mattr_windows if lex.mattr_windows else None
    f, b = (lex.mtld_full[d] + lex.mtld_part[d].value() / (1.0 - lex.threshold) for d in (0, 1))
    out["mtld"] = (lex.words / f + lex.words / b) / 2 if f > 0 and b > 0 else None
    out["vocab"] = _distinct(lex, 1)
    out["words"] = lex.words
    return out
