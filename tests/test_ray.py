"""The Ray engine gives the local engine's results: same rows, findings, clusters, kept lines.

One local Ray instance (2 CPUs) for the module. Files are forced into many shards so the merge,
the band partitions and the pair routing really cross shard boundaries. Object storage is tested
through ``file://`` URIs only (pyarrow's local filesystem; no network here).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import orjson
import pytest

ray = pytest.importorskip("ray")

import dataprep.scan  # noqa: E402,F401  (the module is in sys.modules; dataprep.scan is the function)
from dataprep.audit import audit as local_audit  # noqa: E402
from dataprep.cli import app  # noqa: E402
from dataprep.dedup import lsh  # noqa: E402
from dataprep.dedup.analyze import analyze, example_index  # noqa: E402
from dataprep.dedup.clusters import find_duplicates  # noqa: E402
from dataprep.engines import EngineError, open_engine  # noqa: E402
from dataprep.engines.ray_engine import (  # noqa: E402
    ClusterProfile,
    RayEngine,
    RayExecutor,
    distributed_duplicates,
)

pytestmark = pytest.mark.ray

SCAN = sys.modules["dataprep.scan"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
FILES = ["support_chat.jsonl", "tools.jsonl", "dpo.jsonl", "multilingual.jsonl", "broken.jsonl"]


@pytest.fixture(scope="module")
def eng():
    e = RayEngine(num_cpus=2, partitions=3).start()
    yield e
    e.close()


@pytest.fixture
def small_shards(monkeypatch):
    """Force a file into many shards (the driver reads SHARD_BYTES when it cuts the file)."""
    def set_(n: int):
        monkeypatch.setattr(SCAN, "SHARD_BYTES", n)
    return set_


def findings(prof_or_report, path=True):
    return [{**f.to_dict(), **({} if path else {"path": None})} for f in prof_or_report.findings]


def assert_same_profile(a, b, path=True):
    assert a.format == b.format and a.size == b.size and a.readable == b.readable
    assert a.rows.equals(b.rows)
    assert findings(a, path) == findings(b, path)
    assert np.array_equal(a.signatures, b.signatures) and np.array_equal(a.exact, b.exact)
    assert (a.state.lines, a.state.records, a.state.valid, a.state.blank) == \
        (b.state.lines, b.state.records, b.state.valid, b.state.blank)
    assert a.system_prompts == b.system_prompts
    if a.text is not None:
        assert a.text.examples == b.text.examples and a.text.rows.equals(b.text.rows)


def assert_same_dedup(a, b):
    assert a.to_dict() == b.to_dict()
    assert list(a.clusters()) == list(b.clusters())
    assert np.array_equal(a.kept_lines, b.kept_lines)
    assert findings(a) == findings(b)
    assert a.result.candidate_pairs == b.result.candidate_pairs
    for k in ("cluster_id", "is_kept", "dup_kind", "cluster_members", "cluster_kept", "cluster_similarity"):
        assert np.array_equal(getattr(a.result, k), getattr(b.result, k)), k


def dup_file(path: Path) -> Path:
    """Exact, surface and near copies, chains, and one bucket of 80 near-identical texts
    (a big bucket in most bands, so the linking's rounds and skips run too)."""
    rng = random.Random(7)
    vocab = [f"word{i}" for i in range(400)]

    def ex(user, answer):
        return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}

    recs = []
    for k in range(120):
        recs.append(ex(f"question {k} about " + " ".join(rng.choices(vocab, k=8)), " ".join(rng.choices(vocab, k=90))))
    for k in range(0, 120, 7):  # exact and surface copies
        recs.append(recs[k])
        recs.append(ex(recs[k]["messages"][0]["content"].upper(), recs[k]["messages"][1]["content"] + " ."))
    for k in range(3, 120, 5):  # one word changed, and a copy of that copy (chains)
        words = recs[k]["messages"][1]["content"].split()
        words[45] = "changed"
        recs.append(ex(recs[k]["messages"][0]["content"], " ".join(words)))
        words[70] = "again"
        recs.append(ex(recs[k]["messages"][0]["content"], " ".join(words)))
    base = rng.choices(vocab, k=600)
    for k in range(80):  # only the last shingle differs: most bands are equal for all 80
        recs.append(ex("the shared template question", " ".join(base + [f"variant{k}"])))
    rng.shuffle(recs)
    recs.insert(30, "not json")  # a non-example row inside: example index != line index
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in recs))
    return path


# ------------------------------------------------------------------------------------- scan


