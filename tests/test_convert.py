"""`dataprep convert`: every source shape to clean OpenAI JSONL; every record written or rejected."""

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.io.convert import (
    TEXT_REASON,
    MappingError,
    convert,
    default_rejects_path,
    parse_mapping,
)
from dataprep.schema.findings import Severity
from dataprep.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()

TOPICS = [
    "chain wear",
    "tubeless tires",
    "brake pads",
    "saddle height",
    "cassette sizes",
    "rotor sizes",
    "tire pressure",
    "bottom brackets",
    "pedal threads",
    "helmet sizing",
    "light mounts",
    "pump valves",
    "seatpost clamps",
    "derailleur limits",
]


# --- fixtures mirroring the real files: pretty-printed JSON arrays (indent 2) ---------------------


def alpaca_records(n=12):
    markers = ["", "<noinput>", "No input", "N/A", "< noinput >", "`<noinput>`"]
    recs = []
    for i in range(n):
        t = TOPICS[i % len(TOPICS)]
        inp = markers[i % len(markers)] if i % 4 else f"My bike is a {2010 + i} commuter."
        recs.append(
            {
                "instruction": f"Explain {t} in two sentences.",
                "input": inp,
                "output": f"Here is a short note about {t}. Check it every few months, number {i}.",
            }
        )
    return recs


def sharegpt_tool_records(n=12):
    tools = [
        {
            "name": "get_price",
            "description": "Price of a part",
            "parameters": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]},
        }
    ]
    recs = []
    for i in range(n):
        t = TOPICS[i % len(TOPICS)]
        conv = [
            {"from": "human", "value": f"How much is the part for {t}?"},
            {"from": "function_call", "value": json.dumps({"name": "get_price", "arguments": {"sku": f"SKU-{i}"}})},
            {"from": "observation", "value": json.dumps({"price": 10 + i})},
            {"from": "gpt", "value": f"The part for {t} costs {10 + i} dollars."},
        ]
        if i % 2:
            conv += [
                {"from": "human", "value": "Thanks, and shipping?"},
                {"from": "gpt", "value": "Shipping is free over fifty dollars."},
            ]
        rec = {"conversations": conv, "tools": json.dumps(tools) if i % 3 else tools}
        if i == 0:
            rec["system"] = "You are the shop's order assistant."
        recs.append(rec)
    return recs


def sharegpt_dpo_records(n=12):
    recs = []
    for i in range(n):
        t = TOPICS[i % len(TOPICS)]
        conv = [{"from": "human", "value": f"Tell me about {t}."}]
        if i % 2:
            conv = (
                [{"from": "system", "value": "Be brief."}]
                + conv
                + [
                    {"from": "gpt", "value": f"{t.capitalize()} matter for safety."},
                    {"from": "human", "value": "Say more, please."},
                ]
            )
        recs.append(
            {
                "conversations": conv,
                "chosen": {"from": "gpt", "value": f"A careful answer about {t}, item {i}."},
                "rejected": {"from": "gpt", "value": f"No idea about {t}."},
            }
        )
    return recs


def write_array(path: Path, records) -> Path:
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def object_start_lines(path: Path) -> list[int]:
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if line == "  {"]


def assert_clean(path: Path) -> None:
    res = validate(str(path))
    errors = [f for f in res.findings if f.severity is Severity.ERROR]
    assert errors == [], [f.to_dict() for f in errors]


# --- the three real shapes ---------------------------------------------------------------------------


