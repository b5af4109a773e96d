"""Dedup benchmark: signature throughput vs datasketch, accuracy on planted duplicates, end to end.

    python benchmarks/bench_dedup.py [--n 100000] [--jobs 2] [--sig-docs 2000]

1. Signature throughput on the same ``--sig-docs`` documents, text to signature (normalisation
   and shingling included on every side): our bulk numpy path vs datasketch's per-shingle
   ``update()`` loop and vs ``MinHash.bulk``. The datasketch side gets its strongest setup:
   ``hashfunc=xxhash.xxh32_intdigest`` (a C function) on the 5-word shingle bytes, scheme affine32;
   the default SHA-1 hash is timed as well.
2. End to end on ``--n`` planted documents (benchmarks/gen_near_dups.py) written to a JSONL file:
   ``--jobs`` worker processes parse byte-range shards (orjson) and sketch them, the main process
   runs LSH, verification and clustering. Wall time per phase and peak RSS (main, workers).
3. Accuracy on that corpus at default settings: pairwise recall and precision against the planted
   truth, recall by true Jaccard of the planted pairs, and the Jaccard distribution.
5. ``--real CORPUS`` (from benchmarks/gen_real_dups.py, heavily duplicated real text, with its
   ``CORPUS.truth.npy``): the real command end to end (wall, peak RSS = VmHWM of the command and of
   its largest worker, polled from /proc), cluster counts, datasketch MinHashLSH on a subsample in
   the same run (its rate extrapolated linearly to the whole file, and said so), and recall /
   precision on the planted near copies with the exact word-5-gram Jaccard as ground truth.
4. ``--through-scan``: the real command on the same file, ``dataprep dedup FILE --jobs J --no-cache
   --json --out kept.jsonl`` in a subprocess (scan with the structural rules and signatures; no
   token counts, content rules or diversity features, which dedup does not read; then clusters,
   DP503, the kept file): wall time, peak RSS of the command
   and its workers, and pairwise recall/precision of its clusters against the planted truth.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import tempfile
import time
from multiprocessing import get_context

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gen_near_dups as gen

from dataprep.dedup import MinHashConfig, find_duplicates, sketch
from dataprep.dedup import minhash as mh
from dataprep.dedup import shingles as sh


def _rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: KiB


# ----------------------------------------------------------------------------- corpus


def _render(args):
    p, lo, hi = args
    import orjson

    return b"".join(orjson.dumps(gen.record(p, i)) + b"\n" for i in range(lo, hi))


def write_corpus(path: str, p: gen.Plan, jobs: int) -> None:
    n = len(p.kind)
    step = 5000
    with get_context("fork").Pool(jobs) as pool, open(path, "wb") as f:
        for chunk in pool.imap(_render, [(p, lo, min(lo + step, n)) for lo in range(0, n, step)]):
            f.write(chunk)


def shard_ranges(path: str, shards: int) -> list[tuple[int, int]]:
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, shards):
            f.seek(max(cuts[-1], size * k // shards))
            f.readline()
            cuts.append(f.tell())
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _sketch_shard(args):
    path, a, b = args
    import orjson

    c0 = time.process_time()

    with open(path, "rb") as f:
        f.seek(a)
        data = f.read(b - a)
    texts = [gen.conversation_text(orjson.loads(line)) for line in data.splitlines()]
    sigs, exact = sketch(texts, MinHashConfig())
    return sigs, exact, _rss_mb(), time.process_time() - c0


# ----------------------------------------------------------------------------- 1. throughput


def throughput(texts: list[str], repeat: int = 3) -> None:
    import xxhash
    from datasketch import MinHash

    n = len(texts)

    def shingle_bytes(t):
        return [b" ".join(s) for s in sh.word_shingles(t, 5)]

    shingled = []
    t_shingle = _timed(lambda: shingled.extend(shingle_bytes(t) for t in texts))
    n_sh = sum(map(len, shingled))

    def loop(hashfunc):
        def run():
            for t in texts:
                m = MinHash(num_perm=128, seed=1, hashfunc=hashfunc, scheme="affine32")
                for s in shingle_bytes(t):
                    m.update(s)

        return _timed(run)

    def bulk(hashfunc):
        return _timed(
            lambda: MinHash.bulk(
                [shingle_bytes(t) for t in texts], num_perm=128, seed=1, hashfunc=hashfunc, scheme="affine32"
            )
        )

    sketch(texts[:10])  # warm up (permutation tables)
    ours = min(_timed(lambda: sketch(texts)) for _ in range(2 * repeat + 1))
    t_loop = loop(xxhash.xxh32_intdigest)
    t_bulk = min(bulk(xxhash.xxh32_intdigest) for _ in range(repeat))
    t_bulk_sha1 = bulk(None)
    t_loop_sha1 = loop(None) if n <= 2000 else float("nan")

    # Our signatures are datasketch's: check a sample against MinHash with our hash function.
    for i in range(0, n, max(1, n // 50)):
        assert np.array_equal(sketch([texts[i]])[0][0], mh.reference_signature(texts[i]))

    print(f"\n## 1. Signature throughput: {n} docs, {n_sh / n:.0f} shingles/doc, 128 perms, one core (CPU time)")
    print(f"  (Python shingling alone, shared by both datasketch paths: {t_shingle / n * 1e6:.0f} us/doc)")
    rows = [
        ("dataprep sketch (numpy bulk)", ours),
        ("datasketch MinHash.bulk, xxh32", t_bulk),
        ("datasketch update() loop, xxh32", t_loop),
        ("datasketch MinHash.bulk, sha1 (default)", t_bulk_sha1),
        ("datasketch update() loop, sha1 (default)", t_loop_sha1),
    ]
    for k, (name, t) in enumerate(rows):
        ratio = "" if k == 0 else f"{t / ours:6.1f}x slower than ours"
        print(f"  {name:44s} {n / t:10.0f} docs/s   {ratio}")
    print(
        f"  ratio vs update() loop: {t_loop / ours:.1f}x (target >= 30x); vs MinHash.bulk: {t_bulk / ours:.1f}x (target >= 5x)"
    )
    print("  signatures checked identical to datasketch.MinHash(hashfunc=word_shingle_hash, scheme='affine32')")


def _timed(f) -> float:
    """CPU seconds of this process: on a shared machine wall time mostly measures the neighbours."""
    t0 = time.process_time()
    f()
    return time.process_time() - t0


# ----------------------------------------------------------------------------- 3. accuracy


def accuracy(p: gen.Plan, result, threshold: float) -> None:
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(p.group.tolist()):
        groups.setdefault(g, []).append(i)
    truth_groups = [m for m in groups.values() if len(m) > 1]
    cid = result.cluster_id
    pairs = [(a, b) for m in truth_groups for x, a in enumerate(m) for b in m[x + 1 :]]
    hit = np.array([cid[a] >= 0 and cid[a] == cid[b] for a, b in pairs], dtype=bool)
    sizes = np.diff(result.cluster_offsets)
    predicted = int((sizes * (sizes - 1) // 2).sum())
    tp = int(hit.sum())
    recall = tp / max(1, len(pairs))
    precision = tp / max(1, predicted)

    # True Jaccard of every planted pair, from the exact shingle sets.
    cache: dict[int, np.ndarray] = {}

    def shingle_set(i):
        if i not in cache:
            h, _, _ = sh.shingle_hashes([gen.conversation_text(gen.record(p, i))])
            cache[i] = np.unique(h)
        return cache[i]

    def jac(a, b):
        x, y = shingle_set(a), shingle_set(b)
        inter = len(np.intersect1d(x, y, assume_unique=True))
        return inter / max(1, len(x) + len(y) - inter)

    js = np.array([jac(a, b) for a, b in pairs])
    kinds = np.array([max(p.kind[a], p.kind[b]) for a, b in pairs])
    print(
        f"\n## 3. Accuracy at default settings (threshold {threshold}, {result.params['bands']}x{result.params['rows']} bands, "
        f"5-word shingles; near copies: up to 1 edit per {p.words_per_edit} words)"
    )
    print(f"  planted duplicate pairs: {len(pairs)} in {len(truth_groups)} groups; predicted pairs: {predicted}")
    print(f"  pairwise recall {recall:.4f} (target >= 0.95), precision {precision:.4f} (target >= 0.99)")
    for k, name in enumerate(gen.KIND_NAMES[1:], start=1):
        sel = kinds == k
        if sel.any():
            print(f"    pairs involving a {name:8s} copy: {sel.sum():7d}  recall {hit[sel].mean():.4f}")
    print("  true Jaccard of planted pairs (5-word shingle sets) and recall per bin:")
    edges = [0.0, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0001]
    for lo, hi in itertools.pairwise(edges):
        sel = (js >= lo) & (js < hi)
        label = "= 1.0      " if lo == 1.0 else f"[{lo:.2f}, {hi:.2f})"
        if sel.any():
            print(f"    J {label}: {sel.sum():7d} pairs ({sel.mean():6.1%})  recall {hit[sel].mean():.4f}")
    print(
        f"  J percentiles 1/5/50: {np.percentile(js, 1):.3f} / {np.percentile(js, 5):.3f} / {np.percentile(js, 50):.3f}"
    )
    # Where do false positives come from? Look at clusters that mix planted groups.
    mixed = 0
    for c in result.clusters():
        if len(set(p.group[c.members].tolist())) > 1:
            mixed += 1
    print(f"  clusters mixing planted groups: {mixed} of {result.n_clusters}")


# ----------------------------------------------------------------------------- 4. through scan


def through_scan(p: gen.Plan, path: str, jobs: int, workdir: str) -> None:
    import json
    import subprocess

    kept = os.path.join(workdir, "kept.jsonl")
    clusters = os.path.join(workdir, "clusters.jsonl")
    cmd = [sys.executable, "-m", "dataprep.cli", "dedup", path, "--jobs", str(jobs), "--no-cache", "--json", "-q",
           "--out", kept, "--clusters", clusters]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):
        print(f"\n## 4. dataprep dedup failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
        return
    d = json.loads(out.stdout)
    n = len(p.kind)
    # Pairwise accuracy of the command's clusters (1-based lines = document index + 1).
    cid = np.full(n, -1, dtype=np.int64)
    predicted = 0
    with open(clusters, "rb") as f:
        for k, line in enumerate(f):
            members = np.asarray(json.loads(line)["lines"], dtype=np.int64) - 1
            cid[members] = k
            predicted += len(members) * (len(members) - 1) // 2
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(p.group.tolist()):
        groups.setdefault(g, []).append(i)
    pairs = [(a, b) for m in groups.values() if len(m) > 1 for x, a in enumerate(m) for b in m[x + 1 :]]
    tp = sum(1 for a, b in pairs if cid[a] >= 0 and cid[a] == cid[b])
    print(f"\n## 4. End to end through the scan: `dataprep dedup --jobs {jobs} --no-cache --out --clusters`, {n} docs")
    print(f"  wall {wall:.2f}s ({n / wall:,.0f} docs/s) including interpreter start, parsing, the structural "
          f"rules and signatures (dedup's scan skips the tokenizer and the content rules: it reads neither); CPU {after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime:.1f}s")
    print(f"  peak RSS of the command or any worker: {after.ru_maxrss / 1024:,.0f} MB")
    print(f"  found: exact {d['exact_duplicates']}, near {d['near_duplicates']}, clusters {d['clusters']}, kept {d['kept']}")
    print(f"  pairwise recall {tp / max(1, len(pairs)):.4f}, precision {tp / max(1, predicted):.4f} "
          f"(scan compares user turns then assistant turns, section 2 the messages in order)")
    print(f"  linear extrapolation to 1M docs: ~{wall * 1_000_000 / n:.0f}s wall (target < 30 s on 2 cores)")


# ----------------------------------------------------------------------------- 5. real corpus


def _tree_hwm(root: int) -> dict[int, int]:
    """VmHWM (kB) of ``root`` and every descendant alive now, by pid."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        out[pid] = int(line.split()[1])
        except OSError:
            pass
        todo += kids.get(pid, [])
    return out


