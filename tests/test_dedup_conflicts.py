"""DP503 on every core: the worker-process path finds exactly what one process finds, on plain
and compressed input, with every compare mode; its workers never outlive a failed analysis."""

from __future__ import annotations

import gzip
import importlib
import random
import time

import orjson
import pytest

from dataprep.dedup import conflicts as C
from dataprep.lifetime import descendants
from dataprep.scan import scan

A = importlib.import_module("dataprep.dedup.analyze")

VOCAB = ("the a answer is four five six seven cat dog blue red green tea cup hill road lamp "
         "river stone chair bread cloud paper window garden letter silver orange").split()


def _line(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user},
                                      {"role": "assistant", "content": answer}]}) + b"\n"


def _corpus(seed: int = 3, prompts: int = 120) -> bytes:
    """Prompt groups of 1-9 lines: exact copies, light edits (no conflict) and unrelated answers
    (conflicts), shuffled so groups are spread over the file."""
    rng = random.Random(seed)
    out = []
    for p in range(prompts):
        user = f"Question {p}: " + " ".join(rng.choices(VOCAB, k=6))
        base = " ".join(rng.choices(VOCAB, k=rng.randint(8, 30)))
        for _ in range(rng.choice([1, 2, 3, 5, 9])):
            r = rng.random()
            if r < 0.4:
                ans = base
            elif r < 0.7:
                w = base.split()
                w[rng.randrange(len(w))] = rng.choice(VOCAB)
                ans = " ".join(w)
            else:
                ans = " ".join(rng.choices(VOCAB, k=rng.randint(3, 30)))
            out.append(_line(user if rng.random() < 0.8 else user.upper(), ans))
    rng.shuffle(out)
    return b"".join(out)


def _groups(report_or_list) -> list[tuple[list[int], float]]:
    return [(c.lines, c.min_similarity) for c in report_or_list]


@pytest.fixture
def small_chunks(monkeypatch):
    """Workers for any size of job, and chunks of a few groups, so the pool path really runs."""
    from dataprep.dedup import clusters

    monkeypatch.setattr(C, "PARALLEL_MIN", 0)
    monkeypatch.setattr(clusters, "_CONFLICT_CHUNK", 16)


@pytest.mark.parametrize("compare", ["conversation", "user", "assistant"])
def test_workers_find_what_one_process_finds(tmp_path, small_chunks, compare):
    from dataprep.scan import ScanOptions

    path = tmp_path / "dp503.jsonl"
    path.write_bytes(_corpus())
    prof = scan(str(path), jobs=1, cache=False, options=ScanOptions(compare=compare, tokens=False, text=False))
    ex = A.example_index(prof)
    one = _groups(A._conflicts(prof, ex, jobs=1))
    two = _groups(A._conflicts(prof, ex, jobs=2))
    assert one == two
    assert len(one) >= 20  # the corpus has conflicts in every compare mode
    # And the whole report (DP500/501/503 findings, clusters) is the same either way.
    r1, r2 = A.analyze(prof, jobs=1), A.analyze(prof, jobs=2)
    assert [f.to_dict() for f in r1.findings] == [f.to_dict() for f in r2.findings]


def test_compare_user_still_finds_conflicting_answers(tmp_path):
    """With --compare user the compared text is the prompt: every line of a prompt group has the
    same exact key, yet their answers differ. DP503 must still see them."""
    from dataprep.scan import ScanOptions

    path = tmp_path / "user.jsonl"
    path.write_bytes(_line("What is 2+2?", "The answer is 4, as anyone can check.")
                     + _line("what is 2+2?", "It is five, according to my sources.")
                     + _line("Name a colour", "Blue is a colour."))
    for compare in ("conversation", "user"):
        prof = scan(str(path), jobs=1, cache=False, options=ScanOptions(compare=compare, tokens=False, text=False))
        rep = A.analyze(prof)
        assert [c.lines for c in rep.conflicts] == [[1, 2]], compare
        assert [f.line for f in rep.findings if f.rule == "DP503"] == [2], compare


def test_compressed_input_is_spooled_for_the_workers(tmp_path, small_chunks):
    raw = _corpus(seed=5)
    plain, gz = tmp_path / "c.jsonl", tmp_path / "c.jsonl.gz"
    plain.write_bytes(raw)
    gz.write_bytes(gzip.compress(raw))
    want = _groups(A._conflicts(p := scan(str(plain), jobs=1, cache=False), A.example_index(p), jobs=1))
    assert want
    pg = scan(str(gz), jobs=1, cache=False)
    assert _groups(A._conflicts(pg, A.example_index(pg), jobs=2)) == want
    assert _groups(A._conflicts(pg, A.example_index(pg), jobs=1)) == want


