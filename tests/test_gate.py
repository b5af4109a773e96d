"""`dataprep gate`: presets on the sample files, user presets, malformed presets, thresholds, formats, the hook."""

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.gate import run_gate
from dataprep.gate.presets import PresetError, builtin_presets, load_preset
from dataprep.gate.verdict import assess
from dataprep.scan import scan

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="module")
def profiles():
    """Each sample scanned once (jobs=1, no cache); the presets only change the assessment."""
    names = ("support_chat.jsonl", "broken.jsonl", "multilingual.jsonl", "tools.jsonl", "dpo.jsonl")
    return {n: scan(str(SAMPLES / n), jobs=1, cache=False) for n in names}


# file, preset, verdict. support_chat (150 clean examples) reaches the style tier (50-100) but
# not the task tier's 200 minimum; multilingual (60) is in style's 50-99 warning band; tools and
# dpo (40) are under style's 50 minimum; broken fails everywhere.
EXPECTED = [
    ("support_chat.jsonl", "openai", "pass"),
    ("support_chat.jsonl", "style", "pass"),
    ("support_chat.jsonl", "task", "fail"),
    ("support_chat.jsonl", "domain", "fail"),
    ("support_chat.jsonl", "strict", "fail"),
    ("multilingual.jsonl", "openai", "pass"),
    ("multilingual.jsonl", "style", "warn"),
    ("multilingual.jsonl", "task", "fail"),
    ("tools.jsonl", "openai", "pass"),
    ("tools.jsonl", "style", "fail"),
    ("dpo.jsonl", "openai", "pass"),
    ("dpo.jsonl", "style", "fail"),
    *[("broken.jsonl", p, "fail") for p in ("openai", "style", "task", "domain", "strict")],
]


def test_builtin_presets_exist_and_load():
    assert set(builtin_presets()) >= {"openai", "style", "task", "domain", "strict"}
    tiers = {n: load_preset(n).volume for n in ("style", "task", "domain")}
    assert (tiers["style"].fail_below, tiers["style"].warn_below) == (50, 100)
    assert (tiers["task"].fail_below, tiers["task"].warn_below) == (200, 500)
    assert (tiers["domain"].fail_below, tiers["domain"].warn_below) == (1000, 5000)
    assert load_preset("openai").volume is None
    strict = load_preset("strict")
    assert strict.rules["DP400"] == "error" and strict.threshold("require_system_prompt") is True
    for name in builtin_presets():  # every preset file cites where its numbers come from
        text = (ROOT / "rules" / "presets" / f"{name}.toml").read_text()
        assert "source" in text and "as_of" in text


@pytest.mark.parametrize("name,preset,verdict", EXPECTED)
def test_preset_verdicts(profiles, name, preset, verdict):
    fa = assess(profiles[name], preset)
    assert fa.verdict == verdict, [(f.rule, f.severity.value, f.message) for f in fa.findings if f.severity.value != "info"]


def test_volume_finding_explains_the_tier(profiles):
    fa = assess(profiles["support_chat.jsonl"], "task")
    (f600,) = [f for f in fa.findings if f.rule == "DP600"]
    assert f600.severity.value == "error" and "150" in f600.message and "200" in f600.message
    fa = assess(profiles["multilingual.jsonl"], "style")
    (f600,) = [f for f in fa.findings if f.rule == "DP600"]
    assert f600.severity.value == "warning" and "60" in f600.message and "100" in f600.message
    assert fa.volume["status"] == "low" and fa.volume["partly"] == "style"


@pytest.mark.parametrize("name,preset,code", [
    ("support_chat.jsonl", "style", 0),
    ("support_chat.jsonl", "task", 1),
    ("broken.jsonl", "openai", 1),
    ("multilingual.jsonl", "style", 0),
])
def test_cli_exit_codes(name, preset, code):
    r = runner.invoke(app, ["gate", str(SAMPLES / name), "--rules", preset, "-j", "1", "-q"])
    assert r.exit_code == code, r.output


def test_fail_on_warning_makes_warn_exit_1():
    args = ["gate", str(SAMPLES / "multilingual.jsonl"), "--rules", "style", "-j", "1", "-q"]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, args + ["--fail-on", "warning"]).exit_code == 1