def run_measured(cmd: list[str]) -> tuple[float, int, int, bytes, int]:
    """(wall s, parent VmHWM MB, largest descendant VmHWM MB, stdout, exit code) of ``cmd``."""
    import subprocess
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak: dict[int, int] = {}
    done = threading.Event()

    def poll():
        while not done.is_set():
            for pid, kb in _tree_hwm(proc.pid).items():
                peak[pid] = max(peak.get(pid, 0), kb)
            done.wait(0.1)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    parent = peak.pop(proc.pid, 0)
    if proc.returncode not in (0, 1):
        print(err.decode()[-2000:])
    return wall, parent // 1024, max(peak.values(), default=0) // 1024, out, proc.returncode


def _line_offsets(path: str) -> np.ndarray:
    off = [0]
    with open(path, "rb") as f:
        for line in f:
            off.append(off[-1] + len(line))
    return np.asarray(off, dtype=np.int64)


def _compared_texts(path: str, off: np.ndarray, lines: np.ndarray) -> list[str]:
    import orjson

    from dataprep.text import compared_text

    out = []
    with open(path, "rb") as f:
        for ln in lines.tolist():
            f.seek(int(off[ln]))
            out.append(compared_text(orjson.loads(f.read(int(off[ln + 1] - off[ln]))), "openai-chat"))
    return out


