"""Profile cache: one file of plain data per entry, keyed by file size, mtime, content hash and the
scan options, so `tui`, `gate` and `audit` on an unchanged file do not rescan.

An entry holds data, never code: the rows and findings as parquet, arrays as ``.npy`` (read with
object arrays refused, the same as ``allow_pickle=False``), everything else as JSON decoded into
the known dataclasses field by field. Each blob and the JSON header carry an xxhash checksum and
the header the format version and the entry's key, so a truncated, corrupted or foreign file is
ignored (with a note on stderr) and rebuilt by the rescan, never loaded. Writers write a temporary
file of their own (pid + random name) and rename it into place: concurrent writers of one entry
cannot tear it, and the last one wins whole.

The optional parts of a profile (``content``, ``tokens``, ``sketch``, ``text``) are not in the key: one
entry per file and options, holding whatever parts its last scan computed; ``scan`` uses it when it
holds the parts asked for, and otherwise rescans with the union of both (so a run of different
commands converges on one complete entry instead of rescanning each time).

The cache stays under a size cap (``DATAPREP_CACHE_MAX_BYTES``, default 2 GB): after each write
the least recently used entries go first. ``dataprep cache info|prune`` shows and trims it.

File layout: ``MAGIC``, the blobs, the header (JSON), then the trailer: header length, header
xxh3-64, ``END``. The header lists each blob's name, kind, offset, length and xxh3-64.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import secrets
import struct
import sys
import threading
import time
from array import array
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl
import xxhash

from dataprep import __version__

# Bump when the Profile's columns or meaning change: old entries are then ignored (another key).
CACHE_FORMAT = 4  # 4: finding messages are masked when made (entries of 3 may quote a secret)
MAGIC = b"DPCACHE\x00"
END = b"DPCEND\x00\x00"
_TRAILER = struct.Struct("<QQ8s")  # header length, header xxh3-64, END
SUFFIX = ".dpc"
DEFAULT_MAX_BYTES = 2 * 10**9
_ENTRY = re.compile(r"^[0-9a-f]{32}\.dpc$")
_TEMP = re.compile(r"^\.[0-9a-f]{32}\.(\d+)\.[0-9a-f]+\.tmp$")
# format 2 stored a pickle beside the parquet: never read again, removed when found
_LEGACY = re.compile(r"^[0-9a-f]{32}\.(pkl|parquet)(\.tmp)?$")
_STALE_TEMP_S = 24 * 3600  # a temporary file older than this is a dead writer's, whatever its pid


class EntryError(Exception):
    """An entry that is not a complete, intact entry of this format for this key."""


def cache_dir() -> Path:
    d = os.environ.get("DATAPREP_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dataprep" / "profiles"


def content_hash(path: str, chunk: int = 8 << 20) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def key_for(path: str, options) -> str | None:
    """The cache key, or None when the file cannot be statted (then it is not cached)."""
    try:
        st = os.stat(path)
        digest = content_hash(path)
    except OSError:
        return None
    opts = asdict(options)
    for part in ("content", "tokens", "sketch", "text"):  # what the entry holds, not which entry (module doc)
        opts.pop(part, None)
    # polars' version too: the diversity word ids are polars hashes, stable only within a version.
    # The model table too: the default model and each row's vocabulary decide the token counts.
    from dataprep.tokens.models import models_table_digest

    raw = repr((CACHE_FORMAT, __version__, pl.__version__, os.path.abspath(path), st.st_size, st.st_mtime_ns, digest,
                sorted(opts.items(), key=lambda kv: kv[0]), models_table_digest()))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def entry_path(key: str) -> Path:
    return cache_dir() / f"{key}{SUFFIX}"


def _note(msg: str) -> None:
    with contextlib.suppress(Exception):
        print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- load

def load(key: str, path: str):
    """The cached Profile of ``path`` under ``key``, or None (no entry, or one that is not intact)."""
    p = entry_path(key)
    try:
        f = open(p, "rb")
    except OSError:
        return None
    try:
        with f:
            prof = _read_entry(f, key)
    except Exception as e:  # whatever is wrong with it, a bad entry is never used; the note says what
        reason = e.args[0] if isinstance(e, EntryError) else f"{type(e).__name__}: {e}"
        _note(f"note: ignored a damaged profile cache entry ({reason});\n"
              f"  the file is rescanned and the entry rebuilt: {p}")
        with contextlib.suppress(OSError):
            os.remove(p)
        return None
    with contextlib.suppress(OSError):
        os.utime(p)  # "least recently used" for the size cap
    prof.path = path
    prof.cached = True
    return prof


def _read_header(f, key: str | None) -> tuple[dict, int]:
    """(header, where the blobs end) of an open entry; EntryError when it is not intact."""
    size = os.fstat(f.fileno()).st_size
    if size < len(MAGIC) + _TRAILER.size:
        raise EntryError("truncated")
    if f.read(len(MAGIC)) != MAGIC:
        raise EntryError("not a dataprep cache file")
    f.seek(size - _TRAILER.size)
    hlen, hsum, end = _TRAILER.unpack(f.read(_TRAILER.size))
    start = size - _TRAILER.size - hlen
    if end != END or start < len(MAGIC):
        raise EntryError("truncated")
    f.seek(start)
    raw = f.read(hlen)
    if xxhash.xxh3_64_intdigest(raw) != hsum:
        raise EntryError("header checksum mismatch")
    head = json.loads(raw)
    if not isinstance(head, dict) or head.get("format") != CACHE_FORMAT:
        raise EntryError(f"format {head.get('format') if isinstance(head, dict) else '?'}, not {CACHE_FORMAT}")
    if key is not None and head.get("key") != key:
        raise EntryError("entry of another file or options")
    return head, start


def _read_entry(f, key: str):
    from dataprep.scan import Profile

    head, blobs_end = _read_header(f, key)
    blobs = {}
    for b in head["blobs"]:
        off, n = int(b["offset"]), int(b["length"])
        if off < len(MAGIC) or n < 0 or off + n > blobs_end:
            raise EntryError(f"blob {b['name']!r} out of bounds")
        f.seek(off)
        buf = bytearray(n)
        if f.readinto(buf) != n:
            raise EntryError("truncated")
        if xxhash.xxh3_64_intdigest(buf) != int(b["xxh3"]):
            raise EntryError(f"checksum mismatch in {b['name']!r}")
        blobs[b["name"]] = (b["kind"], buf)
    get = _Blobs(blobs)
    m = head["profile"]
    opts = _options_from(m["options"])
    state = _state_from(m["state"], get)
    rows = get.frame("rows")
    findings = _findings_from(get.frame("findings"))
    text = _text_from(m["text"], get) if m["text"] is not None else None
    prof = Profile(m["path"], m["format"], m["size"], rows, findings, state,
                   get.array(m["signatures"]), get.array(m["exact"]), text,
                   {int(k): str(v) for k, v in m["system_prompts"]}, opts)
    prof.seconds = float(m["seconds"])
    prof.readable = bool(m["readable"])
    return prof


class _Blobs:
    def __init__(self, blobs: dict):
        self.blobs = blobs

    def _get(self, name: str, kind: str) -> bytearray:
        k, buf = self.blobs.get(name, (None, None))
        if k != kind:
            raise EntryError(f"missing {kind} {name!r}")
        return buf

    def frame(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO(self._get(name, "parquet")))

    def array(self, name: str | None) -> np.ndarray | None:
        """A .npy blob as an array over the blob's own buffer (no copy); object arrays refused."""
        if name is None:
            return None
        buf = self._get(name, "npy")
        head = io.BytesIO(bytes(buf[: min(len(buf), 1 << 16)]))
        version = np.lib.format.read_magic(head)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if reader is None:
            raise EntryError(f"npy version {version} in {name!r}")
        shape, fortran, dtype = reader(head)
        if dtype.hasobject:  # what allow_pickle=False refuses: object arrays are pickles
            raise EntryError(f"object array in {name!r}")
        count = int(np.prod(shape, dtype=np.int64))
        if head.tell() + count * dtype.itemsize != len(buf):
            raise EntryError(f"array {name!r} does not match its size")
        arr = np.frombuffer(buf, dtype=dtype, count=count, offset=head.tell())
        return arr.reshape(shape, order="F" if fortran else "C")


