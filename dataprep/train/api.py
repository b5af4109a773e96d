"""`launch`: the one entry point for every backend, after the gate (`dataprep.train`, in job.py,
runs the gate once and then `launch_gated`; the CLI only calls `dataprep.train`).

    result = launch("train.jsonl", TrainConfig(backend="trl", model="tiny-random"),
                    val_path="val.jsonl", gate_verdict="pass")
    print(result.describe()); sys.exit(result.exit_code)

The gate itself runs in the caller (`dataprep.train` runs it first); its verdict is passed
in and recorded in the run card. A "fail" verdict refuses the launch (GateRefused, before any upload
or model load) unless `force=True`, which is recorded too.

`dry_run=True` returns the launch plan (data hashes, resolved hyperparameters, the exact trainer
arguments / job request / generated config files and command) and touches nothing: no file is
written, no model loaded, no request sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TINY_MODEL, ConfigError, RunCard, TrainConfig, describe_file
from .data import DataError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class GateRefused(RuntimeError):
    """The gate failed and force was not given: nothing was launched."""


@dataclass
class RunResult:
    backend: str
    #: dry-run | completed | interrupted | failed | cancelled | detached | running | written
    status: str
    output_dir: Path
    plan: dict[str, Any] = field(default_factory=dict)
    run_card: RunCard | None = None
    command: list[str] | None = None
    job: Any = None  # openai_backend.JobResult for the openai backend
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("dry-run", "completed", "written", "running", "detached")

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_OK if self.ok else EXIT_FAILED

    def describe(self) -> str:
        """Human summary (for a dry run: the short launch plan; the whole plan is ``self.plan``)."""
        lines = []
        if self.status == "dry-run":
            lines.append(f"DRY RUN: nothing was launched, uploaded or written. Backend {self.backend}.")
            lines.extend(plan_lines(self.plan))
        else:
            lines.append(f"{self.backend}: {self.status}" + (f" — {self.error}" if self.error else ""))
            card = self.run_card
            if card is not None:
                m = card.metrics
                for key in ("first_train_loss", "last_train_loss", "base_eval_loss", "eval_loss",
                            "base_eval_perplexity", "eval_perplexity", "general_loss_before", "general_loss_after",
                            "train_loss", "valid_loss", "trained_tokens", "tokens_per_second"):
                    if m.get(key) is not None:
                        v = m[key]
                        lines.append(f"  {key}: {v:.4f}" if isinstance(v, float) else f"  {key}: {v}")
                for key in ("job_id", "fine_tuned_model"):
                    if card.details.get(key):
                        lines.append(f"  {key}: {card.details[key]}")
            if self.command:
                import shlex

                lines.append(f"  launch with: {shlex.join(self.command)}")
            lines.append(f"  output: {self.output_dir}")
        if self.status != "dry-run":  # a dry run's warnings are in plan_lines, wrapped
            for w in self.warnings:
                lines.append(f"WARNING: {w}")
        return "\n".join(lines)


LABEL = 12  # width of the label column of a dry run's plan


def labelled(label: str, text: str, width: int = 80) -> list[str]:
    """``label`` then ``text`` wrapped under it to ``width`` columns (long paths stay whole)."""
    import textwrap

    return textwrap.wrap(text, width, initial_indent=label.ljust(LABEL), subsequent_indent=" " * LABEL,
                         break_long_words=False, break_on_hyphens=False) or [label]


def _file_line(path: str, text: str | None = None, info: dict[str, Any] | None = None) -> str:
    if text is not None:
        n_bytes, n_lines = len(text.encode("utf-8")), text.count("\n") + (not text.endswith("\n"))
    elif info:
        n_bytes, n_lines = info.get("bytes"), info.get("examples", info.get("lines"))
    else:
        return path
    parts = [f"{n_lines:,} lines" if isinstance(n_lines, int) else None,
             f"{n_bytes:,} bytes" if isinstance(n_bytes, int) else None]
    return f"{path} ({', '.join(x for x in parts if x)})"


def plan_lines(plan: dict[str, Any], *, extra: list[str] = (), skip_warnings: tuple[str, ...] = ()) -> list[str]:
    """A dry run's plan for a person: what would run, the files it reads and would write (paths,
    lines, bytes), the settings that apply to this backend, ``extra`` lines (the caller's split and
    estimate), and its warnings; under 60 lines
    whatever the data size (the generated files themselves stay in ``plan["files"]``)."""
    import shlex

    out: list[str] = []
    backend = plan.get("backend")
    out += labelled("model", f"{plan.get('model')}" + (f" ({plan['method']})" if backend in
                                                        ("trl", "axolotl", "llamafactory") else ""))
    data = plan.get("data") or {}
    for key, label in (("train", "train data"), ("validation", "validation"), ("general_eval", "general eval")):
        info = data.get(key)
        if info:
            out += labelled(label, _file_line(str(info.get("path")), info=info))
    out_dir = plan.get("output_dir")
    if backend in ("openai", "together"):
        out += labelled("would send", f"upload {', '.join(plan.get('uploads') or [])}, then create a "
                        f"fine-tuning job at {plan.get('endpoint')} with:")
        body = json.dumps(plan.get("request") or {}, indent=2, default=str, ensure_ascii=False)
        out += [" " * LABEL + line for line in body.splitlines()]
        out += labelled("would write", f"{out_dir}/run_card.json and RUN_CARD.md (job id, status, metrics)")
    elif backend == "trl":
        out += labelled("would run", "TRL's SFTTrainer in this process")
        weights = "model" if plan.get("method") == "full" else "LoRA adapter"
        out += labelled("would write", f"{out_dir}/ (the trained {weights} and tokenizer), "
                        f"{out_dir}/checkpoints/, {out_dir}/run_card.json and RUN_CARD.md")
    else:
        if plan.get("command"):
            out += labelled("would run", shlex.join(plan["command"]))
        files = plan.get("files") or {}
        for i, (path, text) in enumerate(files.items()):
            out += labelled("would write" if i == 0 else "", _file_line(path, text))
        out += labelled("" if files else "would write", f"{out_dir}/run_card.json and RUN_CARD.md")
    settings = plan.get("settings") or {}
    if settings:
        out += labelled("settings", ", ".join(f"{k} {v}" for k, v in settings.items()))
    if plan.get("loss"):
        out += labelled("loss", plan["loss"])
    out += extra
    for w in plan.get("warnings") or []:
        if not any(w.startswith(s) for s in skip_warnings):
            out += labelled("WARNING", w)
    if plan.get("gate_verdict") is not None:
        out += labelled("gate", f"{plan['gate_verdict']}" + (" (forced: recorded in the run card)"
                                                             if plan.get("forced") else ""))
    return out


def format_plan(plan: dict[str, Any]) -> str:
    """The whole plan as JSON, then each generated file (masked): for a file or a log, not a
    terminal (``plan_lines`` is the terminal's short form)."""
    from dataprep.mask import redact

    out = []
    files = plan.get("files") or {}
    body = {k: v for k, v in plan.items() if k != "files"}
    out.append(json.dumps(body, indent=2, default=str, ensure_ascii=False))
    for path, text in files.items():
        out.append(f"--- {path} ---")
        # the files a run would write hold the user's data: masked wherever they are shown
        out.append(redact(text.rstrip("\n")))
    if plan.get("command"):
        import shlex

        out.append(f"command: {shlex.join(plan['command'])}")
    return "\n".join(out)


def _settings(config: TrainConfig, plan: dict[str, Any]) -> dict[str, Any]:
    """The settings that apply to this backend, resolved (the defaults it would use), short."""
    if config.backend in ("openai", "together"):
        return {}  # the request shown is exactly what the service receives
    if config.backend == "trl":
        sft = plan.get("sft_config") or {}
        s = {"epochs": sft.get("num_train_epochs"), "learning rate": sft.get("learning_rate"),
             "batch": sft.get("per_device_train_batch_size"),
             "grad accumulation": sft.get("gradient_accumulation_steps"), "max length": sft.get("max_length"),
             "packing": sft.get("packing"), "scheduler": sft.get("lr_scheduler_type"), "seed": sft.get("seed")}
        if config.max_steps is not None:
            s["max steps"] = config.max_steps
    else:
        s = {"epochs": config.resolved_epochs(), "learning rate": config.resolved_learning_rate(),
             "batch": config.resolved_batch_size(), "grad accumulation": config.grad_accumulation,
             "max length": config.max_seq_length, "packing": config.packing, "scheduler": config.lr_scheduler,
             "seed": config.seed}
    if config.method != "full":
        s.update({"lora r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout,
                  "targets": config.lora_target_modules})
    return {k: ("on" if v is True else "off" if v is False else f"{v:,}" if isinstance(v, int) else v)
            for k, v in s.items()
            if v is not None}


def _check_inputs(train_path: str | Path, val_path: str | Path | None, config: TrainConfig) -> None:
    for label, path in (("training file", train_path), ("validation file", val_path),
                        ("general eval file", config.general_eval)):
        if path is not None and not Path(path).is_file():
            raise DataError(f"{label} not found: {path}")
    if not config.model:
        hint = {"openai": "e.g. azure/... on --azure-endpoint, or a model your compatible server trains",
                "together": "a Together fine-tuning model name"}.get(
                    config.backend, f"a Hugging Face model id or dir, or {TINY_MODEL}")
        raise ConfigError(f"no base model: pass --model ({hint})")
    if config.backend == "trl" and config.method == "qlora":
        from .trl_backend import check_method_supported

        check_method_supported(config)


def model_lifecycle(config: TrainConfig, today=None) -> str | None:
    """For a hosted backend: refuse a model rules/models.toml marks retired (or past its no-new-jobs
    day) when the job would go to the service that retired it (ConfigError, exit 2); return the
    retiring notice with its dates otherwise. Models not in the table (custom or fine-tuned ids
    the table cannot know) pass: the service decides."""
    if config.backend not in ("openai", "together") or not config.model:
        return None
    from dataprep.tokens.models import UnknownModelError, get_model

    try:
        spec = get_model(config.model)
    except UnknownModelError:
        return None
    own_service = (config.backend == "together" and spec.provider == "together") or (
        config.backend == "openai" and spec.provider == "openai" and not config.azure_endpoint
        and _is_openai_hosted(config))
    if not own_service:  # Azure and compatible servers keep their own (unverified) dates: no OpenAI dates
        return None
    notice = spec.lifecycle_notice(today)
    if not spec.accepts_new_jobs(today):
        stop = spec.no_new_jobs_from or spec.provider_spec.new_jobs_stop
        why = notice or (f"{spec.provider_spec.name} takes no new fine-tuning jobs from "
                         f"{stop.isoformat() if stop else 'now'}.")
        raise ConfigError(f"{why} Nothing was uploaded.")
    return notice


def _is_openai_hosted(config: TrainConfig) -> bool:
    from .openai_backend import is_openai_hosted

    return is_openai_hosted(config.openai_base_url, config.azure_endpoint)


def plan_launch(train_path: str | Path, config: TrainConfig, *, val_path: str | Path | None = None) -> dict[str, Any]:
    """What `launch` would do, without side effects."""
    plan: dict[str, Any] = {
        "backend": config.backend,
        "model": config.model,
        "method": config.method,
        "output_dir": str(config.output_dir),
        "data": {"train": describe_file(train_path), "validation": describe_file(val_path),
                 "general_eval": describe_file(config.general_eval)},
        "hyperparameters": config.hyperparameters(),
    }
    warnings: list[str] = []
    life = model_lifecycle(config)
    if life:
        warnings.append(life)
    if config.backend == "trl":
        from .trl_backend import sft_arguments

        plan["sft_config"] = sft_arguments(config, has_eval=val_path is not None,
                                           checkpoints_dir=Path(config.output_dir) / "checkpoints")
        if config.method != "full":
            plan["lora"] = {"r": config.lora_r, "lora_alpha": config.lora_alpha, "lora_dropout": config.lora_dropout,
                            "target_modules": config.lora_target_modules, "task_type": "CAUSAL_LM"}
        if config.model == TINY_MODEL:
            plan["note"] = "tiny-random: a tiny random Llama and a BPE tokenizer are built from the training texts"
        plan["loss"] = "assistant turns with weight != 0 only (weight-0 turns, system/user/tool tokens masked)"
        if val_path is None:
            warnings.append("no validation file: no per-epoch evaluation, early stopping or base-vs-fine-tuned "
                            "comparison")
    elif config.backend == "openai":
        from .openai_backend import (
            build_job_request,
            is_openai_hosted,
            resolve_method,
            service_notice,
        )

        method = resolve_method(config, train_path)
        plan["request"] = build_job_request(
            config, method=method, training_file=f"<file id of {Path(train_path).name} after upload>",
            validation_file=f"<file id of {Path(val_path).name} after upload>" if val_path else None)
        plan["uploads"] = [str(train_path)] + ([str(val_path)] if val_path else [])
        hosted = is_openai_hosted(config.openai_base_url, config.azure_endpoint)
        plan["endpoint"] = (config.azure_endpoint or config.openai_base_url or "https://api.openai.com/v1")
        plan["provider"] = "azure-openai" if config.azure_endpoint else ("openai" if hosted else "openai-compatible")
        plan["max_retries"] = config.openai_max_retries
        if hosted:
            warnings.append(service_notice())
        if config.general_eval:
            warnings.append("general_eval is only used by the trl backend")
    elif config.backend == "together":
        from .together_backend import build_job_request as together_request
        from .together_backend import resolve_training_method

        method = resolve_training_method(config, train_path)
        plan["request"] = together_request(
            config, method=method, training_file=f"<file id of {Path(train_path).name} after upload>",
            validation_file=f"<file id of {Path(val_path).name} after upload>" if val_path else None)
        plan["uploads"] = [str(train_path)] + ([str(val_path)] if val_path else [])
        plan["endpoint"] = config.together_base_url or "https://api.together.ai (the SDK's default)"
        plan["provider"] = "together"
        if config.general_eval:
            warnings.append("general_eval is only used by the trl backend")
    else:
        from .configs import export

        result = export(config.backend, train_path, config, val_path=val_path)
        plan["files"] = result.files
        plan["command"] = result.command
        warnings.extend(result.warnings)
        if config.general_eval:
            warnings.append("general_eval is only used by the trl backend")
    plan["settings"] = _settings(config, plan)
    plan["warnings"] = warnings
    return plan


def launch(
    train_path: str | Path,
    config: TrainConfig,
    *,
    val_path: str | Path | None = None,
    gate_verdict: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    on_event: Callable[[Any], None] | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    client: Any = None,
    callbacks: list[Any] | None = None,
    follow: bool = True,
) -> RunResult:
    """Launch `config.backend` on the (already gated) data.

    - `gate_verdict`: "pass" | "warn" | "fail" | None; "fail" raises GateRefused unless `force`.
    - `on_event`: openai backend progress (FollowEvent); default prints to stderr.
    - `on_log`: trl trainer logs (dicts); the trainer's own progress bar shows unless config.progress
      is False.
    - `client`: an `openai.OpenAI`/`AzureOpenAI` client to use instead of one built from config.
    - `callbacks`: extra transformers TrainerCallbacks (trl backend).
    - `follow`: openai backend: follow the job to its end (default) or return right after creating
      it (status "running"; `follow_job`/`job_status` later).
    Raises ConfigError / DataError / MissingDependencyError / TrainBackendError for problems found
    before launching (usage errors: exit code 2)."""
    if gate_verdict not in (None, "pass", "warn", "fail"):
        raise ConfigError(f"gate_verdict must be pass, warn, fail or None; got {gate_verdict!r}")
    if gate_verdict == "fail" and not force:
        raise GateRefused("the gate failed; nothing launched (use --force to launch anyway, which is recorded)")
    return launch_gated(train_path, config, val_path=val_path, gate_verdict=gate_verdict, force=force,
                        dry_run=dry_run, on_event=on_event, on_log=on_log, client=client, callbacks=callbacks,
                        follow=follow)


def launch_gated(
    train_path: str | Path,
    config: TrainConfig,
    *,
    val_path: str | Path | None = None,
    gate_verdict: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    on_event: Callable[[Any], None] | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    client: Any = None,
    callbacks: list[Any] | None = None,
    follow: bool = True,
) -> RunResult:
    """`launch` for a caller that has checked the gate itself (`dataprep.train` does, once, and
    stops before any estimate or split on a failed gate); the verdict and `force` are recorded."""
    _check_inputs(train_path, val_path, config)
    life = model_lifecycle(config)  # a retired model for a hosted job: ConfigError before any upload
    out = Path(config.output_dir)
    if dry_run:
        plan = plan_launch(train_path, config, val_path=val_path)
        plan["gate_verdict"] = gate_verdict
        plan["forced"] = bool(force)
        return RunResult(config.backend, "dry-run", out, plan=plan, command=plan.get("command"),
                         warnings=list(plan.get("warnings", [])))

    card = RunCard(
        backend=config.backend, base_model=config.model, status="running",
        data={"train": describe_file(train_path), "validation": describe_file(val_path),
              "general_eval": describe_file(config.general_eval)},
        gate_verdict=gate_verdict, forced=bool(force), hyperparameters=config.hyperparameters(),
        output_dir=str(out),
    )
    card.details["gate_overridden"] = bool(force and gate_verdict == "fail")
    if life:
        card.warnings.append(life)

    if config.backend == "trl":
        from .trl_backend import run_trl

        try:
            card = run_trl(train_path, config, card=card, val_path=val_path, on_log=on_log, callbacks=callbacks)
        except KeyboardInterrupt:  # before training started (data preparation, model loading)
            return _interrupted_early(card, out, "trl")
        except Exception as exc:
            if out.exists():
                card.finish("failed", error=f"{type(exc).__name__}: {exc}")
                card.write(out)
            raise
        return RunResult("trl", card.status, out, run_card=card, error=card.error if card.status != "completed"
                         else None, warnings=list(card.warnings))

    if config.backend == "openai":
        from .openai_backend import print_event, run_openai

        try:
            card, job = run_openai(train_path, config, card=card, val_path=val_path,
                                   on_event=on_event if on_event is not None else print_event, client=client,
                                   follow=follow)
        except KeyboardInterrupt:  # during upload or job creation (following a job detaches instead)
            return _interrupted_early(card, out, "openai")
        return RunResult("openai", card.status, out, run_card=card, job=job, error=card.error,
                         warnings=list(card.warnings))

    if config.backend == "together":
        from .together_backend import print_together_event, run_together

        try:
            card, job = run_together(train_path, config, card=card, val_path=val_path,
                                     on_event=on_event if on_event is not None else print_together_event,
                                     client=client, follow=follow)
        except KeyboardInterrupt:  # during upload or job creation (following a job detaches instead)
            return _interrupted_early(card, out, "together")
        return RunResult("together", card.status, out, run_card=card, job=job, error=card.error,
                         warnings=list(card.warnings))

    from .configs import export

    result = export(config.backend, train_path, config, val_path=val_path)
    result.write()
    card.details["command"] = result.command
    card.details["command_line"] = result.command_line
    card.details.update({k: v for k, v in result.details.items() if k != "config"})
    card.artifacts.extend(_rel(Path(p), out) for p in result.files)
    card.warnings.extend(result.warnings)
    card.finish("written")
    card.write(out)
    return RunResult(config.backend, "written", out, run_card=card, command=result.command,
                     warnings=list(result.warnings))


def _interrupted_early(card: RunCard, out: Path, backend: str) -> RunResult:
    card.finish("interrupted", error="interrupted (Ctrl-C) before training started")
    if out.exists():
        card.write(out)
    return RunResult(backend, "interrupted", out, run_card=card, error=card.error, warnings=list(card.warnings))


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- job management (hosted backends)


def _tuner(config: TrainConfig, client: Any = None, on_event=None):
    if config.backend == "together":
        from .together_backend import TogetherFineTuner
        from .together_backend import make_client as together_client

        return TogetherFineTuner(client or together_client(config), poll_interval_s=config.poll_interval_s,
                                 on_event=on_event)
    from .openai_backend import OpenAIFineTuner, make_client

    return OpenAIFineTuner(client or make_client(config), poll_interval_s=config.poll_interval_s, on_event=on_event)


def job_status(job_id: str, config: TrainConfig | None = None, *, client: Any = None):
    """`dataprep train status JOB`: a JobResult snapshot (with the latest events)."""
    config = config or TrainConfig(backend="openai")
    tuner = _tuner(config, client)
    result = tuner.status(job_id)
    try:
        result.events = tuner.new_events(job_id, set())
        if hasattr(tuner, "new_checkpoints"):  # Together reports checkpoints as events
            result.checkpoints = tuner.new_checkpoints(job_id, set())
    except Exception:  # noqa: BLE001 - status is what matters; events are extra
        pass
    return result


def cancel_job(job_id: str, config: TrainConfig | None = None, *, client: Any = None):
    """`dataprep train cancel JOB`."""
    return _tuner(config or TrainConfig(backend="openai"), client).cancel(job_id)


def list_jobs(config: TrainConfig | None = None, *, limit: int = 20, client: Any = None):
    """`dataprep train list`: most recent jobs first."""
    return _tuner(config or TrainConfig(backend="openai"), client).list_jobs(limit=limit)


def follow_job(job_id: str, config: TrainConfig | None = None, *, client: Any = None, on_event=None):
    """Re-attach to a running job (after a detach)."""
    from .openai_backend import print_event

    config = config or TrainConfig(backend="openai")
    if on_event is None and config.backend == "together":
        from .together_backend import print_together_event as print_event
    return _tuner(config, client, on_event or print_event).follow(job_id, timeout_s=config.follow_timeout_s)


def event_printer(backend: str) -> Callable[[Any], None]:
    """The stderr printer of a hosted backend's follow events (what `dataprep train` shows)."""
    if backend == "together":
        from .together_backend import print_together_event

        return print_together_event
    from .openai_backend import print_event

    return print_event
