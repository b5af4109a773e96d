"""The scan that `dataprep tokens` runs (parse + validate every rule + count tokens) against a
single-process `json.loads` + tiktoken loop doing the same token counting, same file, same run.

    python benchmarks/bench_scan.py [--examples 1000000] [--file F ...] [--jobs 1 2] [--repeat 3]
                                    [--model gpt-4o-mini-2024-07-18] [--full] [--floor] [--table]

``--full`` also times the scan with every optional part (MinHash sketch for dedup, text
features for diversity), as `audit` and `gate` run it.

The loop is the OpenAI cookbook's count, so the scan counts for an OpenAI model with the same
formula and vocabulary (``--model``, default gpt-4o-mini, o200k_base): the totals must be
identical, and the line says so. Each file is measured in rounds (``--repeat N``): one round
runs the loop, then the scan at each ``--jobs``, so A and B alternate under the same load, and
the best of N of each is kept. Every measurement reports wall time and CPU time (this process
plus its reaped worker processes, from getrusage): on a shared machine the CPU-time ratio
(loop CPU / scan CPU, the per-core efficiency) is steadier than the wall ratio. Every line shows
the 1-minute load average. ``--table`` ends with a Markdown table of the files (for the README).
Peak RSS is this process and its largest child, from getrusage.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from dataprep.scan import scan
from dataprep.tokens import get_encoding
from dataprep.tokens.models import get_model

HERE = Path(__file__).parent
MODEL = "gpt-4o-mini-2024-07-18"  # an OpenAI row: the cookbook formula the loop implements


def baseline_tokens(path: Path, encoding: str = "o200k_base") -> int:
    """What a careful user writes by hand: json.loads each line, tiktoken each string (cookbook)."""
    enc = get_encoding(encoding)
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


def floor_tokens(path: Path, model: str = MODEL) -> int:
    """The part of the scan no design can skip: parse each line once and count its tokens."""
    import orjson

    from dataprep.tokens.count import TokenCounter

    count = TokenCounter.for_model(model).count
    total = 0
    with open(path, "rb") as f:
        for raw in f:
            total += count(orjson.loads(raw)).total
    return total


def _reap(timeout: float = 10.0) -> None:
    """Wait for finished worker processes so that RUSAGE_CHILDREN holds their CPU time."""
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)


def cpu_seconds() -> float:
    """User + system CPU of this process and of every reaped child."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(fn):
    """(wall seconds, CPU seconds including finished children, result)."""
    _reap()
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    _reap()
    return wall, cpu_seconds() - c0, out


def load() -> str:
    return f"[load {os.getloadavg()[0]:.2f}]"


def rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def bench_file(path: Path, a) -> dict:
    """Rounds of (loop, scan at each --jobs), best of --repeat of each; the row for the table."""
    mb = path.stat().st_size / 1e6
    encoding = get_model(a.model).encoding
    best: dict = {}

    def keep(key, wall, cpu):
        w, c = best.get(key, (float("inf"), float("inf")))
        best[key] = (min(w, wall), min(c, cpu))

    base = None
    totals: dict[int, int] = {}
    print(f"file: {path} ({mb:.0f} MB), {os.cpu_count()} cores, model {a.model}, best of {a.repeat} rounds")
    for r in range(max(1, a.repeat)):
        wall, cpu, base = measure(lambda: baseline_tokens(path, encoding))
        keep("loop", wall, cpu)
        print(f"  round {r + 1}: loop {wall:7.2f} s wall {cpu:7.2f} s CPU  {load()}")
        for j in a.jobs:
            wall, cpu, prof = measure(lambda j=j: scan(str(path), jobs=j, cache=False, sketch=False, text=False,
                                                       model=a.model))
            totals[j] = int(prof.rows["tokens_total"].sum())
            prof = None  # two profiles alive at once would double the peak RSS reported below
            keep(j, wall, cpu)
            print(f"  round {r + 1}: scan --jobs {j} {wall:7.2f} s wall {cpu:7.2f} s CPU  {load()}")
    t_base, c_base = best["loop"]
    print(f"  baseline json.loads + tiktoken loop: {t_base:7.2f} s  {mb / t_base:6.1f} MB/s  CPU {c_base:7.2f} s  "
          f"tokens={base:,}")
    row = {"file": path.name, "mb": mb, "loop": t_base, "loop_cpu": c_base, "jobs": {}, "identical": True}
    for j in a.jobs:
        t, c = best[j]
        same = totals[j] == base
        row["identical"] &= same
        row["jobs"][j] = (t, c)
        print(f"  dataprep scan --jobs {j}: {t:7.2f} s  {mb / t:6.1f} MB/s  ratio to baseline {t_base / t:5.2f}x  "
              f"CPU {c:7.2f} s (loop CPU / scan CPU {c_base / c:4.2f})  tokens={totals[j]:,} "
              f"{'(identical)' if same else '(DIFFERENT!)'}")
    if len(a.jobs) > 1:
        j0, j1 = min(a.jobs), max(a.jobs)
        print(f"  speed-up {j0} -> {j1} jobs: {best[j0][0] / best[j1][0]:.2f}x wall")
    if a.floor:
        t_floor, c_floor, n = measure(lambda: floor_tokens(path, a.model))
        j = max(a.jobs)
        print(f"  floor: orjson + token counter only, 1 core: {t_floor:7.2f} s  (on {j} cores at best "
              f"{t_floor / j:.2f} s, ratio {t_base / (t_floor / j):.2f}x)  tokens={n:,}  {load()}")
    if a.full:
        j = max(a.jobs)
        t_full, _, prof = measure(lambda j=j: scan(str(path), jobs=j, cache=False, model=a.model))
        prof = None
        print(f"  dataprep scan --jobs {j} with sketch + text features (audit/gate): {t_full:7.2f} s  "
              f"{mb / t_full:6.1f} MB/s  ratio to baseline {t_base / t_full:5.2f}x  {load()}")
    me, kids = rss_mb()
    row["rss"] = max(me, kids)
    print(f"  peak RSS so far: parent {me:.0f} MB, largest child {kids:.0f} MB")
    return row


def table(rows: list[dict], jobs: list[int]) -> str:
    head = "| data | MB | loop s | " + " | ".join(f"tokens --jobs {j} s (ratio; CPU ratio)" for j in jobs) \
        + " | totals |\n|---|---|---|" + "---|" * len(jobs) + "---|"
    lines = [head]
    for r in rows:
        cells = [f"{r['jobs'][j][0]:.2f} ({r['loop'] / r['jobs'][j][0]:.2f}x; {r['loop_cpu'] / r['jobs'][j][1]:.2f})"
                 for j in jobs]
        lines.append(f"| {r['file']} | {r['mb']:.0f} | {r['loop']:.2f} | " + " | ".join(cells)
                     + f" | {'identical' if r['identical'] else 'DIFFERENT'} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--file", nargs="+", help="files to measure (default: generated chat<examples>.jsonl)")
    ap.add_argument("--model", default=MODEL, help="an OpenAI model (the loop implements the cookbook formula)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the best of N of each measurement is kept")
    ap.add_argument("--full", action="store_true", help="also time the scan with sketch and text features")
    ap.add_argument("--floor", action="store_true",
                    help="also time orjson + dataprep's token counter alone on one core (no validation, no rows): "
                         "the best ratio a scan on N cores could reach if everything else were free")
    ap.add_argument("--table", action="store_true", help="end with a Markdown table of every file")
    a = ap.parse_args(argv)
    if get_model(a.model).formula != "openai":
        ap.error(f"--model {a.model} does not count with the cookbook formula the loop implements; "
                 f"pick an OpenAI model such as {MODEL}")
    paths = [Path(f) for f in a.file] if a.file else [HERE / "data" / f"chat{a.examples}.jsonl"]
    for path in paths:
        if not path.exists() and not a.file:
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, str(HERE / "gen_chat.py"), str(path), "--examples", str(a.examples)],
                           check=True)
    rows = [bench_file(p, a) for p in paths]
    if a.table:
        print()
        print(table(rows, a.jobs))
        me, kids = rss_mb()
        print(f"\npeak RSS: parent {me:.0f} MB, largest child {kids:.0f} MB")


if __name__ == "__main__":
    main()
