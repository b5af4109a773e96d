"""dataprep: decide whether a chat dataset is fit for fine-tuning, show why not, fix it, train.

    >>> import dataprep
    >>> profile = dataprep.scan("train.jsonl")      # one parallel pass: rows, findings, sketches
    >>> dataprep.validate("train.jsonl").summary()  # every finding, with line numbers

The names below are imported on first use (PEP 562), so `import dataprep`, `dataprep --version`
and `dataprep rules` load neither polars nor numpy. ``dataprep.scan`` and ``dataprep.validate``
are the functions; the modules behind them stay importable (``from dataprep.scan import Profile``).
"""

import importlib
import sys
import types

from dataprep.meta import VERSION as __version__  # from the installed package metadata

__all__ = ["Profile", "ScanOptions", "scan", "validate", "__version__"]

_LAZY = {"Profile": "dataprep.scan", "ScanOptions": "dataprep.scan", "scan": "dataprep.scan",
         "validate": "dataprep.validate"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dataprep' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


class _Package(types.ModuleType):
    # Importing the submodule dataprep.scan (or .validate) makes Python bind the package attribute
    # of the same name to the module, after the module ran; the public name is the function.
    def __setattr__(self, name: str, value) -> None:
        if name in ("scan", "validate") and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