def test_alpaca_array_converts_clean_and_markers_are_normalised(tmp_path):
    recs = alpaca_records()
    assert {"", "<noinput>", "No input", "N/A", "< noinput >", "`<noinput>`"} <= {r["input"] for r in recs}
    src = write_array(tmp_path / "alpaca.json", recs)
    out = tmp_path / "out.jsonl"
    res = convert(str(src), str(out))
    assert (res.records, res.written, res.rejected) == (12, 12, 0)
    assert res.shape == "json-array" and res.target == "openai-chat"
    # markers other than "" are counted: <noinput>, No input, N/A, ...
    assert res.empty_inputs_normalised == sum(1 for r in recs if r["input"] and not r["input"].startswith("My bike"))
    assert_clean(out)
    rows = read_jsonl(out)
    users = [r["messages"][0]["content"] for r in rows]
    assert users[0] == "Explain chain wear in two sentences.\n\nMy bike is a 2010 commuter."
    for u in users:
        assert "noinput" not in u.lower() and "No input" not in u and not u.endswith("N/A")
    assert users[1] == "Explain tubeless tires in two sentences."
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in rows)
    assert Path(default_rejects_path(str(out))).read_text() == ""


def test_sharegpt_tool_calls_link_ids_and_tools_become_openai_tools(tmp_path):
    src = write_array(tmp_path / "tools.json", sharegpt_tool_records())
    out = tmp_path / "tools.jsonl"
    res = convert(str(src), str(out))
    assert (res.written, res.rejected) == (12, 0)
    assert_clean(out)
    rows = read_jsonl(out)
    starts = object_start_lines(src)
    assert rows[0]["messages"][0] == {"role": "system", "content": "You are the shop's order assistant."}
    for row, line in zip(rows, starts):
        msgs = row["messages"]
        calls = [c for m in msgs for c in m.get("tool_calls", [])]
        assert [c["id"] for c in calls] == [f"call_{line}_1"]
        call = calls[0]
        assert call["type"] == "function" and call["function"]["name"] == "get_price"
        assert isinstance(call["function"]["arguments"], str) and json.loads(call["function"]["arguments"])["sku"]
        tool_msgs = [m for m in msgs if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tool_msgs] == [call["id"]]
        assert row["tools"][0]["type"] == "function"
        assert row["tools"][0]["function"]["name"] == "get_price"
        assert row["tools"][0]["function"]["parameters"]["required"] == ["sku"]
    # deterministic: a second run writes the same bytes
    out2 = tmp_path / "again.jsonl"
    convert(str(src), str(out2))
    assert out.read_bytes() == out2.read_bytes()


def test_sharegpt_dpo_becomes_openai_preference(tmp_path):
    src = write_array(tmp_path / "dpo.json", sharegpt_dpo_records())
    out = tmp_path / "dpo.jsonl"
    res = convert(str(src), str(out))
    assert (res.written, res.rejected, res.target) == (12, 0, "openai-dpo")
    assert_clean(out)
    rows = read_jsonl(out)
    assert rows[0] == {
        "input": {"messages": [{"role": "user", "content": "Tell me about chain wear."}]},
        "preferred_output": [{"role": "assistant", "content": "A careful answer about chain wear, item 0."}],
        "non_preferred_output": [{"role": "assistant", "content": "No idea about chain wear."}],
    }
    assert [m["role"] for m in rows[1]["input"]["messages"]] == ["system", "user", "assistant", "user"]
    # --to openai: SFT on the preferred reply
    sft = tmp_path / "sft.jsonl"
    res = convert(str(src), str(sft), target="openai")
    assert res.written == 12
    assert_clean(sft)
    assert read_jsonl(sft)[0]["messages"][-1] == {
        "role": "assistant",
        "content": "A careful answer about chain wear, item 0.",
    }


# --- other sources --------------------------------------------------------------------------------


