"""Outputs that appear whole or not at all: written to a temporary file beside the target and
renamed into place on success, with the mode a plain ``open`` would have given them."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path


def umask_mode(fd: int) -> None:
    """Give a file made by ``tempfile.mkstemp`` (always 0600) the mode a plain ``open`` would
    give it (0666 less the umask): for outputs that are renamed into place."""
    mask = None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:  # read without changing it (os.umask is process-wide)
            for line in f:
                if line.startswith("Umask:"):
                    mask = int(line.split()[1], 8)
    if mask is None:
        mask = os.umask(0o022)
        os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


class AtomicWriter:
    """Write to a temporary file next to ``path``; move it into place only on success."""

    def __init__(self, path: str):
        self.path = path
        if path == "-":  # stdout: spooled, copied out on commit
            fd, self.tmp = tempfile.mkstemp(prefix=".dataprep-stdout.", suffix=".tmp")
        else:
            parent = Path(path).resolve().parent
            if not parent.is_dir():
                raise OSError(2, "directory does not exist", str(parent))
            fd, self.tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp", dir=parent)
            umask_mode(fd)  # the output keeps the temporary file's mode: not mkstemp's 0600
        self.f = os.fdopen(fd, "wb", buffering=1 << 20)
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.bytes += len(data)

    def read_back(self) -> str:
        """Close for writing and return the temporary file's path (to filter it into a new writer)."""
        self.f.close()
        return self.tmp

    def commit(self, keep_empty: bool = True) -> bool:
        """Move the file into place; False (and no file, not even an older one) when it would be
        empty and ``keep_empty`` is False: an empty rejects file or output only misleads."""
        if self.tmp is None:
            return True
        if not self.f.closed:
            self.f.close()
        if not keep_empty and self.bytes == 0 and self.path != "-":
            os.unlink(self.tmp)
            self.tmp = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # what this run would have replaced: a stale file would lie
            return False
        if self.path == "-":
            import shutil

            with open(self.tmp, "rb") as f:
                shutil.copyfileobj(f, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            os.unlink(self.tmp)
        else:
            os.replace(self.tmp, self.path)
        self.tmp = None
        return True

    def abort(self) -> None:
        if self.tmp is not None:
            try:
                self.f.close()
            finally:
                try:
                    os.unlink(self.tmp)
                except OSError:
                    pass
                self.tmp = None
