"""``dataprep dedup`` over a scanned Profile: clusters, DP500-DP503 findings, kept lines.

Only rows that are examples (``is_example``) take part: blank, unparsable and foreign-format
lines have no compared text (their sketches are all alike) and are never written by ``--out``;
they are counted as ``skipped_invalid``. Examples whose text could not be read (a content shape
the extraction does not know) or is blank are not compared either (``minhash.is_unread``): they
are in no cluster and ``--out`` keeps them. So every input line is kept, removed as a duplicate,
or not compared (``DedupReport.accounting``). Row ``k`` of the examples maps back to its input
line through ``rows["line"]``.

Texts are read back from the input only where a decision needs them: the answers of prompt
groups with two or more distinct answers (DP503, in worker processes on large files, while this
process builds the clusters: ``dedup.conflicts``) and, with ``against`` files, the word 13-grams
of both sides (DP502). Everything else comes from the Profile's signatures and exact keys.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import BinaryIO

import numpy as np
import orjson

from dataprep.checks.base import Sink
from dataprep.memory import collector_paused
from dataprep.schema.catalog import all_rules
from dataprep.schema.findings import Finding
from dataprep.text import compared_text, example_format

from . import lsh
from .clusters import EXACT, KEEP_POLICIES, DedupResult, find_duplicates
from .leakage import L_NGRAM, L_NONE, LEAK_KINDS, leakage
from .minhash import UNREAD_EMPTY, UNREAD_SHAPE
from .shingles import CONTAMINATION_NGRAM, ngram_hashes
from .split import groups_from_clusters

# Lines per batch when texts are re-read for 13-grams: bounds the Python strings held at once.
_TEXT_BATCH = 4096
# Re-read by seeking to each wanted line when fewer than 1/_SEEK_SHARE of the rows are wanted;
# otherwise stream the file once (sequential reads beat many seeks).
_SEEK_SHARE = 8
# Bytes per read when copying runs of lines to an output.
_COPY_BLOCK = 8 << 20


# ----------------------------------------------------------------------------- reading lines


def _plain(path: str) -> bool:
    """A regular uncompressed file, so lines can be read back by byte offset."""
    from dataprep.io.reader import open_binary

    if path == "-":
        return False
    try:
        with open_binary(path) as f:
            return type(f) is io.BufferedReader and f.seekable()
    except Exception:
        return False


def read_lines(profile, lines: Sequence[int] | np.ndarray) -> Iterator[tuple[int, bytes]]:
    """``(line, bytes without ending)`` for the given 1-based lines, in ascending line order."""
    from dataprep.io.reader import iter_lines, open_binary

    want = np.unique(np.asarray(lines, dtype=np.int64))
    if not len(want):
        return
    if _plain(profile.path) and len(want) * _SEEK_SHARE < profile.rows.height:
        off = profile.rows["offset"].to_numpy()
        length = profile.rows["length"].to_numpy()
        with open(profile.path, "rb") as f:
            for ln in want.tolist():
                f.seek(int(off[ln - 1]))
                yield ln, f.read(int(length[ln - 1]))
        return
    wanted = set(want.tolist())
    last = int(want[-1])
    with open_binary(profile.path) as f:
        for raw in iter_lines(f):
            if raw.number in wanted:
                yield raw.number, raw.data
            if raw.number >= last:
                break


def iter_compared_texts(profile, rows: np.ndarray) -> Iterator[tuple[int, str]]:
    """``(row index, compared text)`` of the given example rows (0-based), ascending."""
    fmts = profile.rows["format"].to_list()
    for ln, data in read_lines(profile, np.asarray(rows, dtype=np.int64) + 1):
        try:
            rec = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError:  # the file changed since the scan
            rec = {}
        yield ln - 1, compared_text(rec, example_format(fmts[ln - 1], profile.format), profile.options.compare)


def route_lines(profile, dest: np.ndarray, outs: Sequence[BinaryIO]) -> list[int]:
    """Copy every input line with ``dest[row] = k >= 0`` byte-identically to ``outs[k]``.

    Lines keep their own line ending; a last line without one gets ``\\n`` so the output stays
    JSON Lines. Returns the number of lines written to each output.
    """
    from dataprep.io.reader import iter_lines, open_binary

    dest = np.asarray(dest, dtype=np.int64)
    written = [int(np.count_nonzero(dest == k)) for k in range(len(outs))]
    n = profile.rows.height
    if n == 0 or not any(written):
        return written
    if _plain(profile.path):
        off = profile.rows["offset"].to_numpy().astype(np.int64)
        size = profile.size if profile.size is not None else off[-1] + int(profile.rows["length"][-1])
        end = np.append(off[1:], size)
        # Runs of consecutive rows with the same destination are one contiguous byte range.
        brk = np.flatnonzero(dest[1:] != dest[:-1]) + 1
        starts = np.concatenate([[0], brk])
        stops = np.concatenate([brk, [n]])
        with open(profile.path, "rb") as f:
            for a, b in zip(starts.tolist(), stops.tolist()):
                k = int(dest[a])
                if k < 0:
                    continue
                lo, hi = int(off[a]), int(end[b - 1])
                f.seek(lo)
                last = b""
                while lo < hi:
                    chunk = f.read(min(_COPY_BLOCK, hi - lo))
                    if not chunk:
                        break
                    outs[k].write(chunk)
                    last = chunk
                    lo += len(chunk)
                if not last.endswith(b"\n"):
                    outs[k].write(b"\n")
        return written
    with open_binary(profile.path) as f:
        for raw in iter_lines(f):
            i = raw.number - 1
            if i >= n:
                break
            k = int(dest[i])
            if k >= 0:
                outs[k].write(raw.data + (raw.ending or b"\n"))
    return written


# ----------------------------------------------------------------------------- results


@dataclass
class Leak:
    """DP502 matches of one ``against`` file (or index) against the analysed file."""

    path: str
    examples: int
    lines: np.ndarray  # 1-based lines of the other file that leak
    source: list[str]  # where each one comes from, for messages ("line 12", "corpus.jsonl line 3")
    kind: np.ndarray  # uint8, index into LEAK_KINDS
    similarity: np.ndarray  # float32
    index: str | None = None  # set when the matches come from a persistent index (then ``path`` is the checked file)

    def counts(self) -> dict[str, int]:
        return {name: int(np.count_nonzero(self.kind == k)) for k, name in enumerate(LEAK_KINDS) if k}

    def to_dict(self) -> dict:
        d = {"path": self.path, "examples": self.examples, "leaked": int(len(self.lines)), **self.counts()}
        return d | {"index": self.index} if self.index else d


@dataclass
class ConflictLines:
    lines: list[int]
    min_similarity: float


@dataclass
class DedupReport:
    """What ``dataprep dedup`` reports for one file."""

    path: str
    format: str
    lines_total: int
    example_lines: np.ndarray  # 1-based line of each example (index = example index)
    result: DedupResult
    keep: str
    compare: str
    skipped_invalid: int  # lines that are not examples: never compared, never written by --out
    findings: list[Finding]
    conflicts: list[ConflictLines] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    leak_ngram: int = 0
    exact_keys: np.ndarray | None = None  # per example: the reasons of the not-compared ones (minhash.UNREAD_*)

    @property
    def examples(self) -> int:
        return len(self.example_lines)

    def not_compared(self) -> dict[str, int]:
        """Lines that were not compared, by reason (every one is kept, or not an example)."""
        ex = self.exact_keys
        shape = int(np.count_nonzero(ex == UNREAD_SHAPE)) if ex is not None else 0
        empty = int(np.count_nonzero(ex == UNREAD_EMPTY)) if ex is not None else 0
        return {"unreadable_content": shape, "no_text": empty, "not_examples": self.skipped_invalid,
                "total": shape + empty + self.skipped_invalid}

    def accounting(self) -> dict[str, int]:
        """input lines = kept + removed as duplicates + not compared."""
        r = self.result
        removed = r.exact_duplicates + r.near_duplicates
        return {"lines": self.lines_total, "kept": r.kept, "removed": removed,
                "not_compared": self.not_compared()["total"]}

    @property
    def kept_lines(self) -> np.ndarray:
        """1-based lines of the examples to keep (non-example lines are never kept)."""
        return self.example_lines[self.result.is_kept]

    @property
    def leaked(self) -> int:
        return sum(len(x.lines) for x in self.leaks)

    def clusters(self) -> Iterator[dict]:
        """One dict per cluster of two or more lines, as ``--clusters`` writes them."""
        lines = self.example_lines
        for c in self.result.clusters():
            yield {
                "cluster": c.id,
                "lines": lines[c.members].tolist(),
                "kept": int(lines[c.kept]),
                "similarity": round(c.similarity, 4),
            }

    def largest_clusters(self, k: int = 5) -> list[dict]:
        sizes = np.diff(self.result.cluster_offsets)
        order = np.argsort(-sizes, kind="stable")[:k]
        return [
            {
                "cluster": int(c),
                "size": int(sizes[c]),
                "kept": int(self.example_lines[self.result.cluster_kept[c]]),
                "similarity": round(float(self.result.cluster_similarity[c]), 4),
                "lines": self.example_lines[
                    self.result.cluster_members[self.result.cluster_offsets[c] : self.result.cluster_offsets[c + 1]]
                ].tolist(),
            }
            for c in order.tolist()
        ]

    def to_dict(self) -> dict:
        """DESIGN.md's ``dedup --json`` object, plus context keys."""
        r = self.result
        d = {
            "examples": self.examples,
            "exact_duplicates": r.exact_duplicates,
            "near_duplicates": r.near_duplicates,
            "clusters": r.n_clusters,
            "kept": r.kept,
            "params": {k: r.params[k] for k in ("num_perm", "bands", "rows", "ngram", "threshold")}
            | {k: v for k, v in r.params.items() if k not in ("num_perm", "bands", "rows", "ngram", "threshold")},
            "path": self.path,
            "lines": self.lines_total,
            "skipped_invalid": self.skipped_invalid,
            "compare": self.compare,
            "keep": self.keep,
            "duplicate_share": round((self.examples - r.kept) / self.examples, 6) if self.examples else 0.0,
            "largest_cluster": int(np.diff(r.cluster_offsets).max()) if r.n_clusters else 0,
            "conflicts": len(self.conflicts),
            "conflict_lines": sum(len(c.lines) for c in self.conflicts),
            "removed": r.exact_duplicates + r.near_duplicates,
            "not_compared": self.not_compared(),
        }
        if self.leaks:
            d["leakage"] = [x.to_dict() for x in self.leaks]
            d["leak_ngram"] = self.leak_ngram
        return d


