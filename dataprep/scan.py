"""One streaming pass over a file, on all cores, that builds the Profile every analysis reads.

``scan()`` is the one driver: it spools stdin, uses the cache (an entry whose parts cover the
request, else one rescan with the union of both), sniffs the format, spots a whole-file JSON
array, cuts the file (``plan_ranges``), merges the shards in line order and saves the Profile.
An executor only runs the shards: ``LocalExecutor`` (this machine: plain files as byte ranges
that spawned workers and the parent take from a shared counter, see ``_scan_parallel``;
compressed input in blocks the parent hands to a pool) or the Ray engine's ``RayExecutor``.
Per line a shard parses once, runs every line rule and counts tokens; when the options ask for
them (``sketch``, ``text``) the same pass also extracts the MinHash signature and exact key
(dedup) and the text features (diversity). Commands ask only for the parts they read: those two
cost more per line than parsing, validating and counting tokens together, and ``validate``
asks for none. Nothing parses the file twice.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Protocol

import numpy as np
import polars as pl
import xxhash

from dataprep.checks import formats as F
from dataprep.checks.arrays import json_array_report, looks_like_array
from dataprep.checks.lines import LineOutcome, check_line
from dataprep.checks.parse import NOTHING
from dataprep.checks.state import FileReport, FileState, file_level_findings, unreadable_report
from dataprep.dedup.minhash import MinHashConfig, sketch
from dataprep.diversity.features import TextFeatures, merge_text_features, text_features
from dataprep.diversity.structure import system_prompt_hash
from dataprep.io.reader import BOM, InputError, iter_lines, open_binary
from dataprep.mask import redact
from dataprep.memory import collector_paused, release_freed
from dataprep.schema.findings import Finding, Severity
from dataprep.text import texts_of as _texts_of  # the one definition of an example's text
from dataprep.tokens.count import COUNT_FIELDS, TokenCounter

SHARD_BYTES = 16 * 2**20  # the largest shard; files up to this size are scanned in-process
# The smallest shard of a parallel scan (see parallel_ranges): ~0.1 s of work, so the per-shard
# costs (text features, pickling, merge) stay negligible.
MIN_SHARD_BYTES = 2**20
COMPARE_MODES = ("conversation", "user", "assistant")
# What a scan may leave out (ScanOptions booleans): a profile with a part covers a request without it.
PARTS = ("content", "tokens", "sketch", "text")
TOKEN_COLUMNS = tuple(f"tokens_{f}" if f not in ("n_messages", "n_images") else f for f in COUNT_FIELDS)


@dataclass(frozen=True)
class ScanOptions:
    """Everything that changes what a scan computes (and so keys its cache)."""

    model: str | None = None  # token counting model (rules/models.toml); None = the table's default
    tokenizer: str | None = None  # tiktoken:NAME or a tokenizer.json path for open models
    content: bool = True  # run the DP3xx text rules (False: structure only; dedup and split read no findings)
    compare: str = "conversation"  # what dedup compares: conversation (user+assistant), user, assistant
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    sketch: bool = True  # MinHash signatures + exact keys of the compared text (dedup, split, leakage)
    text: bool = True  # lexical text features of the example rows (diversity)
    tokens: bool = True  # token counts per role (tokens, gate, keep policies): the tokenizer is ~half a lean scan

    def __post_init__(self):
        if self.compare not in COMPARE_MODES:
            raise ValueError(f"compare must be one of {', '.join(COMPARE_MODES)}, not {self.compare!r}")

    def covers(self, other: ScanOptions) -> bool:
        """Whether a profile scanned with these options holds everything ``other`` asks for."""
        return ((self.model, self.tokenizer, self.compare, self.minhash)
                == (other.model, other.tokenizer, other.compare, other.minhash)
                and all(getattr(self, p) or not getattr(other, p) for p in PARTS))

    def union(self, other: ScanOptions) -> ScanOptions:
        """These options with every part either set of options asks for."""
        return replace(self, **{p: getattr(self, p) or getattr(other, p) for p in PARTS})


@dataclass
class Profile:
    """The result of one scan: one row per input line, findings, and the per-example sketches."""

    path: str
    format: str
    size: int | None
    rows: pl.DataFrame  # see dataprep.schema.profile.ProfileSchema
    findings: list[Finding]
    state: FileState
    # (rows, num_perm) uint32 MinHash of the compared text (empty sketch for non-examples) and
    # (rows,) uint64 exact-duplicate keys of the normalised compared text; None unless options.sketch.
    signatures: np.ndarray | None
    exact: np.ndarray | None
    text: TextFeatures | None  # lexical features (diversity) of the example rows; None unless options.text
    system_prompts: dict[int, str]  # system-prompt hash -> first 200 characters
    options: ScanOptions
    seconds: float = 0.0
    cached: bool = False
    readable: bool = True
    shards: int = 0  # byte ranges or blocks the file was cut into (0: read from the cache, or no rows)
    jobs: int = 0  # processes (or Ray CPUs) the scan ran on

    @property
    def examples(self) -> int:
        return self.state.records

    def require(self, part: str, what: str) -> None:
        """Raise a ValueError that says how to rescan when ``part`` (sketch, text) was not computed."""
        if self.readable and getattr(self.options, part) is False:
            raise ValueError(f"{what} needs the profile's {part!r} part, which this scan skipped: scan with "
                             f"{part}=True (dataprep.scan(path, {part}=True))")

    def report(self) -> FileReport:
        """The validation view of this profile (what `validate` prints)."""
        return FileReport(self.path, self.format, self.state.records, self.state.valid, self.state.lines,
                          self.findings, self.readable, shards=self.shards, jobs=self.jobs)

    def example_rows(self) -> pl.DataFrame:
        """Rows that are examples of the file's own format and parsed (valid or not)."""
        return self.rows.filter(pl.col("is_example"))

    def line_bytes(self, line: int) -> bytes:
        """The raw bytes of one input line (byte-exact, without its line ending)."""
        row = self.rows.row(line - 1, named=True)
        with open_binary(self.path) as f:
            if hasattr(f, "seek") and f.seekable():
                f.seek(row["offset"])
                return f.read(row["length"])
            for ln in iter_lines(f):
                if ln.number == line:
                    return ln.data
        raise IndexError(line)