@pytest.mark.parametrize("name", FILES)
def test_scan_equals_local_in_many_shards(eng, small_shards, name):
    path = str(SAMPLES / name)
    local = SCAN.scan(path, jobs=1, cache=False)
    small_shards(2048)
    assert len(SCAN.shard_ranges(path, local.size, 2048)) >= 3
    assert_same_profile(local, eng.scan(path, cache=False))
    kept = eng.scan(path, cache=False, signatures="cluster")
    assert isinstance(kept, ClusterProfile) and kept.signatures.shape == (local.rows.height, 0)
    assert kept.rows.equals(local.rows) and findings(kept) == findings(local)
    kept.materialize()
    assert np.array_equal(kept.signatures, local.signatures)


def test_broken_sample_every_planted_rule_at_its_line(eng, small_shards):
    small_shards(1024)
    prof = eng.scan(str(SAMPLES / "broken.jsonl"), cache=False)
    expected = json.loads((SAMPLES / "broken.expected.txt").read_text())
    got = defaultdict(set)
    for f in prof.findings:
        got[f.line].add(f.rule)
    for line, rules in expected.items():
        assert sorted(got.get(int(line), set())) == rules, f"line {line}"


def test_compressed_and_unreachable_ranges_equal_local(eng, small_shards, tmp_path):
    src = SAMPLES / "tools.jsonl"
    gz = tmp_path / "tools.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    local = SCAN.scan(str(gz), jobs=1, cache=False)
    small_shards(4096)
    assert_same_profile(local, eng.scan(str(gz), cache=False))  # blocks read here, scanned as tasks
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    broken = eng.scan(str(cut), cache=False)
    assert not broken.readable and findings(broken) == findings(SCAN.scan(str(cut), jobs=1, cache=False))
    # A worker that does not see the file (another node, no shared filesystem): the submitter
    # ships the bytes. A wrong size makes every task decline, as such a worker would.
    path = str(src)
    size = src.stat().st_size
    ranges = SCAN.shard_ranges(path, size, 4096)
    shards = RayExecutor(2)._ranges(path, ranges, "openai-chat", local.options, size + 1, SCAN._Progress(None, False))
    assert_same_profile(SCAN.scan(path, jobs=1, cache=False), SCAN._merge(path, size, shards, "openai-chat", local.options))


def test_object_storage_uri_reads_byte_ranges(eng, small_shards, tmp_path):
    path = str(SAMPLES / "broken.jsonl")
    local = SCAN.scan(path, jobs=1, cache=False)
    small_shards(2048)
    remote = eng.scan("file://" + path, cache=False)
    assert remote.path == "file://" + path and all(f.path == remote.path for f in remote.findings)
    assert_same_profile(local, remote, path=False)
    gz = tmp_path / "b.jsonl.gz"
    gz.write_bytes(gzip.compress(Path(path).read_bytes()))
    assert_same_profile(SCAN.scan(str(gz), jobs=1, cache=False), eng.scan("file://" + str(gz), cache=False), path=False)
    missing = eng.scan("file://" + str(tmp_path / "nope.jsonl"), cache=False)
    assert not missing.readable and missing.findings[0].rule == "DP100"


# ------------------------------------------------------------------------------------- dedup


@pytest.mark.parametrize("keep", ["first", "longest", "most-trainable-tokens"])
def test_dedup_equals_local(eng, small_shards, tmp_path, keep):
    path = str(dup_file(tmp_path / "dups.jsonl"))
    local = SCAN.scan(path, jobs=1, cache=False)
    expect = analyze(local, keep=keep)
    assert expect.result.n_clusters > 30 and expect.result.near_duplicates > 20
    assert np.diff(expect.result.cluster_offsets).max() >= 80
    sigs = local.signatures[example_index(local)]
    bands = lsh.band_hashes(sigs, *local.options.minhash.bands_rows)
    biggest = max(np.unique(bands[:, k], return_counts=True)[1].max() for k in range(bands.shape[1]))
    assert biggest >= 80  # one big bucket: linked in O(k), not k^2 pairs
    small_shards(8192)
    kept = eng.scan(path, cache=False, signatures="cluster")
    assert len(kept.remote.blocks) >= 5
    assert_same_dedup(expect, eng.analyze(kept, keep=keep))


def test_banding_partitions_and_rounds(eng, small_shards, tmp_path):
    """Any partition count, and any number of leader rounds per bucket, match the local path."""
    path = str(dup_file(tmp_path / "dups.jsonl"))
    local = SCAN.scan(path, jobs=1, cache=False)
    ex = example_index(local)
    small_shards(8192)
    remote = eng.scan(path, cache=False, signatures="cluster").remote
    for parts, rounds in ((1, 8), (4, 3), (7, 1)):
        a = find_duplicates(local.signatures[ex], local.exact[ex], local.options.minhash, max_rounds=rounds)
        b = distributed_duplicates(remote, local.exact[ex], local.options.minhash, partitions=parts,
                                   max_rounds=rounds)
        assert a.candidate_pairs == b.candidate_pairs, (parts, rounds)
        for k in ("cluster_id", "is_kept", "dup_kind", "cluster_kept", "cluster_similarity"):
            assert np.array_equal(getattr(a, k), getattr(b, k)), (parts, rounds, k)


