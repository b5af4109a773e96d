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
    if not path.exists():  # convert writes no empty file (no rejects: no rejects file)
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_bytes_or_empty(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""  # an empty output is not written


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
    assert not Path(default_rejects_path(str(out))).exists()  # nothing rejected: no empty rejects file


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
    assert not out.exists()  # nothing converted: no empty output file
    assert "was not written" in r.output
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
    # question/answer is a vocabulary auto-detection knows: the same result without the mapping
    res = convert(str(qa), str(tmp_path / "auto.jsonl"))
    assert (res.written, res.rejected) == (12, 0)
    assert read_jsonl(tmp_path / "auto.jsonl") == read_jsonl(out)
    assert res.columns[("prompt", "question")] == 12 and res.columns[("response", "answer")] == 12
    assert res.unused_columns == {"id": 12}
    # names nobody could guess: nothing converts, and the terminal prints the --map that fixes it
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"q": f"Why {t}?", "a": f"Because {t}."} for t in TOPICS[:12]])
    r = runner.invoke(app, ["convert", str(odd), str(tmp_path / "none.jsonl")])
    assert r.exit_code == 1
    assert "12 record(s) not recognised" in r.output
    assert "--map prompt=q --map response=a" in r.output
    rej = read_jsonl(tmp_path / "none.rejects.jsonl")
    assert len(rej) == 12 and rej[0]["suggested_map"] == "--map prompt=q --map response=a"
    r = runner.invoke(app, ["convert", str(odd), str(tmp_path / "fixed.jsonl"), "--map", "prompt=q", "--map",
                            "response=a"])
    assert r.exit_code == 0, r.output
    assert_clean(tmp_path / "fixed.jsonl")

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
    n_out = len(read_bytes_or_empty(tmp / "o.jsonl").splitlines())
    n_rej = len(read_bytes_or_empty(tmp / "o.rejects.jsonl").split(b"\n")) - 1
    assert (n_out, n_rej) == (res.written, res.rejected)
    assert res.written + res.rejected == res.records


# --- column vocabularies teams arrive with (issue 17) ---------------------------------------------


ALPACA_EN = SHARED / "alpaca_en_demo.json" if (SHARED := ROOT.parent / "shared" / "data").is_dir() else None


def real_alpaca(n=40):
    """Alpaca records from the bundled sample (real instructions), flat columns only."""
    recs = json.loads((SAMPLES / "alpaca.json").read_text())
    return [{k: r.get(k, "") for k in ("instruction", "input", "output")} for r in recs][:n]


def test_instruction_input_response_array_converts_every_record(tmp_path):
    """The public instruction set with columns instruction / input / response (issue 17)."""
    recs = [{"instruction": r["instruction"], "input": r["input"], "response": r["output"]} for r in real_alpaca()]
    src = write_array(tmp_path / "irr.json", recs)
    out = tmp_path / "irr.jsonl"
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exit_code == 0, r.output
    assert "response <- response (40)" in r.output and "prompt <- instruction (40)" in r.output
    assert "count check: 40 record(s) in = 40 written + 0 rejected (ok)" in r.output
    assert len(read_jsonl(out)) == 40
    assert read_jsonl(out)[0]["messages"][-1] == {"role": "assistant", "content": recs[0]["response"].strip()}
    assert_clean(out)


@pytest.mark.parametrize(
    "cols",
    [
        ("question", None, "answer"),
        ("prompt", None, "response"),
        ("query", None, "answer"),
        ("instruction", "context", "response"),  # Dolly
    ],
)
def test_common_vocabularies_convert_without_a_map(tmp_path, cols):
    p, i, a = cols
    recs = []
    for k, r in enumerate(real_alpaca(12)):
        rec = {p: r["instruction"], a: r["output"], "category": "open_qa"}
        if i:
            rec[i] = f"Context number {k}." if k % 2 else ""
        recs.append(rec)
    src = write_jsonl(tmp_path / "v.jsonl", recs)
    res = convert(str(src), str(tmp_path / "v.out.jsonl"))
    assert (res.written, res.rejected) == (12, 0)
    assert res.columns[("prompt", p)] == 12 and res.columns[("response", a)] == 12
    assert res.unused_columns == {"category": 12}
    first_user = read_jsonl(tmp_path / "v.out.jsonl")[1]["messages"][0]["content"]
    assert first_user.startswith(recs[1][p].strip())
    if i:
        assert first_user.endswith("Context number 1.")
    assert_clean(tmp_path / "v.out.jsonl")


