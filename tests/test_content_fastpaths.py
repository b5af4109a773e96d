"""The content rules' shortcuts never change a finding.

check_line skips rule families per line (content.line_hints on the raw bytes) and DP307 decides
most texts from their first words (content._words_unless_varied). These tests hold each shortcut
to the exact rule it stands for, on generated text full of the characters the rules look for.
"""

import ast
import inspect
import json
import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataprep.checks import content as C
from dataprep.checks.base import Sink
from dataprep.checks.chat import check_chat, check_dpo
from dataprep.io.reader import RawLine
from dataprep.schema.catalog import all_rules
from dataprep.validate import check_line

WS_OTHER = [chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20]

# Pieces of text that trip (or nearly trip) each content rule, and the escapes JSON may use.
PIECES = [
    "<|im_start|>", "[INST]", "[/INST]", "<<SYS>>", "{{name}}", "[INSERT NAME]", "[ YOUR company ]", "[\nFILL IN x]",
    "[\u00a0YOUR x]", "< YOUR_NAME >", "a@b.com", "call 555-123-4567", "4111 1111 1111 1111", "8.8.8.8",
    "GB82 WEST 1234 5698 7654 32", "sk-abcdefghijklmnopqrstuvwx1234", "AKIAABCDEFGHIJKLMNOP", "ghp_" + "a" * 36,
    "github_pat_" + "b" * 40, "xoxb-1234567890abc", "AIza" + "c" * 35, "sk_live_" + "d" * 24,
    "-----BEGIN PRIVATE KEY-----", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
    "\x00", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\t", "\n", "\r", "\x85", "\u2003", "Ã©", "â€™", "\ufffd",
    "é", "İ", "K", "ſ", "As an AI language model", "I can't help with that", "I’m unable to assist", "my training data",
    "```", "and", ",", "—", " ", "\\", "\"", "/", "{", "}", "[", "]", "_", "-", "A", "I", "J", "0", "9",
]
WORDS = "the a and to of an ai can able my loop again we go w1 w2 w3 w4".split()

text = st.lists(st.sampled_from(PIECES) | st.sampled_from(WORDS) | st.text(max_size=8), max_size=12).map(" ".join)


def _strings(v, out):
    if isinstance(v, str):
        out.append(v)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            _strings(x, out)
    elif isinstance(v, list):
        for x in v:
            _strings(x, out)
    return out


def _serialisations(rec):
    yield orjson.dumps(rec)
    yield json.dumps(rec).encode()  # ensure_ascii: \u escapes
    yield json.dumps(rec, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _assert_hints_sound(data: bytes) -> None:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    h = C.line_hints(data)
    for t in _strings(value, []):
        for fam in C.FAMILIES:  # each family's own statement of what it needs
            if not h & fam.bit:
                assert not fam.holds(t), (fam.needs, t)
        if h & C.H_SPACES_ONLY:
            assert t.isascii() and not any(c in t for c in WS_OTHER)


@settings(max_examples=400)
@given(st.lists(text, min_size=1, max_size=4))
def test_line_hints_never_hide_a_family(texts):
    rec = {"messages": [{"role": "user", "content": t} for t in texts]}
    for data in _serialisations(rec):
        _assert_hints_sound(data)


@pytest.mark.parametrize("raw", [
    rb'{"messages":[{"role":"user","content":"a\u003cb"}]}',  # \u escapes: no conclusion
    rb'{"messages":[{"role":"user","content":"a\bb\fc"}]}',
    rb'{"messages":[{"role":"user","content":"a\\u0040b"}]}',  # an escaped backslash then "u0040"
    rb'{"messages":[{"role":"user","content":"x\x7fy"}]}',
    '{"messages":[{"role":"user","content":"caf\u00e9 [\u00a0YOUR x]"}]}'.encode(),
    b'\xef\xbb\xbf{"messages":[{"role":"user","content":"x"}]}',
    rb'{"messages":[{"role":"user","content":"k sk-abcdefghijklmnopqrstuvwxyz12 A AKIAABCDEFGHIJKLMNOP"}]}',
])
def test_line_hints_examples(raw):
    _assert_hints_sound(raw.removeprefix(b"\xef\xbb\xbf"))
    _assert_hints_sound(raw)


def _dp307(s: str) -> bool:
    """The rule as written: s is the lower-cased first 20k characters."""
    words = s.split()
    if len(words) >= 30 and len(set(words)) < 0.5 * len(words):
        grams = list(zip(words, words[1:], words[2:]))
        return len(set(grams)) / len(grams) < 0.35
    return False


def _looping(rng: random.Random) -> str:
    phrase = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
    fresh = rng.choice([0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.6])
    n = rng.choice([rng.randint(25, 40), rng.randint(40, 300)])
    words = [f"x{rng.randrange(10**6)}" if rng.random() < fresh else phrase[j % len(phrase)] for j in range(n)]
    seps = [rng.choice(["  ", "\n", "\t", "\u00a0", "\u2003", "\x1c", "\x85"]) if rng.random() < 0.1 else " "
            for _ in words]
    return "".join(w + sp for w, sp in zip(words, seps))


def test_dp307_prefix_bound_is_exact():
    rng = random.Random(7)
    fired = 0
    for _ in range(4000):
        s = _looping(rng).lower()[:20_000]
        expected = _dp307(s)
        fired += expected
        spaces = s.isascii() and not any(c in s for c in WS_OTHER)
        for spaces_only in ((0, C.H_SPACES_ONLY) if spaces else (0,)):
            got = C._words_unless_varied(s, spaces_only)
            if got is None:
                assert not expected, s
            else:
                words, distinct = got
                assert words == s.split() and distinct == len(set(words))
    assert fired > 100  # the generator does reach the rule


@settings(max_examples=300)
@given(text, st.booleans(), st.booleans())
def test_hinted_text_checks_match_full_checks(t, assistant, has_calls):
    """check_text with the line's hints gives what it gives with every family on."""
    for data in _serialisations({"messages": [{"role": "user", "content": t}]}):
        hints = C.line_hints(data)
        full, fast = Sink("p", 1), Sink("p", 1)
        C.check_text(t, full, "/messages/0/content", assistant=assistant, has_calls=has_calls)
        C.check_text(t, fast, ("/messages", 0, "content"), assistant=assistant, has_calls=has_calls, hints=hints)
        assert full.findings == fast.findings


def test_check_line_uses_hints_on_the_raw_line():
    # "<" only behind a \u escape: the line must not be taken as free of "<".
    raw = rb'{"messages":[{"role":"user","content":"hi \u003c|im_start|>"},{"role":"assistant","content":"ok."}]}'
    out = check_line(RawLine(1, 0, raw, b"\n"), "f.jsonl")
    assert [f.rule for f in out.findings] == ["DP301"]


# --- A rule is one place: what the shortcuts know about the rules is declared once ------------------

def _reported_rules(fn_or_module) -> set[str]:
    """The rule ids a function or module passes to sink.add, read from its source."""
    tree = ast.parse(inspect.getsource(fn_or_module))
    return {n.args[0].value for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add"
            and n.args and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)}


