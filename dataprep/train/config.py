"""Training configuration (`TrainConfig`) and the run card written next to every run (`RunCard`).

`TrainConfig` is one flat, typed record shared by every backend. Values come, in increasing
priority, from the dataclass defaults, a TOML file (top-level keys or a `[train]` table) and keyword
overrides (what the CLI flags become)::

    cfg = TrainConfig.load("train.toml", backend="trl", epochs=2)

Backend-specific fields carry a prefix (`openai_*`, `llamafactory_*`); the others are read by every
backend that has an equivalent. `None` on a hyperparameter means "the backend's default" (for the
OpenAI API that is "auto", decided by the service).

`RunCard` is the record of one launch: which data (sha256 of the training file), which gate verdict
(and whether `--force` overrode it), hyperparameters, metrics, library versions and timestamps. It is
written as `run_card.json` (machine-readable, versioned) and `RUN_CARD.md` (for people).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

Backend = Literal["trl", "openai", "together", "axolotl", "llamafactory"]
Method = Literal["lora", "qlora", "full"]
OpenAIMethod = Literal["auto", "supervised", "dpo"]

BACKENDS: tuple[str, ...] = get_args(Backend)
METHODS: tuple[str, ...] = get_args(Method)

#: the model name that makes the trl backend build a randomly initialised tiny Llama (smoke runs)
TINY_MODEL = "tiny-random"

RUN_CARD_VERSION = 1


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range (a usage error: exit code 2)."""


