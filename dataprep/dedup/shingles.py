"""Text normalisation, shingling and shingle hashing for deduplication.

Normalisation (``normalize``), applied before any comparison:

1. ``str.lower()``;
2. every character of Unicode category P* (punctuation), S* (symbols, emoji included),
   Z* (separators) or Cc (controls, so tabs and newlines) becomes a word break;
3. every Cf character (zero-width space/joiner, soft hyphen, BOM) is deleted;
4. the words are joined by single spaces (no leading or trailing space).

So ``"Hello,  World!"`` and ``"hello world"`` normalise to the same ``"hello world"``, while
``"don't"`` becomes ``"don t"``. Digits and letters of every script are kept.

Shingles:

* word mode (default, n=5): every run of n consecutive words; a text of 1..n-1 words gives one
  shingle of all its words; an empty text gives none.
* char mode (n=24, for short texts): every run of n consecutive characters of the normalised
  string (spaces included), with the same short/empty rule.

Hashes (64 bits; MinHash takes the top 32 for datasketch's ``affine32`` scheme):

* word: ``word_hash`` reads the word's UTF-8 bytes as little-endian 8-byte chunks (the last one
  zero-padded) and folds them with MurmurHash3's 64-bit finaliser, seeded by the length:
  ``h = len*K; h = fmix64(h ^ chunk)`` per chunk. Words over 256 bytes (URLs, base64 blobs) use
  ``xxh3_64`` instead. This is what numpy can compute for a whole batch at once from one byte
  buffer (about 6x faster than one ``xxh3_64`` call per word).
* word shingle ``(w1..wk)``: ``fmix64(fold(word_hash(w_i)))`` with ``fold: acc = acc*P + h``
  mod 2^64. ``word_shingle_hash`` is the same function one shingle at a time, used as datasketch's
  ``hashfunc`` in the equality tests.
* char shingle: the same fold over ``fmix64(code point)``.
* exact key (``exact_hash``): ``xxh3_64`` of the text's word hashes (little-endian uint64), i.e.
  of the normalised text; a text without words is keyed on its raw form (see ``exact_hash``).

The bulk functions work on a batch of texts and return one flat ``uint64`` array plus per-text
``counts`` (shingles of text i are ``h[off[i]:off[i+1]]`` with ``off = [0, *cumsum(counts)]``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import xxhash

_M64 = (1 << 64) - 1
# Odd multiplier of the shingle fold (the 64-bit golden ratio); odd keeps it invertible mod 2^64.
_P = 0x9E3779B97F4A7C15
_P_NP = np.uint64(_P)
# Seed multiplier of the word hash (xxh64's PRIME64_2), so words of different lengths start apart.
_K = 0xC2B2AE3D27D4EB4F
_K_NP = np.uint64(_K)
_xxh = xxhash.xxh3_64_intdigest
# Words longer than this many bytes are hashed with xxh3_64 (one Python call each; they are rare).
LONG_WORD = 256
# Documents per hashing batch: keeps the batch's byte buffer and word arrays in the CPU cache.
_HASH_BATCH = 256
_CHUNK_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)

DEFAULT_WORD_NGRAM = 5
DEFAULT_CHAR_NGRAM = 24
CONTAMINATION_NGRAM = 13


# ----------------------------------------------------------------------------- normalisation


def _category_action(cp: int) -> str:
    cat = unicodedata.category(chr(cp))
    if cat[0] in "PSZ" or cat == "Cc":
        return " "
    if cat == "Cf":
        return ""
    return chr(cp)


class _UnicodeTable(dict):
    """``str.translate`` table filled lazily, one code point at a time, so import stays instant."""

    def __missing__(self, cp: int) -> str:
        v = _category_action(cp)
        self[cp] = v
        return v


_UTABLE = _UnicodeTable()
# ASCII bytes that break words map to a space; bytes >= 0x80 (UTF-8 continuation/lead bytes)
# pass through untouched and are handled by the Unicode table per word.
_ASCII_TABLE = bytes(32 if _category_action(i) == " " else i for i in range(128)) + bytes(range(128, 256))


def _unicode_run(m: re.Match) -> str:
    return m.group().translate(_UTABLE)


# Runs of non-ASCII characters: only they need the (per character, lazily filled) Unicode
# table; everything else is mapped by one C-speed bytes.translate. A text with a few curly
# quotes then costs two regex matches instead of a Python loop over all its words.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _spaced(low: str) -> bytes:
    """UTF-8 bytes of the lower-cased ``low`` with every break character as a space and format
    characters removed: its ``split()`` is the normalised words."""
    if low.isascii():
        return low.encode("ascii").translate(_ASCII_TABLE)
    return _NON_ASCII_RUN.sub(_unicode_run, low).encode("utf-8", "surrogatepass").translate(_ASCII_TABLE)


def words(text: str) -> list[bytes]:
    """The normalised words of ``text`` as UTF-8 bytes (lone surrogates pass through)."""
    return _spaced(text.lower()).split()


def normalize(text: str) -> str:
    """Lowercase, punctuation/symbols/whitespace runs to one space, format characters removed."""
    return b" ".join(words(text)).decode("utf-8", "surrogatepass")


def normalize_reference(text: str) -> str:
    """Slow character-by-character definition of ``normalize`` (the tests hold them equal)."""
    out = []
    for ch in text.lower():
        out.append(_category_action(ord(ch)))
    return " ".join("".join(out).split())


def exact_hash(text: str) -> int:
    """64-bit key for exact duplicates: xxh3_64 of the normalised text's word hashes.

    A text that normalises to nothing ("", "!!!") is keyed on its raw form instead, so "!!!" and
    "???" are not duplicates of each other; the NUL prefix keeps those keys apart from the others.
    """
    ws = words(text)
    if ws:
        return _xxh(np.array([word_hash(w) for w in ws], dtype="<u8").tobytes())
    return _empty_key(text)


def _empty_key(text: str) -> int:
    return _xxh(b"\x00" + text.encode("utf-8", "surrogatepass"))


# ----------------------------------------------------------------------------- scalar shingles


def fmix64(h: int) -> int:
    """MurmurHash3's 64-bit finaliser (a bijection), on a Python int."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


