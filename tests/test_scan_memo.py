"""The scan's memory of lines it has seen (``scan._line_memo``): a byte-identical copy of an
earlier line takes that line's checks, texts, token counts and sketch instead of computing them
again. Nothing a scan reports may change because of it: every column, finding (with its own line
number), signature, exact key, system prompt and text feature is the same as without the memo,
whatever the shard layout, the memo's budget, or what the copied lines hold (findings, secrets,
blank lines, broken JSON, the file's first line with a BOM).
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path

import numpy as np
import pytest

SCAN = importlib.import_module("dataprep.scan")  # the module (``dataprep.scan`` may be the function)


def _line(user: str, answer: str, system: str | None = None, **extra) -> bytes:
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": msgs, **extra}, ensure_ascii=False).encode()


def _copies_file(path: Path, n: int = 1200, seed: int = 3) -> Path:
    """Distinct lines of many kinds, each repeated in random order; the first line has a BOM and
    appears again later without one (the same record, other bytes)."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)]
    kinds = [
        _line("first line " + " ".join(rng.choices(words, k=9)), " ".join(rng.choices(words, k=40))),
        _line("my key is AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE is an AWS key id; rotate it"),
        _line("call me", "mail jane.doe@example.com or +1 415 555 0100", system="You are a helpful bot."),
        _line("broken", "", system="You are a helpful bot."),  # an error finding (empty assistant)
        b'{"messages": [{"role": "user", "content": "no answer"}]}',
        b'{"messages": [{"role": "user", "content": [{"type": "text", "value": "unread shape"}]},'
        b' {"role": "assistant", "content": "ok"}]}',
        b"not json at all",
        b"",
        b"   ",
        b'{"prompt": "a completion record", "completion": "in a chat file"}',
        _line("weights", "w", weight=0),
        _line("\u4f60\u597d\u4e16\u754c " * 5, "\u8fd9\u662f\u4e00\u4e2a\u56de\u7b54 " * 20),
    ]
    for k in range(60):
        kinds.append(_line(f"question {k} " + " ".join(rng.choices(words, k=8)), " ".join(rng.choices(words, k=60)),
                           system=rng.choice([None, "Be brief.", "Answer in English."])))
    body = [kinds[0]] + [rng.choice(kinds) for _ in range(n)]
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + body[0] + b"\n")
        for b in body[1:]:
            f.write(b + (b"\r\n" if rng.random() < 0.05 else b"\n"))
    return path


# dedup's scan: no tokens, no text features, no content rules (its memo remembers a line at its
# first copy, where a full scan remembers every line at once)
LEAN = {"tokens": False, "text": False, "content": False}


def _scan(path: Path, monkeypatch, *, memo_bytes: int, jobs: int = 1, shard_bytes: int | None = None,
          lean: bool = False):
    monkeypatch.setattr(SCAN, "MEMO_BYTES", memo_bytes)
    if shard_bytes is not None:
        monkeypatch.setattr(SCAN, "SHARD_BYTES", shard_bytes)
        monkeypatch.setattr(SCAN, "MIN_SHARD_BYTES", min(SCAN.MIN_SHARD_BYTES, shard_bytes))
    return SCAN.scan(str(path), jobs=jobs, cache=False, model="gpt-4o-mini", **(LEAN if lean else {}))


def _same(a, b) -> None:
    assert a.rows.equals(b.rows)
    assert [f.to_dict() for f in a.findings] == [f.to_dict() for f in b.findings]
    assert np.array_equal(a.signatures, b.signatures)
    assert np.array_equal(a.exact, b.exact)
    assert a.system_prompts == b.system_prompts
    assert a.state == b.state
    if a.text is None:
        assert b.text is None
        return
    assert a.text.rows.equals(b.text.rows)
    from dataprep.diversity.lexical import lexical_metrics

    for role in a.text.lexicon:
        assert lexical_metrics(a.text.lexicon[role]) == lexical_metrics(b.text.lexicon[role])


