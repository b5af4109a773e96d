"""Parse + structural validation throughput per core, as a ratio to a plain json.loads loop.

    python benchmarks/bench_validate.py [--examples 1000000] [--file F]

Generates the file with gen_chat.py when absent. Prints MB/s for: a json.loads loop, an orjson
loop, dataprep structural validation (DP1xx/DP2xx) and full validation (with DP3xx content rules),
all single-process over the same bytes, plus the ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import orjson

from dataprep.io.reader import iter_lines
from dataprep.validate import check_line

HERE = Path(__file__).parent


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--file")
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

    t_json = timed(run_json)
    t_or = timed(run_orjson)
    t_struct = timed(lambda: run_dataprep(False))
    t_full = timed(lambda: run_dataprep(True))
    print(f"file: {path} ({mb:.0f} MB, {len(lines):,} lines), one process")
    for name, t in [("json.loads loop", t_json), ("orjson loop", t_or), ("dataprep structural", t_struct),
                    ("dataprep full (with content rules)", t_full)]:
        print(f"  {name:<36} {t:7.2f} s  {mb / t:7.1f} MB/s  ratio to json.loads {t_json / t:5.2f}x")


if __name__ == "__main__":
    main()