def test_chunks_keep_groups_whole():
    sizes = [3, 1, 40, 2, 2, 2, 7]
    spans = C.chunks_of(sizes, 5)
    bounds = {0}
    acc = 0
    for s in sizes:
        acc += s
        bounds.add(acc)
    assert spans[0][0] == 0 and spans[-1][1] == sum(sizes)
    assert all(a == b for (_, a), (b, _) in zip(spans, spans[1:]))  # contiguous, no gap
    assert all(a in bounds and b in bounds for a, b in spans)  # cut only between groups
    assert (4, 44) in spans  # the big group is a chunk of its own


def test_no_worker_outlives_a_failed_analysis(tmp_path, small_chunks):
    path = tmp_path / "fail.jsonl"
    path.write_bytes(_corpus(seed=9, prompts=400))
    prof = scan(str(path), jobs=1, cache=False)
    before = set(descendants())

    def broken(profile, keep):
        # By now the DP503 workers have been started (they run while the clusters are built).
        assert set(descendants()) - before, "no DP503 worker was started"
        raise RuntimeError("clustering failed")

    # The traceback is kept (as a caller that reports the error keeps it): it holds analyze's
    # frame, so nothing is ended by garbage collection; analyze itself must end its workers.
    with pytest.raises(RuntimeError, match="clustering failed") as info:
        A.analyze(prof, find=broken, jobs=2)
    deadline = time.monotonic() + 2.0
    while set(descendants()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in set(descendants()) - before if not _is_tracker(p)]
    assert not left, f"DP503 workers still alive: {left}"
    assert info.tb is not None


def _is_tracker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"resource_tracker" in f.read()
    except OSError:
        return True  # gone meanwhile


def _large_group_case(tmp_path, answers: list[str | None]):
    """One prompt group's answers (None: a line without an assistant message) in a file, and
    what ``conflict_chunk`` says of it next to the whole-group reference."""
    from dataprep.dedup.clusters import conflicting_answers

    data, offsets, lengths = b"", [], []
    for a in answers:
        line = _line("same prompt", a) if a is not None else \
            orjson.dumps({"messages": [{"role": "user", "content": "same prompt"}]}) + b"\n"
        offsets.append(len(data))
        lengths.append(len(line) - 1)
        data += line
    path = tmp_path / "group.jsonl"
    path.write_bytes(data)
    import numpy as np

    got = C.conflict_chunk(str(path), np.asarray(offsets), np.asarray(lengths), np.zeros(len(answers), np.uint64),
                           max_group=8)
    ok = [i for i, a in enumerate(answers) if a is not None]
    ref = conflicting_answers([0] * len(ok), [answers[i] for i in ok], max_group=8)
    return [(c[0].tolist(), c[1]) for c in got], [([ok[m] for m in c.members], c.min_similarity) for c in ref]


def test_a_large_group_stops_reading_at_its_first_conflict_with_the_same_verdict(tmp_path, monkeypatch):
    rng = random.Random(5)
    base = " ".join(rng.choices(VOCAB, k=30))

    def edit(text: str) -> str:
        w = text.split()
        w[rng.randrange(len(w))] = rng.choice(VOCAB)
        return " ".join(w)

    reads = []
    real = C.answer_text
    monkeypatch.setattr(C, "answer_text", lambda data: reads.append(1) or real(data))
    # 200 light edits of one answer, an unrelated answer at line 150, lines without an answer
    answers = [edit(base) for _ in range(200)]
    answers[150] = "a completely different reply about tea cups and silver windows"
    answers[3] = answers[170] = None
    got, ref = _large_group_case(tmp_path, answers)
    assert len(ref) == 1 and len(got) == 1
    assert got[0][0] == ref[0][0]  # every line with an answer, and the unread ones after the conflict
    assert got[0][1] < 0.5 and got[0][1] >= ref[0][1]  # the lowest seen until it stopped
    assert len(reads) < 200  # the lines after the batch holding line 150 were not read

    # no conflict: read whole, nothing reported (the reference agrees)
    reads.clear()
    answers = [edit(base) for _ in range(100)]
    got, ref = _large_group_case(tmp_path, answers)
    assert got == ref == [] and len(reads) == 100

    # more lines than max_group but few distinct answers, whose conflict is between two of the
    # others (not with the first): the whole-group rules decide, as for a small group
    near1 = " ".join(base.split()[:20] + ["cat"] * 10)
    near2 = " ".join(["dog"] * 10 + base.split()[10:])
    answers = [base] * 40 + [near1] * 40 + [near2] * 40
    got, ref = _large_group_case(tmp_path, answers)
    assert got == ref
