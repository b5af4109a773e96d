"""Hosted fine-tuning through the official `openai` SDK: OpenAI, Azure OpenAI, and any
OpenAI-compatible fine-tuning API (`base_url`).

Flow of `run_openai`: upload the training (and validation) file with purpose "fine-tune", wait for
the service to process them (a file whose status becomes "error" stops the run with the service's
`status_details`), create the job with `method` = supervised (chat files) or dpo (preference files)
and its hyperparameters, then follow it: poll the job, stream new events and checkpoint metrics to
a callback (stderr by default) and stop on succeeded / failed / cancelled with a `JobResult`.
Ctrl-C while following detaches (the job keeps running; `status`/`cancel` reach it later).

Retries: the SDK retries connection errors, 408, 409, 429 and 5xx with exponential backoff (and
honours `retry-after`); `TrainConfig.openai_max_retries` sets how many times.

OpenAI announced the end of new self-serve fine-tuning jobs (the date is read from rules/models.toml); when
the target is OpenAI's own API, every launch prints that notice. Azure OpenAI and OpenAI-compatible
servers are not affected, which is why this backend never hard-codes OpenAI.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import ConfigError, RunCard, TrainConfig
from .data import detect_format
from .follow import poll_until_done

OPENAI_API_HOSTS = ("api.openai.com",)
DEFAULT_AZURE_API_VERSION = "2024-10-21"
TERMINAL = ("succeeded", "failed", "cancelled")


class OpenAIBackendError(RuntimeError):
    """An API call failed (after the SDK's retries) or the service rejected a request."""

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.param = param


class FileValidationError(OpenAIBackendError):
    """The service rejected an uploaded file (file status "error")."""


# ====================================================================== events / results


@dataclass
class FollowEvent:
    #: "notice" | "upload" | "job" | "status" | "event" | "metrics" | "checkpoint" | "result"
    kind: str
    message: str
    job_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[FollowEvent], None]


def print_event(event: FollowEvent, stream=None) -> None:
    """The default event printer (stderr): one line per event."""
    stream = stream or sys.stderr
    prefix = {"notice": "WARNING", "status": "status", "checkpoint": "checkpoint", "metrics": "metrics",
              "result": "result", "upload": "upload", "job": "job", "event": "event"}.get(event.kind, event.kind)
    print(f"[openai] {prefix}: {event.message}", file=stream, flush=True)


@dataclass
class JobResult:
    job_id: str
    status: str  # validating_files | queued | running | succeeded | failed | cancelled | detached
    model: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: dict[str, Any] | None = None
    training_file: str | None = None
    validation_file: str | None = None
    result_files: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    method: str | None = None
    created_at: int | None = None
    finished_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def error_message(self) -> str | None:
        if not self.error:
            return None
        parts = [self.error.get("message") or "job failed"]
        if self.error.get("code"):
            parts.append(f"code={self.error['code']}")
        if self.error.get("param"):
            parts.append(f"param={self.error['param']}")
        return " ".join(parts)

    def last_metrics(self) -> dict[str, Any]:
        """Metrics of the latest checkpoint (or latest metrics event)."""
        if self.checkpoints:
            latest = max(self.checkpoints, key=lambda c: c.get("step_number") or 0)
            return {k: v for k, v in (latest.get("metrics") or {}).items() if v is not None}
        for ev in reversed(self.events):
            if ev.get("type") == "metrics" and ev.get("data"):
                return dict(ev["data"])
        return {}

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_job(cls, job: Any) -> JobResult:
        err = getattr(job, "error", None)
        error = None
        if err is not None and (getattr(err, "message", None) or getattr(err, "code", None)):
            error = {"code": getattr(err, "code", None), "message": getattr(err, "message", None),
                     "param": getattr(err, "param", None)}
        method = getattr(job, "method", None)
        return cls(
            job_id=job.id, status=job.status, model=getattr(job, "model", None),
            fine_tuned_model=getattr(job, "fine_tuned_model", None),
            trained_tokens=getattr(job, "trained_tokens", None), error=error,
            training_file=getattr(job, "training_file", None), validation_file=getattr(job, "validation_file", None),
            result_files=list(getattr(job, "result_files", None) or []),
            method=getattr(method, "type", None) if method is not None else None,
            created_at=getattr(job, "created_at", None), finished_at=getattr(job, "finished_at", None),
        )


