"""Local fine-tuning with TRL's SFTTrainer and PEFT (LoRA; QLoRA on CUDA; or full fine-tuning).

What `run_trl` does, in order:

1. Loads the tokenizer of the base model (`config.model`: a local HF dir, a hub id resolved by
   transformers' own cache/offline rules, or "tiny-random": a tiny random Llama built into
   OUTPUT/base-model from the training file's texts, see `tiny.py`).
2. Tokenises train/validation/general-eval files itself (`tokenize.py`): labels only on assistant
   turns whose `weight` is not 0; system/user/tool tokens, template headers and weight-0 turns get
   -100. SFTTrainer receives the pre-tokenised dataset (`input_ids` + `labels`) and only truncates
   to `max_seq_length` and packs when `packing` is on. Examples with no trained token are dropped.
3. Trains; with a validation file and `eval_each_epoch`, evaluates every epoch, saves a checkpoint
   every epoch, keeps the best one by validation loss (`load_best_model_at_end`) and stops early
   after `early_stopping_patience` evaluations without improvement.
4. Compares base and fine-tuned model on the validation set (loss and perplexity; the base is the
   same weights with the LoRA adapter disabled, or the model before training for a full
   fine-tune), and, with `general_eval`, on a general held-out set (before/after: forgetting check).
5. Writes the adapter (or full model), the tokenizer and the run card into OUTPUT.

Ctrl-C (KeyboardInterrupt) during training saves a resumable checkpoint under OUTPUT/checkpoints
and the run card with status "interrupted", then returns normally.
"""

from __future__ import annotations

import math
import shutil
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import TINY_MODEL, RunCard, TrainConfig
from .data import ConversionStats, DataError, read_chat_examples

LogCallback = Callable[[dict[str, Any]], None]


class TrainBackendError(RuntimeError):
    """The backend cannot run with this configuration on this machine."""


class MissingDependencyError(TrainBackendError):
    pass


def require_train_extra() -> None:
    """Raise MissingDependencyError naming the missing packages of the `train` extra."""
    import importlib.util

    missing = [m for m in ("torch", "transformers", "peft", "trl", "datasets", "tokenizers")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"the trl backend needs {', '.join(missing)}: pip install 'dataprep-chat[train]' "
            "(install your platform's torch build first)")


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def check_method_supported(config: TrainConfig) -> None:
    """QLoRA needs a CUDA GPU and bitsandbytes; say so before loading anything."""
    if config.method != "qlora":
        return
    import importlib.util

    if not cuda_available():
        raise TrainBackendError(
            "QLoRA (4-bit) needs a CUDA GPU and bitsandbytes; no CUDA device is available here. "
            "Use --method lora (or full) on CPU, or run on a GPU machine.")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise MissingDependencyError("QLoRA needs bitsandbytes: pip install bitsandbytes")


def resolve_model(config: TrainConfig, train_path: str | Path, output_dir: Path) -> str:
    if not config.model:
        raise TrainBackendError("no base model: pass --model (a local model dir, a hub id, or tiny-random)")
    if config.model == TINY_MODEL:
        from .tiny import build_tiny_model

        path = build_tiny_model(output_dir / "base-model", train_path, seed=config.seed)
        return str(path.resolve())
    return config.model


def load_tokenizer(model_path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def build_tokenized_dataset(tokenizer: Any, path: str | Path, *, stats: ConversionStats | None = None,
                            keep_line: bool = True):
    """A `datasets.Dataset` with `input_ids`, `labels` (and `line`, the 1-based source line)."""
    from datasets import Dataset

    from .tokenize import tokenize_file

    cols = tokenize_file(tokenizer, read_chat_examples(path), stats=stats)
    if not keep_line:
        cols.pop("line")
    return Dataset.from_dict(cols)


def _load_model(model_path: str, config: TrainConfig):
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if cuda_available():
        kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        kwargs["dtype"] = torch.float32
    if config.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=kwargs["dtype"],
        )
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing is not False)
    return model


def _peft_config(config: TrainConfig):
    if config.method == "full":
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules, bias="none", task_type="CAUSAL_LM",
    )


