"""Streaming line reader: paths, directories, globs, stdin, gzip and zstd.

Lines are yielded as raw bytes with their 1-based number and byte offset, so later steps can copy
a line byte-exactly (``fix``, ``dedup --out``) and report exact positions. Nothing here parses
JSON; each line is read on its own, so a 50 MB line costs 50 MB, never the whole file.
"""

from __future__ import annotations

import csv
import glob as _glob
import gzip
import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BOM = b"\xef\xbb\xbf"

# Extensions a directory walk picks up (plus their .gz / .zst forms).
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json")
# One rule for directories in every command (each command's --help repeats it).
DIRECTORY_RULE = ("A directory stands for the *.jsonl, *.ndjson and *.json files directly inside it "
                  "(not sub-folders; quote a glob such as 'DIR/**/*.jsonl' to go deeper).")
DIRECTORY_ONE_FILE = ("is a directory, and this command reads one file: pass one of the files inside it "
                      "(validate, tokens, gate and audit read a whole directory)")

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"7z\xbc\xaf\x27\x1c": "7z",
}
_SUPPORTED = {"gzip", "zstd"}

# Tabular containers that `dataprep convert` reads (with polars) and nothing else does: every
# other command is told so in one clear message instead of a finding per "line" of binary data.
PARQUET_MAGIC = b"PAR1"
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_HEADER_FIELD = re.compile(r"[A-Za-z_][\w .\-]{0,63}")


