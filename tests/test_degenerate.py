"""Degenerate and hostile data: no analysis may crash, stall or pass because it crashed.

Issue 15: 2,000 examples from 10 templates crashed `diversity` (structure._dip on a near-constant
length distribution) and an empty file, a CSV, a Windows-1252 file or a JSON array ended in
`KeyError: 'lexical'`. Here every degenerate shape runs through the library and the CLI; unusable
input exits 2 with one line saying what to do; a 50 MB line costs what a 100 KB one does; and
hypothesis throws small random datasets at diversity, dedup, tokens and the gate.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.diversity.features import MAX_TEXT_CHARS, OPENING_MAX_CHARS, combined_texts, text_features
from dataprep.diversity.report import analyze_texts
from dataprep.diversity.structure import length_skew, structure_stats
from dataprep.diversity.vendi import vendi_score
from dataprep.diversity.words import openings, tokenize

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def chat(user, assistant) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# The shape of issue 15's data: one template per topic, only the ticket number changes, so the
# token lengths of all 2,000 examples lie within a token or two of each other.
TOPICS = ("billing", "login", "refunds", "shipping", "returns", "passwords", "invoices", "upgrades",
          "cancellations", "outages")


def templated(n: int = 2000) -> list[dict]:
    return [chat(f"Please summarise ticket {i} about {TOPICS[i % 10]}.", f"Ticket {i} is about {TOPICS[i % 10]}.")
            for i in range(n)]


def no_traceback(r) -> None:
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output


# --------------------------------------------------------------------------------------------- structure

@pytest.mark.parametrize("lengths", [
    [30] * 1000 + [31] * 990 + [32] * 10,  # issue 15: a mode at the top bin's edge
    [30] * 1000 + [31] * 1000,
    [5] * 300,
    [1] * 50 + [2] * 50 + [1000] * 100,
    [0] * 500,
    list(range(1, 201)),
])
def test_length_skew_never_crashes_on_few_distinct_values(lengths):
    s = length_skew(np.asarray(lengths))
    assert isinstance(s["flagged"], bool)
    assert s["examples"] == sum(1 for x in lengths if x > 0)


def test_near_equal_lengths_are_not_bimodal():
    # 38 against 40 tokens is one length, not two populations (was: "bimodal lengths: 50% around
    # 38 tokens, 50% around 40 tokens")
    s = length_skew(np.asarray([38] * 1000 + [40] * 1000))
    assert not s["bimodal"] and not s["flagged"]
    s = length_skew(np.asarray([1] * 50 + [2] * 50 + [1000] * 100))
    assert s["bimodal"]  # a real gap still is


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=0, max_size=400))
def test_length_skew_property(xs):
    s = length_skew(np.asarray(xs, dtype=np.int64))
    assert s["examples"] == sum(1 for x in xs if x > 0)
    assert s["flagged"] == (s["heavy_tail"] or s["bimodal"])


def test_structure_stats_on_single_and_identical_rows():
    import polars as pl

    for n in (1, 2, 300):
        df = pl.DataFrame({"roles": ["u,a"] * n, "chars_user": [5] * n, "chars_assistant": [7] * n, "tokens": [9] * n})
        st_ = structure_stats(df)
        assert st_["examples"] == n and st_["lengths"]["tokens"]["example"]["p50"] == 9
        assert not st_["length_skew"]["flagged"]


# --------------------------------------------------------------------------------------------- library

DEGENERATE = {
    "one example": (["Hi there how are you"], ["Fine thanks"]),
    "all identical": (["Hi there how are you"] * 300, ["Fine thanks"] * 300),
    "all the same length": ([f"question {i:04d}" for i in range(300)], [f"answer {i:04d}" for i in range(300)]),
    "all empty strings": ([""] * 200, [""] * 200),
    "all None": ([None] * 50, [None] * 50),
    "no assistant text": ([f"hello {i}" for i in range(200)], [""] * 200),
    "punctuation only": (["?!."] * 120, ["..."] * 120),
    "one language": ([f"What is the weather like in city number {i} today?" for i in range(150)],
                     [f"It is sunny in city {i}, with a light breeze from the west." for i in range(150)]),
}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_analyze_texts_on_degenerate_sets(name):
    users, assistants = DEGENERATE[name]
    res = analyze_texts(users, assistants, language_sample=50, vendi_sample=50)
    rep = res.report
    assert rep["examples"] == len(users)
    json.dumps(rep)  # plain JSON: no NaN objects, no numpy scalars
    for role in ("user", "assistant"):
        assert set(rep["lexical"][role]) >= {"distinct_1", "distinct_2", "mattr", "mtld"}


def test_empty_input_lists():
    res = analyze_texts([], [], language_sample=10)
    assert res.report["examples"] == 0 and res.report["vendi"]["sample"] == 0


# --------------------------------------------------------------------------------------------- caps

def _best_of(fn, arg, k: int = 3) -> float:
    best = float("inf")
    for _ in range(k):
        t = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.parametrize("kind", ["words", "one character"])
def test_a_50_mb_text_costs_what_a_capped_one_does(kind):
    unit = "lorem ipsum dolor " if kind == "words" else "a"
    huge = (unit * (50_000_000 // len(unit) + 1))[:50_000_000]
    capped = huge[:MAX_TEXT_CHARS]
    small = ["hello world"] * 10
    features = {
        "text_features": lambda t: text_features([t] + small, ["x"] * 11),
        "vendi": lambda t: vendi_score([t] + small),
        "openings": lambda t: openings([t] + small),
        "tokenize": lambda t: tokenize([t]),
        "combined_texts": lambda t: combined_texts([t], [t]),
    }
    for name, fn in features.items():
        big_s, cap_s = _best_of(fn, huge), _best_of(fn, capped)
        # same-run ratio: the 50 MB text is cut to the cap before any regex or n-gram work
        assert big_s < 5 * cap_s + 0.02, (name, big_s, cap_s)
    (op,) = openings([huge])[:1]
    assert len(op) <= OPENING_MAX_CHARS
    tf = text_features([huge], [huge])
    assert len(tf.rows["user_opening"][0]) <= OPENING_MAX_CHARS


# --------------------------------------------------------------------------------------------- CLI

DEGENERATE_FILES = {
    "one.jsonl": [chat("Hi there how are you", "Fine thanks")],
    "identical.jsonl": [chat("Hi there how are you", "Fine thanks")] * 300,
    "samelen.jsonl": [chat(f"question {i:04d}", f"answer {i:04d}") for i in range(300)],
    "emptystr.jsonl": [chat("", "")] * 200,
    "noassistant.jsonl": [{"messages": [{"role": "user", "content": f"hello {i}"}]} for i in range(200)],
    "templated.jsonl": templated(),
}


@pytest.mark.parametrize("name", list(DEGENERATE_FILES))
def test_diversity_cli_on_degenerate_files(tmp_path, name):
    p = write_jsonl(tmp_path / name, DEGENERATE_FILES[name])
    r = runner.invoke(app, ["diversity", str(p), "--json", "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code in (0, 1), r.output
    assert json.loads(r.stdout)["examples"] == len(DEGENERATE_FILES[name])
    r = runner.invoke(app, ["diversity", str(p), "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code in (0, 1), r.output


def _unusable(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """file -> (path, a word the one-line advice must contain)."""
    ex = chat("café au lait?", "Un café au lait, s'il vous plaît.")
    out = {}
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    out["empty"] = (p, "empty")
    p = tmp_path / "invalid.jsonl"
    p.write_text("not json\n{broken\n")
    out["only invalid lines"] = (p, "validate")
    p = tmp_path / "data.csv"
    p.write_text("prompt,completion\nhi,there\nfoo,bar\n")
    out["csv"] = (p, "JSONL")
    p = tmp_path / "cp1252.jsonl"
    p.write_bytes((json.dumps(ex, ensure_ascii=False) + "\n").encode("cp1252") * 20)
    out["windows-1252"] = (p, "UTF-8")
    p = tmp_path / "array.json"
    p.write_text(json.dumps([ex] * 20))
    out["json array"] = (p, "convert")
    p = tmp_path / "blank.jsonl"
    p.write_text("\n\n  \n")
    out["blank lines only"] = (p, "no examples")
    return out


def test_diversity_cli_on_unusable_input_exits_2_with_one_line(tmp_path):
    for what, (p, word) in _unusable(tmp_path).items():
        for extra in ([], ["--json"]):
            r = runner.invoke(app, ["diversity", str(p), "-j", "1", "-q", "--no-cache", *extra])
            no_traceback(r)
            assert r.exit_code == 2, (what, r.output)
            lines = [x for x in r.stderr.splitlines() if x.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: "), (what, r.stderr)
            assert word.lower() in lines[0].lower(), (what, lines[0])
            assert r.stdout == "", (what, r.stdout)


def test_diversity_compare_with_unusable_second_file_exits_2(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", DEGENERATE_FILES["samelen.jsonl"])
    p, _ = _unusable(tmp_path)["csv"]
    r = runner.invoke(app, ["diversity", str(good), "--compare", str(p), "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code == 2 and str(p) in r.stderr


def test_gate_and_audit_on_unusable_input_never_pass(tmp_path):
    for what, (p, _) in _unusable(tmp_path).items():
        for cmd in (["gate", str(p), "--rules", "task"], ["audit", str(p), "--fail-on", "error"]):
            r = runner.invoke(app, [*cmd, "-j", "1", "-q", "--no-cache"])
            no_traceback(r)
            assert r.exit_code in (1, 2), (what, cmd[0], r.output)


def test_templated_data_fails_the_task_gate_on_diversity(tmp_path):
    """Issue 15: the gate printed "diversity analysis failed" and passed."""
    p = write_jsonl(tmp_path / "templated.jsonl", templated())
    r = runner.invoke(app, ["gate", str(p), "--rules", "task", "-j", "1", "-q", "--no-cache", "-f", "json"])
    no_traceback(r)
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    (f,) = doc["files"]
    assert f["verdict"] == "fail" and doc["summary"]["verdict"] == "fail"
    failed = [t for t in f["thresholds"] if not t["passed"]]
    assert failed and {t["rule"] for t in failed} == {"DP601"} and all(t["severity"] == "error" for t in failed)
    assert any(x["rule"] == "DP601" and x["severity"] == "error" for x in f["findings"])
    assert not any(x["rule"] == "DP199" for x in f["findings"])  # measured, not crashed
    r = runner.invoke(app, ["gate", str(p), "--rules", "task", "-j", "1", "-q"])
    assert r.exit_code == 1 and "verdict: FAIL" in r.stdout and "analysis failed" not in r.stdout


def test_ten_templates_with_varied_slots_fail_the_task_gate_on_effective_openings(tmp_path):
    """Issue 15: 2,000 examples from 10 different templates (the robustness corpus) kept distinct-2
    above its floor and each opening under 25%, and passed. Their openings are 10 in effect."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_hostile", Path(__file__).resolve().parent.parent
                                                  / "benchmarks" / "gen_hostile.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    p = tmp_path / "templated.jsonl"
    p.write_bytes(b"\n".join(gen.templated_lines(2000, 10)) + b"\n")
    r = runner.invoke(app, ["gate", str(p), "--rules", "task", "-j", "1", "-q", "--no-cache", "-f", "json"])
    no_traceback(r)
    assert r.exit_code == 1, r.output
    (f,) = json.loads(r.stdout)["files"]
    failed = {t["key"]: t for t in f["thresholds"] if not t["passed"]}
    assert set(failed) == {"min_effective_openings"} and failed["min_effective_openings"]["rule"] == "DP601"
    assert failed["min_effective_openings"]["measured"] == 10
    # real support chats (150, all distinct) are far above the floor
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "support_chat.jsonl"
    r = runner.invoke(app, ["gate", str(sample), "--rules", "task", "-j", "1", "-q", "--no-cache", "-f", "json"])
    (f,) = json.loads(r.stdout)["files"]
    (t,) = [t for t in f["thresholds"] if t["key"] == "min_effective_openings"]
    assert t["passed"] and t["measured"] > 100


