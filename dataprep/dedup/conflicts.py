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

from concurrent.futures import Future

import numpy as np
import orjson

from dataprep.text import prompt_and_answer

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
        pa = prompt_and_answer(orjson.loads(data.removeprefix(_BOM)))
    except orjson.JSONDecodeError:  # the file changed since the scan
        return None
    return None if pa is None else pa[1]


def conflict_chunk(path: str, offsets: np.ndarray, lengths: np.ndarray, keys: np.ndarray,
                   threshold: float = 0.5, ngram: int = 3, max_group: int = 64) -> list[tuple[np.ndarray, float]]:
    """Conflicts among the lines at ``offsets`` (whole prompt groups, ``keys`` equal within a
    group): (positions into the arguments, lowest similarity) per conflicting group.

    Runs in a worker: reads the lines itself, in file order, from the plain file ``path``.
    """
    texts: list[str | None] = [None] * len(offsets)
    order = np.argsort(offsets, kind="stable")
    with open(path, "rb") as f:
        for i in order.tolist():
            f.seek(int(offsets[i]))
            texts[i] = answer_text(f.read(int(lengths[i])))
    ok = np.flatnonzero(np.fromiter((t is not None for t in texts), dtype=bool, count=len(texts)))
    found = conflicting_answers(keys[ok], [texts[i] for i in ok.tolist()], threshold=threshold, ngram=ngram,
                                max_group=max_group)
    return [(ok[c.members], float(c.min_similarity)) for c in found]


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
