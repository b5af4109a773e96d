"""What every whole-job library function (``dataprep.dedup``, ``dataprep.train``) shares.

A job function does what its command does and prints nothing; it returns a small result with
``exit_code``, ``summary()`` and ``to_dict()``, and raises :class:`JobError` for what the command
reports as a usage error (exit 2): a bad option, an input that cannot be read, an output that
cannot be written. The command prints ``error: <message>`` and exits with ``exit_code``.
"""

from __future__ import annotations


class JobError(ValueError):
    """A job could not run: bad options, unreadable input, unwritable output (exit code 2)."""

    exit_code = 2


__all__ = ["JobError"]