def test_prompt_completion_and_preference_columns(tmp_path):
    pc = write_jsonl(
        tmp_path / "pc.jsonl",
        [{"prompt": f"What about {t}?\n\n###\n\n", "completion": f" It depends on {t}.\n"} for t in TOPICS[:12]],
    )
    out = tmp_path / "pc.out.jsonl"
    res = convert(str(pc), str(out))
    assert (res.written, res.rejected) == (12, 0)
    assert_clean(out)
    assert read_jsonl(out)[0]["messages"] == [
        {"role": "user", "content": "What about chain wear?\n\n###"},
        {"role": "assistant", "content": "It depends on chain wear."},
    ]
    recs = []
    for i, t in enumerate(TOPICS[:12]):
        if i % 3 == 0:
            recs.append({"prompt": f"Advice on {t}?", "chosen": f"Good advice on {t}.", "rejected": "Dunno."})
        elif i % 3 == 1:  # TRL conversational, explicit prompt
            recs.append(
                {
                    "prompt": [{"role": "user", "content": f"Advice on {t}?"}],
                    "chosen": [{"role": "assistant", "content": f"Good advice on {t}."}],
                    "rejected": [{"role": "assistant", "content": "Dunno."}],
                }
            )
        else:  # TRL implicit prompt: the prompt is inside chosen/rejected
            conv = [{"role": "user", "content": f"Advice on {t}?"}]
            recs.append(
                {
                    "chosen": conv + [{"role": "assistant", "content": f"Good advice on {t}."}],
                    "rejected": conv + [{"role": "assistant", "content": "Dunno."}],
                    "prompt": conv,
                }
            )
    pref = write_jsonl(tmp_path / "pref.jsonl", recs)
    out = tmp_path / "pref.out.jsonl"
    res = convert(str(pref), str(out))
    assert (res.written, res.rejected, res.target) == (12, 0, "openai-dpo")
    assert_clean(out)
    for row, t in zip(read_jsonl(out), TOPICS):
        assert row["input"]["messages"] == [{"role": "user", "content": f"Advice on {t}?"}]
        assert row["preferred_output"][0]["content"] == f"Good advice on {t}."


def test_openai_array_passes_through_to_jsonl(tmp_path):
    recs = [
        {"messages": [{"role": "user", "content": f"Hi about {t}"}, {"role": "assistant", "content": f"Sure, {t}."}]}
        for t in TOPICS[:12]
    ]
    src = write_array(tmp_path / "chat.json", recs)
    out = tmp_path / "chat.jsonl"
    res = convert(str(src), str(out))
    assert (res.written, res.rejected) == (12, 0)
    assert read_jsonl(out) == recs
    assert_clean(out)


def test_text_records_are_all_rejected_with_the_reason(tmp_path):
    src = write_jsonl(tmp_path / "text.jsonl", [{"text": f"Some text about {t}."} for t in TOPICS[:5]])
    out = tmp_path / "text.out.jsonl"
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exit_code == 1
    assert out.read_text() == ""
    rejects = read_jsonl(tmp_path / "text.out.rejects.jsonl")
    assert [x["source_line"] for x in rejects] == [1, 2, 3, 4, 5]
    assert all(x["reason"] == TEXT_REASON for x in rejects)
    assert rejects[0]["record"] == {"text": "Some text about chain wear."}


# --- rejects --------------------------------------------------------------------------------------


def test_rejects_carry_source_lines_and_the_rest_converts(tmp_path):
    recs = alpaca_records(15)
    recs[2]["output"] = ""  # would be DP300 empty-content after conversion
    recs[5]["output"] = "<No Output>"
    recs[7] = {"text": "stray plain text"}
    recs[9]["instruction"] = "Say <|endoftext|> please."  # DP301 in the output: caught by the post-check
    src = write_array(tmp_path / "a.json", recs)
    # break item 11 syntactically: the other items still convert
    text = src.read_text()
    starts = object_start_lines(src)
    lines = text.splitlines()
    lines[starts[10]] = lines[starts[10]].replace('": "', '": ', 1)  # drop a quote inside item 11
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "a.jsonl"
    rej = tmp_path / "bad.jsonl"
    res = convert(str(src), str(out), rejects_path=str(rej))
    assert res.records == 15 and res.written + res.rejected == 15
    rejects = read_jsonl(rej)
    by_line = {x["source_line"]: x for x in rejects}
    assert set(by_line) == {starts[2], starts[5], starts[7], starts[9], starts[10]}
    assert "DP300" in by_line[starts[2]]["reason"] and by_line[starts[2]]["findings"][0]["rule"] == "DP300"
    assert "empty-output marker" in by_line[starts[5]]["reason"]
    assert by_line[starts[7]]["reason"] == TEXT_REASON
    assert "DP301" in by_line[starts[9]]["reason"]
    assert isinstance(by_line[starts[10]]["record"], str)  # unparseable: the raw text
    assert "DP102" in by_line[starts[10]]["reason"]
    assert by_line[starts[2]]["record"] == recs[2]  # the original record
    assert res.written == 10
    assert_clean(out)


