"""The Ray executor: the local scan's own shard functions run as Ray tasks, and distributed dedup.

One scan driver, two executors. ``dataprep.scan.scan`` does everything but running the shards
(stdin, the cache, sniffing, JSON arrays, cutting with the local engine's ``plan_ranges``, the
merge); ``RayExecutor`` runs each shard (``scan_range`` for a byte range, ``scan_block`` for a
block of bytes) as a Ray task: the Profile, its findings and its rows are the local engine's.

* Object storage: a path with a scheme (``s3://``, ``gs://``, ``file://``, anything
  ``pyarrow.fs.FileSystem.from_uri`` opens) is opened by the executor (``RayExecutor.open``):
  the driver cuts it into line-aligned byte ranges by reading a few bytes at each cut, and each
  task reads its own range with ``read_at``; gzip/zstd objects are read in blocks.
* Local paths on a cluster: a task first checks that it sees the file (same path, same size,
  i.e. a shared filesystem); where it does not, the submitting process reads that range and ships
  the bytes to a ``scan_block`` task instead.
* Dedup (``analyze`` / ``duplicates``): with ``scan(..., signatures="cluster")`` each scan task
  returns its examples' MinHash block as a separate object that stays in the cluster (a
  ``ClusterProfile``). Band hashes are computed next to each block; the driver links the buckets
  with the local code (``lsh.link_buckets``, linear in bucket size) and every batch of pairs it
  verifies goes to tasks routed by the two signature blocks a pair touches
  (``lsh.pair_similarity`` next to them). The driver holds per-example integers (exact keys, band
  hashes, union-find parents), never the signature matrix. The rest of the analysis is
  ``dedup.analyze.analyze`` itself, given these two functions.
* Audit: one Ray task per file runs the scan (its shards as nested tasks) and ``assess``.

Results equal the local engine's; tests/test_ray.py checks it line by line.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dataprep.io.reader import InputError, compression_of
from dataprep.scan import Profile, Source, open_source, scan_block, scan_range

# Rows per signature block when a Profile's signatures already sit on the driver (cache hit,
# driver-mode scan): 32768 x 128 x 4 bytes = 16 MiB, the size of a scan shard's block.
_BLOCK_ROWS = 32768
# Blocks of a verification task kept fetched at once (pairs are grouped by block pair).
_VERIFY_CACHE = 4


def _ray():
    try:
        import ray
    except ImportError:
        from . import EngineError

        raise EngineError("the ray engine needs the ray extra: pip install 'dataprep-chat[ray]'") from None
    return ray


def is_uri(path: str) -> bool:
    """A path pyarrow opens as a filesystem URI (s3://, gs://, file://, hdfs://...)."""
    return path != "-" and "://" in path


_REMOTE: dict[str, object] = {}


def _remote(fn: Callable, **options):
    """``fn`` as a Ray remote function (made once per process: ray is an optional import)."""
    ray = _ray()
    rf = _REMOTE.get(fn.__name__)
    if rf is None:
        rf = _REMOTE[fn.__name__] = ray.remote(fn)
    return rf.options(**options) if options else rf


# --------------------------------------------------------------------------------------------- tasks
# Plain module-level functions: Ray ships them by reference, workers import this module.

def _visible(path: str, size: int) -> bool:
    try:
        return os.path.isfile(path) and os.path.getsize(path) == size
    except OSError:
        return False


def _split(shard, split: bool):
    """With ``split``: (shard without signatures, its examples' signature block)."""
    if not split:
        return shard
    mask = np.asarray(shard.columns["is_example"], dtype=bool)
    block = np.ascontiguousarray(shard.signatures[mask])
    # Zero-width, so _merge's concatenation keeps one row per line and costs nothing.
    shard.signatures = np.zeros((shard.lines, 0), dtype=np.uint32)
    return shard, block


def _task_range(path, start, end, expected, opts, size, split):
    if not _visible(path, size):
        return (None, None) if split else None  # the submitter ships the bytes instead
    return _split(scan_range(path, start, end, expected, opts), split)


def _task_block(data, offset, path, expected, opts, split):
    return _split(scan_block(data, offset, path, expected, opts), split)


def _task_uri_range(uri, start, end, expected, opts, split):
    fs, p = _fs(uri)
    with fs.open_input_file(p) as f:
        data = f.read_at(end - start, start)
    return _split(scan_block(data, start, uri, expected, opts), split)


def _task_take(block, rows):
    return block[rows]


def _task_bands(block, first, candidate, bands, rows):
    """Band hashes of one block's non-empty ``candidate`` examples: (example indices, (k, bands))."""
    from dataprep.dedup import lsh
    from dataprep.dedup.minhash import is_empty

    act = np.flatnonzero(candidate & ~is_empty(block)) if len(block) else np.zeros(0, np.int64)
    return act.astype(np.int64) + first, lsh.band_hashes(block, bands, rows, act)


def _pair_partition(i, j, starts, nparts):
    bi = np.searchsorted(starts, i, side="right") - 1
    bj = np.searchsorted(starts, j, side="right") - 1
    return ((bi * len(starts) + bj) % nparts).astype(np.int64)


def _task_similarity(blocks, starts, i, j):
    """Estimated Jaccard of example pairs (i[k], j[k]), read next to their signature blocks."""
    import ray

    from dataprep.dedup import lsh

    sim = np.empty(len(i), dtype=np.float32)
    if not len(i):
        return sim
    bi = np.searchsorted(starts, i, side="right") - 1
    bj = np.searchsorted(starts, j, side="right") - 1
    order = np.lexsort((bj, bi))  # pairs of one block pair together: each block fetched ~once
    brk = np.flatnonzero((bi[order][1:] != bi[order][:-1]) | (bj[order][1:] != bj[order][:-1])) + 1
    cache: dict[int, np.ndarray] = {}

    def block(b: int) -> np.ndarray:
        if b not in cache:
            if len(cache) >= _VERIFY_CACHE:
                cache.pop(next(iter(cache)))
            cache[b] = ray.get(blocks[b])
        return cache[b]

    for a, z in zip(np.concatenate([[0], brk]).tolist(), np.concatenate([brk, [len(i)]]).tolist()):
        o = order[a:z]
        x, y = int(bi[o[0]]), int(bj[o[0]])
        sim[o] = lsh.pair_similarity(block(x), i[o] - starts[x], block(y), j[o] - starts[y])
    return sim


def _task_assess(path, preset, cache, against, shard_bytes):
    """One file of an audit on a worker: None when this worker cannot see the file."""
    from dataprep.gate.verdict import unreadable_assessment

    if not is_uri(path) and path != "-" and not os.path.lexists(path):
        return None
    try:
        return _assess_path(path, preset, cache, against, shard_bytes)
    except Exception as e:  # a bug on one file must not lose the other rows (as dataprep.audit)
        return unreadable_assessment(path, f"analysis failed: {type(e).__name__}: {e}", preset.name)


# --------------------------------------------------------------------------------------------- object storage

def _fs(uri: str):
    from pyarrow import fs as pafs

    return pafs.FileSystem.from_uri(uri)


def _next_line_start(f, pos: int, size: int) -> int:
    """The offset after the first newline at or after ``pos`` (``size`` when there is none)."""
    window = 1 << 16
    while pos < size:
        chunk = f.read_at(min(window, size - pos), pos)
        if not chunk:
            break
        k = chunk.find(b"\n")
        if k >= 0:
            return pos + k + 1
        pos += len(chunk)
        window *= 2  # a 50 MB line costs a few reads, not thousands
    return size


def download(uri: str, dest: str) -> str:
    """Copy an object to a local file (streamed); returns ``dest``."""
    fs, p = _fs(uri)
    with fs.open_input_stream(p) as src, open(dest, "wb") as out:
        while True:
            chunk = src.read(8 << 20)
            if not chunk:
                break
            out.write(chunk)
    return dest


# --------------------------------------------------------------------------------------------- scan

@dataclass
class ClusterSignatures:
    """A file's example signatures as blocks in the Ray object store.

    Block ``b`` holds examples ``starts[b]:starts[b+1]`` (example index = position among the
    Profile's ``is_example`` rows), shape (rows, num_perm) uint32.
    """

    blocks: list
    starts: np.ndarray  # int64, len(blocks) + 1
    num_perm: int

    @property
    def examples(self) -> int:
        return int(self.starts[-1])

    def take(self, idx: np.ndarray) -> np.ndarray:
        """Signature rows of sorted unique example indices, each block sliced where it lives."""
        idx = np.asarray(idx, dtype=np.int64)
        if not len(idx):
            return np.zeros((0, self.num_perm), dtype=np.uint32)
        ray = _ray()
        b = np.searchsorted(self.starts, idx, side="right") - 1
        refs = []
        for blk in np.unique(b).tolist():
            local = idx[b == blk] - self.starts[blk]
            refs.append(_remote(_task_take).remote(self.blocks[blk], local))
        return np.concatenate(ray.get(refs))

    def gather(self) -> np.ndarray:
        ray = _ray()
        parts = ray.get(self.blocks) if self.blocks else []
        return np.concatenate(parts) if parts else np.zeros((0, self.num_perm), dtype=np.uint32)


@dataclass
class ClusterProfile(Profile):
    """A Profile whose signatures stay in the cluster (``signatures`` is zero-width here)."""

    remote: ClusterSignatures | None = None

    def materialize(self) -> None:
        """Fetch the signatures into ``signatures`` (rows x num_perm, as a local scan has them)."""
        if self.remote is None or self.signatures.shape[1] == self.options.minhash.num_perm:
            return
        from dataprep.dedup.minhash import sketch

        n = self.rows.height
        empty = sketch([""], self.options.minhash)[0][0]  # what a local scan stores for non-examples
        full = np.tile(empty, (n, 1)).astype(np.uint32)
        if n:
            full[np.flatnonzero(self.rows["is_example"].to_numpy())] = self.remote.gather()
        self.signatures = full


def _example_mask(profile) -> np.ndarray:
    if profile.rows.height == 0:
        return np.zeros(0, dtype=bool)
    return profile.rows["is_example"].to_numpy().astype(bool)


def _to_cluster(prof: Profile, blocks: list | None = None, counts: list[int] | None = None) -> ClusterProfile:
    """Wrap a Profile; without blocks its driver-side signatures are put into the store in blocks."""
    ray = _ray()
    num_perm = prof.options.minhash.num_perm
    if blocks is None:
        sig = prof.signatures[_example_mask(prof)] if prof.signatures.shape[1] else np.zeros((0, num_perm), np.uint32)
        blocks, counts = [], []
        for a in range(0, len(sig), _BLOCK_ROWS):
            part = np.ascontiguousarray(sig[a:a + _BLOCK_ROWS])
            blocks.append(ray.put(part))
            counts.append(len(part))
    starts = np.zeros(len(blocks) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    kw = {f.name: getattr(prof, f.name) for f in dataclasses.fields(Profile)}
    kw["signatures"] = np.zeros((prof.rows.height, 0), dtype=np.uint32)
    return ClusterProfile(**kw, remote=ClusterSignatures(blocks, starts, num_perm))


class RayExecutor:
    """A scan's shards as Ray tasks: ``dataprep.scan.scan(path, executor=RayExecutor(cpus))``.

    ``jobs``: the cluster's CPUs, which size the shards as the local engine's ``jobs`` do.
    ``split``: keep each shard's signature block in the cluster; ``finish`` then gives a
    ``ClusterProfile`` (not cached: its signatures are not here). ``inflight``: blocks of
    compressed input read ahead. ``inline_single``: a one-shard file is scanned in this process
    (an audit task, already on a worker). ``shard_bytes``: the largest shard (an audit task gets
    its driver's); None: ``dataprep.scan.SHARD_BYTES``.
    """

    def __init__(self, jobs: int = 1, *, split: bool = False, inflight: int = 4, inline_single: bool = False,
                 shard_bytes: int | None = None):
        self.jobs = max(1, int(jobs))
        self.split = split
        self.inflight = max(1, int(inflight))
        self.inline_single = inline_single
        self.shard_bytes = shard_bytes
        self.used = 0
        self._blocks: list | None = None  # the last run's signature blocks (split) and their example counts
        self._counts: list[int] = []

    @property
    def caches(self) -> bool:
        return not self.split

    def open(self, path: str) -> Source:
        return _open_uri(path) if is_uri(path) else open_source(path)

    def run_ranges(self, path, ranges, expected, opts, bar) -> list:
        return self._ranges(path, ranges, expected, opts, ranges[-1][1] if ranges else 0, bar)

    def _ranges(self, path, ranges, expected, opts, size, bar) -> list:
        """Byte ranges as tasks; a local range a worker cannot see (``size`` differs) is shipped as bytes."""
        ray = _ray()
        split = self.split
        nret = 2 if split else 1
        self.used = min(self.jobs, len(ranges))
        if self.inline_single and len(ranges) == 1:
            s, e = ranges[0]
            out = _split(scan_range(path, s, e, expected, opts), split)
            bar.advance(e - s, (out[0] if split else out).lines)
            self.used = 1
            return self._keep([(out[0], ray.put(out[1])) if split else out])
        if is_uri(path):
            refs = [_remote(_task_uri_range, num_returns=nret).remote(path, s, e, expected, opts, split)
                    for s, e in ranges]
        else:
            refs = [_remote(_task_range, num_returns=nret).remote(path, s, e, expected, opts, size, split)
                    for s, e in ranges]
        outs = []
        for (s, e), ref in zip(ranges, refs):
            meta = ray.get(ref[0] if split else ref)
            out = (meta, ref[1]) if split else meta
            if meta is None:  # the worker does not see this file: ship the bytes
                with open(path, "rb") as f:
                    f.seek(s)
                    data = f.read(e - s)
                r = _remote(_task_block, num_returns=nret).remote(data, s, path, expected, opts, split)
                out = (ray.get(r[0]), r[1]) if split else ray.get(r)
                meta = out[0] if split else out
            outs.append(out)
            bar.advance(e - s, meta.lines)
        return self._keep(outs)

    def run_blocks(self, path, blocks, expected, opts, bar) -> list:
        """Blocks read by the driver (compressed input, stdin, objects) as tasks, bounded read-ahead."""
        ray = _ray()
        split = self.split
        nret = 2 if split else 1
        outs, pending = [], []

        def collect(n, ref):
            meta = ray.get(ref[0] if split else ref)
            outs.append((meta, ref[1]) if split else meta)
            bar.advance(n, meta.lines)

        for data, off in blocks:
            pending.append((len(data), _remote(_task_block, num_returns=nret).remote(data, off, path, expected, opts,
                                                                                      split)))
            if len(pending) >= self.inflight:
                collect(*pending.pop(0))
        for n, ref in pending:
            collect(n, ref)
        self.used = min(self.jobs, len(outs))
        return self._keep(outs)

    def _keep(self, outs: list) -> list:
        """The shards for the merge; with ``split`` their signature blocks are kept for ``finish``."""
        if not self.split:
            return outs
        shards = [o[0] for o in outs]
        self._counts = [int(np.count_nonzero(np.asarray(sh.columns["is_example"], dtype=bool))) for sh in shards]
        self._blocks = [o[1] for o in outs]
        return shards

    def finish(self, prof: Profile) -> Profile:
        if not self.split or not prof.readable:
            return prof
        blocks, self._blocks = self._blocks, None
        if blocks is None:  # from the cache: its signatures are here, put them into the store
            return _to_cluster(prof)
        return _to_cluster(prof, blocks, self._counts)


class _ObjectStream:
    """A compressed object's decompressed stream for the driver's block reader: reads return
    what was asked for (as a file does), and pyarrow's errors on corrupt data (ArrowInvalid, a
    ValueError) become the OSError the driver reports as unreadable."""

    def __init__(self, stream):
        self._s = stream

    def read(self, n: int = -1) -> bytes:
        try:
            if n is None or n < 0:
                return self._s.read()
            parts, left = [], n
            while left > 0:
                b = self._s.read(left)
                if not b:
                    break
                parts.append(b)
                left -= len(b)
            return b"".join(parts)
        except ValueError as e:
            raise OSError(str(e)) from None

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_uri(uri: str) -> Source:
    """An object as a Source: plain objects are cut into byte ranges read at the cuts only,
    gzip/zstd ones are read in blocks. Raises InputError (DP100) for anything unreadable."""
    from pyarrow import fs as pafs

    try:
        fs, p = _fs(uri)
        info = fs.get_file_info(p)
        if info.type == pafs.FileType.NotFound:
            raise InputError(uri, "no such object")
        if info.type == pafs.FileType.Directory:
            raise InputError(uri, "is a directory (list its objects and pass them)")
        size = info.size
        f = fs.open_input_file(p)
        head = f.read_at(min(size, 1 << 16), 0) if size else b""
        kind = compression_of(head[:8])
        if kind is None:
            return Source(f, size, head, lambda pos: _next_line_start(f, pos, size))
        f.close()
        if kind not in ("gzip", "zstd"):
            raise InputError(uri, f"{kind}-compressed input is not supported (use gzip or zstd, or decompress it)")
        stream = _ObjectStream(fs.open_input_stream(p, compression=kind))
        head = stream.read(1 << 16)
        return Source(_Prefixed(head, stream), size, head)
    except (OSError, ValueError) as e:  # no credentials, unknown scheme, unreachable endpoint, corrupt start
        raise InputError(uri, f"cannot open: {e}") from None


class _Prefixed(_ObjectStream):
    """A stream whose first bytes were already read (to sniff them): they are read again first."""

    def __init__(self, head: bytes, stream: _ObjectStream):
        super().__init__(stream)
        self._head = head

    def read(self, n: int = -1) -> bytes:
        head, self._head = self._head, b""
        if n is None or n < 0:
            return head + self._s.read()
        if len(head) > n:
            self._head = head[n:]
            return head[:n]
        return head + self._s.read(n - len(head))


# --------------------------------------------------------------------------------------------- dedup

class _FetchedRows:
    """A cluster's signature matrix (examples x num_perm) as ``lsh.pair_similarity`` reads it:
    ``rows[idx]`` fetches just those rows from the blocks where they live."""

    def __init__(self, source: ClusterSignatures, n: int):
        self.source = source
        self.shape = (n, source.num_perm)

    def __getitem__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        uniq, inverse = np.unique(idx, return_inverse=True)
        return self.source.take(uniq)[inverse.reshape(idx.shape)]


def _signature_source(profile) -> ClusterSignatures:
    if isinstance(profile, ClusterProfile) and profile.remote is not None:
        return profile.remote
    return _to_cluster(profile).remote


def distributed_duplicates(sigs: ClusterSignatures, exact: np.ndarray, config, *, keep: str = "first",
                           lengths=None, trainable_tokens=None, partitions: int = 2, max_rounds: int | None = None):
    """``dedup.find_duplicates`` with the band hashing and the verification as Ray tasks.

    Same arguments and result (same clusters, kept documents, kinds, similarities, pairs
    verified): the linking is the local ``clusters.near_edges`` / ``lsh.link_buckets``, run on
    the driver over the band hashes (bands x 8 bytes per example); every batch of pairs it
    verifies is split by signature block pair into ``partitions`` tasks that read the blocks
    where they are. ``sigs`` stay in the cluster.
    """
    from dataprep.dedup import lsh
    from dataprep.dedup.clusters import _keep_scores, clusters_from_edges, exact_groups, near_edges
    from dataprep.dedup.minhash import is_unread

    ray = _ray()
    max_rounds = lsh.MAX_ROUNDS if max_rounds is None else max_rounds
    exact = np.asarray(exact, dtype=np.uint64)
    n = len(exact)
    if sigs.examples != n or sigs.num_perm != config.num_perm:
        raise ValueError(f"signatures of shape ({sigs.examples}, {sigs.num_perm}), expected ({n}, {config.num_perm})")
    scores = _keep_scores(n, keep, lengths, trainable_tokens)
    bands, rows = config.bands_rows
    P = max(1, int(partitions))
    unread = is_unread(exact)
    rep_of, reps = exact_groups(exact, unread)
    candidate = np.zeros(n, dtype=bool)
    candidate[reps] = True

    starts = sigs.starts
    refs = []
    for b, ref in enumerate(sigs.blocks):
        a, z = int(starts[b]), int(starts[b + 1])
        if z > a:
            refs.append(_remote(_task_bands).remote(ref, a, candidate[a:z], bands, rows))
    parts = ray.get(refs)
    active = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    bh = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, bands), np.uint64)
    blocks = list(sigs.blocks)

    def verify(i, j):
        # Split by block pair, so a task reads few blocks and any partition count gives the same values.
        part = _pair_partition(i, j, starts, P)
        sims = ray.get([_remote(_task_similarity).remote(blocks, starts, i[part == q], j[part == q])
                        for q in range(P)])
        out = np.empty(len(i), dtype=np.float32)
        for q in range(P):
            out[part == q] = sims[q]
        return out

    ei, ej, es, n_cand = near_edges(lambda _: bh, active, verify, config.threshold, max_rounds)
    dup = np.flatnonzero(rep_of != np.arange(n))
    ei = np.concatenate([rep_of[dup], ei])
    ej = np.concatenate([dup, ej])
    es = np.concatenate([np.ones(len(dup), dtype=np.float32), es])
    return clusters_from_edges(n, rep_of, ei, ej, es, scores, config, n_cand, unread)


