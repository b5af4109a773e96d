"""Axolotl / LLaMA-Factory config exports, the TrainConfig TOML loader and the run card. No heavy
dependencies: these run without the train extra."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dataprep.train import ConfigError, GateRefused, RunCard, TrainConfig, launch, sha256_file
from dataprep.train.configs import (
    SHAREGPT_TAGS,
    dataset_info_entry,
    dump_yaml,
    guess_llamafactory_template,
    openai_to_sharegpt,
)

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with transformers/datasets; parse checks skip without it
    yaml = None


def _load_yaml(text: str):
    if yaml is None:
        pytest.skip("PyYAML not installed")
    return yaml.safe_load(text)


CHAT = [
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"},
                  {"role": "assistant", "content": "Hello."}]},
    {"messages": [{"role": "user", "content": "Warm up"}, {"role": "assistant", "content": "skip", "weight": 0},
                  {"role": "user", "content": "Now?"}, {"role": "assistant", "content": "Now.", "weight": 1}]},
]

TOOLS = {
    "messages": [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Rome\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "rain"},
        {"role": "assistant", "content": "Paris sunny, Rome rain."},
    ],
    "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
}

NOT_ALTERNATING = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                {"role": "assistant", "content": "c"}]}


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def data(tmp_path):
    return {"train": _write(tmp_path / "train.jsonl", CHAT * 5),
            "val": _write(tmp_path / "val.jsonl", CHAT),
            "tools": _write(tmp_path / "tools.jsonl", [TOOLS, CHAT[0], NOT_ALTERNATING])}


# ---------------------------------------------------------------------------------------------- YAML


def test_yaml_emitter_round_trips():
    data = {"a": 1, "b": 2e-4, "c": 1e-05, "d": True, "e": None, "f": "yes", "g": "x: y # z", "h": [1, "two"],
            "i": [{"path": "/p q", "type": "t", "n": {"k": [1]}}], "j": {}, "k": [], "weird key": "ü\n\"q\"",
            "l": 3.0, "m": float("inf")}
    loaded = _load_yaml(dump_yaml(data, header="generated\nline two"))
    assert loaded["c"] == 1e-05 and isinstance(loaded["c"], float)
    assert loaded["b"] == 2e-4 and loaded["f"] == "yes" and loaded["g"] == "x: y # z"
    assert loaded["i"] == [{"path": "/p q", "type": "t", "n": {"k": [1]}}]
    assert loaded["weird key"] == "ü\n\"q\"" and loaded["j"] == {} and loaded["k"] == []
    assert loaded["l"] == 3.0 and math.isinf(loaded["m"])
    assert {k: v for k, v in loaded.items() if k != "m"} == {k: v for k, v in data.items() if k != "m"}


# ---------------------------------------------------------------------------------------------- axolotl


def test_axolotl_config_written_and_parseable(data, tmp_path):
    cfg = TrainConfig(backend="axolotl", model="meta-llama/Llama-3.2-1B-Instruct", output_dir=str(tmp_path / "ax"),
                      epochs=2, learning_rate=1e-5, batch_size=2, early_stopping_patience=3)
    result = launch(data["train"], cfg, val_path=data["val"], gate_verdict="warn")
    assert result.status == "written" and result.exit_code == 0
    cfg_path = tmp_path / "ax" / "axolotl.yml"
    assert result.command == ["axolotl", "train", str(cfg_path)]
    loaded = _load_yaml(cfg_path.read_text())
    assert loaded["base_model"] == "meta-llama/Llama-3.2-1B-Instruct"
    (ds,) = loaded["datasets"]
    assert ds["path"] == str(data["train"].resolve()) and ds["type"] == "chat_template"
    assert ds["field_messages"] == "messages" and ds["roles_to_train"] == ["assistant"]
    assert ds["message_field_training"] == "weight"  # weight-0 turns are not trained
    (test_ds,) = loaded["test_datasets"]
    assert test_ds["path"] == str(data["val"].resolve()) and test_ds["split"] == "train"
    assert loaded["adapter"] == "lora" and loaded["lora_target_linear"] is True
    assert loaded["num_epochs"] == 2 and loaded["learning_rate"] == 1e-5 and loaded["micro_batch_size"] == 2
    assert loaded["early_stopping_patience"] == 3 and loaded["evals_per_epoch"] == 1
    card = json.loads((tmp_path / "ax" / "run_card.json").read_text())
    assert card["status"] == "written" and card["details"]["command"] == result.command
    assert card["data"]["train"]["sha256"] == sha256_file(data["train"]) and card["gate_verdict"] == "warn"


def test_axolotl_rewrites_tool_calls_and_qlora(data, tmp_path):
    cfg = TrainConfig(backend="axolotl", model="Qwen/Qwen2.5-0.5B-Instruct", output_dir=str(tmp_path / "ax"),
                      method="qlora", lora_target_modules=["q_proj", "v_proj"])
    launch(data["tools"], cfg)
    loaded = _load_yaml((tmp_path / "ax" / "axolotl.yml").read_text())
    assert loaded["adapter"] == "qlora" and loaded["load_in_4bit"] is True
    assert loaded["lora_target_modules"] == ["q_proj", "v_proj"]
    rewritten = Path(loaded["datasets"][0]["path"])
    assert rewritten.parent.name == "axolotl_data"
    first = json.loads(rewritten.read_text().splitlines()[0])
    assert first["messages"][2]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}


def test_full_method_has_no_adapter(data, tmp_path):
    cfg = TrainConfig(backend="axolotl", model="m", output_dir=str(tmp_path / "ax"), method="full")
    loaded = _load_yaml(launch(data["train"], cfg, dry_run=True).plan["files"][str(tmp_path / "ax" / "axolotl.yml")])
    assert "adapter" not in loaded and "lora_r" not in loaded
    assert not (tmp_path / "ax").exists()  # dry run wrote nothing


# ---------------------------------------------------------------------------------------------- llama-factory


def test_llamafactory_config_and_dataset_info(data, tmp_path):
    cfg = TrainConfig(backend="llamafactory", model="meta-llama/Llama-3.1-8B-Instruct",
                      output_dir=str(tmp_path / "lf"), epochs=2)
    result = launch(data["train"], cfg, val_path=data["val"])
    cfg_path = tmp_path / "lf" / "llamafactory.yaml"
    assert result.command == ["llamafactory-cli", "train", str(cfg_path)]
    loaded = _load_yaml(cfg_path.read_text())
    assert loaded["stage"] == "sft" and loaded["finetuning_type"] == "lora" and loaded["template"] == "llama3"
    assert loaded["dataset"] == "dataprep_train" and loaded["eval_dataset"] == "dataprep_validation"
    assert loaded["num_train_epochs"] == 2.0 and loaded["eval_strategy"] == "epoch"
    assert loaded["mask_history"] is True  # every example trains only its last assistant turn
    data_dir = Path(loaded["dataset_dir"])
    info = json.loads((data_dir / "dataset_info.json").read_text())
    entry = info["dataprep_train"]
    assert entry["formatting"] == "sharegpt" and entry["file_name"] == "dataprep_train.jsonl"
    assert entry["columns"]["messages"] == "conversations" and entry["columns"]["system"] == "system"
    assert entry["tags"] == {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                             "assistant_tag": "gpt", "observation_tag": "observation",
                             "function_tag": "function_call", "system_tag": "system"}
    records = [json.loads(line) for line in (data_dir / entry["file_name"]).read_text().splitlines()]
    assert len(records) == 10
    assert records[0] == {"system": "Be brief.", "conversations": [{"from": "human", "value": "Hi?"},
                                                                   {"from": "gpt", "value": "Hello."}]}
    assert [t["from"] for t in records[1]["conversations"]] == ["human", "gpt", "human", "gpt"]


def test_llamafactory_tools_skips_and_weight_warning(data, tmp_path):
    cfg = TrainConfig(backend="llamafactory", model="some-org/unknown-model", output_dir=str(tmp_path / "lf"))
    result = launch(data["tools"], cfg)
    loaded = _load_yaml((tmp_path / "lf" / "llamafactory.yaml").read_text())
    assert loaded["template"] == "default"
    assert any("template" in w for w in result.warnings)
    assert any("left out" in w and "lines 3" in w for w in result.warnings)  # NOT_ALTERNATING is line 3
    data_dir = Path(loaded["dataset_dir"])
    info = json.loads((data_dir / "dataset_info.json").read_text())
    assert info["dataprep_train"]["columns"]["tools"] == "tools"
    rec = json.loads((data_dir / "dataprep_train.jsonl").read_text().splitlines()[0])
    assert [t["from"] for t in rec["conversations"]] == ["human", "function_call", "observation", "gpt"]
    calls = json.loads(rec["conversations"][1]["value"])
    assert calls == [{"name": "weather", "arguments": {"city": "Paris"}},
                     {"name": "weather", "arguments": {"city": "Rome"}}]
    assert json.loads(rec["conversations"][2]["value"]) == ["sunny", "rain"]
    assert json.loads(rec["tools"]) == [{"name": "weather", "parameters": {"type": "object"}}]


def test_mixed_weights_warn_for_llamafactory():
    rows = [(1, {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                              {"role": "user", "content": "c"}, {"role": "assistant", "content": "d", "weight": 0}]})]
    conv = openai_to_sharegpt(rows)
    assert conv.any_weight0 and not conv.only_last_trained and conv.weight0_turns == 1


def test_dataset_info_entry_and_template_guess():
    e = dataset_info_entry("x.jsonl", has_system=False, has_tools=True)
    assert e == {"file_name": "x.jsonl", "formatting": "sharegpt",
                 "columns": {"messages": "conversations", "tools": "tools"}, "tags": SHAREGPT_TAGS}
    assert guess_llamafactory_template("Qwen/Qwen3-8B") == "qwen3"
    assert guess_llamafactory_template("mistralai/Mistral-7B-Instruct-v0.3") == "mistral"
    assert guess_llamafactory_template("gpt2") is None


# ---------------------------------------------------------------------------------------------- TrainConfig


def test_config_from_toml_with_overrides(tmp_path):
    p = tmp_path / "train.toml"
    p.write_text('backend = "trl"\n[train]\nmodel = "tiny-random"\nepochs = 5\nlora_r = 4\n'
                 'lora_target_modules = ["q_proj"]\nlearning_rate = 1e-4\n', encoding="utf-8")
    cfg = TrainConfig.load(p, epochs=2, batch_size=None, packing=True)
    assert cfg.model == "tiny-random" and cfg.epochs == 2 and cfg.lora_r == 4 and cfg.packing is True
    assert cfg.batch_size is None and cfg.resolved_batch_size() == 4
    assert cfg.lora_target_modules == ["q_proj"] and cfg.learning_rate == 1e-4
    assert TrainConfig(method="full").resolved_learning_rate() == 2e-5


def test_config_errors(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("epocs = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        TrainConfig.from_toml(p)
    with pytest.raises(ConfigError, match="method"):
        TrainConfig(method="lorax")
    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match="backend"):
        TrainConfig(backend="vertex")
    p.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        TrainConfig.from_toml(p)
    with pytest.raises(ConfigError, match="not found"):
        TrainConfig.from_toml(tmp_path / "missing.toml")


def test_gate_failure_refuses_every_backend(data, tmp_path):
    for backend in ("axolotl", "llamafactory", "openai", "trl"):
        cfg = TrainConfig(backend=backend, model="m", output_dir=str(tmp_path / backend))
        with pytest.raises(GateRefused):
            launch(data["train"], cfg, gate_verdict="fail")
        assert not (tmp_path / backend).exists()
    forced = launch(data["train"], TrainConfig(backend="axolotl", model="m", output_dir=str(tmp_path / "f")),
                    gate_verdict="fail", force=True)
    card = json.loads((tmp_path / "f" / "run_card.json").read_text())
    assert forced.status == "written" and card["forced"] is True and card["gate_verdict"] == "fail"
    assert card["details"]["gate_overridden"] is True


def test_run_card_round_trip(tmp_path):
    card = RunCard(backend="trl", base_model="m", gate_verdict="pass", hyperparameters={"epochs": 1},
                   metrics={"eval_loss": 1.5, "history": [1, 2]})
    card.finish("completed")
    card.write(tmp_path)
    back = RunCard.read(tmp_path)
    assert back.to_dict() == card.to_dict()
    assert set(RunCard.REQUIRED_KEYS) <= set(card.to_dict())
    md = (tmp_path / "RUN_CARD.md").read_text()
    assert "status: **completed**" in md and "| eval_loss | 1.5 |" in md
