"""The validator on the planted broken sample, every output format, and the input plumbing."""

import gzip
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest
import zstandard
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.schema.catalog import all_rules
from dataprep.validate import FileState, file_level_findings, validate

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "sample_data" / "broken.jsonl"
runner = CliRunner()

GOOD = {"messages": [{"role": "system", "content": "You answer questions about bikes."},
                     {"role": "user", "content": "Do you sell bells?"},
                     {"role": "assistant", "content": "Yes, we sell bells in three colours."}]}


def write_lines(path: Path, records, n=12) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records * n))
    return path


def test_broken_sample_fires_every_planted_rule_at_its_line():
    expected = json.loads((ROOT / "sample_data" / "broken.expected.txt").read_text())
    result = validate(str(BROKEN))
    got = defaultdict(set)
    for f in result.findings:
        got[f.line].add(f.rule)
    for line, rules in expected.items():
        assert sorted(got.get(int(line), set())) == rules, f"line {line}"
    assert set(got) - {int(k) for k in expected} == set(), "findings on lines not in the manifest"
    planted = {r for rules in expected.values() for r in rules}
    per_line_rules = {r for r in all_rules() if r[:3] in ("DP1", "DP2") or "DP300" <= r <= "DP308"}
    # Rules that need a whole file of their own (tested below): unreadable, too large, too few, convertible;
    # DP199 (an analysis failed) comes from audit/gate, never from validate.
    assert per_line_rules - planted == {"DP100", "DP107", "DP109", "DP110", "DP199"}


def test_broken_sample_cli_exit_1_and_clean_file_exit_0(tmp_path):
    r = runner.invoke(app, ["validate", str(BROKEN)])
    assert r.exit_code == 1
    assert "DP305" in r.stdout
    clean = write_lines(tmp_path / "clean.jsonl", [GOOD])
    r = runner.invoke(app, ["validate", str(clean)])
    assert r.exit_code == 0, r.stdout
    assert "0 error(s), 0 warning(s)" in r.stdout


def test_secret_is_never_printed_in_full():
    secret = "sk-proj-4fJ9xQ2mZ7LpR8vT1nB6cW3yK5hD0sGa"
    assert secret.encode() in BROKEN.read_bytes()
    for fmt in ("text", "json", "github", "junit", "sarif"):
        r = runner.invoke(app, ["validate", str(BROKEN), "-f", fmt])
        assert secret not in r.stdout
        assert secret[:12] not in r.stdout


def test_json_output_shape():
    r = runner.invoke(app, ["validate", str(BROKEN), "-f", "json"])
    doc = json.loads(r.stdout)
    assert doc["version"] == 1
    (f,) = doc["files"]
    assert set(f) >= {"path", "examples", "valid_examples", "format", "findings"}
    assert f["format"] == "openai-chat" and f["examples"] == 46
    for finding in f["findings"]:
        assert {"rule", "name", "severity", "path", "line", "message"} <= set(finding)
        assert finding["severity"] in ("error", "warning", "info")
    s = doc["summary"]
    assert s["verdict"] == "fail" and s["errors"] == sum(x["severity"] == "error" for x in f["findings"])


def test_sarif_validates_against_the_2_1_0_schema():
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())
    r = runner.invoke(app, ["validate", str(BROKEN), "-f", "sarif"])
    doc = json.loads(r.stdout)
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(all_rules())
    assert {res["ruleId"] for res in run["results"]} >= {"DP101", "DP305"}
    # ruleIndex points at the rule with that id
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[res["ruleIndex"]]["id"] == res["ruleId"] for res in run["results"])


def test_junit_has_one_testcase_per_rule():
    r = runner.invoke(app, ["validate", str(BROKEN), "-f", "junit"])
    root = ET.fromstring(r.stdout)
    cases = root.findall(".//testcase")
    assert len(cases) == len(all_rules())
    failed = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert "DP305" in failed and "DP111" not in failed  # infos never fail
    assert "DP500" not in failed