# ---------------------------------------------------------------------------------------------
# per-line extraction (runs in workers)

@dataclass
class _Shard:
    """A worker's result for one byte range or block (line numbers local to the shard)."""

    lines: int
    columns: dict
    findings: list[Finding]
    state: FileState
    signatures: np.ndarray | None  # None unless options.sketch
    exact: np.ndarray | None
    text: TextFeatures | None  # None unless options.text
    system_prompts: dict[int, str]


_COUNTER: TokenCounter | None = None


def _counter(opts: ScanOptions) -> TokenCounter:
    global _COUNTER
    if _COUNTER is None or (_COUNTER.model, _COUNTER.tokenizer) != (opts.model, opts.tokenizer):
        _COUNTER = TokenCounter.for_model(opts.model, opts.tokenizer)
    return _COUNTER


_ERROR, _WARNING = Severity.ERROR, Severity.WARNING


# Lines this process has scanned before. Heavily duplicated data (resampled, templated or
# augmented sets: half the lines of such a file can be byte-identical copies) repeats whole
# lines, and what a line yields is a function of its bytes, the file's path and format and the
# options alone: a copy takes the first one's checks, texts, token counts and sketch instead of
# computing them again (in a lean scan from the second copy on: see _LineMemo.seen).
# Bounded: past MEMO_BYTES (estimated) no new line is remembered.
MEMO_BYTES = 256 * 2**20
_MEMO_ENTRY_BYTES = 320  # an entry's own objects (tuples, dict slot, outcome), texts aside
_SEEN_BYTES = 80  # a key seen once (a 128-bit int in a set)
# A process that has scanned this many lines of a file and found fewer than this share of them
# repeated stops looking (and frees its memo): on a file without copies the memo only costs
# (measured on 100k generated examples: +10% CPU for dedup's scan, +14% for a full scan).
MEMO_PROBE_LINES = 20_000
MEMO_MIN_REPEATS = 0.02


class _MemoEntry:
    __slots__ = ("outcome", "findings", "base", "texts", "tokens", "user", "assistant", "system", "fresh",
                 "slot")

    def __init__(self, outcome, findings, base, texts, tokens, user, assistant, system, fresh):
        self.outcome = outcome  # LineOutcome without the record (FileState.add reads only flags)
        self.findings = findings  # the first copy's findings (their line numbers are replaced)
        self.base = base  # (format, blank, parsed, valid, errors, warnings, is_example)
        self.texts, self.tokens = texts, tokens
        self.user, self.assistant = user, assistant  # only when the scan keeps texts (diversity)
        self.system = system  # (hash, masked excerpt) of the system prompt, or None
        self.fresh = fresh  # row of the current shard's sketch batch; -1 once ``slot`` is set
        self.slot = -1  # row of the memo's signature store, set when the first copy's shard ends


class _LineMemo:
    def __init__(self, key: tuple):
        self.key = key
        self.entries: dict[int, _MemoEntry] = {}
        self.bytes = 0
        self.lines = self.repeats = 0  # lines scanned with this memo, and how many were repeats
        self.off = False  # too few repeats: this scan goes on without a memo in this thread
        # Keys seen once. A lean scan (dedup: ~35 us a line) makes an entry at a line's first
        # copy, not at the line itself: a file without copies then pays a set insert per line,
        # not an entry (+25% CPU measured). A full scan (~250 us a line: tokens, text features)
        # remembers every line at once: recomputing each first copy cost an audit of 1M heavily
        # duplicated lines ~15% more than the entries cost.
        self.seen: set[int] = set()
        # signatures and exact keys of the entries, one row each (grown by doubling): copies
        # gather theirs with one fancy index instead of one Python object per entry
        self.signatures = np.zeros((0, 0), dtype=np.uint32)
        self.exact = np.zeros(0, dtype=np.uint64)
        self.used = 0

    def keep(self, sigs: np.ndarray, exact: np.ndarray) -> int:
        """Store rows of signatures and exact keys; returns the first slot."""
        need = self.used + len(exact)
        if need > len(self.exact):
            cap = max(need, 2 * len(self.exact), 1024)
            grown = np.empty((cap, sigs.shape[1]), dtype=np.uint32)
            if self.used:
                grown[:self.used] = self.signatures[:self.used]
            self.signatures = grown
            self.exact = np.concatenate([self.exact[:self.used], np.empty(cap - self.used, np.uint64)])
        first = self.used
        self.signatures[first:need] = sigs
        self.exact[first:need] = exact
        self.used = need
        return first


# One memo per thread: entries wait for their shard's signatures, so two scans running at once
# in one process (the TUI reloading, a notebook's threads) must not share one.
_LOCAL = threading.local()


def _line_memo(path: str, expected: str, opts: ScanOptions) -> _LineMemo | None:
    if MEMO_BYTES <= 0:
        return None
    key = (path, expected, opts)
    memo = getattr(_LOCAL, "memo", None)
    if memo is None or memo.key != key:
        memo = _LOCAL.memo = _LineMemo(key)
    return None if memo.off else memo


def _judge_memo(memo: _LineMemo, lines: int, repeats: int) -> None:
    """Count a finished shard; turn the memo off (and free it) when copies are too rare."""
    memo.lines += lines
    memo.repeats += repeats
    if memo.lines >= MEMO_PROBE_LINES and memo.repeats < MEMO_MIN_REPEATS * memo.lines:
        memo.off = True
        memo.entries, memo.seen = {}, set()
        memo.signatures, memo.exact, memo.used = memo.signatures[:0], memo.exact[:0], 0


def forget_lines() -> None:
    """Drop this thread's memory of scanned lines (the driver calls it when a scan ends)."""
    _LOCAL.memo = None


