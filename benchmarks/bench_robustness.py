"""The robustness matrix: every command x corpora nobody here designed for -> wall time, peak RSS of
the command's process and of its worker processes, exit code, traceback yes/no.

    python benchmarks/bench_robustness.py [--examples 1000000] [--corpora real-varied real-dups hostile templated]
                                          [--commands validate tokens ...] [--markdown OUT.md] [--timeout 600]

Corpora (built under benchmarks/data/ once, then reused):
* ``real-varied``: ``--examples`` examples of real public text (../shared/data and sample_data,
  recombined by gen_real_dups.py with one line per original: no planted duplicate);
* ``real-dups``: the same real text heavily duplicated (~40 lines per original: exact copies, light
  edits, short suffixes, shuffled sentences; gen_real_dups.py's defaults);
* ``hostile``: chat lines around a 12 MB line, 5,000-deep nesting, one character repeated 1M times,
  lone surrogates, NUL, invalid UTF-8, a truncated line, a JSON array, binary (gen_hostile.py);
* ``templated``: 2,000 examples from 10 templates (gen_hostile.py).

Peak RSS: the command's own from wait4() (exact); each worker's VmHWM read from /proc every 50 ms
while it lives (a growth in its last 50 ms can be missed). Every command runs with --no-cache where
it has one, so each row is a cold run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dataprep.lifetime import descendants  # the same /proc walk the command's own clean-up uses

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TRAIN_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"  # a name only: a dry run downloads nothing

# name -> argv after `dataprep`; {f} the corpus, {o} a scratch folder for outputs.
COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "{f}", "--max-findings", "20"],
    "tokens": ["tokens", "{f}", "--no-cache"],
    "dedup": ["dedup", "{f}", "--out", "{o}/kept.jsonl", "--no-cache"],
    "split": ["split", "{f}", "--out-dir", "{o}/split", "--no-cache"],
    "diversity": ["diversity", "{f}", "--no-cache"],
    "gate": ["gate", "{f}", "--rules", "task", "--no-cache"],
    "audit": ["audit", "{f}", "--json", "{o}/audit.json", "--html", "{o}/audit.html", "--no-cache"],
    "convert": ["convert", "{f}", "{o}/converted.jsonl"],
    "fix": ["fix", "{f}", "--out", "{o}/fixed.jsonl", "--rejects", "{o}/rejects.jsonl"],
    "tui": [],  # the first screen through textual's pilot, see _tui_argv
    "train-dry-run": ["train", "{f}", "--backend", "axolotl", "--model", TRAIN_MODEL, "--dry-run", "--force",
                      "--output", "{o}/run"],
}

TUI_SCRIPT = """
import asyncio, sys, time
from dataprep.tui.app import DataprepApp
async def go():
    app = DataprepApp(sys.argv[1], cache=False)
    async with app.run_test(size=(120, 40)) as pilot:
        t0 = time.perf_counter()
        while app.examples.count == 0 and time.perf_counter() - t0 < float(sys.argv[2]):
            await pilot.pause(0.05)
        print("first screen rows", app.examples.count)
