"""Hosted fine-tuning on Together AI through the official `together` SDK (3.x).

Flow of `run_together`, the same shape as the openai backend's: upload the training (and
validation) file with `files.upload(check=True)` (the SDK's local check: extension, UTF-8, one JSON
object per line; Together validates the schema on its side after upload, so the gate dataprep ran
before is what catches the rest), create the job with `fine_tuning.create` (`sft`, or `dpo` for
preference files; LoRA unless `--method full`), then follow it: poll `fine_tuning.retrieve`, stream
new `list_events` entries to a callback (stderr by default) and stop on completed / error /
cancelled. Ctrl-C while following detaches (the job keeps running); `dataprep train status|cancel|
list --backend together` reach it later.

Together's job statuses: pending, queued, running, compressing, uploading, cancel_requested,
cancelled, error, completed. Its events carry no id, so "new" means not seen before by
(created_at, type, message).

The API key comes from the env variable named by `together_api_key_env` (TOGETHER_API_KEY); it is
never written to the run card or a config file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import ConfigError, RunCard, TrainConfig
from .data import detect_format
from .follow import poll_until_done
from .openai_backend import EventCallback, FollowEvent, JobResult, print_event

TERMINAL = ("completed", "error", "cancelled")
_CARD_STATUS = {"completed": "completed", "error": "failed", "cancelled": "cancelled", "detached": "detached"}


class TogetherBackendError(RuntimeError):
    """An API call failed (after the SDK's retries), the local file check failed, or the service
    rejected a request."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code: str | None = None
        self.param: str | None = None


def print_together_event(event: FollowEvent, stream=None) -> None:
    import sys

    stream = stream or sys.stderr
    print(f"[together] {event.kind}: {event.message}", file=stream, flush=True)


def make_client(config: TrainConfig | None = None, *, api_key: str | None = None, base_url: str | None = None):
    """A `together.Together` client; the key from `api_key` or the env variable the config names."""
    try:
        import together
    except ImportError:
        from .trl_backend import MissingDependencyError

        raise MissingDependencyError("the together backend needs the together SDK: "
                                     "pip install 'dataprep-chat[train]' (or pip install 'together>=3.1,<4')") from None
    cfg = config or TrainConfig(backend="together")
    key = api_key or os.environ.get(cfg.together_api_key_env)
    if not key:
        raise ConfigError(f"no API key for Together: set {cfg.together_api_key_env} (or name another variable "
                          "with --api-key-env)")
    kwargs: dict[str, Any] = {"api_key": key, "max_retries": cfg.openai_max_retries, "timeout": cfg.openai_timeout_s}
    url = base_url or cfg.together_base_url
    if url:
        kwargs["base_url"] = url
    return together.Together(**kwargs)


def _wrap(exc: Exception, action: str) -> TogetherBackendError:
    import together

    if isinstance(exc, together.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        msg = (err.get("message") if isinstance(err, dict) else None) or getattr(exc, "message", None) or str(exc)
        return TogetherBackendError(f"{action} failed: HTTP {exc.status_code}: {msg}", status_code=exc.status_code)
    if isinstance(exc, together.APITimeoutError):
        return TogetherBackendError(f"{action} failed: the request timed out (after the SDK's retries)")
    if isinstance(exc, together.APIConnectionError):
        return TogetherBackendError(f"{action} failed: could not reach the API (after the SDK's retries): {exc}")
    return TogetherBackendError(f"{action} failed: {type(exc).__name__}: {exc}")


def _errors() -> tuple[type[BaseException], ...]:
    import together

    errs: list[type[BaseException]] = [together.APIError]
    try:  # the SDK's local file check raises its own error type
        from together.lib.types.error import FileTypeError

        errs.append(FileTypeError)
    except ImportError:  # pragma: no cover - layout of other SDK versions
        pass
    return tuple(errs)


def resolve_training_method(config: TrainConfig, train_path: str | Path) -> str:
    fmt = detect_format(train_path)
    if config.openai_method not in ("auto", "supervised", "dpo"):
        raise ConfigError(f"openai_method must be auto, supervised or dpo; got {config.openai_method!r}")
    method = "dpo" if fmt == "openai-dpo" else "sft"
    if config.openai_method != "auto" and {"supervised": "sft", "dpo": "dpo"}[config.openai_method] != method:
        raise ConfigError(f"openai_method={config.openai_method} but {train_path} is a "
                          f"{'preference (DPO)' if method == 'dpo' else 'chat (supervised)'} file")
    return method


def build_job_request(config: TrainConfig, *, method: str, training_file: str,
                      validation_file: str | None = None) -> dict[str, Any]:
    """The keyword arguments of `client.fine_tuning.create` (what a dry run shows)."""
    if not config.model:
        raise ConfigError("no base model: pass --model with a Together fine-tuning model name "
                          "(e.g. meta-llama/Meta-Llama-3.1-8B-Instruct-Reference; see Together's model list)")
    req: dict[str, Any] = {"model": config.model, "training_file": training_file, "training_method": method,
                           "lora": config.method != "full", "random_seed": config.seed}
    if method == "sft":  # the SDK refuses train_on_inputs for DPO
        req["train_on_inputs"] = config.together_train_on_inputs
    if validation_file:
        req["validation_file"] = validation_file
        req["n_evals"] = config.resolved_epochs()  # one evaluation per epoch, as the local backend does
    if config.epochs is not None:
        req["n_epochs"] = config.epochs
    if config.learning_rate is not None:
        req["learning_rate"] = config.learning_rate
    if config.batch_size is not None:
        req["batch_size"] = config.batch_size
    if config.method != "full":
        req.update(lora_r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout)
        if isinstance(config.lora_target_modules, str):
            req["lora_trainable_modules"] = config.lora_target_modules
        else:
            req["lora_trainable_modules"] = ",".join(config.lora_target_modules)
    if method == "dpo" and config.dpo_beta is not None:
        req["dpo_beta"] = config.dpo_beta
    if config.suffix:
        req["suffix"] = config.suffix
    return req


def _job_result(job: Any) -> JobResult:
    status = getattr(job, "status", None)
    status = getattr(status, "value", status)
    return JobResult(job_id=job.id, status=str(status), model=getattr(job, "model", None),
                     fine_tuned_model=getattr(job, "x_model_output_name", None),
                     trained_tokens=getattr(job, "token_count", None),
                     training_file=getattr(job, "training_file", None),
                     validation_file=getattr(job, "validation_file", None) or None)


class TogetherFineTuner:
    """Thin, testable layer over `client.files` and `client.fine_tuning` (Together SDK 3.x)."""

    def __init__(self, client: Any, *, poll_interval_s: float = 10.0, on_event: EventCallback | None = print_event,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.poll_interval_s = poll_interval_s
        self.on_event = on_event
        self.sleep = sleep

    def _emit(self, kind: str, message: str, job_id: str | None = None, data: dict[str, Any] | None = None) -> None:
        if self.on_event is not None:
            self.on_event(FollowEvent(kind=kind, message=message, job_id=job_id, data=data or {}))

    def upload(self, path: str | Path, *, role: str = "training") -> Any:
        p = Path(path)
        try:
            f = self.client.files.upload(file=p, purpose="fine-tune", check=True)
        except _errors() as exc:
            raise _wrap(exc, f"uploading the {role} file {p}") from None
        try:  # the SDK's upload() result drops the service's validation report: read the file back
            f = self.client.files.retrieve(f.id)
        except _errors() as exc:
            raise _wrap(exc, f"checking the uploaded {role} file {f.id}") from None
        status = getattr(f, "processing_status", None)
        report = getattr(f, "validation_report", None)
        if status in ("FAILED", "INVALID_FORMAT") or (report is not None and getattr(report, "valid", True) is False):
            why = getattr(report, "error", None) or status
            raise TogetherBackendError(f"Together rejected the {role} file {p} ({f.id}): {why}")
        self._emit("upload", f"{role} file {p.name} uploaded as {f.id} ({f.bytes} bytes)", data={"file_id": f.id})
        return f

    def create_job(self, request: dict[str, Any]) -> JobResult:
        try:
            job = self.client.fine_tuning.create(**request)
        except _errors() as exc:
            raise _wrap(exc, "creating the fine-tuning job") from None
        except ValueError as exc:  # the SDK checks hyperparameters against the model's limits locally
            raise TogetherBackendError(f"creating the fine-tuning job failed: {exc}") from None
        result = _job_result(job)
        self._emit("job", f"created {result.job_id} on {result.model} (status {result.status})", result.job_id)
        return result

    def status(self, job_id: str) -> JobResult:
        try:
            return _job_result(self.client.fine_tuning.retrieve(job_id))
        except _errors() as exc:
            raise _wrap(exc, f"retrieving {job_id}") from None

    def cancel(self, job_id: str) -> JobResult:
        try:
            result = _job_result(self.client.fine_tuning.cancel(job_id))
        except _errors() as exc:
            raise _wrap(exc, f"cancelling {job_id}") from None
        self._emit("status", f"{job_id}: cancel requested, status {result.status}", job_id)
        return result

    def list_jobs(self, *, limit: int = 20) -> list[JobResult]:
        try:
            page = self.client.fine_tuning.list()
        except _errors() as exc:
            raise _wrap(exc, "listing fine-tuning jobs") from None
        jobs = list(getattr(page, "data", None) or [])
        jobs.sort(key=lambda j: str(getattr(j, "created_at", "") or ""), reverse=True)
        return [_job_result(j) for j in jobs[:limit]]

    def new_events(self, job_id: str, seen: set[tuple]) -> list[dict[str, Any]]:
        """Events not seen yet, in the service's order (oldest first)."""
        resp = self.client.fine_tuning.list_events(job_id)
        out = []
        for ev in getattr(resp, "data", None) or []:
            etype = getattr(ev, "type", None)
            key = (str(getattr(ev, "created_at", "")), str(etype), getattr(ev, "message", ""))
            if key in seen:
                continue
            seen.add(key)
            out.append({"created_at": str(getattr(ev, "created_at", "")), "type": etype,
                        "level": getattr(ev, "level", None) or "info", "message": getattr(ev, "message", ""),
                        "step": getattr(ev, "step", None), "total_steps": getattr(ev, "total_steps", None)})
        return out

    def follow(self, job_id: str, *, timeout_s: float | None = None) -> JobResult:
        """Poll until the job ends, streaming status changes and new events. Ctrl-C or `timeout_s`
        detach (status "detached"); the job is not cancelled."""
        seen: set[tuple] = set()
        events: list[dict[str, Any]] = []

        def poll_events() -> None:
            for ev in self.new_events(job_id, seen):
                events.append(ev)
                self._emit("event", f"{ev['level']}: {ev['message']}", job_id, ev)

        result = poll_until_done(self, job_id, terminal=TERMINAL, poll_extras=poll_events, read_errors=_errors(),
                                 wrap_error=_wrap, backend_flag=" --backend together", timeout_s=timeout_s,
                                 detached=lambda: JobResult(job_id=job_id, status="detached"))
        result.events = events
        if result.status == "error":
            errs = [e["message"] for e in events if e.get("level") == "error" or e.get("type") == "job_error"]
            result.error = {"code": "job_error", "message": errs[-1] if errs else "the job ended in error",
                            "param": None}
            self._emit("result", f"{job_id} failed: {result.error['message']}", job_id, result.error)
        elif result.status == "completed":
            self._emit("result", f"{job_id} completed: {result.fine_tuned_model}", job_id)
        elif result.status == "cancelled":
            self._emit("result", f"{job_id} was cancelled", job_id)
        return result


def run_together(
    train_path: str | Path,
    config: TrainConfig,
    *,
    card: RunCard,
    val_path: str | Path | None = None,
    on_event: EventCallback | None = print_together_event,
    client: Any = None,
    follow: bool = True,
) -> tuple[RunCard, JobResult | None]:
    """Upload, create, follow. Returns (run card, job result); the card is written to
    config.output_dir. A rejected file or a failed API call ends with status "failed" and the
    service's message in `card.error` (no exception), so the caller can print and exit 1."""
    method = resolve_training_method(config, train_path)
    client = client or make_client(config)
    card.details.update({"method": method, "provider": "together",
                         "base_url": str(getattr(client, "base_url", config.together_base_url))})
    tuner = TogetherFineTuner(client, poll_interval_s=config.poll_interval_s, on_event=on_event)
    result: JobResult | None = None
    try:
        train_file = tuner.upload(train_path, role="training")
        card.details["training_file_id"] = train_file.id
        val_id = None
        if val_path is not None:
            val_id = tuner.upload(val_path, role="validation").id
            card.details["validation_file_id"] = val_id
        request = build_job_request(config, method=method, training_file=train_file.id, validation_file=val_id)
        card.details["request"] = request
        result = tuner.create_job(request)
        card.details["job_id"] = result.job_id
        card.write(config.output_dir)
        if follow:
            result = tuner.follow(result.job_id, timeout_s=config.follow_timeout_s)
    except TogetherBackendError as exc:
        card.finish("failed", error=str(exc))
        card.write(config.output_dir)
        return card, result
    card.details["job_status"] = result.status
    if result.fine_tuned_model:
        card.details["fine_tuned_model"] = result.fine_tuned_model
    if result.error:
        card.details["job_error"] = result.error
    if result.trained_tokens is not None:
        card.metrics["trained_tokens"] = result.trained_tokens
    if not follow:
        card.status = "running"
        card.write(config.output_dir)
        return card, result
    card.finish(_CARD_STATUS.get(result.status, result.status), error=result.error_message)
    card.write(config.output_dir)
    return card, result
