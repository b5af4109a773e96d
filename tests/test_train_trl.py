"""The trl backend, for real, offline on CPU: a tiny random Llama and a tokenizer trained in the
test, about 40 short conversations, a few seconds of LoRA training."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

pytestmark = pytest.mark.train

for _mod in ("torch", "transformers", "peft", "trl", "datasets", "tokenizers"):
    pytest.importorskip(_mod)

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from dataprep.train import GateRefused, RunCard, TrainConfig, launch, sha256_file  # noqa: E402
from dataprep.train.data import ConversionStats, to_hf_conversation  # noqa: E402
from dataprep.train.tokenize import assistant_spans, template_info, tokenize_conversation  # noqa: E402
from dataprep.train.trl_backend import (  # noqa: E402
    TrainBackendError,
    build_tokenized_dataset,
    cuda_available,
    generate_reply,
    load_tokenizer,
    load_trained,
)

COLOURS = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange"]
IGNORED = "IGNORE THIS TURN"


def _conversation(i: int) -> dict:
    colour = COLOURS[i % len(COLOURS)]
    msgs = [
        {"role": "system", "content": "You answer with the colour."},
        {"role": "user", "content": f"What colour is item {i}?"},
        {"role": "assistant", "content": f"Item {i} is {colour}."},
    ]
    if i % 3 == 0:  # a weight-0 assistant turn before the trained one
        msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": IGNORED, "weight": 0}] + msgs[1:]
    return {"messages": msgs}


TOOL_EXAMPLE = {
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "TOOLRESULT sunny"},
        {"role": "assistant", "content": "It is sunny in Paris."},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
}

ALL_WEIGHT0 = {"messages": [{"role": "user", "content": "skip me"},
                            {"role": "assistant", "content": "never trained", "weight": 0}]}


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("trl-data")
    general = [{"messages": [{"role": "user", "content": f"Say number {i}."},
                             {"role": "assistant", "content": f"Number {i}."}]} for i in range(6)]
    return {
        "train": _write(d / "train.jsonl", [_conversation(i) for i in range(40)] + [TOOL_EXAMPLE, ALL_WEIGHT0]),
        "val": _write(d / "val.jsonl", [_conversation(i) for i in range(40, 48)]),
        "general": _write(d / "general.jsonl", general),
    }


def _config(out: Path, **kw) -> TrainConfig:
    base = dict(backend="trl", model="tiny-random", output_dir=str(out), epochs=3, learning_rate=5e-3,
                batch_size=8, logging_steps=1, progress=False, lora_r=8, lora_alpha=16, seed=0)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("trl-run") / "run"
    logs: list[dict] = []
    cfg = _config(out, general_eval=str(data["general"]))
    result = launch(data["train"], cfg, val_path=data["val"], gate_verdict="pass", on_log=logs.append)
    return result, out, logs


def test_training_completes_and_loss_decreases(trained):
    result, _, logs = trained
    assert result.status == "completed", result.error
    assert result.exit_code == 0
    m = result.run_card.metrics
    losses = [h["loss"] for h in m["train_loss_history"]]
    assert len(losses) >= 10
    assert losses[-1] < losses[0], losses
    assert m["first_train_loss"] == losses[0] and m["last_train_loss"] == losses[-1]
    # progress reached the caller's callback
    assert any("loss" in entry for entry in logs)
    # evaluated every epoch, and the fine-tuned model beats the base (adapter disabled) on validation
    assert len(m["eval_history"]) >= 3
    assert m["eval_loss"] < m["base_eval_loss"]
    assert m["eval_perplexity"] < m["base_eval_perplexity"]
    # forgetting check: both sides measured
    assert m["general_loss_before"] > 0 and m["general_loss_after"] > 0
    assert "forgetting_delta" in m


def test_weight0_turns_and_prompts_carry_no_labels(trained, data):
    _, out, _ = trained
    tokenizer = load_tokenizer(str(out / "base-model"))
    stats = ConversionStats()
    ds = build_tokenized_dataset(tokenizer, data["train"], stats=stats)
    rows = [json.loads(line) for line in data["train"].read_text().splitlines()]
    assert len(ds) == len(rows) - 1  # the all-weight-0 example is dropped
    assert stats.skipped == 1 and stats.weight0_turns >= 14
    info = template_info(tokenizer)
    checked_weight0 = 0
    for rec in ds:
        example = rows[rec["line"] - 1]
        labels, ids = rec["labels"], rec["input_ids"]
        assert len(labels) == len(ids)
        messages, tools, trainable = to_hf_conversation(example, template_renders_tools=info.renders_tools,
                                                        template_renders_tool_calls=info.renders_tool_calls)
        text, spans = assistant_spans(tokenizer, messages, tools, info)
        flags = [t for m, t in zip(messages, trainable) if m["role"] == "assistant"]
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        assert len(offsets) == len(ids)
        for (start, _end), label, tok in zip(offsets, labels, ids):
            inside = [flag for (s, e), flag in zip(spans, flags) if s <= start < e]
            if inside and inside[0]:
                assert label == tok  # trained assistant token
            else:
                assert label == -100  # system, user, tool, headers, weight-0 turns
        if not all(flags):
            checked_weight0 += 1
            trained_text = tokenizer.decode([t for t in labels if t != -100])
            assert IGNORED not in trained_text
            assert trained_text.startswith(f"Item {rec['line'] - 1} is")
    assert checked_weight0 >= 14
    # the weight-0 turn's tokens really are in the input, just not in the labels
    first = ds[0]
    assert IGNORED in tokenizer.decode(first["input_ids"])
    assert IGNORED not in tokenizer.decode([t for t in first["labels"] if t != -100])


def test_system_user_and_tool_tokens_are_masked(trained):
    _, out, _ = trained
    tokenizer = load_tokenizer(str(out / "base-model"))
    tok = tokenize_conversation(tokenizer, TOOL_EXAMPLE)
    trained_text = tokenizer.decode([t for t in tok.labels if t != -100])
    assert "get_weather" in trained_text and "It is sunny in Paris." in trained_text  # the call and the reply
    assert "TOOLRESULT" not in trained_text and "Weather in Paris?" not in trained_text
    assert tok.trained_turns == 2 and tok.masked_turns == 0
    assert "TOOLRESULT" in tokenizer.decode(tok.input_ids)


def test_adapter_reloads_with_peft_and_generates(trained):
    _, out, _ = trained
    assert (out / "adapter_config.json").is_file()
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "tokenizer.json").is_file() or (out / "tokenizer_config.json").is_file()
    model, tokenizer = load_trained(out)
    from peft import PeftModel

    assert isinstance(model, PeftModel)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # the adapter learned something
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What colour is item 3?"}],
                                           add_generation_prompt=True, tokenize=False)
    enc = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        gen = model.generate(**enc, max_new_tokens=6, min_new_tokens=3, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
    assert gen.shape[1] - enc["input_ids"].shape[1] >= 3
    assert isinstance(generate_reply(model, tokenizer, [{"role": "user", "content": "hi"}], max_new_tokens=4), str)


def test_run_card_is_complete(trained, data):
    result, out, _ = trained
    raw = json.loads((out / "run_card.json").read_text())
    for key in RunCard.REQUIRED_KEYS:
        assert key in raw, key
    assert raw["status"] == "completed"
    assert raw["backend"] == "trl" and raw["base_model"] == "tiny-random"
    assert raw["data"]["train"]["sha256"] == sha256_file(data["train"])
    assert raw["data"]["validation"]["sha256"] == sha256_file(data["val"])
    assert raw["data"]["train"]["examples"] == 42
    assert raw["gate_verdict"] == "pass" and raw["forced"] is False
    hp = raw["hyperparameters"]
    assert hp["method"] == "lora" and hp["lora_r"] == 8 and hp["epochs"] == 3 and hp["learning_rate"] == 5e-3
    for key in ("train_loss_history", "eval_loss", "base_eval_loss", "eval_perplexity", "base_eval_perplexity",
                "general_loss_before", "general_loss_after", "train_runtime_s", "trainable_parameters"):
        assert key in raw["metrics"], key
    for lib in ("python", "torch", "transformers", "peft", "trl", "datasets"):
        assert raw["versions"].get(lib), lib
    assert raw["started_at"] and raw["finished_at"] and raw["duration_s"] >= 0
    assert "adapter_model.safetensors" in raw["artifacts"]
    assert raw["details"]["data_conversion"]["train"]["weight0_turns"] >= 14
    md = (out / "RUN_CARD.md").read_text()
    assert "gate verdict: pass" in md and raw["data"]["train"]["sha256"] in md
    assert not (out / "checkpoints").exists()  # intermediate checkpoints removed after success


class _InterruptAt(TrainerCallback):
    """Sends this process a real SIGINT (what Ctrl-C does) after the given optimizer step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
