"""The single-pass scan: same answers on any shard layout and job count, schema-valid rows,
cookbook-exact token counts, and a cache that is used only while the file is unchanged."""

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pytest

import dataprep.scan  # noqa: F401  (loads the module; the package attribute is the function)

scan_mod = sys.modules["dataprep.scan"]
from dataprep.scan import scan
from dataprep.schema.profile import failing_lines, validate_profile
from dataprep.tokens import get_encoding
from dataprep.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
DATA_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".jsonl", ".json") and "expected" not in p.name)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_profile_satisfies_its_schema_on_every_sample(path):
    prof = scan(str(path), jobs=1, cache=False)
    validate_profile(prof.rows)
    if prof.rows.height:
        assert prof.rows.height == prof.state.lines
        assert prof.signatures.shape == (prof.rows.height, 128)


def test_schema_turns_bad_rows_into_line_numbers():
    prof = scan(str(SAMPLES / "support_chat.jsonl"), jobs=1, cache=False)
    bad = prof.rows.with_columns(
        pl.when(pl.col("line") == 7).then(10**9).otherwise(pl.col("tokens_trainable")).alias("tokens_trainable"))
    assert failing_lines(bad) == {"trainable_within_total": [7]}


def test_findings_equal_validate_on_broken_sample():
    prof = scan(str(SAMPLES / "broken.jsonl"), jobs=1, cache=False)
    ref = validate(str(SAMPLES / "broken.jsonl")).files[0]
    key = lambda f: (f.line, f.rule, f.pointer or "", f.message)
    assert sorted(map(key, prof.findings)) == sorted(map(key, ref.findings))
    assert (prof.examples, prof.state.valid) == (ref.examples, ref.valid_examples)


def test_shards_and_jobs_do_not_change_the_profile(tmp_path, monkeypatch):
    src = (SAMPLES / "broken.jsonl").read_bytes() + (SAMPLES / "support_chat.jsonl").read_bytes()
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(src)
    one = scan(str(p), jobs=1, cache=False)
    monkeypatch.setattr(scan_mod, "SHARD_BYTES", 4096)  # dozens of shards, cuts mid-file
    many = scan(str(p), jobs=2, cache=False)
    gz = tmp_path / "mixed.jsonl.gz"
    gz.write_bytes(gzip.compress(src))
    blocks = scan(str(gz), jobs=1, cache=False)  # compressed: parent-read blocks
    for other in (many, blocks):
        assert other.rows.drop("offset").equals(one.rows.drop("offset")) if other is blocks else other.rows.equals(one.rows)
        assert [(f.line, f.rule, f.message) for f in other.findings] == [(f.line, f.rule, f.message) for f in one.findings]
        assert np.array_equal(other.signatures, one.signatures)
        assert np.array_equal(other.exact, one.exact)
    assert one.rows["line"].to_list() == list(range(1, src.count(b"\n") + 1))
    assert many.rows["offset"].to_list() == one.rows["offset"].to_list()
    # the BOM rule fires on line 1 only, not at every shard start
    assert [f.line for f in many.findings if f.rule == "DP106"] == [1]


def cookbook_tokens(ex: dict, enc) -> int:
    """The OpenAI cookbook count, written out plainly: 3 per message, every string value,
    +1 per name, +3 reply priming; tool calls as name + arguments; tools serialised."""
    n = 3
    for m in ex["messages"]:
        n += 3
        for k, v in m.items():
            if isinstance(v, str):
                n += len(enc.encode(v))
            if k == "name":
                n += 1
        for call in m.get("tool_calls") or []:
            n += len(enc.encode(call["function"]["name"])) + len(enc.encode(call["function"]["arguments"]))
    if ex.get("tools"):
        n += len(enc.encode(orjson.dumps(ex["tools"]).decode()))
    return n


@pytest.mark.parametrize("name", ["support_chat.jsonl", "tools.jsonl", "multilingual.jsonl"])
def test_token_counts_equal_the_cookbook_formula(name):
    path = SAMPLES / name
    prof = scan(str(path), jobs=1, cache=False, model="gpt-4o-2024-08-06")
    enc = get_encoding("o200k_base")
    expected = [cookbook_tokens(json.loads(l), enc) for l in path.read_text().splitlines()]
    assert prof.rows["tokens_total"].to_list() == expected


def test_cache_is_used_until_the_file_changes(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes())
    first = scan(str(p), jobs=1)
    assert not first.cached
    second = scan(str(p), jobs=1)
    assert second.cached and second.rows.equals(first.rows)
    assert [f.rule for f in second.findings] == [f.rule for f in first.findings]
    with open(p, "ab") as f:
        f.write(b"\n")
    third = scan(str(p), jobs=1)
    assert not third.cached and third.rows.height == first.rows.height + 1
    assert not scan(str(p), jobs=1, cache=False).cached


def test_unreadable_is_a_profile_with_dp100(tmp_path):
    prof = scan(str(tmp_path / "missing.jsonl"), jobs=1)
    assert not prof.readable and [f.rule for f in prof.findings] == ["DP100"]


@pytest.mark.parametrize("blob", [b"(\xb5/\xfdgarbagegarbage", b"(\xb5/\xfd\n", b"\x1f\x8b\x08\x00garbage"])
def test_corrupt_or_truncated_compressed_input_is_dp100(tmp_path, blob):
    p = tmp_path / ("x.jsonl.zst" if blob.startswith(b"(") else "x.jsonl.gz")
    p.write_bytes(blob)
    prof = scan(str(p), jobs=1)
    assert not prof.readable and [f.rule for f in prof.findings] == ["DP100"]