def test_unknown_conversation_column_gets_a_map_hint(tmp_path):
    dialogs = [{"dialog": [{"speaker": "customer", "text": f"Is {t} covered?"},
                           {"speaker": "agent", "text": f"Yes, {t} is covered."}]} for t in TOPICS[:12]]
    src = write_jsonl(tmp_path / "d.jsonl", dialogs)
    r = runner.invoke(app, ["convert", str(src), str(tmp_path / "d.out.jsonl")])
    assert r.exit_code == 1
    hint = ("--map messages=dialog --map role_tag=speaker --map content_tag=text --map user_tag=customer "
            "--map assistant_tag=agent")
    assert hint in r.output
    r = runner.invoke(app, ["convert", str(src), str(tmp_path / "d.out.jsonl"), *hint.split()])
    assert r.exit_code == 0, r.output
    assert_clean(tmp_path / "d.out.jsonl")


# --- LLaMA-Factory's newer layout, OASST trees ------------------------------------------------------


def lf_from_sharegpt(rec):
    """LLaMA-Factory's own sharegpt converter output (content parts, per-message loss_weight)."""
    tag = {"system": "system", "human": "user", "gpt": "assistant", "observation": "tool", "function_call": "assistant"}
    msgs = []
    for m in rec["conversations"]:
        if m["from"] == "function_call":
            msgs.append({"role": "assistant", "content": [{"type": "tool_calls", "value": m["value"]}],
                         "loss_weight": 1.0})
        else:
            msgs.append({"role": tag[m["from"]], "content": [{"type": "text", "value": m["value"]}],
                         "loss_weight": 1.0 if m["from"] == "gpt" else 0.0})
    if rec.get("tools"):
        msgs.insert(0, {"role": "system", "content": [{"type": "tools", "value": rec["tools"]}], "loss_weight": 0.0})
    return {"messages": msgs}


def test_llamafactory_parts_and_loss_weight(tmp_path):
    share = json.loads((SAMPLES / "sharegpt.json").read_text())
    recs = [lf_from_sharegpt(r) for r in share]
    # a multi-turn record whose first reply is context only (loss_weight 0)
    multi = next(r for r in recs if sum(m["role"] == "assistant" for m in r["messages"]) >= 2)
    first_asst = next(m for m in multi["messages"] if m["role"] == "assistant")
    first_asst["loss_weight"] = 0.0
    src = write_jsonl(tmp_path / "lf.jsonl", recs)
    out = tmp_path / "lf.out.jsonl"
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exit_code == 0, r.output
    rows = read_jsonl(out)
    assert len(rows) == len(recs)
    for row in rows:
        for m in row["messages"]:
            assert isinstance(m.get("content", ""), str)
            assert ("weight" in m) == (m["role"] == "assistant")
    weights = [m["weight"] for m in rows[recs.index(multi)]["messages"] if m["role"] == "assistant"]
    assert weights[0] == 0 and set(weights[1:]) == {1}
    assert_clean(out)
    # a fractional weight has no OpenAI equivalent: rejected with the reason, not rounded
    recs[0]["messages"][-1]["loss_weight"] = 0.5
    write_jsonl(src, recs)
    res = convert(str(src), str(out))
    assert res.rejected == 1 and "loss_weight not 0 or 1" in res.reject_kinds


def test_llamafactory_tool_calls_and_tools(tmp_path):
    rec = json.loads((SAMPLES / "tools.jsonl").read_text().splitlines()[0])
    calls = next(m for m in rec["messages"] if m.get("tool_calls"))["tool_calls"]
    lf = {"messages": [
        {"role": "system", "content": [{"type": "tools", "value": json.dumps(rec["tools"])}], "loss_weight": 0.0},
        {"role": "user", "content": [{"type": "text", "value": "Where is order NW-52342?"}], "loss_weight": 0.0},
        {"role": "assistant", "content": [{"type": "tool_calls", "value": json.dumps(
            {"name": calls[0]["function"]["name"], "arguments": json.loads(calls[0]["function"]["arguments"])})}],
         "loss_weight": 1.0},
        {"role": "tool", "content": [{"type": "text", "value": '{"status": "in transit"}'}], "loss_weight": 0.0},
        {"role": "assistant", "content": [{"type": "text", "value": "It is in transit."}], "loss_weight": 1.0},
    ]}
    src = write_jsonl(tmp_path / "lft.jsonl", [lf] * 10)
    out = tmp_path / "lft.out.jsonl"
    res = convert(str(src), str(out))
    assert (res.written, res.rejected) == (10, 0), res.reject_kinds
    row = read_jsonl(out)[0]
    assert row["tools"] == rec["tools"]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert row["messages"][2]["tool_call_id"] == row["messages"][1]["tool_calls"][0]["id"]
    assert_clean(out)