@pytest.mark.parametrize("lean", [False, True])
@pytest.mark.parametrize("memo_bytes", [256 * 2**20, 3000])  # unbounded here, and full after a few lines
def test_copies_report_exactly_what_a_scan_without_the_memo_reports(tmp_path, monkeypatch, memo_bytes, lean):
    path = _copies_file(tmp_path / "copies.jsonl")
    plain = _scan(path, monkeypatch, memo_bytes=0, lean=lean)
    with_memo = _scan(path, monkeypatch, memo_bytes=memo_bytes, lean=lean)
    _same(plain, with_memo)
    if lean:
        return
    # the copies really were scanned: every kind of line is there with its findings
    rules = {f.rule for f in with_memo.findings}
    assert {"DP102", "DP105", "DP305"} <= rules, rules
    assert len(with_memo.findings) > 100


@pytest.mark.parametrize("lean", [False, True])
def test_copies_in_many_shards_and_processes_equal_one_plain_pass(tmp_path, monkeypatch, lean):
    path = _copies_file(tmp_path / "copies.jsonl", n=4000)
    plain = _scan(path, monkeypatch, memo_bytes=0, lean=lean)
    # small shards: entries made in one shard are read by the next ones, in this process and the worker
    sharded = _scan(path, monkeypatch, memo_bytes=256 * 2**20, jobs=2, shard_bytes=32 * 1024, lean=lean)
    assert sharded.shards > 4
    _same(plain, sharded)


def test_a_copy_is_not_checked_again(tmp_path, monkeypatch):
    """The memo is what makes heavily duplicated data cheap: each distinct line is checked at
    most twice, itself and its first copy (the first line of the file always, since a BOM or a
    first-line rule may apply to it)."""
    path = _copies_file(tmp_path / "copies.jsonl")
    distinct = {ln for ln in path.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()}
    real = SCAN.check_line
    calls = []

    def counting(line, *a, **k):
        calls.append(line.number)
        return real(line, *a, **k)

    monkeypatch.setattr(SCAN, "check_line", counting)
    prof = _scan(path, monkeypatch, memo_bytes=256 * 2**20)
    assert prof.rows.height == 1201
    assert len(calls) <= len(distinct) + 1  # a full scan remembers each line at once
    calls.clear()
    _scan(path, monkeypatch, memo_bytes=256 * 2**20, lean=True)
    # a lean scan: each distinct line at most twice, itself and its first copy (then remembered)
    assert len(distinct) < len(calls) <= 2 * len(distinct) + 1
    calls.clear()
    _scan(path, monkeypatch, memo_bytes=0)
    assert len(calls) == 1201


def test_the_memo_is_dropped_when_the_scan_ends(tmp_path, monkeypatch):
    path = _copies_file(tmp_path / "copies.jsonl", n=50)
    _scan(path, monkeypatch, memo_bytes=256 * 2**20)
    assert getattr(SCAN._LOCAL, "memo", None) is None  # a long-lived process (notebook, TUI) does not keep a file's texts


def test_a_scan_that_fails_leaves_no_half_filled_memo(tmp_path, monkeypatch):
    path = _copies_file(tmp_path / "copies.jsonl", n=200)
    real = SCAN.check_line
    seen = []

    def failing(line, *a, **k):
        seen.append(1)
        if len(seen) == 30:
            raise RuntimeError("boom")
        return real(line, *a, **k)

    monkeypatch.setattr(SCAN, "MEMO_BYTES", 256 * 2**20)
    monkeypatch.setattr(SCAN, "check_line", failing)
    size = path.stat().st_size
    with pytest.raises(RuntimeError):
        SCAN.scan_range(str(path), 0, size, "openai_chat", SCAN.ScanOptions())
    assert getattr(SCAN._LOCAL, "memo", None) is None
    monkeypatch.setattr(SCAN, "check_line", real)
    again = SCAN.scan_range(str(path), 0, size, "openai_chat", SCAN.ScanOptions())
    SCAN.forget_lines()
    monkeypatch.setattr(SCAN, "MEMO_BYTES", 0)
    plain = SCAN.scan_range(str(path), 0, size, "openai_chat", SCAN.ScanOptions())
    assert np.array_equal(again.signatures, plain.signatures)
    assert [f.to_dict() for f in again.findings] == [f.to_dict() for f in plain.findings]