def _scan_lines(lines: Iterator, path: str, expected: str, opts: ScanOptions) -> _Shard:
    # Each line allocates and frees a tree of parsed objects but makes no reference cycles, so
    # refcounting frees everything; the cyclic collector would only add passes that walk all
    # the objects the shard has gathered so far (measured: 5-15% of the scan time).
    try:
        with collector_paused():
            return _scan_lines_no_gc(lines, path, expected, opts)
    except BaseException:
        forget_lines()  # entries of an unfinished shard wait for signatures that never come
        raise
    finally:
        # The shard's records and texts are freed now, between the memo's live entries: give
        # those pages back, so a process's RSS is what it holds, not what it once parsed.
        release_freed()


_PARSED = object()  # a memo outcome's record: parsed (what FileState.add asks), not kept


def _scan_lines_no_gc(lines: Iterator, path: str, expected: str, opts: ScanOptions) -> _Shard:
    # The per-line loop runs once per input line on every core: list methods are bound to
    # locals and per-line tuples are transposed once at the end (C speed) instead of feeding
    # 31 column lists one value at a time.
    count = _counter(opts).count if opts.tokens else None
    content = opts.content
    findings: list[Finding] = []
    state = FileState()
    add_state = state.add
    users: list[str | None] = []
    assistants: list[str | None] = []
    example_offsets: list[int] = []  # diversity blocks are cut by byte offset: same on any shard layout
    compare: list[str] = []  # compared texts of the lines first seen in this shard (sketched at its end)
    sig_rows: list[int] = []  # per row: its text's index in ``compare``, or -1 (signature of an earlier shard)
    earlier: list[tuple[int, _MemoEntry]] = []  # (row, entry) of copies of lines of earlier shards
    created: list[_MemoEntry] = []
    systems: dict[int, str] = {}
    base: list[tuple] = []  # (line, offset, length, format, blank, parsed, valid, errors, warnings, is_example)
    texts: list[tuple] = []  # (roles, turns, tool_calls, has_tools, system_hash, chars x4, prompt_hash)
    tokens: list[tuple] = []  # COUNT_FIELDS
    add_base, add_texts, add_tokens, add_compare = base.append, texts.append, tokens.append, compare.append
    add_sig = sig_rows.append
    zeros = (0,) * len(COUNT_FIELDS)
    empty = ("", 0, 0, False, 0, 0, 0, 0, 0, 0)
    mode = opts.compare
    unread_mask = 3 if mode == "conversation" else (1 if mode == "user" else 2)
    want_sketch, want_text = opts.sketch, opts.text
    trainable = F.TRAINABLE
    unknown = F.UNKNOWN
    xxh = xxhash.xxh3_64_intdigest
    memo = _line_memo(path, expected, opts)
    entries = memo.entries if memo is not None else {}
    seen = memo.seen if memo is not None else set()
    eager = opts.tokens or opts.text  # lines cost enough to remember each at once (see _LineMemo)
    seen_add = seen.add
    line_key = xxhash.xxh3_128_intdigest
    sig_bytes = 4 * opts.minhash.num_perm if want_sketch else 0
    repeats = 0
    for line in lines:
        data = line.data
        # The first line of a file is never a copy: a BOM or a first-line rule may apply to it.
        key = line_key(data) if memo is not None and line.offset else None
        e = entries.get(key) if key is not None else None
        remember = False
        if key is not None and e is None:
            if key in seen:  # a lean scan's first copy: remember this line from now on
                remember = True
                repeats += 1
            elif eager:
                remember = True
            elif memo.bytes < MEMO_BYTES:
                seen_add(key)
                memo.bytes += _SEEN_BYTES
        if e is not None:
            repeats += 1
            add_state(line, e.outcome)
            if e.findings:
                n = line.number
                findings.extend([Finding(f.rule, f.name, f.severity, f.path, n, f.message, f.column, f.pointer)
                                 for f in e.findings])
            add_base((line.number, line.offset, len(data), *e.base))
            add_tokens(e.tokens)
            add_texts(e.texts)
            if e.base[-1]:
                if e.system is not None and e.system[0] not in systems:
                    systems[e.system[0]] = e.system[1]
                if want_text:
                    users.append(e.user)
                    assistants.append(e.assistant)
                    example_offsets.append(line.offset)
            if want_sketch:
                if e.fresh >= 0:
                    add_sig(e.fresh)
                else:
                    earlier.append((len(sig_rows), e))
                    add_sig(-1)
            continue
        out: LineOutcome = check_line(line, path, expected, content)
        add_state(line, out)
        found = out.findings
        err = warn = 0
        if found:
            findings.extend(found)
            for f in found:
                if f.severity is _ERROR:
                    err += 1
                elif f.severity is _WARNING:
                    warn += 1
        rec = out.record
        parsed = rec is not NOTHING
        fmt = out.format if out.format != unknown else expected
        is_example = parsed and type(rec) is dict and fmt in trainable
        row_base = (out.format, out.blank, parsed, out.valid, err, warn, is_example)
        add_base((line.number, line.offset, len(data), *row_base))
        u = a = system = None
        fresh = -1
        if is_example:
            u, a, s, pattern, chars, ncalls, turns, bad = _texts_of(rec, fmt)
            row_tokens = count(rec).as_tuple() if count is not None else zeros
            sh = 0
            if s is not None:
                sh = system_prompt_hash(s)
                system = (sh, systems.get(sh))
                if system[1] is None:
                    # masked before it is cut: a cut key matches nothing
                    system = (sh, redact(s[:4096])[:200])
                    systems[sh] = system[1]
            if want_text:
                users.append(u)
                assistants.append(a)
                example_offsets.append(line.offset)
            if want_sketch:
                # None: text that cannot be read, which the sketch keys as never comparable.
                fresh = len(compare)
                add_sig(fresh)
                add_compare(None if bad & unread_mask else
                            f"{u}\n{a}" if mode == "conversation" else (u if mode == "user" else a))
            # DP503 key (dedup's, so part of the sketch): the prompt with case and spacing
            # normalised (C-speed string ops, no word loop); none when a prompt turn is unreadable.
            ph = xxh(" ".join(u.lower().split()).encode("utf-8", "surrogatepass")) \
                if want_sketch and u.strip() and not bad & 1 else 0
            has_tools = bool(rec.get("tools") or rec.get("functions")
                             or (isinstance(rec.get("input"), dict) and rec["input"].get("tools")))
            row_texts = (pattern, turns, ncalls, has_tools, sh, chars[0], chars[1], chars[2], chars[3], ph)
        else:
            # Text features cover examples only (their rows align with is_example rows).
            row_tokens, row_texts = zeros, empty
            if want_sketch:
                fresh = len(compare)
                add_sig(fresh)
                add_compare("")
        add_tokens(row_tokens)
        add_texts(row_texts)
        if remember and memo.bytes < MEMO_BYTES:
            keep_text = want_text and is_example
            e = _MemoEntry(LineOutcome(_PARSED if parsed else NOTHING, out.format, [], out.blank, out.valid),
                           found, row_base, row_texts, row_tokens, u if keep_text else None,
                           a if keep_text else None, system, fresh)
            entries[key] = e
            if fresh >= 0:
                created.append(e)
            memo.bytes += (_MEMO_ENTRY_BYTES + sig_bytes + 160 * len(found)
                           + (len(u or "") + len(a or "") if keep_text else 0))
    cols = _columns(base, texts, tokens if count is not None else None)
    sigs = exact = None
    if want_sketch:
        sigs, exact = _shard_sketch(compare, sig_rows, earlier, created, memo, opts.minhash)
    if memo is not None:
        _judge_memo(memo, len(base), repeats)
    tf = text_features(users, assistants, line_offsets=example_offsets) if want_text else None
    return _Shard(len(base), cols, findings, state, sigs, exact, tf, systems)