# ====================================================================== service notice (rules/)


def _rules_dirs() -> list[Path]:
    dirs = []
    try:
        from importlib.resources import files

        dirs.append(Path(str(files("dataprep.rules"))))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    dirs.append(Path(__file__).resolve().parents[2] / "rules")
    seen, out = set(), []
    for d in dirs:
        if d not in seen and d.is_dir():
            seen.add(d)
            out.append(d)
    return out


def _find_openai_end(data: Any, under_openai: bool = False) -> dict[str, Any] | None:
    """Search a parsed TOML table for OpenAI's new-jobs end date (`new_jobs_stop`, `new_jobs_end`,
    ...) in a table that is OpenAI's: `[[provider]] id = "openai"` (rules/models.toml),
    `[providers.openai]` / `provider = "openai"` (rules/providers.toml)."""
    if isinstance(data, dict):
        is_openai = under_openai or str(data.get("provider", "")).lower() == "openai" or (
            str(data.get("id", "")).lower() == "openai")
        if is_openai:
            for key in ("new_jobs_stop", "new_jobs_end", "fine_tuning_new_jobs_end", "new_fine_tuning_jobs_end"):
                if key in data:
                    return {**{k: v for k, v in data.items() if not isinstance(v, (dict, list))},
                            "new_jobs_end": data[key]}
        for k, v in data.items():
            found = _find_openai_end(v, is_openai or str(k).lower() == "openai")
            if found:
                return found
    elif isinstance(data, list):
        for v in data:
            found = _find_openai_end(v, under_openai)
            if found:
                return found
    return None


def openai_service_status() -> dict[str, Any] | None:
    """OpenAI's fine-tuning wind-down facts from the rules tables (rules/models.toml, the model
    table; a rules/providers.toml with a `[providers.openai]` table is read too if present):
    `{new_jobs_end: date, source, as_of, file, ...}`; None when no table has them."""
    for d in _rules_dirs():
        for name in ("models.toml", "providers.toml"):
            p = d / name
            if not p.is_file():
                continue
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError):
                continue
            found = _find_openai_end(data)
            if found:
                end = found["new_jobs_end"]
                if isinstance(end, str):
                    end = _dt.date.fromisoformat(end)
                elif isinstance(end, _dt.datetime):
                    end = end.date()
                return {**found, "new_jobs_end": end, "file": str(p)}
    return None


def service_notice(today: _dt.date | None = None) -> str:
    status = openai_service_status()
    tail = (" Existing fine-tuned models keep serving until their base model retires. Azure OpenAI "
            "(--azure-endpoint) and OpenAI-compatible servers (--base-url) keep working with this backend, "
            "as do the local trl backend and the axolotl/llamafactory exports.")
    if status is None:  # the rules table is missing: still warn, without a date we cannot source
        return "OpenAI announced that self-serve fine-tuning is winding down (new jobs will stop)." + tail
    end = status["new_jobs_end"]
    today = today or _dt.date.today()
    src = f" (source: {status.get('source')}, as of {status.get('as_of')})" if status.get("source") else ""
    if today >= end:
        head = f"OpenAI stopped accepting new self-serve fine-tuning jobs on {end.isoformat()}; this job will " \
               "likely be refused."
    else:
        head = (f"OpenAI announced the end of new self-serve fine-tuning jobs on {end.isoformat()} "
                f"({(end - today).days} days from now).")
    return head + tail + src


