"""The profile cache holds data, never code: planted pickles are never loaded, damaged entries are
rebuilt, concurrent writers leave one valid entry and no temporary file, the size cap holds."""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xxhash

from dataprep import cache
from dataprep.scan import ScanOptions, scan

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DATAPREP_CACHE_MAX_BYTES", raising=False)


@pytest.fixture
def data(tmp_path) -> Path:
    p = tmp_path / "chat.jsonl"
    p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes())
    return p


class _Plant:
    """Unpickling this creates ``path``: the proof that a pickle was loaded."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _key(p: Path) -> str:
    return cache.key_for(str(p), ScanOptions())


def _same(a, b) -> None:
    assert a.rows.equals(b.rows)
    assert [f.to_dict() for f in a.findings] == [f.to_dict() for f in b.findings]
    assert np.array_equal(a.signatures, b.signatures) and np.array_equal(a.exact, b.exact)
    assert a.state == b.state and a.options == b.options and a.system_prompts == b.system_prompts
    assert a.text.rows.equals(b.text.rows) and a.text.examples == b.text.examples


def test_an_entry_round_trips_every_part_of_the_profile(data):
    first = scan(str(data), jobs=1)
    hit = scan(str(data), jobs=1)
    assert hit.cached and not first.cached
    _same(first, hit)
    assert hit.signatures.flags.writeable  # analyses may work on the arrays in place
    for role, lex in first.text.lexicon.items():
        other = hit.text.lexicon[role]
        assert (lex.texts, lex.words, lex.ngrams, lex.mattr_sum, lex.mtld_full, lex.mtld_part, lex.distinct) == \
               (other.texts, other.words, other.ngrams, other.mattr_sum, other.mtld_full, other.mtld_part,
                other.distinct)
    # what the analyses compute from a cached profile equals what they compute from a fresh one
    from dataprep.dedup.analyze import duplicates

    assert duplicates(first)[1].dup_kind.tolist() == duplicates(hit)[1].dup_kind.tolist()


def test_a_planted_pickle_is_never_loaded(data, tmp_path, capsys):
    marker = tmp_path / "pwned"
    key = _key(data)
    d = cache.cache_dir()
    d.mkdir(parents=True)
    payload = pickle.dumps(_Plant(str(marker)))
    # the old layout (a pickle beside the parquet), and a pickle where the entry belongs
    (d / f"{key}.pkl").write_bytes(payload)
    (d / f"{key}.dpc").write_bytes(payload)
    prof = scan(str(data), jobs=1)
    assert not marker.exists()
    assert not prof.cached and prof.rows.height > 0
    assert "damaged profile cache entry" in capsys.readouterr().err
    # rebuilt: the next scan reads the new entry, still without running anything
    assert scan(str(data), jobs=1).cached and not marker.exists()


def _rewrite_blob_as_object_array(entry: Path, marker: Path) -> None:
    """Replace the 'exact' blob by an object array (what np.load would unpickle) and fix every
    checksum and offset, so only the refusal of object arrays stands between it and a load."""
    raw = entry.read_bytes()
    hlen, _, end = struct.unpack("<QQ8s", raw[-24:])
    head = json.loads(raw[-24 - hlen:-24])
    import io

    bio = io.BytesIO()
    np.lib.format.write_array(bio, np.array([_Plant(str(marker))], dtype=object), allow_pickle=True)
    evil = bio.getvalue()
    body = raw[: -24 - hlen]
    blobs = head["blobs"]
    b = next(x for x in blobs if x["name"] == "exact")
    b.update(offset=len(body), length=len(evil), xxh3=xxhash.xxh3_64_intdigest(evil))
    body += evil
    h = json.dumps(head).encode()
    entry.write_bytes(body + h + struct.pack("<QQ8s", len(h), xxhash.xxh3_64_intdigest(h), end))


def test_an_object_array_with_valid_checksums_is_refused(data, tmp_path, capsys):
    marker = tmp_path / "pwned"
    scan(str(data), jobs=1)
    entry = cache.entry_path(_key(data))
    _rewrite_blob_as_object_array(entry, marker)
    prof = scan(str(data), jobs=1)
    assert not prof.cached and not marker.exists()
    assert "object array" in capsys.readouterr().err
    assert scan(str(data), jobs=1).cached


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "empty"])
def test_a_damaged_entry_is_ignored_with_a_note_and_rebuilt(data, damage, capsys):
    first = scan(str(data), jobs=1)
    entry = cache.entry_path(_key(data))
    raw = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":  # one bit inside the rows' parquet: only the checksum can tell
        i = len(raw) // 3
        entry.write_bytes(raw[:i] + bytes([raw[i] ^ 1]) + raw[i + 1:])
    elif damage == "foreign":
        entry.write_bytes(b"PAR1" + os.urandom(1000))
    else:
        entry.write_bytes(b"")
    again = scan(str(data), jobs=1)
    assert not again.cached
    err = capsys.readouterr().err
    assert "damaged profile cache entry" in err and str(entry) in err
    assert all(len(line) <= 80 for line in err.splitlines() if str(entry) not in line)
    _same(first, again)
    rebuilt = scan(str(data), jobs=1)
    assert rebuilt.cached
    _same(first, rebuilt)


_WRITER = """
import sys
from dataprep.scan import scan
prof = scan(sys.argv[1], jobs=1)
assert prof.rows.height > 0
"""


def test_four_concurrent_writers_leave_one_valid_entry_and_no_temp_files(tmp_path):
    big = tmp_path / "big.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_chat.py"), str(big), "--examples", "6000",
                    "--seed", "5"], check=True, capture_output=True)
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(big)], env=os.environ.copy(),
                              stderr=subprocess.PIPE) for _ in range(4)]
    errs = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errs
    names = sorted(os.listdir(cache.cache_dir()))
    assert names == [f"{_key(big)}.dpc"], names  # one entry; no .tmp of any writer
    hit = scan(str(big), jobs=1)
    assert hit.cached and hit.rows.height == 6000
    assert not any("damaged" in e for e in errs)


def test_entries_are_created_with_the_umask_not_0600(data):
    old = os.umask(0o022)
    try:
        scan(str(data), jobs=1)
    finally:
        os.umask(old)
    mode = cache.entry_path(_key(data)).stat().st_mode & 0o777
    assert mode == 0o644


def test_the_size_cap_drops_the_least_recently_used_entries(tmp_path, monkeypatch):
    files = []
    for i in range(3):
        p = tmp_path / f"f{i}.jsonl"
        p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes() + b"\n" * i)
        files.append(p)
    scan(str(files[0]), jobs=1)
    one = cache.inventory().size
    scan(str(files[1]), jobs=1)
    time.sleep(0.05)
    assert scan(str(files[0]), jobs=1).cached  # f0 is now the most recently used
    monkeypatch.setenv("DATAPREP_CACHE_MAX_BYTES", str(int(one * 2.5)))
    scan(str(files[2]), jobs=1)  # a third entry: over the cap, f1 (least recently used) goes
    kept = {e.path.name for e in cache.inventory().entries}
    assert kept == {f"{_key(files[0])}.dpc", f"{_key(files[2])}.dpc"}


def test_dead_writers_temp_files_and_old_pickle_entries_are_cleared(data):
    d = cache.cache_dir()
    d.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stray = d / f".{'a' * 32}.{dead}.0123abcd.tmp"
    stray.write_bytes(b"x" * 1000)
    legacy = d / f"{'b' * 32}.pkl"
    legacy.write_bytes(b"x")
    mine = d / f".{'c' * 32}.{os.getpid()}.0123abcd.tmp"  # a live writer's file stays
    mine.write_bytes(b"x")
    other = d / "notes.txt"  # not ours: never touched
    other.write_text("keep")
    scan(str(data), jobs=1)
    assert not stray.exists() and not legacy.exists() and mine.exists() and other.exists()


def _cli(*args, env=None):
    exe = Path(sys.executable).parent / "dataprep"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "dataprep.cli"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env or os.environ.copy())


def test_cache_info_and_prune_commands(tmp_path):
    for i in range(3):
        p = tmp_path / f"f{i}.jsonl"
        p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes() + b"\n" * i)
        scan(str(p), jobs=1)
    old = cache.inventory().entries[0].path
    past = time.time() - 10 * 86400
    os.utime(old, (past, past))
    r = _cli("cache", "info", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["entries"] == 3 and info["bytes"] == cache.inventory().size
    assert info["oldest_age_seconds"] >= 10 * 86400 - 60
    text = _cli("cache", "info")
    assert "entries:  3" in text.stdout and all(len(x) <= 80 for x in text.stdout.splitlines()
                                                  if str(cache.cache_dir()) not in x)
    r = _cli("cache", "prune", "--older-than", "7d")
    assert r.returncode == 0 and r.stdout.startswith("removed 1 entry"), r.stdout + r.stderr
    assert not old.exists() and len(cache.inventory().entries) == 2
    newest = cache.inventory().entries[-1]
    r = _cli("cache", "prune", "--max-size", str(newest.size))
    assert r.returncode == 0 and [e.path for e in cache.inventory().entries] == [newest.path]
    bad = _cli("cache", "prune", "--max-size", "lots")
    assert bad.returncode == 2 and "not a size" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_convert_output_follows_the_umask_not_mkstemps_0600(tmp_path, umask, mode):
    out = tmp_path / "out.jsonl"
    old = os.umask(umask)
    try:
        r = _cli("convert", str(SAMPLES / "alpaca.jsonl"), str(out))
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_mode & 0o777 == mode


def test_background_saves_are_complete_when_the_block_ends_and_skipped_on_failure(data, monkeypatch):
    # dedup writes the profile while it analyses (saves_in_background): leaving the block waits,
    # so the next command hits the entry; an exception inside does not wait for the write.
    with cache.saves_in_background():
        first = scan(str(data), jobs=1)
        assert [t.name for t in cache._local.pending] == ["dataprep-cache-save"]
    hit = scan(str(data), jobs=1)
    assert hit.cached and not first.cached
    _same(first, hit)

    import threading

    release = threading.Event()
    real = cache._save
    monkeypatch.setattr(cache, "_save", lambda key, prof: (release.wait(30), real(key, prof)))
    other = data.with_name("other.jsonl")
    other.write_bytes(data.read_bytes() + data.read_bytes())
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt), cache.saves_in_background():
        scan(str(other), jobs=1)
        raise KeyboardInterrupt
    assert time.monotonic() - t0 < 10  # not held up by the blocked write
    assert getattr(cache._local, "pending", None) is None
    release.set()


def test_dedup_job_leaves_a_cache_entry_the_next_scan_hits(data):
    import dataprep
    from dataprep.dedup.job import dedup_options

    r = dataprep.dedup(str(data))
    assert r.accounting()["lines"] > 0
    hit = scan(str(data), jobs=1, options=dedup_options())
    assert hit.cached
