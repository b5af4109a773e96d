"""Parse + structural validation throughput per core, as a ratio to a plain json.loads loop.

    python benchmarks/bench_validate.py [--examples 1000000] [--file F] [--repeat 3]
    python benchmarks/bench_validate.py --jobs 1 2 [--file F]     # `validate` itself, 1 -> N cores

Generates the file with gen_chat.py when absent. Prints MB/s for: a json.loads loop, an orjson
loop, dataprep structural validation (DP1xx/DP2xx) and full validation (with DP3xx content rules),
all single-process over the same bytes, plus the ratios. ``--repeat N`` keeps the best of N runs
of each; every line shows the 1-minute load average (the machine may be shared).

``--jobs 1 2`` times what `dataprep validate` runs (``validate_file``: the scan without tokens,
signatures or text features, no cache) at each job count, in alternating rounds: wall time, the
wall speed-up, and CPU time of this process plus its reaped workers (getrusage). On a shared
machine the wall speed-up is only what the other processes left over; the per-core rate
(MB per CPU second, which jobs=N keeps when the cores are really free) is the steadier number.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

from dataprep.io.reader import iter_lines
from dataprep.validate import check_line

HERE = Path(__file__).parent


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cpu_seconds() -> float:
    """User + system CPU of this process and of every reaped child (the scan's workers)."""
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)  # reap finished workers so that RUSAGE_CHILDREN holds their time
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_jobs(path: Path, jobs: list[int], repeat: int) -> None:
    from dataprep.validate import validate_file

    mb = path.stat().st_size / 1e6
    best: dict[int, tuple[float, float]] = {}
    print(f"file: {path} ({mb:.0f} MB), `validate` (no cache), {os.cpu_count()} cores, best of {repeat} rounds")
    for r in range(max(1, repeat)):
        for j in jobs:
            c0, t0 = cpu_seconds(), time.perf_counter()
            rep = validate_file(str(path), jobs=j, cache=False)
            wall = time.perf_counter() - t0
            cpu = cpu_seconds() - c0
            w, c = best.get(j, (float("inf"), float("inf")))
            best[j] = (min(w, wall), min(c, cpu))
            print(f"  round {r + 1}: --jobs {j}: {wall:7.2f} s wall {cpu:7.2f} s CPU  {rep.examples:,} examples  "
                  f"[load {os.getloadavg()[0]:.2f}]")
    j0 = min(jobs)
    for j in jobs:
        w, c = best[j]
        print(f"  --jobs {j}: {w:7.2f} s  {mb / w:6.1f} MB/s wall, speed-up {best[j0][0] / w:4.2f}x;  "
              f"CPU {c:7.2f} s  per-core rate {mb / c:5.1f} MB/s ({rep.lines / c:,.0f} lines/s)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--file")
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement")
    ap.add_argument("--jobs", type=int, nargs="+", help="time `validate` itself at these job counts instead")
    a = ap.parse_args(argv)
    path = Path(a.file or HERE / "data" / f"chat{a.examples}.jsonl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_chat.py"), str(path), "--examples", str(a.examples)], check=True)
    if a.jobs:
        bench_jobs(path, a.jobs, a.repeat)
        return
    data = path.read_bytes()
    mb = len(data) / 1e6
    lines = data.splitlines()

    def run_json():
        for l in lines:
            json.loads(l)

    def run_orjson():
        for l in lines:
            orjson.loads(l)

    def run_dataprep(content: bool):
        p = str(path)
        for ln in iter_lines(io.BytesIO(data)):
            check_line(ln, p, content=content)

    print(f"file: {path} ({mb:.0f} MB, {len(lines):,} lines), one process, best of {a.repeat}")
    t_json = None
    for name, fn in [("json.loads loop", run_json), ("orjson loop", run_orjson),
                     ("dataprep structural", lambda: run_dataprep(False)),
                     ("dataprep full (with content rules)", lambda: run_dataprep(True))]:
        t = timed(fn, a.repeat)
        t_json = t_json or t
        print(f"  {name:<36} {t:7.2f} s  {mb / t:7.1f} MB/s  ratio to json.loads {t_json / t:5.2f}x"
              f"  [load {os.getloadavg()[0]:.2f}]")


if __name__ == "__main__":
    main()
