"""A full default audit of one generated chat file: scan (parse, validate, tokens, text features,
MinHash), tokens and cost, dedup, diversity (language sample included), the HTML/Markdown/JSON
reports; time per stage and peak RSS.

    python benchmarks/bench_audit.py [--examples 100000] [--jobs 2] [--rules openai] [--file F]

The issue's target: 1M examples (~600 MB) in under 60 s on 2 cores, peak RSS under 3 GB.
Peak RSS is getrusage's maximum resident set of this process and, separately, of the largest
worker process (children); the two are not simultaneous, so their sum is an upper bound.
Caution: a spawned worker is started by fork + exec, and Linux carries the parent's peak into
the child's getrusage figure, so "largest worker" reads at least the parent's RSS at the time it
was started; bench_robustness.py samples each worker's own VmHWM, the figure to quote.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def cpu_s() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its ended worker processes: the
    figure to trust on a shared machine, where wall time depends on the neighbours."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=None, help="default: all cores")
    ap.add_argument("--rules", default="openai")
    ap.add_argument("--file")
    a = ap.parse_args(argv)
    path = Path(a.file or HERE / "data" / f"chat{a.examples}.jsonl")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_chat.py"), str(path), "--examples", str(a.examples)], check=True)
    mb = path.stat().st_size / 1e6

    from dataprep.audit import audit
    from dataprep.report.html import render_html
    from dataprep.report.markdown import render_markdown
    from dataprep.scan import default_jobs

    jobs = a.jobs or default_jobs()
    t0 = time.perf_counter()
    res = audit([str(path)], a.rules, jobs=jobs, cache=False)
    t_audit = time.perf_counter() - t0
    (fa,) = res.files
    t = time.perf_counter()
    html = render_html(res)
    md = render_markdown(res)
    import orjson

    js = orjson.dumps(res.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "r.html").write_text(html)
        (Path(d) / "r.md").write_text(md)
        (Path(d) / "r.json").write_bytes(js)
    t_report = time.perf_counter() - t
    total = t_audit + t_report
    me, kids = rss_mb()

    print(f"file: {path} ({mb:.0f} MB, {fa.examples:,} examples), jobs={jobs}, preset {a.rules}")
    for stage, s in fa.stage_seconds.items():
        print(f"  {stage:<10} {s:7.2f} s")
    other = t_audit - sum(fa.stage_seconds.values())
    print(f"  {'other':<10} {other:7.2f} s  (presets, volume, thresholds, worker start)")
    print(f"  {'report':<10} {t_report:7.2f} s  (HTML {len(html) / 1e3:.0f} kB, Markdown, JSON {len(js) / 1e6:.1f} MB)")
    print(f"  {'total':<10} {total:7.2f} s  ({mb / total:.1f} MB/s; {fa.examples / total:,.0f} examples/s)")
    print(f"  peak RSS: parent {me:,.0f} MB, largest worker {kids:,.0f} MB")
    c_me, c_kids = cpu_s()
    print(f"  CPU: {c_me + c_kids:,.1f} s (this process {c_me:,.1f} s, workers {c_kids:,.1f} s)")
    print(f"  verdict {fa.verdict}; {len(fa.findings):,} findings; dedup {fa.dedup['exact_duplicates']:,} exact + "
          f"{fa.dedup['near_duplicates']:,} near; language sample {fa.diversity.get('language_sample')}")
    if fa.notes:
        print("  notes: " + "; ".join(fa.notes))


if __name__ == "__main__":
    main()
