"""``dataprep.dedup(path, ...)``: the whole ``dataprep dedup`` job as one library call.

    >>> import dataprep
    >>> r = dataprep.dedup("train.jsonl", out="kept.jsonl", removed="dupes.jsonl", against=["val.jsonl"])
    >>> r.accounting()       # {'lines': 150, 'kept': 140, 'removed': 10, 'not_compared': 0}
    >>> r.written            # {'out': 140, 'removed': 10}
    >>> r.exit_code          # what `dataprep dedup` exits with (1: a finding at or above fail_on)

It scans (stdin ``-`` is spooled to a temporary file first), checks the indexes, analyses, writes
the asked-for files and adds to the index, exactly as the command does, and prints nothing: the
command prints ``result.renderables()`` and the report. Problems the command reports as usage
errors (exit 2) raise :class:`dataprep.jobs.JobError` with the command's message.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dataprep.jobs import JobError

KEEPS = ("first", "longest", "most-trainable-tokens")
FAIL_ON = ("error", "warning")


@dataclass
class DedupJobResult:
    """What one ``dedup`` job found and wrote."""

    path: str  # as given ("-" for stdin)
    report: Any  # dataprep.dedup.analyze.DedupReport: clusters, kept lines, findings, leaks
    files: Any  # dataprep.validate.ValidationResult: PATH and each --against file, for the output formats
    fail_on: str = "error"
    #: lines written per output asked for: "out" (kept examples), "removed" (duplicates), "clusters"
    written: dict[str, int] = field(default_factory=dict)
    added: list[tuple[str, int]] = field(default_factory=list)  # (index name, examples added) for index_add

    @property
    def findings(self) -> list:
        return self.report.findings

    @property
    def exit_code(self) -> int:
        """1 when a finding is at or above ``fail_on`` (duplicates warn, leakage DP502 is an error), else 0."""
        from dataprep.schema.findings import Severity, any_at_or_above

        return 1 if any_at_or_above(self.report.findings, Severity(self.fail_on)) else 0

    def accounting(self) -> dict[str, int]:
        """input lines = kept + removed as duplicates + not compared (every line is one of them)."""
        return self.report.accounting()

    def summary(self) -> dict[str, Any]:
        """The counts the command's summary shows, the verdict of the findings and what was written."""
        d = self.report.to_dict()
        s = self.files.summary()
        return {"path": self.path, **self.accounting(), "examples": d["examples"],
                "exact_duplicates": d["exact_duplicates"], "near_duplicates": d["near_duplicates"],
                "clusters": d["clusters"], "conflict_lines": d["conflict_lines"], "leaked": self.report.leaked,
                "not_compared_by_reason": d["not_compared"], "errors": s["errors"], "warnings": s["warnings"],
                "verdict": s["verdict"], "written": dict(self.written),
                "added": {name: n for name, n in self.added}, "exit_code": self.exit_code}

    def renderables(self) -> list:
        """The command's human summary (rich renderables and strings, in order)."""
        from dataprep.dedup.analyze import summary_renderables

        return summary_renderables(self.report) + [f"added {n:,} example(s) to index {name}"
                                                    for name, n in self.added]

    def to_dict(self) -> dict:
        """The ``dataprep dedup --json`` document."""
        from dataprep.meta import stamped

        return stamped(self.report.to_dict())


def dedup_options(compare: str = "conversation", threshold: float | None = None, num_perm: int | None = None,
                  ngram: int | None = None, char_shingles: bool = False):
    """ScanOptions for dedup and split; None leaves MinHashConfig's default."""
    from dataprep.dedup import MinHashConfig
    from dataprep.scan import ScanOptions

    kw = {"mode": "char" if char_shingles else "word"}
    for k, v in (("threshold", threshold), ("num_perm", num_perm), ("ngram", ngram)):
        if v is not None:
            kw[k] = v
    try:
        # The sketch is all dedup and split read: no text features, no DP3xx findings, and no
        # token counts unless a keep policy weighs them (the caller turns tokens back on).
        return ScanOptions(compare=compare, minhash=MinHashConfig(**kw), text=False, content=False, tokens=False)
    except ValueError as e:
        raise JobError(str(e)) from None