def is_openai_hosted(base_url: str | None, azure_endpoint: str | None = None) -> bool:
    if azure_endpoint:
        return False
    if not base_url:
        base_url = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    host = (urlsplit(base_url).hostname or "").lower()
    return host in OPENAI_API_HOSTS


# ====================================================================== client


def make_client(
    config: TrainConfig | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    azure_endpoint: str | None = None,
    api_version: str | None = None,
    max_retries: int | None = None,
    timeout: float | None = None,
):
    """An `OpenAI` or `AzureOpenAI` client. Explicit arguments win over the config. The key comes
    from `api_key`, else the env variable named by `config.openai_api_key_env` (for Azure also
    AZURE_OPENAI_API_KEY)."""
    try:
        import openai
    except ImportError:
        from .trl_backend import MissingDependencyError

        raise MissingDependencyError("the openai backend needs the openai SDK: pip install 'dataprep-chat[openai]'") \
            from None
    cfg = config or TrainConfig(backend="openai")
    base_url = base_url or cfg.openai_base_url
    azure_endpoint = azure_endpoint or cfg.azure_endpoint
    max_retries = cfg.openai_max_retries if max_retries is None else max_retries
    timeout = cfg.openai_timeout_s if timeout is None else timeout
    if azure_endpoint:
        key = api_key
        if not key and cfg.openai_api_key_env != "OPENAI_API_KEY":
            key = os.environ.get(cfg.openai_api_key_env)
        key = key or os.environ.get("AZURE_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigError("no API key for Azure OpenAI: set AZURE_OPENAI_API_KEY (or the variable named by "
                              "openai_api_key_env)")
        version = api_version or cfg.azure_api_version or os.environ.get("OPENAI_API_VERSION") \
            or DEFAULT_AZURE_API_VERSION
        return openai.AzureOpenAI(azure_endpoint=azure_endpoint, api_key=key, api_version=version,
                                  max_retries=max_retries, timeout=timeout)
    key = api_key or os.environ.get(cfg.openai_api_key_env)
    if not key:
        if is_openai_hosted(base_url):
            raise ConfigError(f"no API key: set {cfg.openai_api_key_env}")
        key = "not-needed"  # many OpenAI-compatible local servers accept any key
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=max_retries, timeout=timeout)


def _wrap_api_error(exc: Exception, action: str) -> OpenAIBackendError:
    import openai

    if isinstance(exc, openai.APIStatusError):
        msg = getattr(exc, "message", None) or str(exc)
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body) if isinstance(body, dict) else {}
        if isinstance(err, dict) and err.get("message"):
            msg = err["message"]
        detail = []
        if getattr(exc, "code", None):
            detail.append(f"code={exc.code}")
        if getattr(exc, "param", None):
            detail.append(f"param={exc.param}")
        suffix = f" ({', '.join(detail)})" if detail else ""
        return OpenAIBackendError(f"{action} failed: HTTP {exc.status_code}: {msg}{suffix}",
                                  status_code=exc.status_code, code=getattr(exc, "code", None),
                                  param=getattr(exc, "param", None))
    if isinstance(exc, openai.APITimeoutError):
        return OpenAIBackendError(f"{action} failed: the request timed out (after the SDK's retries)")
    if isinstance(exc, openai.APIConnectionError):
        return OpenAIBackendError(f"{action} failed: could not reach the API (after the SDK's retries): {exc}")
    return OpenAIBackendError(f"{action} failed: {exc}")


def _api_errors():
    import openai

    return (openai.APIError,)


# ====================================================================== the fine-tuner


def hyperparameters_for(config: TrainConfig, method: str) -> dict[str, Any]:
    hp: dict[str, Any] = {}
    if config.epochs is not None:
        hp["n_epochs"] = config.epochs
    if config.batch_size is not None:
        hp["batch_size"] = config.batch_size
    if config.learning_rate_multiplier is not None:
        hp["learning_rate_multiplier"] = config.learning_rate_multiplier
    if method == "dpo" and config.dpo_beta is not None:
        hp["beta"] = config.dpo_beta
    return hp


