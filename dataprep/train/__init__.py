"""Training backends: launch a fine-tuning run on gated data.

Public API (the CLI's `dataprep train` wires these after running the gate):

- `TrainConfig` (typed hyperparameters; `TrainConfig.load(toml_path, **overrides)`), `RunCard`.
- `launch(train_path, config, *, val_path, gate_verdict, force, dry_run) -> RunResult`.
- `job_status`, `cancel_job`, `list_jobs`, `follow_job` for hosted jobs (openai backend).
- `build_tiny_model(dir)` for smoke runs (`--model tiny-random` builds one automatically).

Backends: "trl" (local TRL + PEFT; needs the `train` extra), "openai" (OpenAI, Azure OpenAI and
OpenAI-compatible APIs; needs `openai`), "axolotl" and "llamafactory" (write configs + the launch
command). Heavy libraries are imported only when a backend runs.
"""

from .api import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    GateRefused,
    RunResult,
    cancel_job,
    follow_job,
    format_plan,
    job_status,
    launch,
    list_jobs,
    plan_launch,
)
from .config import (
    BACKENDS,
    METHODS,
    TINY_MODEL,
    ConfigError,
    RunCard,
    TrainConfig,
    sha256_file,
)
from .data import DataError


def build_tiny_model(output_dir, texts=None, **kwargs):
    """See `dataprep.train.tiny.build_tiny_model` (imports torch/transformers on call)."""
    from .tiny import build_tiny_model as _build

    return _build(output_dir, texts, **kwargs)


__all__ = [
    "BACKENDS", "METHODS", "TINY_MODEL", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED",
    "ConfigError", "DataError", "GateRefused", "RunCard", "RunResult", "TrainConfig",
    "build_tiny_model", "cancel_job", "follow_job", "format_plan", "job_status", "launch", "list_jobs",
    "plan_launch", "sha256_file",
]