# --------------------------------------------------------------------------------------------- audit

def _rename(obj, old: str, new: str, seen=None):
    """Replace ``old`` by ``new`` in every string inside a result (a spooled object's path)."""
    if isinstance(obj, str):
        return obj.replace(old, new)
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _rename(obj[k], old, new, seen)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i] = _rename(v, old, new, seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, (str, dict, list)) or dataclasses.is_dataclass(v):
                try:
                    setattr(obj, f.name, _rename(v, old, new, seen))
                except dataclasses.FrozenInstanceError:
                    pass
    return obj


def _assess_path(path, preset, cache, against, shard_bytes):
    """``gate.verdict.assess_path`` with the scan's shards as Ray tasks (runs inside a task)."""
    from dataprep.gate.verdict import assess
    from dataprep.scan import ScanOptions, scan

    if is_uri(path):  # the analyses read lines back (DP503): assess a local copy, report the URI
        with tempfile.TemporaryDirectory(prefix="dataprep-ray-") as tmp:
            local = download(path, os.path.join(tmp, os.path.basename(path.rstrip("/")) or "object"))
            return _rename(_assess_path(local, preset, False, against, shard_bytes), local, path)
    opts = ScanOptions(model=preset.model)

    def one(p: str) -> Profile:
        return scan(p, options=opts, cache=cache, executor=RayExecutor(inline_single=True, shard_bytes=shard_bytes))

    t0 = time.perf_counter()
    prof = one(path)
    scan_s = time.perf_counter() - t0
    others = None
    if against and prof.readable:
        others = [one(a) for a in against]
    fa = assess(prof, preset, jobs=1, against=others)
    fa.stage_seconds = {"scan": scan_s, **fa.stage_seconds}
    if prof.cached:
        fa.notes.append("profile read from the cache (file unchanged since its last scan)")
    return fa


