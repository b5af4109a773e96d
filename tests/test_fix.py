"""`dataprep fix`: safe counted repairs, byte-exact copies, and no line ever lost."""

import base64
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.io.fix import PLACEHOLDER, JSONArrayInputError, fix
from dataprep.io.reader import InputError, iter_lines, open_binary
from dataprep.schema.findings import Severity
from dataprep.validate import validate

runner = CliRunner()

SECRETS = [
    "sk-proj-4fJ9xQ2mZ7LpR8vT1nB6cW3yK5hD0sGa",
    "AKIAIOSFODNN7EXAMPLQ",
    "ghp_" + "aB3" * 12,
    "xoxb-1234567890-abcdefghij",
    "AIza" + "SyD4" * 8 + "abc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]
KEY_BODY = "MIIEowIBAAKCAQEA7bq9xkQ2mZ7LpR8vT1nB6cW3yK5hD0sGa"
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----"


def chat(user="Do you sell bells?", assistant="Yes, in three colours.", **extra) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], **extra}


def line(rec) -> bytes:
    return orjson.dumps(rec)


def run(tmp_path, data: bytes, **kw):
    src = tmp_path / "in.jsonl"
    src.write_bytes(data)
    out, rej = tmp_path / "fixed.jsonl", tmp_path / "rejects.jsonl"
    res = fix(str(src), str(out), str(rej), **kw)
    return res, out, rej


def file_lines(path: Path) -> list[bytes]:
    if not path.exists():  # fix writes no empty file (no rejects: no rejects file)
        return []
    with open(path, "rb") as f:
        return [ln.data for ln in iter_lines(f)]


def test_each_remediation_is_applied_and_counted(tmp_path):
    lines = [
        b"\xef\xbb\xbf" + line(chat()) + b"\r\n",  # 1 BOM + CRLF
        b"\n",  # 2 blank
        b"  \t\r\n",  # 3 blank (whitespace)
        line(chat(user="  padded question?  ", assistant="\nAnswer.\n")) + b"\n",  # 4 trim x2
        line(
            {
                "messages": [
                    {"role": "system", "content": "Be kind.", "weight": 1},
                    {"role": "user", "content": "Hi", "weight": 0},
                    {"role": "assistant", "content": "Hello."},
                ]
            }
        )
        + b"\n",  # 5 weight removed x2
        line(chat(user="Move it", weight=0) | {"weight": 1}) + b"\n",  # 6 top-level weight moved
        line(
            {
                "messages": [
                    {"role": "user", "content": "Price?"},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c1", "type": "function", "function": {"name": "price", "arguments": {"sku": "A1"}}}
                        ],
                    },
                    {"role": "tool", "tool_call_id": "c1", "content": "12"},
                    {"role": "assistant", "content": "It is 12 dollars."},
                ],
                "tools": [{"type": "function", "function": {"name": "price", "parameters": {"type": "object"}}}],
            }
        )
        + b"\n",  # 7
        line(chat(user=f"my key is {SECRETS[0]} ok")) + b"\n",  # 8 secret
    ]
    res, out, rej = run(tmp_path, b"".join(lines))
    assert res.lines == 8 and res.written == 6 and res.rejected == 0 and res.dropped_blank == 2
    # counts describe the lines written: the CRLF of the dropped blank line 3 is not counted
    assert res.counts["bom"] == 1 and res.counts["crlf"] == 1
    assert res.counts["trim"] == 2 and res.line_counts["trim"] == 1
    assert res.counts["weight_removed"] == 2
    assert res.counts["weight_moved"] == 1
    assert res.counts["args_stringified"] == 1
    assert res.counts["secret_masked"] == 1
    assert res.examples["blank"] == [2, 3] and res.examples["weight_moved"] == [6]
    got = [json.loads(x) for x in file_lines(out)]
    assert got[0] == chat()
    assert got[1]["messages"][0]["content"] == "padded question?" and got[1]["messages"][1]["content"] == "Answer."
    assert all("weight" not in m for m in got[2]["messages"])
    assert "weight" not in got[3] and got[3]["messages"][1]["weight"] == 1 - 1 + 1
    assert got[4]["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"sku":"A1"}'
    assert got[5]["messages"][0]["content"] == f"my key is {PLACEHOLDER} ok"
    assert not rej.exists() and res.rejects_path is None  # nothing rejected: no empty rejects file
    claimed = {"DP105", "DP106", "DP111", "DP210", "DP211", "DP305", "DP201"}
    assert not [f for f in validate(str(out)).findings if f.rule in claimed]


def test_ambiguous_top_level_weight_is_not_moved(tmp_path):
    rec = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b."},
            {"role": "user", "content": "c"},
            {"role": "assistant", "content": "d."},
        ],
        "weight": 1,
    }
    res, out, rej = run(tmp_path, line(rec) + b"\n")
    assert res.counts["weight_moved"] == 0 and res.rejected == 1
    r = json.loads(rej.read_text())
    assert r["raw"] == line(rec).decode() and any(f["rule"] == "DP201" for f in r["findings"])