def test_unreadable_input_exits_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"BZh91AY&SY" + b"\0" * 20)  # bzip2 magic: not a supported compression
    r = runner.invoke(app, ["gate", str(bad), "-j", "1", "-q"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["gate", str(tmp_path / "missing.jsonl"), "-j", "1", "-q"])
    assert r.exit_code == 2


def test_json_output_has_thresholds_with_measured_and_limit():
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", "strict", "-j", "1", "-q",
                            "--output-format", "json"])
    assert r.exit_code == 1
    d = json.loads(r.stdout)
    assert d["version"] == 1 and d["summary"]["verdict"] == "fail" and d["summary"]["preset"] == "strict"
    (f,) = d["files"]
    for k in ("path", "examples", "valid_examples", "format", "findings", "verdict", "thresholds"):
        assert k in f
    th = {t["key"]: t for t in f["thresholds"]}
    sysp = th["require_system_prompt"]
    # support_chat has 15 lines without a system prompt (sample_data/README.md)
    assert sysp["measured"] == 15 and sysp["limit"] == 0 and sysp["passed"] is False and sysp["severity"] == "error"
    assert "15" in sysp["message"] and "require_system_prompt" in sysp["message"]
    assert th["max_duplicate_share"]["passed"] is True and th["max_duplicate_share"]["measured"] == 0.0
    # the failed threshold is also a finding, at file level, with the explanation
    assert any(x["rule"] == "DP311" and x["line"] == 0 and x["severity"] == "error" for x in f["findings"])


def test_text_output_explains_failed_thresholds():
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", "strict", "-j", "1", "-q"])
    assert "FAILED [error] examples without a system prompt 15" in r.stdout
    assert "exceeds require_system_prompt 0" in r.stdout
    assert "verdict: FAIL" in r.stdout