# --------------------------------------------------------------------------------------------- properties

_TEXT = st.text(alphabet=st.sampled_from("ab c.?!é漢\n\t0"), max_size=30)


@st.composite
def datasets(draw):
    """Lines of a small JSONL file: chat examples (texts that may be empty, repeated or odd),
    examples without an assistant, blank lines, junk and non-object JSON."""
    line = st.one_of(
        st.builds(lambda u, a: json.dumps(chat(u, a), ensure_ascii=False), _TEXT, _TEXT),
        st.builds(lambda u: json.dumps({"messages": [{"role": "user", "content": u}]}), _TEXT),
        st.just(""),
        st.sampled_from(["junk", "{broken", "[1, 2]", "42", '"text"', "null", '{"messages": []}']),
    )
    lines = draw(st.lists(line, min_size=0, max_size=25))
    if lines and draw(st.booleans()):  # repeat a few lines: duplicates and identical texts
        lines += lines[: draw(st.integers(0, len(lines)))]
    return lines


def _write_lines(tmp: Path, lines: list[str]) -> Path:
    p = tmp / f"d{random.getrandbits(40)}.jsonl"
    p.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return p


@settings(max_examples=30)
@given(datasets())
def test_property_diversity_cli(tmp_path_factory, lines):
    p = _write_lines(tmp_path_factory.mktemp("div"), lines)
    r = runner.invoke(app, ["diversity", str(p), "--json", "-j", "1", "-q", "--no-cache", "--language-sample", "20"])
    no_traceback(r)
    assert r.exit_code in (0, 1, 2), r.output
    if r.exit_code != 2:
        from dataprep.scan import scan

        prof = scan(str(p), jobs=1, cache=False, sketch=False, content=False)
        assert json.loads(r.stdout)["examples"] == int(prof.rows["is_example"].sum())