def _exact_jaccard(a: list[str], b: list[str]) -> np.ndarray:
    ha, ca, _ = sh.shingle_hashes(a, "word", 5)
    hb, cb, _ = sh.shingle_hashes(b, "word", 5)
    oa, ob = sh.offsets(ca), sh.offsets(cb)
    out = np.empty(len(a))
    for k in range(len(a)):
        x, y = set(ha[oa[k]:oa[k + 1]].tolist()), set(hb[ob[k]:ob[k + 1]].tolist())
        out[k] = len(x & y) / max(1, len(x | y))
    return out


def datasketch_peer(path: str, off: np.ndarray, sample: int, total: int, seed: int) -> float:
    """Seconds datasketch MinHashLSH takes on ``sample`` lines (texts to signatures to an index
    with our bands x rows, then one query per line), extrapolated linearly to ``total``."""
    import xxhash
    from datasketch import MinHash, MinHashLSH

    rng = np.random.default_rng(seed)
    lines = np.sort(rng.choice(len(off) - 1, min(sample, len(off) - 1), replace=False))
    texts = _compared_texts(path, off, lines)
    cfg = MinHashConfig()
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm, params=cfg.bands_rows)
    mins = []
    for k, t in enumerate(texts):
        m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=xxhash.xxh32_intdigest)
        w = sh.words(t)
        m.update_batch([b" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))] if w else [])
        lsh.insert(k, m, check_duplication=False)
        mins.append(m)
    cand = sum(len(lsh.query(m)) for m in mins)
    dt = time.perf_counter() - t0
    print(f"  datasketch MinHashLSH on a random {len(texts):,}-line subsample: {dt:.1f}s "
          f"({cand:,} candidates returned); extrapolated linearly to {total:,} lines: {dt * total / len(texts):.0f}s "
          "(an estimate: its LSH buckets grow with the file, so the real figure is higher)")
    return dt * total / len(texts)


def real_corpus(path: str, jobs: int, peer_sample: int, pairs: int, seed: int) -> None:
    import json
    import tempfile

    truth = np.load(path + ".truth.npy")
    n = len(truth)
    print(f"\n## 5. Heavily duplicated real text: {path} ({n:,} lines, {os.path.getsize(path) / 1e6:,.0f} MB)")
    print(f"  load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus (shared machine)")
    with tempfile.TemporaryDirectory() as tmp:
        clusters = os.path.join(tmp, "clusters.jsonl")
        cmd = [sys.executable, "-m", "dataprep.cli", "dedup", path, "--jobs", str(jobs), "--no-cache", "--json", "-q",
               "--clusters", clusters]
        wall, parent, worker, out, rc = run_measured(cmd)
        if rc not in (0, 1):
            print(f"  dataprep dedup failed (exit {rc})")
            return
        d = json.loads(out)
        print(f"  dataprep dedup --jobs {jobs}: {wall:.1f}s wall, peak RSS (VmHWM) command {parent:,} MB, "
              f"largest worker {worker:,} MB")
        print(f"  found: exact {d['exact_duplicates']:,}, near {d['near_duplicates']:,}, clusters {d['clusters']:,} "
              f"(largest {d['largest_cluster']:,}), kept {d['kept']:,}, not compared {d['not_compared']['total']:,}; "
              f"planted: {int((truth[:, 0] >= 0).sum() and len(np.unique(truth[truth[:, 0] >= 0, 0]))):,} originals, "
              f"{int((truth[:, 0] < 0).sum()):,} distinct lines")
        cid = np.full(n, -1, dtype=np.int64)
        kept_of = np.full(n, -1, dtype=np.int64)
        with open(clusters, "rb") as f:
            for k, line in enumerate(f):
                c = json.loads(line)
                m = np.asarray(c["lines"], dtype=np.int64) - 1
                cid[m] = k
                kept_of[m] = c["kept"] - 1
    off = _line_offsets(path)
    peer = datasketch_peer(path, off, peer_sample, n, seed)
    print(f"  ratio: dataprep {wall:.1f}s vs datasketch ~{peer:.0f}s (extrapolated) = {peer / wall:.1f}x faster")

    # Planted near copies against their original line (the kind's first line).
    rng = np.random.default_rng(seed)
    orig, kind = truth[:, 0], truth[:, 1]
    first_line = {}
    for i in np.flatnonzero(kind == 0).tolist():
        first_line[int(orig[i])] = i
    near = np.flatnonzero(np.isin(kind, [2, 3, 4]))
    pick = np.sort(rng.choice(near, min(pairs, len(near)), replace=False))
    a = np.array([first_line[int(orig[i])] for i in pick.tolist()])
    js = _exact_jaccard(_compared_texts(path, off, a), _compared_texts(path, off, pick))
    same = (cid[a] >= 0) & (cid[a] == cid[pick])
    hi = js >= 0.8
    print(f"  recall on {len(pick):,} planted near copies (edit / suffix / shuffle) vs their original, exact word "
          f"5-gram Jaccard as truth: {same[hi].mean():.4f} at J >= 0.8 ({hi.sum():,} pairs; target >= 0.95)")
    for lo_, hi_ in ((0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        sel = (js >= lo_) & (js < hi_)
        if sel.any():
            print(f"    J [{lo_:.1f}, {min(hi_, 1.0):.1f}): {sel.sum():6,} pairs, same cluster {same[sel].mean():.4f}")
    members = np.flatnonzero((cid >= 0) & (kept_of != np.arange(n)))
    rep = np.sort(rng.choice(members, min(pairs, len(members)), replace=False)) if len(members) else members
    if len(rep):
        jr = _exact_jaccard(_compared_texts(path, off, kept_of[rep]), _compared_texts(path, off, rep))
        print(f"  precision: of {len(rep):,} reported (duplicate, kept line) pairs, {np.mean(jr < 0.5):.2%} have an "
              f"exact Jaccard below 0.5 (target <= 1%), {np.mean(jr < 0.8):.2%} below 0.8 (chains inside clusters)")


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="dedup benchmark")
    ap.add_argument("--n", type=int, default=100_000, help="documents end to end (accuracy on the same corpus)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sig-docs", type=int, default=2000, help="documents for the throughput comparison")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--words-per-edit",
        type=int,
        default=gen.WORDS_PER_EDIT,
        help="near copies get up to one word edit per this many words (stress: 30-40)",
    )
    ap.add_argument("--workdir", default=None, help="where the corpus file goes (default: a temp dir)")
    ap.add_argument("--corpus", help="keep the generated JSONL here and reuse it on later runs")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true", help="(slow at 1M: re-renders every planted pair)")
    ap.add_argument("--through-scan", action="store_true", help="also time the real `dataprep dedup` command")
    ap.add_argument("--real", metavar="CORPUS", help="only section 5 on this gen_real_dups.py corpus")
    ap.add_argument("--peer-sample", type=int, default=20000, help="lines datasketch runs on (section 5)")
    ap.add_argument("--pairs", type=int, default=20000, help="planted / reported pairs checked (section 5)")
    a = ap.parse_args(argv)
    if a.real:
        real_corpus(a.real, a.jobs, a.peer_sample, a.pairs, a.seed)
        return 0
    cfg = MinHashConfig()
    print(f"# dedup benchmark  (cpus: {os.cpu_count()}, jobs: {a.jobs}; shared machine: timings are noisy)")

    p = gen.plan(a.n, a.seed, words_per_edit=a.words_per_edit)
    tmp = tempfile.TemporaryDirectory(dir=a.workdir)
    path = a.corpus or os.path.join(tmp.name, "corpus.jsonl")
    t0 = time.perf_counter()
    counts = ", ".join(f"{name} {int((p.kind == k).sum())}" for k, name in enumerate(gen.KIND_NAMES))
    if a.corpus and os.path.exists(path):
        print(f"reusing {path} (written with the same --n, --seed, --words-per-edit?): {counts}")
    else:
        write_corpus(path, p, a.jobs)
        mb = os.path.getsize(path) / 1e6
        print(f"generated {a.n} docs ({mb:.0f} MB) in {time.perf_counter() - t0:.1f}s: {counts}")

    if not a.skip_throughput:
        texts = [gen.conversation_text(gen.record(p, i)) for i in range(min(a.sig_docs, a.n))]
        throughput(texts)

    # 2. end to end. One-off costs (importing datasketch/scipy, the band optimiser, permutation
    # tables) are paid before the clock starts and inherited by the forked workers.
    cfg.bands_rows, mh.permutations(cfg.num_perm, cfg.seed)
    t0 = time.perf_counter()
    ranges = shard_ranges(path, a.jobs * 8)
    # The scan knows the line count; filling one preallocated matrix avoids a second copy.
    sigs = np.empty((a.n, cfg.num_perm), dtype=np.uint32)
    exact = np.empty(a.n, dtype=np.uint64)
    pos, rss_workers, cpu_sketch = 0, 0.0, 0.0
    with get_context("fork").Pool(a.jobs) as pool:
        for s, e, rss, cpu in pool.imap(_sketch_shard, [(path, x, y) for x, y in ranges]):
            sigs[pos : pos + len(s)] = s
            exact[pos : pos + len(s)] = e
            pos += len(s)
            rss_workers = max(rss_workers, rss)
            cpu_sketch += cpu
    t_sketch = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    result = find_duplicates(sigs, exact, cfg)
    t_dedup, cpu_dedup = time.perf_counter() - t1, time.process_time() - c1
    total = time.perf_counter() - t0
    rss_main = _rss_mb()
    assert pos == a.n
    print(f"\n## 2. End to end near-dup detection: {a.n} docs, {a.jobs} processes")
    print(f"  parse + sketch (parallel): {t_sketch:6.2f}s  ({a.n / t_sketch:,.0f} docs/s)")
    print(f"  LSH + verify + clusters:   {t_dedup:6.2f}s  ({result.candidate_pairs:,} candidate pairs verified)")
    print(f"  total:                     {total:6.2f}s")
    ideal = cpu_sketch / a.jobs + cpu_dedup
    print(
        f"  CPU seconds: sketch {cpu_sketch:.2f} (all workers), dedup {cpu_dedup:.2f}; on {a.jobs} idle cores "
        f"that is ~{ideal:.2f}s wall (neighbours' load excluded)"
    )
    print(
        f"  peak RSS: main {rss_main:,.0f} MB, largest worker {rss_workers:,.0f} MB "
        f"(signatures {sigs.nbytes / 1e6:,.0f} MB)"
    )
    scale = 1_000_000 / a.n
    print(
        f"  linear extrapolation to 1M docs: ~{total * scale:.0f}s wall, ~{ideal * scale:.0f}s from CPU time; signature matrix {sigs.nbytes * scale / 1e9:.2f} GB "
        f"(target 1M < 30 s on 2 cores, RSS < 3 GB)"
    )
    s = result.summary()
    print(
        f"  found: exact {s['exact_duplicates']}, near {s['near_duplicates']}, clusters {s['clusters']}, kept {s['kept']}"
    )

    if not a.skip_accuracy:
        accuracy(p, result, cfg.threshold)
    if a.through_scan:
        through_scan(p, path, a.jobs, tmp.name)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