def test_ctrl_c_saves_checkpoint_and_interrupted_card(data, tmp_path):
    out = tmp_path / "run"
    cfg = _config(out, epochs=1)
    result = launch(data["train"], cfg, val_path=data["val"], gate_verdict="warn", force=False,
                    callbacks=[_InterruptAt(2)])
    assert result.status == "interrupted" and result.exit_code == 130
    card = json.loads((out / "run_card.json").read_text())
    assert card["status"] == "interrupted" and card["finished_at"]
    ckpt = Path(card["details"]["interrupted_checkpoint"])
    assert ckpt.is_dir() and (ckpt / "trainer_state.json").is_file()
    assert (ckpt / "adapter_model.safetensors").is_file()
    assert card["metrics"]["train_steps"] == 2


def test_full_finetune_smoke(data, tmp_path):
    out = tmp_path / "full"
    cfg = _config(out, method="full", epochs=1, max_steps=3, learning_rate=1e-3)
    result = launch(data["train"], cfg, val_path=data["val"])
    assert result.status == "completed", result.error
    m = result.run_card.metrics
    assert "base_eval_loss" in m and "eval_loss" in m  # base measured before the weights changed
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()


def test_gate_failure_stops_before_model_load(data, tmp_path):
    out = tmp_path / "refused"
    with pytest.raises(GateRefused):
        launch(data["train"], _config(out), val_path=data["val"], gate_verdict="fail")
    assert not out.exists()