# ----------------------------------------------------------------------------- analysis


def example_index(profile) -> np.ndarray:
    """0-based rows of the profile that are examples."""
    if profile.rows.height == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(profile.rows["is_example"].to_numpy())


def example_sketch(profile, ex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signatures, exact keys) of the example rows ``ex``: views, not copies, when every row is
    an example (the usual case; a copy of 1M signatures is 512 MB and ~1 s)."""
    if len(ex) == len(profile.exact):  # ex is sorted and unique, so it is every row
        return profile.signatures, profile.exact
    return profile.signatures[ex], profile.exact[ex]


def duplicates(profile, keep: str = "first") -> tuple[np.ndarray, DedupResult]:
    """(example rows, clusters over them) with the profile's MinHash settings."""
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {keep!r}")
    profile.require("sketch", "near-duplicate detection")
    ex = example_index(profile)
    kw = {}
    if keep != "first":
        profile.require("tokens", f"--keep {keep}")
    if keep == "longest":
        kw["lengths"] = profile.rows["tokens_total"].to_numpy()[ex]
    elif keep == "most-trainable-tokens":
        kw["trainable_tokens"] = profile.rows["tokens_trainable"].to_numpy()[ex]
    res = find_duplicates(*example_sketch(profile, ex), profile.options.minhash, keep=keep, **kw)
    return ex, res