def _chat(user: str, answer: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


def test_user_preset_extends_builtin(tmp_path):
    p = tmp_path / "team.toml"
    p.write_text('name = "team"\nextends = "style"\n\n[rules]\nDP311 = "off"\nDP310 = "off"\n\n'
                 '[thresholds]\nallowed_languages = { value = ["en"], severity = "error" }\n')
    preset = load_preset(str(p))
    assert preset.name == "team" and preset.volume.tier == "style" and len(preset.files) == 3
    res = run_gate(str(SAMPLES / "multilingual.jsonl"), str(p), jobs=1, cache=False)
    (fa,) = res.files
    assert fa.verdict == "fail" and res.exit_code() == 1
    assert not any(f.rule in ("DP310", "DP311") for f in fa.findings)  # switched off
    (lang,) = [t for t in fa.thresholds if t.rule == "DP602"]
    # 12 of the 60 conversations are German or Spanish (sample_data/README.md)
    assert not lang.passed and lang.measured == pytest.approx(0.2) and lang.limit == 0.01
    assert "de" in lang.detail and "es" in lang.detail
    # the same file passes the built-in style preset's language check (it sets none)
    assert run_gate(str(SAMPLES / "support_chat.jsonl"), str(p), jobs=1, cache=False).verdict == "pass"


def test_user_preset_chain_of_files_and_model_override(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('extends = "openai"\nmodel = "gpt-3.5-turbo-0613"\n')
    child = tmp_path / "sub" / "child.toml"
    child.parent.mkdir()
    child.write_text('extends = "../base.toml"\n[thresholds]\nmax_over_length_share = { value = 0.0, severity = "error" }\n')
    data = tmp_path / "long.jsonl"
    lines = [_chat(f"Question number {i} about wheel sizes?", f"Answer {i}: a short reply about wheels.")
             for i in range(11)]
    lines.append(_chat("Tell me everything.", " ".join(["spoke"] * 5000) + "."))  # line 12: over 4,096 tokens
    data.write_text("\n".join(lines) + "\n")
    res = run_gate(str(data), str(child), jobs=1, cache=False)
    (fa,) = res.files
    assert fa.tokens["model"] == "gpt-3.5-turbo-0613" and fa.tokens["context_limit"] == 4096
    assert [f.line for f in fa.findings if f.rule == "DP400" and f.line] == [12]
    (th,) = [t for t in fa.thresholds if t.key == "max_over_length_share"]
    assert not th.passed and th.measured == pytest.approx(1 / 12) and "1 of 12" in th.detail
    assert fa.verdict == "fail"


def test_token_budget_threshold(tmp_path):
    p = tmp_path / "budget.toml"
    p.write_text('extends = "openai"\n[thresholds]\ntoken_budget = 10000\n')
    args = ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", str(p), "-j", "1", "-q", "-f", "json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output  # DP401 is a warning by default: warn exits 0
    (f,) = json.loads(r.stdout)["files"]
    (t,) = [t for t in f["thresholds"] if t["key"] == "token_budget"]
    # 150 examples -> 3 default epochs (cookbook heuristic) x billed tokens
    assert t["passed"] is False and t["limit"] == 10000 and t["measured"] > 10000 and "3 epoch(s)" in t["detail"]
    assert f["verdict"] == "warn" and any(x["rule"] == "DP401" and x["severity"] == "warning" for x in f["findings"])
    assert runner.invoke(app, args + ["--fail-on", "warning"]).exit_code == 1


@pytest.mark.parametrize("text,key,line", [
    ('name = "x"\nthresholds = [\n', None, 2),                                  # bad TOML: unclosed array
    ('name = "x"\n\n[rules]\nDP303 = = "error"\n', None, 4),                      # bad TOML: syntax
    ('name = "x"\nnmae = "y"\n', "nmae", 2),                                     # unknown top-level key
    ('extends = "task"\n\n[thresholds]\nmax_dup_share = 0.1\n', "max_dup_share", 4),
    ('[thresholds]\nmin_distinct_2 = "high"\n', "min_distinct_2", 2),           # wrong type
    ('[thresholds]\nmax_duplicate_share = 1.5\n', "max_duplicate_share", 2),    # out of range
    ('[rules]\nDP303 = "error"\nDP999 = "error"\n', "DP999", 3),                 # unknown rule id
    ('[rules]\nDP303 = "fatal"\n', "DP303", 2),                                  # unknown severity
    ('[volume]\nfail_below = 500\nwarn_below = 100\n', "warn_below", 3),        # inconsistent tier
    ('[volume]\nfail_below = "many"\n', "fail_below", 2),
    ('model = "gpt-9"\n', "model", 1),                                           # unknown model
    ('extends = "no-such-preset"\n', "extends", 1),
    ('[thresholdz]\nx = 1\n', "thresholdz", 1),                                  # unknown table
])
def test_malformed_preset_is_located(tmp_path, text, key, line):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(PresetError) as ei:
        load_preset(str(p))
    e = ei.value
    assert e.path == str(p) and e.line == line, str(e)
    assert str(e).startswith(f"{p}:{line}: ")
    if key:
        assert key in str(e)
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", str(p), "-j", "1", "-q"])
    assert r.exit_code == 2
    assert f"{p}:{line}:" in r.output and "Traceback" not in r.output


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('name = "b"\nextends = "a.toml"\n')
    with pytest.raises(PresetError) as ei:
        load_preset(str(tmp_path / "a.toml"))
    assert "cycle" in str(ei.value) and ei.value.key == "extends" and ei.value.line is not None


def test_unknown_preset_name_exits_2():
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", "nope", "-q"])
    assert r.exit_code == 2 and "openai" in r.output  # lists the built-ins


def test_markdown_and_github_step_summary(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", "task", "-j", "1", "-q",
                            "--output-format", "github"])
    assert r.exit_code == 1
    md = summary.read_text()
    assert md.startswith("earlier step\n")  # appended, not overwritten
    assert "❌ FAIL" in md and "preset `task`" in md and "DP600" in md and "| file |" in md
    out = tmp_path / "gate.md"
    r = runner.invoke(app, ["gate", str(SAMPLES / "support_chat.jsonl"), "--rules", "style", "-j", "1", "-q",
                            "--output-format", "markdown", "--output", str(out)])
    assert r.exit_code == 0
    text = out.read_text()
    assert "✅ PASS" in text and "`min_distinct_2`" in text and "| threshold |" in text


def test_run_gate_api_for_train():
    res = run_gate(str(SAMPLES / "support_chat.jsonl"), "style", jobs=1, cache=False)
    assert res.verdict == "pass" and res.exit_code() == 0
    res = run_gate([str(SAMPLES / "support_chat.jsonl"), str(SAMPLES / "broken.jsonl")], "openai", jobs=1, cache=False)
    assert res.verdict == "fail" and res.exit_code() == 1
    assert [f.verdict for f in res.files] == ["pass", "fail"]


def test_pre_commit_hook_definition(tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "dataprep-gate"]
    assert hook["language"] == "python" and hook["files"] == r"\.jsonl$"
    import re

    assert re.search(hook["files"], "data/train.jsonl") and not re.search(hook["files"], "data/train.json")
    exe = shutil.which("dataprep")
    if exe is None:
        pytest.skip("the dataprep console script is not on PATH (package not installed)")
    cmd = shlex.split(hook["entry"]) + list(hook.get("args", []))
    env = {**os.environ, "DATAPREP_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    # pre-commit appends the staged file names to the entry
    ok = subprocess.run(cmd + [str(SAMPLES / "support_chat.jsonl"), str(SAMPLES / "tools.jsonl")],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(cmd + [str(SAMPLES / "support_chat.jsonl"), str(SAMPLES / "broken.jsonl")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1 and "DP102" in bad.stdout and "Traceback" not in bad.stderr