def test_every_rule_the_content_checks_report_is_declared():
    """A rule added to content.py without saying which shortcut may skip it fails here."""
    declared = {r for f in C.FAMILIES for r in f.rules} | set(C.EVERY_TEXT_RULES) | C.EVERY_TEXT_RULES_REGISTERED
    reported = _reported_rules(C)
    assert reported, "no sink.add found: the source scan is broken"
    assert reported <= declared, f"declare {sorted(reported - declared)} in content.FAMILIES or EVERY_TEXT_RULES"
    assert declared <= set(all_rules()), sorted(declared - set(all_rules()))
    # the rules a family shortcut may skip are reported under that family's guard only
    assert _reported_rules(C._check_text_rules) | _reported_rules(C._check_numbers) == {
        r for f in C.FAMILIES for r in f.rules}
    # the rules checked on every text are not behind a line bit
    assert set(C.EVERY_TEXT_RULES) == _reported_rules(C.check_text_at) | _reported_rules(C.assistant_rules)


def test_family_bits_are_distinct_and_make_h_all():
    bits = [f.bit for f in C.FAMILIES]
    assert len(set(bits)) == len(bits) and all(b & (b - 1) == 0 for b in bits)
    assert C.H_ALL == C.H_EVERY | sum(bits) and not C.H_ALL & C.H_SPACES_ONLY


@pytest.mark.parametrize("t", ["", " ", "\n\t", "plain text", "a [b", "a {b", "[", "{", "x{{y}}", "<p>", "9", "é"])
def test_needs_text_check_is_the_per_text_triggers(t):
    """needs_text_check is spelled out for speed; it must say what TEXT_TRIGGERS and DP300 say."""
    assert set(C.TEXT_TRIGGERS) == {"[", "{"}
    expected = not t or t.isspace() or any(ch in t for ch in C.TEXT_TRIGGERS)
    assert bool(C.needs_text_check(t)) == expected