@settings(max_examples=30)
@given(datasets())
def test_property_dedup_cli(tmp_path_factory, lines):
    p = _write_lines(tmp_path_factory.mktemp("dedup"), lines)
    r = runner.invoke(app, ["dedup", str(p), "--json", "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code in (0, 1, 2), r.output
    if r.exit_code != 2:
        d = json.loads(r.stdout)
        # examples without text (empty strings) are counted apart, as not compared
        nc = d.get("not_compared") or {}
        skipped = nc.get("no_text", 0) + nc.get("unreadable_content", 0)
        assert d["kept"] + d["exact_duplicates"] + d["near_duplicates"] + skipped == d["examples"]
        assert d["examples"] + d["skipped_invalid"] == len(lines)


@settings(max_examples=30)
@given(datasets())
def test_property_tokens_cli(tmp_path_factory, lines):
    p = _write_lines(tmp_path_factory.mktemp("tok"), lines)
    r = runner.invoke(app, ["tokens", str(p), "--json", "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code in (0, 1, 2), r.output
    if r.exit_code != 2:
        (f,) = json.loads(r.stdout)["files"]
        assert 0 <= f["examples"] <= len(lines)
        assert f["trainable_tokens"] <= f["total_tokens"]


@settings(max_examples=30)
@given(datasets(), st.sampled_from(["openai", "task"]))
def test_property_gate_cli(tmp_path_factory, lines, preset):
    p = _write_lines(tmp_path_factory.mktemp("gate"), lines)
    r = runner.invoke(app, ["gate", str(p), "--rules", preset, "-f", "json", "-j", "1", "-q", "--no-cache"])
    no_traceback(r)
    assert r.exit_code in (0, 1, 2), r.output
    doc = json.loads(r.stdout)
    (f,) = doc["files"]
    if any(x["rule"] == "DP103" for x in f["findings"]):  # a whole-file JSON array: its records are counted
        assert f["examples"] >= 0
    else:
        assert f["examples"] == sum(1 for x in lines if x.strip())  # every non-blank line is accounted for
    assert 0 <= f["valid_examples"] <= f["examples"]
    assert not any(x["rule"] == "DP199" for x in f["findings"]), f["findings"]  # no analysis crashed
    assert (r.exit_code == 0) == (doc["summary"]["verdict"] in ("pass", "warn"))


def test_reports_quote_excerpts_of_huge_texts(tmp_path):
    """A 50 MB message or opening (however it got into a finding) is an excerpt in the HTML
    and Markdown reports, and costs milliseconds rather than a masking pass over 50 MB."""
    from dataprep.audit import audit
    from dataprep.report.excerpt import MAX_EXCERPT_CHARS
    from dataprep.report.html import render_html
    from dataprep.report.markdown import render_markdown
    from dataprep.schema.findings import make_finding

    p = write_jsonl(tmp_path / "small.jsonl", DEGENERATE_FILES["samelen.jsonl"][:20])
    res = audit(str(p), "openai", jobs=1, cache=False)
    fa = res.files[0]
    huge = "word 12345 " * 5_000_000  # 55 MB
    fa.findings.append(make_finding("DP307", fa.path, 1, huge))
    fa.diversity["openings"]["user"]["words_3"]["top"][0]["opening"] = "x" * 50_000_000
    base_html, base_md = len(render_html(audit(str(p), "openai", jobs=1, cache=False))), None
    for render in (render_html, render_markdown):
        t = time.perf_counter()
        out = render(res)
        took = time.perf_counter() - t
        assert took < 2.0, (render.__name__, took)
        assert "more characters)" in out
        assert "12345 word" not in out[-MAX_EXCERPT_CHARS:] or len(out) < 200_000
        if render is render_html:
            assert len(out) < base_html + 4 * MAX_EXCERPT_CHARS + 1000
        else:
            base_md = len(out)
            assert base_md < 100_000


def test_renderers_on_a_report_without_examples():
    from rich.console import Console

    from dataprep.diversity.report import render_compare, render_terminal

    empty = {"version": 1, "examples": 0, "note": "no examples to analyse"}
    full = analyze_texts(*DEGENERATE["all the same length"], language_sample=20, vendi_sample=20).report
    con = Console(record=True, width=100)
    render_terminal(empty, con)
    render_compare(empty, full, con)
    out = con.export_text()
    assert "no examples to analyse" in out and "Diversity compared" in out
