"""dataprep: decide whether a chat dataset is fit for fine-tuning, show why not, fix it, train.

    >>> import dataprep
    >>> profile = dataprep.scan("train.jsonl")      # one parallel pass: rows, findings, sketches
    >>> dataprep.validate("train.jsonl").summary()  # every finding, with line numbers

``dataprep.scan`` is the function; the module behind it is importable as ``dataprep.scan``'s
``sys.modules`` entry (``from dataprep.scan import Profile`` works as usual).
"""

__version__ = "0.1.0"

from dataprep.scan import Profile, ScanOptions, scan  # noqa: E402  (the notebook entry point)
from dataprep.validate import validate  # noqa: E402

__all__ = ["Profile", "ScanOptions", "scan", "validate", "__version__"]