def _checkpointing_key() -> str:
    """transformers 5.x renamed `gradient_checkpointing` to `activation_checkpointing`."""
    try:
        import dataclasses

        from trl import SFTConfig

        if "activation_checkpointing" in {f.name for f in dataclasses.fields(SFTConfig)}:
            return "activation_checkpointing"
    except ImportError:
        pass
    return "gradient_checkpointing"


def sft_arguments(config: TrainConfig, *, has_eval: bool, checkpoints_dir: Path) -> dict[str, Any]:
    """The SFTConfig keyword arguments for this config (also what a dry run shows)."""
    on_cuda = cuda_available()
    bf16 = False
    if on_cuda:
        import torch

        bf16 = bool(torch.cuda.is_bf16_supported())
    evaluate = has_eval and config.eval_each_epoch
    args: dict[str, Any] = {
        "output_dir": str(checkpoints_dir),
        "num_train_epochs": config.resolved_epochs(),
        "per_device_train_batch_size": config.resolved_batch_size(),
        "per_device_eval_batch_size": config.resolved_batch_size(),
        "gradient_accumulation_steps": config.grad_accumulation,
        "learning_rate": config.resolved_learning_rate(),
        "lr_scheduler_type": config.lr_scheduler,
        "warmup_steps": config.warmup_ratio,  # transformers 5: a value < 1 is a ratio of the steps
        "weight_decay": config.weight_decay,
        "max_length": config.max_seq_length,
        "packing": config.packing,
        "seed": config.seed,
        "data_seed": config.seed,
        "logging_steps": config.logging_steps,
        "logging_first_step": True,
        "eval_strategy": "epoch" if evaluate else "no",
        "save_strategy": "epoch",
        "save_total_limit": 2,
        "load_best_model_at_end": evaluate,
        "metric_for_best_model": "eval_loss" if evaluate else None,
        "greater_is_better": False if evaluate else None,
        "report_to": "none",
        "disable_tqdm": not config.progress,
        "bf16": bf16,
        "fp16": on_cuda and not bf16,
        _checkpointing_key(): on_cuda if config.gradient_checkpointing is None else config.gradient_checkpointing,
        "dataset_num_proc": None,
        "dataloader_pin_memory": on_cuda,
    }
    if config.max_steps is not None:
        args["max_steps"] = config.max_steps
    return args