def test_untouched_lines_are_byte_exact(tmp_path):
    odd = [
        b'{ "messages" : [ {"role":"user", "content":"caf\\u00e9?"}, {"role":"assistant","content":"Oui."} ] }',
        '{"messages":[{"role":"user","content":"Grüße"},{"role":"assistant","content":"Hallo.","weight":1}]}'.encode(),
        b'{"messages":[{"role":"user","content":"1.0e2"},{"role":"assistant","content":"100.0"}],"parallel_tool_calls":false}',
    ]
    data = odd[0] + b"\r\n" + odd[1] + b"\n" + odd[2]  # last line without newline
    res, out, _ = run(tmp_path, data)
    assert res.written == 3 and res.changed == 0
    assert out.read_bytes() == b"\n".join(odd) + b"\n"


def test_secrets_are_masked_and_never_in_the_output(tmp_path):
    recs = [chat(user=f"token {s} here") for s in SECRETS]
    recs.append(chat(user=f"key:\n{PRIVATE_KEY}\nthanks"))
    recs.append(
        {
            "messages": [
                {"role": "user", "content": "Store it"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {
                                "name": "save",
                                "arguments": json.dumps({"key": PRIVATE_KEY, "api": SECRETS[0]}),
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "saved"},
                {"role": "assistant", "content": "Saved."},
            ],
            "tools": [{"type": "function", "function": {"name": "save"}}],
        }
    )
    res, out, rej = run(tmp_path, b"".join(line(r) + b"\n" for r in recs))
    assert res.rejected == 0 and res.written == len(recs)
    body = out.read_text()
    for s in SECRETS + [KEY_BODY, "PRIVATE KEY"]:
        assert s not in body
    assert body.count(PLACEHOLDER) == len(SECRETS) + 1 + 2
    fixed = [json.loads(x) for x in body.splitlines()]
    args = fixed[-1]["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(args) == {"key": PLACEHOLDER, "api": PLACEHOLDER}  # still valid JSON
    assert not [f for f in validate(str(out)).findings if f.rule == "DP305"]


def test_rejects_keep_original_bytes_and_every_finding(tmp_path):
    bad_utf8 = b'{"messages":[{"role":"user","content":"\xff"}]}'
    unfixable = line({"messages": [{"role": "user", "content": "hi", "weight": 1}]})  # no assistant (DP208)
    data = b"not json\r\n" + bad_utf8 + b"\n" + unfixable + b"\n" + line(chat()) + b"\n"
    res, out, rej = run(tmp_path, data)
    assert (res.written, res.rejected) == (1, 3)
    rows = [json.loads(x) for x in rej.read_text().splitlines()]
    assert [r["source_line"] for r in rows] == [1, 2, 3]
    assert rows[0]["raw"] == "not json" and rows[0]["findings"][0]["rule"] == "DP102"
    assert base64.b64decode(rows[1]["raw_base64"]) == bad_utf8 and rows[1]["findings"][0]["rule"] == "DP101"
    assert rows[2]["raw"] == unfixable.decode()  # original bytes, weight still there
    rules = {f["rule"] for f in rows[2]["findings"]}
    assert "DP208" in rules and "DP210" not in rules  # what is left after the safe fixes
    for f in rows[2]["findings"]:
        assert {"rule", "name", "message", "severity"} <= set(f)
    assert "DP208" in rows[2]["reason"]
    assert res.reject_rules["DP208"] == 1


def test_duplicates_are_opt_in(tmp_path):
    data = (
        line(chat())
        + b"\n"
        + line(chat(user="Other?"))
        + b"\n"
        + line(chat())
        + b"\r\n"
        + b"\xef\xbb\xbf"
        + line(chat())
        + b"\n"
    )
    res, out, _ = run(tmp_path, data)
    assert (res.written, res.dropped_duplicate) == (4, 0)
    res, out, _ = run(tmp_path, data, drop_duplicates=True)
    assert (res.written, res.dropped_duplicate) == (2, 2)
    assert res.duplicate_of == {3: 1, 4: 1}
    assert file_lines(out) == [line(chat()), line(chat(user="Other?"))]


def test_minority_format_lines_move_to_rejects(tmp_path):
    dpo = {
        "input": {"messages": [{"role": "user", "content": "Hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hello."}],
        "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
    }
    alpaca = {"instruction": "Say hi", "input": "", "output": "Hi."}
    lines = [line(dpo), line(chat(user=" one ")), line(chat(user="two")), line(alpaca), line(chat(user="three"))]
    res, out, rej = run(tmp_path, b"\n".join(lines) + b"\n")
    assert (res.written, res.rejected) == (3, 2) and res.balanced
    assert res.counts["trim"] == 1
    assert [json.loads(x)["messages"][0]["content"] for x in file_lines(out)] == ["one", "two", "three"]
    rows = [json.loads(x) for x in file_lines(rej)]
    assert sorted(r["source_line"] for r in rows) == [1, 4]
    assert all(r["findings"][0]["rule"] == "DP108" for r in rows)
    assert {r["raw"] for r in rows} == {lines[0].decode(), lines[3].decode()}
    assert not [f for f in validate(str(out)).findings if f.rule == "DP108"]
    dry = fix(str(tmp_path / "in.jsonl"), None, None, dry_run=True)
    assert (dry.written, dry.rejected, dry.reject_rules["DP108"]) == (3, 2, 2)


def test_json_array_is_refused_with_a_pointer_at_convert(tmp_path):
    src = tmp_path / "a.json"
    src.write_text(json.dumps([chat(), chat()], indent=2))
    with pytest.raises(JSONArrayInputError):
        fix(str(src), str(tmp_path / "o.jsonl"), str(tmp_path / "r.jsonl"))
    r = runner.invoke(app, ["fix", str(src)])
    assert r.exit_code == 2 and "dataprep convert" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "a.fixed.jsonl").exists()


def test_dry_run_writes_nothing_and_prints_the_plan(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_bytes(line(chat(user=" x ")) + b"\r\n\n" + b"oops\n" + line(chat()) + b"\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    r = runner.invoke(app, ["fix", str(src), "--dry-run"])
    assert r.exit_code == 1  # a real run would reject line 3
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert "dry run" in r.stdout and "trim whitespace" in r.stdout and "DP102" in r.stdout
    res = fix(str(src), None, None, dry_run=True)
    assert res.examples["trim"] == [1] and res.examples["blank"] == [2] and res.reject_examples["DP102"] == [3]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_fix_exit_codes_and_default_paths(tmp_path):
    src = tmp_path / "data.jsonl"
    src.write_bytes(b"".join(line(chat(user=f"Q{i}?")) + b"\n" for i in range(3)))
    r = runner.invoke(app, ["fix", str(src)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "data.fixed.jsonl").read_bytes() == src.read_bytes()
    assert not (tmp_path / "data.rejects.jsonl").exists()  # nothing rejected: no empty rejects file
    src.write_bytes(src.read_bytes() + b"{broken\n")
    r = runner.invoke(
        app, ["fix", str(src), "--out", str(tmp_path / "o.jsonl"), "--rejects", str(tmp_path / "r.jsonl")]
    )
    assert r.exit_code == 1 and "rejected" in r.output
    r = runner.invoke(app, ["fix", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "no such file" in r.output
    r = runner.invoke(app, ["fix", str(src), "--out", str(tmp_path / "nodir" / "o.jsonl")])
    assert r.exit_code == 2 and "cannot write" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app,
        ["fix", str(src), "--json", "-q", "--out", str(tmp_path / "o.jsonl"), "--rejects", str(tmp_path / "r.jsonl")],
    )
    assert r.exit_code == 1 and json.loads(r.stdout)["rejected"] == 1


# --- the invariant, over arbitrary input ---------------------------------------------------------

_TEXTS = st.sampled_from(
    [
        "Hello",
        "Is it in stock?",
        "Yes, it ships today.",
        "",
        " ",
        "ok",
        "Grüße",
        "<|endoftext|>",
        "mail me at a@example.com",
    ]
) | st.text(max_size=12)
_CONTENT = st.one_of(
    st.builds(
        lambda a, t, b: a + t + b, st.sampled_from(["", " ", "\n", "\t "]), _TEXTS, st.sampled_from(["", " ", "\n"])
    ),
    st.builds(lambda t, s: f"{t} {s}", _TEXTS, st.sampled_from(SECRETS + [PRIVATE_KEY])),
    st.none(),
    st.integers(),
)
_WEIGHT = st.sampled_from([0, 1, 2, True, 0.5, "1"])
_ARGS = st.one_of(
    st.dictionaries(st.sampled_from(["sku", "n"]), st.integers() | st.text(max_size=5), max_size=2),
    st.sampled_from(['{"sku": "A"}', "{}", "[1]", "nope"]),
)


@st.composite
def _message(draw):
    m = {"role": draw(st.sampled_from(["system", "user", "assistant", "tool", "bogus"]))}
    if draw(st.booleans()):
        m["content"] = draw(_CONTENT)
    if draw(st.integers(0, 3)) == 0:
        m["weight"] = draw(_WEIGHT)
    if m["role"] == "assistant" and draw(st.integers(0, 3)) == 0:
        m["tool_calls"] = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": draw(_ARGS)}}]
    if m["role"] == "tool" and draw(st.booleans()):
        m["tool_call_id"] = "c1"
    return m


@st.composite
def _chat_line(draw) -> bytes:
    rec = {"messages": draw(st.lists(_message(), max_size=5))}
    if draw(st.integers(0, 3)) == 0:
        rec["weight"] = draw(_WEIGHT)
    if draw(st.booleans()):
        rec["tools"] = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    if draw(st.integers(0, 5)) == 0:
        rec["extra"] = 1
    return json.dumps(rec, ensure_ascii=draw(st.booleans())).encode()


_LINE = st.one_of(
    _chat_line(),
    st.binary(max_size=30),
    st.sampled_from([b"", b"  ", b"\xef\xbb\xbf", b"[]", b"null", b'{"text": "x"}', b'{"a":1,"a":2}']),
)


@st.composite
def _file(draw) -> bytes:
    lines = draw(st.lists(_LINE, max_size=8))
    parts = [ln + draw(st.sampled_from([b"\n", b"\r\n"])) for ln in lines]
    data = b"".join(parts)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if parts and draw(st.booleans()):
        data = data.rstrip(b"\r\n")
    return data


CLAIMED = {"DP105", "DP106", "DP111", "DP305"}


@settings(max_examples=80, deadline=None)
@given(data=_file(), dedup=st.booleans())
def test_invariant_every_line_is_accounted_for(tmp_path_factory, data, dedup):
    tmp = tmp_path_factory.mktemp("inv")
    src = tmp / "in.jsonl"
    src.write_bytes(data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        try:
            json.loads(data.decode("utf-8-sig"))
            return  # a whole JSON array: refused (tested above)
        except (ValueError, UnicodeDecodeError):
            pass
    out, rej = tmp / "fixed.jsonl", tmp / "rej.jsonl"
    try:
        res = fix(str(src), str(out), str(rej), drop_duplicates=dedup)
    except JSONArrayInputError:
        return
    except InputError:  # random bytes that start like bzip2/gzip/zstd: unreadable as a whole (exit 2)
        assert data[:2] in (b"BZ", b"\x1f\x8b", b"\x28\xb5", b"\xfd7", b"PK", b"7z")
        return
    with open_binary(str(src)) as f:  # lines as fix reads them (random bytes may look compressed)
        n_in = sum(1 for _ in iter_lines(f))
    n_fixed, n_rej = len(file_lines(out)), len(file_lines(rej))
    assert (n_fixed, n_rej) == (res.written, res.rejected)
    assert n_fixed + n_rej + res.dropped_blank + res.dropped_duplicate == n_in == res.lines
    for r in file_lines(rej):  # split on \n only: U+0085 / U+2028 inside a raw string are not line ends
        assert json.loads(r)["findings"]
    if not n_fixed:  # nothing to write: no (empty) fixed file
        assert not out.exists()
        return
    findings = validate(str(out)).findings
    assert not [f for f in findings if f.rule in CLAIMED]
    assert not [f for f in findings if f.rule == "DP210" and "weight on a" in f.message]
    assert not [f for f in findings if f.rule == "DP211" and "arguments is an object" in f.message]
    # no error is left but the file-level ones fix cannot help: too few examples, needs conversion
    assert not [f for f in findings if f.severity is Severity.ERROR and f.rule not in ("DP109", "DP110")]
