"""`dataprep dedup` and `dataprep split` end to end, on a fixture with planted duplicates.

The fixture is the first 60 lines of sample_data/support_chat.jsonl plus planted lines:
61 = line 3 with its replies upper-cased and extra punctuation (exact after normalisation),
62 = line 37 without its `weight: 0` (exact; more trainable tokens), 63 = line 18 with a sentence
appended (near), 64 = line 7's prompt with a different answer (DP503), 65 invalid JSON, 66 blank.
Line 2 ends in CRLF, so byte-identical copies are checked with a non-default ending too.
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import time

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.dedup import shingles as sh
from dataprep.dedup.analyze import analyze, compared_text
from dataprep.dedup.index import LocalIndex
from dataprep.dedup.leakage import LEAK_KINDS
from dataprep.dedup.splitting import split
from dataprep.scan import scan

EXACT_CASE, EXACT_WEIGHT, NEAR_OF, CONFLICT_OF = 3, 37, 18, 7
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    # One cache for the module: the CLI runs below rescan nothing they have already scanned.
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "dedup-cache"))


def _rec(line: bytes) -> dict:
    return orjson.loads(line)


def build_fixture(samples) -> list[bytes]:
    """Raw lines (with endings) of the fixture described in the module doc."""
    src = (samples / "support_chat.jsonl").read_bytes().splitlines()
    raw = [ln + b"\n" for ln in src[:60]]
    raw[1] = src[1] + b"\r\n"

    r = _rec(src[EXACT_CASE - 1])
    for m in r["messages"]:
        if m["role"] == "assistant":
            m["content"] = m["content"].upper() + " !!"
    raw.append(orjson.dumps(r) + b"\n")  # 61

    r = _rec(src[EXACT_WEIGHT - 1])
    for m in r["messages"]:
        m.pop("weight", None)
    raw.append(orjson.dumps(r) + b"\n")  # 62

    r = _rec(src[NEAR_OF - 1])
    r["messages"][-1]["content"] += " Thanks again for riding with us."
    raw.append(orjson.dumps(r) + b"\n")  # 63

    r = _rec(src[CONFLICT_OF - 1])
    r["messages"][-1]["content"] = ("No, that is not possible with our shop; we only handle this over the phone "
                                    "during opening hours, so please call the store directly.")
    raw.append(orjson.dumps(r) + b"\n")  # 64
    raw.append(b"{not json\n")  # 65
    raw.append(b"\n")  # 66
    return raw


@pytest.fixture
def planted(tmp_path, samples):
    raw = build_fixture(samples)
    p = tmp_path / "planted.jsonl"
    p.write_bytes(b"".join(raw))
    return p, raw


def run(*args: str, input: bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def _findings(res) -> list[dict]:
    return [f for file in json.loads(res.stdout)["files"] for f in file["findings"]]


# ----------------------------------------------------------------------------- dedup


def test_planted_duplicates_counts_findings_kept_and_clusters(planted, tmp_path):
    path, raw = planted
    kept, clusters = tmp_path / "kept.jsonl", tmp_path / "clusters.jsonl"
    res = run("dedup", path, "--jobs", "1", "--out", kept, "--clusters", clusters, "--json", "-q")
    assert res.exit_code == 0, res.output  # duplicates are warnings
    d = json.loads(res.stdout)
    assert (d["examples"], d["exact_duplicates"], d["near_duplicates"], d["clusters"], d["kept"]) == (64, 2, 1, 3, 61)
    assert d["skipped_invalid"] == 2 and d["lines"] == 66
    assert d["params"] == d["params"] | {"num_perm": 128, "bands": 16, "rows": 8, "ngram": 5, "threshold": 0.8}
    assert d["conflicts"] == 1

    # Kept lines: every example except the three duplicates, byte for byte (CRLF line included).
    drop = {61, 62, 63}
    expect = b"".join(raw[i] for i in range(64) if i + 1 not in drop)
    assert kept.read_bytes() == expect

    got = [json.loads(x) for x in clusters.read_text().splitlines()]
    assert [(c["lines"], c["kept"]) for c in got] == [([3, 61], 3), ([18, 63], 18), ([37, 62], 37)]
    assert [c["cluster"] for c in got] == [0, 1, 2]
    assert got[0]["similarity"] == 1.0 and got[2]["similarity"] == 1.0
    assert 0.8 <= got[1]["similarity"] < 1.0

    res = run("dedup", path, "--jobs", "1", "--output-format", "json", "-q")
    fs = _findings(res)
    by_rule = {}
    for f in fs:
        by_rule.setdefault(f["rule"], []).append(f)
    assert [f["line"] for f in by_rule["DP500"]] == [61, 62]
    assert "line 3" in by_rule["DP500"][0]["message"] and "line 37" in by_rule["DP500"][1]["message"]
    assert [f["line"] for f in by_rule["DP501"]] == [63]
    assert "line 18" in by_rule["DP501"][0]["message"] and "Jaccard" in by_rule["DP501"][0]["message"]
    assert [f["line"] for f in by_rule["DP503"]] == [64]
    assert "line 7" in by_rule["DP503"][0]["message"]
    assert all(f["severity"] == "warning" for f in fs)
    assert set(by_rule) == {"DP500", "DP501", "DP503"}

    # --fail-on warning turns the duplicates into a failing exit.
    assert run("dedup", path, "--jobs", "1", "-q", "--fail-on", "warning").exit_code == 1


def test_text_summary_names_the_biggest_clusters(planted):
    path, _ = planted
    res = run("dedup", path, "--jobs", "1")
    assert res.exit_code == 0
    assert "exact duplicates (DP500)" in res.stdout and "largest clusters" in res.stdout
    assert "line 61: same example as line 3" in res.stdout


def test_keep_policies(planted):
    path, _ = planted
    prof = scan(str(path), jobs=1, cache=False)
    rows = prof.rows
    total = dict(zip(rows["line"].to_list(), rows["tokens_total"].to_list()))
    trainable = dict(zip(rows["line"].to_list(), rows["tokens_trainable"].to_list()))
    # The planted copies are built so the policies disagree.
    assert total[63] > total[18] and trainable[63] > trainable[18]
    assert trainable[62] > trainable[37]

    first = analyze(prof, keep="first", conflicts=False)
    longest = analyze(prof, keep="longest", conflicts=False)
    most = analyze(prof, keep="most-trainable-tokens", conflicts=False)
    kept = {name: set(r.kept_lines.tolist()) for name, r in
            (("first", first), ("longest", longest), ("most", most))}
    assert {3, 18, 37} <= kept["first"] and not {61, 62, 63} & kept["first"]
    assert 63 in kept["longest"] and 18 not in kept["longest"]
    assert {62, 63} <= kept["most"] and not {37, 18} & kept["most"]
    for name, rep, score in (("longest", longest, total), ("most", most, trainable)):
        for c in rep.clusters():
            best = max(c["lines"], key=lambda ln: (score[ln], -ln))
            assert c["kept"] == best, (name, c)
    assert len(kept["first"]) == len(kept["longest"]) == len(kept["most"]) == 61
    with pytest.raises(ValueError):
        analyze(prof, keep="shortest")


def test_conflicting_answers_only_for_material_differences(planted):
    path, _ = planted
    rep = analyze(scan(str(path), jobs=1, cache=False))
    assert [c.lines for c in rep.conflicts] == [[CONFLICT_OF, 64]]
    assert rep.conflicts[0].min_similarity < 0.5
    # 63 has line 18's prompt and a longer version of its answer: a near duplicate, not a conflict.
    assert [f.line for f in rep.findings if f.rule == "DP503"] == [64]


def _unique_example(k: int) -> bytes:
    user = f"Question {k}: which zorblat widget suits quixotic tandem number {k}?"
    answer = " ".join(f"vox{k}w{i}" for i in range(30)) + "."
    return orjson.dumps({"messages": [{"role": "user", "content": user},
                                      {"role": "assistant", "content": answer}]}) + b"\n"


def test_against_leakage_exact_near_and_ngram_only(planted, tmp_path):
    _, raw = planted
    train = tmp_path / "train.jsonl"
    train.write_bytes(b"".join(raw[:40]))
    src = [_rec(x) for x in raw[:40]]

    leak_exact = dict(src[9])
    leak_exact["messages"] = [dict(m, content=m["content"].lower()) for m in src[9]["messages"]]
    leak_near = _rec(raw[62])  # line 18 plus a sentence
    passage = src[25]["messages"][-1]["content"]
    assert len(passage.split()) >= 13
    ngram_only = {"messages": [
        {"role": "user", "content": "Something unrelated: my saddle creaks when I stand on the pedals."},
        {"role": "assistant", "content": "Grease the rails and the seatpost clamp first. For reference, an earlier "
         "note said: " + passage + " " + " ".join(f"filler{i}" for i in range(60))}]}
    val = tmp_path / "val.jsonl"
    val.write_bytes(b"".join([orjson.dumps(leak_exact) + b"\n", orjson.dumps(leak_near) + b"\n",
                              orjson.dumps(ngram_only) + b"\n", _unique_example(1), _unique_example(2)]))
    test = tmp_path / "test.jsonl"
    test.write_bytes(_unique_example(3) + _unique_example(4))

    # The documented form: files after --against are more --against files.
    res = run("dedup", train, "--against", val, test, "--jobs", "1", "--output-format", "json", "-q")
    assert res.exit_code == 1, res.output
    fs = [f for f in _findings(res) if f["rule"] == "DP502"]
    assert all(f["severity"] == "error" for f in fs)
    assert [(f["path"], f["line"]) for f in fs] == [(str(val), 1), (str(val), 2), (str(val), 3)]
    assert "line 10" in fs[0]["message"] and "line 18" in fs[1]["message"] and "line 26" in fs[2]["message"]

    opts = dict(jobs=1, cache=False)
    rep = analyze(scan(str(train), **opts), against=[scan(str(val), **opts), scan(str(test), **opts)])
    kinds = [LEAK_KINDS[k] for k in rep.leaks[0].kind.tolist()]
    assert kinds == ["exact", "near", "ngram"]
    assert rep.leaks[1].lines.tolist() == []
    assert rep.to_dict()["leakage"][0] | {"exact": 1, "near": 1, "ngram": 1, "leaked": 3} == rep.to_dict()["leakage"][0]

    # The third line shares only a 13-gram passage: gone with the n-gram check off.
    res = run("dedup", train, "--against", val, "--jobs", "1", "--leak-ngram", "0", "--json", "-q")
    assert [x["leaked"] for x in json.loads(res.stdout)["leakage"]] == [2]
    # ... and dropped by a minimum share above its share of shared n-grams.
    share = float(rep.leaks[0].similarity[2])
    assert 0 < share < 0.5
    res = run("dedup", train, "--against", val, "--jobs", "1", "--leak-min-share", "0.5", "--json", "-q")
    assert [x["leaked"] for x in json.loads(res.stdout)["leakage"]] == [2]


# ----------------------------------------------------------------------------- bad input


def test_unreadable_and_usage_errors_exit_2(tmp_path, planted):
    path, _ = planted
    for args in (("dedup", tmp_path / "missing.jsonl"), ("dedup", tmp_path), ("split", tmp_path / "missing.jsonl"),
                 ("dedup", path, "--against", tmp_path / "missing.jsonl"), ("dedup", path, path),
                 ("dedup", path, "--threshold", "1.5"), ("dedup", path, "--index-add"),
                 ("split", path, "--train", "0.7", "--val", "0.1", "--test", "0.1")):
        res = run(*args, "--jobs", "1", "-q")
        assert res.exit_code == 2, (args, res.output)
        assert "error:" in res.stderr and "Traceback" not in res.output
    arr = tmp_path / "array.json"
    arr.write_text('[{"messages": []}]')
    res = run("dedup", arr, "--jobs", "1", "-q")
    assert res.exit_code == 2 and "convert" in res.stderr


def test_stdin_and_gzip_inputs(planted, tmp_path):
    path, raw = planted
    res = run("dedup", "-", "--jobs", "1", "--json", "-q", input=path.read_bytes())
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["path"] == "-" and d["kept"] == 61 and d["conflicts"] == 1

    gz = tmp_path / "planted.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    kept = tmp_path / "kept_gz.jsonl"
    assert run("dedup", gz, "--jobs", "1", "--out", kept, "-q").exit_code == 0
    assert kept.read_bytes() == b"".join(raw[i] for i in range(64) if i + 1 not in {61, 62, 63})


# ----------------------------------------------------------------------------- index


def test_local_index_round_trip(planted, tmp_path, samples):
    path, raw = planted
    idx = tmp_path / "index"
    first = tmp_path / "first.jsonl"
    first.write_bytes(b"".join(raw[:30]))
    res = run("dedup", first, "--index", idx, "--index-add", "--jobs", "1", "-q")
    assert res.exit_code == 0, res.output
    man = json.loads((idx / "manifest.json").read_text())
    assert man["documents"] == 30 and man["params"]["num_perm"] == 128 and man["files"][0]["path"] == str(first)

    # New data: lines 21-40 (10 already indexed, one of them as a case-changed copy) and 10 new.
    new = tmp_path / "new.jsonl"
    r = _rec(raw[24])
    r["messages"][-1]["content"] = r["messages"][-1]["content"].upper()
    new.write_bytes(b"".join(raw[20:24]) + orjson.dumps(r) + b"\n" + b"".join(raw[25:40]))
    res = run("dedup", new, "--index", idx, "--jobs", "1", "--output-format", "json", "-q")
    assert res.exit_code == 1
    fs = [f for f in _findings(res) if f["rule"] == "DP502"]
    assert [f["line"] for f in fs] == list(range(1, 11))
    assert f"{first} line 25" in fs[4]["message"]

    # Adding the same file again adds nothing; adding the new one adds only what was not there.
    res = run("dedup", first, "--index", idx, "--index-add", "--jobs", "1", "--json")
    assert "added 0 example(s)" in res.stderr
    res = run("dedup", new, "--index", idx, "--index-add", "--jobs", "1", "--json")
    assert "added 10 example(s)" in res.stderr
    assert LocalIndex(idx).documents == 40
    # Options that change the signatures cannot be compared with the index.
    res = run("dedup", new, "--index", idx, "--num-perm", "64", "--jobs", "1", "-q")
    assert res.exit_code == 2 and "num_perm" in res.stderr
    # A different threshold is fine: the LSH bands are rebuilt on load.
    res = run("dedup", new, "--index", idx, "--threshold", "0.9", "--jobs", "1", "--json", "-q")
    assert res.exit_code == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server binary on this machine")
def test_redis_index_round_trip(planted, tmp_path):
    pytest.importorskip("redis", reason="the redis package is not installed")
    path, raw = planted
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # wait until the server accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        first = tmp_path / "first.jsonl"
        first.write_bytes(b"".join(raw[:30]))
        addr = f"127.0.0.1:{port}"
        assert run("dedup", first, "--redis", addr, "--index-add", "--jobs", "1", "-q").exit_code == 0
        new = tmp_path / "new.jsonl"
        new.write_bytes(b"".join(raw[20:40]) + raw[62])  # + line 18 with a sentence appended (near)
        res = run("dedup", new, "--redis", addr, "--jobs", "1", "--output-format", "json", "-q")
        assert res.exit_code == 1
        fs = [f for f in _findings(res) if f["rule"] == "DP502"]
        assert [f["line"] for f in fs] == [*range(1, 11), 21]
        assert f"{first} line 18" in fs[-1]["message"] and "Jaccard" in fs[-1]["message"]
        res = run("dedup", first, "--redis", addr, "--index-add", "--jobs", "1", "--json")
        assert "added 0 example(s)" in res.stderr
        res = run("dedup", new, "--redis", addr, "--num-perm", "64", "--jobs", "1", "-q")
        assert res.exit_code == 2 and "num_perm" in res.stderr
    finally:
        proc.terminate()
        proc.wait(10)


# ----------------------------------------------------------------------------- split


def _split(path, out, *extra):
    return run("split", path, "--out-dir", out, "--jobs", "1", "-q", *extra)


def test_split_deterministic_fractions_and_no_cluster_straddles(planted, tmp_path):
    path, raw = planted
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert _split(path, a, "--seed", "7").exit_code == 0
    assert _split(path, b, "--seed", "7").exit_code == 0
    assert _split(path, c, "--seed", "8").exit_code == 0
    names = ("train.jsonl", "val.jsonl", "test.jsonl", "split.json")
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert any((a / n).read_bytes() != (c / n).read_bytes() for n in names[:3])

    man = json.loads((a / "split.json").read_text())
    assert man["examples"] == 64 and man["skipped_invalid"] == 2 and man["seed"] == 7
    assert sum(man["counts"].values()) == 64
    for name, frac in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(man["counts"][name] - frac * 64) <= man["largest_cluster"], man["counts"]

    # Every example line is in exactly one file, byte-identical, in input order; invalid lines nowhere.
    where = {}
    for n in names[:3]:
        for line in (a / n).read_bytes().splitlines(keepends=True):
            assert line in raw[:64]
            where.setdefault(raw.index(line) + 1, []).append(n)
    assert sorted(where) == list(range(1, 65)) and all(len(v) == 1 for v in where.values())
    for x, y in ((3, 61), (37, 62), (18, 63)):
        assert where[x] == where[y]

    # Over many seeds (the library call, no files): a cluster never spans two splits.
    prof = scan(str(path), jobs=1, cache=False)
    for seed in range(20):
        res = split(prof, [0.6, 0.2, 0.2], seed=seed, stratify="none")
        at = dict(zip(res.example_lines.tolist(), res.assignment.tolist()))
        assert all(at[x] == at[y] for x, y in ((3, 61), (37, 62), (18, 63))), seed

    # The proof: DP502 (exact and near) between train and the held-out files finds nothing.
    opts = dict(jobs=1, cache=False)
    tr, va, te = (scan(str(a / n), **opts) for n in names[:3])
    rep = analyze(tr, against=[va, te], leak_ngram=0)
    assert not [f for f in rep.findings if f.rule == "DP502"]
    # With the 13-gram check on, only shared passages remain (this sample data reuses answer
    # sentences across conversations; split does not group by them).
    rep = analyze(tr, against=[va, te])
    assert all(LEAK_KINDS[k] == "ngram" for lk in rep.leaks for k in lk.kind.tolist())


def test_split_stratified_by_language(samples, tmp_path):
    out = tmp_path / "s"
    res = run("split", samples / "multilingual.jsonl", "--out-dir", out, "--jobs", "1", "--stratify", "language",
              "--train", "0.5", "--val", "0.25", "--test", "0.25", "--json")
    assert res.exit_code == 0, res.output
    man = json.loads(res.stdout)
    assert man["stratify"] == "language"
    strata = man["strata"]
    assert {"en", "de", "es"} <= set(strata)
    for lang in ("de", "es"):
        assert all(strata[lang][s] >= 1 for s in ("train", "val", "test")), strata
    assert sum(sum(v.values()) for v in strata.values()) == 60
    assert json.loads((out / "split.json").read_text())["counts"] == man["counts"]


def test_index_sources_and_arrays_are_aligned(planted, tmp_path):
    path, _ = planted
    prof = scan(str(path), jobs=1, cache=False)
    idx = LocalIndex(tmp_path / "i")
    rows = np.array([0, 2, 60])
    assert idx.add(prof, rows) == 3
    sigs, exact, fid, lines = idx.load()
    assert lines.tolist() == [1, 3, 61] and fid.tolist() == [0, 0, 0]
    assert np.array_equal(sigs, prof.signatures[rows]) and np.array_equal(exact, prof.exact[rows])
    # Line 61 is line 3 after normalisation: the keys agree with the shingler's on the compared text.
    rec = _rec(path.read_bytes().splitlines()[2])
    assert exact[1] == exact[2] == sh.exact_hash(compared_text(rec, "openai-chat", "conversation"))


# ----------------------------------------------------------------------------- text that is not read


def _parts_example(user: str, answer: str, key: str = "value") -> dict:
    """LLaMA-Factory's layout: content is a list of {"type": "text", "value": ...} parts."""
    return {"messages": [{"role": "user", "content": [{"type": "text", key: user}]},
                         {"role": "assistant", "content": [{"type": "text", key: answer}]}]}