# One line of every shape the fast paths of checks/chat.py treat differently: user, assistant and
# system {role, content} messages, a developer message, a tool result, an assistant turn with
# tool calls, text parts, and both outputs of a preference pair. No digit, "<", "@", control or
# non-ASCII character anywhere, so line_hints sets no family bit.
_SHAPES_CHAT = {"messages": [
    {"role": "system", "content": "zebra system"},
    {"role": "developer", "content": "zebra developer"},
    {"role": "user", "content": "zebra user"},
    {"role": "assistant", "content": "zebra assistant.", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c", "content": "zebra tool"},
    {"role": "user", "content": [{"type": "text", "text": "zebra part"}]},
    {"role": "assistant", "content": "zebra reply."},
], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
_SHAPES_DPO = {"input": {"messages": [{"role": "user", "content": "zebra prompt"}]},
               "preferred_output": [{"role": "assistant", "content": "zebra good."}],
               "non_preferred_output": [{"role": "assistant", "content": "zebra bad."}]}
_ZEBRA_POINTERS = {"/messages/0/content", "/messages/1/content", "/messages/2/content", "/messages/3/content",
                   "/messages/4/content", "/messages/5/content/0/text", "/messages/6/content",
                   "/input/messages/0/content", "/preferred_output/0/content", "/non_preferred_output/0/content"}


def _findings(rec, hints):
    sink = Sink("f.jsonl", 1)
    (check_dpo if "input" in rec else check_chat)(rec, sink, hints=hints)
    return sink.findings


def test_a_registered_text_rule_reaches_every_text(monkeypatch):
    """Adding a per-text rule is its check function (and catalog entry): no hint or guard to edit.

    The lines carry no family bit, so before registration every fast path skips the content
    checks; after it, every text of every shape reaches the new check."""
    monkeypatch.setattr(C, "_EVERY_TEXT_CHECKS", [])
    monkeypatch.setattr(C, "EVERY_TEXT_RULES_REGISTERED", set())
    monkeypatch.setattr(C, "_ALWAYS", 0)
    monkeypatch.setattr(C, "_REPEATED", {})  # system prompts' findings are cached per text
    raws = [orjson.dumps(r) for r in (_SHAPES_CHAT, _SHAPES_DPO)]
    assert [C.line_hints(r) & C.H_RULES for r in raws] == [0, 0]
    before = [f for r in (_SHAPES_CHAT, _SHAPES_DPO) for f in _findings(r, C.line_hints(orjson.dumps(r)))]
    assert before == []

    @C.text_rule("DP302")
    def zebra(text, sink, pointer):
        if "zebra" in text:
            sink.add("DP302", "a zebra in the text", pointer)

    assert C.EVERY_TEXT_RULES_REGISTERED == {"DP302"}
    assert all(C.line_hints(r) & C.H_EVERY for r in raws)
    found = [f for r in (_SHAPES_CHAT, _SHAPES_DPO) for f in _findings(r, C.line_hints(orjson.dumps(r)))]
    assert {f.pointer for f in found} == _ZEBRA_POINTERS
    assert all(f.rule == "DP302" and f.message == "a zebra in the text" for f in found)
    # and through check_line, the path every command takes
    line = RawLine(1, 0, orjson.dumps(_SHAPES_CHAT), b"\n")
    assert {f.pointer for f in check_line(line, "f.jsonl").findings if f.rule == "DP302"} == {
        p for p in _ZEBRA_POINTERS if p.startswith("/messages")}


def _line_rule_texts() -> list[str]:
    """Every string of every runnable bad example in the catalog."""
    out = []
    for r in all_rules().values():
        if r.bad.startswith("# description:"):
            continue
        try:
            out += _strings(orjson.loads(r.bad), [])
        except orjson.JSONDecodeError:
            continue
    return [t for t in out if t.strip()]


_ROLES = ["system", "developer", "user", "assistant", "tool"]


def _shaped(t: str, role: str, parts: bool) -> dict:
    content = [{"type": "text", "text": t}] if parts else t
    msgs = [{"role": role, "content": content}]
    if role == "tool":
        msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, *msgs]
    return {"messages": [*msgs, {"role": "assistant", "content": "ok."}]}


@pytest.mark.parametrize("role", _ROLES)
def test_shortcuts_never_hide_a_catalog_example(role):
    """Each text of each catalog example, in each message shape: the line's hints (and the fast
    paths they open) give exactly the findings of a check with every family on."""
    texts = _line_rule_texts() + [p for p in PIECES if p.strip()]
    assert len(texts) > 50
    for t in texts:
        for parts in (False, True):
            rec = _shaped(t, role, parts)
            for data in _serialisations(rec):
                C._REPEATED.clear()
                fast = _findings(rec, C.line_hints(data))
                C._REPEATED.clear()
                assert fast == _findings(rec, C.H_ALL), (role, parts, t)
    for t in texts:
        rec = {"input": {"messages": [{"role": "user", "content": t}]}, "preferred_output": [
            {"role": "assistant", "content": t}], "non_preferred_output": [{"role": "assistant", "content": "no."}]}
        assert _findings(rec, C.line_hints(orjson.dumps(rec))) == _findings(rec, C.H_ALL), t


@settings(max_examples=200)
@given(st.lists(st.tuples(text, st.sampled_from(_ROLES)), min_size=1, max_size=4))
def test_hinted_lines_match_full_checks_in_every_role(msgs):
    rec = {"messages": [{"role": r, "content": t} for t, r in msgs]}
    for data in _serialisations(rec):
        C._REPEATED.clear()
        fast = _findings(rec, C.line_hints(data))
        C._REPEATED.clear()
        assert fast == _findings(rec, C.H_ALL)
