"""The scan that `dataprep tokens` runs (parse + validate every rule + count tokens) against a
single-process `json.loads` + tiktoken loop doing the same token counting, same file, same run.

    python benchmarks/bench_scan.py [--examples 1000000] [--jobs 1 2] [--repeat 3] [--full]

``--full`` also times the scan with every optional part (MinHash sketch for dedup, text
features for diversity), as `audit` and `gate` run it.

Prints wall time, MB/s, the ratio to the baseline, identical-totals check, the speed-up from
1 to N jobs, and peak RSS (parent + children, from getrusage). ``--repeat N`` keeps the best of
N runs of each measurement (the machine may be shared); every line shows the 1-minute load
average when it was taken, since other processes on the cores slow everything down.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from dataprep.scan import scan
from dataprep.tokens import get_encoding

HERE = Path(__file__).parent


def baseline_tokens(path: Path) -> int:
    """What a careful user writes by hand: json.loads each line, tiktoken each string (cookbook)."""
    enc = get_encoding("o200k_base")
    total = 0
    with open(path, "rb") as f:
        for raw in f:
            ex = json.loads(raw)
            n = 3
            for m in ex["messages"]:
                n += 3
                for k, v in m.items():
                    if isinstance(v, str):
                        n += len(enc.encode_ordinary(v))
                    if k == "name":
                        n += 1
                for c in m.get("tool_calls") or []:
                    n += len(enc.encode_ordinary(c["function"]["name"])) + len(enc.encode_ordinary(c["function"]["arguments"]))
            if ex.get("tools"):
                import orjson

                n += len(enc.encode_ordinary(orjson.dumps(ex["tools"]).decode()))
            total += n
    return total


def floor_tokens(path: Path) -> int:
    """The part of the scan no design can skip: parse each line once and count its tokens."""
    import orjson

    from dataprep.tokens.count import TokenCounter

    count = TokenCounter.for_model(None).count
    total = 0
    with open(path, "rb") as f:
        for raw in f:
            total += count(orjson.loads(raw)).total
    return total


def best(n: int, fn):
    """(fastest wall time of n runs, the last result)."""
    t_best, out = float("inf"), None
    for _ in range(max(1, n)):
        t = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, out


def load() -> str:
    return f"[load {os.getloadavg()[0]:.2f}]"


def rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--file")
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement")
    ap.add_argument("--full", action="store_true", help="also time the scan with sketch and text features")
    ap.add_argument("--floor", action="store_true",
                    help="also time orjson + dataprep's token counter alone on one core (no validation, no rows): "
                         "the best ratio a scan on N cores could reach if everything else were free")
    a = ap.parse_args(argv)
    path = Path(a.file or HERE / "data" / f"chat{a.examples}.jsonl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_chat.py"), str(path), "--examples", str(a.examples)], check=True)
    mb = path.stat().st_size / 1e6
    t_base, base = best(a.repeat, lambda: baseline_tokens(path))
    print(f"file: {path} ({mb:.0f} MB), {os.cpu_count()} cores, best of {a.repeat}")
    print(f"  baseline json.loads + tiktoken loop: {t_base:7.2f} s  {mb / t_base:6.1f} MB/s  tokens={base:,}  {load()}")
    times = {}
    for j in a.jobs:
        times[j], prof = best(a.repeat, lambda j=j: scan(str(path), jobs=j, cache=False, sketch=False, text=False))
        tot = int(prof.rows["tokens_total"].sum())
        prof = None  # two profiles alive at once would double the peak RSS reported below
        print(f"  dataprep scan --jobs {j}: {times[j]:7.2f} s  {mb / times[j]:6.1f} MB/s  ratio to baseline "
              f"{t_base / times[j]:5.2f}x  tokens={tot:,} {'(identical)' if tot == base else '(DIFFERENT!)'}  {load()}")
    if a.floor:
        t_floor, n = best(a.repeat, lambda: floor_tokens(path))
        j = max(a.jobs)
        print(f"  floor: orjson + token counter only, 1 core: {t_floor:7.2f} s  (on {j} cores at best "
              f"{t_floor / j:.2f} s, ratio {t_base / (t_floor / j):.2f}x)  tokens={n:,}  {load()}")
    if len(times) > 1:
        j0, j1 = min(times), max(times)
        print(f"  speed-up {j0} -> {j1} jobs: {times[j0] / times[j1]:.2f}x")
    if a.full:
        j = max(a.jobs)
        t_full, prof = best(a.repeat, lambda j=j: scan(str(path), jobs=j, cache=False))
        prof = None
        print(f"  dataprep scan --jobs {j} with sketch + text features (audit/gate): {t_full:7.2f} s  "
              f"{mb / t_full:6.1f} MB/s  ratio to baseline {t_base / t_full:5.2f}x  {load()}")
    me, kids = rss_mb()
    print(f"  peak RSS: parent {me:.0f} MB, largest child {kids:.0f} MB")


if __name__ == "__main__":
    main()
