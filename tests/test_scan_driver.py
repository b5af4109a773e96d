"""One scan driver: every executor goes through ``scan()``'s cache, sniffing and merge, and
``validate`` is that scan without its optional parts.

* ``tokens`` caches a profile without signatures; ``dedup --engine ray`` on the same file must
  rescan with the union of parts (as the local engine does), not crash on the cached entry.
* ``validate`` and ``gate`` judge a mixed-format file by the same format (majority), so they
  report the same findings.
* ``validate`` of a file cut into several shards runs on the processes it is given, and its
  findings do not depend on how many.
"""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.gate.verdict import assess_path
from dataprep.validate import validate, validate_file

SCAN = importlib.import_module("dataprep.scan")  # the module (``dataprep.scan`` may be the function)


def _chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def _dup_file(path: Path) -> Path:
    """Distinct examples, exact copies and one-word edits (near duplicates), shuffled."""
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(300)]
    recs = [_chat(f"question {k}: " + " ".join(rng.choices(vocab, k=8)), " ".join(rng.choices(vocab, k=80)))
            for k in range(150)]
    for k in range(0, 150, 6):
        recs.append(recs[k])
        words = recs[k]["messages"][1]["content"].split()
        words[40] = "edited"
        recs.append(_chat(recs[k]["messages"][0]["content"], " ".join(words)))
    rng.shuffle(recs)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


@pytest.mark.ray
def test_tokens_then_dedup_on_ray_rescans_and_equals_local(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    path = str(_dup_file(tmp_path / "dups.jsonl"))
    runner = CliRunner()
    r = runner.invoke(app, ["tokens", path, "-q"])
    assert r.exit_code in (0, 1), r.output
    assert list((tmp_path / "cache").glob("*.dpc")), "tokens should have cached a profile (without signatures)"
    out = {}
    for engine, extra in (("ray", []), ("local", ["--no-cache"])):
        clusters = tmp_path / f"clusters-{engine}.jsonl"
        r = runner.invoke(app, ["dedup", path, "--engine", engine, "-j", "2", "--json", "-q",
                                "--clusters", str(clusters), *extra])
        assert r.exception is None or isinstance(r.exception, SystemExit), r.output
        assert "Traceback" not in r.output and r.exit_code in (0, 1), r.output
        out[engine] = (r.exit_code, r.stdout, clusters.read_bytes())
    assert out["ray"] == out["local"]
    doc = orjson.loads(out["local"][1])
    assert doc["clusters"] >= 20 and doc["exact_duplicates"] >= 20 and doc["near_duplicates"] >= 20


def _mixed_file(path: Path) -> Path:
    """Chat lines (the majority), with a DPO line first, a prompt/completion line, and lines of
    no known format (judged as the file's format: chat)."""
    dpo = {"input": {"messages": [{"role": "user", "content": "Say hello."}]},
           "preferred_output": [{"role": "assistant", "content": "Hello."}],
           "non_preferred_output": [{"role": "assistant", "content": "No."}]}
    lines = [dpo, {"prompt": "Name a colour.", "completion": "Blue."}]
    lines += [_chat(f"What is {k} plus {k}?", f"{k} plus {k} is {2 * k}.") for k in range(20)]
    lines.insert(7, {"foo": 1})
    lines.insert(15, {"input": "half a record", "preferred_output": "x"})
    lines.insert(18, {"messages": "not a list"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _validator_findings(findings) -> list[tuple]:
    # gate adds dataset-level analyses (DP4xx-DP6xx) and a preset may change severities: compare
    # what both report from the validator's rules, everything but the severity.
    return [(f.rule, f.line, f.column, f.pointer, f.message) for f in findings if f.rule < "DP400"]


def test_validate_and_gate_agree_on_a_mixed_format_file(tmp_path):
    path = str(_mixed_file(tmp_path / "mixed.jsonl"))
    rep = validate(path, cache=False).files[0]
    fa = assess_path(path, "openai", jobs=1, cache=False)
    assert rep.format == fa.format == "openai-chat"
    got = _validator_findings(rep.findings)
    assert got == _validator_findings(fa.findings)
    rules = {(r, ln) for r, ln, *_ in got}
    assert ("DP108", 1) in rules and ("DP108", 2) in rules  # other formats than the file's
    # the line of no known format is judged as chat (the majority), not as DPO (the first line)
    assert any(r.startswith("DP2") and ln == 8 for r, ln in rules)


def test_validate_of_a_multi_shard_file_uses_the_processes_it_is_given(tmp_path, monkeypatch):
    path = tmp_path / "many.jsonl"
    rng = random.Random(3)
    with open(path, "w") as f:
        for k in range(3000):
            rec = _chat(f"q{k} " + "x" * rng.randrange(0, 40), f"answer {k}")
            if k % 97 == 0:
                rec["messages"][1]["role"] = "robot"  # a finding in many shards
            f.write(("not json" if k % 401 == 0 else json.dumps(rec)) + "\n")
    monkeypatch.setattr(SCAN, "SHARD_BYTES", 16_384)  # ~15 shards; the parent and one worker
    one = validate_file(str(path), jobs=1, cache=False)
    two = validate_file(str(path), jobs=2, cache=False)
    assert one.shards > 5 and one.jobs == 1
    assert two.shards > 5 and two.jobs == 2
    assert one.findings and [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert (one.format, one.examples, one.valid_examples, one.lines) == \
        (two.format, two.examples, two.valid_examples, two.lines) == ("openai-chat", 3000, 2962, 3000)


def test_validate_is_cached_and_reads_stdin_as_dash(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    path = _mixed_file(tmp_path / "mixed.jsonl")
    first = validate_file(str(path))
    assert first.shards == 1 and list((tmp_path / "cache").glob("*.dpc"))
    again = validate_file(str(path))
    assert again.shards == 0  # read from the cache, not scanned
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in again.findings]
    r = CliRunner().invoke(app, ["validate", "-", "--output-format", "json"], input=path.read_bytes())
    doc = orjson.loads(r.stdout)
    assert r.exit_code == 1 and doc["files"][0]["path"] == "-"
    assert {f["path"] for f in doc["files"][0]["findings"]} == {"-"}
    assert [f.to_dict()["rule"] for f in first.findings] == [f["rule"] for f in doc["files"][0]["findings"]]


def test_scan_and_convert_do_not_import_validate():
    code = ("import sys, dataprep.scan, dataprep.io.convert, dataprep.cache; "
            "assert 'dataprep.validate' not in sys.modules, sorted(m for m in sys.modules if 'dataprep' in m)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
