"""DP503 (conflicting answers) over a scanned file, on every core.

The scan keys each example's prompt (``prompt_hash``) and its compared text (``exact``). Only
prompt groups that hold two or more distinct answers can conflict, so only one line per
distinct (prompt, answer) of those groups is read back, and those lines are cut into chunks of
whole groups. Each chunk is read, parsed and compared (``clusters.conflicting_answers``) by a
worker process that reads the lines by byte offset itself: the parent sends offsets, not text.
A compressed file or stdin is first copied, only the wanted lines, to a temporary plain file.

Small jobs (or ``jobs=1``) run in this process: starting workers costs more than they save.
The workers die with this process and leave Ctrl-C to it (``dataprep.lifetime``), and an
interrupted or failed run ends them at once (the scan's ``_pool``).
"""

from __future__ import annotations

import os
from concurrent.futures import Future

import numpy as np
import orjson

from dataprep.text import answer_of

from . import clusters
from .clusters import conflicting_answers

# Below this many answers to read, one process does it all (a worker's start-up is ~0.3 s).
PARALLEL_MIN = 20000
_BOM = b"\xef\xbb\xbf"


def answer_text(data: bytes) -> str | None:
    """The answer DP503 compares (``dataprep.text.prompt_and_answer``'s), or None for a line
    that is not JSON, has no assistant message or holds content that cannot be read (such a
    line takes no part)."""
    try:
        return answer_of(orjson.loads(data.removeprefix(_BOM)))
    except orjson.JSONDecodeError:  # the file changed since the scan
        return None


def _read_answers(f, offsets: np.ndarray, lengths: np.ndarray) -> list[str | None]:
    """Answers of the lines at ``offsets`` (in that order), read in file order."""
    texts: list[str | None] = [None] * len(offsets)
    off, size = offsets.tolist(), lengths.tolist()
    if hasattr(os, "pread"):  # one system call a line, no buffer to refill
        fd = f.fileno()

        def read(at: int, n: int) -> bytes:
            return os.pread(fd, n, at)
    else:  # Windows
        def read(at: int, n: int) -> bytes:
            f.seek(at)
            return f.read(n)
    for i in np.argsort(offsets, kind="stable").tolist():
        texts[i] = answer_text(read(off[i], size[i]))
    return texts


def conflict_chunk(path: str, offsets: np.ndarray, lengths: np.ndarray, keys: np.ndarray,
                   threshold: float = 0.5, ngram: int = 3, max_group: int = 64) -> list[tuple[np.ndarray, float]]:
    """Conflicts among the lines at ``offsets`` (whole prompt groups, each a run of equal
    ``keys``): (positions into the arguments, lowest similarity) per conflicting group.

    Runs in a worker: reads the lines itself from the plain file ``path``. Groups of up to
    ``max_group`` lines are read whole, in file order, and compared by
    ``clusters.conflicting_answers``. A larger group is read a batch at a time and stops at the
    first answer that differs materially from the group's first one (``_large_group``).
    """
    n = len(offsets)
    if not n:
        return []
    run = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    size = np.diff(np.append(run, n))
    large = size > max_group
    small = np.flatnonzero(~np.repeat(large, size))
    out: list[tuple[np.ndarray, float]] = []
    with open(path, "rb") as f:
        if len(small):
            texts = _read_answers(f, offsets[small], lengths[small])
            ok = np.flatnonzero(np.fromiter((t is not None for t in texts), dtype=bool, count=len(texts)))
            found = conflicting_answers(keys[small][ok], [texts[i] for i in ok.tolist()], threshold=threshold,
                                        ngram=ngram, max_group=max_group)
            out += [(small[ok[c.members]], float(c.min_similarity)) for c in found]
        for a, k in zip(run[large].tolist(), size[large].tolist()):
            hit = _large_group(f, offsets[a:a + k], lengths[a:a + k], threshold, ngram, max_group)
            if hit is not None:
                out.append((a + hit[0], hit[1]))
    out.sort(key=lambda c: int(c[0][0]))
    return out


# Lines of a large prompt group read (and shingled) at a time.
_LARGE_BATCH = 64


