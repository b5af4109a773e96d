"""convert --to vertex | bedrock-nova | trl, and --from vertex | bedrock-nova: nothing lost.

Every record lands in the output or in the rejects file with a reason; every written line fits
the target's documented shape (tests/schemas/); OpenAI → Vertex → OpenAI and OpenAI → Nova →
OpenAI give back each record they can express, up to the documented normal forms (tool call
ids renumbered, arguments re-serialised, a one-part text content as a string, weight 1 and
parallel_tool_calls dropped and counted, a calls-only assistant turn without ``content``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dataprep.io import targets as T
from dataprep.io.convert import convert

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
SCHEMAS = ROOT / "tests" / "schemas"
SCHEMA_OF = {
    T.VERTEX: "vertex-gemini-sft.json", T.VERTEX_PREF: "vertex-gemini-preference.json",
    T.NOVA: "bedrock-nova-sft.json", T.NOVA_DPO: "bedrock-nova-dpo.json",
    T.TRL: "trl-chat.json", T.TRL_PREF: "trl-preference.json",
}


def _validator(shape: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / SCHEMA_OF[shape]).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()] if path.exists() else []


def _run(tmp_path: Path, src: Path | str, to: str | None, name: str = "out", **kw):
    out = tmp_path / f"{name}.jsonl"
    res = convert(str(src), str(out), target=to, **kw)
    rejects = _lines(tmp_path / f"{name}.rejects.jsonl")
    return res, _lines(out), rejects


def _write(tmp_path: Path, name: str, records: list) -> Path:
    p = tmp_path / name
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return p


def _shape_checks(shape: str, rec: dict) -> None:
    """What the JSON schemas cannot say: turn order rules of each target."""
    if shape == T.VERTEX:
        roles = [t["role"] for t in rec["contents"]]
        assert all(a != b for a, b in zip(roles, roles[1:])), roles
    if shape == T.VERTEX_PREF:
        assert rec["contents"][-1]["role"] == "user"
    if shape in (T.NOVA, T.NOVA_DPO):
        msgs = rec["messages"]
        assert msgs[0]["role"] == "user" and msgs[-1]["role"] == "assistant"
        texts = [b["text"] for b in rec.get("system", [])]
        texts += [b["text"] for m in msgs if m["role"] == "user" for b in m["content"] if "text" in b]
        assert not [s for s in T.NOVA_RESERVED for t in texts if s in t]


def _weight0_lines(path: Path) -> set[int]:
    out = set()
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        rec = orjson.loads(line)
        if any(isinstance(m, dict) and m.get("weight") == 0 for m in rec.get("messages", [])):
            out.add(n)
    return out


# --- each target on the sample data ---------------------------------------------------------------

@pytest.mark.parametrize("to", T.EXPORT_TARGETS)
@pytest.mark.parametrize("name", ["support_chat.jsonl", "tools.jsonl", "dpo.jsonl"])
def test_sample_data_every_record_accounted_and_every_line_fits_the_target(tmp_path, to, name):
    src = SAMPLES / name
    res, out, rejects = _run(tmp_path, src, to)
    n_in = len(src.read_bytes().splitlines())
    assert res.records == n_in == res.written + res.rejected == len(out) + len(rejects)
    shape = T.shape(to, name == "dpo.jsonl")
    assert res.target == shape
    v = _validator(shape)
    for rec in out:
        errors = [e.message for e in v.iter_errors(rec)]
        assert not errors, errors[:3]
        _shape_checks(shape, rec)
    for r in rejects:
        assert r["reason"] and r["source_line"] >= 1 and "record" in r
    rejected_lines = {r["source_line"] for r in rejects}
    if name == "support_chat.jsonl":  # weight 0 (context, not trained) exists in none of the three
        assert rejected_lines == _weight0_lines(src) and rejected_lines
        assert all("weight 0" in r["reason"] for r in rejects)
    elif name == "tools.jsonl" and to == T.NOVA:  # Nova fine-tuning data has no tools
        assert res.written == 0 and all("tools" in r["reason"] for r in rejects)
    else:
        assert rejects == []


def test_trl_arguments_become_the_objects_they_encode(tmp_path):
    src = SAMPLES / "tools.jsonl"
    _, out, _ = _run(tmp_path, src, T.TRL)
    orig = _lines(src)
    calls = 0
    for a, b in zip(orig, out):
        for ma, mb in zip(a["messages"], b["messages"]):
            for ca, cb in zip(ma.get("tool_calls", []), mb.get("tool_calls", [])):
                assert isinstance(cb["function"]["arguments"], dict)
                assert cb["function"]["arguments"] == json.loads(ca["function"]["arguments"])
                assert cb["id"] == ca["id"]
                calls += 1
            if "tool_calls" not in ma:
                assert ma == mb  # everything else is kept as it was
    assert calls >= 40


def test_parallel_tool_calls_dropped_is_counted_not_silent(tmp_path):
    res, out, _ = _run(tmp_path, SAMPLES / "tools.jsonl", T.VERTEX)
    n = sum("parallel_tool_calls" in r for r in _lines(SAMPLES / "tools.jsonl"))
    assert n and sum(v for k, v in res.target_notes.items() if k.startswith("parallel_tool_calls")) == n
    assert res.to_dict()["target_notes"]
    # counted once per record, however many tools in it use additionalProperties
    assert [v for k, v in res.target_notes.items() if k.startswith("tool parameters")] == [40]


# --- round trips through the CLI driver on the sample data ----------------------------------------

def _normal(rec: dict) -> dict:
    """The documented normal form: ids renumbered in order, arguments parsed, defaults dropped."""
    rec = orjson.loads(orjson.dumps(rec))
    rec.pop("parallel_tool_calls", None)
    ids: dict = {}
    msgs = rec["messages"] if "messages" in rec else rec["input"]["messages"]
    for m in msgs:
        if m.get("weight") == 1:
            del m["weight"]
        if "content" in m and m["content"] is None:  # a calls-only turn comes back without content
            del m["content"]
        for tc in m.get("tool_calls", []):
            ids[tc["id"]] = tc["id"] = f"c{len(ids)}"
            tc["function"]["arguments"] = json.loads(tc["function"]["arguments"])
        if "tool_call_id" in m:
            m["tool_call_id"] = ids[m["tool_call_id"]]
    return rec


@pytest.mark.parametrize("to", [T.VERTEX, T.NOVA])
@pytest.mark.parametrize("name", ["support_chat.jsonl", "tools.jsonl", "dpo.jsonl", "multilingual.jsonl"])
def test_sample_data_round_trips(tmp_path, to, name):
    src = SAMPLES / name
    res, there, rejects = _run(tmp_path, src, to, "there")
    if not there:
        assert res.rejected == res.records  # nothing expressible: Nova and tools.jsonl
        return
    back_res, back, back_rejects = _run(tmp_path, tmp_path / "there.jsonl", None, "back")
    assert back_rejects == [] and back_res.written == len(there)
    skipped = {r["source_line"] for r in rejects}
    kept = [r for n, r in enumerate(_lines(src), 1) if n not in skipped]
    assert len(kept) == len(back)
    for a, b in zip(kept, back):
        assert _normal(a) == _normal(b)
    if name != "tools.jsonl":  # text-only records come back byte for byte
        assert kept == back


def test_vertex_file_from_the_docs_converts_to_openai_and_back(tmp_path):
    # Google's function-calling tuning example, with the results turn and a final answer added.
    doc = {
        "system_instruction": {"role": "system", "parts": [{"text": "You are an assistant that helps users "
                                                                     "find the best product for them."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Do you have the White Pixel 8 Pro 128GB in stock in the US?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_product_sku",
                                                          "args": {"product_name": "Pixel 8 Pro 128GB"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_product_sku",
                                                             "response": {"output": "in stock"}}}]},
            {"role": "model", "parts": [{"text": "Yes, it is in stock."}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "get_product_sku", "description": "Get the inventory",
                                             "parameters": {"type": "OBJECT", "properties": {
                                                 "product_name": {"type": "STRING"}}}}]}],
    }
    src = _write(tmp_path, "vertex.jsonl", [doc])
    res, out, rejects = _run(tmp_path, src, None)
    assert rejects == [] and res.sources == Counter({T.VERTEX: 1}) and res.target == "openai-chat"
    msgs = out[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "assistant"]
    assert msgs[2]["tool_calls"][0]["function"] == {"name": "get_product_sku",
                                                    "arguments": '{"product_name": "Pixel 8 Pro 128GB"}'}
    assert msgs[3] == {"role": "tool", "tool_call_id": msgs[2]["tool_calls"][0]["id"], "content": "in stock"}
    assert out[0]["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {
        "product_name": {"type": "string"}}}  # Gemini's type names in JSON schema's case
    res2, again, _ = _run(tmp_path, tmp_path / "out.jsonl", T.VERTEX, "again")
    assert again[0]["contents"] == doc["contents"] and again[0]["tools"] == doc["tools"]
    assert again[0]["systemInstruction"]["parts"] == doc["system_instruction"]["parts"]


def test_from_nova_dpo_and_vertex_preference_become_openai_preference(tmp_path):
    nova = {"system": [{"text": "Be brief."}], "messages": [
        {"role": "user", "content": [{"text": "hi"}]},
        {"role": "assistant", "candidates": [
            {"content": [{"text": "bad"}], "preferenceLabel": "non-preferred"},
            {"content": [{"text": "good"}], "preferenceLabel": "preferred"}]}]}
    vertex = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "completions": [
        {"score": 0, "completion": {"role": "model", "parts": [{"text": "bad"}]}},
        {"score": 1, "completion": {"role": "model", "parts": [{"text": "good"}]}}]}
    for name, rec, fmt in (("nova", nova, "bedrock-nova"), ("vertex", vertex, "vertex")):
        for source in ("auto", fmt):
            res, out, rejects = _run(tmp_path, _write(tmp_path, f"{name}.jsonl", [rec]), None, f"o_{name}",
                                     source=source)
            assert rejects == [] and res.target == "openai-dpo", (name, source, rejects)
            assert out[0]["preferred_output"] == [{"role": "assistant", "content": "good"}]
            assert out[0]["non_preferred_output"] == [{"role": "assistant", "content": "bad"}]


# --- nasty cases: each must be a reject with the reason, never a silent loss ----------------------

def _chat(*msgs, **extra) -> dict:
    return {"messages": list(msgs), **extra}


U = {"role": "user", "content": "Where is my order?"}
A = {"role": "assistant", "content": "It ships today."}
S = {"role": "system", "content": "You are helpful."}


def _img(url: str) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": url}}]}


@pytest.mark.parametrize(("to", "record", "reason"), [
    (T.VERTEX, _chat(U, A, S, U, A), "system message after the start"),
    (T.VERTEX, _chat(U, U, A), "two user turns in a row"),
    (T.VERTEX, _chat(_img("https://example.com/a.png"), A), "gs://"),
    (T.VERTEX, _chat(_img("data:image/png;base64,iVBORw0KGgo="), A), "inline (data:) image"),
    (T.VERTEX, _chat(_img("gs://bucket/photo"), A), "image type"),
    (T.VERTEX, _chat(U, {**A, "weight": 0}, U, A), "weight 0"),
    (T.VERTEX, _chat({"role": "developer", "content": "x"}, U, A), "'developer'"),
    (T.NOVA, _chat(U, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "thanks"}),
     "last turn to be an assistant"),
    (T.NOVA, _chat(S, A), "first turn after the system prompt"),
    (T.NOVA, _chat(_img("gs://b/a.png"), A), "s3://"),
    (T.NOVA, _chat({"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"}, A), "tool call"),
    (T.NOVA, _chat(U, {**A, "weight": 0}, U, A), "weight 0"),
    (T.TRL, _chat(U, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "[1, 2]"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"}, A), "arguments"),
    (T.TRL, _chat(U, {**A, "weight": 0}, U, A), "weight 0"),
])
def test_what_a_target_cannot_hold_is_rejected_with_the_reason(tmp_path, to, record, reason):
    res, out, rejects = _run(tmp_path, _write(tmp_path, "in.jsonl", [record, _chat(U, A)]), to)
    assert res.records == 2 and res.written == 1 and res.rejected == 1, rejects
    assert len(out) == 1 and rejects[0]["source_line"] == 1
    assert reason in rejects[0]["reason"], rejects[0]["reason"]
    assert rejects[0]["record"] == record


@pytest.mark.parametrize("reserved", T.NOVA_RESERVED)
def test_nova_reserved_strings_in_user_or_system_text_are_rejected_in_assistant_text_kept(tmp_path, reserved):
    user = _chat({"role": "user", "content": f"a {reserved} b"}, A)
    system = _chat({"role": "system", "content": f"x{reserved}"}, U, A)
    parts = _chat({"role": "user", "content": [{"type": "text", "text": reserved}]}, A)
    fine = _chat(U, {"role": "assistant", "content": f"say {reserved}"})
    res, out, rejects = _run(tmp_path, _write(tmp_path, "in.jsonl", [user, system, parts, fine]), T.NOVA)
    assert [r["source_line"] for r in rejects] == [1, 2, 3]
    assert all(repr(reserved) in r["reason"] and "reserves" in r["reason"] for r in rejects)
    assert out[0]["messages"][1]["content"] == [{"text": f"say {reserved}"}]


def test_cloud_images_convert_to_each_target_form(tmp_path):
    res, out, rejects = _run(tmp_path, _write(tmp_path, "v.jsonl", [_chat(_img("gs://b/cat.JPG"), A)]), T.VERTEX, "v")
    assert rejects == [] and out[0]["contents"][0]["parts"][1] == {
        "fileData": {"mimeType": "image/jpeg", "fileUri": "gs://b/cat.JPG"}}
    res, out, rejects = _run(tmp_path, _write(tmp_path, "n.jsonl", [_chat(_img("s3://b/cat.png"), A)]), T.NOVA, "n")
    assert rejects == [] and out[0]["messages"][0]["content"][1] == {
        "image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/cat.png"}}}}
    _validator(T.NOVA).validate(out[0])
    # and back: OpenAI cannot read s3://, so the way back rejects it with the validator's reason
    res, back, rejects = _run(tmp_path, tmp_path / "n.jsonl", None, "nb")
    assert back == [] and "DP216" in rejects[0]["reason"]


def test_preference_and_chat_in_one_file_keep_one_output_shape(tmp_path):
    dpo = _lines(SAMPLES / "dpo.jsonl")[0]
    res, out, rejects = _run(tmp_path, _write(tmp_path, "mix.jsonl", [dpo, _chat(U, A)]), T.VERTEX)
    assert res.target == T.VERTEX_PREF and len(out) == 1 and rejects[0]["source_line"] == 2
    assert "keep one format per file" in rejects[0]["reason"]


def test_vertex_preference_needs_a_final_user_turn_and_text_only(tmp_path):
    dpo = _lines(SAMPLES / "dpo.jsonl")[0]
    ends_with_model = {**dpo, "input": {"messages": [U, A]}}
    res, out, rejects = _run(tmp_path, _write(tmp_path, "p.jsonl", [ends_with_model, dpo]), T.VERTEX)
    assert len(out) == 1 and "end with a user turn" in rejects[0]["reason"]


@pytest.mark.parametrize(("source", "record", "reason"), [
    ("auto", {"schemaVersion": "bedrock-conversation-2024", "messages": [
        {"role": "user", "content": [{"video": {"format": "mp4"}}]}, {"role": "assistant", "content": [{"text": "x"}]}]},
     "video"),
    ("auto", {"schemaVersion": "other-2030", "messages": [{"role": "user", "content": [{"text": "x"}]}]},
     "schemaVersion"),
    ("auto", {"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]},
                           {"role": "model", "parts": [{"text": "x"}]}]}, "inlineData"),
    ("auto", {"contents": [{"role": "user", "parts": [{"text": "x"}]},
                           {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                           {"role": "user", "parts": [{"functionResponse": {"name": "g", "response": {}}}]}]},
     "did not call"),
    ("auto", {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "completions": [
        {"score": 1, "completion": {"role": "model", "parts": [{"text": "a"}]}},
        {"score": True, "completion": {"role": "model", "parts": [{"text": "b"}]}}]}, "score 0"),
    ("vertex", {"messages": [{"role": "user", "content": "x"}]}, "--from"),
    ("auto", {"contents": [{"role": "user", "parts": [{"text": "x"}]}, {"role": "model", "parts": [{"text": "y"}]}],
              "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "TYPE_UNSPECIFIED"}}]}]},
     "no JSON-schema equivalent"),
    ("bedrock-nova", {"contents": []}, "not part of the shape"),
    ("bedrock-nova", {"messages": [{"role": "user", "content": [{"text": "x"}]}, {"role": "assistant", "candidates": [
        {"content": [{"text": "a"}], "preferenceLabel": ["preferred"]},
        {"content": [{"text": "b"}], "preferenceLabel": "non-preferred"}]}]}, "one labelled preferred"),
])
def test_bad_vertex_and_nova_input_is_rejected_with_the_reason(tmp_path, source, record, reason):
    res, out, rejects = _run(tmp_path, _write(tmp_path, "in.jsonl", [record]), None, source=source)
    assert out == [] and res.rejected == 1 and reason in rejects[0]["reason"], rejects


def test_cli_lists_the_new_targets_and_refuses_an_unknown_one(tmp_path):
    run = [sys.executable, "-m", "dataprep", "convert", str(SAMPLES / "dpo.jsonl"), str(tmp_path / "o.jsonl")]
    bad = subprocess.run([*run, "--to", "gemini"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "vertex, bedrock-nova, trl" in bad.stderr and "Traceback" not in bad.stderr
    ok = subprocess.run([*run, "--to", "bedrock-nova", "--json", "-q"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["target"] == T.NOVA_DPO and d["checked_as"] == "openai-dpo" and d["accounted"]
    helptext = subprocess.run([sys.executable, "-m", "dataprep", "convert", "--help"], capture_output=True,
                              text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""}).stdout
    assert "bedrock-nova" in helptext and "trl" in helptext


# --- properties -----------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: s.strip() and not any(r in s for r in T.NOVA_RESERVED))
_args = st.dictionaries(st.text(min_size=1, max_size=5), st.one_of(st.integers(-5, 5), st.text(max_size=5),
                                                                  st.booleans(), st.none()), max_size=3)


# A string, or two or three text parts (one part comes back as a string: the documented normal form).
_content = st.one_of(_text, st.lists(_text, min_size=2, max_size=3).map(
    lambda ts: [{"type": "text", "text": t} for t in ts]))


@st.composite
def _records(draw, tools: bool) -> dict:
    msgs: list[dict] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(_content)})
    n = 0
    for _ in range(draw(st.integers(1, 3))):
        msgs.append({"role": "user", "content": draw(_content)})
        if tools and draw(st.booleans()):
            names = draw(st.lists(st.sampled_from(["lookup", "quote", "ship"]), min_size=1, max_size=2))
            calls = []
            for name in names:
                n += 1
                calls.append({"id": f"call_{n}", "type": "function",
                              "function": {"name": name, "arguments": json.dumps(draw(_args), ensure_ascii=False)}})
            said = draw(st.one_of(st.none(), _text))
            msgs.append({"role": "assistant", **({"content": said} if said else {}), "tool_calls": calls})
            for c in calls:
                msgs.append({"role": "tool", "tool_call_id": c["id"], "content": draw(_text)})
        msgs.append({"role": "assistant", "content": draw(_content)})
    rec: dict = {"messages": msgs}
    if tools:
        rec["tools"] = [{"type": "function", "function": {"name": name, "description": "d",
                                                          "parameters": {"type": "object", "properties": {}}}}
                        for name in ("lookup", "quote", "ship")]
    return rec


def _ids():
    n = iter(range(1, 1000))
    return lambda: f"call_{next(n)}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records(tools=True))
def test_property_openai_vertex_openai_is_exact(rec):
    there = T.to_vertex(rec, Counter())
    assert not list(_validator(T.VERTEX).iter_errors(there))
    back = T.from_vertex(orjson.loads(orjson.dumps(there)), _ids())
    # ids come back numbered in order (they are numbered that way here); arguments are JSON text of
    # the same object, and text Python's json module writes back the same way
    assert back == rec


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records(tools=False))
def test_property_openai_nova_openai_is_exact(rec):
    there = T.to_nova(rec, Counter())
    assert not list(_validator(T.NOVA).iter_errors(there))
    assert T.from_nova(orjson.loads(orjson.dumps(there)), _ids()) == rec


_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["user", "model", "assistant", "system", "tool", "x", "", "gs://b/a.png", "s3://b/a.png", "preferred",
     "non-preferred", "bedrock-conversation-2024", "User:", "{}", "[1]"])),
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(
        ["messages", "contents", "parts", "role", "content", "text", "tool_calls", "function", "name",
         "arguments", "id", "tool_call_id", "type", "image_url", "url", "functionCall", "functionResponse",
         "args", "response", "output", "completions", "score", "completion", "candidates", "preferenceLabel",
         "schemaVersion", "system", "systemInstruction", "input", "preferred_output", "non_preferred_output",
         "tools", "functionDeclarations", "fileData", "image", "source", "s3Location", "uri", "weight"]),
        kids, max_size=4)), max_leaves=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(_json, min_size=1, max_size=6), st.sampled_from([*T.EXPORT_TARGETS, None]),
       st.sampled_from(["auto", "vertex", "bedrock-nova"]))
def test_hostile_records_never_crash_and_always_balance(tmp_path, records, to, source):
    src = _write(tmp_path, "h.jsonl", [{"first": "line"}, *records])  # a first line "[" reads as a JSON array file
    res = convert(str(src), str(tmp_path / "h.out.jsonl"), target=to, source=source)
    assert res.records == len(records) + 1 == res.written + res.rejected
