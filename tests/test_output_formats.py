"""The output seam (dataprep/output/): one registry of formats, one Report protocol that every
command's result implements, emitters that read only the protocol, one money formatter."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.gate.verdict import run_gate
from dataprep.output import FORMATS, FileView, Judgement, Report, format_enum, render
from dataprep.output.numbers import NO_PRICE, dollars, hours
from dataprep.schema.findings import Finding, Severity, make_finding
from dataprep.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="module")
def gate_broken(tmp_path_factory):
    return run_gate([str(SAMPLES / "broken.jsonl"), str(SAMPLES / "support_chat.jsonl")], "task", jobs=1, cache=False)


# ------------------------------------------------------------------------------------ the registry

def _format_choices(command: str) -> list[str]:
    """The choices the command itself names when given a format it does not know."""
    r = runner.invoke(app, [command, str(SAMPLES / "dpo.jsonl"), "--output-format", "nosuch"], env={"COLUMNS": "400"})
    assert r.exit_code == 2, r.output
    said = re.search(r"'nosuch' is not one of (.*?)\.", " ".join(r.output.split()))
    assert said, r.output
    return re.findall(r"'([a-z]+)'", said.group(1))


@pytest.mark.parametrize("command", ["validate", "gate", "dedup", "audit"])
def test_every_command_offers_every_registered_format(command):
    assert _format_choices(command) == list(FORMATS)


def test_format_enum_follows_the_registry(monkeypatch):
    """A format registered in FORMATS is a choice without touching the CLI's enum."""
    monkeypatch.setitem(FORMATS, "csv", "dataprep.output.text")
    assert [m.value for m in format_enum()] == ["text", "json", "github", "junit", "sarif", "markdown", "csv"]


def test_every_registered_module_renders_every_report(gate_broken):
    v = validate([str(SAMPLES / "broken.jsonl")], cache=False)
    for fmt in FORMATS:
        for rep in (v, gate_broken):
            out = render(fmt, rep)
            assert isinstance(out, str) and out.endswith("\n"), fmt


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown output format 'yaml'; choose one of text, json"):
        render("yaml", validate([str(SAMPLES / "dpo.jsonl")], cache=False))


# ------------------------------------------------------------------------------------ the protocol

def test_validate_gate_and_audit_results_are_reports(gate_broken):
    from dataprep.audit import audit

    v = validate([str(SAMPLES / "tools.jsonl")], cache=False)
    a = audit([str(SAMPLES / "tools.jsonl")], "openai", jobs=1, cache=False)
    for rep in (v, gate_broken, a, v.capped(1), gate_broken.capped(1)):
        assert isinstance(rep, Report), type(rep)
        assert all(isinstance(f, FileView) for f in rep.files)
    assert v.preset is None and v.judgement(v.files[0]) is None
    for rep in (gate_broken, a):
        j = rep.judgement(rep.files[0])
        assert isinstance(j, Judgement) and j.verdict == rep.files[0].verdict


def test_a_result_without_judgement_is_not_a_report():
    @dataclass
    class Half:
        files: list = field(default_factory=list)
        findings: list = field(default_factory=list)
        preset: object = None

        def summary(self):
            return {}

        def exit_code(self, fail_on=Severity.ERROR):
            return 0

        def to_dict(self):
            return {}

    assert not isinstance(Half(), Report)


def test_emitters_never_tell_results_apart_by_attribute():
    """Every emitter reads the protocol: no getattr/hasattr on a result or a file."""
    for path in (ROOT / "dataprep" / "output").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("getattr", "hasattr"), f"{path.name}:{node.lineno}"


@dataclass
class _File:
    path: str
    findings: list[Finding]
    format: str = "openai_chat"
    examples: int = 3
    valid_examples: int = 3
    readable: bool = True
    truncated: int = 0