def word_shingles(text: str, n: int = DEFAULT_WORD_NGRAM) -> list[tuple[bytes, ...]]:
    """Word n-gram shingles as tuples of words (a 1..n-1 word text gives one shingle)."""
    ws = words(text)
    if not ws:
        return []
    if len(ws) < n:
        return [tuple(ws)]
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


def char_shingles(text: str, n: int = DEFAULT_CHAR_NGRAM) -> list[str]:
    """Character n-gram shingles of the normalised text (a shorter text gives one shingle)."""
    s = normalize(text)
    if not s:
        return []
    if len(s) < n:
        return [s]
    return [s[i : i + n] for i in range(len(s) - n + 1)]


def word_hash(w: bytes) -> int:
    """64-bit hash of one normalised word (see the module doc)."""
    n = len(w)
    if n > LONG_WORD:
        return _xxh(w)
    h = (n * _K) & _M64
    for off in range(0, n, 8):
        h = fmix64(h ^ int.from_bytes(w[off : off + 8], "little"))
    return h


def word_shingle_hash64(shingle: Sequence[bytes]) -> int:
    acc = 0
    for w in shingle:
        acc = (acc * _P + word_hash(w)) & _M64
    return fmix64(acc)


def char_shingle_hash64(shingle: str) -> int:
    acc = 0
    for ch in shingle:
        acc = (acc * _P + fmix64(ord(ch))) & _M64
    return fmix64(acc)


def word_shingle_hash(shingle: Sequence[bytes]) -> int:
    """32-bit hash of one word shingle: datasketch ``hashfunc`` for the ``affine32`` scheme."""
    return word_shingle_hash64(shingle) >> 32


def char_shingle_hash(shingle: str) -> int:
    """32-bit hash of one char shingle: datasketch ``hashfunc`` for the ``affine32`` scheme."""
    return char_shingle_hash64(shingle) >> 32


# ----------------------------------------------------------------------------- bulk (numpy)


