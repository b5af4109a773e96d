"""dataprep: decide whether a chat dataset is fit for fine-tuning, show why not, fix it, train.

    >>> import dataprep
    >>> profile = dataprep.scan("train.jsonl")      # one parallel pass: rows, findings, sketches
    >>> dataprep.validate("train.jsonl").summary()  # every finding, with line numbers
    >>> dataprep.dedup("train.jsonl", out="kept.jsonl").accounting()  # the whole `dataprep dedup` job
    >>> dataprep.train("train.jsonl", backend="axolotl", model="Qwen/Qwen2.5-0.5B-Instruct", dry_run=True)

The names below are imported on first use (PEP 562), so `import dataprep`, `dataprep --version`
and `dataprep rules` load neither polars nor numpy. ``dataprep.scan``, ``dataprep.validate``,
``dataprep.dedup`` and ``dataprep.train`` are the functions (the last two are packages that can be
called); the modules behind them stay importable (``from dataprep.scan import Profile``,
``from dataprep.train import TrainConfig``, ``import dataprep.train.api``).
"""

import importlib
import sys
import types

from dataprep.meta import VERSION as __version__  # from the installed package metadata

__all__ = ["DedupJobResult", "JobError", "Profile", "ScanOptions", "TrainJobResult", "dedup", "scan", "train",
           "validate", "__version__"]

_LAZY = {"Profile": "dataprep.scan", "ScanOptions": "dataprep.scan", "scan": "dataprep.scan",
         "validate": "dataprep.validate", "DedupJobResult": "dataprep.dedup.job",
         "TrainJobResult": "dataprep.train.job", "JobError": "dataprep.jobs"}
# Public functions named like the module they come from: the package attribute is the function.
_FUNCTIONS = ("scan", "validate")
# Packages that are also the job function of their command: `dataprep.dedup(path, ...)` calls
# dataprep.dedup.job.dedup, while `from dataprep.dedup import MinHashConfig` and
# `import dataprep.train.api` keep working (a function in their place would break both).
_CALLABLE_PACKAGES = {"dedup": "dataprep.dedup.job", "train": "dataprep.train.job"}


def __getattr__(name: str):
    if name in _CALLABLE_PACKAGES:
        return importlib.import_module(f"dataprep.{name}")  # the import binds it through __setattr__
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dataprep' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


class _JobCall:
    """Mixed into a package's own module class: ``dataprep.train(...)`` is ``dataprep.train.job.train(...)``."""

    def _job(self):
        name = self.__name__.rpartition(".")[2]
        return getattr(importlib.import_module(_CALLABLE_PACKAGES[name]), name)

    def __call__(self, *args, **kwargs):
        return self._job()(*args, **kwargs)

    @property
    def __signature__(self):  # help() and notebooks show the job function's parameters
        import inspect

        return inspect.signature(self._job())


class _Package(types.ModuleType):
    # Importing the submodule dataprep.scan (or .validate) makes Python bind the package attribute
    # of the same name to the module, after the module ran; the public name is the function.
    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType):
            if name in _FUNCTIONS:
                value = getattr(value, name)
            elif name in _CALLABLE_PACKAGES and not isinstance(value, _JobCall):
                # on top of the class the package may have set for itself (its own lazy names)
                value.__class__ = type("JobPackage", (_JobCall, type(value)), {"__module__": __name__})
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
