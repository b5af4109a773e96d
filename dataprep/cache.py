"""Profile cache: parquet rows + a pickle of the rest, keyed by file size, mtime, content hash
and the scan options, so `tui`, `gate` and `audit` on an unchanged file do not rescan.

The optional parts of a profile (``content``, ``tokens``, ``sketch``, ``text``) are not in the key: one entry per file and
options, holding whatever parts its last scan computed; ``scan`` uses it when it holds the parts
asked for, and otherwise rescans with the union of both (so a run of different commands
converges on one complete entry instead of rescanning each time)."""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import asdict
from pathlib import Path

import polars as pl
import xxhash

from dataprep import __version__

# Bump when the Profile's columns or meaning change: old entries are then ignored.
CACHE_FORMAT = 2


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
    raw = repr((CACHE_FORMAT, __version__, pl.__version__, os.path.abspath(path), st.st_size, st.st_mtime_ns, digest,
                sorted(opts.items(), key=lambda kv: kv[0])))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def load(key: str, path: str):
    d = cache_dir()
    rows_p, rest_p = d / f"{key}.parquet", d / f"{key}.pkl"
    if not (rows_p.exists() and rest_p.exists()):
        return None
    try:
        rows = pl.read_parquet(rows_p)
        with open(rest_p, "rb") as f:
            prof = pickle.load(f)
    except Exception:  # a torn or foreign cache file: rescan rather than fail
        return None
    prof.rows = rows
    prof.path = path
    prof.cached = True
    return prof


def save(key: str, prof) -> None:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        tmp_rows, tmp_rest = d / f"{key}.parquet.tmp", d / f"{key}.pkl.tmp"
        prof.rows.write_parquet(tmp_rows)
        rows = prof.rows
        prof.rows = None  # rows live in parquet
        try:
            with open(tmp_rest, "wb") as f:
                pickle.dump(prof, f, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            prof.rows = rows
        os.replace(tmp_rows, d / f"{key}.parquet")
        os.replace(tmp_rest, d / f"{key}.pkl")
    except OSError:
        pass  # a read-only cache dir must not fail the scan