def test_dry_run_launches_nothing(data, tmp_path):
    out = tmp_path / "dry"
    result = launch(data["train"], _config(out), val_path=data["val"], gate_verdict="fail", force=True,
                    dry_run=True)
    assert result.status == "dry-run" and result.exit_code == 0
    assert not out.exists()
    plan = result.plan
    assert plan["forced"] is True and plan["gate_verdict"] == "fail"
    assert plan["sft_config"]["num_train_epochs"] == 3 and plan["sft_config"]["eval_strategy"] == "epoch"
    assert plan["data"]["train"]["sha256"] == sha256_file(data["train"])
    assert "DRY RUN" in result.describe()


@pytest.mark.skipif(cuda_available(), reason="checks the CPU-only error")
def test_qlora_without_cuda_is_a_clear_error(data, tmp_path):
    with pytest.raises(TrainBackendError, match="CUDA"):
        launch(data["train"], _config(tmp_path / "q", method="qlora"))
    assert not (tmp_path / "q").exists()


def test_templates_without_generation_markers_use_prefix_spans(trained):
    """A plain ChatML template (no {% generation %}): assistant spans come from prefix differencing."""
    _, out, _ = trained
    tokenizer = load_tokenizer(str(out / "base-model"))
    tokenizer.chat_template = (
        "{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
        "+ '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
        "{%- endif %}")
    assert not template_info(tokenizer).has_generation
    tok = tokenize_conversation(tokenizer, _conversation(3))  # has a weight-0 turn
    trained_text = tokenizer.decode([t for t in tok.labels if t != -100])
    assert trained_text == "Item 3 is yellow.<|im_end|>\n"
    assert tok.trained_turns == 1 and tok.masked_turns == 1
