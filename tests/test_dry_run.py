"""`train --dry-run` is short and honest: what would run, where each file would be written (with
its size), the settings of that backend only, and the estimate that applies to it: GPU-hours for
a backend you run yourself, dollars only for a hosted backend with a published price."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from dataprep.cli import app

OPEN = {"trl": "Qwen/Qwen2.5-0.5B-Instruct", "axolotl": "meta-llama/Llama-3.2-1B-Instruct",
        "llamafactory": "meta-llama/Llama-3.1-8B-Instruct"}
HOSTED = {"openai": "gpt-4.1-mini-2025-04-14", "together": "together/llama-3.1-8b-instruct"}
DOLLAR = re.compile(r"\$\s?\d")


def flat(text: str) -> str:
    """The text with its wrapping undone (phrases may break across lines)."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch):
    for k in ("OPENAI_API_KEY", "TOGETHER_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(k, raising=False)


def dry_run(samples, tmp_path, backend, model, *extra):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["train", str(samples / "support_chat.jsonl"), "--backend", backend, "--model",
                                 model, "--output", str(out), "--dry-run", "--jobs", "1", *extra])
    assert r.exit_code == 0, r.output
    assert not out.exists()  # a dry run writes nothing
    return r, out


@pytest.mark.parametrize("backend,model", [*OPEN.items(), *HOSTED.items()])
def test_dry_run_is_short_and_names_where_files_go(backend, model, samples, tmp_path):
    r, out = dry_run(samples, tmp_path, backend, model)
    lines = r.stdout.splitlines()
    assert len(lines) < 60 and len(r.stdout) < 4000, r.stdout
    assert lines[0].startswith("DRY RUN: nothing was launched")
    assert f"{out}/run_card.json" in r.stdout and f"{out}/data/val.jsonl" in r.stdout  # the split a run makes
    # no dump of every setting: settings of other backends never appear
    for foreign in ("together_api_key_env", "openai_max_retries", "llamafactory_template", "poll_interval_s"):
        assert foreign not in r.stdout
    # no conversation text from the data (the llamafactory conversion used to print all of it)
    first = json.loads((samples / "support_chat.jsonl").read_text().splitlines()[0])
    said = [m["content"] for m in first["messages"] if m["role"] == "assistant"][0]
    assert said[:40] not in r.stdout
    # fits a terminal: only an unbreakable path may pass 80 columns
    assert all(len(x) <= 80 or "/" in x.split()[-1] for x in lines), [x for x in lines if len(x) > 80]


@pytest.mark.parametrize("backend,model", OPEN.items())
def test_open_backends_show_gpu_hours_and_never_dollars(backend, model, samples, tmp_path):
    r, _ = dry_run(samples, tmp_path, backend, model)
    assert "GPU-hours" in flat(r.stdout) and not DOLLAR.search(r.stdout), r.stdout
    assert not DOLLAR.search(r.stderr)
    assert "cost n/a" not in r.stderr


def test_trl_on_a_hosted_models_id_quotes_no_service_price(samples, tmp_path):
    # gpt-4o-mini has a published OpenAI price; trained by trl it is not OpenAI's bill
    r, _ = dry_run(samples, tmp_path, "trl", "gpt-4o-mini")
    assert not DOLLAR.search(r.stdout + r.stderr), r.stdout
    assert "no dollar figure" in flat(r.stdout).lower()


def test_open_backend_with_a_size_in_the_name_uses_that_size(samples, tmp_path):
    small, _ = dry_run(samples, tmp_path / "a", "axolotl", "org/Some-0.5B-Chat")
    big, _ = dry_run(samples, tmp_path / "b", "axolotl", "org/Some-70B-Chat")
    assert "0.5B model" in flat(small.stdout) and "70B model" in flat(big.stdout)
    hours = [float(re.search(r"~([\d.,e-]+) GPU-hours", flat(r.stdout)).group(1).replace(",", "")) for r in (small, big)]
    assert hours[1] > 50 * hours[0]  # not the default 7B model's figure for both


def test_open_backend_without_a_known_size_says_so(samples, tmp_path):
    r, _ = dry_run(samples, tmp_path, "axolotl", "org/mystery-model")
    assert "GPU-hours unknown" in flat(r.stdout) and not DOLLAR.search(r.stdout)


def test_hosted_backend_quotes_the_published_price(samples, tmp_path):
    r, _ = dry_run(samples, tmp_path, "openai", HOSTED["openai"])
    assert "at the published price" in flat(r.stdout) and DOLLAR.search(r.stdout)
    assert '"model": "gpt-4.1-mini-2025-04-14"' in r.stdout  # the API call that would be made


@pytest.mark.parametrize("model", [HOSTED["together"], "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"])
def test_hosted_backend_without_a_price_says_no_published_price(model, samples, tmp_path):
    r, _ = dry_run(samples, tmp_path, "together", model)
    assert "no published price" in flat(r.stdout) and not DOLLAR.search(r.stdout)
    assert "GPU-hours" not in r.stdout  # a service's job is not measured in your GPU-hours


def test_dry_run_with_val_has_no_split_line(samples, tmp_path):
    r, out = dry_run(samples, tmp_path, "axolotl", OPEN["axolotl"], "--val", str(samples / "support_chat.jsonl"))
    assert "split" not in r.stdout and f"{out}/data/" not in r.stdout
    assert "validation  " in r.stdout


def test_library_plan_keeps_the_generated_files(samples, tmp_path):
    import dataprep

    r = dataprep.train(samples / "support_chat.jsonl", backend="llamafactory", model=OPEN["llamafactory"],
                       output_dir=tmp_path / "run", dry_run=True, jobs=1)
    files = r.run.plan["files"]
    assert any(p.endswith("dataprep_train.jsonl") and t.count("\n") == 150 for p, t in files.items())
    assert len(r.describe()) < 4000
