"""One definition of an example's text (dataprep.text): every shape, and that the scan's hash,
dedup's re-read, diversity's sample and the TUI's duplicates view all see the same text."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from dataprep import text as T
from dataprep.checks import formats as F
from dataprep.dedup.shingles import exact_hash
from dataprep.text import (
    UNREAD_ASSISTANT,
    UNREAD_OTHER,
    UNREAD_USER,
    UNREADABLE,
    answer_of,
    compared_text,
    content_text,
    message_text,
    messages_of,
    prompt_and_answer,
    role_pattern,
    texts_of,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


# ----------------------------------------------------------------------------- content_text

@pytest.mark.parametrize("content, text", [
    ("plain", "plain"),
    ("", ""),
    (None, ""),
    ([], ""),
    ([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "a\nb"),
    ([{"type": "text", "value": "llama-factory"}], "llama-factory"),
    (["bare", {"text": "no type key"}], "bare\nno type key"),
    ([IMAGE, {"type": "text", "text": "after the image"}], "after the image"),
    ([{"type": "input_audio", "input_audio": {}}], ""),
])
def test_content_text_of_known_shapes(content, text):
    assert content_text(content) == text


@pytest.mark.parametrize("content", [
    7, 1.5, True, {"text": "a dict, not a list"},
    [{"type": "text"}],  # a text part without its text
    [{"type": "text", "text": 3}],
    [{"no": "type"}],  # a part of no known kind
    [{"type": 5, "x": 1}],
    [["nested"]], [None], [7],
])
def test_content_text_of_unknown_shapes_is_unreadable(content):
    assert content_text(content) is UNREADABLE


# ----------------------------------------------------------------------------- texts_of

def test_texts_of_every_role_parts_and_tool_calls():
    rec = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Dev note"}]},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}, IMAGE]},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                        {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "function", "name": "g", "content": "7"},
        {"role": "assistant", "content": "It is 42."},
        {"role": "narrator", "content": "ignored text"},
        "not a message",
        {"content": "no role"},
        {"role": 3, "content": "numeric role"},
        {"role": "user"},  # no content: no text, still a turn
    ]}
    u, a, s, pattern, chars, ncalls, turns, bad = texts_of(rec, F.OPENAI_CHAT)
    assert u == "Hi\n"
    assert a == "\nIt is 42."  # the tool-calling message has no text: an empty line
    assert s == "Be brief.\nDev note"
    assert pattern == "s,d,u,a,t,f,a,?,?,?,?,u"
    assert chars == [len("Be brief.") + len("Dev note"), 2, len("It is 42."), 3]
    assert (ncalls, turns, bad) == (2, 2, 0)
    assert pattern == role_pattern(messages_of(rec)) == role_pattern(rec["messages"])
    assert texts_of(rec) == texts_of(rec, F.OPENAI_CHAT)  # the format read from the keys


def test_texts_of_preference_example_counts_the_preferred_output_only():
    rec = {"input": {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]},
           "preferred_output": [{"role": "assistant", "content": "good"}],
           "non_preferred_output": [{"role": "assistant", "content": "bad"}]}
    assert texts_of(rec, F.OPENAI_DPO) == ("Q", "good", "S", "s,u,a", [1, 1, 4, 0], 0, 1, 0)
    assert texts_of(rec) == texts_of(rec, F.OPENAI_DPO)
    assert compared_text(rec) == "Q\ngood"
    assert [m["content"] for m in messages_of(rec, rejected=True)] == ["S", "Q", "good", "bad"]
    # a preference record read as chat (the file's format) has no messages, as the scan reads it
    assert texts_of(rec, F.OPENAI_CHAT)[:4] == ("", "", None, "")


@pytest.mark.parametrize("rec", [
    {"prompt": "Q", "completion": "A"},  # legacy prompt/completion: convert first, no messages here
    {"instruction": "Q", "input": "", "output": "A"},  # Alpaca: "input" is a string, not messages
    {"messages": "not a list"},
    {"messages": None},
    {"input": {"messages": "x"}, "preferred_output": "y"},
    {},
])
def test_records_without_messages_have_no_text(rec):
    for fmt in (None, F.OPENAI_CHAT, F.OPENAI_DPO):
        assert texts_of(rec, fmt) == ("", "", None, "", [0, 0, 0, 0], 0, 0, 0)
        assert compared_text(rec, fmt) == "\n" and compared_text(rec, fmt, "user") == ""
        assert messages_of(rec, fmt) == [] or fmt is None
    assert prompt_and_answer(rec) is None and answer_of(rec) is None


def test_unreadable_bits_name_the_role():
    odd = {"weird": True}
    rec = {"messages": [{"role": "system", "content": odd}, {"role": "user", "content": "fine"},
                        {"role": "assistant", "content": [{"type": "text"}]}]}
    u, a, s, *_, bad = texts_of(rec)
    assert (u, a, s) == ("fine", "", "")
    assert bad == UNREAD_ASSISTANT | UNREAD_OTHER
    assert texts_of({"messages": [{"role": "user", "content": 5}]})[-1] == UNREAD_USER
    assert prompt_and_answer(rec) is None  # DP503 never compares part of a text
    assert answer_of(rec) is None


def test_answer_of_is_the_answer_of_prompt_and_answer():
    rec = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"},
                        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
                        {"role": "assistant", "content": [{"type": "text", "text": "A2"}]},
                        {"role": "user", "content": "after"}]}
    assert prompt_and_answer(rec) == ("S\nQ1\nA1\nQ2", "A2")
    assert answer_of(rec) == "A2"
    assert answer_of({"messages": [{"role": "user", "content": "only a question"}]}) is None


def test_texts_of_does_not_change_the_record():
    rec = {"input": {"messages": [{"role": "user", "content": "Q"}]},
           "preferred_output": [{"role": "assistant", "content": "A"}]}
    before = orjson.dumps(rec)
    texts_of(rec)
    messages_of(rec, rejected=True)
    assert orjson.dumps(rec) == before


def test_compared_text_modes_and_bad_mode():
    rec = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                        {"role": "assistant", "content": "A", "tool_calls": [
                            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]}]}
    assert compared_text(rec) == "Q\nA"  # no system prompt, no tool call: what the scan hashes
    assert compared_text(rec, compare="user") == "Q" and compared_text(rec, compare="assistant") == "A"
    assert compared_text("not a dict") == "" and compared_text(None, F.OPENAI_CHAT) == ""
    with pytest.raises(ValueError, match="compare must be one of"):
        compared_text(rec, compare="tool")
    # a person's reading of one message: content, then each call
    assert message_text(rec["messages"][2]) == 'A\nf {"x":1}'
    assert message_text("x") == "" and message_text({"role": "user", "content": 5}) == ""


def test_dedup_exports_are_the_one_definition():
    from dataprep import dedup
    from dataprep.dedup import analyze as dedup_analyze
    from dataprep.dedup import text as dedup_text

    rec = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Q"}, IMAGE]},
                        {"role": "assistant", "content": "A"}]}
    assert dedup.compare_text(rec) == compared_text(rec) == "Q\nA"
    assert dedup.compare_text(rec, "assistant") == "A"
    assert dedup_text.content_text is content_text and dedup.prompt_and_answer is prompt_and_answer
    assert dedup_analyze.__name__ == "analyze" and callable(dedup_analyze)  # the function, as before
    with pytest.raises(ValueError):
        dedup.compare_text(rec, "tool")


def test_role_letter_tables_are_one():
    from dataprep.diversity import structure
    from dataprep.tui import search

    assert search.ROLES == tuple(T.ROLE_LETTER)
    for mod in (structure, search):
        assert not hasattr(mod, "ROLE_LETTERS")
    row = structure.structure_row([{"role": "developer", "content": "D"}, {"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, "junk", {"role": "assistant", "content": 3}])
    assert row["roles"] == "d,u,?,a"
    assert row["msg_chars"] == [1, 3, 0, 0]  # parts joined one per line, as the scan counts them
    assert row["system_text"] == "D"  # developer text is system text, as in the scan's system_hash


def test_tui_search_reads_messages_as_a_person_does():
    from dataprep.tui.search import message_texts

    rec = {"input": {"messages": [{"role": "user", "content": [{"type": "text", "value": "lf part"}]}]},
           "preferred_output": [{"role": "assistant", "content": None, "tool_calls": [
               {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}],
           "non_preferred_output": [{"role": "assistant", "content": "rejected answer"}]}
    assert list(message_texts(rec)) == ["lf part", "lookup {}", "rejected answer"]
    assert list(message_texts(rec, "user")) == ["lf part"]
    assert list(message_texts({"messages": [{"role": "user", "content": {"odd": 1}}]})) == []


def test_the_text_module_is_a_leaf():
    # Every layer imports it: it must load neither numpy nor polars nor any other part of dataprep
    # that could import it back.
    code = ("import sys, dataprep.text; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'polars') "
            "or (m.startswith('dataprep.') and m not in ('dataprep.text', 'dataprep.meta', 'dataprep.checks', "
            "'dataprep.checks.formats'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_dedup_minhash_loads_no_scan_and_no_command_layer():
    code = ("import sys, dataprep.dedup.minhash; "
            "print(sorted(m for m in sys.modules if m in ('dataprep.scan', 'dataprep.dedup.analyze', "
            "'dataprep.dedup.splitting', 'dataprep.dedup.index', 'polars')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_inline_loop_equals_the_functions_on_real_data():
    # texts_of spells messages_of, role_pattern and content_text out for speed; on every line of
    # the samples (chat, tools, DPO, multilingual, broken) the two must agree.
    n = 0
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                rec = orjson.loads(line.removeprefix(b"\xef\xbb\xbf"))
            except orjson.JSONDecodeError:
                continue
            if type(rec) is not dict:
                continue
            for fmt in (None, F.detect(rec)):
                msgs = messages_of(rec, fmt)
                u, a, s, pattern, chars, ncalls, turns, bad = texts_of(rec, fmt)
                assert pattern == role_pattern(msgs)
                texts = [content_text(m.get("content")) if type(m) is dict else "" for m in msgs]
                roles = [m.get("role") if type(m) is dict else None for m in msgs]
                assert u == "\n".join(t or "" for t, r in zip(texts, roles) if r == "user")
                assert a == "\n".join(t or "" for t, r in zip(texts, roles) if r == "assistant")
                assert bool(bad) == any(t is UNREADABLE for t in texts)
                n += 1
    assert n > 100


# ----------------------------------------------------------------------------- one text everywhere

ODD_RECORDS = [
    # parts lists (the system prompt too), with an image part that is not text
    {"messages": [{"role": "system", "content": [{"type": "text", "text": "You are support."}]},
                  {"role": "user", "content": [{"type": "text", "text": "Where is my parcel NW-1?"}, IMAGE]},
                  {"role": "assistant", "content": [{"type": "text", "text": "It left the depot today."}]}]},
    # tool calls: the call is not part of the compared text, the final answer is
    {"tools": [{"type": "function", "function": {"name": "track", "parameters": {"type": "object"}}}],
     "messages": [{"role": "system", "content": "You track parcels."},
                  {"role": "user", "content": "Track NW-2 please"},
                  {"role": "assistant", "content": None, "tool_calls": [
                      {"id": "c1", "type": "function", "function": {"name": "track", "arguments": "{\"id\":\"NW-2\"}"}}]},
                  {"role": "tool", "tool_call_id": "c1", "content": "{\"status\":\"in transit\"}"},
                  {"role": "assistant", "content": "NW-2 is in transit."}]},
    # LLaMA-Factory value parts
    {"messages": [{"role": "user", "content": [{"type": "text", "value": "Say hi"}]},
                  {"role": "assistant", "content": "Hi there, how can I help?"}]},
]


def _write(path: Path, records: list[dict], copies: int = 2) -> list[dict]:
    # each record twice (an exact duplicate pair) after a few distinct filler examples
    filler = [{"messages": [{"role": "user", "content": f"question number {k} about bikes"},
                            {"role": "assistant", "content": f"answer number {k}: check the chain"}]}
              for k in range(5)]
    rows = filler + [r for r in records for _ in range(copies)]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return rows


@pytest.mark.parametrize("compare", ["conversation", "user", "assistant"])
def test_scan_hash_dedup_reread_and_diversity_read_the_one_text(tmp_path, monkeypatch, compare):
    import numpy as np

    import dataprep
    from dataprep.dedup.analyze import iter_compared_texts
    from dataprep.diversity.analyze import _sample_texts

    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "odd.jsonl"
    rows = _write(path, ODD_RECORDS)
    prof = dataprep.scan(str(path), jobs=1, cache=False, compare=compare)
    assert prof.rows["is_example"].all()
    fmts = prof.rows["format"].to_list()
    for i, rec in enumerate(rows):
        want = compared_text(rec, fmts[i], compare)
        assert int(prof.exact[i]) == exact_hash(want), (i, want)  # the scan hashed this text
        u, a, s, pattern, chars, *_ = texts_of(rec, fmts[i])
        assert prof.rows["roles"][i] == pattern
        assert [prof.rows[c][i] for c in ("chars_system", "chars_user", "chars_assistant", "chars_tool")] == chars
    reread = dict(iter_compared_texts(prof, np.arange(len(rows))))
    assert reread == {i: compared_text(rec, compare=compare) for i, rec in enumerate(rows)}
    users, assistants = _sample_texts(prof, np.arange(1, len(rows) + 1))
    assert [(u, a) for u, a in zip(users, assistants)] == [texts_of(r)[:2] for r in rows]
    if compare == "conversation":
        from dataprep.diversity.features import combined_texts

        assert combined_texts(users, assistants) == [compared_text(r) for r in rows]


def _plain(renderable) -> str:
    from rich.console import Console

    console = Console(width=400, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable, soft_wrap=True)
    return console.export_text().rstrip("\n")


@pytest.mark.parametrize("which", [0, 1], ids=["parts-list", "tool-calls"])
def test_tui_duplicates_view_shows_the_hashed_text(tmp_path, monkeypatch, which):
    from dataprep.mask import redact
    from dataprep.tui.app import DataprepApp

    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "dups.jsonl"
    rec = ODD_RECORDS[which]
    _write(path, [rec], copies=3)
    want = redact(compared_text(rec))

    async def go():
        app = DataprepApp(str(path), jobs=1, cache=False, loader="thread")
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(3):
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
            res = app.dataset.analysis.dedup
            assert res is not None and res.n_clusters == 1
            await pilot.press("4")
            await pilot.pause()
            view = app.query_one("#duplicates-view")
            assert sorted(view.clusters[0][1].tolist()) == [5, 6, 7]
            shown = [_plain(app.query_one(f"#dup-text-{k}").content) for k in range(3)]
            assert shown == [want] * 3
            return shown[0]

    shown = asyncio.run(go())
    # what the view shows is what the scan hashed (nothing to mask in these records)
    import dataprep

    prof = dataprep.scan(str(path), jobs=1, cache=False)
    assert shown == compared_text(rec) and int(prof.exact[5]) == exact_hash(shown)
    if which == 1:  # neither the system prompt nor the call was hashed, so neither is shown
        assert "track" not in shown and "You track" not in shown and "NW-2 is in transit." in shown
    else:
        assert shown == "Where is my parcel NW-1?\nIt left the depot today."
