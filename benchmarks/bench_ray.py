"""Scan + dedup on Ray with 1 and 2 workers, and an estimate for a big cluster from the measurements.

    python benchmarks/bench_ray.py [--examples 100000] [--workers 1 2] [--file F] [--dups]
                                   [--target 100000000] [--nodes 32] [--cores-per-node 16]

The file is made by gen_chat.py (no duplicates) or, with ``--dups``, gen_near_dups.py (planted
exact and near duplicates, so the dedup stage has clusters to find).

Each worker count gets a fresh local Ray instance (warmed up on a small file first, so worker
start-up and tokenizer loading are not timed). Measured: the scan with the signatures kept in
the cluster, the distributed dedup, the driver's serial parts (merge, union-find), and one
shard scanned in this process (the per-core throughput every worker delivers). The estimate for
``--target`` examples on ``--nodes`` x ``--cores-per-node`` extrapolates those linearly and says
so; on a shared machine the timings are noisy.
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
WARMUP = HERE.parent / "sample_data" / "support_chat.jsonl"


def timed(module, name: str, box: dict):
    """Wrap ``module.name`` to add its wall time to ``box[name]`` (bench instrumentation only)."""
    fn = getattr(module, name)

    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            box[name] = box.get(name, 0.0) + time.perf_counter() - t

    setattr(module, name, wrapper)
    return fn


def per_core(path: str) -> dict:
    """One shard scanned in this process: the worker's rate and memory, and what receiving its
    result costs the driver (bytes, and a pickle round trip of the shard without its signatures,
    as Ray serialises it)."""
    import resource

    S = importlib.import_module("dataprep.scan")
    opts = S.ScanOptions()
    size = Path(path).stat().st_size
    with open(path, "rb") as f:
        expected = S.sniff_format(f.read(1 << 16))
    S.scan_range(str(WARMUP), 0, WARMUP.stat().st_size, expected, opts)  # tokenizer loaded, not timed
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s, e = S.shard_ranges(path, size, S.SHARD_BYTES)[0]
    dt = float("inf")
    for _ in range(2):  # the faster of two: the less disturbed by other jobs on the machine
        t = time.perf_counter()
        sh = S.scan_range(path, s, e, expected, opts)
        dt = min(dt, time.perf_counter() - t)
    from dataprep.engines.ray_engine import _split

    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024  # KiB on Linux
    meta, _ = _split(sh, True)
    t = time.perf_counter()
    blob = pickle.dumps(meta, protocol=5)
    pickle.loads(blob)
    n = max(1, sh.lines)
    return {"rate": sh.lines / dt, "mbs": (e - s) / 1e6 / dt, "n": sh.lines, "shard_mb": (e - s) / 1e6,
            "recv": (time.perf_counter() - t) / n, "bytes": len(blob) / n, "task_mb": rss}


def _burn(n: int) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t


def cores_available(workers: int) -> float:
    """How many cores the machine gives ``workers`` Ray tasks right now: one pure-Python task
    alone, then ``workers`` at once (other jobs on a shared machine take the rest)."""
    import ray

    from dataprep.engines import ray_engine as R

    burn = R._remote(_burn)
    ray.get([burn.remote(10) for _ in range(workers)])
    t = time.perf_counter()
    ray.get(burn.remote(10_000_000))
    one = time.perf_counter() - t
    t = time.perf_counter()
    ray.get([burn.remote(10_000_000) for _ in range(workers)])
    return workers * one / (time.perf_counter() - t)


def run(path: str, workers: int) -> dict:
    from dataprep.engines import ray_engine as R

    S = importlib.import_module("dataprep.scan")
    box: dict = {}
    merge = timed(S, "_merge", box)
    C = importlib.import_module("dataprep.dedup.clusters")  # the Ray engine imports it at call time
    tail = timed(C, "clusters_from_edges", box)
    try:
        with R.RayEngine(num_cpus=workers) as eng:
            shard = S.SHARD_BYTES
            S.SHARD_BYTES = 8192  # many small shards: every worker starts and loads its tokenizer
            try:
                eng.scan(str(WARMUP), cache=False, signatures="cluster")
            finally:
                S.SHARD_BYTES = shard
            cores = cores_available(workers)
            box.clear()
            t = time.perf_counter()
            prof = eng.scan(path, cache=False, signatures="cluster")
            t_scan = time.perf_counter() - t
            t = time.perf_counter()
            _, res = eng.duplicates(prof)
            t_dedup = time.perf_counter() - t
            ex = prof.rows["is_example"].to_numpy()
            t = time.perf_counter()
            np.unique(prof.exact[ex], return_index=True, return_inverse=True)  # the driver's exact grouping
            t_exact = time.perf_counter() - t
            rows_bytes = prof.rows.estimated_size() / max(1, prof.rows.height)
            out = {"workers": workers, "cores": cores, "examples": prof.examples, "scan_s": t_scan, "dedup_s": t_dedup,
                   "merge_s": box.get("_merge", 0.0), "union_find_s": box.get("clusters_from_edges", 0.0) + t_exact,
                   "shards": len(prof.remote.blocks), "kept": res.kept, "clusters": res.n_clusters,
                   "candidates": res.candidate_pairs, "row_bytes": rows_bytes,
                   "bands": prof.options.minhash.bands_rows[0], "num_perm": prof.options.minhash.num_perm}
    finally:
        S._merge = merge
        C.clusters_from_edges = tail
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--file")
    ap.add_argument("--dups", action="store_true", help="generate with gen_near_dups.py")
    ap.add_argument("--target", type=int, default=100_000_000, help="examples in the estimate")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--cores-per-node", type=int, default=16)
    ap.add_argument("--driver-gbps", type=float, default=1.0, help="GB/s the driver receives results at (assumed)")
    a = ap.parse_args(argv)
    path = Path(a.file or HERE / "data" / f"{'dups' if a.dups else 'chat'}{a.examples}.jsonl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        gen = ["gen_near_dups.py", str(path), "--n"] if a.dups else ["gen_chat.py", str(path), "--examples"]
        subprocess.run([sys.executable, str(HERE / gen[0]), *gen[1:], str(a.examples)], check=True)
    mb = path.stat().st_size / 1e6
    print(f"file: {path} ({mb:.0f} MB); timings on a shared machine are noisy")
    pc = per_core(str(path))
    rate, recv = pc["rate"], pc["recv"]
    print(f"  one shard ({pc['shard_mb']:.0f} MB) in one process: {pc['n']:,} examples, {rate:,.0f} examples/s, "
          f"{pc['mbs']:.1f} MB/s per core, +{pc['task_mb']:.0f} MB peak memory; its result is {pc['bytes']:.0f} B "
          f"per example without signatures, {recv * 1e6:.1f} us per example to deserialise")
    runs = [run(str(path), w) for w in a.workers]
    for r in runs:
        print(f"  ray, {r['workers']} worker(s) ({r['cores']:.2f} cores free): scan {r['scan_s']:6.2f} s ({r['examples'] / r['scan_s']:,.0f} ex/s, "
              f"{r['shards']} shards, driver merge {r['merge_s']:.2f} s)  dedup {r['dedup_s']:5.2f} s "
              f"(driver exact keys + union-find {r['union_find_s']:.2f} s)  clusters {r['clusters']:,} kept {r['kept']:,}")
    if len({(r["kept"], r["clusters"], r["candidates"]) for r in runs}) > 1:
        print("  RESULTS DIFFER between worker counts!")
    lo, hi = runs[0], runs[-1]
    if hi["workers"] > lo["workers"]:
        sp_scan = lo["scan_s"] / hi["scan_s"]
        sp_dedup = lo["dedup_s"] / hi["dedup_s"]
        free = hi["cores"] / lo["cores"]
        print(f"  speed-up {lo['workers']} -> {hi['workers']} workers: scan {sp_scan:.2f}x, dedup {sp_dedup:.2f}x "
              f"(ideal {hi['workers'] / lo['workers']:.0f}x; the machine gave {free:.2f}x the cores)")
        eff = min(1.0, sp_scan / max(free, 1e-9))
    else:
        eff = 1.0

    # ---- estimate (linear extrapolation of the measurements above; not a measurement)
    n, N = hi["examples"], a.target
    cores = a.nodes * a.cores_per_node
    scale = N / n
    scan_par = N / (cores * rate * eff)
    net = pc["bytes"] * N / (a.driver_gbps * 1e9)
    merge = hi["merge_s"] * scale + recv * N + net
    dedup_par = (hi["dedup_s"] - hi["union_find_s"]) * hi["workers"] / cores * scale
    uf = hi["union_find_s"] * scale
    total = scan_par + merge + dedup_par + uf
    sig_node = N * hi["num_perm"] * 4 / a.nodes / 2**30
    band_node = N * hi["bands"] * 20 / a.nodes / 2**30  # band, hash, index per example and band
    driver = N * (hi["row_bytes"] + 8 + 5 * 8) / 2**30  # rows frame + exact keys + union-find arrays
    print(f"\nESTIMATE for {N:,} examples on {a.nodes} nodes x {a.cores_per_node} cores ({cores} workers), "
          f"extrapolated linearly from this run (scaling efficiency {eff:.2f}: the 1 -> 2 speed-up over the "
          f"cores the machine gave):")
    print(f"  scan, parallel:           {scan_par / 60:7.1f} min  ({rate:,.0f} examples/s per core)")
    print(f"  scan merge on the driver: {merge / 60:7.1f} min  (serial: {hi['merge_s'] / n * 1e6 + recv * 1e6:.1f} us per example to "
          f"deserialise + merge, plus {pc['bytes'] * N / 1e9:.0f} GB received at an assumed {a.driver_gbps:g} GB/s)")
    print(f"  dedup banding + verify:   {dedup_par / 60:7.1f} min  (linear in n; the per-partition sort adds a log factor)")
    print(f"  exact keys + union-find:  {uf / 60:7.1f} min  (serial, on the driver)")
    print(f"  total:                    {total / 60:7.1f} min, about {total / 3600:.1f} h")
    print(f"  memory per node: {sig_node:.1f} GiB of signatures in the object store, up to {band_node:.1f} GiB of band "
          f"partitions while banding; driver: {driver:.0f} GiB ({hi['row_bytes']:.0f} B per row of the Profile frame "
          f"+ exact keys + union-find)")


if __name__ == "__main__":
    main()