class InputError(Exception):
    """An input that cannot be read at all (DP100): missing, a directory, no permission, ..."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(slots=True)
class RawLine:
    number: int  # 1-based line number
    offset: int  # byte offset of the line's first byte in the (decompressed) stream
    data: bytes  # the line without its line ending
    ending: bytes  # b"\n", b"\r\n" or b"" (last line without newline)

    @property
    def raw(self) -> bytes:
        """The line exactly as it was in the input, line ending included."""
        return self.data + self.ending


def compression_of(head: bytes) -> str | None:
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def tabular_kind(head: bytes, name: str = "") -> str | None:
    """``"parquet"``, ``"csv"``, ``"tsv"`` or None (JSON / JSONL / anything else), from the first
    bytes (after decompression) and the file name.

    Content alone calls a file CSV only when its first line is a header of at least two
    identifier-like names and the next line has as many fields: a JSONL line starts with ``{``,
    so a broken JSONL file is not mistaken for a table.
    """
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    n = name.lower()
    for comp in (".gz", ".zst"):
        if n.endswith(comp):
            n = n[: -len(comp)]
    for suffix in _CSV_SUFFIXES:
        if n.endswith(suffix):
            return suffix[1:]
    if head.startswith(BOM):
        head = head[3:]
    if head[:1] in (b"{", b"[", b" ", b"\t", b"\r", b"\n", b""):
        return None
    lines = head.split(b"\n", 2)
    if len(lines) < 3:  # the second line must be whole to count its fields
        return None
    try:
        text = (lines[0] + b"\n" + lines[1]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    for kind, sep in (("csv", ","), ("tsv", "\t")):
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        if len(rows) == 2 and len(rows[0]) >= 2 and len(rows[0]) == len(rows[1]) \
                and all(_HEADER_FIELD.fullmatch(f) for f in rows[0]):
            return kind
    return None


def tabular_reason(kind: str, path: str) -> str:
    """The one message every JSONL command gives for a parquet / CSV input."""
    what = "a parquet" if kind == "parquet" else f"a {kind.upper()}"
    shown = path if path != "-" else "FILE"
    return (f"this is {what} file, not JSON Lines: run `dataprep convert {shown} OUT.jsonl` "
            "first, then check OUT.jsonl")


def open_binary(path: str, *, tabular: bool = False) -> BinaryIO:
    """Open a path (or ``-`` for stdin) for binary reading, decompressing gzip/zstd by content.

    Raises InputError for anything that cannot be read at all, and (unless ``tabular``, which
    ``convert`` passes) for a parquet or CSV file, with the ``convert`` command to run.
    """
    stream = _open_binary(path)
    if tabular:
        return stream
    try:
        head = stream.peek(1 << 16)[: 1 << 16] if hasattr(stream, "peek") else b""
    except (OSError, EOFError) as e:  # truncated or corrupt gzip/zstd: unreadable, said once here
        stream.close()
        raise InputError(path, f"read failed: {e}") from None
    kind = tabular_kind(head, path)
    if kind is not None:
        stream.close()
        raise InputError(path, tabular_reason(kind, path))
    return stream


def _open_binary(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(path, DIRECTORY_ONE_FILE)
        f = open(p, "rb")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, e.strerror or str(e)) from None
    head = f.read(8)
    f.seek(0)
    kind = compression_of(head)
    if kind is None:
        return f
    if kind not in _SUPPORTED:
        f.close()
        raise InputError(path, f"{kind}-compressed input is not supported (use gzip or zstd, or decompress it)")
    if kind == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
    # BufferedReader gives readline/peek on top of the raw zstd stream.
    return io.BufferedReader(_ZstdReader(f))


class _ZstdReader(io.RawIOBase):
    """Multi-frame zstd decompression that, unlike zstandard's stream_reader, notices a
    truncated stream: it raises EOFError (as gzip does), never a silent short read.
    Corrupt data raises OSError, so every caller handles one pair of errors for both codecs."""

    def __init__(self, raw: BinaryIO, chunk: int = 1 << 20):
        import zstandard

        self._zstd = zstandard
        self._raw = raw
        self._chunk = chunk
        self._obj = zstandard.ZstdDecompressor().decompressobj()
        self._fed = False  # the current frame has received input
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            data = self._raw.read(self._chunk)
            if not data:
                if self._fed and not self._obj.eof:
                    raise EOFError("compressed zstd stream ended before the end of its frame (truncated file)")
                return 0
            self._buf = self._decompress(data)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            try:
                out.append(self._obj.decompress(data))
            except self._zstd.ZstdError as e:
                raise OSError(f"corrupt zstd data: {e}") from None
            self._fed = True
            if not self._obj.eof:
                break
            data = self._obj.unused_data  # the next frame starts here
            self._obj = self._zstd.ZstdDecompressor().decompressobj()
            self._fed = False
        return b"".join(out)

    def close(self) -> None:
        self._raw.close()
        super().close()


def iter_lines(stream: BinaryIO, *, start_offset: int = 0, end_offset: int | None = None,
               first_number: int = 1) -> Iterator[RawLine]:
    """Yield every line of a binary stream with number, offset and ending.

    ``end_offset`` stops after the line that starts before it (byte-range shards).
    """
    offset = start_offset
    number = first_number
    for chunk in stream:  # readline semantics: one line per item, any length
        if end_offset is not None and offset >= end_offset:
            break
        if chunk.endswith(b"\r\n"):
            data, ending = chunk[:-2], b"\r\n"
        elif chunk.endswith(b"\n"):
            data, ending = chunk[:-1], b"\n"
        else:
            data, ending = chunk, b""
        yield RawLine(number, offset, data, ending)
        offset += len(chunk)
        number += 1


def expand_inputs(paths: list[str]) -> tuple[list[str], list[InputError]]:
    """Resolve paths, directories and globs into file paths (the rule in ``DIRECTORY_RULE``).

    A directory stands for the data files directly inside it, sorted: not its sub-folders, so a
    benchmark or cache folder below a data folder is never pulled in by surprise; a glob such as
    ``'DIR/**/*.jsonl'`` reaches deeper. Returns the files in order and one InputError for each
    thing that matched nothing.
    """
    files: list[str] = []
    errors: list[InputError] = []
    for raw in paths:
        if raw == "-":
            files.append(raw)
            continue
        p = Path(raw)
        if p.is_dir():
            found = sorted(str(q) for q in p.iterdir()
                           if q.is_file() and _is_data_name(q.name) and not q.name.startswith("."))
            if not found:
                deeper = any(_is_data_name(q.name) for q in p.rglob("*") if q.is_file())
                errors.append(InputError(raw, "directory holds no *.jsonl / *.ndjson / *.json files directly inside"
                                         + (f" (sub-folders do: pass '{raw.rstrip('/')}/**/*.jsonl' to read them)"
                                            if deeper else "")))
            files.extend(found)
        elif p.exists() or os.path.lexists(raw):
            files.append(raw)
        elif any(ch in raw for ch in "*?["):
            matched = sorted(m for m in _glob.glob(raw, recursive=True) if Path(m).is_file())
            if not matched:
                errors.append(InputError(raw, "glob matched no files"))
            files.extend(matched)
        else:
            errors.append(InputError(raw, "no such file"))
    # Keep order, drop repeats (a file named twice is read once).
    seen: set[str] = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]
    return unique, errors


def _is_data_name(name: str) -> bool:
    n = name.lower()
    for comp in (".gz", ".zst"):
        if n.endswith(comp):
            n = n[: -len(comp)]
    return n.endswith(DATA_SUFFIXES)
