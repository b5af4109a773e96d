"""Parse + structural validation throughput per core, as a ratio to a plain json.loads loop.

    python benchmarks/bench_validate.py [--examples 1000000] [--file F] [--repeat 3]

Generates the file with gen_chat.py when absent. Prints MB/s for: a json.loads loop, an orjson
loop, dataprep structural validation (DP1xx/DP2xx) and full validation (with DP3xx content rules),
all single-process over the same bytes, plus the ratios. ``--repeat N`` keeps the best of N runs
of each; every line shows the 1-minute load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import io
import json
import os
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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--file")
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement")
    a = ap.parse_args(argv)
    path = Path(a.file or HERE / "data" / f"chat{a.examples}.jsonl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_chat.py"), str(path), "--examples", str(a.examples)], check=True)
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