def _dup_findings(sink: Sink, lines: np.ndarray, res: DedupResult, sigs: np.ndarray, exact: np.ndarray) -> None:
    """DP500/DP501 on every duplicate line. A million-line file can have ~1.5M of them, most
    saying the same as their neighbours (40 copies of one original share a cluster, a kept
    line and often an estimate): each distinct message is formatted once and shared by every
    Finding that says it (a string per line was ~250 MB at 1M lines), and the Findings are
    built directly (what ``Sink.add`` builds, without its per-call rule lookup)."""
    n = len(exact)
    if not res.n_clusters:
        return
    _, first, inverse = np.unique(exact, return_index=True, return_inverse=True)
    first_of = first[inverse.ravel()]
    del inverse
    kept_of = np.full(n, -1, dtype=np.int64)
    member = res.cluster_id >= 0
    kept_of[member] = res.cluster_kept[res.cluster_id[member]]
    dup = np.flatnonzero(res.dup_kind != 0)
    if not len(dup):
        return
    c_d = res.cluster_id[dup].astype(np.int64)
    f_d = first_of[dup]
    is_exact = res.dup_kind[dup] == EXACT
    near = dup[~is_exact]
    sim = lsh.pair_similarity(sigs, near, sigs, kept_of[near]) if len(near) else np.zeros(0, np.float32)
    # One key per distinct message: an exact copy's message depends on its cluster and the first
    # line of its exact group (the kept line is the cluster's); a near copy's on its cluster and
    # its estimate (compared by the float32's bits: equal bits, equal text).
    key = np.empty(len(dup), dtype=np.int64)
    key[is_exact] = f_d[is_exact]
    key[~is_exact] = np.asarray(sim, dtype=np.float32).view(np.uint32).astype(np.int64)
    # (cluster, key, near) packed in one int64: clusters < 2^30, keys (row or float32 bits) < 2^32
    packed = (c_d << 33) | (key << 1) | (~is_exact).astype(np.int64)
    uniq, slot = np.unique(packed, return_inverse=True)
    slot = slot.ravel()
    del packed, key
    sizes = np.diff(res.cluster_offsets)
    where = {}
    messages = []
    shared: dict[str, str] = {}
    # The parts of each key, decoded for all keys at once (a near copy's estimate is the float32
    # whose bits are its key).
    u_cluster = (uniq >> 33).tolist()
    u_key = (uniq >> 1) & 0xFFFFFFFF
    u_sim = u_key.astype(np.uint32).view(np.float32).tolist()
    line_of = lines.tolist()
    kept_rows = res.cluster_kept.tolist()
    for c, k, near_kind, s in zip(u_cluster, u_key.tolist(), (uniq & 1).tolist(), u_sim):
        w = where.get(c)
        if w is None:
            w = where[c] = f"cluster {c}: {int(sizes[c])} lines, min similarity {float(res.cluster_similarity[c]):.2f}"
        kept = kept_rows[c]
        kept_line = line_of[kept]
        if near_kind:
            m = f"near duplicate of line {kept_line} (kept): estimated Jaccard {s:.2f} ({w})"
            messages.append(shared.setdefault(m, m))  # estimates that differ below 0.01 read alike
        else:
            what = "which is kept" if k == kept else f"line {kept_line} is kept"
            messages.append(f"same example as line {line_of[k]} after normalisation, {what} ({w})")
    rules = all_rules()
    r500, r501 = rules["DP500"], rules["DP501"]
    path, add = sink.path, sink.findings.append
    with collector_paused():  # a million acyclic Findings
        for ex_, ln, j in zip(is_exact.tolist(), lines[dup].tolist(), slot.tolist()):
            if ex_:
                add(Finding("DP500", r500.name, r500.severity, path, ln, messages[j]))
            else:
                add(Finding("DP501", r501.name, r501.severity, path, ln, messages[j]))