def test_repeated_system_prompt_findings_point_at_every_line(tmp_path):
    # The scan caches findings of repeated system prompts; each line must still get its own.
    rec = {"messages": [{"role": "system", "content": "Reach us at help@example.com any time."},
                        {"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]}
    p = tmp_path / "sys.jsonl"
    p.write_text("".join(json.dumps(rec) + "\n" for _ in range(12)))
    prof = scan(str(p), jobs=1, cache=False)
    hits = [(f.line, f.pointer) for f in prof.findings if f.rule == "DP304"]
    assert hits == [(i, "/messages/0/content") for i in range(1, 13)]


def test_parts_left_out_change_nothing_else_and_say_so(tmp_path):
    """A tokens-only scan (no sketch, no text features) has the same rows and findings as a full
    one, holds None for the parts it skipped, and analyses that need them refuse clearly."""
    from dataprep.dedup.analyze import duplicates
    from dataprep.diversity.analyze import analyze as diversity

    path = str(SAMPLES / "broken.jsonl")
    full = scan(path, jobs=1, cache=False)
    lean = scan(path, jobs=1, cache=False, sketch=False, text=False)
    # Every column but dedup's DP503 key, which is part of the sketch: null, never a fake 0.
    assert lean.rows.drop("prompt_hash").equals(full.rows.drop("prompt_hash"))
    assert lean.rows["prompt_hash"].null_count() == lean.rows.height
    assert full.rows["prompt_hash"].null_count() == 0 and full.rows["prompt_hash"].max() > 0
    assert failing_lines(lean.rows) == {}
    assert [(f.line, f.rule, f.pointer, f.message) for f in lean.findings] == \
        [(f.line, f.rule, f.pointer, f.message) for f in full.findings]
    assert lean.signatures is None and lean.exact is None and lean.text is None
    assert full.signatures.shape == (full.rows.height, full.options.minhash.num_perm) and full.text is not None
    with pytest.raises(ValueError, match="sketch=True"):
        duplicates(lean)
    with pytest.raises(ValueError, match="text=True"):
        diversity(lean, languages=False)
    only_sketch = scan(path, jobs=1, cache=False, text=False)
    assert np.array_equal(only_sketch.signatures, full.signatures) and np.array_equal(only_sketch.exact, full.exact)
    assert only_sketch.text is None


def test_cache_entry_grows_to_the_parts_asked_for(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes())
    lean = scan(str(p), jobs=1, sketch=False, text=False)
    assert not lean.cached and lean.signatures is None
    assert scan(str(p), jobs=1, sketch=False, text=False).cached
    # dedup after tokens: the entry lacks the sketch, so it rescans (and keeps what it had)
    withsk = scan(str(p), jobs=1, text=False)
    assert not withsk.cached and withsk.signatures is not None and withsk.text is None
    # diversity next: rescans once with both parts; every later command is a cache hit
    both = scan(str(p), jobs=1, sketch=False)
    assert not both.cached and both.text is not None and both.signatures is not None
    for kw in ({}, {"sketch": False, "text": False}, {"text": False}):
        hit = scan(str(p), jobs=1, **kw)
        assert hit.cached and hit.rows.drop("prompt_hash").equals(lean.rows.drop("prompt_hash"))
        assert np.array_equal(hit.signatures, withsk.signatures)


def test_dedup_scan_leaves_out_tokens_and_content_rules_and_says_so():
    """dedup and split read only the sketch: their scan skips the tokenizer and the DP3xx rules.
    Token columns are null (not 0), the schema still holds, and the estimate refuses."""
    from dataprep.dedup.analyze import duplicates
    from dataprep.tokens.analyze import analyze as token_analysis

    path = str(SAMPLES / "broken.jsonl")
    full = scan(path, jobs=1, cache=False)
    lean = scan(path, jobs=1, cache=False, tokens=False, content=False, text=False)
    assert lean.rows["tokens_total"].null_count() == lean.rows.height
    assert lean.rows["n_messages"].null_count() == lean.rows.height
    assert failing_lines(lean.rows) == {}
    assert not any(f.rule.startswith("DP3") for f in lean.findings)
    assert any(f.rule.startswith("DP3") for f in full.findings)
    same = ["line", "offset", "length", "format", "blank", "parsed", "is_example", "roles", "chars_user"]
    assert lean.rows.select(same).equals(full.rows.select(same))
    assert np.array_equal(lean.signatures, full.signatures)
    ex, res = duplicates(lean)  # keep=first needs no tokens
    ex_full, res_full = duplicates(full)
    assert np.array_equal(res.cluster_id, res_full.cluster_id) and (res.cluster_id >= 0).any()
    with pytest.raises(ValueError, match="tokens=True"):
        duplicates(lean, keep="longest")
    with pytest.raises(ValueError, match="tokens=True"):
        token_analysis(lean)


def test_a_profile_with_more_parts_covers_a_request_for_fewer(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_bytes((SAMPLES / "support_chat.jsonl").read_bytes())
    full = scan(str(p), jobs=1)
    hit = scan(str(p), jobs=1, tokens=False, content=False, text=False)
    assert hit.cached and hit.rows.equals(full.rows)  # the cached superset, tokens included
    assert hit.options.tokens and hit.options.content