class _Recorder:
    """TrainerCallback that mirrors logs into the run card and forwards them to the caller."""

    def __new__(cls, card: RunCard, on_log: LogCallback | None):
        from transformers import TrainerCallback

        class Recorder(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if not logs:
                    return
                entry = {"step": state.global_step, "epoch": state.epoch, **logs}
                if "loss" in logs:
                    card.metrics.setdefault("train_loss_history", []).append(
                        {"step": state.global_step, "epoch": state.epoch, "loss": logs["loss"]})
                if "eval_loss" in logs:
                    card.metrics.setdefault("eval_history", []).append(
                        {"step": state.global_step, "epoch": state.epoch, "eval_loss": logs["eval_loss"]})
                if on_log is not None:
                    on_log(entry)

        return Recorder()


def _ppl(loss: float | None) -> float | None:
    if loss is None:
        return None
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")


@contextmanager
def _sigint_ignored():
    """Ignore a second Ctrl-C while the interrupted run is being saved (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_trl(
    train_path: str | Path,
    config: TrainConfig,
    *,
    card: RunCard,
    val_path: str | Path | None = None,
    on_log: LogCallback | None = None,
    callbacks: list[Any] | None = None,
) -> RunCard:
    """Train; returns the run card (also written to config.output_dir). Raises TrainBackendError,
    DataError or MissingDependencyError before any training starts when something is wrong."""
    require_train_extra()
    check_method_supported(config)
    import datasets

    quiet = not config.progress and datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        return _run_trl(train_path, config, card=card, val_path=val_path, on_log=on_log, callbacks=callbacks)
    finally:
        if quiet:
            datasets.enable_progress_bars()


def _run_trl(
    train_path: str | Path,
    config: TrainConfig,
    *,
    card: RunCard,
    val_path: str | Path | None,
    on_log: LogCallback | None,
    callbacks: list[Any] | None,
) -> RunCard:
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTConfig, SFTTrainer

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    card.output_dir = str(out)
    set_seed(config.seed)

    model_path = resolve_model(config, train_path, out)
    card.details["model_path"] = model_path
    tokenizer = load_tokenizer(model_path)

    train_stats = ConversionStats()
    train_ds = build_tokenized_dataset(tokenizer, train_path, stats=train_stats, keep_line=False)
    if len(train_ds) == 0:
        raise DataError(f"{train_path}: no example has an assistant turn to train on (all weight 0?)")
    conversion = {"train": train_stats.to_dict()}
    card.warnings.extend(f"train: {w}" for w in train_stats.warnings())
    val_ds = None
    if val_path is not None:
        val_stats = ConversionStats()
        val_ds = build_tokenized_dataset(tokenizer, val_path, stats=val_stats, keep_line=False)
        conversion["validation"] = val_stats.to_dict()
        card.warnings.extend(f"validation: {w}" for w in val_stats.warnings())
        if len(val_ds) == 0:
            raise DataError(f"{val_path}: no validation example has an assistant turn to evaluate")
    else:
        card.warnings.append("no validation file: no per-epoch evaluation, early stopping or base-vs-fine-tuned "
                             "comparison")
    general_ds = None
    if config.general_eval:
        gen_stats = ConversionStats()
        general_ds = build_tokenized_dataset(tokenizer, config.general_eval, stats=gen_stats, keep_line=False)
        conversion["general_eval"] = gen_stats.to_dict()
        if len(general_ds) == 0:
            raise DataError(f"{config.general_eval}: no example has an assistant turn to evaluate")
    card.details["data_conversion"] = conversion
    card.metrics["train_examples"] = len(train_ds)
    card.metrics["train_tokens"] = int(sum(len(x) for x in train_ds["input_ids"]))
    card.metrics["train_label_tokens"] = int(sum(sum(1 for t in x if t != -100) for x in train_ds["labels"]))
    if val_ds is not None:
        card.metrics["validation_examples"] = len(val_ds)

    model = _load_model(model_path, config)
    attn = str(getattr(model.config, "_attn_implementation", "") or "")
    if config.packing and not attn.startswith("flash"):
        card.warnings.append(
            f"packing with the {attn or 'default'} attention implementation: packed examples can attend to each "
            "other (TRL's padding-free packing isolates them only with flash-attention)")
    checkpoints = out / "checkpoints"
    sft_kwargs = sft_arguments(config, has_eval=val_ds is not None, checkpoints_dir=checkpoints)
    card.details["sft_config"] = sft_kwargs
    trainer_callbacks: list[Any] = [_Recorder(card, on_log)]
    if sft_kwargs["load_best_model_at_end"] and config.early_stopping_patience:
        trainer_callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer_callbacks.extend(callbacks or [])
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(**sft_kwargs),
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=_peft_config(config),
        callbacks=trainer_callbacks,
    )
    if not config.progress:
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    is_peft = config.method != "full"
    if is_peft:
        try:
            trainable, total = trainer.model.get_nb_trainable_parameters()
            card.metrics["trainable_parameters"] = int(trainable)
            card.metrics["total_parameters"] = int(total)
        except AttributeError:  # pragma: no cover
            pass

    # Baselines that cannot be taken after training (a full fine-tune overwrites the base weights).
    if not is_peft:
        if val_ds is not None:
            card.metrics["base_eval_loss"] = trainer.evaluate(metric_key_prefix="base")["base_loss"]
        if general_ds is not None:
            card.metrics["general_loss_before"] = trainer.evaluate(
                eval_dataset=general_ds, metric_key_prefix="general")["general_loss"]
    card.write(out)

    try:
        train_output = trainer.train()
    except KeyboardInterrupt:
        with _sigint_ignored():
            saved = _save_interrupted(trainer, tokenizer, checkpoints)
            card.details["interrupted_checkpoint"] = str(saved)
            card.details["resume_hint"] = (
                f"resume with trainer.train(resume_from_checkpoint={str(saved)!r}) or rerun dataprep train")
            card.artifacts.append(_rel(saved, out))
            card.metrics["train_steps"] = trainer.state.global_step
            card.metrics["epochs_completed"] = trainer.state.epoch
            _record_loss_summary(card)
            card.finish("interrupted", error="interrupted by the user (Ctrl-C); checkpoint saved")
            card.write(out)
        return card

    state = trainer.state
    card.metrics["train_runtime_s"] = train_output.metrics.get("train_runtime")
    card.metrics["train_steps"] = state.global_step
    card.metrics["epochs_completed"] = state.epoch
    card.metrics["stopped_early"] = bool(
        state.epoch is not None and state.epoch + 1e-9 < config.resolved_epochs() and config.max_steps is None)
    runtime = train_output.metrics.get("train_runtime") or 0.0
    if runtime > 0 and state.epoch:
        card.metrics["tokens_per_second"] = card.metrics["train_tokens"] * state.epoch / runtime
    if state.best_model_checkpoint:
        card.metrics["best_checkpoint"] = _rel(Path(state.best_model_checkpoint), out)
    _record_loss_summary(card)

    trainer.remove_callback(EarlyStoppingCallback)  # the comparisons below are not training evaluations
    if val_ds is not None:
        ft_loss = trainer.evaluate()["eval_loss"]
        card.metrics["eval_loss"] = ft_loss
        card.metrics["eval_perplexity"] = _ppl(ft_loss)
        if is_peft:
            with trainer.model.disable_adapter():
                card.metrics["base_eval_loss"] = trainer.evaluate(metric_key_prefix="base")["base_loss"]
        base = card.metrics.get("base_eval_loss")
        card.metrics["base_eval_perplexity"] = _ppl(base)
        if base is not None:
            card.metrics["eval_loss_delta"] = ft_loss - base
    if general_ds is not None:
        after = trainer.evaluate(eval_dataset=general_ds, metric_key_prefix="general")["general_loss"]
        if is_peft:
            with trainer.model.disable_adapter():
                card.metrics["general_loss_before"] = trainer.evaluate(
                    eval_dataset=general_ds, metric_key_prefix="general")["general_loss"]
        before = card.metrics.get("general_loss_before")
        card.metrics["general_loss_after"] = after
        card.metrics["general_perplexity_before"] = _ppl(before)
        card.metrics["general_perplexity_after"] = _ppl(after)
        if before is not None:
            card.metrics["forgetting_delta"] = after - before
            if after > before * 1.05:
                card.warnings.append(
                    f"general held-out loss rose from {before:.4f} to {after:.4f} after training: "
                    "possible catastrophic forgetting (fewer epochs, a lower learning rate or mixing general data in)")

    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    card.artifacts.extend(sorted(p.name for p in out.iterdir()
                                 if p.is_file() and p.name not in ("run_card.json", "RUN_CARD.md")))
    if not config.keep_checkpoints and checkpoints.exists():
        shutil.rmtree(checkpoints, ignore_errors=True)
        card.metrics.pop("best_checkpoint", None)
    card.finish("completed")
    card.write(out)
    return card


def _record_loss_summary(card: RunCard) -> None:
    hist = card.metrics.get("train_loss_history") or []
    if hist:
        card.metrics["first_train_loss"] = hist[0]["loss"]
        card.metrics["last_train_loss"] = hist[-1]["loss"]


def _save_interrupted(trainer: Any, tokenizer: Any, checkpoints: Path) -> Path:
    """A resumable checkpoint (weights, optimizer, scheduler, RNG, trainer state) when the
    trainer's internal saver is usable; the weights and the trainer state otherwise."""
    step = trainer.state.global_step
    try:
        trainer._save_checkpoint(trainer.model, trial=None)  # checkpoint-<step>, resumable
        path = checkpoints / f"checkpoint-{step}"
        if path.exists():
            tokenizer.save_pretrained(str(path))
            return path
    except Exception:  # noqa: BLE001 - fall back to a plain save below
        pass
    path = checkpoints / f"interrupted-step-{step}"
    trainer.save_model(str(path))
    trainer.state.save_to_json(str(path / "trainer_state.json"))
    tokenizer.save_pretrained(str(path))
    return path


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_trained(output_dir: str | Path):
    """(model, tokenizer) from a finished run's output dir: base model + LoRA adapter via PEFT, or
    the full model. For smoke tests and quick manual checks."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(out)
    if (out / "adapter_config.json").exists():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(out)
    else:
        model = AutoModelForCausalLM.from_pretrained(out)
    model.eval()
    return model, tokenizer


def generate_reply(model: Any, tokenizer: Any, messages: list[dict[str, Any]], *, max_new_tokens: int = 16) -> str:
    import torch

    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    enc = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