def _options_from(d: dict):
    from dataprep.dedup.minhash import MinHashConfig
    from dataprep.scan import ScanOptions

    mh = dict(d.pop("minhash"))
    mh["lsh_weights"] = tuple(mh["lsh_weights"])
    known = {f.name for f in dataclasses.fields(ScanOptions)}
    return ScanOptions(minhash=MinHashConfig(**_only(mh, MinHashConfig)), **{k: v for k, v in d.items() if k in known})


def _only(d: dict, cls) -> dict:
    known = {f.name for f in dataclasses.fields(cls)}
    extra = set(d) - known
    if extra:
        raise EntryError(f"unknown {cls.__name__} fields {sorted(extra)}")
    return d


def _state_from(d: dict, get: _Blobs):
    from dataprep.checks.state import FileState

    fl = {}
    for fmt, name in d.pop("format_lines"):
        a = array("q")
        a.frombytes(np.ascontiguousarray(get.array(name), dtype=np.int64).tobytes())
        fl[str(fmt)] = a
    return FileState(format_lines=fl, **{k: int(v) for k, v in _only(d, FileState).items()})


def _findings_from(df: pl.DataFrame) -> list:
    from dataprep.schema.findings import Finding, Severity

    sev = {s.value: s for s in Severity}
    cols = [df[c].to_list() for c in ("rule", "name", "severity", "path", "line", "message", "column", "pointer")]
    return [Finding(r, n, sev[s], p, ln, m, c, ptr) for r, n, s, p, ln, m, c, ptr in zip(*cols)]


