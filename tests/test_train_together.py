"""The together backend with the real `together` SDK against a local HTTP server that speaks
Together's fine-tuning API (tests/together_stub_server.py). Offline, loopback only. Also: hosted
jobs on retired models are refused before any upload."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("together")

sys.path.insert(0, str(Path(__file__).parent))
from together_stub_server import Scenario, StubTogetherServer  # noqa: E402

from dataprep.cli import app  # noqa: E402
from dataprep.train import ConfigError, TrainConfig, cancel_job, job_status, launch, list_jobs  # noqa: E402

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
runner = CliRunner()


def _chat(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"Question number {i}?"},
                         {"role": "assistant", "content": f"Answer number {i}."}]}


@pytest.fixture()
def files(tmp_path) -> dict[str, Path]:
    def write(name, rows):
        p = tmp_path / name
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return p

    dpo = [{"input": {"messages": [{"role": "user", "content": f"Q{i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"A{i}."}],
            "non_preferred_output": [{"role": "assistant", "content": "No."}]} for i in range(12)]
    return {"train": write("train.jsonl", [_chat(i) for i in range(12)]),
            "val": write("val.jsonl", [_chat(i) for i in range(12, 16)]),
            "dpo": write("prefs.jsonl", dpo)}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("TOGETHER_API_KEY", "tg-test-not-real")
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)


def _cfg(srv, tmp_path, **kw) -> TrainConfig:
    base = dict(backend="together", model=MODEL, together_base_url=srv.base_url, output_dir=str(tmp_path / "run"),
                poll_interval_s=0.0, openai_max_retries=2)
    base.update(kw)
    return TrainConfig(**base)


def test_upload_create_follow_complete(files, tmp_path):
    events = []
    with StubTogetherServer(Scenario(polls_to_finish=3)) as srv:
        cfg = _cfg(srv, tmp_path, epochs=2, suffix="demo", learning_rate=2e-5)
        result = launch(files["train"], cfg, val_path=files["val"], gate_verdict="pass", on_event=events.append)
        (req,) = srv.job_requests()
        puts = [p for m, p in srv.requests if m == "PUT"]
        uploaded = dict(srv.state.file_bytes)
    assert result.status == "completed" and result.exit_code == 0, result.error
    assert result.job.fine_tuned_model.startswith("stub-user/")
    assert req["model"] == MODEL and req["n_epochs"] == 2 and req["suffix"] == "demo"
    assert req["training_method"] == {"method": "sft", "train_on_inputs": "auto"}
    assert req["training_type"]["type"] == "Lora" and req["training_type"]["lora_r"] == 16
    assert req["validation_file"] and req["n_evals"] == 2 and req["learning_rate"] == 2e-5
    assert len(puts) == 2 and files["train"].read_bytes() in uploaded.values()
    messages = [e.message for e in events if e.kind == "event"]
    assert len(messages) == len(set(messages)) and messages[0].startswith("info: Fine-tune request created")
    assert [e.kind for e in events][-1] == "result"
    card = json.loads((tmp_path / "run" / "run_card.json").read_text())
    assert card["status"] == "completed" and card["details"]["provider"] == "together"
    assert card["metrics"]["trained_tokens"] == 4242
    assert "tg-test-not-real" not in json.dumps(card)


def test_preference_file_trains_dpo(files, tmp_path):
    with StubTogetherServer() as srv:
        result = launch(files["dpo"], _cfg(srv, tmp_path, dpo_beta=0.2), on_event=lambda e: None)
        (req,) = srv.job_requests()
    assert result.status == "completed"
    assert req["training_method"]["method"] == "dpo" and req["training_method"]["dpo_beta"] == 0.2


def test_job_error_is_a_failed_run_with_the_message(files, tmp_path):
    with StubTogetherServer(Scenario(outcome="error", polls_to_finish=2)) as srv:
        result = launch(files["train"], _cfg(srv, tmp_path), on_event=lambda e: None)
    assert result.status == "failed" and result.exit_code == 1
    assert "CUDA out of memory" in result.error


def test_service_rejects_the_file_after_upload(files, tmp_path):
    with StubTogetherServer(Scenario(invalid_file=True)) as srv:
        result = launch(files["train"], _cfg(srv, tmp_path), on_event=lambda e: None)
        assert srv.job_requests() == []
    assert result.status == "failed" and "must alternate" in result.error


def test_unknown_model_is_the_services_error(files, tmp_path):
    with StubTogetherServer() as srv:
        result = launch(files["train"], _cfg(srv, tmp_path, model="nobody/unknown-model"), on_event=lambda e: None)
    assert result.status == "failed" and "not available for fine-tuning" in result.error


def test_server_errors_are_retried(files, tmp_path):
    with StubTogetherServer(Scenario(fail_first=2, fail_path="/fine-tunes/ft-")) as srv:
        result = launch(files["train"], _cfg(srv, tmp_path), on_event=lambda e: None)
        assert srv.failures_served == 2
    assert result.status == "completed"


def test_status_cancel_list(files, tmp_path):
    with StubTogetherServer(Scenario(polls_to_finish=50)) as srv:
        cfg = _cfg(srv, tmp_path)
        started = launch(files["train"], cfg, on_event=lambda e: None, follow=False)
        jid = started.job.job_id
        assert started.status == "running"
        st = job_status(jid, cfg)
        assert st.status == "running" and any("Job started" in e["message"] for e in st.events)
        assert [j.job_id for j in list_jobs(cfg)] == [jid]
        assert cancel_job(jid, cfg).status == "cancelled"
        # the CLI, same server
        r = runner.invoke(app, ["train", "status", jid, "--backend", "together", "--base-url", srv.base_url])
        assert r.exit_code == 0 and "cancelled" in r.output
        r = runner.invoke(app, ["train", "cancel", jid, "--backend", "together", "--base-url", srv.base_url])
        assert r.exit_code == 2 and "already ended" in r.output
        r = runner.invoke(app, ["train", "list", "--backend", "together", "--base-url", srv.base_url])
        assert r.exit_code == 0 and jid in r.output


def test_missing_key_is_a_usage_error(files, tmp_path, monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY")
    r = runner.invoke(app, ["train", "list", "--backend", "together", "--base-url", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and "TOGETHER_API_KEY" in r.output


def test_dry_run_shows_the_request_and_touches_nothing(files, tmp_path):
    cfg = TrainConfig(backend="together", model=MODEL, output_dir=str(tmp_path / "run"))
    result = launch(files["train"], cfg, val_path=files["val"], dry_run=True)
    assert result.status == "dry-run" and result.plan["provider"] == "together"
    assert result.plan["request"]["model"] == MODEL and not (tmp_path / "run").exists()


def test_retired_model_refused_for_a_hosted_job_before_upload(files, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    cfg = TrainConfig(backend="openai", model="gpt-3.5-turbo", output_dir=str(tmp_path / "run"))
    with pytest.raises(ConfigError, match="retired .shut on 2026-10-23"):
        launch(files["train"], cfg, gate_verdict="pass", on_event=lambda e: None)
    assert not (tmp_path / "run").exists()
    r = runner.invoke(app, ["train", str(files["train"]), "--backend", "openai", "--model", "gpt-4.1-nano",
                            "--dry-run", "--rules", "openai", "-j", "1"])
    assert r.exit_code == 2 and "retired" in r.output


def test_retiring_model_warns_with_its_dates(files, tmp_path):
    cfg = TrainConfig(backend="openai", model="gpt-4o-mini", output_dir=str(tmp_path / "run"))
    result = launch(files["train"], cfg, dry_run=True)
    assert any("retire on 2027-01-14" in w for w in result.warnings)