def resolve_method(config: TrainConfig, train_path: str | Path) -> str:
    fmt = detect_format(train_path)
    if config.openai_method != "auto":
        expected = "dpo" if fmt == "openai-dpo" else "supervised"
        if config.openai_method != expected:
            raise ConfigError(f"openai_method={config.openai_method} but {train_path} is a "
                              f"{'preference (DPO)' if fmt == 'openai-dpo' else 'chat (supervised)'} file")
        return config.openai_method
    return "dpo" if fmt == "openai-dpo" else "supervised"


def build_job_request(config: TrainConfig, *, method: str, training_file: str,
                      validation_file: str | None = None) -> dict[str, Any]:
    """The keyword arguments of `client.fine_tuning.jobs.create` (what a dry run shows)."""
    if not config.model:
        raise ConfigError("no base model: pass --model (the model your OpenAI-compatible service fine-tunes)")
    hp = hyperparameters_for(config, method)
    req: dict[str, Any] = {
        "model": config.model,
        "training_file": training_file,
        "method": {"type": method, method: {"hyperparameters": hp}} if hp else {"type": method},
        "seed": config.seed,
    }
    if validation_file:
        req["validation_file"] = validation_file
    if config.suffix:
        req["suffix"] = config.suffix
    return req


class OpenAIFineTuner:
    """Thin, testable layer over `client.files` and `client.fine_tuning.jobs`."""

    def __init__(self, client: Any, *, poll_interval_s: float = 10.0, on_event: EventCallback | None = print_event,
                 sleep: Callable[[float], None] = time.sleep, file_wait_s: float = 120.0) -> None:
        self.client = client
        self.poll_interval_s = poll_interval_s
        self.on_event = on_event
        self.sleep = sleep
        self.file_wait_s = file_wait_s

    def _emit(self, kind: str, message: str, job_id: str | None = None, data: dict[str, Any] | None = None) -> None:
        if self.on_event is not None:
            self.on_event(FollowEvent(kind=kind, message=message, job_id=job_id, data=data or {}))

    # -------------------------------------------------------------- files
    def upload(self, path: str | Path, *, role: str = "training") -> Any:
        """Upload with purpose "fine-tune" and wait until the service has processed the file.
        Raises FileValidationError when the service marks the file as "error"."""
        p = Path(path)
        try:
            with open(p, "rb") as fh:
                f = self.client.files.create(file=(p.name, fh), purpose="fine-tune")
        except _api_errors() as exc:
            raise _wrap_api_error(exc, f"uploading the {role} file {p}") from None
        self._emit("upload", f"{role} file {p.name} uploaded as {f.id} ({f.bytes} bytes)", data={"file_id": f.id})
        deadline = time.monotonic() + self.file_wait_s
        interval = min(self.poll_interval_s, 2.0)
        while getattr(f, "status", None) == "uploaded" and time.monotonic() < deadline:
            try:
                f = self.client.files.retrieve(f.id)
            except _api_errors() as exc:
                raise _wrap_api_error(exc, f"checking the {role} file {f.id}") from None
            if f.status == "uploaded":
                self.sleep(interval)
        if getattr(f, "status", None) == "error":
            details = getattr(f, "status_details", None) or "no details given"
            raise FileValidationError(f"the service rejected the {role} file {p} ({f.id}): {details}",
                                      code=f"invalid_{role}_file", param=f"{role}_file")
        return f

    # -------------------------------------------------------------- jobs
    def create_job(self, request: dict[str, Any]) -> JobResult:
        try:
            job = self.client.fine_tuning.jobs.create(**request)
        except _api_errors() as exc:
            raise _wrap_api_error(exc, "creating the fine-tuning job") from None
        result = JobResult.from_job(job)
        self._emit("job", f"created {job.id} on {job.model} (status {job.status})", job.id)
        return result

    def status(self, job_id: str) -> JobResult:
        try:
            return JobResult.from_job(self.client.fine_tuning.jobs.retrieve(job_id))
        except _api_errors() as exc:
            raise _wrap_api_error(exc, f"retrieving {job_id}") from None

    def cancel(self, job_id: str) -> JobResult:
        try:
            result = JobResult.from_job(self.client.fine_tuning.jobs.cancel(job_id))
        except _api_errors() as exc:
            raise _wrap_api_error(exc, f"cancelling {job_id}") from None
        self._emit("status", f"{job_id}: cancel requested, status {result.status}", job_id)
        return result

    def list_jobs(self, *, limit: int = 20, after: str | None = None, page_size: int | None = None) -> list[JobResult]:
        """The most recent jobs (newest first), at most `limit`, following the API's pagination."""
        kwargs: dict[str, Any] = {"limit": min(page_size or limit, 100)}
        if after:
            kwargs["after"] = after
        out: list[JobResult] = []
        try:
            for job in self.client.fine_tuning.jobs.list(**kwargs):  # auto-pagination
                out.append(JobResult.from_job(job))
                if len(out) >= limit:
                    break
        except _api_errors() as exc:
            raise _wrap_api_error(exc, "listing fine-tuning jobs") from None
        return out

    def new_events(self, job_id: str, seen: set[str]) -> list[dict[str, Any]]:
        """Events not seen yet, oldest first (the API lists newest first; stop at the first seen)."""
        fresh = []
        for ev in self.client.fine_tuning.jobs.list_events(job_id, limit=100):
            if ev.id in seen:
                break
            fresh.append(ev)
        fresh.reverse()
        out = []
        for ev in fresh:
            seen.add(ev.id)
            out.append({"id": ev.id, "created_at": ev.created_at, "level": ev.level, "message": ev.message,
                        "type": getattr(ev, "type", None), "data": getattr(ev, "data", None) or {}})
        return out

    def new_checkpoints(self, job_id: str, seen: set[str]) -> list[dict[str, Any]]:
        fresh = []
        for ck in self.client.fine_tuning.jobs.checkpoints.list(job_id, limit=100):
            if ck.id in seen:
                break
            fresh.append(ck)
        out = []
        for ck in sorted(fresh, key=lambda c: c.step_number):
            seen.add(ck.id)
            raw = ck.metrics
            metrics = raw.model_dump(exclude_none=True) if hasattr(raw, "model_dump") else dict(raw)
            out.append({"id": ck.id, "step_number": ck.step_number,
                        "fine_tuned_model_checkpoint": ck.fine_tuned_model_checkpoint, "metrics": metrics})
        return out

    def follow(self, job_id: str, *, timeout_s: float | None = None) -> JobResult:
        """Poll until the job ends; stream status changes, new events and checkpoint metrics.
        Ctrl-C or `timeout_s` detach (status "detached"); the job is not cancelled."""
        seen_events: set[str] = set()
        seen_ckpts: set[str] = set()
        events: list[dict[str, Any]] = []
        ckpts: list[dict[str, Any]] = []

        def poll_events_and_checkpoints() -> None:
            for ev in self.new_events(job_id, seen_events):
                events.append(ev)
                kind = "metrics" if ev.get("type") == "metrics" else "event"
                self._emit(kind, f"{ev['level']}: {ev['message']}", job_id, ev)
            for ck in self.new_checkpoints(job_id, seen_ckpts):
                ckpts.append(ck)
                m = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in ck["metrics"].items())
                self._emit("checkpoint", f"step {ck['step_number']}: {ck['fine_tuned_model_checkpoint']} ({m})",
                           job_id, ck)

        result = poll_until_done(self, job_id, terminal=TERMINAL, poll_extras=poll_events_and_checkpoints,
                                 read_errors=_api_errors(), wrap_error=_wrap_api_error, timeout_s=timeout_s,
                                 detached=lambda: JobResult(job_id=job_id, status="detached"))
        result.events = events
        result.checkpoints = ckpts
        if result.status == "succeeded":
            self._emit("result", f"{job_id} succeeded: {result.fine_tuned_model}", job_id)
        elif result.status == "failed":
            self._emit("result", f"{job_id} failed: {result.error_message}", job_id, result.error or {})
        elif result.status == "cancelled":
            self._emit("result", f"{job_id} was cancelled", job_id)
        return result