def _text_from(d: dict, get: _Blobs):
    from dataprep.diversity.features import TextFeatures
    from dataprep.diversity.lexical import RoleLexicon

    lex = {str(role): RoleLexicon(**_only({k: _dec(v, get) for k, v in fields.items()}, RoleLexicon))
           for role, fields in d["lexicon"].items()}
    return TextFeatures(int(d["examples"]), lex, get.frame(d["rows"]), int(d["start_row"]))


def _dec(v, get: _Blobs):
    """Inverse of ``_Encoder.enc``: plain JSON plus three tags, each decoded into data."""
    from dataprep.diversity.lexical import Ratios

    if isinstance(v, list):
        return [_dec(x, get) for x in v]
    if isinstance(v, dict):
        if "$npy" in v:
            return get.array(v["$npy"])
        if "$ratios" in v:
            return Ratios({int(a): int(b) for a, b in v["$ratios"]})
        if "$dict" in v:
            return {_dec(k, get): _dec(x, get) for k, x in v["$dict"]}
        raise EntryError(f"unknown value tag {sorted(v)}")
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise EntryError(f"unexpected value {type(v).__name__}")


# --------------------------------------------------------------------------------------------- save

class _Writer:
    """Blobs appended to an open file, each with its offset, length and checksum."""

    def __init__(self, f):
        self.f = f
        self.pos = 0
        self.blobs: list[dict] = []
        self._write(MAGIC)

    def _write(self, b) -> None:
        self.f.write(b)
        self.pos += len(b)

    def blob(self, name: str, kind: str, data) -> str:
        self.blobs.append({"name": name, "kind": kind, "offset": self.pos, "length": len(data),
                           "xxh3": xxhash.xxh3_64_intdigest(data)})
        self._write(data)
        return name

    def frame(self, name: str, df: pl.DataFrame) -> str:
        bio = io.BytesIO()
        df.write_parquet(bio)
        return self.blob(name, "parquet", bio.getbuffer())

    def array(self, name: str, arr: np.ndarray | None) -> str | None:
        if arr is None:
            return None
        arr = np.asarray(arr)
        if arr.dtype.hasobject:
            raise TypeError(f"{name}: object arrays are not cached")
        # the .npy header (shape and dtype), then the array's bytes in C order, streamed
        c = np.ascontiguousarray(arr)
        hdr = io.BytesIO()
        meta = np.lib.format.header_data_from_array_1_0(c)
        try:
            np.lib.format.write_array_header_1_0(hdr, meta)
        except ValueError:  # a header over 64 KiB: version 2.0
            hdr = io.BytesIO()
            np.lib.format.write_array_header_2_0(hdr, meta)
        head = hdr.getvalue()
        h = xxhash.xxh3_64(head)
        start = self.pos
        self._write(head)
        data = memoryview(c.reshape(-1).view(np.uint8)) if c.size else memoryview(b"")
        step = 16 << 20
        for i in range(0, len(data), step):
            piece = data[i:i + step]
            h.update(piece)
            self._write(piece)
        self.blobs.append({"name": name, "kind": "npy", "offset": start, "length": self.pos - start,
                           "xxh3": h.intdigest()})
        return name

    def finish(self, header: dict) -> None:
        header["blobs"] = self.blobs
        raw = json.dumps(header, separators=(",", ":")).encode()
        self._write(raw)
        self._write(_TRAILER.pack(len(raw), xxhash.xxh3_64_intdigest(raw), END))