def _shard_sketch(compare: list, sig_rows: list[int], earlier: list[tuple[int, _MemoEntry]],
                  created: list[_MemoEntry], memo: _LineMemo | None,
                  config: MinHashConfig) -> tuple[np.ndarray, np.ndarray]:
    """Signatures and exact keys of a shard's rows: the texts first seen here are sketched, the
    copies of lines of earlier shards take their entry's; entries made here get theirs."""
    fresh_sigs, fresh_exact = sketch(compare, config)
    if not earlier and len(compare) == len(sig_rows):  # no copies: rows are the sketch's own order
        sigs, exact = fresh_sigs, fresh_exact
    else:
        src = np.asarray(sig_rows, dtype=np.int64)
        here = src >= 0
        sigs = np.empty((len(src), config.num_perm), dtype=np.uint32)
        exact = np.empty(len(src), dtype=np.uint64)
        sigs[here] = fresh_sigs[src[here]]
        exact[here] = fresh_exact[src[here]]
        if earlier:
            rows = np.fromiter((r for r, _ in earlier), dtype=np.int64, count=len(earlier))
            slots = np.fromiter((e.slot for _, e in earlier), dtype=np.int64, count=len(earlier))
            sigs[rows] = memo.signatures[slots]
            exact[rows] = memo.exact[slots]
    if created:
        at = np.fromiter((e.fresh for e in created), dtype=np.int64, count=len(created))
        first = memo.keep(fresh_sigs[at], fresh_exact[at])
        for j, e in enumerate(created, first):
            e.slot, e.fresh = j, -1
    return sigs, exact


def _columns(base: list[tuple], texts: list[tuple], tokens: list[tuple] | None) -> dict:
    """Per-line tuples to columns: numpy arrays for numbers and flags (cheap to pickle back to
    the parent and to turn into the DataFrame), lists for strings. ``tokens`` None: no token
    columns (the merge adds them as nulls; 88 bytes a line less to hold and pickle)."""
    names = ("line", "offset", "length", "format", "blank", "parsed", "valid", "errors", "warnings", "is_example",
             "roles", "turns", "tool_calls", "has_tools", "system_hash", "chars_system", "chars_user",
             "chars_assistant", "chars_tool", "prompt_hash", *(TOKEN_COLUMNS if tokens is not None else ()))
    n = len(base)
    transposed = [*zip(*base), *zip(*texts), *zip(*(tokens or ()))] if n else [() for _ in names]
    cols: dict = {}
    for name, values in zip(names, transposed):
        dt = _SCHEMA[name]
        if dt == pl.String:
            cols[name] = list(values)
        elif dt == pl.Boolean:
            cols[name] = np.fromiter(values, dtype=bool, count=n)
        elif dt == pl.UInt64:
            cols[name] = np.fromiter(values, dtype=np.uint64, count=n)
        else:
            cols[name] = np.fromiter(values, dtype=np.int64, count=n)
    return cols


def scan_range(path: str, start: int, end: int, expected: str, opts: ScanOptions) -> _Shard:
    """One shard: the lines of ``path`` in bytes [start, end) (an executor's unit of work)."""
    with open(path, "rb") as f:
        f.seek(start)
        return _scan_lines(iter_lines(f, start_offset=start, end_offset=end), path, expected, opts)


def scan_block(data: bytes, base_offset: int, path: str, expected: str, opts: ScanOptions) -> _Shard:
    """One shard from bytes already read (compressed input, objects), ``base_offset`` into the file."""
    return _scan_lines(iter_lines(io.BytesIO(data), start_offset=base_offset), path, expected, opts)


# ---------------------------------------------------------------------------------------------
# sharding and the driver

def shard_ranges(path: str, size: int, shard_bytes: int = SHARD_BYTES) -> list[tuple[int, int]]:
    """Byte ranges [start, end) that start at line starts; every line lies in exactly one."""
    with open(path, "rb") as f:
        def next_line_start(pos: int) -> int:
            f.seek(pos)
            f.readline()  # finish the line that straddles the cut
            return f.tell()

        return cut_ranges(size, shard_bytes, next_line_start)