def test_llamafactory_pairs_to_dpo(tmp_path):
    prefs = [json.loads(x) for x in (SAMPLES / "dpo.jsonl").read_text().splitlines()[:12]]
    recs = []
    for p in prefs:
        prompt = [{"role": m["role"], "content": [{"type": "text", "value": m["content"]}], "loss_weight": 0.0}
                  for m in p["input"]["messages"]]

        def reply(text):
            return [{"role": "assistant", "content": [{"type": "text", "value": text}], "loss_weight": 1.0}]

        recs.append({"chosen_messages": prompt + reply(p["preferred_output"][0]["content"]),
                     "rejected_messages": prompt + reply(p["non_preferred_output"][0]["content"])})
    src = write_jsonl(tmp_path / "lfp.jsonl", recs)
    out = tmp_path / "lfp.out.jsonl"
    res = convert(str(src), str(out))
    assert (res.written, res.rejected) == (12, 0), res.reject_kinds
    assert read_jsonl(out) == prefs
    assert_clean(out)


def oasst_tree(i):
    return {"message_tree_id": f"t{i}", "tree_state": "ready_for_export", "prompt": {
        "message_id": f"m{i}", "role": "prompter", "text": f"How do I adjust {TOPICS[i % 14]}?", "lang": "en",
        "replies": [
            {"role": "assistant", "text": f"A weaker answer about {TOPICS[i % 14]}.", "rank": 1, "replies": []},
            {"role": "assistant", "text": f"Check {TOPICS[i % 14]} first, then adjust it slowly.", "rank": 0,
             "replies": [{"role": "prompter", "text": "Thanks! And after that?", "replies": [
                 {"role": "assistant", "text": "Then test it on a short ride.", "rank": 0, "replies": []},
                 {"role": "assistant", "text": "Deleted.", "deleted": True, "replies": []}]}]},
        ]}}


def test_oasst_trees_follow_the_top_ranked_branch(tmp_path):
    src = write_jsonl(tmp_path / "trees.jsonl", [oasst_tree(i) for i in range(12)])
    out = tmp_path / "trees.out.jsonl"
    r = runner.invoke(app, ["convert", str(src), str(out)])
    assert r.exit_code == 0, r.output
    row = read_jsonl(out)[0]
    assert row["messages"] == [
        {"role": "user", "content": "How do I adjust chain wear?"},
        {"role": "assistant", "content": "Check chain wear first, then adjust it slowly."},
        {"role": "user", "content": "Thanks! And after that?"},
        {"role": "assistant", "content": "Then test it on a short ride."},
    ]
    assert "12 alternative repl(ies) not used" in r.output
    assert_clean(out)
    # one message per row (the flat export) cannot be one conversation per record: said so
    flat = [{"message_id": f"m{i}", "parent_id": None, "role": "prompter", "text": "Hi"} for i in range(3)]
    res = convert(str(write_jsonl(tmp_path / "flat.jsonl", flat)), str(tmp_path / "flat.out.jsonl"))
    assert res.rejected == 3 and "OASST message row" in res.reject_kinds


# --- parquet and CSV ------------------------------------------------------------------------------


def test_parquet_and_csv_with_chat_and_alpaca_columns(tmp_path):
    import polars as pl

    alp = real_alpaca(30)
    alp[3]["output"] = "42"  # a number-looking answer stays text
    chat = [json.loads(x) for x in (SAMPLES / "support_chat.jsonl").read_text().splitlines()[:30]]
    cases = {}
    pl.DataFrame(alp).write_parquet(tmp_path / "alpaca.parquet")
    cases["alpaca.parquet"] = (30, "parquet")
    # nested column: a list of message structs; some messages carry a weight, most do not (null)
    chat_w = [{"messages": [dict(m) for m in c["messages"]]} for c in chat]
    for c in chat_w:
        for m in c["messages"]:
            if m["role"] == "assistant":
                m["weight"] = 1
    pl.DataFrame(chat_w).write_parquet(tmp_path / "chat.parquet")
    cases["chat.parquet"] = (30, "parquet")
    pl.DataFrame(alp).write_csv(tmp_path / "alpaca.csv")
    cases["alpaca.csv"] = (30, "csv")
    pl.DataFrame({"messages": [json.dumps(c["messages"]) for c in chat]}).write_csv(tmp_path / "chat.csv")
    cases["chat.csv"] = (30, "csv")
    share = json.loads((SAMPLES / "sharegpt.json").read_text())
    pl.DataFrame({"conversations": [r["conversations"] for r in share]}).write_parquet(tmp_path / "share.parquet")
    cases["share.parquet"] = (len(share), "parquet")
    for name, (n, shape) in cases.items():
        out = tmp_path / (name + ".jsonl")
        r = runner.invoke(app, ["convert", str(tmp_path / name), str(out)])
        assert r.exit_code == 0, (name, r.output)
        assert f"count check: {n} record(s) in = {n} written + 0 rejected (ok)" in r.output
        res = convert(str(tmp_path / name), str(out))
        assert res.shape == shape and res.written == n
        assert_clean(out)
    rows = read_jsonl(tmp_path / "alpaca.csv.jsonl")
    assert rows[3]["messages"][-1]["content"] == "42"
    assert read_jsonl(tmp_path / "chat.parquet.jsonl")[0]["messages"] == chat_w[0]["messages"]
    assert read_jsonl(tmp_path / "chat.csv.jsonl")[0]["messages"] == chat[0]["messages"]