class _Encoder:
    def __init__(self, w: _Writer, prefix: str):
        self.w = w
        self.prefix = prefix
        self.n = 0

    def enc(self, v):
        from dataprep.diversity.lexical import Ratios

        if isinstance(v, np.ndarray):
            self.n += 1
            return {"$npy": self.w.array(f"{self.prefix}{self.n}", v)}
        if isinstance(v, Ratios):
            return {"$ratios": [[int(a), int(b)] for a, b in v.terms.items()]}
        if isinstance(v, dict):
            return {"$dict": [[self.enc(k), self.enc(x)] for k, x in v.items()]}
        if isinstance(v, (list, tuple)):
            return [self.enc(x) for x in v]
        if isinstance(v, (np.integer, np.floating)):
            return v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        raise TypeError(f"cannot cache a {type(v).__name__}")


def _write_entry(f, key: str, prof) -> None:
    w = _Writer(f)
    st = prof.state
    state = {k: int(getattr(st, k)) for k in ("lines", "blank", "records", "valid", "crlf", "first_crlf")}
    state["format_lines"] = [[fmt, w.array(f"format_lines{i}", np.frombuffer(a, dtype=np.int64)
                                           if len(a) else np.zeros(0, np.int64))]
                             for i, (fmt, a) in enumerate(st.format_lines.items())]
    fs = prof.findings
    findings = pl.DataFrame({
        "rule": [x.rule for x in fs], "name": [x.name for x in fs], "severity": [x.severity.value for x in fs],
        "path": [x.path for x in fs], "line": [x.line for x in fs], "message": [x.message for x in fs],
        "column": [x.column for x in fs], "pointer": [x.pointer for x in fs],
    }, schema={"rule": pl.String, "name": pl.String, "severity": pl.String, "path": pl.Categorical,
               "line": pl.Int64, "message": pl.String, "column": pl.Int64, "pointer": pl.String})
    text = None
    if prof.text is not None:
        t = prof.text
        enc = _Encoder(w, "text")
        lex = {role: {f.name: enc.enc(getattr(lx, f.name)) for f in dataclasses.fields(lx)}
               for role, lx in t.lexicon.items()}
        text = {"examples": int(t.examples), "start_row": int(t.start_row), "rows": w.frame("text_rows", t.rows),
                "lexicon": lex}
    opts = asdict(prof.options)
    opts["minhash"]["lsh_weights"] = list(opts["minhash"]["lsh_weights"])
    header = {"format": CACHE_FORMAT, "key": key, "dataprep": __version__, "written": time.time(),
              "profile": {
                  "path": prof.path, "format": prof.format, "size": prof.size, "seconds": float(prof.seconds),
                  "readable": bool(prof.readable), "options": opts, "state": state,
                  "system_prompts": [[int(k), v] for k, v in prof.system_prompts.items()],
                  "signatures": w.array("signatures", prof.signatures), "exact": w.array("exact", prof.exact),
                  "text": text,
                  "rows": w.frame("rows", prof.rows), "findings": w.frame("findings", findings)}}
    w.finish(header)


_local = threading.local()


@contextlib.contextmanager
def saves_in_background():
    """Inside: ``save`` writes each entry in a thread, so the caller's analysis (dedup, audit)
    overlaps the write (a 1M-line profile is ~0.6 GB: ~1.5 s). Leaving waits for every write;
    leaving on an exception does not wait (a write cut short leaves a temporary file, which a
    later run sweeps), so Ctrl-C is not held up."""
    outer = getattr(_local, "pending", None)
    _local.pending = pending = []
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        _local.pending = outer
        if not failed:
            for t in pending:
                t.join()


