"""Word tokenisation shared by every diversity metric.

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


def _token_lists(texts: Sequence[str | None]) -> pl.Series:
    s = pl.Series("t", list(texts), dtype=pl.String).fill_null("")
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
        return ids, offsets, lists.list.head(opening_words).list.join(" ").fill_null("").alias("opening")
    return ids, offsets


def openings(texts: Sequence[str | None], k: int = 3) -> list[str]:
    """The first ``k`` words of each text joined by one space ("" when the text has none)."""
    return _token_lists(texts).list.head(k).list.join(" ").fill_null("").to_list()
