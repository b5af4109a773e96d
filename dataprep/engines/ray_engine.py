"""The Ray executor: the local scan's own shard function run as Ray tasks, and distributed dedup.

One code path, two executors. A file is cut by ``dataprep.scan.shard_ranges`` (plain files) or
``dataprep.scan._blocks`` (gzip/zstd, stdin); every shard is scanned by ``_scan_range`` or
``_scan_block`` inside a Ray task, and the shards are merged by ``dataprep.scan._merge`` on the
driver, in line order: the Profile, its findings and its rows are the local engine's.

* Object storage: a path with a scheme (``s3://``, ``gs://``, ``file://``, anything
  ``pyarrow.fs.FileSystem.from_uri`` opens) is cut into line-aligned byte ranges by reading a few
  bytes at each cut; each task reads its own range with ``read_at`` and runs ``_scan_block``.
* Local paths on a cluster: a task first checks that it sees the file (same path, same size,
  i.e. a shared filesystem); where it does not, the submitting process reads that range and ships
  the bytes to a ``_scan_block`` task instead.
* Dedup (``analyze`` / ``duplicates``): with ``scan(..., signatures="cluster")`` each scan task
  returns its examples' MinHash block as a separate object that stays in the cluster. Band
  hashes are computed next to each block; the driver links the buckets with the local code
  (``lsh.link_buckets``, linear in bucket size) and every batch of pairs it verifies goes to
  tasks routed by the two signature blocks a pair touches (``lsh.pair_similarity`` next to
  them). The driver holds per-example integers (exact keys, band hashes, union-find parents),
  never the signature matrix.
* Audit: one Ray task per file runs the scan (its shards as nested tasks) and ``assess``.

Results equal the local engine's; tests/test_ray.py checks it line by line.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dataprep.scan import Profile

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


def _scan_mod():
    # ``dataprep.scan`` at package level is the function; the module is in sys.modules.
    return importlib.import_module("dataprep.scan")


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
    return _split(_scan_mod()._scan_range(path, start, end, expected, opts), split)


def _task_block(data, offset, path, expected, opts, split):
    return _split(_scan_mod()._scan_block(data, offset, path, expected, opts), split)


def _task_uri_range(uri, start, end, expected, opts, split):
    fs, p = _fs(uri)
    with fs.open_input_file(p) as f:
        data = f.read_at(end - start, start)
    return _split(_scan_mod()._scan_block(data, start, uri, expected, opts), split)


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


def uri_shard_ranges(f, size: int, shard_bytes: int) -> list[tuple[int, int]]:
    """``shard_ranges`` over a pyarrow random-access file: the same cuts, read at the cuts only."""
    return _scan_mod().cut_ranges(size, shard_bytes, lambda pos: _next_line_start(f, pos, size))


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


def _shard_size(size: int | None, shard_bytes: int, workers: int) -> int:
    """The local parallel scan's shard size for ``workers`` (enough shards to balance them)."""
    S = _scan_mod()
    if size and workers > 1 and hasattr(S, "parallel_shard_bytes") and shard_bytes == S.SHARD_BYTES:
        return S.parallel_shard_bytes(size, workers)
    return shard_bytes