asyncio.run(go())
"""


def _tui_argv(path: str, timeout: float) -> list[str]:
    return [sys.executable, "-c", TUI_SCRIPT, path, str(timeout)]


def build_corpus(name: str, examples: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    gen_dups, gen_hostile = str(HERE / "gen_real_dups.py"), str(HERE / "gen_hostile.py")
    if name == "real-varied":
        path = DATA / f"real_varied_{examples}.jsonl"
        cmd = [sys.executable, gen_dups, str(path), "--examples", str(examples), "--originals", str(examples),
               "--copies", "1"]
    elif name == "real-dups":
        path = DATA / f"real_dups_{examples}.jsonl"
        cmd = [sys.executable, gen_dups, str(path), "--examples", str(examples)]
    elif name == "hostile":
        path = DATA / "hostile.jsonl"
        cmd = [sys.executable, gen_hostile, "hostile", str(path)]
    elif name == "templated":
        path = DATA / "templated_2000.jsonl"
        cmd = [sys.executable, gen_hostile, "templated", str(path), "--examples", "2000"]
    else:
        raise SystemExit(f"unknown corpus {name!r}")
    if not path.exists():
        subprocess.run(cmd, check=True)
    return path


def _hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_one(argv: list[str], timeout: float, cwd: str) -> dict:
    """Run argv; wall time, exit code, traceback, peak RSS of the process and of its descendants."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                start_new_session=True)
        workers: dict[int, float] = {}
        status = rusage = None
        timed_out = False
        while status is None:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, rusage = st, ru
                break
            for d in descendants(proc.pid):
                hwm = _hwm_mb(d)
                if hwm is not None:
                    workers[d] = max(workers.get(d, 0.0), hwm)
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, 9)
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    # CPU seconds of the whole tree (wait4 counts the workers the command reaped): on a shared
    # machine the wall time says how busy the others were; cpu_s / cores is the quiet-machine wall.
    return {"wall_s": wall, "cpu_s": rusage.ru_utime + rusage.ru_stime,
            "exit": "timeout" if timed_out else proc.returncode,
            "traceback": "Traceback (most recent call last)" in text,
            "rss_parent_mb": rusage.ru_maxrss / 1024, "rss_worker_mb": max(workers.values(), default=0.0),
            "workers": len(workers), "tail": text[-600:], "output": text}


def matrix(corpora: dict[str, Path], commands: list[str], timeout: float) -> list[dict]:
    dataprep = str(Path(sys.executable).with_name("dataprep"))
    rows = []
    for cname, path in corpora.items():
        for cmd in commands:
            with tempfile.TemporaryDirectory() as o:
                if cmd == "tui":
                    argv = _tui_argv(str(path), timeout)
                else:
                    argv = [dataprep] + [a.format(f=path, o=o) for a in COMMANDS[cmd]]
                r = run_one(argv, timeout, o)
            rows.append({"corpus": cname, "command": cmd} | r)
            print(f"{cname:12} {cmd:14} {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  parent {r['rss_parent_mb']:7.0f} MB  "
                  f"workers {r['rss_worker_mb']:7.0f} MB  exit {r['exit']!s:>7}  "
                  f"traceback {'YES' if r['traceback'] else 'no'}", flush=True)
            if r["traceback"] or r["exit"] not in (0, 1, 2):
                print("    " + r["tail"].replace("\n", "\n    "), flush=True)
    return rows


def markdown(rows: list[dict], corpora: dict[str, Path]) -> str:
    head = "| corpus | command | wall s | peak RSS command MB | peak RSS worker MB | exit | traceback |"
    out = [head, "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {r['corpus']} | {r['command']} | {r['wall_s']:.1f} | {r['rss_parent_mb']:,.0f} | "
                   f"{r['rss_worker_mb']:,.0f} | {r['exit']} | {'YES' if r['traceback'] else 'no'} |")
    sizes = ", ".join(f"{k} {p.stat().st_size / 1e6:,.0f} MB" for k, p in corpora.items())
    return "\n".join(out) + f"\n\nCorpora: {sizes}; {os.cpu_count()} cores.\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--corpora", nargs="+", default=["real-varied", "real-dups", "hostile", "templated"])
    ap.add_argument("--commands", nargs="+", default=list(COMMANDS), choices=list(COMMANDS))
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--markdown", help="also write the table here")
    a = ap.parse_args()
    corpora = {c: build_corpus(c, a.examples) for c in a.corpora}
    rows = matrix(corpora, a.commands, a.timeout)
    table = markdown(rows, corpora)
    print("\n" + table)
    if a.markdown:
        Path(a.markdown).write_text(table)
    bad = [r for r in rows if r["traceback"] or r["exit"] not in (0, 1, 2)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
