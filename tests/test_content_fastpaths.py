"""The content rules' shortcuts never change a finding.

check_line skips rule families per line (content.line_hints on the raw bytes) and DP307 decides
most texts from their first words (content._words_unless_varied). These tests hold each shortcut
to the exact rule it stands for, on generated text full of the characters the rules look for.
"""

import json
import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataprep.checks import content as C
from dataprep.checks.base import Sink
from dataprep.io.reader import RawLine
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
        if not h & C.H_LT:
            assert "<" not in t
        if not h & C.H_EMAIL:
            assert "@" not in t
        if not h & C.H_DIGIT:
            assert not any(c in t for c in "0123456789")
        if not h & C.H_CONTROL:
            assert not C._CONTROL.search(t)
        if not h & C.H_SECRET:
            assert not any(rx.search(t) for _, rx in C._SECRETS)
        if not h & C.H_NON_ASCII:
            assert t.isascii()
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
