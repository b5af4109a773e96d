"""The audit's costs at scale (issue 15), kept honest on small real data:

- DP500/DP501: one message string per distinct message, shared by every Finding that says it
  (at 1M heavily duplicated lines a string per line was ~250 MB), with the same texts as a
  message formatted per line;
- the language sample is detected in spawned workers while dedup runs (a forked worker counts
  the parent's profile as its own memory) and gives the same report as detection in-process;
- a failure while starting it still fails the diversity analysis (fail closed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dataprep.dedup.analyze import analyze as dedup_analyze
from dataprep.dedup.clusters import EXACT
from dataprep.gate.verdict import assess
from dataprep.scan import scan

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _real_lines() -> list[str]:
    out = []
    for name in ("support_chat.jsonl", "multilingual.jsonl", "tools.jsonl"):
        out += [ln for ln in (ROOT / "sample_data" / name).read_text(encoding="utf-8").splitlines() if ln.strip()]
    return out


def _edited(line: str, k: int) -> str:
    """A light edit of a real chat line: a suffix on its last message."""
    rec = json.loads(line)
    msgs = rec.get("messages") or []
    if msgs and isinstance(msgs[-1].get("content"), str):
        msgs[-1]["content"] += f" (see note {k})"
    return json.dumps(rec, ensure_ascii=False)


@pytest.fixture(scope="module")
def dups(tmp_path_factory) -> Path:
    """Real sample lines, each also as exact copies and lightly edited copies, interleaved."""
    real = _real_lines()
    lines = []
    for rep in range(4):
        for ln in real:
            lines.append(ln if rep < 2 else _edited(ln, rep))
    p = tmp_path_factory.mktemp("dups") / "dups.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_duplicate_messages_are_shared_and_say_what_each_line_is(dups):
    prof = scan(str(dups), jobs=1, cache=False)
    rep = dedup_analyze(prof, conflicts=False)
    res = rep.result
    dup_f = [f for f in rep.findings if f.rule in ("DP500", "DP501")]
    assert len(dup_f) == int((res.dup_kind != 0).sum()) > 0
    assert {f.rule for f in dup_f} == {"DP500", "DP501"}
    # The texts, formatted line by line from the clusters, as a reader checks them.
    lines = np.asarray(rep.example_lines)
    sizes = np.diff(res.cluster_offsets)
    by_line = {f.line: f for f in dup_f}
    for row in np.flatnonzero(res.dup_kind != 0).tolist():
        c = int(res.cluster_id[row])
        kept = int(res.cluster_kept[c])
        where = f"cluster {c}: {int(sizes[c])} lines, min similarity {float(res.cluster_similarity[c]):.2f}"
        msg = by_line[int(lines[row])].message
        if res.dup_kind[row] == EXACT:
            same = np.flatnonzero(rep.exact_keys == rep.exact_keys[row])[0]
            what = "which is kept" if same == kept else f"line {int(lines[kept])} is kept"
            assert msg == f"same example as line {int(lines[same])} after normalisation, {what} ({where})"
        else:
            assert msg.startswith(f"near duplicate of line {int(lines[kept])} (kept): estimated Jaccard ")
            assert msg.endswith(f" ({where})")
    # Every distinct text is one object: memory is per message, not per duplicate line.
    assert len({id(f.message) for f in dup_f}) == len({f.message for f in dup_f}) < len(dup_f)


def _diversity_json(fa) -> dict:
    d = fa.audit_dict()
    d.pop("stage_seconds")
    return d


def test_language_in_workers_gives_the_same_audit_as_in_process(dups, monkeypatch):
    from dataprep.diversity.analyze import LanguageJob

    monkeypatch.setattr(LanguageJob, "POOL_MIN_TEXTS", 2)  # the small file takes the workers' path
    prof = scan(str(dups), jobs=1, cache=False)
    pooled = assess(prof, "openai", jobs=2)
    inline = assess(prof, "openai", jobs=1)
    assert not pooled.failed and not inline.failed
    assert pooled.diversity["languages"]  # the sample was detected
    assert _diversity_json(pooled) == _diversity_json(inline)
    assert [f.to_dict() for f in pooled.findings] == [f.to_dict() for f in inline.findings]


def test_language_job_uses_spawned_workers_that_end_with_it(dups, monkeypatch):
    import multiprocessing

    from dataprep.diversity.analyze import LanguageJob

    monkeypatch.setattr(LanguageJob, "POOL_MIN_TEXTS", 2)
    prof = scan(str(dups), jobs=1, cache=False)
    with LanguageJob(prof, jobs=2) as job:
        ex = job._pool.ex
        procs = list(ex._processes.values())
        assert procs and all(p._popen.method == "spawn" for p in procs)  # not forked from this process
        sample = job.result()
    assert sample.size == len(job.rows)
    assert all(not p.is_alive() for p in procs)
    assert not multiprocessing.active_children()


def test_a_failure_starting_the_language_sample_fails_diversity_closed(dups, monkeypatch):
    import dataprep.diversity.analyze as da

    def boom(*a, **k):
        raise OSError("sample lines could not be read back")

    monkeypatch.setattr(da, "_sample_texts", boom)
    prof = scan(str(dups), jobs=1, cache=False)
    fa = assess(prof, "openai", jobs=2)
    assert "diversity" in fa.failed and "could not be read back" in fa.failed["diversity"]
    assert fa.verdict == "fail"
    assert any(f.rule == "DP199" for f in fa.findings)


def test_counts_in_one_pass_equal_counting_one_by_one_and_follow_the_findings():
    """A report reads its counts several times (summary, readiness, table, JSON): at 1.5M
    findings counting them through ``Counts.add`` each time cost ~10 s of an audit. ``Counts.of``
    gives exactly what ``add`` gives; a FileAssessment counts its findings once per list and
    again when the list is replaced or grows."""
    import random

    from dataprep.gate.verdict import FileAssessment
    from dataprep.schema.findings import Counts, Finding, Severity

    rng = random.Random(4)
    sevs = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    found = [Finding(rng.choice(["DP500", "DP101", "DP305", "DP600"]), "n", rng.choice(sevs), "p", i, "m")
             for i in range(2000)]
    one_by_one = Counts()
    for f in found:
        one_by_one.add(f)
    assert Counts.of(found) == one_by_one
    assert list(Counts.of(found).by_rule) == list(one_by_one.by_rule)  # same order of first appearance
    assert Counts.of([]) == Counts()
    assert Counts.total([Counts.of(found[:700]), Counts.of(found[700:])]) == one_by_one

    fa = FileAssessment("p", "openai-chat", 10, 10, 10, list(found))
    first = fa.counts
    assert first == one_by_one and fa.counts is first  # counted once
    fa.findings.append(Finding("DP101", "n", Severity.ERROR, "p", 1, "m"))
    assert fa.counts.errors == first.errors + 1  # the list grew: counted again
    fa.findings = found[:10]
    assert fa.counts == Counts.of(found[:10])  # another list
