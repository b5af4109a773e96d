"""The installed version, and the stamp every JSON document carries so a reader can tell which
dataprep wrote it. Standard library only: `dataprep --version` and `dataprep rules` stay light."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "dataprep-chat"  # the PyPI name; the import package and the command are `dataprep`


def _installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a source tree on sys.path without an install: say so, never guess
        return "0+unknown"


VERSION = _installed_version()


def stamped(doc: dict) -> dict:
    """``doc`` with ``dataprep_version`` first; a document that already has it is left as it is."""
    if "dataprep_version" in doc:
        return doc
    return {"dataprep_version": VERSION, **doc}
