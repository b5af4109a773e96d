"""The openai backend with the real `openai` SDK against a local HTTP server that implements the
documented fine-tuning endpoints (tests/openai_stub_server.py). Offline, loopback only."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

openai = pytest.importorskip("openai")

sys.path.insert(0, str(Path(__file__).parent))
from openai_stub_server import Scenario, StubOpenAIServer  # noqa: E402

from dataprep.train import TrainConfig, cancel_job, follow_job, job_status, launch, list_jobs  # noqa: E402
from dataprep.train.openai_backend import (  # noqa: E402
    OpenAIBackendError,
    OpenAIFineTuner,
    is_openai_hosted,
    make_client,
    openai_service_status,
    service_notice,
)


def _chat(i: int) -> dict:
    return {"messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": f"Question {i}?"},
                         {"role": "assistant", "content": f"Answer {i}."}]}


def _dpo(i: int) -> dict:
    return {"input": {"messages": [{"role": "user", "content": f"Question {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": f"Answer {i}."}],
            "non_preferred_output": [{"role": "assistant", "content": "No."}]}


@pytest.fixture()
def files(tmp_path) -> dict[str, Path]:
    def write(name, rows):
        p = tmp_path / name
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return p

    return {"train": write("train.jsonl", [_chat(i) for i in range(12)]),
            "val": write("val.jsonl", [_chat(i) for i in range(12, 16)]),
            "dpo": write("prefs.jsonl", [_dpo(i) for i in range(12)])}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)


def _cfg(srv: StubOpenAIServer, tmp_path: Path, **kw) -> TrainConfig:
    base = dict(backend="openai", model="gpt-4.1-mini-2025-04-14", openai_base_url=srv.base_url,
                output_dir=str(tmp_path / "run"), poll_interval_s=0.0, openai_max_retries=2)
    base.update(kw)
    return TrainConfig(**base)


def _run(srv, tmp_path, files, *, val=True, **kw):
    events = []
    cfg = _cfg(srv, tmp_path, **kw)
    result = launch(files["train"], cfg, val_path=files["val"] if val else None, gate_verdict="pass",
                    on_event=events.append)
    return result, events


def test_success_streams_status_events_and_checkpoints(files, tmp_path):
    with StubOpenAIServer(Scenario(outcome="succeed", polls_to_finish=3)) as srv:
        result, events = _run(srv, tmp_path, files, epochs=2, learning_rate_multiplier=0.5, suffix="demo", seed=7)
    assert result.status == "completed" and result.exit_code == 0, result.error
    assert result.job.fine_tuned_model.startswith("ft:gpt-4.1-mini-2025-04-14:stub:demo:")
    kinds = [e.kind for e in events]
    for kind in ("upload", "job", "status", "event", "metrics", "checkpoint", "result"):
        assert kind in kinds, kind
    assert "notice" not in kinds  # not OpenAI's own API: no wind-down notice
    statuses = [e.data["status"] for e in events if e.kind == "status"]
    assert statuses[-1] == "succeeded"
    # events are streamed once each, oldest first
    messages = [e.message for e in events if e.kind in ("event", "metrics")]
    assert len(messages) == len(set(messages))
    assert messages[0].endswith("Created fine-tuning job: " + result.job.job_id)
    # the request the service received
    (req,) = srv.job_requests()
    assert req["model"] == "gpt-4.1-mini-2025-04-14"
    assert req["method"] == {"type": "supervised",
                             "supervised": {"hyperparameters": {"n_epochs": 2, "learning_rate_multiplier": 0.5}}}
    assert req["suffix"] == "demo" and req["seed"] == 7
    assert req["training_file"] != req["validation_file"]
    uploads = [b for m, p, b in srv.bodies if p == "/files"]
    assert [u["purpose"] for u in uploads] == ["fine-tune", "fine-tune"]
    # the run card
    card = json.loads((tmp_path / "run" / "run_card.json").read_text())
    assert card["status"] == "completed" and card["details"]["job_id"] == result.job.job_id
    assert card["details"]["fine_tuned_model"] == result.job.fine_tuned_model
    assert card["metrics"]["valid_loss"] > 0 and card["metrics"]["trained_tokens"] == 12345
    assert len(card["metrics"]["checkpoints"]) == 2
    assert card["gate_verdict"] == "pass"


def test_preference_file_uses_dpo_method(files, tmp_path):
    with StubOpenAIServer() as srv:
        cfg = _cfg(srv, tmp_path, dpo_beta=0.2, batch_size=4)
        result = launch(files["dpo"], cfg, on_event=lambda e: None)
        (req,) = srv.job_requests()
    assert result.status == "completed"
    assert req["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"batch_size": 4, "beta": 0.2}}}
    assert "validation_file" not in req


def test_job_failure_surfaces_the_service_error(files, tmp_path):
    with StubOpenAIServer(Scenario(outcome="fail", polls_to_finish=2)) as srv:
        result, events = _run(srv, tmp_path, files)
    assert result.status == "failed" and result.exit_code == 1
    assert "internal training error" in result.error and "code=training_error" in result.error
    assert result.job.error["code"] == "training_error"
    assert any(e.kind == "result" and "failed" in e.message for e in events)
    card = json.loads((tmp_path / "run" / "run_card.json").read_text())
    assert card["status"] == "failed" and "internal training error" in card["error"]


def test_validation_file_error_reported_by_the_job(files, tmp_path):
    with StubOpenAIServer(Scenario(outcome="validation_error")) as srv:
        result, _ = _run(srv, tmp_path, files)
    assert result.status == "failed"
    assert result.job.error == {"code": "invalid_validation_file", "param": "validation_file",
                                "message": Scenario().error_message}
    assert "param=validation_file" in result.error and "Example 3" in result.error


def test_validation_file_rejected_at_upload(files, tmp_path):
    with StubOpenAIServer(Scenario(validation_file_status_error=True)) as srv:
        result, _ = _run(srv, tmp_path, files)
        assert srv.job_requests() == []  # no job created on a rejected file
    assert result.status == "failed"
    assert "rejected the validation file" in result.error and "Example 3" in result.error
    card = json.loads((tmp_path / "run" / "run_card.json").read_text())
    assert card["details"]["error_param"] == "validation_file"


def test_cancelled_job(files, tmp_path):
    with StubOpenAIServer(Scenario(outcome="cancelled", polls_to_finish=2)) as srv:
        result, events = _run(srv, tmp_path, files)
    assert result.status == "cancelled" and result.exit_code == 1
    assert any(e.kind == "result" and "cancelled" in e.message for e in events)


def test_cancel_status_and_list(files, tmp_path):
    with StubOpenAIServer(Scenario(polls_to_finish=50)) as srv:
        cfg = _cfg(srv, tmp_path)
        client = make_client(cfg)
        tuner = OpenAIFineTuner(client, poll_interval_s=0, on_event=None)
        fid = tuner.upload(files["train"]).id
        jobs = [tuner.create_job({"model": cfg.model, "training_file": fid}).job_id for _ in range(3)]
        snap = job_status(jobs[0], cfg)
        assert snap.status == "running" and snap.events
        cancelled = cancel_job(jobs[0], cfg)
        assert cancelled.status == "cancelled"
        assert job_status(jobs[0], cfg).status == "cancelled"
        with pytest.raises(OpenAIBackendError, match="already cancelled"):
            cancel_job(jobs[0], cfg)
        listed = list_jobs(cfg, limit=2)
        assert [j.job_id for j in listed] == [jobs[2], jobs[1]]  # newest first
        paged = tuner.list_jobs(limit=10, page_size=2)  # follows has_more / after
        assert [j.job_id for j in paged] == list(reversed(jobs))
        assert sum(1 for m, p in srv.requests if p == "/fine_tuning/jobs" and m == "GET") >= 3
        with pytest.raises(OpenAIBackendError, match="HTTP 404"):
            job_status("ftjob-missing", cfg)


def test_retries_on_5xx(files, tmp_path):
    with StubOpenAIServer(Scenario(fail_first=2)) as srv:
        result, _ = _run(srv, tmp_path, files, openai_max_retries=2)
        assert srv.failures_served == 2
        assert srv.requests[:3] == [("POST", "/files")] * 3  # the same upload, retried twice
    assert result.status == "completed"


def test_retries_exhausted_is_a_clean_failure(files, tmp_path):
    with StubOpenAIServer(Scenario(fail_first=10, fail_path="/fine_tuning/jobs")) as srv:
        result, _ = _run(srv, tmp_path, files, openai_max_retries=1)
        assert srv.failures_served == 2  # one try + one retry
    assert result.status == "failed"
    assert "creating the fine-tuning job failed: HTTP 500" in result.error


def test_ctrl_c_detaches_without_cancelling(files, tmp_path):
    def on_event(e):
        if e.kind == "metrics":
            raise KeyboardInterrupt

    with StubOpenAIServer(Scenario(polls_to_finish=10)) as srv:
        cfg = _cfg(srv, tmp_path)
        result = launch(files["train"], cfg, on_event=on_event)
        assert not any(p.endswith("/cancel") for _, p in srv.requests)
    assert result.status == "detached" and result.exit_code == 0
    assert json.loads((tmp_path / "run" / "run_card.json").read_text())["status"] == "detached"


def test_azure_client_against_the_same_endpoints(files, tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    with StubOpenAIServer() as srv:
        cfg = TrainConfig(backend="openai", model="gpt-4.1-mini-2025-04-14", azure_endpoint=srv.root_url,
                          azure_api_version="2024-10-21", output_dir=str(tmp_path / "az"), poll_interval_s=0)
        result = launch(files["train"], cfg, on_event=lambda e: None)
    assert result.status == "completed"
    assert result.run_card.details["provider"] == "azure-openai"
    assert not any("2027-01-06" in w for w in result.warnings)


def test_dry_run_sends_nothing(files, tmp_path):
    with StubOpenAIServer() as srv:
        cfg = _cfg(srv, tmp_path)
        result = launch(files["train"], cfg, val_path=files["val"], dry_run=True)
        assert srv.requests == []
    assert result.status == "dry-run" and not (tmp_path / "run").exists()
    req = result.plan["request"]
    assert req["training_file"].startswith("<file id of train.jsonl")
    assert req["method"] == {"type": "supervised"}


def test_openai_wind_down_notice_from_rules(files, tmp_path):
    status = openai_service_status()
    assert status is not None and status["new_jobs_end"] == dt.date(2027, 1, 6)
    assert is_openai_hosted(None) and is_openai_hosted("https://api.openai.com/v1")
    assert not is_openai_hosted("http://127.0.0.1:8000/v1") and not is_openai_hosted(None, "https://x.azure.com")
    before = service_notice(dt.date(2026, 12, 1))
    assert "2027-01-06" in before and "announced" in before and "Azure OpenAI" in before
    assert "stopped accepting" in service_notice(dt.date(2027, 2, 1))
    cfg = TrainConfig(backend="openai", model="gpt-4.1-mini-2025-04-14", output_dir=str(tmp_path / "x"),
                      poll_interval_s=0.0)
    result = launch(files["train"], cfg, dry_run=True)  # OpenAI's own API: the plan carries the notice
    assert any("2027-01-06" in w for w in result.warnings)
    # and a real launch prints it first (the client is pointed at the local stub: no network used)
    events = []
    with StubOpenAIServer() as srv:
        client = make_client(_cfg(srv, tmp_path))
        res = launch(files["train"], cfg, on_event=events.append, client=client)
    assert events[0].kind == "notice" and "2027-01-06" in events[0].message
    assert res.status == "completed" and any("2027-01-06" in w for w in res.run_card.warnings)


def test_no_follow_returns_after_creating_the_job(files, tmp_path):
    with StubOpenAIServer() as srv:
        cfg = _cfg(srv, tmp_path)
        result = launch(files["train"], cfg, on_event=lambda e: None, follow=False)
        assert result.status == "running" and result.job.status == "validating_files"
        final = follow_job(result.job.job_id, cfg, on_event=lambda e: None)
    assert final.status == "succeeded" and final.fine_tuned_model
