"""Rules peer checkers have that dataprep lacked (issue 17), each through the real `validate` CLI
on a multi-line file: the finding is at the broken line and nowhere else."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys

import pytest

from dataprep.checks import chat as CH
from dataprep.checks import content as C
from dataprep.checks.base import Sink
from dataprep.io.reader import RawLine
from dataprep.validate import check_line, validate

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def good(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                         {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]}


def call(cid: str, city: str, name: str = "get_weather") -> dict:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps({"city": city})}}


def tool(cid: str, text: str = '{"temp_c": 4}') -> dict:
    return {"role": "tool", "tool_call_id": cid, "content": text}


def user(t):
    return {"role": "user", "content": t}


def asst(t):
    return {"role": "assistant", "content": t}


def cli(tmp_path, records, bad_at: int = 6, name: str = "f.jsonl", raw: bool = False) -> list[dict]:
    """Write 11 good lines with ``records`` from line ``bad_at`` on; return validate's JSON findings."""
    lines = [json.dumps(good(i)) for i in range(1, 12)]
    for k, r in enumerate(records):
        lines.insert(bad_at - 1 + k, r if raw else json.dumps(r))
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", str(p), "-f", "json", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)["files"][0]["findings"]


def at(findings, rule):
    return [(f["line"], f.get("pointer")) for f in findings if f["rule"] == rule]


# --- DP218 unanswered tool calls, DP212 results of another turn ------------------------------------

def test_unanswered_parallel_call(tmp_path):
    rec = {"tools": TOOLS, "messages": [user("Weather in Oslo and Bergen?"),
                                        {"role": "assistant", "tool_calls": [call("c1", "Oslo"), call("c2", "Bergen")]},
                                        tool("c1"), asst("Oslo has 4 degrees.")]}
    f = cli(tmp_path, [rec])
    assert at(f, "DP218") == [(6, "/messages/1/tool_calls/1/id")]
    assert {x["rule"] for x in f} == {"DP218"}
    answered = dict(rec, messages=rec["messages"][:3] + [tool("c2")] + rec["messages"][3:])
    assert cli(tmp_path, [answered]) == []


def test_example_may_end_on_the_call_but_not_halfway_through_its_results(tmp_path):
    ends_on_call = {"tools": TOOLS, "messages": [user("Weather in Oslo and Bergen?"), {
        "role": "assistant", "tool_calls": [call("c1", "Oslo"), call("c2", "Bergen")]}]}
    assert cli(tmp_path, [ends_on_call]) == []
    half = dict(ends_on_call, messages=ends_on_call["messages"] + [tool("c1")])
    f = cli(tmp_path, [half])
    assert at(f, "DP218") == [(6, "/messages/1/tool_calls/1/id")]
    assert "before the example ends" in [x for x in f if x["rule"] == "DP218"][0]["message"]


def test_tool_result_for_a_call_of_an_earlier_turn(tmp_path):
    rec = {"tools": TOOLS, "messages": [
        user("Weather in Oslo?"), {"role": "assistant", "tool_calls": [call("c1", "Oslo")]}, tool("c1"),
        asst("It is 4 degrees in Oslo."), user("And in Bergen?"),
        {"role": "assistant", "tool_calls": [call("c2", "Bergen")]}, tool("c1", '{"temp_c": 7}'),
        asst("It is 7 degrees in Bergen.")]}
    f = cli(tmp_path, [rec])
    assert at(f, "DP212") == [(6, "/messages/6/tool_call_id")]
    assert "message 1" in [x for x in f if x["rule"] == "DP212"][0]["message"]
    assert at(f, "DP218") == [(6, "/messages/5/tool_calls/0/id")]


# --- DP211 call names, DP213 JSON Schema ----------------------------------------------------------

