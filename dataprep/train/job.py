"""``dataprep.train(path, ...)``: the whole ``dataprep train`` job as one library call.

    >>> import dataprep
    >>> r = dataprep.train("train.jsonl", backend="openai", model="gpt-4.1-mini-2025-04-14", dry_run=True)
    >>> r.verdict, r.status, r.exit_code      # ('pass', 'dry-run', 0)
    >>> r.estimate.charged_tokens            # the dry run's token/cost estimate
    >>> print(r.describe())                  # the launch plan the command prints

Gate (once), then for a dry run the estimate, without ``val`` a cluster-aware split into the
run directory, then the launch: exactly what the command does, printing nothing. The progress
lines the command shows on stderr (gate verdict, the gate's errors, estimate, split) are kept in
``result.messages`` and, as they happen, given to ``on_message``. A failed gate stops before any
estimate, split, upload or model load (``status`` "gate-failed", exit code 1) unless ``force``.
Problems the command reports as usage errors (exit 2) raise :class:`dataprep.jobs.JobError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataprep.jobs import JobError

from .api import RunResult, launch_gated
from .config import ConfigError, TrainConfig

GATE_FAILED = "gate-failed"
GATE_ERRORS_SHOWN = 10


@dataclass
class TrainJobResult:
    """What one ``train`` job did: its one gate verdict, the estimate or split, and the run."""

    path: str
    backend: str
    rules: str
    gate: Any  # dataprep.gate.verdict.GateResult of the training (and validation) file
    forced: bool
    status: str  # "gate-failed", or the run's status (dry-run, completed, written, running, ...)
    run: RunResult | None = None
    estimate: Any = None  # dataprep.tokens.estimate.Estimate (dry runs)
    split: dict[str, Path] | None = None  # train/val/test/manifest paths of the cluster-aware split
    messages: list[str] = field(default_factory=list)  # the command's stderr progress lines, in order
    planned_split: tuple[float, Path] | None = None  # dry run without val: (share, directory) a run would split into

    @property
    def verdict(self) -> str:
        return self.gate.verdict

    @property
    def exit_code(self) -> int:
        """1 for a failed gate (without force) or a failed run, 130 interrupted, else 0."""
        if self.status == GATE_FAILED:
            return 1
        return self.run.exit_code if self.run is not None else 1

    def describe(self) -> str:
        """What the command prints on stdout: the short launch plan of a dry run (with the split a
        real run would make and the estimate for this backend), or the run's outcome."""
        if self.run is None:
            return ""
        if self.run.status != "dry-run":
            return self.run.describe()
        from .api import labelled, plan_lines

        extra: list[str] = []
        skip: tuple[str, ...] = ()
        if self.planned_split is not None:
            fraction, data_dir = self.planned_split
            extra += labelled("split", f"no --val given: a real run first splits off {fraction:.0%} for "
                              f"validation (near duplicates kept on one side) into {data_dir}/train.jsonl "
                              f"and {data_dir}/val.jsonl, and trains on those")
            skip = ("no validation file",)  # the split gives the real run one
        if self.estimate is not None:
            extra += labelled("estimate", _estimate_text(self.estimate, self.backend))
        head = f"DRY RUN: nothing was launched, uploaded or written. Backend {self.backend}."
        return "\n".join([head, *plan_lines(self.run.plan, extra=extra, skip_warnings=skip)])

    def summary(self) -> dict[str, Any]:
        s = {"path": self.path, "backend": self.backend, "rules": self.rules, "gate_verdict": self.verdict,
             "forced": self.forced, "status": self.status, "exit_code": self.exit_code}
        if self.estimate is not None:
            e = self.estimate
            s.update(examples=e.examples, total_tokens=e.total_tokens, trainable_tokens=e.trainable_tokens,
                     charged_tokens=e.charged_tokens, estimated_cost_usd=e.estimated_cost_usd)
        if self.run is not None:
            s["output_dir"] = str(self.run.output_dir)
        return s

    def to_dict(self) -> dict[str, Any]:
        from dataprep.meta import stamped

        d = self.summary() | {"messages": list(self.messages),
                              "gate": {"verdict": self.verdict, **self.gate.summary()}}
        if self.estimate is not None:
            d["estimate"] = self.estimate.to_dict()
        if self.split is not None:
            d["split"] = {k: str(v) for k, v in self.split.items()}
        if self.run is not None:
            r = self.run
            d["run"] = {"status": r.status, "output_dir": str(r.output_dir), "command": r.command,
                        "error": r.error, "warnings": list(r.warnings), "plan": r.plan or None,
                        "run_card": r.run_card.to_dict() if r.run_card is not None else None}
        return stamped(d)