@dataclass
class _Judged:
    """A report judged by someone whose verdicts are not what the findings shown would say."""

    files: list[_File]
    verdicts: dict[str, str]
    preset: object = None

    @property
    def findings(self):
        return [f for r in self.files for f in r.findings]

    def summary(self):
        return {"errors": 0, "warnings": 1, "infos": 0, "verdict": "fail"}

    def exit_code(self, fail_on=Severity.ERROR):
        return 1

    def to_dict(self):
        return {"files": [r.path for r in self.files]}

    def judgement(self, file):
        v = self.verdicts.get(file.path)
        return None if v is None else Judgement(v)


def test_markdown_shows_the_judged_verdict_not_one_counted_from_shown_findings():
    """--max-findings can hide a file's errors: its row must still say FAIL when it was judged so,
    and a file nobody judged falls back to what its findings say."""
    warn = make_finding("DP105", "x.jsonl", 2, message="m")
    rep = _Judged([_File("x.jsonl", [warn], truncated=4), _File("y.jsonl", [warn])], {"x.jsonl": "fail"})
    assert isinstance(rep, Report)
    md = render("markdown", rep)
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| `")}
    assert rows["`x.jsonl`"].endswith("❌ FAIL |"), md
    assert rows["`y.jsonl`"].endswith("⚠️ WARN |"), md
    assert "_4 more finding(s) not shown._" in md


def test_gate_text_carries_the_verdict_and_validate_text_does_not(gate_broken):
    g = render("text", gate_broken)
    assert "preset task:" in g and g.rstrip().splitlines()[-1].startswith("verdict: FAIL")
    v = render("text", validate([str(SAMPLES / "broken.jsonl")], cache=False))
    assert "preset" not in v and "verdict:" not in v


# ------------------------------------------------------------------------------------ the commands

def test_validate_speaks_markdown_and_keeps_its_exit_code():
    r = runner.invoke(app, ["validate", str(SAMPLES / "broken.jsonl"), "-f", "markdown"])
    assert r.exit_code == 1, r.output
    assert r.stdout.startswith("## dataprep: ❌ FAIL")


def test_audit_output_format_json_is_the_audit_json(tmp_path):
    out = tmp_path / "a.json"
    r = runner.invoke(app, ["audit", str(SAMPLES / "tools.jsonl"), "-f", "json", "--json", str(out), "-j", "1"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == json.loads(out.read_text())  # one result, one document


@pytest.mark.parametrize("fmt", ["github", "sarif", "junit", "markdown"])
def test_audit_machine_formats_on_stdout(fmt):
    r = runner.invoke(app, ["audit", str(SAMPLES / "broken.jsonl"), "-f", fmt, "-q", "-j", "1"])
    assert r.exit_code == 1, r.output
    assert "DP1" in r.stdout  # broken.jsonl's structural findings are in every format


def test_audit_refuses_two_documents_on_stdout():
    r = runner.invoke(app, ["audit", str(SAMPLES / "tools.jsonl"), "-f", "sarif", "--json", "-"])
    assert r.exit_code == 2
    assert "both write to stdout" in r.output


def test_the_registry_stays_light():
    """`dataprep rules` and --help import the registry: no emitter module, numpy or polars."""
    code = ("import sys, dataprep.output as o; import dataprep.output.ruledoc; "
            "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'polars', 'dataprep.output.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['dataprep.output.report', 'dataprep.output.ruledoc']"


# ------------------------------------------------------------------------------------ numbers

def test_money_never_reads_as_free():
    assert dollars(None) == NO_PRICE
    assert dollars(0.0042) == "$0.0042"  # not $0.00
    assert dollars(1234.5) == "$1,234.50"
    assert dollars(0) == "$0.00"
    assert dollars(None, none="n/a") == "n/a"
    assert dollars(0.5, sign="", cents_from=1.0) == "0.5000"
    assert hours(0.001) == "< 0.01" and hours(0) == "0.00" and hours(12345.678) == "12,345.68"


def test_one_money_formatter():
    """No module but numbers.py formats dollars itself."""
    offenders = []
    for path in (ROOT / "dataprep").rglob("*.py"):
        text = path.read_text()
        if path.name != "numbers.py" and ('f"${' in text or "f'${" in text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