@dataclass
class TrainConfig:
    # --- what and where -------------------------------------------------------------------------
    backend: Backend = "trl"
    #: base model: a local HF model dir or hub id (trl/axolotl/llamafactory), an OpenAI model name
    #: (openai), or "tiny-random" (trl smoke runs, built on the fly, no download)
    model: str | None = None
    output_dir: str = "dataprep-run"

    # --- method ----------------------------------------------------------------------------------
    method: Method = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    #: "all-linear" (PEFT's shortcut) or explicit module names, e.g. ["q_proj", "v_proj"]
    lora_target_modules: str | list[str] = "all-linear"

    # --- optimisation (None = the backend's default) --------------------------------------------
    epochs: int | None = None  # trl/axolotl/llamafactory: 3; openai: "auto"
    learning_rate: float | None = None  # local: 2e-4 for LoRA/QLoRA, 2e-5 for full
    batch_size: int | None = None  # local per-device batch: 4; openai: "auto"
    grad_accumulation: int = 1
    max_seq_length: int = 2048
    packing: bool = False
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    gradient_checkpointing: bool | None = None  # None: on with CUDA, off on CPU
    seed: int = 42

    # --- evaluation ------------------------------------------------------------------------------
    eval_each_epoch: bool = True
    #: evaluations without improvement of the validation loss before stopping; None disables
    early_stopping_patience: int | None = 2
    #: a general held-out chat JSONL: loss before/after training, reported as a forgetting check
    general_eval: str | None = None
    logging_steps: int = 10
    #: show the trainer's progress bars (stderr)
    progress: bool = True
    #: keep intermediate checkpoints in OUTPUT/checkpoints after a successful run
    keep_checkpoints: bool = False
    #: cap on optimizer steps (smoke runs); None = run the epochs
    max_steps: int | None = None

    # --- openai backend (OpenAI, Azure OpenAI, OpenAI-compatible servers) -------------------------
    openai_base_url: str | None = None
    #: the API key itself is never stored in a config file or the run card: name the env variable
    openai_api_key_env: str = "OPENAI_API_KEY"
    azure_endpoint: str | None = None
    azure_api_version: str | None = None
    openai_method: OpenAIMethod = "auto"  # auto: dpo for preference files, else supervised
    learning_rate_multiplier: float | None = None
    dpo_beta: float | None = None
    suffix: str | None = None
    openai_max_retries: int = 2  # the SDK's retries on connection errors, 408/409/429/5xx
    openai_timeout_s: float = 60.0
    poll_interval_s: float = 10.0
    #: stop following (not cancel) the job after this many seconds; None = until it ends
    follow_timeout_s: float | None = None

    # --- together backend (Together AI's fine-tuning API, official `together` SDK 3.x) -----------
    together_base_url: str | None = None  # None: the SDK's default (https://api.together.ai)
    #: the API key itself is never stored: name the env variable
    together_api_key_env: str = "TOGETHER_API_KEY"
    #: Together's train_on_inputs: "auto" masks user turns of chat data (the service's default)
    together_train_on_inputs: bool | str = "auto"

    # --- axolotl / llama-factory exports ---------------------------------------------------------
    llamafactory_template: str | None = None  # None: guessed from the model name

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> TrainConfig:
        known = set(cls.field_names())
        unknown = sorted(k for k in data if k not in known)
        if unknown:
            hints = []
            for key in unknown:
                close = _closest(key, known)
                hints.append(f"{key!r}" + (f" (did you mean {close!r}?)" if close else ""))
            raise ConfigError(f"{source}: unknown training option(s): {', '.join(hints)}")
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read hyperparameters from a TOML file (top-level keys, or a `[train]` table), then apply
        `overrides` (keyword arguments whose value is None are ignored, so CLI flags left unset do
        not clobber the file)."""
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        if "train" in raw and isinstance(raw["train"], dict):
            outer = {k: v for k, v in raw.items() if k != "train"}
            raw = {**outer, **raw["train"]}
        data = {**raw, **{k: v for k, v in overrides.items() if v is not None}}
        return cls.from_dict(data, source=str(p))

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> TrainConfig:
        """`from_toml` when a path is given, else defaults + overrides (None values ignored)."""
        if path is not None:
            return cls.from_toml(path, **overrides)
        return cls.from_dict({k: v for k, v in overrides.items() if v is not None})

    def replace(self, **changes: Any) -> TrainConfig:
        return self.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if isinstance(d["lora_target_modules"], tuple):
            d["lora_target_modules"] = list(d["lora_target_modules"])
        return d

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}")
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        if self.openai_method not in get_args(OpenAIMethod):
            raise ConfigError(f"openai_method must be auto, supervised or dpo; got {self.openai_method!r}")
        if isinstance(self.lora_target_modules, (list, tuple)):
            if not self.lora_target_modules or not all(isinstance(m, str) for m in self.lora_target_modules):
                raise ConfigError("lora_target_modules must be 'all-linear' or a non-empty list of module names")
            self.lora_target_modules = list(self.lora_target_modules)
        elif not isinstance(self.lora_target_modules, str):
            raise ConfigError("lora_target_modules must be 'all-linear' or a list of module names")
        positive_ints = {
            "lora_r": self.lora_r, "lora_alpha": self.lora_alpha, "grad_accumulation": self.grad_accumulation,
            "max_seq_length": self.max_seq_length, "logging_steps": self.logging_steps,
            "epochs": self.epochs, "batch_size": self.batch_size, "max_steps": self.max_steps,
        }
        for name, value in positive_ints.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer; got {value!r}")
        if self.early_stopping_patience is not None and (
            isinstance(self.early_stopping_patience, bool)
            or not isinstance(self.early_stopping_patience, int)
            or self.early_stopping_patience < 1
        ):
            raise ConfigError("early_stopping_patience must be a positive integer or unset; "
                              f"got {self.early_stopping_patience!r}")
        for name in ("learning_rate", "learning_rate_multiplier", "dpo_beta"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ConfigError(f"{name} must be a positive number; got {value!r}")
        if not 0.0 <= float(self.lora_dropout) < 1.0:
            raise ConfigError(f"lora_dropout must be in [0, 1); got {self.lora_dropout!r}")
        if not 0.0 <= float(self.warmup_ratio) < 1.0:
            raise ConfigError(f"warmup_ratio must be in [0, 1); got {self.warmup_ratio!r}")
        if self.together_train_on_inputs not in (True, False, "auto"):
            raise ConfigError(f"together_train_on_inputs must be true, false or \"auto\"; got "
                              f"{self.together_train_on_inputs!r}")
        if self.openai_max_retries < 0:
            raise ConfigError("openai_max_retries must be >= 0")
        if self.poll_interval_s < 0:
            raise ConfigError("poll_interval_s must be >= 0")
        if self.suffix is not None and len(self.suffix) > 64:
            raise ConfigError("suffix is limited to 64 characters by the fine-tuning API")

    # ------------------------------------------------------------------ resolved values
    def resolved_epochs(self) -> int:
        return self.epochs if self.epochs is not None else 3

    def resolved_batch_size(self) -> int:
        return self.batch_size if self.batch_size is not None else 4

    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return 2e-5 if self.method == "full" else 2e-4

    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters as recorded in the run card: everything except secrets and
        output-only switches (there are no secrets in the config by design: the key is an env name)."""
        d = self.to_dict()
        for key in ("progress",):
            d.pop(key, None)
        return d


