"""TUI benchmark: first screen, index build, jump to the last line, index memory; 10k vs 1M lines.

    python benchmarks/bench_tui.py [--sizes 10000 1000000] [--runs 3] [--no-scan] [--no-pty]

Files come from ``benchmarks/gen_chat.py`` (seed 0) as ``benchmarks/data/chat{N}.jsonl``, generated
when missing (1M lines is about 760 MB and a minute or two).

Per size, each run is a fresh process (no warm caches inside Python; the OS page cache is warm
after the first run, as it is for anyone who opens a file twice):

1. in process, headless (``App.run_test``, 120x40): time from constructing the app (line index
   opened) to the first row of the examples list being rendered ("first screen"); the line
   index build time; ``G`` (jump to the last line) from key press to the last row rendered, after
   the index is complete; ``down`` key latency while the scan runs; index bytes per line. The
   scan runs in the background as in real use (all cores, no cache) unless ``--no-scan``.
2. end to end in a pseudo-terminal (``dataprep tui FILE --no-cache``): process start, imports
   included, to the first frame that shows example rows; then ``q`` to the process exit.

Prints medians (and all runs) for each size and the 1M/10k ratio of the first-screen time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

T_START = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def ensure_file(n: int, data_dir: str) -> str:
    path = os.path.join(data_dir, f"chat{n}.jsonl")
    if not os.path.exists(path):
        os.makedirs(data_dir, exist_ok=True)
        print(f"generating {path} ({n:,} examples)…", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_chat.py"), path, "--examples", str(n), "--seed", "0"],
                       check=True)
    return path


# ----------------------------------------------------------------------------- one run (child)

def one_run(path: str, scan: bool) -> dict:
    import asyncio

    sys.path.insert(0, ROOT)
    t_imp = time.perf_counter()
    from dataprep.tui.app import DataprepApp, finish

    imports_s = time.perf_counter() - t_imp
    out: dict = {"imports_s": imports_s}

    async def main() -> None:
        t0 = time.perf_counter()
        app = DataprepApp(path, cache=False, scan=scan)
        async with app.run_test(size=(120, 40)) as pilot:
            lst = app.examples
            while lst.first_paint is None:
                await pilot.pause(0.002)
            out["first_screen_s"] = lst.first_paint - t0
            out["first_screen_from_process_start_s"] = lst.first_paint - T_START
            idx = app.dataset.index
            while not idx.done:
                await pilot.pause(0.01)
            out["index_s"] = time.perf_counter() - t0
            out["lines"] = len(idx)
            out["index_bytes_per_line"] = idx.nbytes / max(1, len(idx))
            await pilot.pause(0.2)  # let the final count land in the list
            last = len(idx) - 1
            t1 = time.perf_counter()
            await pilot.press("G")
            while not (lst.last_paint and lst.last_paint[0] == last and lst.last_paint[1] > t1):
                await pilot.pause(0.001)
            out["jump_last_ms"] = (lst.last_paint[1] - t1) * 1000
            t2 = time.perf_counter()
            await pilot.press("g")
            while not (lst.last_paint and lst.last_paint[1] > t2 and lst.cursor == 0):
                await pilot.pause(0.001)
            out["jump_first_ms"] = (lst.last_paint[1] - t2) * 1000
            # key latency while the background scan runs (the scan lives in another process)
            lat = []
            busy = 0
            for k in range(20):
                t3 = time.perf_counter()
                await pilot.press("down")
                while not (lst.cursor == k + 1 and lst.last_paint and lst.last_paint[1] > t3):
                    await pilot.pause(0.001)
                lat.append((lst.last_paint[1] - t3) * 1000)
                busy += app.scan_busy
            # search the whole file for a word that is not in it (raw-bytes prefilter, then parse hits)
            from dataprep.tui.search import Filter

            t4 = time.perf_counter()
            app.filter = Filter(regex="zebra")
            app.apply_filter()
            while "match" not in app.status["search"]:
                await pilot.pause(0.005)
            out["search_absent_word_s"] = time.perf_counter() - t4
            out["key_latency_median_ms"] = statistics.median(lat)
            out["key_latency_max_ms"] = max(lat)
            out["keys_during_scan"] = busy
        print(json.dumps(out), flush=True)
        finish(0)  # a 1M-line scan may still run: end it, as quitting the real app does

    asyncio.run(main())
    return out


# ----------------------------------------------------------------------------- end to end (pty)

def pty_run(path: str, timeout: float = 60.0) -> dict:
    import fcntl
    import pty
    import select
    import struct
    import termios

    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.chdir(ROOT)
        os.execvp(sys.executable, [sys.executable, "-m", "dataprep.cli", "tui", path, "--no-cache"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    buf = b""
    first = None
    while time.perf_counter() - t0 < timeout:
        r, _, _ = select.select([fd], [], [], 0.01)
        if r:
            try:
                buf += os.read(fd, 1 << 16)
            except OSError:
                break
            # a frame with example rows: a roles pattern appears
            if b"u,a" in buf:
                first = time.perf_counter() - t0
                break
    time.sleep(0.3)
    t1 = time.perf_counter()
    os.write(fd, b"q")
    while time.perf_counter() - t1 < timeout:
        r, _, _ = select.select([fd], [], [], 0.05)
        try:
            if r and not os.read(fd, 1 << 16):
                break
        except OSError:
            break
    os.waitpid(pid, 0)
    return {"e2e_first_frame_s": first, "quit_s": time.perf_counter() - t1}


# ----------------------------------------------------------------------------- driver

def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--no-scan", action="store_true", help="measure the viewer alone (no background scan)")
    ap.add_argument("--no-pty", action="store_true", help="skip the end-to-end pseudo-terminal runs")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one_run(args.one, not args.no_scan)
        return
    results = {}
    for n in args.sizes:
        path = ensure_file(n, args.data)
        runs = []
        for _ in range(args.runs):
            cmd = [sys.executable, os.path.abspath(__file__), "--one", path] + (["--no-scan"] if args.no_scan else [])
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
            line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
            if not line:
                sys.exit(f"run failed for {path}:\n{p.stdout}\n{p.stderr}")
            r = json.loads(line[-1])
            if not args.no_pty:
                r.update(pty_run(path))
            runs.append(r)
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
        results[n] = med
        size_mb = os.path.getsize(path) / 1e6
        print(f"\n{n:,} lines ({size_mb:,.0f} MB), median of {args.runs} run(s), background scan "
              f"{'off' if args.no_scan else 'on'}:")
        print(f"  first screen (app constructed -> first rows rendered): {med['first_screen_s'] * 1000:8.1f} ms")
        print(f"  first screen from process start (imports included):    "
              f"{med['first_screen_from_process_start_s'] * 1000:8.1f} ms")
        if "e2e_first_frame_s" in med:
            e2e = med["e2e_first_frame_s"] * 1000
            print(f"  end to end in a terminal (exec -> first frame):         {e2e:8.1f} ms")
            print(f"  quit (q -> process gone):                               {med['quit_s'] * 1000:8.1f} ms")
        print(f"  line index complete:                                    {med['index_s'] * 1000:8.1f} ms")
        print(f"  jump to last line (G -> last row rendered):             {med['jump_last_ms']:8.1f} ms")
        print(f"  jump to first line (g -> first row rendered):           {med['jump_first_ms']:8.1f} ms")
        print(f"  key latency (down -> row rendered), median / max:       {med['key_latency_median_ms']:8.1f} / "
              f"{med['key_latency_max_ms']:.1f} ms ({med['keys_during_scan']:.0f} of 20 presses while the scan ran)")
        print(f"  search a word absent from the file (/zebra/):           {med['search_absent_word_s'] * 1000:8.1f} ms")
        per_line = med["index_bytes_per_line"]
        print(f"  index memory:                                           {per_line:8.1f} bytes/line")
        print("  runs: " + json.dumps([{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                                        for r in runs]))
    if len(results) >= 2:
        lo, hi = min(results), max(results)
        ratio = results[hi]["first_screen_s"] / results[lo]["first_screen_s"]
        print(f"\nfirst screen {hi:,} vs {lo:,} lines: {ratio:.2f}x (1.0 = independent of size); "
              f"targets: first screen < 1 s, jump < 100 ms, index < 16 bytes/line")


if __name__ == "__main__":
    main()