def load_config(
    config: str | os.PathLike | None = None,
    *,
    backend: str = "trl",
    model: str | None = None,
    output_dir: str | os.PathLike | None = None,
    method: str | None = None,
    epochs: int | None = None,
    learning_rate: float | None = None,
    base_url: str | None = None,
    azure_endpoint: str | None = None,
    api_key_env: str | None = None,
    general_eval: str | os.PathLike | None = None,
    seed: int = 0,
) -> TrainConfig:
    """The TrainConfig the command builds: the TOML file ``config`` (or defaults) with the given
    options over it. JobError for a config that cannot be read or is not valid."""
    overrides = _overrides(backend=backend, model=model, output_dir=output_dir, method=method, epochs=epochs,
                           learning_rate=learning_rate, base_url=base_url, azure_endpoint=azure_endpoint,
                           api_key_env=api_key_env, general_eval=general_eval, seed=seed)
    try:
        return TrainConfig.load(config, **overrides)
    except (ConfigError, OSError) as e:
        raise JobError(str(e)) from None


def _overrides(*, backend, base_url, api_key_env, output_dir, general_eval, **kw) -> dict[str, Any]:
    d = dict(backend=backend, output_dir=None if output_dir is None else os.fspath(output_dir),
             general_eval=None if general_eval is None else os.fspath(general_eval), openai_base_url=base_url,
             openai_api_key_env=api_key_env, **kw)
    if backend == "together":  # base_url and api_key_env name Together's endpoint and key variable
        d.update(openai_base_url=None, openai_api_key_env=None, together_base_url=base_url,
                 together_api_key_env=api_key_env)
    return d


def _quiet(_event: Any) -> None:
    """The default event sink: the library prints nothing (the command passes a printer)."""


