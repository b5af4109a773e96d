"""Fail closed: an analysis that raises never turns into PASS (issue 15).

Each analysis the gate and audit rely on (tokens, dedup, diversity, language) is made to raise
by replacing its function; every output format of `gate` and every report of `audit` must then
say FAIL, name the analysis and its error (DP199), and the command must exit 2 (1 where the
preset sets ``analysis_failure = "fail"``). The same file without the injected failure passes,
so each assertion can fail.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
REASON = "injected failure for the test"

# the function each analysis goes through, as the gate calls it (module attribute, looked up at call time)
TARGETS = {
    "tokens": ("dataprep.tokens.analyze", "analyze"),
    "dedup": ("dataprep.dedup.analyze", "analyze"),
    "diversity": ("dataprep.diversity.analyze", "analyze"),
    "language": ("dataprep.diversity.language", "detect_sample"),
}
FORMATS = ("text", "json", "github", "junit", "sarif", "markdown")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """40 clean, varied examples: PASS under the openai preset."""
    lines = (ROOT / "sample_data" / "support_chat.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    p = tmp_path_factory.mktemp("clean") / "clean.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _break(monkeypatch, analysis: str) -> None:
    import importlib

    mod, name = TARGETS[analysis]

    def boom(*a, **k):
        raise RuntimeError(REASON)

    monkeypatch.setattr(importlib.import_module(mod), name, boom)


def _gate(path: Path, fmt: str, *extra: str):
    r = runner.invoke(app, ["gate", str(path), "-f", fmt, "-j", "1", "-q", *extra])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    return r


def test_control_the_clean_file_passes_in_every_format(clean):
    for fmt in FORMATS:
        r = _gate(clean, fmt)
        assert r.exit_code == 0, (fmt, r.output)
        assert REASON not in r.stdout and "the diversity analysis failed (" not in r.stdout
        with pytest.raises(AssertionError):  # the checks below do tell a failure from a pass
            _check_format(fmt, r.stdout, "diversity")


def _check_format(fmt: str, out: str, analysis: str) -> None:
    if fmt == "text":
        assert "DP199 analysis-failed [error]" in out and f"the {analysis} analysis failed" in out
        assert REASON in out and "verdict: FAIL" in out and f"ANALYSIS FAILED {analysis}" in out
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["summary"]["verdict"] == "fail" and doc["summary"]["analyses_failed"] >= 1
        (f,) = doc["files"]
        assert f["verdict"] == "fail"
        assert any(a["analysis"] == analysis and REASON in a["reason"] for a in f["analyses_failed"])
        assert any(x["rule"] == "DP199" and x["severity"] == "error" and analysis in x["message"]
                   and REASON in x["message"] for x in f["findings"])
    elif fmt == "github":
        errs = [x for x in out.splitlines() if x.startswith("::error ") and "DP199" in x]
        assert errs and analysis in errs[0] and REASON in errs[0]
        assert out.rstrip().endswith(": fail")
    elif fmt == "junit":
        root = ET.fromstring(out)
        (case,) = [c for c in root.iter("testcase") if c.get("name", "").startswith("DP199 ")]
        fail = case.find("failure")
        assert fail is not None and REASON in fail.text and analysis in fail.text
        assert int(root.get("failures")) >= 1
    elif fmt == "sarif":
        doc = json.loads(out)
        res = [x for x in doc["runs"][0]["results"] if x["ruleId"] == "DP199"]
        assert res and res[0]["level"] == "error" and REASON in res[0]["message"]["text"]
        assert analysis in res[0]["message"]["text"]
    elif fmt == "markdown":
        assert "❌ FAIL" in out and "DP199 analysis-failed" in out and REASON in out
    else:  # pragma: no cover
        raise AssertionError(fmt)


@pytest.mark.parametrize("analysis", list(TARGETS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_gate_fails_closed(clean, monkeypatch, analysis, fmt):
    _break(monkeypatch, analysis)
    r = _gate(clean, fmt)
    assert r.exit_code == 2, (analysis, fmt, r.output)
    _check_format(fmt, r.stdout, analysis)


@pytest.mark.parametrize("analysis", list(TARGETS))
def test_gate_fails_closed_with_output_file_and_summary(clean, monkeypatch, tmp_path, analysis):
    _break(monkeypatch, analysis)
    out = tmp_path / "gate.json"
    r = runner.invoke(app, ["gate", str(clean), "-f", "json", "-o", str(out), "-j", "1"])
    assert r.exit_code == 2
    assert f"the {analysis} analysis failed" in r.stderr and "gate FAIL" in r.stderr and "exit 2" in r.stderr
    _check_format("json", out.read_text(), analysis)


def test_preset_can_make_a_failed_analysis_exit_1(clean, monkeypatch, tmp_path):
    preset = tmp_path / "p.toml"
    preset.write_text('extends = "openai"\nanalysis_failure = "fail"\n')
    _break(monkeypatch, "diversity")
    r = _gate(clean, "text", "--rules", str(preset))
    assert r.exit_code == 1 and "verdict: FAIL" in r.stdout and "DP199" in r.stdout


@pytest.mark.parametrize("text,needle", [
    ('extends = "openai"\n[rules]\nDP199 = "off"\n', "always an error"),
    ('extends = "openai"\n[rules]\nanalysis-failed = "warning"\n', "always an error"),
    ('extends = "openai"\nanalysis_failure = "ignore"\n', "analysis_failure must be"),
])
def test_presets_cannot_switch_the_failure_off(tmp_path, text, needle):
    preset = tmp_path / "p.toml"
    preset.write_text(text)
    r = runner.invoke(app, ["gate", str(ROOT / "sample_data" / "support_chat.jsonl"), "--rules", str(preset), "-q"])
    assert r.exit_code == 2 and needle in r.stderr and "p.toml:" in r.stderr


def test_gate_fails_closed_when_the_scan_itself_raises(clean, monkeypatch):
    import importlib

    def boom(*a, **k):
        raise RuntimeError(REASON)

    # the module, not the function of the same name that `dataprep` exports
    monkeypatch.setattr(importlib.import_module("dataprep.scan"), "scan", boom)
    r = _gate(clean, "json")
    assert r.exit_code == 2
    (f,) = json.loads(r.stdout)["files"]
    assert f["verdict"] == "fail" and any(REASON in x["message"] for x in f["findings"])


@pytest.mark.parametrize("analysis", list(TARGETS))
def test_audit_fails_closed_in_every_report(clean, monkeypatch, tmp_path, analysis):
    _break(monkeypatch, analysis)
    js, html, md = tmp_path / "a.json", tmp_path / "a.html", tmp_path / "a.md"
    for fail_on in ("error", "never"):
        r = runner.invoke(app, ["audit", str(clean), "--json", str(js), "--html", str(html), "--markdown", str(md),
                                "-j", "1", "-q", "--fail-on", fail_on])
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert r.exit_code == 2, (fail_on, r.output)
    doc = json.loads(js.read_text())
    assert doc["summary"]["verdict"] == "fail" and doc["summary"]["analyses_failed"] == 1
    (f,) = doc["files"]
    assert f["verdict"]["verdict"] == "fail"
    assert [a["analysis"] for a in f["analyses_failed"]] == [analysis]
    assert any(s["level"] == "bad" and f"The {analysis} analysis failed" in s["text"] and REASON in s["text"]
               for s in doc["readiness"])
    assert any(x["rule"] == "DP199" for x in f["validation"]["findings"])
    h = html.read_text()
    assert "DP199" in h and REASON in h and f"The {analysis} analysis failed" in h and "FAIL" in h
    m = md.read_text()
    assert "❌ FAIL" in m and "DP199" in m and REASON in m and f"The {analysis} analysis failed" in m


def test_audit_control_passes(clean, tmp_path):
    r = runner.invoke(app, ["audit", str(clean), "--json", str(tmp_path / "a.json"), "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "a.json").read_text())["files"][0]["analyses_failed"] == []


def test_diversity_cli_fails_closed(clean, monkeypatch):
    _break(monkeypatch, "language")
    r = runner.invoke(app, ["diversity", str(clean), "--json", "-j", "1", "-q"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    doc = json.loads(r.stdout)  # every other figure is still there
    assert doc["lexical"]["assistant"]["distinct_2"] is not None and doc["failed"]["language"].endswith(REASON)
    assert "the language analysis failed" in r.stderr
    _break(monkeypatch, "diversity")
    r = runner.invoke(app, ["diversity", str(clean), "-j", "1", "-q"])
    assert r.exit_code == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("error: ") and "diversity analysis failed" in line and REASON in line
