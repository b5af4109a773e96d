"""`--target`: one dataset judged by the rules of where it will train (rules/targets/*.toml).

The same file gets different, correct verdicts under different targets; every finding a target
judges names the target's rule, date and source; LLaMA-Factory's silently dropped rows and TRL's
silently truncated rows are listed; an unconfirmed rule never fails a file; and no preset, default
or README example names a retired model.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.gate import run_gate
from dataprep.targets import TargetError, builtin_targets, choose_target, load_target, project_target
from dataprep.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no project config unless a test writes one


def _chat(*roles: str, n: int = 0) -> dict:
    text = {"system": "Be brief.", "user": f"What is {n} plus {n}?", "assistant": f"It is {2 * n}.",
            "tool": "42"}
    return {"messages": [{"role": r, "content": text[r]} for r in roles]}


def _write(path: Path, records: list[dict], *, bom: bool = False) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes((BOM if bom else b"") + data)
    return path


def _good(n: int) -> list[dict]:
    return [_chat("user", "assistant", n=i) for i in range(n)]


def _rules(result) -> set[tuple[str, str, int]]:
    return {(f.rule, f.severity.value, f.line) for f in result.findings}


# --------------------------------------------------------------------------------------------- must show

def test_same_file_three_targets_three_verdicts(tmp_path):
    # 12 examples, a BOM, and line 1 has two assistant turns in a row.
    path = _write(tmp_path / "train.jsonl", [_chat("user", "assistant", "assistant")] + _good(11), bom=True)
    openai = validate(str(path), target="openai", cache=False)
    azure = validate(str(path), target="azure", cache=False)
    together = validate(str(path), target="together", cache=False)
    # OpenAI takes consecutive assistant turns, flags the BOM and says it stops taking jobs.
    assert _rules(openai) == {("DP106", "warning", 1), ("DP703", "warning", 0)}
    assert openai.summary()["verdict"] == "warn"
    # Azure's docs ask for the BOM: no finding at all.
    assert _rules(azure) == set()
    assert azure.summary()["verdict"] == "pass"
    # Together wants user and assistant to alternate: an error on line 1.
    assert ("DP704", "error", 1) in _rules(together)
    assert together.summary()["verdict"] == "fail"
    assert validate(str(path), cache=False).summary()["verdict"] == "warn"  # no target: today's rules
    for result, name in ((openai, "openai"), (together, "together")):
        for f in result.findings:
            if f.rule != "DP106":  # a catalog rule the target does not judge keeps its own words
                t = load_target(name)
                assert f"[{name} rule, as of {t.as_of}: {t.sources[0]}]" in f.message, f.message


def test_alternation_error_for_together_and_llamafactory_warning_for_openai(tmp_path):
    # line 2: two user turns in a row
    path = _write(tmp_path / "t.jsonl", [_chat("user", "assistant"), _chat("user", "user", "assistant")] + _good(10))
    openai = validate(str(path), target="openai", cache=False)
    together = validate(str(path), target="together", cache=False)
    lf = validate(str(path), target="llamafactory", cache=False)
    assert ("DP215", "warning", 2) in _rules(openai)
    assert not any(f.severity.value == "error" for f in openai.findings)
    assert [(f.rule, f.severity.value) for f in together.findings if f.line == 2] == [("DP704", "error")]
    assert [(f.rule, f.severity.value) for f in lf.findings if f.line == 2] == [("DP705", "error")]
    assert "together rule" in together.findings[0].message and "docs.together.ai" in together.findings[0].message
    assert "LLaMA-Factory skips this row silently" in lf.findings[0].message


def test_azure_missing_bom_is_an_unverified_warning(tmp_path):
    path = _write(tmp_path / "t.jsonl", _good(12))
    r = validate(str(path), target="azure", cache=False)
    [f] = r.findings
    assert (f.rule, f.severity.value, f.line) == ("DP701", "warning", 1)
    assert "UNVERIFIED" in f.message and "azure rule" in f.message
    assert r.exit_code() == 0


def test_gate_llamafactory_flags_exactly_the_rows_it_would_drop(tmp_path):
    records = [
        _chat("system", "user", "assistant"),                         # 1 kept
        _chat("user", "assistant", "user"),                            # 2 odd count: dropped
        _chat("user", "user", "assistant"),                            # 3 user at an assistant slot: dropped
        _chat("user", "assistant", "system", "user", "assistant"),     # 4 system not first: dropped
        _chat("assistant", "user"),                                    # 5 starts with assistant: dropped
        _chat("system", "user", "assistant", "user", "assistant"),     # 6 kept
    ] + _good(6)
    path = _write(tmp_path / "lf.jsonl", records)
    r = runner.invoke(app, ["gate", str(path), "--target", "llamafactory", "-j", "1", "-q", "-f", "json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    dropped = sorted(f["line"] for f in out["files"][0]["findings"] if f["rule"] == "DP705")
    assert dropped == [2, 3, 4, 5]
    assert out["summary"]["target"] == "llamafactory"
    # the same rows under TRL: nothing is dropped (the chat template decides)
    assert not [f for f in run_gate(str(path), target="trl", jobs=1).findings if f.rule == "DP705"]


def test_tokens_target_trl_lists_the_rows_it_would_truncate(tmp_path):
    records = _good(12)
    long_text = " ".join(f"word{i}" for i in range(3000)) + "."
    for i in (2, 7):  # lines 3 and 8
        records[i] = {"messages": [{"role": "user", "content": "Tell me a long story."},
                                   {"role": "assistant", "content": long_text}]}
    path = _write(tmp_path / "long.jsonl", records)
    r = runner.invoke(app, ["tokens", str(path), "--target", "trl", "-j", "1", "-q", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["files"][0]
    assert d["max_length"] == 1024 and d["over_max_length"] == [3, 8]
    explicit = runner.invoke(app, ["tokens", str(path), "--target", "trl", "--max-length", "1024", "-j", "1", "-q"])
    assert "2 example(s) are longer than --max-length 1,024" in explicit.stdout
    assert "3, 8" in explicit.stdout
    # --max-length wins over the target's default
    r = runner.invoke(app, ["tokens", str(path), "--target", "trl", "--max-length", "100000", "-j", "1", "-q",
                            "--json"])
    assert json.loads(r.stdout)["files"][0]["over_max_length"] == []


# --------------------------------------------------------------------------------------------- retired models

def _retired() -> set[str]:
    table = tomllib.loads((ROOT / "rules" / "models.toml").read_text("utf-8"))
    names = set()
    for m in table["model"]:
        if m.get("status") in ("retired", "retiring"):
            names |= {m["id"], *m.get("aliases", [])}
    return names


def _retired_only() -> set[str]:
    table = tomllib.loads((ROOT / "rules" / "models.toml").read_text("utf-8"))
    return {n for m in table["model"] if m.get("status") == "retired" for n in (m["id"], *m.get("aliases", []))}


def _mentions(text: str, names: set[str]) -> list[str]:
    # a model id as a whole word: "gpt-4.1-nano" must not match inside "azure/gpt-4.1-nano-..."
    return sorted(n for n in names if re.search(rf"(?<![\w/.-]){re.escape(n)}(?![\w.-])", text))


def test_no_preset_target_or_default_names_a_retiring_or_retired_model():
    bad = _retired()
    for p in sorted((ROOT / "rules" / "presets").glob("*.toml")) + sorted((ROOT / "rules" / "targets").glob("*.toml")):
        data = tomllib.loads(p.read_text("utf-8"))
        assert data.get("model") not in bad, p.name
    table = tomllib.loads((ROOT / "rules" / "models.toml").read_text("utf-8"))
    assert table["default_model"] not in bad


def test_no_readme_example_names_a_retired_model():
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```[^\n]*\n(.*?)```", readme, re.S)
    assert blocks
    found = {n: i for i, b in enumerate(blocks) for n in _mentions(b, _retired_only())}
    assert not found, f"README code blocks name retired models: {found}"


def test_retired_model_check_can_fail():
    assert _mentions("dataprep tokens data.jsonl --model gpt-3.5-turbo", _retired_only()) == ["gpt-3.5-turbo"]
    assert _mentions("--model azure/gpt-4o-mini-2024-07-18", _retired_only()) == []


# --------------------------------------------------------------------------------------------- target rules

def test_every_builtin_target_loads_dated_and_sourced():
    names = builtin_targets()
    assert set(names) >= {"openai", "azure", "together", "fireworks", "vertex", "bedrock-nova", "trl", "axolotl",
                          "llamafactory", "mistral"}
    for n in names:
        t = load_target(n)
        assert t.name == n and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", t.as_of) and t.sources
        for rule in t.unverified:  # never an error on an unconfirmed basis
            assert t.rule_severity(rule).value != "error", (n, rule)
    assert load_target("mistral").status == "deprecated"
    assert load_target("openai").no_new_jobs_from == "2027-01-06"


def test_unverified_error_is_refused(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('name = "mine"\ntitle = "Mine"\nstatus = "available"\nas_of = 2026-12-01\n'
                 'sources = ["https://example.com"]\nformats = ["openai-chat"]\n'
                 '[severity]\nDP704 = "error"\n[unverified]\nDP704 = "a forum post"\n')
    with pytest.raises(TargetError, match="at most a warning"):
        load_target(str(p))


@pytest.mark.parametrize("text,match", [
    ('name = "x"\ntitle = "X"\nstatus = "available"\nas_of = 2026-12-01\n', "'sources' is missing"),
    ('name = "x"\ntitle = "X"\nstatus = "gone"\nas_of = 2026-12-01\nsources = ["u"]\n', "status must be"),
    ('name = "x"\ntitle = "X"\nstatus = "available"\nas_of = 2026-12-01\nsources = ["u"]\n[severity]\nDP999 = "off"\n',
     "unknown rule"),
    ('name = "x"\ntitle = "X"\nstatus = "available"\nas_of = 2026-12-01\nsources = ["u"]\nformats = ["csv"]\n',
     "unknown format"),
    ('name = "x"\ntitle = "X"\nstatus = "available"\nas_of = 2026-12-01\nsources = ["u"]\n'
     '[severity]\nDP100 = "off"\n', "always count"),
    ("name = [", "invalid TOML"),
])
def test_bad_target_files_are_clear_errors(tmp_path, text, match):
    p = tmp_path / "t.toml"
    p.write_text(text)
    with pytest.raises(TargetError, match=re.escape(match)):
        load_target(str(p))


def test_cli_bad_target_exits_2(tmp_path):
    path = _write(tmp_path / "t.jsonl", _good(12))
    for cmd in (["validate"], ["gate", "-q"], ["tokens", "-q"], ["audit", "-q"]):
        r = runner.invoke(app, [*cmd, str(path), "--target", "nowhere"])
        assert r.exit_code == 2, (cmd, r.output)
        assert "unknown target 'nowhere'" in r.output and "together" in r.output


def test_format_not_accepted_by_target():
    # OpenAI preference lines: TRL's trainers do not read them; Fireworks does.
    trl = validate(str(SAMPLES / "dpo.jsonl"), target="trl", cache=False)
    assert [(f.rule, f.severity.value) for f in trl.findings if f.rule == "DP700"] == [("DP700", "error")]
    assert "convert --to trl" in next(f.message for f in trl.findings if f.rule == "DP700")
    fw = validate(str(SAMPLES / "dpo.jsonl"), target="fireworks", cache=False)
    assert not [f for f in fw.findings if f.rule == "DP700"]
    # prompt/completion rows: TRL reads them as they are (no DP110), OpenAI needs a conversion (DP110 kept)
    pc = str(SAMPLES / "prompt_completion.jsonl")
    assert "DP110" in {f.rule for f in validate(pc, cache=False).findings}
    assert not {"DP110", "DP700"} & {f.rule for f in validate(pc, target="trl", cache=False).findings}
    assert "DP110" in {f.rule for f in validate(pc, target="openai", cache=False).findings}


def test_nova_reserved_strings_and_roles(tmp_path):
    records = _good(3) + [
        {"messages": [{"role": "user", "content": "Summarise: User: hi Bot: hello"},
                      {"role": "assistant", "content": "A greeting."}]},
        {"messages": [{"role": "user", "content": "Look \u003cimage\u003e here"},
                      {"role": "assistant", "content": "Assistant: fine."}]},  # assistant text is not checked
        _chat("user", "assistant", "user"),  # last turn not the assistant's (DP209, an error for Nova)
    ]
    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=True).replace("<", "\\u003c") + "\n" for r in records))
    r = validate(str(path), target="bedrock-nova", cache=False)
    reserved = [(f.line, f.severity.value) for f in r.findings if f.rule == "DP707"]
    assert reserved == [(4, "error"), (5, "error")]
    assert ("DP209", "error", 6) in _rules(r)
    assert "DP707" not in {f.rule for f in validate(str(path), target="together", cache=False).findings}


def test_mistral_tool_call_ids(tmp_path):
    def rec(cid):
        return {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
                                                                                       "properties": {}}}}],
                "messages": [{"role": "user", "content": "Call f."},
                             {"role": "assistant", "tool_calls": [{"id": cid, "type": "function",
                                                                   "function": {"name": "f", "arguments": "{}"}}]},
                             {"role": "tool", "tool_call_id": cid, "content": "ok"},
                             {"role": "assistant", "content": "Done."}]}
    path = _write(tmp_path / "m.jsonl", [rec("a1b2c3d4e"), rec("call_8f3a2b1c9d")])
    r = validate(str(path), target="mistral", cache=False)
    assert sorted((f.line, f.pointer) for f in r.findings if f.rule == "DP706") == [
        (2, "/messages/1/tool_calls/0/id"), (2, "/messages/2/tool_call_id")]
    assert not [f for f in validate(str(path), target="openai", cache=False).findings if f.rule == "DP706"]


def test_max_examples_and_min_examples_are_the_targets(tmp_path):
    path = _write(tmp_path / "t.jsonl", _good(6))
    assert "DP109" in {f.rule for f in validate(str(path), target="openai", cache=False).findings}  # 10 minimum
    assert "DP109" not in {f.rule for f in validate(str(path), target="fireworks", cache=False).findings}  # 3
    p = tmp_path / "small.toml"
    p.write_text('name = "small"\ntitle = "Small"\nstatus = "available"\nas_of = 2026-12-01\n'
                 'sources = ["https://example.com"]\nformats = ["openai-chat"]\n[limits]\nmax_examples = 5\n')
    r = validate(str(path), target=str(p), cache=False)
    [f] = [f for f in r.findings if f.rule == "DP702"]
    assert "6 examples" in f.message and "at most 5" in f.message and "[small rule" in f.message


# --------------------------------------------------------------------------------------------- precedence

def test_precedence_cli_over_config_over_preset(tmp_path):
    path = _write(tmp_path / "t.jsonl", [_chat("user", "assistant", "assistant")] + _good(11))
    preset = tmp_path / "p.toml"
    preset.write_text('extends = "openai"\ntarget = "trl"\n')

    def gate(*extra):
        r = runner.invoke(app, ["gate", str(path), "--rules", str(preset), "-j", "1", "-q", "-f", "json", *extra])
        return json.loads(r.stdout)["summary"]["target"]

    assert gate() == "trl"  # the preset's
    Path("dataprep.toml").write_text('target = "together"\n')
    assert gate() == "together"  # the project config over the preset
    assert gate("--target", "llamafactory") == "llamafactory"  # the command line over both
    Path("dataprep.toml").unlink()
    Path("pyproject.toml").write_text('[project]\nname = "x"\n[tool.dataprep]\ntarget = "azure"\n')
    assert project_target() == "azure"
    assert choose_target(None, "trl").name == "azure"
    assert choose_target("mistral", "trl").name == "mistral"
    Path("pyproject.toml").write_text('[tool.dataprep]\ntarget = 3\n')
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "target must be a target name" in r.output


def test_preset_with_unknown_target_is_a_preset_error(tmp_path):
    from dataprep.gate.presets import PresetError, load_preset

    p = tmp_path / "p.toml"
    p.write_text('extends = "openai"\ntarget = "nowhere"\n')
    with pytest.raises(PresetError, match="unknown target"):
        load_preset(str(p))


def test_no_target_keeps_todays_findings(tmp_path):
    path = _write(tmp_path / "t.jsonl", [_chat("user", "user", "assistant")] + _good(3), bom=True)
    plain = validate(str(path), cache=False)
    assert [(f.rule, f.severity.value, f.message) for f in plain.findings] == [
        (f.rule, f.severity.value, f.message) for f in validate(str(path), target=None, cache=False).findings]
    assert not any("rule, as of" in f.message for f in plain.findings)
    assert {f.rule for f in plain.findings} == {"DP106", "DP109", "DP215"}


def test_audit_and_train_take_the_target(tmp_path):
    from dataprep.audit import audit
    from dataprep.train.job import train

    path = _write(tmp_path / "t.jsonl", [_chat("user", "assistant", "assistant")] + _good(11))
    a = audit(str(path), target="together", jobs=1)
    assert a.summary()["verdict"] == "fail"
    assert "DP704" in {f.rule for f in a.files[0].findings}
    res = train(str(path), target="together", dry_run=True, jobs=1, val_fraction=0.2)
    assert res.exit_code == 1 and res.verdict == "fail"
    assert any("target together" in m for m in res.messages)


def test_target_models_are_trainable_and_used(tmp_path):
    from dataprep.tokens.models import get_model

    for n in builtin_targets():
        for m in load_target(n).models:
            assert get_model(m).status != "retired", (n, m)
    p = tmp_path / "old.toml"
    p.write_text('name = "old"\ntitle = "Old"\nstatus = "available"\nas_of = 2026-12-01\n'
                 'sources = ["https://example.com"]\nmodels = ["gpt-3.5-turbo"]\n')
    with pytest.raises(TargetError, match="retired"):
        load_target(str(p))
    path = _write(tmp_path / "t.jsonl", _good(12))
    r = runner.invoke(app, ["tokens", str(path), "--target", "together", "-j", "1", "-q", "--json"])
    assert json.loads(r.stdout)["files"][0]["model"] == load_target("together").models[0]
    # the gate checks DP400 against a model the target trains, not the preset's Azure row
    assert run_gate(str(path), "openai", target="vertex", jobs=1).preset.model == "vertex/gemini-2.5-flash"
    assert run_gate(str(path), "openai", jobs=1).preset.model == "azure/gpt-4o-mini-2024-07-18"


def test_reserved_string_search_across_block_edges(tmp_path, monkeypatch):
    import dataprep.checks.targets as ct

    records = [{"messages": [{"role": "user", "content": f"{'x' * k} [EOS] and System: {'y' * k}"},
                             {"role": "assistant", "content": "Fine."}]} for k in range(12)]
    records += _good(5)
    path = _write(tmp_path / "edges.jsonl", records)
    whole = [(f.line, f.message) for f in validate(str(path), target="bedrock-nova", cache=False).findings
             if f.rule == "DP707"]
    assert [ln for ln, _ in whole] == list(range(1, 13))
    for block in (5, 7, 64):  # needles cut at every position by a block edge
        monkeypatch.setattr(ct, "_BLOCK", block)
        assert [(f.line, f.message) for f in validate(str(path), target="bedrock-nova", cache=False).findings
                if f.rule == "DP707"] == whole