def fmix64_np(h: np.ndarray) -> np.ndarray:
    """Vectorised ``fmix64`` on a uint64 array (returns a new array)."""
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def fold_ngrams(elems: np.ndarray, counts: np.ndarray, n: int, short: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Hash every run of ``n`` consecutive elements inside each document.

    ``elems`` are per-element 64-bit hashes of all documents back to back, ``counts`` the number
    of elements per document. With ``short=True`` a document of 1..n-1 elements gives one hash of
    all its elements; with ``short=False`` it gives none. Returns (hashes, counts per document).
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    ndoc = len(counts)
    starts = np.zeros(ndoc, dtype=np.int64)
    if ndoc:
        np.cumsum(counts[:-1], out=starts[1:])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(ndoc, dtype=np.int64)
    padded = np.concatenate([elems.astype(np.uint64, copy=False), np.zeros(n - 1, dtype=np.uint64)])
    acc = padded[:total].copy()
    for j in range(1, n):
        acc *= _P_NP
        acc += padded[j : j + total]
    # A position p starts a full n-gram when it and the n-1 elements after it are in its document.
    doc_end = np.repeat(starts + counts, counts)
    valid = np.arange(total, dtype=np.int64) + n <= doc_end
    out_counts = np.maximum(counts - n + 1, 0)
    if short:
        short_docs = np.flatnonzero((counts > 0) & (counts < n))
        if len(short_docs):
            s0 = starts[short_docs]
            c = counts[short_docs]
            sacc = np.zeros(len(short_docs), dtype=np.uint64)
            for j in range(n - 1):
                m = c > j
                sacc[m] = sacc[m] * _P_NP + elems[s0[m] + j]
            acc[s0] = sacc
            valid[s0] = True
            out_counts[short_docs] = 1
    return fmix64_np(acc[valid]), out_counts


def _hash_words_np(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``word_hash`` of every space-separated word of a byte buffer; returns (hashes, starts)."""
    n = len(buf)
    isw = (buf != 32).view(np.int8)
    d = np.diff(isw, prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(d == 1)
    lens = np.flatnonzero(d == -1) - starts
    # Unaligned 8-byte little-endian loads at any offset: a strided view over the padded buffer.
    padded = np.concatenate([buf, np.zeros(8, dtype=np.uint8)])
    v = np.ndarray(shape=(n + 1,), dtype="<u8", buffer=padded, strides=(1,))
    h = lens.astype(np.uint64) * _K_NP
    h ^= v[starts] & _CHUNK_MASKS[np.minimum(lens, 8)]
    h = fmix64_np(h)
    idx = np.flatnonzero((lens > 8) & (lens <= LONG_WORD))
    off = 8
    while len(idx):
        rem = lens[idx] - off
        h[idx] = fmix64_np(h[idx] ^ (v[starts[idx] + off] & _CHUNK_MASKS[np.minimum(rem, 8)]))
        off += 8
        idx = idx[rem > 8]
    for k in np.flatnonzero(lens > LONG_WORD).tolist():
        h[k] = _xxh(buf[starts[k] : starts[k] + lens[k]].tobytes())
    return h, starts


# Per code point: 0 keep, 1 word break, 2 delete (``_category_action``), filled a block of 256
# code points at a time when a batch first meets one (the whole table would cost ~0.3 s to fill).
_ACTIONS = np.zeros(0x110000, dtype=np.uint8)
_ACTIONS_FILLED = np.zeros(0x110000 >> 8, dtype=bool)


def _fill_actions(block: int) -> None:
    lo = block << 8
    for c in range(lo, lo + 256):
        a = _category_action(c)
        _ACTIONS[c] = 0 if a == chr(c) else (1 if a == " " else 2)
    _ACTIONS_FILLED[block] = True


_fill_actions(0)  # ASCII and Latin-1: the commonest block, cheap at import


def _actions_of(cps: np.ndarray) -> np.ndarray:
    blocks = np.unique(cps >> 8)
    for b in blocks[~_ACTIONS_FILLED[blocks]].tolist():
        _fill_actions(b)
    return _ACTIONS[cps]


def _map_non_ascii(buf: np.ndarray, doc_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the Unicode half of the normalisation to a UTF-8 buffer in place, vectorised: each
    break character's bytes become spaces (runs of spaces split like one) and format characters
    are cut out (``doc_start`` moved to match). The buffer is valid UTF-8 of our own encoding
    (lone surrogates as 3-byte sequences), so lead bytes tell each character's length."""
    lead = np.flatnonzero(buf >= 0xC0)
    if not len(lead):
        return buf, doc_start
    last = len(buf) - 1  # continuation bytes past a short character's end are read, then ignored
    b0 = buf[lead].astype(np.uint32)
    b1, b2, b3 = (buf[np.minimum(lead + k, last)].astype(np.uint32) & 0x3F for k in (1, 2, 3))
    size = np.where(b0 < 0xE0, 2, np.where(b0 < 0xF0, 3, 4))
    cps = np.where(size == 2, ((b0 & 0x1F) << 6) | b1,
                   np.where(size == 3, ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                            ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3))
    act = _actions_of(cps)
    for k in range(4):
        at = lead[(act == 1) & (size > k)]
        if len(at):
            buf[at + k] = 32
    cut = act == 2
    if cut.any():
        drop = np.sort(np.concatenate([lead[cut & (size > k)] + k for k in range(4)]))
        doc_start = doc_start - np.searchsorted(drop, doc_start)
        buf = np.delete(buf, drop)
    return buf, doc_start


def spaced_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' normalised bytes (``_spaced`` of each, lower-cased) joined by spaces, as one
    uint8 buffer, and each text's start in it: ``_spaced`` for a whole batch in a few numpy
    passes (one regex per non-ASCII run cost ~15 ns a character on mixed-script text)."""
    parts = [t.lower().encode("utf-8", "surrogatepass") for t in texts]
    part_len = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    doc_start = np.zeros(len(parts), dtype=np.int64)
    np.cumsum(part_len[:-1] + 1, out=doc_start[1:])
    joined = b" ".join(parts).translate(_ASCII_TABLE)
    if joined.isascii():
        return np.frombuffer(joined, dtype=np.uint8), doc_start
    return _map_non_ascii(np.frombuffer(joined, dtype=np.uint8).copy(), doc_start)


def _word_batch_small(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    buf, doc_start = spaced_batch(texts)
    h, starts = _hash_words_np(buf)
    counts = np.bincount(np.searchsorted(doc_start, starts, side="right") - 1, minlength=len(texts))
    off = offsets(counts)
    hb = h.astype("<u8", copy=False).tobytes()
    exact = [_xxh(hb[8 * off[i] : 8 * off[i + 1]]) if counts[i] else _empty_key(texts[i]) for i in range(len(texts))]
    return h, counts.astype(np.int64), np.asarray(exact, dtype=np.uint64)


def _word_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-word hashes of a batch, per-text word counts and per-text exact keys."""
    if not isinstance(texts, Sequence):
        texts = list(texts)
    if not texts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    parts = [_word_batch_small(texts[i : i + _HASH_BATCH]) for i in range(0, len(texts), _HASH_BATCH)]
    return tuple(np.concatenate(x) for x in zip(*parts))  # type: ignore[return-value]


def _char_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, _, exact = _word_batch(texts)
    norm = [normalize(t) for t in texts]
    counts = np.fromiter(map(len, norm), dtype=np.int64, count=len(norm))
    cps = np.frombuffer("".join(norm).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return fmix64_np(cps.astype(np.uint64)), counts, exact


def shingle_hashes(
    texts: Sequence[str], mode: str = "word", n: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bulk 64-bit shingle hashes of ``texts``.

    Returns ``(hashes, counts, exact)``: all shingle hashes back to back, the number of shingles of
    each text, and each text's ``exact_hash`` (computed from the same normalisation pass).
    """
    if mode == "word":
        elems, counts, exact = _word_batch(texts)
        n = n or DEFAULT_WORD_NGRAM
    elif mode == "char":
        elems, counts, exact = _char_batch(texts)
        n = n or DEFAULT_CHAR_NGRAM
    else:
        raise ValueError(f"unknown shingle mode {mode!r} (word or char)")
    h, c = fold_ngrams(elems, counts, n)
    return h, c, exact


def exact_hashes(texts: Sequence[str]) -> np.ndarray:
    """``exact_hash`` of every text as a uint64 array (bulk path)."""
    return _word_batch(texts)[2]


def ngram_hashes(texts: Sequence[str], n: int = CONTAMINATION_NGRAM) -> tuple[np.ndarray, np.ndarray]:
    """Word n-gram hashes (64-bit) for contamination checks; texts under n words give none.

    Returns ``(hashes, counts)`` like ``shingle_hashes``. The full 64 bits are kept: over 10^8
    n-grams, 32-bit hashes would collide by chance.
    """
    elems, counts, _ = _word_batch(texts)
    return fold_ngrams(elems, counts, n, short=False)


def offsets(counts: np.ndarray) -> np.ndarray:
    """``[0, *cumsum(counts)]`` as int64: document i owns ``[off[i], off[i+1])``."""
    off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off