class _Conflicts:
    """DP503 of one file, started by ``_start_conflicts`` and collected by ``lines()``.

    Only prompt groups with two or more distinct answers can conflict: of lines with the same
    prompt and the same compared text (exact copies) only the first is read back, and a group
    with one such line is never read. ``--compare user`` compares the prompt itself, so there
    every line of a prompt group is read (its exact key says nothing about the answer).
    """

    def __init__(self, profile, ex: np.ndarray, jobs: int | None, tmp: str):
        from .conflicts import PendingConflicts
        from .minhash import is_unread

        self.pending = None
        prompt = profile.rows["prompt_hash"].to_numpy()
        ph = prompt[ex]
        has = (ph != 0) & ~is_unread(profile.exact[ex])
        cand = ex[has]
        keys = ph[has].astype(np.uint64)
        if not len(cand):
            return
        if profile.options.compare == "user":
            first = np.arange(len(cand))
            inverse = first.copy()
        else:
            # One line stands for each (prompt, exact key): its copies have the same answer words.
            # (prompt, exact key) pairs in lexicographic order, each pair's first line: what
            # np.unique(axis=0) gives, in two stable integer sorts instead of a structured one.
            answer = profile.exact[cand].astype(np.uint64)
            order = np.lexsort((answer, keys))
            k0, k1 = keys[order], answer[order]
            new = np.concatenate([[True], (k0[1:] != k0[:-1]) | (k1[1:] != k1[:-1])])
            first = order[new]
            inverse = np.empty(len(cand), dtype=np.int64)
            inverse[order] = np.cumsum(new) - 1
        # Representatives grouped by prompt; groups of one cannot conflict. Inside a group they
        # stay in np.unique's (prompt, exact key) order: the first of them is the one the others
        # are compared with, so this order fixes the similarity DP503 reports.
        order = np.argsort(keys[first], kind="stable")
        k = keys[first][order]
        start = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
        size = np.diff(np.append(start, len(k)))
        multi = np.repeat(size >= 2, size)
        self.want = order[multi]  # representative indices (into ``first``) to read, group by group
        if not len(self.want):
            return
        self.cand, self.first, self.inverse = cand, first, inverse
        rep_rows = cand[first[self.want]]
        off = profile.rows["offset"].to_numpy()[rep_rows].astype(np.int64)
        length = profile.rows["length"].to_numpy()[rep_rows].astype(np.int64)
        spool = None if _plain(profile.path) else (lambda: _spool_lines(profile, rep_rows, tmp))
        self.pending = PendingConflicts(profile.path, off, length, keys[first[self.want]], size[size >= 2],
                                        jobs=jobs, spool=spool).__enter__()

    def close(self, exc_type=None, exc=None, tb=None) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.__exit__(exc_type, exc, tb)

    def lines(self) -> list[ConflictLines]:
        if self.pending is None:
            return []
        found = self.pending.result()
        by_rep = np.argsort(self.inverse, kind="stable")  # rows of representative r: by_rep[lo[r]:lo[r + 1]]
        lo = np.searchsorted(self.inverse[by_rep], np.arange(len(self.first) + 1))
        out = []
        for pos, sim in found:
            members = np.sort(np.concatenate([by_rep[lo[r]:lo[r + 1]] for r in self.want[pos].tolist()]))
            out.append(ConflictLines((self.cand[members] + 1).tolist(), sim))
        out.sort(key=lambda c: c.lines[0])
        return out


