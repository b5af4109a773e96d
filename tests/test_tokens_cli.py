"""`dataprep tokens`: the JSON contract, DP400 over the context, DP401 over budget, exit codes."""

import json

import pytest
from typer.testing import CliRunner

from dataprep.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def chat(n_words: int) -> dict:
    return {"messages": [{"role": "user", "content": "Summarise this."},
                         {"role": "assistant", "content": " ".join(["word"] * n_words) + "."}]}


def test_json_shape_and_over_limit_lines(tmp_path):
    p = tmp_path / "d.jsonl"
    rows = [chat(20)] * 11 + [chat(5000)] + [chat(20)] * 3   # line 12 is too long for a 4,096 context
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = runner.invoke(app, ["tokens", str(p), "--json", "--model", "gpt-3.5-turbo-0613", "--jobs", "1"])
    assert r.exit_code == 1, r.output
    (f,) = json.loads(r.stdout)["files"]
    for k in ("examples", "total_tokens", "trainable_tokens", "max_example_tokens", "over_limit", "model",
              "context_limit", "epochs", "billed_tokens", "estimated_cost_usd"):
        assert k in f
    assert f["over_limit"] == [12] and f["context_limit"] == 4096 and f["examples"] == 15
    assert f["billed_tokens"] < f["total_tokens"]  # truncated at the context limit
    assert f["epochs"] == 6  # 15 examples: min(25, 100 // 15)


def test_budget_and_clean_exit(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(chat(30)) + "\n" for _ in range(40)))
    assert runner.invoke(app, ["tokens", str(p), "--jobs", "1"]).exit_code == 0
    r = runner.invoke(app, ["tokens", str(p), "--budget", "100", "--jobs", "1"])
    assert r.exit_code == 1 and "DP401" in r.stdout


def test_unknown_model_and_missing_file_exit_2(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps(chat(3)) + "\n")
    r = runner.invoke(app, ["tokens", str(p), "--model", "no-such-model", "--jobs", "1"])
    assert r.exit_code == 2 and "known models" in r.output
    assert runner.invoke(app, ["tokens", str(tmp_path / "nope.jsonl")]).exit_code == 2