def test_jsonl_with_bad_lines_blank_lines_and_gzip(tmp_path):
    good = [
        {"instruction": f"Name a fact about {t}.", "input": "", "output": f"A fact about {t}."} for t in TOPICS[:11]
    ]
    body = (
        "".join(json.dumps(r) + "\n" for r in good[:5])
        + "\n{not json\n"
        + "".join(json.dumps(r) + "\n" for r in good[5:])
    )
    src = tmp_path / "a.jsonl.gz"
    src.write_bytes(gzip.compress(b"\xef\xbb\xbf" + body.encode()))
    out = tmp_path / "a.jsonl"
    res = convert(str(src), str(out))
    assert (res.records, res.written, res.rejected, res.blank_lines) == (12, 11, 1, 1)
    rejects = read_jsonl(tmp_path / "a.rejects.jsonl")
    assert rejects[0]["source_line"] == 7 and rejects[0]["record"] == "{not json"
    assert_clean(out)


def test_mixed_formats_keep_one_output_format(tmp_path):
    recs = alpaca_records(11) + sharegpt_dpo_records(1)
    src = write_jsonl(tmp_path / "mixed.jsonl", recs)
    res = convert(str(src), str(tmp_path / "m.jsonl"))
    assert (res.written, res.rejected, res.target) == (11, 1, "openai-chat")
    rej = read_jsonl(tmp_path / "m.rejects.jsonl")[0]
    assert rej["source_line"] == 12 and "one format per file" in rej["reason"]


# --- mapping --------------------------------------------------------------------------------------