def _closest(word: str, choices: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


# ====================================================================== run card


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def describe_file(path: str | Path | None) -> dict[str, Any] | None:
    """`{path, sha256, bytes, lines}` for a data file (lines = non-blank lines = examples for JSONL)."""
    if path is None:
        return None
    p = Path(path)
    h = hashlib.sha256()
    size = 0
    lines = 0
    with open(p, "rb") as fh:
        for raw in fh:
            h.update(raw)
            size += len(raw)
            if raw.strip():
                lines += 1
    return {"path": str(p), "sha256": h.hexdigest(), "bytes": size, "examples": lines}


_VERSION_PACKAGES = (
    "dataprep-chat", "torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers",
    "bitsandbytes", "openai", "together",
)


def library_versions(packages: tuple[str, ...] = _VERSION_PACKAGES) -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


RunStatus = Literal[
    "dry-run", "running", "completed", "interrupted", "failed", "cancelled", "written", "detached",
    "refused",
]


@dataclass
class RunCard:
    """What was trained, on which data, after which gate verdict, with which result."""

    backend: str
    base_model: str | None
    status: str = "running"
    #: {"train": {path, sha256, bytes, examples}, "validation": ... | None, "general_eval": ... | None}
    data: dict[str, Any] = field(default_factory=dict)
    #: the gate's verdict as passed by the caller: "pass" | "warn" | "fail" | None (gate not run)
    gate_verdict: str | None = None
    #: True when the run was launched although the gate failed (`--force`)
    forced: bool = False
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=library_versions)
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    duration_s: float | None = None
    output_dir: str | None = None
    #: files written by the run (relative to output_dir where possible)
    artifacts: list[str] = field(default_factory=list)
    #: backend-specific facts: job ids, fine-tuned model name, launch command, data conversion notes
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    version: int = RUN_CARD_VERSION
    command_line: list[str] = field(default_factory=lambda: list(sys.argv))

    REQUIRED_KEYS = (
        "version", "backend", "base_model", "status", "data", "gate_verdict", "forced", "hyperparameters",
        "metrics", "versions", "started_at", "finished_at", "duration_s", "output_dir", "artifacts",
        "details", "warnings", "error",
    )

    def finish(self, status: str, *, error: str | None = None) -> None:
        self.status = status
        if error is not None:
            self.error = error
        self.finished_at = utc_now()
        try:
            t0 = datetime.fromisoformat(self.started_at.replace("Z", "+00:00"))
            t1 = datetime.fromisoformat(self.finished_at.replace("Z", "+00:00"))
            self.duration_s = round((t1 - t0).total_seconds(), 3)
        except ValueError:
            self.duration_s = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return json.loads(json.dumps(d, default=_json_default))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunCard:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def read(cls, output_dir: str | Path) -> RunCard:
        return cls.from_dict(json.loads((Path(output_dir) / "run_card.json").read_text(encoding="utf-8")))

    def write(self, output_dir: str | Path | None = None) -> Path:
        """Write `run_card.json` and `RUN_CARD.md` into the output dir; returns the JSON path."""
        out = Path(output_dir or self.output_dir or ".")
        out.mkdir(parents=True, exist_ok=True)
        if self.output_dir is None:
            self.output_dir = str(out)
        path = out / "run_card.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        (out / "RUN_CARD.md").write_text(self.to_markdown(), encoding="utf-8")
        return path

    def to_markdown(self) -> str:
        lines = [f"# Run card: {self.backend} · {self.base_model or '-'}", ""]
        lines.append(f"- status: **{self.status}**" + (f" — {self.error}" if self.error else ""))
        gate = self.gate_verdict or "not run"
        lines.append(f"- gate verdict: {gate}" + (" (**forced**: launched despite the gate)" if self.forced else ""))
        lines.append(f"- started: {self.started_at}; finished: {self.finished_at or '-'}"
                     + (f" ({self.duration_s:.1f} s)" if self.duration_s is not None else ""))
        for role, info in self.data.items():
            if info:
                lines.append(f"- {role} data: `{info.get('path')}` sha256 `{info.get('sha256')}`"
                             f" ({info.get('examples')} examples)")
        if self.warnings:
            lines += ["", "## Warnings", ""] + [f"- {w}" for w in self.warnings]
        if self.metrics:
            lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
            for k, v in self.metrics.items():
                if isinstance(v, (list, dict)):
                    continue
                lines.append(f"| {k} | {_fmt(v)} |")
        if self.details:
            lines += ["", "## Details", ""]
            for k, v in self.details.items():
                lines.append(f"- {k}: `{json.dumps(v, default=_json_default)}`")
        lines += ["", "## Hyperparameters", "", "| name | value |", "|---|---|"]
        for k, v in self.hyperparameters.items():
            lines.append(f"| {k} | {_fmt(v)} |")
        lines += ["", "## Versions", ""]
        lines.append(", ".join(f"{k} {v}" for k, v in self.versions.items() if v))
        return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "`" + json.dumps(v, default=_json_default) + "`" if not isinstance(v, str) else v


def _json_default(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    if hasattr(o, "item"):
        return o.item()
    return str(o)