def train(
    path: str | os.PathLike,
    *,
    config: TrainConfig | str | os.PathLike | None = None,
    backend: str | None = None,
    model: str | None = None,
    rules: str = "openai",
    target: str | None = None,
    val: str | os.PathLike | None = None,
    val_fraction: float = 0.1,
    output_dir: str | os.PathLike | None = None,
    method: str | None = None,
    epochs: int | None = None,
    learning_rate: float | None = None,
    base_url: str | None = None,
    azure_endpoint: str | None = None,
    api_key_env: str | None = None,
    general_eval: str | os.PathLike | None = None,
    seed: int | None = None,
    dry_run: bool = False,
    force: bool = False,
    follow: bool = True,
    jobs: int | None = None,
    cache: bool = True,
    on_message: Callable[[str], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    client: Any = None,
    callbacks: list[Any] | None = None,
) -> TrainJobResult:
    """Gate ``path`` (and ``val``) against the preset ``rules``, then launch (or plan, ``dry_run``).

    ``target``: the training target whose rules the gate applies (dataprep.targets; None: the
    preset's own ``target``, if any).

    ``config``: a TrainConfig or a hyperparameters TOML; the other options override it (None: keep).
    ``on_message``: each progress line as it happens (the command prints them on stderr).
    ``on_event`` (hosted jobs), ``on_log``, ``callbacks`` (trl), ``client``: as in ``launch``;
    without ``on_event`` a hosted job is followed silently (its events are in ``result.run.job``).
    """
    from dataprep.gate.presets import PresetError
    from dataprep.gate.verdict import run_gate
    from dataprep.schema.findings import Severity

    path = os.fspath(path)
    val_path = None if val is None else os.fspath(val)
    opts = dict(model=model, output_dir=output_dir, method=method, epochs=epochs, learning_rate=learning_rate,
                base_url=base_url, azure_endpoint=azure_endpoint, api_key_env=api_key_env, general_eval=general_eval)
    if isinstance(config, TrainConfig):
        changes = {k: v for k, v in _overrides(backend=backend or config.backend, seed=seed, **opts).items()
                   if v is not None}
        try:
            cfg = config.replace(**changes) if changes else config
        except ConfigError as e:
            raise JobError(str(e)) from None
    else:
        cfg = load_config(config, backend=backend or "trl", seed=0 if seed is None else seed, **opts)

    if val_path is None and not dry_run and not 0 < val_fraction < 1:  # the split would fail after the gate
        raise JobError(f"the validation share (--val-fraction) must be above 0 and below 1; got {val_fraction:g}")
    messages: list[str] = []

    def say(line: str) -> None:
        messages.append(line)
        if on_message is not None:
            on_message(line)

    try:
        gate = run_gate([path] + ([val_path] if val_path else []), rules, jobs=jobs, cache=cache, target=target)
    except PresetError as e:
        raise JobError(str(e)) from None
    except ValueError as e:  # dataprep.targets.TargetError: a target that cannot be used
        raise JobError(str(e)) from None
    say(f"gate ({rules}{', target ' + gate.summary()['target'] if target else ''}): {gate.verdict}")
    if gate.unreadable:
        raise JobError("input cannot be read; nothing launched")
    result = TrainJobResult(path, cfg.backend, rules, gate, bool(force), GATE_FAILED, messages=messages)
    if gate.verdict == "fail" and not force:  # the one gate check: nothing below runs
        for f in [f for f in gate.findings if f.severity is Severity.ERROR][:GATE_ERRORS_SHOWN]:
            say(f"  {f.rule} line {f.line}: {f.message}")
        say("the gate failed: nothing was uploaded or loaded (use --force to train anyway; it is recorded)")
        return result

    train_path = path
    if dry_run:  # the estimate a user weighs before launching (an estimate: prices from rules/models.toml)
        result.estimate = _estimate(path, cfg, jobs=jobs, cache=cache)
        say(_estimate_line(result.estimate, cfg.backend))
        if val_path is None:
            result.planned_split = (val_fraction, Path(cfg.output_dir) / "data")
    if val_path is None and not dry_run:
        result.split = _split(path, Path(cfg.output_dir) / "data", val_fraction, seed=cfg.seed, jobs=jobs,
                              cache=cache)
        train_path, val_path = result.split["train"], result.split["val"]
        say(f"cluster-aware split: {train_path}, {val_path} (near duplicates never straddle)")
    try:
        result.run = launch_gated(train_path, cfg, val_path=val_path, gate_verdict=gate.verdict, force=force,
                                  dry_run=dry_run, follow=follow, on_event=on_event or _quiet, on_log=on_log,
                                  client=client, callbacks=callbacks)
    except (ConfigError, ValueError, RuntimeError, OSError) as e:
        raise JobError(str(e)) from None
    result.status = result.run.status
    return result


OPEN_BACKENDS = ("trl", "axolotl", "llamafactory")  # you run them: GPU-hours, never a service's price
_SIZE_IN_NAME = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)[bB](?![a-zA-Z])")