def cut_ranges(size: int, shard_bytes: int, next_line_start) -> list[tuple[int, int]]:
    """``shard_ranges`` over any source: ``next_line_start(pos)`` is the offset after the first
    newline at or after ``pos`` (the Ray engine's object-storage files read only there)."""
    if size == 0:
        return [(0, 0)]
    cuts = [0]
    pos = shard_bytes
    while pos < size:
        nxt = next_line_start(pos)
        if nxt >= size:
            break
        if nxt > cuts[-1]:
            cuts.append(nxt)
        pos = nxt + shard_bytes
    cuts.append(size)
    return list(zip(cuts[:-1], cuts[1:]))


def _blocks(stream, block_bytes: int = SHARD_BYTES) -> Iterator[tuple[bytes, int]]:
    """Cut a stream into blocks that end at a newline (a line longer than a block stays whole)."""
    offset = 0
    rest = b""
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            break
        data = rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield data[: cut + 1], offset
        offset += cut + 1
        rest = data[cut + 1:]
    if rest:
        yield rest, offset


def sniff_format(head: bytes) -> str:
    """The file's format from its first lines (what unknown-format lines are checked against)."""
    from collections import Counter

    import orjson

    counts: Counter = Counter()
    for raw in head.split(b"\n")[:200]:
        try:
            counts[F.detect(orjson.loads(raw.removeprefix(BOM)))] += 1
        except orjson.JSONDecodeError:
            continue
    return F.majority(counts)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def scan(path: str, *, jobs: int | None = None, options: ScanOptions | None = None, cache: bool = True,
         progress: bool = False, executor: Executor | None = None, **option_kw) -> Profile:
    """Scan one file (path, ``-`` or .gz/.zst) into a Profile, using the cache when it is fresh.

    The one scan driver: it spools stdin, consults and fills the cache, sniffs the format, spots
    a whole-file JSON array, cuts the file (``plan_ranges``), merges the shards and saves the
    Profile. ``executor`` only runs the shards: this machine's processes by default
    (``LocalExecutor(jobs)``), or ``dataprep.engines.ray_engine.RayExecutor``.

    ``option_kw`` are ScanOptions fields (``model=``, ``compare=``...). Raises nothing for bad
    input: an unreadable file gives a Profile with one DP100 finding and ``readable=False``.
    """
    from dataprep import cache as profile_cache

    opts = options or ScanOptions(**option_kw)
    ex = executor if executor is not None else LocalExecutor(jobs)
    spooled = path == "-"
    if spooled:
        # Analyses re-read a few lines by offset (language sample, DP503, --out), which a pipe
        # cannot do: stdin is saved to a temporary file, scanned like any file, removed at exit.
        # Not cached: the next stdin is another temporary file, whose key nothing could ever hit.
        path = _spool_stdin()
    t0 = time.perf_counter()
    key = None
    if cache and not spooled:
        key = profile_cache.key_for(path, opts)
        if key is not None:
            hit = profile_cache.load(key, path)
            if hit is not None:
                if hit.options.covers(opts):
                    return ex.finish(hit)
                # Parts are missing: rescan once with everything either scan wanted.
                opts = opts.union(hit.options)
                del hit
    try:
        src = ex.open(path)
    except InputError as e:
        return _unreadable(path, e.reason, opts)
    except (OSError, EOFError) as e:
        return _unreadable(path, f"read failed: {e}", opts)
    with src.stream as stream:
        try:  # truncated or corrupt gzip/zstd raise these while reading
            blocks_from = stream
            if looks_like_array(src.head):
                data = stream.read()
                rep = json_array_report(path, data)  # a whole-file JSON array: no rows
                if rep is not None:
                    return _from_report(path, rep, src.size, opts)
                blocks_from = io.BytesIO(data)  # not one JSON document: line by line after all
            expected = sniff_format(src.head)
            shard_bytes = ex.shard_bytes or SHARD_BYTES
            bar = _Progress(src.size, enabled=progress)
            try:
                if src.next_line_start is not None and src.size:
                    ranges = plan_ranges(src.size, ex.jobs, src.next_line_start, shard_bytes)
                    shards = ex.run_ranges(path, ranges, expected, opts, bar)
                else:
                    shards = ex.run_blocks(path, _blocks(blocks_from, shard_bytes), expected, opts, bar)
            finally:
                bar.close()
                forget_lines()  # this process's memory of the file's lines (workers end with the pool)
                release_freed()
        except (OSError, EOFError) as e:
            return _unreadable(path, f"read failed: {e}", opts)
    if not shards:  # an empty input: one empty shard, so the merge has its columns
        shards = [scan_block(b"", 0, path, expected, opts)]
    n_shards = len(shards)
    prof = _merge(path, src.size, shards, expected, opts)
    del shards
    release_freed()  # the shards' results, now copied into the Profile
    prof.seconds = time.perf_counter() - t0
    prof.shards, prof.jobs = n_shards, ex.used
    if key is not None and ex.caches:
        profile_cache.save(key, prof)
    return ex.finish(prof)


@dataclass
class Source:
    """An input opened for the driver (``Executor.open``): its first bytes and how to cut it.

    ``next_line_start`` is set when the executor reads byte ranges of the input itself (plain
    files, objects): it gives the offset after the first newline at or after a position. Without
    it the driver reads ``stream`` in blocks and hands them over. The driver closes ``stream``.
    """

    stream: BinaryIO
    size: int | None
    head: bytes  # the first 64 KiB (decompressed), what the format is sniffed from
    next_line_start: Callable[[int], int] | None = None