def scan_input(path: str, options, *, tmpdir: str, jobs: int | None = None, cache: bool = True,
               progress: bool = False, engine=None, stdin: IO[bytes] | None = None):
    """Scan one input for dedup/split; ``-`` (``stdin``, default ``sys.stdin``) is spooled into
    ``tmpdir`` first because the lines are read back. JobError for unreadable input and for a
    whole-file JSON array."""
    import shutil
    import sys

    from dataprep.scan import scan
    from dataprep.usable import unusable_reason

    if engine is not None:  # --engine ray: the signatures stay in the cluster for the banding
        def scan(p, **kw):
            return engine.scan(p, signatures="cluster", **kw)
    if path == "-":
        spool = os.path.join(tmpdir, "stdin.jsonl")
        with open(spool, "wb") as f:
            shutil.copyfileobj(stdin if stdin is not None else sys.stdin.buffer, f)
        prof = scan(spool, jobs=jobs, options=options, cache=False, progress=progress)
    else:
        prof = scan(path, jobs=jobs, options=options, cache=cache, progress=progress)
    if not prof.readable:
        raise JobError(prof.findings[0].message)
    if prof.rows.height == 0 and prof.findings and prof.findings[0].rule == "DP103":
        raise JobError(prof.findings[0].message)
    why = unusable_reason(prof)
    if why is not None:  # no example: "0 duplicates, PASS" (or three empty split files) would mislead
        raise JobError(f"{path}: {why}")
    return prof