def _estimate(path: str, cfg: TrainConfig, *, jobs: int | None, cache: bool):
    """The estimate that applies to ``cfg.backend``: GPU-hours for a backend you run yourself,
    the service's published price for a hosted one (None when it publishes none). A model the
    price table does not know is counted with the default model's tokenizer (said in warnings)."""
    from dataclasses import replace

    from dataprep.scan import scan
    from dataprep.tokens.analyze import analyze
    from dataprep.tokens.models import UnknownModelError, default_model, get_model

    profile = scan(path, jobs=jobs, sketch=False, text=False, cache=cache)
    try:
        spec = get_model(cfg.model)
    except UnknownModelError:
        spec = None
    open_backend = cfg.backend in OPEN_BACKENDS
    method = cfg.method if open_backend else None
    # a backend you run trains the config's epochs; a hosted service picks its own when none is given
    epochs = cfg.resolved_epochs() if open_backend else cfg.epochs
    if spec is not None and spec.hosted == (not open_backend):  # the table's row fits the backend
        return analyze(profile, model=spec.id, epochs=epochs, method=method).estimate
    # Unknown model, or a hosted model's row for a backend you run (or the reverse): count tokens
    # with the default tokenizer, and keep neither its price nor its GPU-hours.
    est = analyze(profile, epochs=epochs, method=method).estimate
    stand_in = est.model
    gpu_hours = bucket = tps = None
    params = spec.params_b if spec is not None else None
    if params is None and cfg.model:
        m = _SIZE_IN_NAME.search(cfg.model.rsplit("/", 1)[-1])
        params = float(m.group(1)) if m else None
    if open_backend and params is not None:
        from dataprep.tokens.estimate import gpu_throughput

        try:
            tps, bucket = gpu_throughput().tokens_per_second(params, method)
            gpu_hours = est.charged_tokens / tps / 3600.0
        except ValueError:  # larger than the table's largest bucket: no number rather than a wrong one
            pass
    why = (f"{cfg.model} is not in rules/models.toml" if spec is None
           else f"{spec.id} is a {'hosted' if spec.hosted else 'open-weights'} model, trained here by "
                f"{cfg.backend}")
    notes = [f"Tokens counted with {stand_in}'s tokenizer as a stand-in ({why})."]
    if open_backend:
        notes.append(f"GPU-hours for a {params:g}B model ({bucket} bucket)." if gpu_hours is not None else
                     "No GPU-hours: the model's size is not known (not in rules/models.toml and no size "
                     "such as 7B in its name).")
    else:
        notes.append(f"No published price for {cfg.model} in rules/models.toml: ask the provider.")
    return replace(est, model=cfg.model or default_model(), provider=spec.provider if spec else "unknown",
                   price_per_1m_training_tokens_usd=None, estimated_cost_usd=None, gpu_hours=gpu_hours,
                   gpu_bucket=bucket, gpu_tokens_per_second=tps, gpu_method=method if gpu_hours else None,
                   price_as_of="", price_source="", warnings=notes)


def _estimate_line(est, backend: str) -> str:
    return (f"estimate ({est.model}): {est.examples:,} examples, {est.total_tokens:,} tokens "
            f"({est.trainable_tokens or 0:,} trainable), {est.epochs} epochs, {est.charged_tokens:,} "
            f"tokens trained; {_cost_phrase(est, backend)}")


def _estimate_text(est, backend: str) -> str:
    """The estimate a dry run prints: tokens trained, then the cost that applies to the backend."""
    text = (f"{est.examples:,} examples, {est.total_tokens:,} tokens x {est.epochs} epochs = "
            f"{est.charged_tokens:,} tokens trained; {_cost_phrase(est, backend)}.")
    if backend in OPEN_BACKENDS:
        text += " No dollar figure: you pay for your own GPUs."
    # the stand-in notes of _estimate and the over-limit count; the table's long source notes
    # (and a retiring model's dates, already a plan warning) stay in the JSON
    notes = [w for w in est.warnings if w.startswith(("Tokens counted with", "GPU-hours for", "No GPU-hours",
                                                        "No published price")) or " example(s) exceed " in w]
    return " ".join([text, *notes])


def _cost_phrase(est, backend: str) -> str:
    """GPU-hours for a backend you run (never a service's dollars); dollars only for a hosted
    backend whose price is published."""
    if backend in OPEN_BACKENDS:
        if est.gpu_hours is None:
            return "GPU-hours unknown (model size not known)"
        return f"~{_hours(est.gpu_hours)} GPU-hours ({est.gpu_method}, on your GPUs)"
    if est.estimated_cost_usd is None:
        return "no published price"
    return f"~${est.estimated_cost_usd:,.2f} at the published price"


def _hours(h: float) -> str:
    """GPU-hours with enough digits to never read 0.00 for a small run."""
    if h >= 10:
        return f"{h:,.0f}"
    if h >= 0.1:
        return f"{h:.2f}"
    return f"{h:.2g}"


def _split(path: str, out_dir: Path, val_fraction: float, *, seed: int, jobs: int | None,
           cache: bool) -> dict[str, Path]:
    from dataprep.dedup.splitting import split, write_split
    from dataprep.scan import scan

    profile = scan(path, jobs=jobs, cache=cache)
    res = split(profile, {"train": 1 - val_fraction, "val": val_fraction, "test": 0.0}, seed=seed)
    try:
        return write_split(profile, res, out_dir)
    except OSError as e:
        raise JobError(f"cannot write {e.filename or out_dir}: {e.strerror or e}") from None


__all__ = ["GATE_FAILED", "JobError", "TrainJobResult", "load_config", "train"]