class Executor(Protocol):
    """What runs a scan's shards, and nothing else: ``scan()`` does the rest.

    ``LocalExecutor`` (this machine's processes) and ``dataprep.engines.ray_engine.RayExecutor``.
    A ``run_*`` call returns one ``_Shard`` per range or block, in file order.
    """

    jobs: int  # processes (or CPUs) the shards are spread over: decides the shard sizes
    shard_bytes: int | None  # the largest shard; None: SHARD_BYTES
    used: int  # processes the last run actually ran on (the Profile's ``jobs``)
    caches: bool  # whether the merged Profile is whole (cacheable) before ``finish``

    def open(self, path: str) -> Source: ...

    def run_ranges(self, path: str, ranges: list[tuple[int, int]], expected: str, opts: ScanOptions,
                   bar: _Progress) -> list[_Shard]: ...

    def run_blocks(self, path: str, blocks: Iterator[tuple[bytes, int]], expected: str, opts: ScanOptions,
                   bar: _Progress) -> list[_Shard]: ...

    def finish(self, prof: Profile) -> Profile: ...


class LocalExecutor:
    """This machine's cores: byte ranges on ``jobs`` processes (spawned workers plus this one,
    taking shards from a shared counter), blocks of compressed input on a pool of ``jobs``."""

    shard_bytes = None
    caches = True

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs or default_jobs()
        self.used = 0

    def open(self, path: str) -> Source:
        return open_source(path)

    def run_ranges(self, path, ranges, expected, opts, bar) -> list[_Shard]:
        if self.jobs == 1 or len(ranges) == 1:
            self.used = 1
            out = []
            for s, e in ranges:
                out.append(scan_range(path, s, e, expected, opts))
                bar.advance(e - s, out[-1].lines)
            return out
        self.used = max(1, min(self.jobs - 1, len(ranges) - 1)) + 1  # the workers and this process
        return _scan_parallel(path, ranges, expected, opts, self.jobs, bar)

    def run_blocks(self, path, blocks, expected, opts, bar) -> list[_Shard]:
        head_blocks = list(itertools.islice(blocks, 2))
        blocks = itertools.chain(head_blocks, blocks)
        out = []
        if self.jobs == 1 or len(head_blocks) < 2:  # one block: spawning workers would only cost their start-up
            self.used = 1
            for data, off in blocks:
                out.append(scan_block(data, off, path, expected, opts))
                bar.advance(len(data), out[-1].lines)
            return out
        self.used = self.jobs
        with _pool(self.jobs) as ex:
            pending = []
            for data, off in blocks:
                pending.append((len(data), ex.submit(scan_block, data, off, path, expected, opts)))
                if len(pending) >= self.jobs * 2:  # bounded read-ahead: memory stays ~2 blocks per core
                    n, fut = pending.pop(0)
                    out.append(fut.result())
                    bar.advance(n, out[-1].lines)
            for n, fut in pending:
                out.append(fut.result())
                bar.advance(n, out[-1].lines)
        return out

    def finish(self, prof: Profile) -> Profile:
        return prof


def open_source(path: str) -> Source:
    """A local file (or the stdin spool) as a Source: plain files are cut into byte ranges,
    compressed ones are read in blocks. Raises InputError for anything that cannot be read."""
    stream, size, plain = open_input(path)
    try:
        head = stream.peek(1 << 16)[: 1 << 16] if hasattr(stream, "peek") else b""
    except BaseException:
        stream.close()
        raise
    nls = None
    if plain:
        def nls(pos: int) -> int:
            stream.seek(pos)
            stream.readline()  # finish the line that straddles the cut
            return stream.tell()
    return Source(stream, size, head, nls)


def plan_ranges(size: int, jobs: int, next_line_start: Callable[[int], int],
                shard_bytes: int | None = None) -> list[tuple[int, int]]:
    """How every executor cuts a file of ``size`` bytes for ``jobs`` processes: shards of
    ``shard_bytes`` (default SHARD_BYTES; one shard, scanned in-process, when the file is no
    larger), and on several processes guided self-scheduling (``guided_ranges``)."""
    shard_bytes = shard_bytes or SHARD_BYTES
    ranges = cut_ranges(size, shard_bytes, next_line_start)
    if jobs == 1 or len(ranges) == 1:
        return ranges
    return guided_ranges(size, jobs, next_line_start, shard_bytes)