def test_text_parts_with_value_are_read_and_distinct_conversations_all_kept(tmp_path):
    """500 distinct conversations in the value-parts layout: none is a duplicate (the old scan
    read them all as empty text and kept one line of 500)."""
    lines = [_parts_example(f"question {k}: what is {k} plus {k * 7}?",
                            f"the answer to question {k} is {k + k * 7}, computed step by step for you")
             for k in range(500)]
    lines.append(lines[17])  # one real exact copy
    path = tmp_path / "lf.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    res = run("dedup", path, "--no-cache", "--json", "-q", "--out", tmp_path / "kept.jsonl")
    d = json.loads(res.stdout)
    assert (d["exact_duplicates"], d["near_duplicates"], d["kept"]) == (1, 0, 500), d
    assert d["not_compared"]["total"] == 0
    assert len((tmp_path / "kept.jsonl").read_bytes().splitlines()) == 500
    prof = scan(str(path), jobs=1, cache=False)
    assert compared_text(lines[3], "openai-chat", "conversation") == \
        "question 3: what is 3 plus 21?\nthe answer to question 3 is 24, computed step by step for you"
    assert prof.rows["chars_user"][3] == len("question 3: what is 3 plus 21?")


def test_unreadable_examples_are_never_duplicates_and_are_kept(tmp_path):
    """Content of an unknown shape, or no text at all: not compared, kept by --out, counted."""
    good = {"messages": [{"role": "user", "content": "hello there, how are you today?"},
                         {"role": "assistant", "content": "I am fine, thank you for asking me."}]}
    odd = [{"messages": [{"role": "user", "content": {"weird": k}},
                         {"role": "assistant", "content": "the same answer in every odd line here"}]}
           for k in range(3)]
    blank = [{"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "  "}]}] * 2
    no_text_part = {"messages": [{"role": "user", "content": [{"type": "text"}]},
                                 {"role": "assistant", "content": "the same answer in every odd line here"}]}
    recs = [good, *odd, *blank, no_text_part, good]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in recs) + b"not json\n")
    res = run("dedup", path, "--no-cache", "--json", "-q", "--out", tmp_path / "kept.jsonl")
    d = json.loads(res.stdout)
    assert d["exact_duplicates"] == 1 and d["near_duplicates"] == 0 and d["clusters"] == 1
    assert d["not_compared"] == {"unreadable_content": 4, "no_text": 2, "not_examples": 1, "total": 7}
    assert d["kept"] + d["removed"] + d["not_compared"]["total"] == d["lines"] == 9
    kept = (tmp_path / "kept.jsonl").read_bytes().splitlines()
    assert len(kept) == 1 + 4 + 2  # the good line once, every line that was not compared
    text = run("dedup", path, "--no-cache")
    assert "9 input lines = 1 kept + 1 removed as duplicates + 7 not compared" in text.stdout
    assert all(len(x) <= 80 for x in text.stdout.splitlines()[:14] if "input lines" in x or "example(s)" in x)