def test_table_rejects_name_rows(tmp_path):
    import polars as pl

    df = pl.DataFrame({"instruction": ["Say hi.", "Say bye.", None], "output": ["Hi.", None, "Bye."]})
    df.write_parquet(tmp_path / "t.parquet")
    res = convert(str(tmp_path / "t.parquet"), str(tmp_path / "t.jsonl"))
    assert (res.records, res.written, res.rejected) == (3, 1, 2)
    rej = read_jsonl(tmp_path / "t.rejects.jsonl")
    assert [x["source_row"] for x in rej] == [2, 3] and "source_line" not in rej[0]


def test_broken_parquet_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\x00" * 100)
    r = runner.invoke(app, ["convert", str(bad), str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2 and "not a readable parquet file" in r.output
    assert not (tmp_path / "o.jsonl").exists()


def test_validate_and_scan_say_run_convert_for_tables(tmp_path):
    import polars as pl

    pl.DataFrame(real_alpaca(12)).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame(real_alpaca(12)).write_csv(tmp_path / "a.csv")
    pl.DataFrame(real_alpaca(12)).write_csv(tmp_path / "noext")
    for name, kind in (("a.parquet", "parquet"), ("a.csv", "CSV"), ("noext", "CSV")):
        for cmd in ("validate", "scan"):
            r = runner.invoke(app, [cmd, str(tmp_path / name)])
            assert r.exit_code == 2, (name, cmd, r.output)
            assert f"this is a {kind} file" in r.output and "dataprep convert" in r.output, (name, cmd, r.output)
            assert "UTF-8" not in r.output and "DP102" not in r.output


def test_jsonl_is_never_taken_for_csv(tmp_path):
    from dataprep.io.reader import tabular_kind

    assert tabular_kind(b'{"a": 1}\n{"a": 2}\n', "x.jsonl") is None
    assert tabular_kind(b"not json, at all\nsecond, line\n", "x.jsonl") is None  # not a header of names
    assert tabular_kind(b"instruction,input,output\nSay hi,,Hi\n", "-") == "csv"
    assert tabular_kind(b"PAR1\x15\x04", "x.jsonl") == "parquet"


# --- all of LLaMA-Factory's demo files through their own dataset_info.json --------------------------


@pytest.mark.skipif(ALPACA_EN is None, reason="needs the shared real data beside the checkout")
@pytest.mark.parametrize("name,file", [
    ("alpaca_en_demo", None),
    ("glaive_toolcall_en_demo", "sharegpt_toolcall_en_demo.json"),  # stored under another name
    ("dpo_en_demo", "sharegpt_dpo_en_demo.json"),
    ("dpo_zh_demo", None),
    ("kto_en_demo", None),
    ("c4_demo", None),
])
def test_shared_data_via_dataset_info(tmp_path, name, file):
    info = SHARED / "dataset_info.json"
    out = tmp_path / f"{name}.jsonl"
    args = ["convert"] + ([str(SHARED / file)] if file else []) + [str(out), "--dataset-info", str(info),
                                                                   "--dataset", name]
    r = runner.invoke(app, args)
    n = len(json.loads((SHARED / (file or f"{name}.json")).read_text())) if name != "c4_demo" else 300
    assert f"count check: {n} record(s) in = " in r.output and "(ok)" in r.output, r.output
    res_written = len(read_jsonl(out))
    rejects = read_jsonl(tmp_path / f"{name}.rejects.jsonl")
    assert res_written + len(rejects) == n
    if name == "c4_demo":  # pre-training text: refused, each record with the reason
        assert res_written == 0 and {x["reason"] for x in rejects} == {TEXT_REASON}
        return
    if name == "kto_en_demo":  # undesirable single replies are refused; multi-turn ones kept with weight 0
        reasons = {x["reason"].split(" at ")[0].split(":")[0] for x in rejects}
        assert reasons <= {"KTO label false on the only reply", "DP301 special-token"}, reasons
        assert any(m.get("weight") == 0 for row in read_jsonl(out) for m in row["messages"])
    else:
        assert r.exit_code == 0, r.output
        assert rejects == []
    assert_clean(out)