def guided_ranges(size: int, jobs: int, next_line_start: Callable[[int], int],
                  shard_bytes: int | None = None) -> list[tuple[int, int]]:
    """Byte ranges (at line starts) for a scan on ``jobs`` processes.

    Guided self-scheduling: each shard is a 1/(2 jobs) share of what is left (between
    MIN_SHARD_BYTES and ``shard_bytes``), so shards shrink towards the end of the file and the
    processes, taking them in order, run out of work within one small shard of each other.
    """
    hi = shard_bytes or SHARD_BYTES
    lo = min(MIN_SHARD_BYTES, hi)
    cuts = [0]
    pos = 0
    while True:
        nxt = pos + max(lo, min(hi, (size - pos) // (2 * jobs)))
        if nxt >= size:
            break
        nxt = next_line_start(nxt)
        if nxt >= size:
            break
        cuts.append(nxt)
        pos = nxt
    cuts.append(size)
    return list(zip(cuts[:-1], cuts[1:]))


def parallel_ranges(path: str, size: int, jobs: int) -> list[tuple[int, int]]:
    """``guided_ranges`` of a local file."""
    with open(path, "rb") as f:
        def next_line_start(pos: int) -> int:
            f.seek(pos)
            f.readline()
            return f.tell()

        return guided_ranges(size, jobs, next_line_start)


class _Executor(ProcessPoolExecutor):
    """Workers start (on submit) with Ctrl-C blocked: see ``dataprep.lifetime.sigint_blocked``."""

    def submit(self, *args, **kwargs):
        from dataprep.lifetime import sigint_blocked

        with sigint_blocked():
            return super().submit(*args, **kwargs)


class _pool:
    """A spawn-context process pool whose workers run polars single-threaded.

    spawn, not fork: polars and tiktoken hold thread pools that a fork can deadlock. One polars
    thread per worker: the workers already fill the cores; nested pools only oversubscribe them.
    ``initializer``/``initargs`` are handed to every worker at start-up.
    """

    def __init__(self, n: int, initializer=None, initargs=()):
        self.n = n
        self.initializer = initializer
        self.initargs = initargs

    def __enter__(self) -> ProcessPoolExecutor:
        from dataprep.lifetime import ensure_tracker, reclaim_signals, worker_init

        ensure_tracker()
        reclaim_signals()  # polars took SIGINT over at its import; we are about to wait on workers
        self._old = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = "1"  # read by the spawned children at their import
        # Every worker dies with this process and leaves Ctrl-C to it (dataprep.lifetime).
        self.ex = _Executor(self.n, mp_context=multiprocessing.get_context("spawn"),
                            initializer=worker_init, initargs=(self.initializer, *self.initargs))
        return self.ex.__enter__()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                return self.ex.__exit__(exc_type, exc, tb)
            # Interrupted or failed: the workers' results are not wanted. A plain shutdown would
            # wait for every running shard to finish (seconds on a big file); end them now.
            _end_workers(self.ex)
            return False
        finally:
            if self._old is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = self._old


def _end_workers(ex: ProcessPoolExecutor, grace: float = 1.0) -> None:
    """Stop a pool at once: queued work is dropped, running workers get SIGTERM, then SIGKILL."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(0.5)


# Parallel scans of plain files hand out shards through one shared counter: whoever is free
# (a worker or the parent) takes the next shard, so nobody waits while work is left.
_NEXT = None  # multiprocessing.Value("q") in workers, set by _init_worker


def _init_worker(counter) -> None:
    global _NEXT
    _NEXT = counter


def _warm(opts: ScanOptions) -> None:
    """Build the worker's tokenizer while the parent prepares (overlaps the start-up)."""
    if opts.tokens:
        _counter(opts)


def _take(counter) -> int:
    with counter.get_lock():
        i = counter.value
        counter.value = i + 1
    return i


def _scan_next(path: str, ranges: list[tuple[int, int]], expected: str, opts: ScanOptions):
    """One worker ticket: scan the next shard nobody has taken, as (index, shard), or None."""
    i = _take(_NEXT)
    if i >= len(ranges):
        return None
    s, e = ranges[i]
    return i, scan_range(path, s, e, expected, opts)


def _scan_parallel(path: str, ranges: list[tuple[int, int]], expected: str, opts: ScanOptions, jobs: int,
                   bar: _Progress) -> list[_Shard]:
    """Shards on ``jobs - 1`` spawned workers plus this process.

    The parent scans too: it is already warm (imports, tokenizer) while a spawned worker needs
    ~1 s to start, and it would otherwise sit idle waiting for results.
    """
    from dataprep.lifetime import ensure_tracker

    ensure_tracker()  # before the counter's semaphore registers with it
    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("q", 0)
    n = len(ranges)
    workers = max(1, min(jobs - 1, n - 1))
    out: list[_Shard | None] = [None] * n
    with _pool(workers, _init_worker, (counter,)) as ex:
        for _ in range(workers):  # each submit starts one worker: start them all now
            ex.submit(_warm, opts)
        # One ticket per shard at most; tickets left when the counter has run out return None.
        futs = [ex.submit(_scan_next, path, ranges, expected, opts) for _ in range(n)]
        pending = set(futs)

        def collect(fut) -> None:
            pending.discard(fut)
            r = fut.result()
            if r is not None:
                i, shard = r
                out[i] = shard
                bar.advance(ranges[i][1] - ranges[i][0], shard.lines)

        try:
            while (i := _take(counter)) < n:
                s, e = ranges[i]
                out[i] = scan_range(path, s, e, expected, opts)
                bar.advance(e - s, out[i].lines)
                for f in [f for f in pending if f.done()]:  # the workers' results so far (progress)
                    collect(f)
            for f in as_completed(list(pending)):
                collect(f)
            # Every result is in: let the workers exit on their own instead of waiting for their
            # interpreters to shut down (~0.1 s with polars and numpy loaded).
            ex.shutdown(wait=False)
        except BaseException:
            # Workers stop taking shards. Not a blocking acquire: a worker killed while it held
            # the lock (SIGHUP reaches the whole process group) would hang the interrupt here.
            lock = counter.get_lock()
            if lock.acquire(timeout=0.2):
                counter.value = n
                lock.release()
            for f in futs:
                f.cancel()
            raise
    return out  # type: ignore[return-value]


def open_input(path: str):
    """(stream, size or None, plain) for a scan: ``plain`` files can be cut into byte ranges.

    Raises InputError for anything that cannot be read at all.
    """
    stream = open_binary(path)
    size = None
    plain = False
    if path != "-":
        try:
            size = os.path.getsize(path)
        except OSError:
            pass
        plain = type(stream) is io.BufferedReader and getattr(stream, "name", None) == path
    return stream, size, plain


def _spool_stdin() -> str:
    import atexit
    import shutil
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="dataprep-stdin-", suffix=".jsonl")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    atexit.register(lambda: os.path.exists(tmp) and os.remove(tmp))
    return tmp


def _merge(path: str, size, shards: list[_Shard], expected: str, opts: ScanOptions) -> Profile:
    state = FileState()
    findings: list[Finding] = []
    frames = []
    first = 0
    systems: dict[int, str] = {}
    for sh in shards:
        # Shards number their lines from 1; shift them to file line numbers.
        for f in sh.findings:
            if f.line:
                f.line += first
        for arr in sh.state.format_lines.values():
            for i in range(len(arr)):
                arr[i] += first
        if sh.state.first_crlf:
            sh.state.first_crlf += first
        sh.columns["line"] = np.asarray(sh.columns["line"], dtype=np.int64) + first
        findings.extend(sh.findings)
        state.merge(sh.state)
        frames.append(pl.DataFrame(sh.columns, schema={c: _SCHEMA[c] for c in sh.columns}))
        sh.columns = None  # the frame holds the data now; free the shard's copy before the next
        systems.update(sh.system_prompts)
        first += sh.lines
    findings.extend(file_level_findings(path, state, size))
    findings.sort(key=lambda f: (f.line, f.rule))
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=_SCHEMA)
    frames.clear()
    release_freed()
    if not opts.sketch:  # not computed: null, not a 0 that reads as "no prompt"
        rows = rows.with_columns(pl.lit(None, dtype=pl.UInt64).alias("prompt_hash"))
    if not opts.tokens:  # not counted: null, not 0 tokens (in the schema's column order)
        rows = rows.with_columns(pl.lit(None, dtype=pl.Int64).alias(c) for c in TOKEN_COLUMNS).select(list(_SCHEMA))
    sigs = exact = None
    if opts.sketch:
        # Copy signatures shard by shard into one array, releasing each shard's block as it goes:
        # np.concatenate would hold both copies (512 MB each at 1M rows) at the peak.
        n = sum(len(sh.exact) for sh in shards)
        # Width from the shards: the Ray engine strips signatures (width 0) and keeps them remote.
        width = shards[0].signatures.shape[1] if shards else opts.minhash.num_perm
        sigs = np.empty((n, width), np.uint32)
        exact = np.empty(n, np.uint64)
        pos = 0
        for sh in shards:
            k = len(sh.exact)
            sigs[pos:pos + k] = sh.signatures
            exact[pos:pos + k] = sh.exact
            sh.signatures = sh.exact = None
            pos += k
            release_freed()  # the shard's block (glibc keeps freed blocks of this size mapped)
    text = merge_text_features([sh.text for sh in shards]) if shards and opts.text else None
    return Profile(path, state.format, size, rows, findings, state, sigs, exact, text, systems, opts)


