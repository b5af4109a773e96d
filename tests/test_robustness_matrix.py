"""The small version of benchmarks/bench_robustness.py: every command on the hostile-lines file and
on templated data, as a user runs it (real processes), finishes within 30 s, exits 0/1/2 and never
prints a traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
pytestmark = pytest.mark.slow


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_every_command_on_hostile_and_templated_data(tmp_path):
    gen, bench = _load("gen_hostile"), _load("bench_robustness")
    hostile, templated = tmp_path / "hostile.jsonl", tmp_path / "templated.jsonl"
    hostile.write_bytes(b"\n".join(gen.hostile_lines(12)) + b"\n")
    templated.write_bytes(b"\n".join(gen.templated_lines(2000, 10)) + b"\n")
    rows = bench.matrix({"hostile": hostile, "templated": templated}, list(bench.COMMANDS), timeout=60)
    bad = [(r["corpus"], r["command"], r["exit"], r["wall_s"], r["tail"]) for r in rows
           if r["traceback"] or r["exit"] not in (0, 1, 2) or r["wall_s"] > 30]
    assert not bad, bad
    # The gate's verdict on templated data is pinned in tests/test_degenerate.py and test_fail_closed.py.


def test_fuzzed_real_examples_through_every_command(tmp_path):
    # benchmarks/fuzz_commands.py on one seed: mutated sample_data lines of every format, with
    # secrets planted where the structure is wrong (a role, a key, a schema type) as well as in text.
    _load("bench_robustness")
    fuzz = _load("fuzz_commands")
    data = fuzz.fuzz_file(tmp_path / "fuzz.jsonl", seed=1, lines=200)
    assert any(s.encode() in data.read_bytes() for s in fuzz.SECRETS)  # the search can fail
    bad = []
    commands = {c: fuzz.COMMANDS[c] for c in ("tokens", "dedup", "diversity", "gate", "audit", "fix",
                                                "train-dry-run")}
    commands["validate"] = ["validate", "{f}", "-f", "json"]  # every finding, not the first 20
    for cmd, args in commands.items():
        out = tmp_path / cmd
        out.mkdir()
        argv = [str(Path(sys.executable).with_name("dataprep"))] + [x.format(f=data, o=out) for x in args]
        r = fuzz.run_one(argv, 60, str(out))
        leaks = fuzz.leaked(out, r["output"])
        if r["traceback"] or r["exit"] not in (0, 1, 2) or r["wall_s"] > 30 or leaks:
            bad.append((cmd, r["exit"], leaks, r["tail"][-300:]))
    assert not bad, bad
