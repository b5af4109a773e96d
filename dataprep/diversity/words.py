"""Word tokenisation shared by every diversity metric.

Each text is cut to its first ``MAX_TEXT_CHARS`` characters first, so word counts, n-grams,
openings and the Vendi vectors of a pathological line cost what a long normal one does.

A word is a lowercased run of Unicode word characters (letters, digits, underscore); each Han,
Hiragana or Katakana character is a word of its own, because those scripts do not separate
words with spaces and a whole sentence would otherwise count as one "word". Apostrophes and
other punctuation split words ("it's" -> "it", "s").

Words become 64-bit ids (polars' seeded string hash). Ids are stable within one polars version
only: never persist them next to ids made by another version (cache keys should include
``polars.__version__``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

WORD_PATTERN = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\w--\p{Han}\p{Hiragana}\p{Katakana}]+"
_SEED = 0x5EED
# Every metric reads at most this many characters of one text (about 25,000 tokens, far beyond a
# normal chat turn): a 50 MB line would otherwise cost seconds of regex and n-gram work in each
# feature. Cut before anything else touches the text.
MAX_TEXT_CHARS = 100_000
# An opening is a few words, but a "word" may be a million letters long; openings are stored per
# example in the Profile and printed in reports, so they are cut to this many characters.
OPENING_MAX_CHARS = 100


def cap_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """``text`` cut to its first ``limit`` characters (None stays None)."""
    return text[:limit] if text is not None and len(text) > limit else text


def capped(texts: Sequence[str | None], limit: int = MAX_TEXT_CHARS) -> list[str | None]:
    """``cap_text`` over a sequence (a list either way, for polars)."""
    return [t[:limit] if t is not None and len(t) > limit else t for t in texts]


def _token_lists(texts: Sequence[str | None]) -> pl.Series:
    s = pl.Series("t", capped(texts), dtype=pl.String).fill_null("")
    return s.str.to_lowercase().str.extract_all(WORD_PATTERN)


def tokenize(texts: Sequence[str | None]) -> list[list[str]]:
    """The words of each text (slow path: Python lists; for tests, previews and openings)."""
    return [t or [] for t in _token_lists(texts).to_list()]


def word_ids(texts: Sequence[str | None], *, opening_words: int = 0) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, pl.Series]:
    """All words of ``texts`` as one uint64 id array plus int64 offsets (``len(texts) + 1``);
    the words of text ``i`` are ``ids[offsets[i]:offsets[i + 1]]``.

    With ``opening_words=k`` also each text's first k words joined by a space (see ``openings``),
    from the same tokenisation.
    """
    lists = _token_lists(texts)
    lens = lists.list.len().fill_null(0).to_numpy().astype(np.int64, copy=False)
    flat = lists.explode().drop_nulls()
    ids = flat.hash(seed=_SEED).to_numpy()
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    if offsets[-1] != len(ids):  # an explode convention we did not expect: fail loudly
        raise RuntimeError("word tokenisation lost track of text boundaries")
    ids = np.ascontiguousarray(ids, dtype=np.uint64)
    if opening_words:
        return ids, offsets, _openings_of(lists, opening_words).alias("opening")
    return ids, offsets


def _openings_of(lists: pl.Series, k: int) -> pl.Series:
    return lists.list.head(k).list.join(" ").fill_null("").str.slice(0, OPENING_MAX_CHARS)


def openings(texts: Sequence[str | None], k: int = 3) -> list[str]:
    """The first ``k`` words of each text joined by one space ("" when the text has none), at
    most ``OPENING_MAX_CHARS`` characters."""
    return _openings_of(_token_lists(texts), k).to_list()