def test_two_scans_in_two_threads_each_keep_their_own_memo(tmp_path, monkeypatch):
    """The TUI scans in a thread, and a reload can start a second scan while the first one
    finishes its shard: entries of one must never answer the other's lines."""
    import threading

    a = _copies_file(tmp_path / "a.jsonl", n=3000, seed=1)
    b = _copies_file(tmp_path / "b.jsonl", n=3000, seed=2)
    monkeypatch.setattr(SCAN, "MEMO_BYTES", 0)
    plain = {p: SCAN.scan(str(p), jobs=1, cache=False) for p in (a, b)}
    monkeypatch.setattr(SCAN, "MEMO_BYTES", 256 * 2**20)
    monkeypatch.setattr(SCAN, "SHARD_BYTES", 16 * 1024)
    got, errors = {}, []

    def run(p):
        try:
            for _ in range(3):
                prof = SCAN.scan(str(p), jobs=1, cache=False)
                _same(plain[p], prof)
                got[p] = prof
        except Exception as e:  # reported below (an assertion from _same, too)
            errors.append(e)

    # two threads on the same file (a TUI reload), one on another
    threads = [threading.Thread(target=run, args=(p,)) for p in (a, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for p in (a, b):
        _same(plain[p], got[p])


@pytest.mark.parametrize("lean", [False, True])
def test_a_file_without_copies_turns_the_memo_off_and_one_with_copies_keeps_it(tmp_path, monkeypatch, lean):
    """On a file without copies the memo only costs (+10-14% CPU measured): a process that finds
    too few repeats in its first lines stops looking; a file with copies keeps the memo."""
    rng = random.Random(9)
    plain_file = tmp_path / "distinct.jsonl"
    plain_file.write_bytes(b"".join(_line(f"q{k} " + " ".join(rng.choices("abcdefgh", k=6)), f"answer {k}") + b"\n"
                                     for k in range(600)))
    copies = _copies_file(tmp_path / "copies.jsonl", n=600)
    monkeypatch.setattr(SCAN, "MEMO_BYTES", 256 * 2**20)
    monkeypatch.setattr(SCAN, "MEMO_PROBE_LINES", 100)
    opts = SCAN.ScanOptions(**(LEAN if lean else {}))
    for path, off in ((plain_file, True), (copies, False)):
        SCAN.forget_lines()
        size = path.stat().st_size
        with open(path, "rb") as f:
            f.seek(size // 2)
            f.readline()
            mid = f.tell()
        first = SCAN.scan_range(str(path), 0, mid, "openai_chat", opts)
        memo = SCAN._LOCAL.memo
        assert memo.off is off and (not memo.entries) is off
        second = SCAN.scan_range(str(path), mid, size, "openai_chat", opts)
        SCAN.forget_lines()
        monkeypatch.setattr(SCAN, "MEMO_BYTES", 0)
        ref = SCAN.scan_range(str(path), mid, size, "openai_chat", opts)
        monkeypatch.setattr(SCAN, "MEMO_BYTES", 256 * 2**20)
        assert np.array_equal(second.signatures, ref.signatures) and np.array_equal(second.exact, ref.exact)
        assert [f.to_dict() for f in second.findings] == [f.to_dict() for f in ref.findings]
        assert first.lines + second.lines == len(path.read_bytes().splitlines())
    SCAN.forget_lines()
