"""The per-shard step the scan runs, and the merge of its results.

``text_features(user_texts, assistant_texts, line_offsets=...)`` takes, for each example of
a shard, all of its user text and all of its assistant text (messages of one role joined by a
newline, in order) and the byte offset of its line in the file. It returns a small
picklable ``TextFeatures``: per-example columns for the Profile (word counts, openings) and
one mergeable ``RoleLexicon`` per role. ``merge_text_features`` joins the shards in file
order; nothing downstream touches single words again.

Every text is cut to its first ``MAX_TEXT_CHARS`` characters before tokenising (``words.py``),
and openings to ``OPENING_MAX_CHARS``: word counts of longer texts count that prefix only.

Cost (2-core dev machine, ~100 words per example): about 180-210 ns of CPU per word, of which
tokenising is ~70; run it in the scan's workers with ``POLARS_MAX_THREADS=1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from dataprep.diversity.lexical import (
    MATTR_WINDOW,
    MTLD_THRESHOLD,
    STREAM_BLOCK,
    RoleLexicon,
    merge_lexicons,
    role_lexicons,
    stream_blocks,
)
from dataprep.diversity.openings import masked_openings
from dataprep.diversity.words import MAX_TEXT_CHARS, OPENING_MAX_CHARS, cap_text

__all__ = ["MAX_TEXT_CHARS", "OPENING_MAX_CHARS", "TextFeatures", "combined_texts", "features_in_shards",
           "merge_text_features", "text_features"]

ROLES = ("user", "assistant")
STREAM_BLOCK_BYTES = 1 << 15  # the scan's MATTR/MTLD blocks: examples starting in one 32 KiB window
BYTE_BLOCKING = f"{STREAM_BLOCK_BYTES // 1024} KiB of input"
OPENING_WORDS = 3  # the openings column keeps the first 3 words; shorter prefixes derive from it


@dataclass
class TextFeatures:
    """Text features of a run of examples (a shard, or the whole file after merging)."""

    examples: int
    lexicon: dict[str, RoleLexicon]  # "user", "assistant"
    rows: pl.DataFrame  # user_words, assistant_words (Int32), user_opening, assistant_opening (String)
    start_row: int = 0  # file row of the first example


def text_features(
    user_texts: Sequence[str | None],
    assistant_texts: Sequence[str | None],
    *,
    line_offsets: Sequence[int] | np.ndarray | None = None,
    start_row: int = 0,
    window: int = MATTR_WINDOW,
    threshold: float = MTLD_THRESHOLD,
    block: int = STREAM_BLOCK,
) -> TextFeatures:
    """Features of one shard; ``user_texts[i]``/``assistant_texts[i]`` belong to its example i.

    ``line_offsets``: each example's byte offset in the file (the scan knows them). MATTR and
    MTLD then read the examples whose lines start in the same 32 KiB window of the file as one
    running text, which any shard can tell on its own, so the result never depends on how the
    file was cut. Without offsets (lists in memory), blocks are ``block`` consecutive examples
    counted from row ``start_row``.
    """
    if len(user_texts) != len(assistant_texts):
        raise ValueError("user_texts and assistant_texts must have one entry per example")
    if line_offsets is not None:
        blocks = np.asarray(line_offsets, dtype=np.int64) // STREAM_BLOCK_BYTES
        blocking = BYTE_BLOCKING
    else:
        blocks, blocking = stream_blocks(len(user_texts), start_row=start_row, block=block), f"{block} examples"
    lexes, counts, opens = role_lexicons(
        [user_texts, assistant_texts],
        blocks=blocks,
        blocking=blocking,
        window=window,
        threshold=threshold,
        opening_words=OPENING_WORDS,
    )
    opens = [masked_openings(t, o, OPENING_WORDS) for t, o in zip((user_texts, assistant_texts), opens)]
    rows = pl.DataFrame(
        {
            "user_words": counts[0],
            "assistant_words": counts[1],
            "user_opening": opens[0],
            "assistant_opening": opens[1],
        },
        schema={"user_words": pl.Int32, "assistant_words": pl.Int32, "user_opening": pl.String, "assistant_opening": pl.String},
    )
    return TextFeatures(len(user_texts), dict(zip(ROLES, lexes)), rows, start_row)


def merge_text_features(parts: Iterable[TextFeatures], *, jobs: int = 1, keep_sets: bool = False) -> TextFeatures:
    """Join shard features, given in file order (shards made from ``start_row`` may come in
    any order: they are sorted by it; the sort is stable for the scan's shards).
    ``keep_sets=False`` (the default) drops the n-gram sets after counting them, which frees
    most of the memory; the result can then not be merged again."""
    parts = sorted(parts, key=lambda p: p.start_row)
    lex = {r: merge_lexicons([p.lexicon[r] for p in parts], jobs=jobs, keep_sets=keep_sets) for r in ROLES}
    rows = pl.concat([p.rows for p in parts]) if parts else text_features([], []).rows
    return TextFeatures(sum(p.examples for p in parts), lex, rows, parts[0].start_row if parts else 0)


def features_in_shards(
    user_texts: Sequence[str | None], assistant_texts: Sequence[str | None], *, shard: int = 20_000, jobs: int = 1
) -> TextFeatures:
    """In-memory convenience (tests, small files): ``text_features`` on slices, then merged."""
    n = len(user_texts)
    bounds = [(i, min(n, i + shard)) for i in range(0, n, shard)] or [(0, 0)]
    parts = [text_features(user_texts[a:b], assistant_texts[a:b], start_row=a) for a, b in bounds]
    return merge_text_features(parts, jobs=jobs)


def combined_texts(user_texts: Sequence[str | None], assistant_texts: Sequence[str | None]) -> list[str]:
    """The text of whole examples (user then assistant), as the Vendi score reads them; each
    part cut to ``MAX_TEXT_CHARS`` first (no 50 MB string is copied to be cut again later)."""
    return [f"{cap_text(u) or ''}\n{cap_text(a) or ''}" for u, a in zip(user_texts, assistant_texts)]
