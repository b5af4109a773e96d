"""Ready-to-run configs for Axolotl and LLaMA-Factory, written for the validated data, plus the
exact command that launches them. Nothing is launched here.

Axolotl (`axolotl train config.yml`): the chat JSONL is used as is with `type: chat_template`;
`message_field_training: weight` makes Axolotl honour OpenAI's per-message `weight` (a weight-0
assistant turn is not trained), `roles_to_train: [assistant]` masks every other role. Files with
tool calls are rewritten once (`axolotl_data/*.jsonl`) with `arguments` parsed into objects and the
deprecated `functions`/`function_call` forms turned into `tools`/`tool_calls`, which is what
Hugging Face chat templates expect.

LLaMA-Factory (`llamafactory-cli train config.yaml`): the data is converted to its ShareGPT format
(`conversations` of `{from, value}` with human / gpt / function_call / observation turns, the
system prompt in `system`, tool definitions in `tools`) under `llamafactory_data/`, next to the
`dataset_info.json` entry that describes it (formatting sharegpt, columns, and the tags role_tag,
content_tag, user_tag, assistant_tag, observation_tag, function_tag, system_tag). LLaMA-Factory
needs strictly alternating turns: examples that cannot be expressed that way are left out and
listed. It has no per-turn loss weights: when every example trains only its last assistant turn,
`mask_history: true` reproduces the weights exactly; otherwise weight-0 turns are trained and a
warning says how many.

YAML is written by a small emitter (block style, strings double-quoted JSON-style) so that no YAML
library is needed; the output is plain YAML 1.1/1.2 that PyYAML and ruamel read.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataprep.mask import redact

from .config import ConfigError, TrainConfig
from .data import (
    ConversionStats,
    DataError,
    _parse_arguments,
    _tools_of,
    content_text,
    read_chat_examples,
)

# ====================================================================== YAML emitter

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text or "E" in text:  # YAML 1.1 floats need a dot and a signed exponent
            mantissa, exp = text.lower().split("e")
            if "." not in mantissa:
                mantissa += ".0"
            if exp[0] not in "+-":
                exp = "+" + exp
            text = f"{mantissa}e{exp}"
        elif "." not in text:
            text += ".0"
        return text
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _yaml_key(key: Any) -> str:
    key = str(key)
    if _PLAIN_KEY.match(key) and key.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
        return key
    return json.dumps(key, ensure_ascii=False)


def _emit(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{_yaml_key(k)}:")
                _emit(v, indent + 2, lines)
            elif isinstance(v, (list, tuple)) and v:
                lines.append(f"{pad}{_yaml_key(k)}:")
                _emit(list(v), indent + 2, lines)
            else:
                lines.append(f"{pad}{_yaml_key(k)}: {_inline(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                sub[0] = f"{pad}- " + sub[0][indent + 2:]
                lines.extend(sub)
            elif isinstance(item, (list, tuple)) and item:
                sub = []
                _emit(list(item), indent + 2, sub)
                sub[0] = f"{pad}- " + sub[0][indent + 2:]
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_inline(item)}")
    else:
        lines.append(pad + _inline(value))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}" if not value else "{" + ", ".join(f"{_yaml_key(k)}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _yaml_scalar(value)


def dump_yaml(data: dict[str, Any], *, header: str | None = None) -> str:
    lines: list[str] = []
    if header:
        lines.extend(f"# {line}".rstrip() for line in header.splitlines())
    _emit(data, 0, lines)
    return "\n".join(lines) + "\n"


# ====================================================================== results


@dataclass
class ExportResult:
    backend: str
    config_path: Path
    command: list[str]
    #: every file written (or, in a dry run, that would be written): path -> text
    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)

    def write(self) -> None:
        for path, text in self.files.items():
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")


def _header(tool: str, train_path: str | Path, command: str) -> str:
    return (f"{tool} config written by dataprep for {Path(train_path).name}\n"
            f"launch with: {command}")


def _lr(config: TrainConfig) -> float:
    return config.resolved_learning_rate()


def _needs_model(config: TrainConfig) -> str:
    if not config.model:
        raise ConfigError("no base model: pass --model (a Hugging Face model id or local path)")
    return config.model


# ====================================================================== axolotl


def _has_tool_forms(rows: list[tuple[int, dict[str, Any]]]) -> bool:
    for _, ex in rows:
        if ex.get("functions"):
            return True
        for m in ex.get("messages") or []:
            if isinstance(m, dict) and (m.get("tool_calls") or m.get("function_call") or m.get("role") == "function"):
                return True
    return False


def normalize_tools_example(ex: dict[str, Any]) -> dict[str, Any]:
    """OpenAI example with tool-call arguments parsed and deprecated function forms modernised;
    `weight` and everything else kept."""
    out = {k: v for k, v in ex.items() if k not in ("functions", "tools")}
    tools = _tools_of(ex)
    if tools:
        out["tools"] = tools
    msgs = []
    for m in ex.get("messages") or []:
        m = dict(m)
        if m.get("role") == "function":
            m["role"] = "tool"
        if m.get("function_call") and not m.get("tool_calls"):
            m["tool_calls"] = [{"type": "function", "function": m.pop("function_call")}]
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                c = dict(c)
                fn = dict(c.get("function") or {})
                fn["arguments"] = _parse_arguments(fn.get("arguments"))
                c["function"] = fn
                calls.append(c)
            m["tool_calls"] = calls
        msgs.append(m)
    out["messages"] = msgs
    return out


def _axolotl_dataset(path: str, *, test: bool = False) -> dict[str, Any]:
    ds: dict[str, Any] = {"path": path, "ds_type": "json"}
    if test:
        ds["split"] = "train"
    ds.update({
        "type": "chat_template",
        "field_messages": "messages",
        "message_property_mappings": {"role": "role", "content": "content"},
        "roles_to_train": ["assistant"],
        "train_on_eos": "turn",
        "message_field_training": "weight",
    })
    return ds


def axolotl_export(train_path: str | Path, config: TrainConfig, *, val_path: str | Path | None = None) -> ExportResult:
    model = _needs_model(config)
    out = Path(config.output_dir)
    cfg_path = out / "axolotl.yml"
    command = ["axolotl", "train", str(cfg_path)]
    files: dict[str, str] = {}
    warnings: list[str] = []

    def data_file(path: str | Path, role: str) -> str:
        rows = read_chat_examples(path)
        if not _has_tool_forms(rows):
            return str(Path(path).resolve())
        target = (out / "axolotl_data" / f"{role}.jsonl").resolve()
        files[str(target)] = "".join(json.dumps(normalize_tools_example(ex), ensure_ascii=False) + "\n"
                                     for _, ex in rows)
        warnings.append(f"{role}: tool calls rewritten for Hugging Face chat templates (arguments as objects) "
                        f"in {target}")
        return str(target)

    data: dict[str, Any] = {
        "base_model": model,
        "chat_template": "tokenizer_default",
        "datasets": [_axolotl_dataset(data_file(train_path, "train"))],
    }
    has_eval = val_path is not None
    if has_eval:
        data["test_datasets"] = [_axolotl_dataset(data_file(val_path, "validation"), test=True)]
        data["val_set_size"] = 0.0
    data["dataset_prepared_path"] = str((out / "axolotl_prepared").resolve())
    data["output_dir"] = str((out / "axolotl_output").resolve())
    if config.method in ("lora", "qlora"):
        data["adapter"] = config.method
        if config.method == "qlora":
            data["load_in_4bit"] = True
        data["lora_r"] = config.lora_r
        data["lora_alpha"] = config.lora_alpha
        data["lora_dropout"] = config.lora_dropout
        if config.lora_target_modules == "all-linear":
            data["lora_target_linear"] = True
        else:
            data["lora_target_modules"] = list(config.lora_target_modules)
    data.update({
        "sequence_len": config.max_seq_length,
        "sample_packing": config.packing,
        "pad_to_sequence_len": config.packing,
        "num_epochs": config.resolved_epochs(),
        "micro_batch_size": config.resolved_batch_size(),
        "gradient_accumulation_steps": config.grad_accumulation,
        "learning_rate": _lr(config),
        "optimizer": "adamw_torch",
        "lr_scheduler": config.lr_scheduler,
        "warmup_ratio": config.warmup_ratio,
        "weight_decay": config.weight_decay,
        "bf16": "auto",
        "gradient_checkpointing": True if config.gradient_checkpointing is None else config.gradient_checkpointing,
        "logging_steps": config.logging_steps,
        "saves_per_epoch": 1,
        "seed": config.seed,
    })
    if config.max_steps is not None:
        data["max_steps"] = config.max_steps
    if has_eval and config.eval_each_epoch:
        data["evals_per_epoch"] = 1
        data["load_best_model_at_end"] = True
        data["metric_for_best_model"] = "eval_loss"
        data["greater_is_better"] = False
        if config.early_stopping_patience:
            data["early_stopping_patience"] = config.early_stopping_patience
    text = dump_yaml(data, header=_header("Axolotl", train_path, shlex.join(command)))
    files[str(cfg_path)] = text
    return ExportResult("axolotl", cfg_path, command, files, warnings, {"config": data})


# ====================================================================== llama-factory

SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}

_TEMPLATE_GUESSES = [
    (("llama-3", "llama3", "llama_3"), "llama3"),
    (("llama-2", "llama2"), "llama2"),
    (("qwen3",), "qwen3"),
    (("qwen",), "qwen"),
    (("mixtral", "mistral", "ministral"), "mistral"),
    (("gemma-3", "gemma3"), "gemma3"),
    (("gemma",), "gemma"),
    (("phi-4", "phi4"), "phi4"),
    (("phi-3", "phi3"), "phi"),
    (("deepseek-v3", "deepseek-r1", "deepseek3"), "deepseek3"),
    (("deepseek",), "deepseek"),
    (("glm-4", "glm4"), "glm4"),
    (("smollm",), "smollm"),
]


def guess_llamafactory_template(model: str) -> str | None:
    name = model.lower()
    for needles, template in _TEMPLATE_GUESSES:
        if any(n in name for n in needles):
            return template
    return None


@dataclass
class ShareGPTConversion:
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    weight0_turns: int = 0
    only_last_trained: bool = True  # every example trains exactly its last assistant turn
    any_weight0: bool = False
    text_with_calls_dropped: int = 0
    images_dropped: int = 0


def _flush_observations(turns: list[dict[str, str]], pending: list[str]) -> None:
    """Consecutive tool results become one observation turn (a JSON list when there are several)."""
    if pending:
        value = pending[0] if len(pending) == 1 else json.dumps(pending, ensure_ascii=False)
        turns.append({"from": "observation", "value": value})
        pending.clear()


def openai_to_sharegpt(rows: list[tuple[int, dict[str, Any]]]) -> ShareGPTConversion:
    conv = ShareGPTConversion()
    for lineno, ex in rows:
        stats = ConversionStats()
        msgs = ex.get("messages") or []
        record: dict[str, Any] = {}
        turns: list[dict[str, str]] = []
        reason = None
        pending_obs: list[str] = []
        assistant_flags: list[bool] = []

        for i, m in enumerate(msgs):
            role = m.get("role")
            text = content_text(m.get("content"), stats)
            if role in ("system", "developer"):
                if i != 0:
                    reason = "a system message that is not the first message"
                    break
                record["system"] = text
                continue
            if role in ("tool", "function"):
                pending_obs.append(text)
                continue
            _flush_observations(turns, pending_obs)
            if role == "user":
                turns.append({"from": "human", "value": text})
            elif role == "assistant":
                calls = m.get("tool_calls") or ([{"function": m["function_call"]}] if m.get("function_call") else None)
                if calls:
                    fns = [{"name": (c.get("function") or {}).get("name"),
                            "arguments": _parse_arguments((c.get("function") or {}).get("arguments"))} for c in calls]
                    value = fns[0] if len(fns) == 1 else fns
                    turns.append({"from": "function_call", "value": json.dumps(value, ensure_ascii=False)})
                    if text.strip():
                        conv.text_with_calls_dropped += 1
                else:
                    turns.append({"from": "gpt", "value": text})
                assistant_flags.append(m.get("weight", 1) != 0)
            else:
                reason = f"unsupported role {role!r}"
                break
        _flush_observations(turns, pending_obs)
        conv.images_dropped += stats.images_dropped
        if reason is None:
            for pos, t in enumerate(turns):
                expected = ("human", "observation") if pos % 2 == 0 else ("gpt", "function_call")
                if t["from"] not in expected:
                    reason = (f"turn {pos + 1} is {t['from']!r} where LLaMA-Factory expects "
                              f"{' or '.join(expected)} (turns must alternate)")
                    break
            else:
                if not turns or len(turns) % 2:
                    reason = "the conversation does not end with an assistant turn"
        if reason is not None:
            conv.skipped.append((lineno, redact(reason)))  # the reason quotes the data
            continue
        w0 = sum(1 for f in assistant_flags if not f)
        conv.weight0_turns += w0
        conv.any_weight0 = conv.any_weight0 or w0 > 0
        if not (assistant_flags and assistant_flags[-1] and not any(assistant_flags[:-1])):
            conv.only_last_trained = False
        record["conversations"] = turns
        tools = _tools_of(ex)
        if tools:
            record["tools"] = json.dumps([t.get("function", t) for t in tools], ensure_ascii=False)
        conv.records.append(record)
    return conv


def dataset_info_entry(file_name: str, *, has_system: bool = True, has_tools: bool = False) -> dict[str, Any]:
    columns = {"messages": "conversations"}
    if has_system:
        columns["system"] = "system"
    if has_tools:
        columns["tools"] = "tools"
    return {"file_name": file_name, "formatting": "sharegpt", "columns": columns, "tags": dict(SHAREGPT_TAGS)}


def llamafactory_export(train_path: str | Path, config: TrainConfig, *,
                        val_path: str | Path | None = None) -> ExportResult:
    model = _needs_model(config)
    out = Path(config.output_dir)
    data_dir = (out / "llamafactory_data").resolve()
    cfg_path = out / "llamafactory.yaml"
    command = ["llamafactory-cli", "train", str(cfg_path)]
    files: dict[str, str] = {}
    warnings: list[str] = []
    info: dict[str, Any] = {}
    details: dict[str, Any] = {}
    mask_history = None
    for role, path, name in (("train", train_path, "dataprep_train"), ("validation", val_path, "dataprep_validation")):
        if path is None:
            continue
        conv = openai_to_sharegpt(read_chat_examples(path))
        if not conv.records:
            raise DataError(f"{path}: no example can be expressed in LLaMA-Factory's ShareGPT format "
                            f"(first problem: line {conv.skipped[0][0]}: {conv.skipped[0][1]})")
        file_name = f"{name}.jsonl"
        files[str(data_dir / file_name)] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in conv.records)
        info[name] = dataset_info_entry(file_name, has_system=any("system" in r for r in conv.records),
                                        has_tools=any("tools" in r for r in conv.records))
        details[role] = {"examples": len(conv.records),
                         "skipped": [{"line": ln, "reason": r} for ln, r in conv.skipped],
                         "weight0_turns": conv.weight0_turns}
        if conv.skipped:
            lines = ", ".join(str(ln) for ln, _ in conv.skipped[:10])
            warnings.append(f"{role}: {len(conv.skipped)} example(s) left out (not expressible as alternating "
                            f"ShareGPT turns), lines {lines}{' ...' if len(conv.skipped) > 10 else ''}; first reason: "
                            f"{conv.skipped[0][1]}")
        if conv.text_with_calls_dropped:
            warnings.append(f"{role}: assistant text next to tool calls dropped in {conv.text_with_calls_dropped} "
                            "turn(s) (LLaMA-Factory's function_call turn holds the calls only)")
        if conv.images_dropped:
            warnings.append(f"{role}: {conv.images_dropped} image part(s) dropped")
        if role == "train" and conv.any_weight0:
            if conv.only_last_trained:
                mask_history = True
            else:
                warnings.append(f"train: LLaMA-Factory has no per-turn loss weights; {conv.weight0_turns} weight-0 "
                                "assistant turn(s) will be trained on")
    files[str(data_dir / "dataset_info.json")] = json.dumps(info, indent=2, ensure_ascii=False) + "\n"

    template = config.llamafactory_template or guess_llamafactory_template(model)
    if template is None:
        template = "default"
        warnings.append(f"no LLaMA-Factory chat template known for {model!r}; using 'default' — set "
                        "llamafactory_template to the model's template (see LLaMA-Factory's template list)")
    data: dict[str, Any] = {
        "model_name_or_path": model,
        "stage": "sft",
        "do_train": True,
        "finetuning_type": "full" if config.method == "full" else "lora",
    }
    if config.method in ("lora", "qlora"):
        data["lora_rank"] = config.lora_r
        data["lora_alpha"] = config.lora_alpha
        data["lora_dropout"] = config.lora_dropout
        targets = config.lora_target_modules
        data["lora_target"] = "all" if targets == "all-linear" else ",".join(targets)
    if config.method == "qlora":
        data["quantization_bit"] = 4
        data["quantization_method"] = "bnb"
    data.update({
        "dataset": "dataprep_train",
        "dataset_dir": str(data_dir),
        "template": template,
        "cutoff_len": config.max_seq_length,
        "packing": config.packing,
        "overwrite_cache": True,
    })
    if mask_history:
        data["mask_history"] = True
    data.update({
        "output_dir": str((out / "llamafactory_output").resolve()),
        "logging_steps": config.logging_steps,
        "save_strategy": "epoch",
        "plot_loss": True,
        "report_to": "none",
        "per_device_train_batch_size": config.resolved_batch_size(),
        "gradient_accumulation_steps": config.grad_accumulation,
        "learning_rate": _lr(config),
        "num_train_epochs": float(config.resolved_epochs()),
        "lr_scheduler_type": config.lr_scheduler,
        "warmup_ratio": config.warmup_ratio,
        "weight_decay": config.weight_decay,
        "bf16": True,
        "seed": config.seed,
    })
    if config.max_steps is not None:
        data["max_steps"] = config.max_steps
    if val_path is not None:
        data["eval_dataset"] = "dataprep_validation"
        data["per_device_eval_batch_size"] = config.resolved_batch_size()
        if config.eval_each_epoch:
            data["eval_strategy"] = "epoch"
            data["load_best_model_at_end"] = True
            data["metric_for_best_model"] = "eval_loss"
            data["greater_is_better"] = False
            if config.early_stopping_patience:
                data["early_stopping_steps"] = config.early_stopping_patience
    files[str(cfg_path)] = dump_yaml(data, header=_header("LLaMA-Factory", train_path, shlex.join(command)))
    details["dataset_info"] = info
    details["config"] = data
    return ExportResult("llamafactory", cfg_path, command, files, warnings, details)


def export(backend: str, train_path: str | Path, config: TrainConfig, *,
           val_path: str | Path | None = None) -> ExportResult:
    if backend == "axolotl":
        return axolotl_export(train_path, config, val_path=val_path)
    if backend == "llamafactory":
        return llamafactory_export(train_path, config, val_path=val_path)
    raise ConfigError(f"no config export for backend {backend!r}")