def test_heavily_duplicated_real_text_same_clusters_jobs_1_2_and_ray(eng, small_shards, tmp_path):
    """Real sentences, ~40 lines per original (exact, edited, suffixed, shuffled copies): the
    clusters, kept lines and findings are the same with one process, two, and on Ray."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import gen_real_dups

    path = str(tmp_path / "heavy.jsonl")
    counts = gen_real_dups.generate(path, 4000, originals=100, copies=40, seed=3)
    assert counts["original"] >= 90 and counts["edit"] > 500  # sample_data alone when ../shared is absent
    small_shards(1 << 18)  # several shards, so jobs=2 really splits the file
    one = analyze(SCAN.scan(path, jobs=1, cache=False))
    two = analyze(SCAN.scan(path, jobs=2, cache=False))
    assert one.result.n_clusters >= 90 and np.diff(one.result.cluster_offsets).max() >= 30
    assert_same_dedup(one, two)
    small_shards(1 << 16)
    assert_same_dedup(one, eng.analyze(eng.scan(path, cache=False, signatures="cluster")))


def test_dedup_cli_writes_identical_outputs(eng, small_shards, tmp_path):
    from typer.testing import CliRunner

    runner = CliRunner()
    path = str(dup_file(tmp_path / "dups.jsonl"))
    held = tmp_path / "test.jsonl"
    held.write_text("".join(Path(path).read_text().splitlines(keepends=True)[:40:4]))
    out = {}
    for engine in ("local", "ray"):
        if engine == "ray":
            small_shards(8192)
        d = tmp_path / engine
        r = runner.invoke(app, ["dedup", path, "--against", str(held), "--engine", engine, "--json", "-q", "--no-cache",
                                "--out", str(d / "kept.jsonl"), "--clusters", str(d / "clusters.jsonl")])
        assert r.exit_code == 1, r.output  # DP502 leakage is an error
        out[engine] = (r.stdout, (d / "kept.jsonl").read_bytes(), (d / "clusters.jsonl").read_bytes())
    assert out["local"] == out["ray"]
    assert orjson.loads(out["ray"][0])["leakage"][0]["leaked"] == 10


# ------------------------------------------------------------------------------------- audit and scan CLI


def _close(a, b, where=""):
    """Equal, floats to 1e-9 relative: Ray runs tasks with OMP_NUM_THREADS=1, so BLAS sums the
    Vendi kernel's eigenvalues in another order than a multi-threaded local worker."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            if k not in ("seconds", "stage_seconds", "jobs"):
                _close(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}/{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9), where
    else:
        assert a == b, where


def test_audit_equals_local(eng, small_shards):
    paths = [str(SAMPLES / n) for n in FILES]
    local = local_audit(paths, "openai", jobs=1, cache=False)
    small_shards(4096)  # the audit tasks get the driver's shard size
    remote = eng.audit(paths, "openai", cache=False)
    assert remote.exit_code() == local.exit_code() == 1
    _close(local.to_dict(), remote.to_dict())


def test_scan_cli_json_and_usage_errors(eng):
    from typer.testing import CliRunner

    runner = CliRunner()
    path = str(SAMPLES / "broken.jsonl")
    got = {}
    for engine in ("local", "ray"):
        r = runner.invoke(app, ["scan", path, "--engine", engine, "--json", "--no-cache", "-j", "1"])
        assert r.exit_code == 1, r.output  # broken.jsonl has errors
        got[engine] = {k: v for k, v in orjson.loads(r.stdout).items() if k not in ("seconds", "engine")}
    assert got["local"] == got["ray"] and got["ray"]["lines"] == 47
    r = runner.invoke(app, ["scan", str(SAMPLES / "nope.jsonl"), "--engine", "ray"])
    assert r.exit_code == 2 and "error:" in r.stderr
    r = runner.invoke(app, ["dedup", path, "--ray-address", "127.0.0.1:1"])
    assert r.exit_code == 2 and "--engine ray" in r.stderr
    assert ray.is_initialized()  # the CLI used the test's Ray session and left it running


def test_unreachable_cluster_is_an_engine_error():
    from dataprep.engines.ray_engine import _check_reachable

    with pytest.raises(EngineError, match="cannot reach a Ray cluster"):
        _check_reachable("ray://127.0.0.1:1")  # fails in a moment, where ray.init retries for minutes
    with pytest.raises(EngineError, match="unknown engine"):
        open_engine("spark")