def test_github_annotations_cap_at_ten_per_level(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n' * 25)
    r = runner.invoke(app, ["validate", str(bad), "-f", "github"])
    lines = r.stdout.splitlines()
    assert sum(l.startswith("::error ") for l in lines) == 10
    notice = [l for l in lines if l.startswith("::notice")]
    assert notice and "15 more error(s)" in notice[0]  # 25 DP200, 10 shown


def test_select_and_ignore(tmp_path):
    r = validate(str(BROKEN), select=["DP3"])
    assert {f.rule for f in r.findings} <= {r for r in all_rules() if r.startswith("DP3")}
    r = validate(str(BROKEN), ignore=["DP3", "byte-order-mark"])
    rules = {f.rule for f in r.findings}
    assert not any(x.startswith("DP3") for x in rules) and "DP106" not in rules and "DP211" in rules
    res = runner.invoke(app, ["validate", str(BROKEN), "--select", "DP999X"])
    assert res.exit_code == 2


def test_max_findings_caps_output_but_not_counts():
    r = runner.invoke(app, ["validate", str(BROKEN), "-f", "json", "--max-findings", "3"])
    doc = json.loads(r.stdout)
    assert len(doc["files"][0]["findings"]) == 3
    assert doc["files"][0]["findings_truncated"] == doc["summary"]["errors"] + doc["summary"]["warnings"] + doc["summary"]["infos"] - 3


def test_output_file_gets_machine_format_and_summary_goes_to_stderr(tmp_path):
    out = tmp_path / "r.sarif"
    proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", str(BROKEN), "-f", "sarif", "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "error(s)" in proc.stderr
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_unreadable_inputs_exit_2_without_traceback(tmp_path):
    (tmp_path / "x.jsonl.bz2").write_bytes(b"BZh91AY&SY" + b"\0" * 20)
    for target in [str(tmp_path / "missing.jsonl"), str(tmp_path / "x.jsonl.bz2"), str(tmp_path / "nomatch*.jsonl")]:
        proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", target], capture_output=True, text=True)
        assert proc.returncode == 2, target
        assert "Traceback" not in proc.stderr + proc.stdout
        assert "DP100" in proc.stdout


def test_file_level_rules(tmp_path):
    few = write_lines(tmp_path / "few.jsonl", [GOOD], n=3)
    assert [f.rule for f in validate(str(few)).findings] == ["DP109"]
    alp = write_lines(tmp_path / "a.jsonl", [{"instruction": "Say hi.", "input": "", "output": "Hi."}])
    fs = validate(str(alp)).findings
    assert [f.rule for f in fs] == ["DP110"] and fs[0].line == 1 and "dataprep convert" in fs[0].message
    st = FileState()
    st.records = 50
    assert [f.rule for f in file_level_findings("big.jsonl", st, size=600 * 2**20)] == ["DP107"]
    assert file_level_findings("ok.jsonl", st, size=500 * 2**20) == []


def test_json_array_files_are_recognised_with_one_finding(tmp_path):
    cases = {
        "alpaca": [{"instruction": "Name a colour.", "input": "", "output": "Blue."}] * 20,
        "sharegpt": [{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello."}],
                      "tools": "[]"}] * 20,
        "sharegpt-dpo": [{"conversations": [{"from": "human", "value": "Hi"}], "chosen": {"from": "gpt", "value": "Hello."},
                          "rejected": {"from": "gpt", "value": "Go away."}}] * 20,
    }
    for fmt, recs in cases.items():
        p = tmp_path / f"{fmt}.json"
        p.write_text(json.dumps(recs, indent=2))
        rep = validate(str(p)).files[0]
        assert rep.format == fmt
        assert [f.rule for f in rep.findings] == ["DP103"]
        assert "dataprep convert" in rep.findings[0].message


def test_compressed_stdin_directory_and_glob(tmp_path):
    data = "".join(json.dumps(GOOD) + "\n" for _ in range(12)).encode()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "d" / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    (tmp_path / "d" / "notes.txt").write_text("not data")
    r = validate(str(tmp_path / "d"))
    assert [Path(f.path).name for f in r.files] == ["a.jsonl.gz", "b.jsonl.zst"]
    assert all(f.examples == 12 and f.valid_examples == 12 for f in r.files)
    assert validate(str(tmp_path / "d" / "*.zst")).files[0].examples == 12
    proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", "-"], input=data, capture_output=True)
    assert proc.returncode == 0, proc.stdout


def test_truncated_zstd_is_unreadable_not_an_empty_file(tmp_path):
    data = zstandard.ZstdCompressor().compress(("".join(json.dumps(GOOD) + "\n" for _ in range(500))).encode())
    for name, blob in (("cut.jsonl.zst", data[: len(data) // 2]), ("magic.jsonl.zst", b"(\xb5/\xfd\n")):
        p = tmp_path / name
        p.write_bytes(blob)
        r = validate(str(p))
        assert r.exit_code() == 2 and [f.rule for f in r.findings] == ["DP100"], name
        assert "truncated" in r.findings[0].message


def test_truncated_gzip_is_a_finding_not_a_traceback(tmp_path):
    data = gzip.compress(("".join(json.dumps(GOOD) + "\n" for _ in range(500))).encode())
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    r = validate(str(p))
    assert r.exit_code() == 2 and r.findings[-1].rule == "DP100"


@pytest.mark.parametrize("line,rule", [
    (b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b."}]} trailing', "DP102"),
    (b'"just a string"', "DP103"),
    (b'{"messages": [{"role": "user", "content": "hi", "role": "assistant"}]}', "DP104"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": [{"type": "audio", "data": "."}]}]}', "DP207"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "Call 415-555-0132 today."}]}', "DP304"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "Card 4111 1111 1111 1111 works."}]}', "DP304"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "Server 8.8.8.8 is up."}]}', "DP304"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "Use AKIAABCDEFGHIJKLMNOP here."}]}', "DP305"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "```python\\nprint(1)"}]}', "DP306"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "Bad \\u0007 bell."}]}', "DP308"),
    (b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "ok.", "weight": true}]}', "DP210"),
    (b'{"messages": [{"role": ["user"], "content": "x"}, {"role": "assistant", "content": "ok."}]}', "DP204"),
    (b'{"messages": [{"role": {"r": 1}, "content": "x"}, {"role": "assistant", "content": "ok."}]}', "DP204"),
])
def test_single_line_rules(tmp_path, line, rule):
    p = tmp_path / "one.jsonl"
    p.write_bytes(line + b"\n")
    assert rule in {f.rule for f in validate(str(p)).findings}


def test_no_false_positives_on_ordinary_text(tmp_path):
    texts = ["Version 1.2.3 of the app ships on 2024-05-01.", "Order #123456 costs 45.50 dollars.",
             "Use {name} in Python f-strings like f'{name}'.", "The ratio is 3:4; see section [2].",
             "Our IP range is 10.0.0.1 internally.", "Call the function `get(a, b)` to fetch data."]
    recs = [{"messages": [{"role": "user", "content": "Tell me."}, {"role": "assistant", "content": t}]} for t in texts]
    p = write_lines(tmp_path / "ok.jsonl", recs, n=2)
    assert validate(str(p)).findings == []