def scan_on_ray(path: str, opts, *, cache: bool = True, progress: bool = False, split: bool = False,
                shard_bytes: int | None = None, inflight: int = 4, inline_single: bool = False,
                workers: int = 1) -> Profile:
    """``dataprep.scan.scan`` with its shards as Ray tasks (the module doc says how).

    ``split``: keep the signatures in the cluster (returns a ClusterProfile). ``inflight``: blocks
    of compressed input read ahead. ``inline_single``: a one-shard file is scanned in this process.
    ``workers``: the cluster's CPUs, for the shard size.
    """
    from dataprep import cache as profile_cache
    from dataprep.io.reader import BOM, InputError
    from dataprep.validate import validate_file

    S = _scan_mod()
    shard_bytes = shard_bytes or S.SHARD_BYTES
    if path == "-" and hasattr(S, "_spool_stdin"):
        path = S._spool_stdin()  # as the local scan: analyses re-read lines by offset
    t0 = time.perf_counter()
    if is_uri(path):
        return _scan_uri(path, opts, progress, split, shard_bytes, inflight, t0, workers)
    key = None
    if cache and path != "-":
        key = profile_cache.key_for(path, opts)
        if key is not None:
            hit = profile_cache.load(key, path)
            if hit is not None:
                return _to_cluster(hit) if split else hit
    try:
        stream, size, plain = S.open_input(path)
    except InputError as e:
        return S._unreadable(path, e.reason, opts)
    with stream:
        bar = S._Progress(size, enabled=progress)
        try:  # truncated or corrupt gzip/zstd raise these, from the first peek on
            head = stream.peek(1 << 16)[: 1 << 16] if hasattr(stream, "peek") else b""
            if head.lstrip(BOM + b" \t\r\n").startswith(b"["):
                rep = validate_file(path)
                if rep.findings and rep.findings[0].rule == "DP103":
                    return S._from_report(path, rep, size, opts)
            expected = S.sniff_format(head)
            if plain and size:
                ranges = S.shard_ranges(path, size, _shard_size(size, shard_bytes, workers))
                if inline_single and len(ranges) == 1:
                    outs = [_split(S._scan_range(path, 0, size, expected, opts), split)]
                else:
                    outs = _run_ranges(path, ranges, expected, opts, size, split, bar)
            else:
                outs = _run_blocks(S._blocks(stream, shard_bytes), path, expected, opts, split, bar, inflight)
        except (OSError, EOFError) as e:  # truncated or corrupt gzip/zstd, as the local scan says it
            return S._unreadable(path, f"read failed: {e}", opts)
        finally:
            bar.close()
    prof = _finish(path, size, outs, expected, opts, split, t0)
    if key is not None and not split:
        profile_cache.save(key, prof)
    return prof


def _finish(path, size, outs, expected, opts, split, t0):
    S = _scan_mod()
    if split:
        shards = [o[0] for o in outs]
        counts = [int(np.count_nonzero(np.asarray(sh.columns["is_example"], dtype=bool))) for sh in shards]
        blocks = [o[1] for o in outs]
    else:
        shards = outs
    prof = S._merge(path, size, shards, expected, opts)
    if split:
        prof = _to_cluster(prof, blocks, counts)
    prof.seconds = time.perf_counter() - t0
    return prof


def _run_ranges(path, ranges, expected, opts, size, split, bar) -> list:
    """Byte ranges as tasks; a range the worker cannot see is shipped as bytes."""
    ray = _ray()
    nret = 2 if split else 1
    refs = [_remote(_task_range, num_returns=nret).remote(path, s, e, expected, opts, size, split)
            for s, e in ranges]
    outs = []
    for (s, e), ref in zip(ranges, refs):
        if split:
            meta = ray.get(ref[0])
            out = (meta, ref[1])
        else:
            out = meta = ray.get(ref)
        if meta is None:
            with open(path, "rb") as f:
                f.seek(s)
                data = f.read(e - s)
            r = _remote(_task_block, num_returns=nret).remote(data, s, path, expected, opts, split)
            out = (ray.get(r[0]), r[1]) if split else ray.get(r)
            meta = out[0] if split else out
        outs.append(out)
        bar.advance(e - s, meta.lines)
    return outs


def _run_blocks(blocks, path, expected, opts, split, bar, inflight) -> list:
    """Blocks read here (compressed input, stdin, objects), scanned as tasks, bounded read-ahead."""
    ray = _ray()
    nret = 2 if split else 1
    outs, pending = [], []

    def collect(n, ref):
        if split:
            meta = ray.get(ref[0])
            outs.append((meta, ref[1]))
        else:
            meta = ray.get(ref)
            outs.append(meta)
        bar.advance(n, meta.lines)

    for data, off in blocks:
        pending.append((len(data), _remote(_task_block, num_returns=nret).remote(data, off, path, expected, opts, split)))
        if len(pending) >= inflight:
            collect(*pending.pop(0))
    for n, ref in pending:
        collect(n, ref)
    if not outs:
        collect(0, _remote(_task_block, num_returns=nret).remote(b"", 0, path, expected, opts, split))
    return outs