def test_call_name_must_match_the_definition_pattern(tmp_path):
    rec = {"tools": TOOLS, "messages": [user("Weather in Oslo?"),
                                        {"role": "assistant", "tool_calls": [call("c1", "Oslo", "get weather!")]},
                                        tool("c1"), asst("It is 4 degrees in Oslo.")]}
    f = cli(tmp_path, [rec])
    assert at(f, "DP211") == [(6, "/messages/1/tool_calls/0/function/name")]
    assert not at(f, "DP214")  # the name is wrong, not merely undefined: one finding


@pytest.mark.parametrize("params,pointer", [
    ({"type": "object", "properties": {"city": {"type": "strng"}}}, "/parameters/properties/city/type"),
    ({"type": "object", "properties": {"city": {"type": "string"}}, "required": "city"}, "/parameters/required"),
    ({"type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}, "/parameters/properties/n/minimum"),
])
def test_parameters_must_be_a_valid_json_schema(tmp_path, params, pointer):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": params}}]
    rec = {"tools": tools, "messages": [user("Hi there."), asst("Hello, how can I help?")]}
    f = cli(tmp_path, [rec])
    assert at(f, "DP213") == [(6, "/tools/0/function" + pointer)]
    assert "JSON Schema" in [x for x in f if x["rule"] == "DP213"][0]["message"]


def test_each_distinct_schema_is_checked_once(tmp_path):
    CH._SCHEMA_PROBLEMS.clear()
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
    reordered = {"properties": {"days": {"type": "integer"}, "city": {"type": "string"}}, "type": "object"}
    recs = []
    for i in range(60):
        params = schema if i % 2 else reordered  # the same schema, keys in another order
        recs.append({"tools": [{"type": "function", "function": {"name": "f", "parameters": params}}],
                     "messages": [user(f"Question {i}?"), asst(f"Answer {i}.")]})
    p = tmp_path / "t.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert validate(str(p)).findings == []
    assert len(CH._SCHEMA_PROBLEMS) == 1  # canonical JSON bytes as the key: one check for all 60 lines


# --- DP216 image type and size ----------------------------------------------------------------------

def image_rec(url: str) -> dict:
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                                      {"type": "image_url", "image_url": {"url": url}}]},
                         asst("It is a small red bicycle.")]}


def test_gif_is_refused_png_is_not(tmp_path):
    payload = base64.b64encode(b"GIF89a" + bytes(40)).decode()
    f = cli(tmp_path, [image_rec("data:image/gif;base64," + payload)])
    assert at(f, "DP216") == [(6, "/messages/0/content/1/image_url")]
    assert "JPEG, PNG or WEBP" in [x for x in f if x["rule"] == "DP216"][0]["message"]
    assert cli(tmp_path, [image_rec("data:image/png;base64," + payload)]) == []