# ====================================================================== the backend entry point

_CARD_STATUS = {"succeeded": "completed", "failed": "failed", "cancelled": "cancelled", "detached": "detached"}


def run_openai(
    train_path: str | Path,
    config: TrainConfig,
    *,
    card: RunCard,
    val_path: str | Path | None = None,
    on_event: EventCallback | None = print_event,
    client: Any = None,
    follow: bool = True,
) -> tuple[RunCard, JobResult | None]:
    """Upload, create, follow. Returns (run card, job result); the card is written to
    config.output_dir. A rejected file or a failed API call ends with status "failed" and the
    service's message in `card.error` (no exception), so the caller can print and exit 1."""
    method = resolve_method(config, train_path)
    hosted = is_openai_hosted(config.openai_base_url, config.azure_endpoint)
    if hosted:
        notice = service_notice()
        card.warnings.append(notice)
        if on_event is not None:
            on_event(FollowEvent(kind="notice", message=notice))
    client = client or make_client(config)
    card.details.update({"method": method, "provider": "azure-openai" if config.azure_endpoint else
                         ("openai" if hosted else "openai-compatible"),
                         "base_url": str(getattr(client, "base_url", config.openai_base_url))})
    tuner = OpenAIFineTuner(client, poll_interval_s=config.poll_interval_s, on_event=on_event)
    result: JobResult | None = None
    try:
        train_file = tuner.upload(train_path, role="training")
        card.details["training_file_id"] = train_file.id
        val_id = None
        if val_path is not None:
            val_file = tuner.upload(val_path, role="validation")
            val_id = val_file.id
            card.details["validation_file_id"] = val_id
        request = build_job_request(config, method=method, training_file=train_file.id, validation_file=val_id)
        card.details["request"] = request
        result = tuner.create_job(request)
        card.details["job_id"] = result.job_id
        card.write(config.output_dir)
        if follow:
            result = tuner.follow(result.job_id, timeout_s=config.follow_timeout_s)
    except OpenAIBackendError as exc:
        card.details["error_code"] = exc.code
        card.details["error_param"] = exc.param
        card.finish("failed", error=str(exc))
        card.write(config.output_dir)
        return card, result
    _record_result(card, result)
    if not follow:
        card.status = "running"
        card.write(config.output_dir)
        return card, result
    card.finish(_CARD_STATUS.get(result.status, result.status), error=result.error_message)
    card.write(config.output_dir)
    return card, result


def _record_result(card: RunCard, result: JobResult) -> None:
    card.details["job_id"] = result.job_id
    card.details["job_status"] = result.status
    if result.fine_tuned_model:
        card.details["fine_tuned_model"] = result.fine_tuned_model
    if result.result_files:
        card.details["result_files"] = result.result_files
    if result.error:
        card.details["job_error"] = result.error
    card.metrics.update(result.last_metrics())
    if result.trained_tokens is not None:
        card.metrics["trained_tokens"] = result.trained_tokens
    if result.checkpoints:
        card.metrics["checkpoints"] = [
            {"step": c["step_number"], "model": c["fine_tuned_model_checkpoint"], **c["metrics"]}
            for c in result.checkpoints]
    hist = [{"step": ev["data"].get("step"), "loss": ev["data"].get("train_loss")}
            for ev in result.events if ev.get("type") == "metrics" and ev.get("data", {}).get("train_loss") is not None]
    if hist:
        card.metrics["train_loss_history"] = hist