def save(key: str, prof) -> None:
    """Write the entry (a failure to write never fails the scan), then keep the cache under its cap;
    in a thread inside ``saves_in_background``."""
    pending = getattr(_local, "pending", None)
    if pending is not None:
        t = threading.Thread(target=_save, args=(key, prof), name="dataprep-cache-save", daemon=True)
        t.start()
        pending.append(t)
        return
    _save(key, prof)


def _save(key: str, prof) -> None:
    d = cache_dir()
    tmp = d / f".{key}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    try:
        d.mkdir(parents=True, exist_ok=True)
        # os.open with 0o666: the umask decides, like any file the user's tools write (not 0600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            _write_entry(f, key, prof)
        os.replace(tmp, d / f"{key}{SUFFIX}")
    except (OSError, TypeError, ValueError):
        pass  # a read-only or full cache dir, or a profile with something uncacheable: not cached
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)  # gone already after the rename; removed when the write failed or was interrupted
    with contextlib.suppress(OSError):
        enforce_cap()


# --------------------------------------------------------------------------------------------- size

def max_bytes() -> int:
    """The cap: DATAPREP_CACHE_MAX_BYTES (bytes, or 500M / 2G), else DEFAULT_MAX_BYTES."""
    raw = os.environ.get("DATAPREP_CACHE_MAX_BYTES")
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(raw)
    except ValueError:
        _note(f"note: DATAPREP_CACHE_MAX_BYTES={raw!r} is not a size (e.g. 2000000000, 500M, 2G);\n"
              f"  using the default cap of {DEFAULT_MAX_BYTES:,} bytes")
        return DEFAULT_MAX_BYTES


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """``123``, ``500M``, ``2G``, ``1.5GB``, ``512MiB`` -> bytes (decimal units; ...iB binary)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_age(text: str) -> float:
    """``90`` (seconds), ``30m``, ``12h``, ``7d``, ``2w`` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise ValueError(f"not an age: {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[m.group(2)]


@dataclasses.dataclass
class Entry:
    path: Path
    size: int
    mtime: float  # last written or read


@dataclasses.dataclass
class Inventory:
    entries: list[Entry]  # oldest first
    leftovers: list[Path]  # dead writers' temporary files and format-2 (pickle) entries

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def inventory(d: Path | None = None) -> Inventory:
    d = cache_dir() if d is None else d
    entries, leftovers = [], []
    try:
        names = os.listdir(d)
    except OSError:
        return Inventory([], [])
    now = time.time()
    for name in names:
        p = d / name
        try:
            st = p.stat()
        except OSError:
            continue
        if _ENTRY.match(name):
            entries.append(Entry(p, st.st_size, st.st_mtime))
        elif _LEGACY.match(name):
            leftovers.append(p)
        elif m := _TEMP.match(name):
            # a live writer's file is in use; a dead one's (killed mid-write) is left over
            if not _pid_alive(int(m.group(1))) or now - st.st_mtime > _STALE_TEMP_S:
                leftovers.append(p)
    entries.sort(key=lambda e: e.mtime)
    return Inventory(entries, leftovers)


def prune(max_size: int | None = None, older_than: float | None = None) -> tuple[int, int]:
    """Remove entries older than ``older_than`` seconds, then the oldest until the rest fit in
    ``max_size`` bytes, and any leftovers; returns (entries removed, bytes freed)."""
    inv = inventory()
    removed = freed = 0
    for p in inv.leftovers:
        with contextlib.suppress(OSError):
            freed += p.stat().st_size
            p.unlink()
    keep = list(inv.entries)
    if older_than is not None:
        cutoff = time.time() - older_than
        old = [e for e in keep if e.mtime < cutoff]
        keep = [e for e in keep if e.mtime >= cutoff]
    else:
        old = []
    total = sum(e.size for e in keep)
    while max_size is not None and keep and total > max_size:
        e = keep.pop(0)
        old.append(e)
        total -= e.size
    for e in old:
        try:
            e.path.unlink()
        except FileNotFoundError:
            continue  # another process pruned it first
        except OSError:
            continue
        removed += 1
        freed += e.size
    return removed, freed


def enforce_cap() -> None:
    """After a write: the least recently used entries go until the cache fits its cap."""
    cap = max_bytes()
    inv = inventory()
    if inv.size > cap or inv.leftovers:
        prune(max_size=cap)