def write_open(path: str | os.PathLike, what: str) -> IO[bytes]:
    """``path`` opened for writing (its folder made); JobError naming ``what`` when it cannot be."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
    except OSError as e:
        raise JobError(f"cannot write {what} {path}: {e.strerror or e}") from None


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (yet): two names of one file only when both exist
        return False


def _check_outputs(outputs: dict[str, str | os.PathLike], inputs: Sequence[str]) -> None:
    """Opening an output for writing empties it: refuse before that would destroy an input or
    another output (the lines would be read back from an emptied file, or two writers clobber)."""
    named = [(flag, p) for flag, p in outputs.items() if p is not None]
    for flag, p in named:
        for src in inputs:
            if src != "-" and (_same_file(p, src) or os.path.abspath(p) == os.path.abspath(src)):
                raise JobError(f"{flag} {p} is an input file: give another path (writing there would "
                               "empty it)")
    for i, (flag, p) in enumerate(named):
        for flag2, p2 in named[i + 1:]:
            if os.path.abspath(p) == os.path.abspath(p2) or _same_file(p, p2):
                raise JobError(f"{flag} and {flag2} name one file ({p}): give each its own path")


def dedup(
    path: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    removed: str | os.PathLike | None = None,
    clusters: str | os.PathLike | None = None,
    against: Sequence[str | os.PathLike] = (),
    keep: str = "first",
    compare: str = "conversation",
    threshold: float | None = None,
    num_perm: int | None = None,
    ngram: int | None = None,
    char_shingles: bool = False,
    leak_ngram: int = 13,
    leak_min_share: float = 0.0,
    conflicts: bool = True,
    index: str | os.PathLike | None = None,
    index_add: bool = False,
    redis: str | None = None,
    fail_on: str = "error",
    jobs: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    cache: bool = True,
    progress: bool = False,
    stdin: IO[bytes] | None = None,
) -> DedupJobResult:
    """Exact and near duplicates, conflicting answers (DP503) and leakage into ``against`` (DP502).

    ``out``: the kept examples, byte-identical (lines that are not examples are not written);
    ``removed``: the lines removed as duplicates; ``clusters``: one JSON line per cluster of 2+
    lines. ``index``/``redis``: persistent indexes of data already trained on (``index_add``: then
    add the kept examples). ``path`` ``-`` reads ``stdin`` (default: this process's stdin).
    Raises JobError (the command's exit 2) for bad options, unreadable input, unwritable output.
    """
    import dataclasses
    import tempfile

    import numpy as np
    import orjson

    from dataprep import cache as profile_cache
    from dataprep.dedup.analyze import route_lines
    from dataprep.dedup.index import IndexUnusable, LocalIndex, RedisIndex
    from dataprep.engines import EngineError, open_engine
    from dataprep.validate import FileReport, ValidationResult

    path = os.fspath(path)
    if isinstance(against, (str, os.PathLike)):  # one held-out file, not a sequence of characters
        against = [against]
    against_paths = [os.fspath(p) for p in against]
    if fail_on not in FAIL_ON:
        raise JobError("--fail-on takes error or warning")
    if keep not in KEEPS:
        raise JobError(f"keep takes {', '.join(KEEPS)}; got {keep!r}")
    if "-" in against_paths:
        raise JobError("only PATH may be - (stdin)")
    if index_add and index is None and redis is None:
        raise JobError("--index-add needs --index DIR or --redis HOST:PORT")
    _check_outputs({"--out": out, "--removed": removed, "--clusters": clusters}, [path, *against_paths])
    options = dedup_options(compare, threshold, num_perm, ngram, char_shingles)
    if keep != "first":  # longest / most-trainable-tokens weigh token counts
        options = dataclasses.replace(options, tokens=True)
    indexes = []
    try:
        if index is not None:
            indexes.append(LocalIndex(Path(index)))
            if msg := indexes[-1].compatible(options.minhash, options.compare):
                raise IndexUnusable(msg)
        if redis is not None:
            indexes.append(RedisIndex(redis, options.minhash, options.compare))
    except IndexUnusable as e:
        raise JobError(str(e)) from None
    try:
        eng = open_engine(engine, address=ray_address, jobs=jobs)
    except EngineError as e:
        raise JobError(str(e)) from None

    written: dict[str, int] = {}
    added: list[tuple[str, int]] = []
    # The profile cache is written while the analysis runs (saves_in_background).
    with eng, tempfile.TemporaryDirectory(prefix="dataprep-dedup-") as tmp, profile_cache.saves_in_background():
        def scan_one(p: str):
            return scan_input(p, options, tmpdir=tmp, jobs=jobs, cache=cache, progress=progress, engine=eng,
                              stdin=stdin)

        prof = scan_one(path)
        others = [scan_one(p) for p in against_paths]
        try:
            report = eng.analyze(prof, keep=keep, against=others, conflicts=conflicts, leak_ngram=leak_ngram,
                                 leak_min_share=leak_min_share, indexes=indexes)
        except (ValueError, OSError) as e:
            raise JobError(str(e)) from None
        if path == "-":  # name stdin as the user did, not by its spool file
            report.path = "-"
            for f in report.findings:
                f.path = "-" if f.path == prof.path else f.path
        routes = [(name, dest) for name, dest in (("out", out), ("removed", removed)) if dest is not None]
        if routes:
            # one pass over the input: kept examples to --out, duplicates to --removed; lines that
            # are not examples go nowhere (the accounting counts them as not compared)
            where = np.full(prof.rows.height, -1, dtype=np.int64)
            slot = {name: k for k, (name, _) in enumerate(routes)}
            is_kept = report.result.is_kept
            if "removed" in slot:
                where[report.example_lines[~is_kept] - 1] = slot["removed"]
            if "out" in slot:
                where[report.example_lines[is_kept] - 1] = slot["out"]
            handles = []
            try:
                for name, dest in routes:
                    handles.append(write_open(dest, f"--{name}"))
                counts = route_lines(prof, where, handles)
            finally:
                for fh in handles:
                    fh.close()
            written.update({name: counts[k] for name, k in slot.items()})
        if clusters is not None:
            n = 0
            with write_open(clusters, "--clusters") as fh:
                for c in report.clusters():
                    fh.write(orjson.dumps(c) + b"\n")
                    n += 1
            written["clusters"] = n
        if index_add:
            from dataprep.dedup.leakage import L_EXACT

            in_index = set()
            for lk in report.leaks:
                if lk.index is not None:
                    in_index.update(lk.lines[lk.kind == L_EXACT].tolist())
            rows = np.array([ln - 1 for ln in report.kept_lines.tolist() if ln not in in_index], dtype=np.int64)
            try:
                for idx in indexes:
                    added.append((idx.name, idx.add(prof, rows, source=path)))
            except (IndexUnusable, OSError) as e:
                raise JobError(f"cannot add to the index: {e}") from None

    by_path: dict[str, list] = {}
    for f in report.findings:
        by_path.setdefault(f.path, []).append(f)
    files = [FileReport(report.path, prof.format, report.examples, prof.state.valid, report.lines_total,
                        by_path.get(report.path, []))]
    for o, p in zip(others, against_paths):
        files.append(FileReport(p, o.format, int(o.rows["is_example"].sum()) if o.rows.height else 0, o.state.valid,
                                o.rows.height, by_path.get(o.path, [])))
    return DedupJobResult(path, report, ValidationResult(files), fail_on=fail_on, written=written, added=added)


__all__ = ["DedupJobResult", "JobError", "dedup", "dedup_options", "scan_input", "write_open"]