def test_mapping_custom_columns_and_tags(tmp_path):
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [{"question": f"Why {t}?", "answer": f"Because {t} matters.", "id": i} for i, t in enumerate(TOPICS[:12])],
    )
    out = tmp_path / "qa.out.jsonl"
    res = convert(str(qa), str(out), mapping=["prompt=question", "response=answer"])
    assert (res.written, res.rejected) == (12, 0)
    assert read_jsonl(out)[0]["messages"] == [
        {"role": "user", "content": "Why chain wear?"},
        {"role": "assistant", "content": "Because chain wear matters."},
    ]
    assert_clean(out)
    # without the mapping nothing is recognised
    res = convert(str(qa), str(tmp_path / "none.jsonl"))
    assert res.written == 0 and res.rejected == 12

    dialogs = [
        {
            "dialog": [
                {"speaker": "customer", "text": f"Is {t} covered?"},
                {"speaker": "agent", "text": f"Yes, {t} is covered."},
            ],
            "sys": "You are helpful.",
        }
        for t in TOPICS[:12]
    ]
    src = write_array(tmp_path / "dialogs.json", dialogs)
    out = tmp_path / "dialogs.jsonl"
    args = [
        "convert",
        str(src),
        str(out),
        "--map",
        "messages=dialog",
        "--map",
        "system=sys",
        "--map",
        "role_tag=speaker,content_tag=text",
        "--map",
        "user_tag=customer",
        "--map",
        "assistant_tag=agent",
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert read_jsonl(out)[0]["messages"] == [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Is chain wear covered?"},
        {"role": "assistant", "content": "Yes, chain wear is covered."},
    ]
    assert_clean(out)


def test_mapping_rejects_unknown_fields():
    assert parse_mapping(["instruction=q", "output=a"]) == {"prompt": "q", "response": "a"}
    with pytest.raises(MappingError):
        parse_mapping(["colour=red"])
    with pytest.raises(MappingError):
        parse_mapping(["prompt"])


# --- CLI ------------------------------------------------------------------------------------------


def test_cli_exit_codes_and_messages(tmp_path):
    src = write_array(tmp_path / "a.json", alpaca_records())
    out = tmp_path / "a.jsonl"
    r = runner.invoke(app, ["convert", str(src), str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["written"] == 12
    r = runner.invoke(app, ["convert", str(tmp_path / "missing.json"), str(out)])
    assert r.exit_code == 2 and "no such file" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["convert", str(src), str(tmp_path / "no" / "dir" / "o.jsonl")])
    assert r.exit_code == 2 and "cannot write" in r.output
    r = runner.invoke(app, ["convert", str(src), str(out), "--map", "nope=x"])
    assert r.exit_code == 2 and "unknown field" in r.output
    r = runner.invoke(app, ["convert", str(src), str(out), "--from", "csv"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["convert", str(src), str(out), "--to", "openai-dpo"])
    assert r.exit_code == 1 and "rejected" in r.output
    r = runner.invoke(app, ["convert", str(src), str(out), "-q"])
    assert r.exit_code == 0 and r.output == ""


# --- the project's own sample data (written by sample_data/make_samples.py) --------------------------

SAMPLE_FILES = ["alpaca.json", "alpaca.jsonl", "sharegpt.json", "sharegpt_dpo.json", "prompt_completion.jsonl"]


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_data_converts_clean(tmp_path, name):
    src = SAMPLES / name
    assert src.exists(), f"sample_data/{name} is missing: run python sample_data/make_samples.py"
    out = tmp_path / "out.jsonl"
    res = convert(str(src), str(out))
    assert res.written + res.rejected == res.records > 0
    assert res.written > 0
    for rej in read_jsonl(tmp_path / "out.rejects.jsonl"):
        assert rej["source_line"] >= 1 and rej["reason"]
    errors = [f for f in validate(str(out)).findings if f.severity is Severity.ERROR and f.rule != "DP109"]
    assert errors == [], [f.to_dict() for f in errors]


def test_sample_text_only_is_all_rejected(tmp_path):
    src = SAMPLES / "text_only.jsonl"
    assert src.exists(), "sample_data/text_only.jsonl is missing: run python sample_data/make_samples.py"
    res = convert(str(src), str(tmp_path / "t.jsonl"))
    assert res.written == 0 and res.rejected == res.records > 0
    assert all(r["reason"] == TEXT_REASON for r in read_jsonl(tmp_path / "t.rejects.jsonl"))


# --- the JSON array splitter, over arbitrary arrays ---------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dataprep.io.records import open_records  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(_JSON, max_size=6), indent=st.sampled_from([None, 2, 4]), cut=st.integers(0, 400))
def test_array_items_keep_values_and_start_lines(tmp_path_factory, items, indent, cut):
    tmp = tmp_path_factory.mktemp("arr")
    text = json.dumps(items, indent=indent, ensure_ascii=False)
    src = tmp / "a.json"
    src.write_text(text, encoding="utf-8")
    recs = list(open_records(str(src)).records)
    assert [r.value for r in recs] == items and all(r.ok for r in recs)
    if indent:  # each item starts on its own line, in order
        assert all(a.line < b.line for a, b in zip(recs, recs[1:]))
    # any damage: nothing crashes and every record lands in exactly one file
    damaged = tmp / "d.json"
    damaged.write_text(text[:cut] + text[cut + 1 :] if cut < len(text) else text[:-1], encoding="utf-8")
    try:
        res = convert(str(damaged), str(tmp / "o.jsonl"))
    except Exception as e:  # only a clean InputError-style refusal is acceptable
        raise AssertionError(f"convert raised {e!r}") from e
    n_out = len((tmp / "o.jsonl").read_bytes().splitlines())
    n_rej = len((tmp / "o.rejects.jsonl").read_bytes().split(b"\n")) - 1
    assert (n_out, n_rej) == (res.written, res.rejected)
    assert res.written + res.rejected == res.records