def _large_group(f, offsets: np.ndarray, lengths: np.ndarray, threshold: float, ngram: int,
                 max_group: int) -> tuple[np.ndarray, float] | None:
    """DP503 of one group of more than ``max_group`` lines: (positions, lowest similarity seen)
    or None.

    Each distinct answer is compared with the first one (as ``conflicting_answers`` does in a
    group this large), a batch at a time; the first similarity below ``threshold`` settles it:
    the rest is not read, its lines are members, and the similarity reported is the lowest seen
    until then. A group with no such answer was read whole; when it turns out to hold at most
    ``max_group`` distinct answers, ``conflicting_answers`` decides it like any small group.
    """
    from .clusters import _jaccard
    from .shingles import shingle_hashes

    n = len(offsets)
    texts: list[str | None] = []
    seen: set[int] = set()
    first: frozenset | None = None
    low = 1.0
    for s in range(0, n, _LARGE_BATCH):
        batch = _read_answers(f, offsets[s:s + _LARGE_BATCH], lengths[s:s + _LARGE_BATCH])
        texts += batch
        have = [t for t in batch if t is not None]
        if not have:
            continue
        h, c, exact = shingle_hashes(have, "word", ngram)
        hl = h.tolist()
        bounds = np.concatenate([[0], np.cumsum(c)]).tolist()
        for x, key in enumerate(exact.tolist()):
            if key in seen:
                continue
            seen.add(key)
            shingles = frozenset(hl[bounds[x]:bounds[x + 1]])
            if first is None:
                first = shingles
                continue
            low = min(low, _jaccard(first, shingles))
        if low < threshold:
            read = len(texts)
            members = [i for i, t in enumerate(texts) if t is not None] + list(range(read, n))
            return np.asarray(members, dtype=np.int64), low
    ok = [i for i, t in enumerate(texts) if t is not None]
    if len(seen) < 2 or len(seen) > max_group:
        return None  # one answer, or every distinct answer within the threshold of the first
    found = conflicting_answers(np.zeros(len(ok), dtype=np.int64), [texts[i] for i in ok], threshold=threshold,
                                ngram=ngram, max_group=max_group)
    if not found:
        return None
    return np.asarray(ok, dtype=np.int64)[found[0].members], float(found[0].min_similarity)


def chunks_of(group_sizes: np.ndarray, chunk: int | None = None) -> list[tuple[int, int]]:
    """Cut consecutive groups into (start, stop) position ranges of about ``chunk`` lines
    (default ``clusters._CONFLICT_CHUNK``), each group whole (a larger group is a chunk alone)."""
    chunk = chunk or clusters._CONFLICT_CHUNK
    bounds = np.concatenate([[0], np.cumsum(group_sizes)]).astype(np.int64)
    out: list[tuple[int, int]] = []
    g, n = 0, len(group_sizes)
    while g < n:
        stop = max(int(np.searchsorted(bounds, bounds[g] + chunk, side="right")) - 1, g + 1)
        stop = min(stop, n)
        out.append((int(bounds[g]), int(bounds[stop])))
        g = stop
    return out


def _run_chunk(args: tuple) -> list[tuple[np.ndarray, float]]:
    return conflict_chunk(*args)


class PendingConflicts:
    """DP503 started in the background: ``result()`` gives, per conflicting group, the wanted
    positions (indices into the ``offsets`` given) and the lowest answer similarity.

    Used as a context manager around the work done meanwhile (clusters, findings), so the
    workers overlap it and are ended if it fails.
    """

    def __init__(self, path: str, offsets: np.ndarray, lengths: np.ndarray, keys: np.ndarray,
                 group_sizes: np.ndarray, *, jobs: int | None = None, spool=None):
        self.args = (path, offsets, lengths, keys)
        self.spans = chunks_of(group_sizes)
        if jobs is None:
            from dataprep.scan import default_jobs

            jobs = default_jobs()
        self.jobs = jobs
        self.spool = spool  # callable returning (plain path, offsets) when path cannot be seeked
        self.pool = None  # dataprep.scan._pool: the scan's worker pool (lifetime, Ctrl-C, fast end)
        self.futures: list[Future] = []

    def __enter__(self) -> PendingConflicts:
        path, offsets, lengths, keys = self.args
        if self.jobs > 1 and len(offsets) >= PARALLEL_MIN and len(self.spans) > 1:
            if self.spool is not None:
                path, offsets = self.spool()
                self.args = (path, offsets, lengths, keys)
            from dataprep.scan import _pool

            self.pool = _pool(min(self.jobs, len(self.spans)))
            ex = self.pool.__enter__()
            self.futures = [ex.submit(_run_chunk, (path, offsets[a:b], lengths[a:b], keys[a:b]))
                            for a, b in self.spans]
        return self

    def result(self) -> list[tuple[np.ndarray, float]]:
        out: list[tuple[np.ndarray, float]] = []
        if self.pool is not None:
            for (a, _), fut in zip(self.spans, self.futures):
                out += [(a + pos, sim) for pos, sim in fut.result()]
            return out
        path, offsets, lengths, keys = self.args
        if self.spool is not None:
            path, offsets = self.spool()
        for a, b in self.spans:
            out += [(a + pos, sim) for pos, sim in conflict_chunk(path, offsets[a:b], lengths[a:b], keys[a:b])]
        return out

    def __exit__(self, exc_type, exc, tb) -> bool:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.__exit__(exc_type, exc, tb)
        return False


__all__ = ["PARALLEL_MIN", "PendingConflicts", "answer_text", "chunks_of", "conflict_chunk"]
