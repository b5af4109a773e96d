"""`dataprep.dedup(...)` and `dataprep.train(...)`: the whole jobs as library calls, giving what the
commands give on the same files (the commands are thin shells over them), the gate checked once,
every line accounted for, and usage errors as JobError (exit 2), never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import dataprep
from dataprep.cli import app
from dataprep.jobs import JobError

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
AXOLOTL = ("axolotl", "Qwen/Qwen2.5-0.5B-Instruct")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "jobs-cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def cli(*args, input: bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


# ----------------------------------------------------------------------------- dedup


@pytest.mark.parametrize("name", ["sample_data/broken.jsonl", "tests/data/en_zh_instructions.jsonl"])
def test_dedup_call_gives_the_commands_numbers_and_files(name, tmp_path):
    path = ROOT / name
    r = dataprep.dedup(path, out=tmp_path / "lib.kept", clusters=tmp_path / "lib.clusters", keep="longest", jobs=1)
    c = cli("dedup", path, "--out", tmp_path / "cli.kept", "--clusters", tmp_path / "cli.clusters",
            "--keep", "longest", "--json", "-q", "--jobs", "1")
    assert c.exit_code == r.exit_code
    assert json.loads(c.stdout) == r.to_dict()
    assert (tmp_path / "lib.kept").read_bytes() == (tmp_path / "cli.kept").read_bytes()
    assert (tmp_path / "lib.clusters").read_bytes() == (tmp_path / "cli.clusters").read_bytes()
    assert r.written["out"] == len((tmp_path / "lib.kept").read_bytes().splitlines())
    # the validate-style view the --output-format renderers read: same document as the command's
    f = cli("dedup", path, "--output-format", "json", "--keep", "longest", "-q", "--jobs", "1")
    assert json.loads(f.stdout) == json.loads(orjson.dumps(
        r.files.to_dict() | {"dedup": r.report.to_dict()} | {"dataprep_version": dataprep.__version__}))


def test_dedup_accounts_for_every_input_line(samples, tmp_path):
    """broken.jsonl holds a duplicate, unreadable content, an empty example and 8 non-examples:
    kept + removed + not compared = lines, and --out + --removed + non-examples = the input."""
    path = samples / "broken.jsonl"
    r = dataprep.dedup(path, out=tmp_path / "kept.jsonl", removed=tmp_path / "removed.jsonl", jobs=1)
    acc = r.accounting()
    assert acc["removed"] >= 1 and acc["not_compared"] >= 1
    assert acc["lines"] == acc["kept"] + acc["removed"] + acc["not_compared"] == len(path.read_bytes().splitlines())
    kept = (tmp_path / "kept.jsonl").read_bytes().splitlines(keepends=True)
    removed = (tmp_path / "removed.jsonl").read_bytes().splitlines(keepends=True)
    assert r.written == {"out": len(kept), "removed": len(removed)} and len(removed) == acc["removed"]
    not_examples = r.report.not_compared()["not_examples"]
    assert len(kept) + len(removed) + not_examples == acc["lines"]
    lines = path.read_bytes().splitlines(keepends=True)
    written = Counter(kept) + Counter(removed)
    assert not written - Counter(lines)  # byte-identical input lines, none invented
    assert sum((Counter(lines) - written).values()) == not_examples
    s = r.summary()
    assert (s["lines"], s["kept"], s["removed"], s["written"]) == (acc["lines"], acc["kept"], acc["removed"], r.written)


def test_dedup_refuses_to_write_over_its_input(samples, tmp_path):
    """Opening --out empties the file before its lines are read back: that would destroy the input."""
    src = tmp_path / "data.jsonl"
    src.write_bytes((samples / "dpo.jsonl").read_bytes())
    before = src.read_bytes()
    with pytest.raises(JobError, match="is an input file"):
        dataprep.dedup(src, out=src, jobs=1)
    res = cli("dedup", src, "--removed", src, "-q", "--jobs", "1")
    assert res.exit_code == 2 and "is an input file" in res.stderr and "Traceback" not in res.output
    assert src.read_bytes() == before
    with pytest.raises(JobError, match="name one file"):
        dataprep.dedup(src, out=tmp_path / "a.jsonl", removed=tmp_path / "a.jsonl", jobs=1)
    assert not (tmp_path / "a.jsonl").exists()


def test_dedup_of_stdin_names_it_dash_and_counts_as_the_file(samples):
    data = (samples / "broken.jsonl").read_bytes()
    r = dataprep.dedup("-", stdin=io.BytesIO(data), jobs=1, cache=False)
    f = dataprep.dedup(samples / "broken.jsonl", jobs=1)
    assert r.path == r.report.path == "-" and all(x.path == "-" for x in r.findings)
    assert r.accounting() == f.accounting() and r.exit_code == f.exit_code
    c = cli("dedup", "-", "--json", "-q", "--jobs", "1", input=data)
    assert json.loads(c.stdout) == r.to_dict()


def test_dedup_against_one_file_given_as_a_string(samples):
    """A notebook passes one held-out file as a string: that is one file, not its characters."""
    one = dataprep.dedup(samples / "multilingual.jsonl", against=str(samples / "multilingual.jsonl"), jobs=1)
    many = dataprep.dedup(samples / "multilingual.jsonl", against=[samples / "multilingual.jsonl"], jobs=1)
    assert one.to_dict() == many.to_dict() and one.report.leaked == 60 and one.exit_code == 1
    assert len(one.files.files) == 2


def test_dedup_usage_errors_are_job_errors_as_the_command_says_them(samples, tmp_path):
    cases = [
        (dict(path=tmp_path / "missing.jsonl"), ("dedup", tmp_path / "missing.jsonl")),
        (dict(path=samples / "alpaca.json"), ("dedup", samples / "alpaca.json")),
        (dict(path=samples / "dpo.jsonl", threshold=1.5), ("dedup", samples / "dpo.jsonl", "--threshold", "1.5")),
        (dict(path=samples / "dpo.jsonl", index_add=True), ("dedup", samples / "dpo.jsonl", "--index-add")),
        (dict(path=samples / "dpo.jsonl", fail_on="info"), ("dedup", samples / "dpo.jsonl", "--fail-on", "info")),
    ]
    for kw, args in cases:
        with pytest.raises(JobError) as e:
            dataprep.dedup(jobs=1, **kw)
        res = cli(*args, "--jobs", "1")
        assert res.exit_code == 2 == e.value.exit_code
        assert res.stderr == f"error: {e.value}\n"
    with pytest.raises(JobError, match="keep takes"):
        dataprep.dedup(samples / "dpo.jsonl", keep="shortest")


# ----------------------------------------------------------------------------- train


def _stderr_lines(res) -> list[str]:
    return res.stderr.splitlines()


@pytest.mark.parametrize("backend,model", [AXOLOTL, ("openai", "gpt-4.1-mini-2025-04-14"),
                                           ("together", "together/llama-3.1-8b-instruct")])
def test_train_dry_run_call_gives_the_commands_plan_and_estimate(backend, model, samples, tmp_path):
    path = samples / "support_chat.jsonl"
    out = tmp_path / "run"
    r = dataprep.train(path, backend=backend, model=model, output_dir=out, dry_run=True, jobs=1)
    c = cli("train", path, "--backend", backend, "--model", model, "--output", out, "--dry-run", "--jobs", "1")
    assert (r.exit_code, r.status, r.verdict) == (c.exit_code, "dry-run", "pass") and r.exit_code == 0
    assert c.stdout == r.describe() + "\n"
    assert _stderr_lines(c) == r.messages
    assert r.messages[0] == "gate (openai): pass" and r.messages[1].startswith(f"estimate ({r.estimate.model}): 150")
    assert r.estimate.examples == 150 and r.run.plan["gate_verdict"] == "pass"
    assert not out.exists()  # a dry run writes nothing
    json.dumps(r.to_dict(), default=str)


def test_train_checks_the_gate_once_and_stops_before_anything_else(samples, tmp_path, monkeypatch):
    import dataprep.gate.verdict as verdict

    calls = []
    real = verdict.run_gate

    def counted(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(verdict, "run_gate", counted)
    out = tmp_path / "run"
    r = dataprep.train(samples / "broken.jsonl", backend=AXOLOTL[0], model=AXOLOTL[1], output_dir=out, jobs=1)
    assert len(calls) == 1 and r.verdict == "fail" and r.status == "gate-failed" and r.exit_code == 1
    assert r.run is None and r.estimate is None and r.split is None and not out.exists()
    assert [m for m in r.messages if m.startswith("gate (")] == ["gate (openai): fail"]
    assert r.messages[-1].startswith("the gate failed: nothing was uploaded or loaded")
    assert 1 < len(r.messages) <= 12 and all(m.startswith("  DP") for m in r.messages[1:-1])
    c = cli("train", samples / "broken.jsonl", "-b", AXOLOTL[0], "-m", AXOLOTL[1], "-o", out, "--jobs", "1")
    assert c.exit_code == 1 and c.stdout == "" and _stderr_lines(c) == r.messages and not out.exists()

    # forced: one gate run, its verdict recorded in the plan, the estimate made, nothing re-checked
    calls.clear()
    f = dataprep.train(samples / "broken.jsonl", backend="trl", model="tiny-random", output_dir=out, jobs=1,
                       dry_run=True, force=True)
    assert len(calls) == 1 and f.status == "dry-run" and f.exit_code == 0 and f.forced
    assert (f.run.plan["gate_verdict"], f.run.plan["forced"]) == ("fail", True)
    assert [m.split(":")[0] for m in f.messages] == ["gate (openai)", f"estimate ({f.estimate.model})"]


def test_train_writes_the_split_and_the_configs_like_the_command(samples, tmp_path):
    path = samples / "support_chat.jsonl"
    r = dataprep.train(path, backend=AXOLOTL[0], model=AXOLOTL[1], output_dir=tmp_path / "lib", jobs=1)
    c = cli("train", path, "-b", AXOLOTL[0], "-m", AXOLOTL[1], "-o", tmp_path / "cli", "--jobs", "1")
    assert r.exit_code == c.exit_code == 0 and r.status == "written"
    assert c.stdout == r.describe().replace(str(tmp_path / "lib"), str(tmp_path / "cli")) + "\n"
    assert r.messages[-1] == f"cluster-aware split: {r.split['train']}, {r.split['val']} (near duplicates never straddle)"
    for part in ("train.jsonl", "val.jsonl"):
        assert (tmp_path / "lib" / "data" / part).read_bytes() == (tmp_path / "cli" / "data" / part).read_bytes()
    n = sum(len(Path(r.split[k]).read_bytes().splitlines()) for k in ("train", "val", "test"))
    assert n == 150  # every example of the file is in one split
    assert json.loads(json.dumps(r.to_dict(), default=str))["run"]["status"] == "written"


def test_train_usage_errors_are_job_errors_never_tracebacks(samples, tmp_path):
    good = samples / "support_chat.jsonl"
    with pytest.raises(JobError, match="input cannot be read; nothing launched"):
        dataprep.train(tmp_path / "missing.jsonl", backend=AXOLOTL[0], model=AXOLOTL[1], dry_run=True, jobs=1)
    with pytest.raises(JobError):
        dataprep.train(good, rules="no-such-preset", dry_run=True, jobs=1)
    with pytest.raises(JobError, match="backend"):
        dataprep.train(good, backend="nosuch", dry_run=True, jobs=1)
    # a validation share the split cannot make: said before the gate runs, not a traceback after it
    for share in ("1.5", "0"):
        res = cli("train", good, "-b", AXOLOTL[0], "-m", AXOLOTL[1], "-o", tmp_path / "vf", "--val-fraction", share)
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
        assert res.stderr == f"error: the validation share (--val-fraction) must be above 0 and below 1; got {share}\n"
        assert not (tmp_path / "vf").exists()
    # the split cannot be written (the run directory is a file): a message and exit 2, not a traceback
    blocker = tmp_path / "run"
    blocker.write_text("a file where the run directory should go\n")
    with pytest.raises(JobError, match="cannot write"):
        dataprep.train(good, backend=AXOLOTL[0], model=AXOLOTL[1], output_dir=blocker, jobs=1)
    res = cli("train", good, "-b", AXOLOTL[0], "-m", AXOLOTL[1], "-o", blocker, "--jobs", "1")
    assert res.exit_code == 2 and "error: cannot write" in res.stderr
    assert isinstance(res.exception, SystemExit)  # an exit, not an escaped OSError


def test_train_takes_a_config_object_and_options_over_it(samples, tmp_path):
    from dataprep.train import TrainConfig

    cfg = TrainConfig(backend="axolotl", model="m", output_dir=str(tmp_path / "a"), epochs=2)
    r = dataprep.train(samples / "support_chat.jsonl", config=cfg, epochs=5, dry_run=True, jobs=1)
    assert r.backend == "axolotl" and r.run.plan["hyperparameters"]["epochs"] == 5
    assert r.run.plan["output_dir"] == str(tmp_path / "a")


# ----------------------------------------------------------------------------- the package


def test_job_functions_load_lazily_and_their_packages_stay_importable():
    code = ("import sys, inspect, dataprep\n"
            "assert callable(dataprep.dedup) and callable(dataprep.train)\n"
            "assert 'out' in inspect.signature(dataprep.dedup).parameters\n"
            "assert 'dry_run' in inspect.signature(dataprep.train).parameters\n"
            "heavy = sorted(m for m in ('polars', 'numpy') if m in sys.modules)\n"
            "import dataprep.train.api, dataprep.dedup.analyze\n"
            "from dataprep.train import TrainConfig\n"
            "from dataprep.dedup import MinHashConfig\n"
            "assert callable(dataprep.dedup) and callable(dataprep.train)\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


# ----------------------------------------------------------------------------- the shared follow loop


def _hosted_files(tmp_path) -> tuple[Path, Path]:
    def chat(i):
        return {"messages": [{"role": "user", "content": f"Question number {i}?"},
                             {"role": "assistant", "content": f"Answer number {i}."}]}

    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    train.write_text("".join(json.dumps(chat(i)) + "\n" for i in range(12)), encoding="utf-8")
    val.write_text("".join(json.dumps(chat(i)) + "\n" for i in range(12, 24)), encoding="utf-8")
    return train, val


def test_openai_job_followed_until_the_time_limit_detaches(tmp_path, monkeypatch):
    pytest.importorskip("openai")
    sys.path.insert(0, str(Path(__file__).parent))
    from openai_stub_server import Scenario, StubOpenAIServer

    from dataprep.train import TrainConfig

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    train, val = _hosted_files(tmp_path)
    events = []
    with StubOpenAIServer(Scenario(polls_to_finish=50)) as srv:
        cfg = TrainConfig(backend="openai", model="gpt-4.1-mini-2025-04-14", openai_base_url=srv.base_url,
                          output_dir=str(tmp_path / "run"), poll_interval_s=0.0, follow_timeout_s=0.0)
        r = dataprep.train(train, config=cfg, val=val, on_event=events.append, jobs=1)
        assert not any(p.endswith("/cancel") for _, p in srv.requests)
    assert r.status == "detached" and r.exit_code == 0 and r.messages == ["gate (openai): pass"]
    status = [e.message for e in events if e.kind == "status"]
    assert status[-1].endswith(": stopped following after 0 s; the job keeps running")
    assert len(status) == 2  # the job's first status, then the detach: the loop ran once


def test_together_job_detached_by_ctrl_c_names_its_backend(tmp_path, monkeypatch):
    pytest.importorskip("together")
    sys.path.insert(0, str(Path(__file__).parent))
    from together_stub_server import Scenario, StubTogetherServer

    from dataprep.train import TrainConfig

    monkeypatch.setenv("TOGETHER_API_KEY", "tg-test-not-real")
    train, val = _hosted_files(tmp_path)
    events = []

    def on_event(e):
        events.append(e)
        if e.kind == "event":  # the first event read while following: the user presses Ctrl-C
            raise KeyboardInterrupt

    with StubTogetherServer(Scenario(polls_to_finish=10)) as srv:
        cfg = TrainConfig(backend="together", model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                          together_base_url=srv.base_url, output_dir=str(tmp_path / "run"), poll_interval_s=0.0)
        r = dataprep.train(train, config=cfg, val=val, on_event=on_event, jobs=1)
        assert not any(p.endswith("/cancel") for _, p in srv.requests)
    assert r.status == "detached" and r.exit_code == 0
    job_id = r.run.job.job_id
    assert events[-1].message == (
        f"{job_id}: detached (Ctrl-C); the job keeps running. Check it with `dataprep train status {job_id} "
        f"--backend together`, stop it with `dataprep train cancel {job_id} --backend together`")
    assert json.loads((tmp_path / "run" / "run_card.json").read_text())["status"] == "detached"