# --------------------------------------------------------------------------------------------- engine

# Seconds to wait for a TCP connection to --ray-address: ray.init itself retries for minutes.
_CONNECT_TIMEOUT_S = 5


def _check_reachable(address: str) -> None:
    """Fail fast on a cluster address nothing listens on (``auto`` is left to ray.init)."""
    import socket

    from . import EngineError

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=_CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise EngineError(f"cannot reach a Ray cluster at {address}: {e.strerror or e}") from None


class RayEngine:
    """Runs scan, dedup and audit on a Ray cluster (joined with ``address``) or a local instance."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, partitions: int | None = None):
        self.address = address
        self.num_cpus = num_cpus
        self.partitions = partitions
        self._started = False
        self._tmp: str | None = None

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> RayEngine:
        from . import EngineError

        ray = _ray()
        if ray.is_initialized():  # the caller's own session: use it, leave it running
            return self
        if self.address:
            _check_reachable(self.address)
        try:
            # One polars thread per task, as the local pool: the tasks already fill the cores.
            env = {"env_vars": {"POLARS_MAX_THREADS": "1"}}
            if self.address:
                ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING, runtime_env=env)
            else:
                from dataprep.scan import default_jobs

                ray.init(address="local", num_cpus=self.num_cpus or default_jobs(), include_dashboard=False,
                         log_to_driver=False, logging_level=logging.WARNING, runtime_env=env)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
            raise EngineError(f"cannot start Ray{' at ' + self.address if self.address else ''}: {e}") from None
        self._started = True
        return self

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._started:
            _ray().shutdown()
            self._started = False

    def __enter__(self) -> RayEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def cpus(self) -> int:
        return max(1, int(_ray().cluster_resources().get("CPU", 1)))

    def _spool_dir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="dataprep-ray-")
        return self._tmp

    # scan -------------------------------------------------------------------------------------
    def scan(self, path: str, *, options=None, cache: bool = True, progress: bool = False,
             signatures: str = "driver", jobs: int | None = None, **option_kw) -> Profile:
        """``dataprep.scan.scan`` with its shards on the cluster. ``signatures="cluster"`` keeps the
        MinHash signatures there (a ClusterProfile for ``analyze``); ``jobs`` is the cluster's business."""
        from dataprep.scan import ScanOptions, scan

        if signatures not in ("driver", "cluster"):
            raise ValueError("signatures is driver or cluster")
        opts = options or ScanOptions(**option_kw)
        cpus = self.cpus
        return scan(path, options=opts, cache=cache, progress=progress,
                    executor=RayExecutor(cpus, split=signatures == "cluster", inflight=2 * cpus))

    # dedup ------------------------------------------------------------------------------------
    def _partitions(self, profile) -> int:
        if self.partitions:
            return self.partitions
        return max(1, min(2 * self.cpus, 1 + profile.rows.height // 2048))

    def duplicates(self, profile, keep: str = "first"):
        """``dedup.analyze.duplicates`` with the distributed banding: (example rows, DedupResult)."""
        from dataprep.dedup.analyze import example_index
        from dataprep.dedup.clusters import KEEP_POLICIES

        if keep not in KEEP_POLICIES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {keep!r}")
        profile.require("sketch", "near-duplicate detection")
        if keep != "first":
            profile.require("tokens", f"--keep {keep}")
        ex = example_index(profile)
        kw = {}
        if keep == "longest":
            kw["lengths"] = profile.rows["tokens_total"].to_numpy()[ex]
        elif keep == "most-trainable-tokens":
            kw["trainable_tokens"] = profile.rows["tokens_trainable"].to_numpy()[ex]
        res = distributed_duplicates(_signature_source(profile), profile.exact[ex], profile.options.minhash,
                                     keep=keep, partitions=self._partitions(profile), **kw)
        return ex, res

    @staticmethod
    def _sketch(profile, ex: np.ndarray):
        """``dedup.analyze.example_sketch`` whose signature rows are fetched from the cluster
        when read (the findings read those of near duplicates and their kept lines only)."""
        if not (isinstance(profile, ClusterProfile) and profile.remote is not None
                and profile.signatures.shape[1] != profile.options.minhash.num_perm):
            from dataprep.dedup.analyze import example_sketch

            return example_sketch(profile, ex)
        return _FetchedRows(profile.remote, len(ex)), profile.exact[ex]

    def _localize(self, profile) -> str | None:
        """Point a remote profile at a local copy (its lines are read back); returns the URI."""
        if not is_uri(profile.path):
            return None
        uri = profile.path
        d = tempfile.mkdtemp(dir=self._spool_dir())
        profile.path = download(uri, os.path.join(d, os.path.basename(uri.rstrip("/")) or "object"))
        return uri

    def analyze(self, profile, *, against=None, indexes=(), **kw):
        """``dedup.analyze.analyze`` with the duplicates found by the distributed banding.

        DP503 and ``--against``/index checks are the local ones (held-out files and indexes need
        both sides' signatures: those are fetched to the driver). Objects are read back from a
        local copy; the report names the URI the user gave.
        """
        from dataprep.dedup.analyze import analyze

        if kw.get("leak_ngram", 0) is None:
            kw.pop("leak_ngram")  # analyze's own default
        against = list(against or ())
        renames = [(p, self._localize(p)) for p in [profile, *against]]
        if against or indexes:
            for p in [profile, *against]:
                if isinstance(p, ClusterProfile):
                    p.materialize()
        report = analyze(profile, against=against, indexes=indexes, find=self.duplicates, sketch=self._sketch, **kw)
        for p, uri in renames:
            if uri is not None:  # report the URI the user gave, not the local copy
                for f in report.findings:
                    f.path = f.path.replace(p.path, uri)
                for lk in report.leaks:
                    lk.path = lk.path.replace(p.path, uri)
                    lk.source = [s.replace(p.path, uri) for s in lk.source]
                if report.path == p.path:
                    report.path = uri
        return report

    # audit ------------------------------------------------------------------------------------
    def audit(self, paths, preset="openai", *, jobs: int | None = None, cache: bool = True,
              progress: bool = False, leakage: bool = True):
        """``dataprep.audit.audit`` with one Ray task per file (its shards nested tasks)."""
        from dataprep.audit import AuditResult, _Bar, split_partners
        from dataprep.gate.presets import load_preset
        from dataprep.gate.verdict import unreadable_assessment
        from dataprep.io.reader import expand_inputs

        ray = _ray()
        t0 = time.perf_counter()
        p = load_preset(preset)
        if isinstance(paths, (str, os.PathLike)):
            paths = [str(paths)]
        paths = [str(x) for x in paths]
        files, errors = expand_inputs([x for x in paths if not is_uri(x)])
        files += [x for x in paths if is_uri(x) and x not in files]  # objects are named one by one
        partners = split_partners([f for f in files if not is_uri(f)]) if leakage else {}
        results = {e.path: unreadable_assessment(e.path, e.reason, p.name) for e in errors}
        from dataprep.scan import SHARD_BYTES as shard_bytes  # read now: the tasks get this driver's value
        here = [f for f in files if f == "-"]  # stdin is this process's: scanned from here
        refs = {_remote(_task_assess).remote(f, p, cache, partners.get(f), shard_bytes): f
                for f in files if f != "-"}
        bar = _Bar(len(files), progress)
        try:
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                f = refs[done[0]]
                try:
                    fa = ray.get(done[0])
                except Exception as e:  # a worker that died
                    fa = unreadable_assessment(f, f"analysis failed: {type(e).__name__}: {e}", p.name)
                if fa is None:  # the worker cannot see this local file: assess it from here
                    here.append(f)
                else:
                    results[f] = fa
                    bar.advance(f)
            for f in here:
                results[f] = _task_assess(f, p, cache, partners.get(f), shard_bytes)
                bar.advance(f)
        finally:
            bar.close()
        order = [e.path for e in errors] + files
        return AuditResult([results[f] for f in order], p, time.perf_counter() - t0, jobs or self.cpus)


__all__ = ["ClusterProfile", "ClusterSignatures", "RayEngine", "RayExecutor", "distributed_duplicates",
           "download", "is_uri"]