_SCHEMA = {
    "line": pl.Int64, "offset": pl.Int64, "length": pl.Int64, "format": pl.String, "blank": pl.Boolean,
    "parsed": pl.Boolean, "valid": pl.Boolean, "errors": pl.Int32, "warnings": pl.Int32, "is_example": pl.Boolean,
    "roles": pl.String, "turns": pl.Int32, "tool_calls": pl.Int32, "has_tools": pl.Boolean,
    "system_hash": pl.UInt64, "chars_system": pl.Int64, "chars_user": pl.Int64, "chars_assistant": pl.Int64,
    "chars_tool": pl.Int64, "prompt_hash": pl.UInt64,
    **{c: pl.Int64 for c in TOKEN_COLUMNS},
}
ROW_SCHEMA = dict(_SCHEMA)


def _unreadable(path: str, reason: str, opts: ScanOptions) -> Profile:
    rep = unreadable_report(path, reason)
    prof = _from_report(path, rep, None, opts)
    prof.readable = False
    return prof


def _from_report(path: str, rep: FileReport, size, opts: ScanOptions) -> Profile:
    state = FileState(records=rep.examples, lines=rep.lines)
    prof = Profile(path, rep.format, size, pl.DataFrame(schema=_SCHEMA), rep.findings, state,
                   np.zeros((0, opts.minhash.num_perm), np.uint32) if opts.sketch else None,
                   np.zeros(0, np.uint64) if opts.sketch else None, None, {}, opts)
    prof.readable = rep.readable
    return prof


def _bytes_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def progress_text(done: int, total: int | None, rows: int, elapsed: float, finished: bool = False) -> str:
    """The scan's progress line: share done, bytes, rows, the rate since the start and the time left.

    The rate is bytes done over the time since the scan started (not over the time between the
    first and the last completed shard, which read 215 GB/s when two shards finished together),
    and nothing but the size is claimed before the first shard is done."""
    if done <= 0 and not finished:
        size = f" of {_bytes_text(total)}" if total else ""
        return f"scanning{size}: reading the first shards…"
    known = bool(total) and done <= total  # a compressed file's bytes can outgrow its size on disk
    pct = 100 if finished else min(99, int(100 * done / total)) if known else None
    parts = [f"scanning {pct}%" if pct is not None else "scanning",
             f"{_bytes_text(done)} of {_bytes_text(total)}" if known else _bytes_text(done), f"{rows:,} rows"]
    if elapsed > 0:
        rate = done / elapsed
        parts.append(f"{_bytes_text(rate)}/s")
        if known and not finished and rate > 0:
            left = int((total - done) / rate + 0.5)
            parts.append(f"{left // 60}:{left % 60:02d} left")
    return " · ".join(parts)


class _Progress:
    """The scan's progress on stderr (percentage, bytes, rows, rate, time left), only when asked
    and stderr is a terminal. ``console`` and ``clock`` let a test render it deterministically.
    ``enabled`` may be a callable instead: it gets ``(bytes done, total bytes or None, rows)``
    after each shard and nothing is drawn (the TUI shows the share in its status line)."""

    def __init__(self, total: int | None, enabled, *, console=None, clock: Callable[[], float] = time.monotonic):
        self.p = None
        self.total, self.done, self.rows, self.clock = total, 0, 0, clock
        self.start = clock()
        self.callback = enabled if callable(enabled) else None
        if self.callback is not None:
            self.callback(0, total, 0)
        elif enabled and (console is not None or sys.stderr.isatty()):
            from rich.console import Console
            from rich.progress import BarColumn, Progress, ProgressColumn
            from rich.text import Text

            bar = self

            class _Line(ProgressColumn):  # rendered on every refresh: the rate and time left stay live
                def render(self, task) -> Text:
                    return Text(bar.text())

            console = console or Console(stderr=True)
            # the line needs ~75 columns: a bar only in what is left, so no number is ever cut
            room = console.width - 80
            columns = ([BarColumn(bar_width=min(30, room))] if room >= 10 else []) + [_Line()]
            self.p = Progress(*columns, console=console, transient=True)
            self.p.start()
            self.task = self.p.add_task("scan", total=total)

    def text(self, finished: bool = False) -> str:
        return progress_text(self.done, self.total, self.rows, self.clock() - self.start, finished)

    def advance(self, nbytes: int, rows: int) -> None:
        self.done += nbytes
        self.rows += rows
        if self.callback is not None:
            self.callback(self.done, self.total, self.rows)
        if self.p is not None:
            self.p.update(self.task, advance=nbytes)

    def close(self) -> None:
        if self.p is not None:
            self.p.stop()