def test_image_over_10_mb_decoded(tmp_path):
    limit = CH.MAX_IMAGE_BYTES
    over = "A" * (4 * ((limit + 3) // 3))  # decodes to just over the limit
    f = cli(tmp_path, [image_rec("data:image/jpeg;base64," + over)])
    assert at(f, "DP216") == [(6, "/messages/0/content/1/image_url")]
    assert f"{limit:,}" in [x for x in f if x["rule"] == "DP216"][0]["message"]
    at_limit = base64.b64encode(bytes(limit)).decode()
    assert cli(tmp_path, [image_rec("data:image/jpeg;base64," + at_limit)]) == []


def test_decoded_size_is_exact_without_decoding():
    rng = random.Random(3)
    for n in list(range(0, 40)) + [rng.randrange(1000, 5000) for _ in range(20)]:
        raw = rng.randbytes(n)
        b64 = base64.b64encode(raw).decode()
        for payload in (b64, b64.rstrip("="), "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + "\n"):
            url = "data:image/png;base64," + payload
            assert CH._decoded_size(url, url.index(",") + 1) == n, (n, payload[-8:])


# --- DP222 preference input ending with an assistant turn -------------------------------------------

def test_preference_input_ending_with_assistant(tmp_path):
    def pair(i, msgs):
        return {"input": {"messages": msgs}, "preferred_output": [asst(f"Good answer {i}.")],
                "non_preferred_output": [asst(f"Bad answer {i}.")]}
    lines = [json.dumps(pair(i, [user(f"Question {i}?")])) for i in range(12)]
    lines[4] = json.dumps(pair(4, [user("Question 4?"), asst("An earlier reply.")]))
    p = tmp_path / "dpo.jsonl"
    p.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", str(p), "-f", "json", "-q"],
                          capture_output=True, text=True)
    f = json.loads(proc.stdout)["files"][0]["findings"]
    assert at(f, "DP222") == [(5, "/input/messages/1")]
    assert {x["rule"] for x in f} == {"DP222"} and proc.returncode == 0  # a warning


# --- DP112 records `convert` would reject, named at their line ----------------------------------------

def run_file(tmp_path, name: str, text: str) -> list[dict]:
    p = tmp_path / name
    p.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "dataprep.cli", "validate", str(p), "-f", "json", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    return json.loads(proc.stdout)["files"][0]["findings"]


def test_prompt_completion_line_without_completion(tmp_path):
    rows = [{"prompt": f"What is {i} times 3?", "completion": f"{i} times 3 is {3 * i}."} for i in range(12)]
    rows[6] = {"prompt": "What is 6 times 3?"}
    f = run_file(tmp_path, "pc.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert [x["line"] for x in f if x["rule"] == "DP110"] == [1]  # still said once for the file
    assert [x["line"] for x in f if x["rule"] == "DP112"] == [7]


@pytest.mark.parametrize("bad", [
    {"instruction": "Name a planet.", "input": "", "output": "<nooutput>"},
    {"instruction": "Name a planet.", "input": "", "output": ["Mars.", "Venus."]},
])
def test_alpaca_line_convert_rejects(tmp_path, bad):
    rows = [{"instruction": f"Name planet number {i}.", "input": "", "output": f"Planet {i}."} for i in range(12)]
    rows[3] = bad
    f = run_file(tmp_path, "a.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert [x["line"] for x in f if x["rule"] == "DP112"] == [4]
    assert "would reject" in [x for x in f if x["rule"] == "DP112"][0]["message"]


def test_sharegpt_conversions_that_break_a_chat_rule(tmp_path):
    def conv(turns):
        return {"conversations": [{"from": t, "value": v} for t, v in turns]}
    rows = [conv([("human", f"Hi {i}?"), ("gpt", f"Hello {i}.")]) for i in range(12)]
    rows[2] = conv([("human", "Hi?"), ("observation", "{}"), ("gpt", "Hello.")])  # answers no call
    two_calls = json.dumps([{"name": "get_weather", "arguments": {"city": "Oslo"}},
                            {"name": "get_weather", "arguments": {"city": "Bergen"}}])
    rows[8] = dict(conv([("human", "Weather in Oslo and Bergen?"), ("function_call", two_calls),
                         ("observation", '{"temp_c": 4}'), ("gpt", "Oslo has 4 degrees.")]),
                   tools=json.dumps([TOOLS[0]["function"]]))
    f = run_file(tmp_path, "s.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    dp112 = {x["line"]: x["message"] for x in f if x["rule"] == "DP112"}
    assert set(dp112) == {3, 9}
    assert "DP218" in dp112[9]  # converted, the second call would have no result


def test_json_array_records_are_named_at_their_line(tmp_path):
    recs = [{"instruction": f"Name colour {i}.", "input": "", "output": f"Colour {i}."} for i in range(6)]
    recs[4] = {"instruction": "Name a colour.", "input": "", "output": "<nooutput>"}
    f = run_file(tmp_path, "arr.json", json.dumps(recs, indent=2))
    assert [x["rule"] for x in f] == ["DP103", "DP112"]
    assert f[1]["line"] == 2 + 5 * 4  # the line where the fifth record starts


def test_clean_convertible_file_gets_only_dp110(tmp_path):
    rows = [{"instruction": f"Name planet number {i}.", "input": "", "output": f"Planet {i}."} for i in range(12)]
    f = run_file(tmp_path, "a.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert [x["rule"] for x in f] == ["DP110"]


# --- DP307 short loops and character runs -------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    "The answer is the answer is the answer is the answer is the answer is the answer is the answer is the answer is",
    "a" * 5000,
    "!" * 3000,
    "Sure. " + "ok " * 40,
])
def test_looping_replies(tmp_path, reply):
    f = cli(tmp_path, [{"messages": [user("What is the answer?"), asst(reply)]}])
    assert at(f, "DP307") == [(6, "/messages/1/content")]


@pytest.mark.parametrize("reply", [
    "Ha ha ha ha ha, that is a good one.",
    "No, no, no: the meeting is on Tuesday, not Thursday.",
    "Step 1: open the box. Step 2: take out the bike. Step 3: fit the pedals. Step 4: ride.",
    "| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |",
    "Use `x = [0, 0, 0, 0, 0, 0]` to start with six zeros, then fill it in the loop.",
    "=" * 40 + "\nReport\n" + "=" * 40 + "\nAll systems are working and every test passed today.",
])
def test_ordinary_replies_are_not_loops(tmp_path, reply):
    assert not at(cli(tmp_path, [{"messages": [user("Tell me."), asst(reply)]}]), "DP307")


def _loop_reference(s: str) -> bool:
    """The short-loop rule written plainly, without the middle-probe shortcut."""
    s = s.strip()
    n = len(s)
    if n < C._LOOP_MIN_CHARS:
        return False
    best_run, run = 0, 0
    for i, ch in enumerate(s):
        run = run + 1 if i and s[i - 1] == ch else 1
        best_run = max(best_run, run)
    if best_run >= C._RUN_CHARS and 3 * best_run > 2 * n:
        return True
    if n > C._LOOP_TEXT_MAX:
        return False
    words = s.split()
    for p in range(1, C._LOOP_PHRASE_WORDS + 1):
        i = 0
        while i + p < len(words):
            j = i
            while j + p < len(words) and words[j] == words[j + p]:
                j += 1
            count = j - i + p
            if j > i and count >= C._LOOP_COPIES * p and 3 * (sum(map(len, words[i:i + count])) + count - 1) > 2 * n:
                return True
            i = j + 1 if j > i else i + 1
    return False


def test_middle_probe_never_hides_a_loop():
    """The one-slice, one-count test in assistant_rules rejects no reply the full rule flags
    (loops written with one separator, the case the rule claims)."""
    rng = random.Random(11)
    vocab = ["the", "answer", "is", "a", "ok", "ha", "no", "x", "supercalifragilistic", "é", "!", "42", "yes,"]
    fired = 0
    for _ in range(6000):
        phrase = " ".join(rng.choices(vocab, k=rng.randint(1, 8)))
        sep = rng.choice([" ", "\n", " "])
        loop = sep.join([phrase] * rng.randint(1, 14))
        if rng.random() < 0.2:
            loop = rng.choice("ab!-= ") * rng.randint(1, 200)
        pre = " ".join(rng.choices(vocab, k=rng.randint(0, 6)))
        post = " ".join(rng.choices(vocab, k=rng.randint(0, 6)))
        s = f"{pre} {loop} {post}.".lower()  # a final "." keeps DP306 quiet and changes no loop
        expected = _loop_reference(s)
        fired += expected
        sink = Sink("p", 1)
        C.assistant_rules(s, sink, "/p", 0)
        if expected:
            assert any(f.rule == "DP307" for f in sink.findings), repr(s)
    assert fired > 300


def test_check_line_reaches_the_new_rules_through_the_fast_paths():
    """The {role, content} fast path and the line hints still end in the new rules."""
    loop = "the answer is " * 8
    raw = json.dumps({"messages": [{"role": "system", "content": "Be brief."}, user("Q?"), asst(loop.strip())]})
    out = check_line(RawLine(3, 10, raw.encode(), b"\n"), "f.jsonl")
    assert [f.rule for f in out.findings] == ["DP307"]