def _spool_lines(profile, rows: np.ndarray, tmp: str) -> tuple[str, np.ndarray]:
    """Copy the lines of ``rows`` (0-based, any order) out of a compressed file or stdin into a
    plain file under ``tmp``, so workers can seek to them: (its path, each row's new offset)."""
    import os

    path = os.path.join(tmp, "dp503-lines.jsonl")
    at: dict[int, int] = {}
    pos = 0
    with open(path, "wb") as f:
        for ln, data in read_lines(profile, rows + 1):
            at[ln - 1] = pos
            f.write(data + b"\n")
            pos += len(data) + 1
    if len(at) != len(np.unique(rows)):
        raise ValueError(f"{profile.path} changed since it was scanned (rerun with --no-cache)")
    return path, np.fromiter((at[r] for r in rows.tolist()), dtype=np.int64, count=len(rows))


def _conflicts(profile, ex: np.ndarray, jobs: int | None = None) -> list[ConflictLines]:
    """DP503 conflict groups of the examples ``ex`` (see ``_Conflicts``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dataprep-dp503-") as tmp:
        job = _Conflicts(profile, ex, jobs, tmp)
        try:
            return job.lines()
        finally:
            job.close()


def _ngrams_of(profile, rows: np.ndarray, n: int, keep: np.ndarray | None = None):
    """Word n-gram hashes of the compared texts of ``rows``: (hashes, counts per row).

    With ``keep`` (sorted unique hashes) only those n-grams are kept, so a large training file
    costs memory only for the n-grams the other side has.
    """
    hs, cs = [], []
    batch: list[str] = []

    def flush():
        h, c = ngram_hashes(batch, n)
        if keep is not None:
            doc = np.repeat(np.arange(len(c)), c)
            m = np.isin(h, keep)
            h = h[m]
            c = np.bincount(doc[m], minlength=len(c))
        hs.append(h)
        cs.append(c.astype(np.int64))
        batch.clear()

    seen = 0
    for _, text in iter_compared_texts(profile, rows):
        batch.append(text)
        seen += 1
        if len(batch) >= _TEXT_BATCH:
            flush()
    if batch:
        flush()
    if seen != len(rows):
        raise ValueError(f"{profile.path} changed since it was scanned (rerun with --no-cache)")
    if not hs:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(rows), dtype=np.int64)
    return np.concatenate(hs), np.concatenate(cs)


def _leak(profile, ex, other, leak_ngram: int, min_share: float = 0.0, groups: np.ndarray | None = None) -> Leak:
    profile.require("sketch", "leakage detection")
    other.require("sketch", "leakage detection")
    oex = example_index(other)
    cfg = profile.options.minhash
    kw = {}
    if leak_ngram:
        oh, oc = _ngrams_of(other, oex, leak_ngram)
        th, tc = _ngrams_of(profile, ex, leak_ngram, keep=np.unique(oh)) if len(oh) else (
            np.zeros(0, np.uint64), np.zeros(len(ex), np.int64))
        kw = {"train_ngrams": (th, tc), "other_ngrams": (oh, oc)}
    res = leakage(*example_sketch(profile, ex), *example_sketch(other, oex), cfg, train_groups=groups, **kw)
    weak = (res.kind == L_NGRAM) & (res.similarity < np.float32(min_share))
    hit = np.flatnonzero((res.kind != L_NONE) & ~weak)
    train_lines = ex[res.match[hit]] + 1
    return Leak(other.path, len(oex), oex[hit] + 1, [f"line {int(x)}" for x in train_lines],
                res.kind[hit], res.similarity[hit])


def leak_findings(leak: Leak, train_path: str, ngram: int) -> list[Finding]:
    """DP502 errors at the leaking lines of ``leak.path``."""
    sink = Sink(leak.path)
    for ln, src, k, s in zip(leak.lines.tolist(), leak.source, leak.kind.tolist(), leak.similarity.tolist()):
        kind = LEAK_KINDS[k]
        if kind == "exact":
            msg = f"same example (after normalisation) as {train_path} {src}"
        elif kind == "near":
            msg = f"near duplicate (estimated Jaccard {s:.2f}) of {train_path} {src}"
        else:
            msg = (f"shares a {ngram}-word passage with {train_path} {src} ({s:.0%} of this example's word "
                   f"{ngram}-grams are in the training file)")
        sink.add("DP502", msg, line=ln)
    return sink.findings


def conflict_findings(path: str, confl) -> list:
    """DP503 on every line of a conflict group after its first (shared by the local and Ray paths)."""
    cs = Sink(path)
    r = all_rules()["DP503"]
    add = cs.findings.append
    with collector_paused():  # half a million acyclic Findings at 1M lines
        for c in confl:
            first = c.lines[0]
            # One message per group (a group of 10,000 copies shares it).
            msg = (f"same prompt as line {first} with a materially different answer (lowest answer "
                   f"similarity {c.min_similarity:.2f} among lines {', '.join(map(str, c.lines[:8]))}"
                   f"{'…' if len(c.lines) > 8 else ''})")
            for ln in c.lines[1:]:
                add(Finding("DP503", r.name, r.severity, path, ln, msg))
    return cs.findings


def analyze(
    profile,
    *,
    keep: str = "first",
    against: Iterable | None = None,
    conflicts: bool = True,
    leak_ngram: int = CONTAMINATION_NGRAM,
    leak_min_share: float = 0.0,
    indexes: Sequence = (),
    find=duplicates,
    sketch=example_sketch,
    jobs: int | None = None,
) -> DedupReport:
    """Duplicates, conflicts and leakage of one scanned file.

    ``against``: Profiles of held-out files (scanned with the same MinHash options); each line of
    theirs that duplicates, near-duplicates or shares a word ``leak_ngram``-gram (0: off) with an
    example of ``profile`` gets a DP502 error; ``leak_min_share`` drops n-gram-only matches
    covering less than that share of the line's n-grams (0: any shared n-gram counts, as in
    GPT-3-style contamination checks; templated answers then match too). ``indexes``: objects with ``check(profile, ex)``
    returning a ``Leak`` (see ``dedup.index``); their matches are DP502 errors on this file.
    ``find`` (``duplicates``' signature) and ``sketch`` (``example_sketch``'s) are how the clusters
    and the examples' signatures are had: the Ray engine passes its distributed ones.
    ``jobs``: worker processes for DP503 on large files (default: every core; 1: this process).
    """
    import tempfile

    confl: list[ConflictLines] = []
    with tempfile.TemporaryDirectory(prefix="dataprep-dp503-") as tmp:
        # DP503 runs in worker processes (on large files) while this one builds the clusters
        # and their findings: the two do not depend on each other.
        job = _Conflicts(profile, example_index(profile), jobs, tmp) if conflicts else None
        try:
            ex, res = find(profile, keep)
            lines = ex + 1
            sink = Sink(profile.path)
            sigs, exact = sketch(profile, ex)
            _dup_findings(sink, lines, res, sigs, exact)
            found = sink.findings
            if job is not None:
                confl = job.lines()
        except BaseException as e:
            if job is not None:
                job.close(type(e), e, e.__traceback__)
            raise
        if job is not None:
            job.close()
    found += conflict_findings(profile.path, confl)
    leaks = []
    for other in against or ():
        if other.options.minhash != profile.options.minhash or other.options.compare != profile.options.compare:
            raise ValueError(f"{other.path} was scanned with other dedup options than {profile.path}")
        lk = _leak(profile, ex, other, leak_ngram, leak_min_share, groups_from_clusters(res.cluster_id))
        leaks.append(lk)
        found += leak_findings(lk, profile.path, leak_ngram)
    for idx in indexes:
        lk = idx.check(profile, ex)
        leaks.append(lk)
        s = Sink(profile.path)
        for ln, src, k, sim in zip(lk.lines.tolist(), lk.source, lk.kind.tolist(), lk.similarity.tolist()):
            how = "same example (after normalisation) as" if LEAK_KINDS[k] == "exact" else \
                f"near duplicate (estimated Jaccard {sim:.2f}) of"
            s.add("DP502", f"already in index {idx.name}: {how} {src}", line=ln)
        found += s.findings
    # This file's findings by line and rule, then the other files' (DP502) by path, line, rule;
    # attrgetter builds the keys in C (a million findings: ~1 s less than a lambda's tuples).
    own = [f for f in found if f.path == profile.path]
    others = [f for f in found if f.path != profile.path]
    own.sort(key=attrgetter("line", "rule"))
    others.sort(key=attrgetter("path", "line", "rule"))
    found = own + others
    n_lines = profile.rows.height
    return DedupReport(profile.path, profile.format, n_lines, lines, res, keep, profile.options.compare,
                       n_lines - len(ex), found, confl, leaks, leak_ngram, exact)


def no_leak(path: str, examples: int, index: str | None = None) -> Leak:
    """An empty ``Leak`` (no line of ``path`` matched)."""
    return Leak(path, examples, np.zeros(0, np.int64), [], np.zeros(0, np.uint8), np.zeros(0, np.float32), index)


# ----------------------------------------------------------------------------- terminal summary


def summary_renderables(report: DedupReport, *, top: int = 5) -> list:
    """The summary table and the biggest clusters of ``dataprep dedup`` (rich renderables)."""
    from rich.table import Table

    d = report.to_dict()
    p = d["params"]
    t = Table(title=f"dedup {report.path} (compared: {report.compare})", title_justify="left")
    t.add_column("", style="bold")
    t.add_column("count", justify="right")
    t.add_column("share", justify="right")
    n = d["examples"]

    def share(x: int) -> str:
        return f"{x / n:.1%}" if n else ""

    t.add_row("examples", f"{n:,}", "")
    t.add_row("exact duplicates (DP500)", f"{d['exact_duplicates']:,}", share(d["exact_duplicates"]))
    t.add_row("near duplicates (DP501)", f"{d['near_duplicates']:,}", share(d["near_duplicates"]))
    t.add_row("clusters (2+ lines)", f"{d['clusters']:,}", "")
    t.add_row(f"kept (keep {report.keep})", f"{d['kept']:,}", share(d["kept"]))
    nc = d["not_compared"]
    if nc["unreadable_content"]:
        t.add_row("not compared: content not read (kept)", f"{nc['unreadable_content']:,}", "")
    if nc["no_text"]:
        t.add_row("not compared: no text (kept)", f"{nc['no_text']:,}", "")
    if report.skipped_invalid:
        t.add_row("not compared: not examples (not written)", f"{report.skipped_invalid:,}", "")
    # the count is the DP503 findings (every answer of a prompt after its first), as the findings
    # list shows them; the group's first answer is counted in the lines, not flagged
    t.add_row("conflicting answers (DP503)", f"{d['conflict_lines'] - d['conflicts']:,}",
              f"{d['conflicts']:,} prompts, {d['conflict_lines']:,} lines")
    for lk in report.leaks:
        c = lk.counts()
        label = f"already in index {lk.index}" if lk.index else f"leaked from {lk.path}"
        t.add_row(f"{label} (DP502)", f"{len(lk.lines):,}",
                  f"of {lk.examples:,}: exact {c['exact']}, near {c['near']}, n-gram {c.get('ngram', 0)}")
    t.caption = (f"MinHash {p['num_perm']} permutations, {p['bands']}x{p['rows']} LSH bands, {p['mode']} "
                 f"{p['ngram']}-gram shingles, estimated Jaccard >= {p['threshold']}")
    acc = report.accounting()
    out: list = [t, (f"{acc['lines']:,} input lines = {acc['kept']:,} kept + {acc['removed']:,} removed as "
                     f"duplicates + {acc['not_compared']:,} not compared")]
    if nc["unreadable_content"]:
        out.append(f"{nc['unreadable_content']:,} example(s) hold message content of a shape dedup cannot read "
                   "(not a string or a list of text parts): they were not compared and are kept; "
                   "`dataprep validate` shows them")
    if report.result.n_clusters:
        c = Table(title=f"largest clusters (of {d['clusters']:,})", title_justify="left", box=None)
        for col, j in (("cluster", "right"), ("lines", "right"), ("kept", "right"), ("min sim.", "right"),
                       ("members", "left")):
            c.add_column(col, justify=j)
        for x in report.largest_clusters(top):
            more = "…" if len(x["lines"]) > 8 else ""
            c.add_row(str(x["cluster"]), str(x["size"]), str(x["kept"]), f"{x['similarity']:.2f}",
                      ", ".join(map(str, x["lines"][:8])) + more)
        out.append(c)
    return out


__all__ = [
    "ConflictLines",
    "DedupReport",
    "L_NONE",
    "Leak",
    "analyze",
    "compared_text",
    "duplicates",
    "example_index",
    "iter_compared_texts",
    "leak_findings",
    "no_leak",
    "read_lines",
    "route_lines",
    "summary_renderables",
]
