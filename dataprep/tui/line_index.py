"""Byte offsets of every line of a file, found with numpy over an mmap (Toolong's approach).

The index is one growing uint64 array of line starts (8 bytes per line once built). It is built
chunk by chunk, so a viewer can show the first lines while the rest of a large file is still
being indexed. Compressed input (.gz/.zst) is first decompressed into a temporary file, which is
then indexed the same way; the input itself is only ever read.

Lines follow :func:`dataprep.io.reader.iter_lines`: split on ``\\n``, a final line without a
newline counts, the line ending (``\\n`` or ``\\r\\n``) is not part of the line's text.
"""

from __future__ import annotations

import io
import mmap
import os
import shutil
import tempfile
import threading
from collections.abc import Callable

import numpy as np

from dataprep.io.reader import InputError, open_binary

FIRST_CHUNK = 1 << 20  # small first chunk: the first screen needs only a few lines
CHUNK = 16 << 20
NEWLINE = 10


class LineIndex:
    """Line starts of ``path``; ``len(index)`` is the number of lines indexed so far."""

    def __init__(self, path: str):
        self.path = path
        self._stream = open_binary(path)  # raises InputError for anything unreadable
        plain = type(self._stream) is io.BufferedReader and getattr(self._stream, "name", None) == path
        self.compressed = not plain
        self._tmp: str | None = None
        self._mm: mmap.mmap | None = None
        self.size = 0  # bytes of the (decompressed) data
        self._starts = np.zeros(1024, dtype=np.uint64)  # _starts[0] = 0; _count valid entries
        self._count = 1
        self.done = False
        self.error: str | None = None
        self._lock = threading.Lock()
        if not self.compressed:
            self._open_map(path)

    # ------------------------------------------------------------------ building

    def _open_map(self, path: str) -> None:
        self.size = os.path.getsize(path)
        if self.size:
            with open(path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def _decompress(self, progress, cancelled) -> None:
        fd, self._tmp = tempfile.mkstemp(prefix="dataprep-tui-", suffix=".jsonl")
        done = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := self._stream.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, None, 0)
                if cancelled and cancelled():
                    return
        self._open_map(self._tmp)

    def _append(self, positions: np.ndarray) -> None:
        need = self._count + len(positions)
        if need > len(self._starts):
            grown = np.empty(max(need, 2 * len(self._starts)), dtype=np.uint64)
            grown[: self._count] = self._starts[: self._count]
            self._starts = grown  # swap before publishing the new count (readers read count first)
        self._starts[self._count: need] = positions
        self._count = need

    def build(self, progress: Callable[[int, int | None, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> None:
        """Index the whole file; ``progress(bytes_done, bytes_total, lines)`` after each chunk."""
        try:
            if self.compressed:
                self._decompress(progress, cancelled)
            self._stream.close()
            pos = 0
            step = FIRST_CHUNK
            while pos < self.size:
                if cancelled and cancelled():
                    return
                n = min(step, self.size - pos)
                view = np.frombuffer(self._mm, dtype=np.uint8, count=n, offset=pos)
                nl = np.flatnonzero(view == NEWLINE)
                del view  # an exported numpy view would keep the mmap from closing
                if len(nl):
                    nl += pos + 1
                    self._append(nl.astype(np.uint64))
                pos += n
                step = CHUNK
                if progress:
                    progress(pos, self.size, len(self))
            with self._lock:
                if self._count > 1 and int(self._starts[self._count - 1]) >= self.size:
                    self._count -= 1  # the file ends with a newline: its last start opens no line
                elif self.size == 0:
                    self._count = 0
                # Shrink to fit: the growth slack would otherwise cost up to 8 more bytes per line.
                self._starts = self._starts[: max(self._count, 1)].copy()
                self.done = True
            if progress:
                progress(self.size, self.size, len(self))
        except (OSError, EOFError, ValueError) as e:
            self._failed(e)
        except Exception as e:  # zstd stream errors are bad input, not a crash
            if not type(e).__module__.startswith("zstandard"):
                raise
            self._failed(e)

    def _failed(self, e: Exception) -> None:
        """Keep the lines found before the error (a decompression that failed has none)."""
        self.error = f"read failed: {e}"
        with self._lock:
            if self._mm is None:
                self._count = 0
            self.done = True

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        # While building, a line counts once the newline that ends it has been seen.
        return self._count if self.done else self._count - 1

    @property
    def nbytes(self) -> int:
        return int(self._starts.nbytes)

    def _bounds(self, i: int) -> tuple[int, int]:
        n = len(self)
        if not 0 <= i < n:
            raise IndexError(i)
        starts = self._starts  # read after the count: it holds at least n entries
        a = int(starts[i])
        b = int(starts[i + 1]) if i + 1 < self._count else self.size
        return a, b

    def raw(self, i: int) -> bytes:
        """Line ``i`` (0-based) exactly as in the file, line ending included."""
        a, b = self._bounds(i)
        return self._mm[a:b] if self._mm is not None else b""

    def span(self, i: int) -> tuple[int, int]:
        """Byte range [start, end) of line ``i`` without its line ending."""
        a, b = self._bounds(i)
        mm = self._mm
        if b > a and mm[b - 1] == NEWLINE:
            b -= 1
            if b > a and mm[b - 1] == 13:
                b -= 1
        return a, b

    def line(self, i: int, limit: int | None = None) -> bytes:
        """Line ``i`` without its ending; at most ``limit`` bytes when given."""
        a, b = self.span(i)
        if limit is not None:
            b = min(b, a + limit)
        return self._mm[a:b] if self._mm is not None else b""

    def lines_at(self, offsets: np.ndarray) -> np.ndarray:
        """0-based line of each byte offset."""
        starts = self._starts[: len(self)]
        return np.searchsorted(starts, np.asarray(offsets, dtype=np.uint64), side="right").astype(np.int64) - 1

    def buffer(self):
        """The mapped bytes (for C-speed scans such as a regex over the whole file), or b""."""
        return self._mm if self._mm is not None else b""

    def length(self, i: int) -> int:
        a, b = self.span(i)
        return b - a

    def close(self) -> None:
        with self._lock:
            if self._mm is not None:
                try:
                    self._mm.close()
                except BufferError:
                    pass  # a slice is still referenced somewhere; the OS frees it at exit
                self._mm = None
            try:
                self._stream.close()
            except Exception:
                pass
            if self._tmp:
                try:
                    os.unlink(self._tmp)
                except OSError:
                    pass
                self._tmp = None


def write_lines(index: LineIndex, lines, out_path: str) -> int:
    """Copy the given 0-based lines, byte-identical, to a NEW file (never overwrites).

    A line without a line ending (the file's last line) gets ``\\n`` so that the next copied
    line does not run into it. Raises FileExistsError if ``out_path`` exists.
    """
    src = os.path.realpath(index.path)
    if os.path.exists(out_path) or os.path.realpath(out_path) == src:
        raise FileExistsError(out_path)
    d = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(d, exist_ok=True)
    n = 0
    tmp = out_path + ".part"
    with open(tmp, "xb") as f:
        for i in lines:
            raw = index.raw(int(i))
            f.write(raw)
            if not raw.endswith(b"\n"):
                f.write(b"\n")
            n += 1
    # link, not rename: fails rather than replace a file that appeared meanwhile
    try:
        os.link(tmp, out_path)
        os.unlink(tmp)
    except OSError:
        if os.path.exists(out_path):
            os.unlink(tmp)
            raise FileExistsError(out_path) from None
        shutil.move(tmp, out_path)
    return n


__all__ = ["LineIndex", "InputError", "write_lines"]