def _scan_uri(uri, opts, progress, split, shard_bytes, inflight, t0, workers=1) -> Profile:
    from dataprep.io.reader import compression_of

    S = _scan_mod()
    try:
        fs, p = _fs(uri)
        from pyarrow import fs as pafs

        info = fs.get_file_info(p)
        if info.type == pafs.FileType.NotFound:
            return S._unreadable(uri, "no such object", opts)
        if info.type == pafs.FileType.Directory:
            return S._unreadable(uri, "is a directory (list its objects and pass them)", opts)
        size = info.size
        with fs.open_input_file(p) as f:
            head = f.read_at(min(size, 1 << 16), 0) if size else b""
            kind = compression_of(head[:8])
            if kind is None:
                ranges = uri_shard_ranges(f, size, _shard_size(size, shard_bytes, workers))
    except (OSError, ValueError) as e:  # no credentials, unknown scheme, unreachable endpoint
        return S._unreadable(uri, f"cannot open: {e}", opts)
    if kind is not None and kind not in ("gzip", "zstd"):
        return S._unreadable(uri, f"{kind}-compressed input is not supported (use gzip or zstd, or decompress it)", opts)
    bar = S._Progress(size if kind is None else None, enabled=progress)
    try:
        if kind is None:
            expected = S.sniff_format(head)
            ray = _ray()
            nret = 2 if split else 1
            refs = [_remote(_task_uri_range, num_returns=nret).remote(uri, s, e, expected, opts, split) for s, e in ranges]
            outs = []
            for (s, e), ref in zip(ranges, refs):
                out = (ray.get(ref[0]), ref[1]) if split else ray.get(ref)
                outs.append(out)
                bar.advance(e - s, (out[0] if split else out).lines)
        else:
            with fs.open_input_stream(p, compression=kind) as stream:
                gen = S._blocks(stream, shard_bytes)
                first = next(gen, None)
                expected = S.sniff_format(first[0][: 1 << 16] if first else b"")

                def chained():
                    if first is not None:
                        yield first
                    yield from gen

                outs = _run_blocks(chained(), uri, expected, opts, split, bar, inflight)
    except (OSError, EOFError, ValueError) as e:  # pyarrow raises ArrowInvalid (a ValueError) on corrupt gzip
        return S._unreadable(uri, f"read failed: {e}", opts)
    finally:
        bar.close()
    return _finish(uri, size, outs, expected, opts, split, t0)


# --------------------------------------------------------------------------------------------- dedup

class _Rows:
    """Some rows of a signature matrix, indexable by example index like the full matrix."""

    def __init__(self, index: np.ndarray, values: np.ndarray, n: int):
        self.index, self.values = index, values
        self.shape = (n, values.shape[1])

    def __getitem__(self, idx):
        return self.values[np.searchsorted(self.index, np.asarray(idx))]


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
    from dataprep.scan import ScanOptions

    if is_uri(path):  # the analyses read lines back (DP503): assess a local copy, report the URI
        with tempfile.TemporaryDirectory(prefix="dataprep-ray-") as tmp:
            local = download(path, os.path.join(tmp, os.path.basename(path.rstrip("/")) or "object"))
            return _rename(_assess_path(local, preset, False, against, shard_bytes), local, path)
    opts = ScanOptions(model=preset.model)
    t0 = time.perf_counter()
    prof = scan_on_ray(path, opts, cache=cache, shard_bytes=shard_bytes, inline_single=True)
    scan_s = time.perf_counter() - t0
    others = None
    if against and prof.readable:
        others = [scan_on_ray(a, opts, cache=cache, shard_bytes=shard_bytes, inline_single=True) for a in against]
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
        """``dataprep.scan.scan`` on the cluster. ``signatures="cluster"`` keeps the MinHash
        signatures there (a ClusterProfile for ``analyze``); ``jobs`` is the cluster's business."""
        from dataprep.scan import ScanOptions

        if signatures not in ("driver", "cluster"):
            raise ValueError("signatures is driver or cluster")
        opts = options or ScanOptions(**option_kw)
        cpus = self.cpus
        return scan_on_ray(path, opts, cache=cache, progress=progress, split=signatures == "cluster",
                           inflight=2 * cpus, workers=cpus)

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
        ex = example_index(profile)
        kw = {}
        if keep == "longest":
            kw["lengths"] = profile.rows["tokens_total"].to_numpy()[ex]
        elif keep == "most-trainable-tokens":
            kw["trainable_tokens"] = profile.rows["tokens_trainable"].to_numpy()[ex]
        res = distributed_duplicates(_signature_source(profile), profile.exact[ex], profile.options.minhash,
                                     keep=keep, partitions=self._partitions(profile), **kw)
        return ex, res

    def _localize(self, profile) -> str | None:
        """Point a remote profile at a local copy (its lines are read back); returns the URI."""
        if not is_uri(profile.path):
            return None
        uri = profile.path
        d = tempfile.mkdtemp(dir=self._spool_dir())
        profile.path = download(uri, os.path.join(d, os.path.basename(uri.rstrip("/")) or "object"))
        return uri

    def analyze(self, profile, *, keep: str = "first", against=None, conflicts: bool = True,
                leak_ngram: int | None = None, leak_min_share: float = 0.0, indexes=()):
        """``dedup.analyze.analyze`` with the duplicates found by the distributed banding.

        DP503 and ``--against``/index checks reuse the local functions (held-out files and
        indexes need both sides' signatures: those are fetched to the driver).
        """
        from dataprep.checks.base import Sink
        A = importlib.import_module("dataprep.dedup.analyze")  # the package exports the function
        from dataprep.dedup.shingles import CONTAMINATION_NGRAM

        leak_ngram = CONTAMINATION_NGRAM if leak_ngram is None else leak_ngram
        against = list(against or ())
        renames = [(p, self._localize(p)) for p in [profile, *against]]
        ex, res = self.duplicates(profile, keep)
        lines = ex + 1
        sink = Sink(profile.path)
        exact = profile.exact[ex]
        if res.n_clusters:
            # _dup_findings reads the signatures of near duplicates and their kept lines only.
            kept_of = np.full(len(ex), -1, dtype=np.int64)
            member = res.cluster_id >= 0
            kept_of[member] = res.cluster_kept[res.cluster_id[member]]
            near = np.flatnonzero(res.dup_kind == 2)
            need = np.unique(np.concatenate([near, kept_of[near]]))
            sigs = _Rows(need, _signature_source(profile).take(need), len(ex))
            A._dup_findings(sink, lines, res, sigs, exact)
        found = list(sink.findings)
        confl = []
        if conflicts:
            confl = A._conflicts(profile, ex)
            found += A.conflict_findings(profile.path, confl)
        leaks = []
        if against or indexes:
            for p in [profile, *against]:
                if isinstance(p, ClusterProfile):
                    p.materialize()
        for other in against:
            if other.options.minhash != profile.options.minhash or other.options.compare != profile.options.compare:
                raise ValueError(f"{other.path} was scanned with other dedup options than {profile.path}")
            lk = A._leak(profile, ex, other, leak_ngram, leak_min_share, A.groups_from_clusters(res.cluster_id))
            leaks.append(lk)
            found += A.leak_findings(lk, profile.path, leak_ngram)
        for idx in indexes:
            lk = idx.check(profile, ex)
            leaks.append(lk)
            s = Sink(profile.path)
            for ln, src, k, sim in zip(lk.lines.tolist(), lk.source, lk.kind.tolist(), lk.similarity.tolist()):
                how = "same example (after normalisation) as" if A.LEAK_KINDS[k] == "exact" else \
                    f"near duplicate (estimated Jaccard {sim:.2f}) of"
                s.add("DP502", f"already in index {idx.name}: {how} {src}", line=ln)
            found += s.findings
        found.sort(key=lambda f: (f.path != profile.path, f.path, f.line, f.rule))
        n_lines = profile.rows.height
        report = A.DedupReport(profile.path, profile.format, n_lines, lines, res, keep, profile.options.compare,
                               n_lines - len(ex), found, confl, leaks, leak_ngram, exact)
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
        S = _scan_mod()
        shard_bytes = S.SHARD_BYTES
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


__all__ = ["ClusterProfile", "ClusterSignatures", "RayEngine", "distributed_duplicates",
           "download", "is_uri", "scan_on_ray", "uri_shard_ranges"]
