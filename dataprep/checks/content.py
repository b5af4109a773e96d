"""DP300-DP308: what the text of one message says. Each check is a pure function over a string.

Every check starts with a cheap substring test so the regexes only run on the few texts that
could match: the scan calls these on every message of every line.

Adding a per-text rule (besides its catalog entry):
- a check that must see every text: a function ``check(text, sink, pointer)`` in this module,
  decorated with ``@text_rule`` (see its doc). Nothing else to edit: the line shortcuts below and
  the fast paths of checks/chat.py then let every text through to it;
- a rule that only some rare character can trip and that should be skipped cheaply: put it in
  ``_check_text_rules`` under the bit of its family in ``FAMILIES`` (or add a family: its bit, the
  rule ids, and ``holds``, the test on one string that line_hints must honour). The tests in
  tests/test_content_fastpaths.py hold line_hints to every family's ``holds`` and fail when a rule
  this module reports is declared nowhere.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from dataprep.checks.base import Sink, short

# --- DP301 reserved / special tokens -------------------------------------------------------
# The <|...|> family (OpenAI, ChatML, Llama 3, Qwen, FIM) plus Llama 2 / Mistral markers.
_SPECIAL = re.compile(r"<\|[A-Za-z0-9_]{2,40}\|>|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>")

# --- DP302 template placeholders ------------------------------------------------------------
_PLACEHOLDER = re.compile(
    r"\{\{\s*[A-Za-z_][\w.\- ]{0,40}\}\}"
    r"|\[\s*(?:INSERT|YOUR|ADD|ENTER|PLACEHOLDER|FILL[ _]IN)\b[^\]\n]{0,60}\]"
    r"|<\s*(?:PLACEHOLDER|YOUR[_ ][A-Z_ ]{1,40}|INSERT[_ ][A-Z_ ]{1,40})\s*>",
)

# --- DP303 refusal / boilerplate --------------------------------------------------------------
_REFUSAL = re.compile(
    r"\bas an ai(?: language model| assistant| model)?\b"
    r"|\bi(?:'m| am) (?:just )?an ai\b"
    r"|\bi (?:cannot|can['’]t|am unable to|['’]m unable to|am not able to|['’]m not able to) "
    r"(?:assist|help|provide|fulfill|comply|answer|do that|generate)"
    r"|\bmy (?:knowledge cutoff|training data)\b",
    re.IGNORECASE,
)

# --- DP304 personal data --------------------------------------------------------------------
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,24}\b")
_PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)[ .\-]?|\d{2,4}[ .\-])\d{3,4}[ .\-]\d{3,4}(?![\w.])")
# _CARD and _IPV4 start with \d and put their "no digit before" lookbehind after it: the same
# matches as (?<!\d)(?:\d[ \-]?){12,18}\d(?!\d) and (?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]), but
# the regex engine then skips to the next digit instead of trying every position (3-5x faster).
_IPV4 = re.compile(r"\d(?<![\d.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\d.])")
_CARD = re.compile(r"\d(?<!\d\d)[ \-]?(?:\d[ \-]?){11,17}\d(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
# One prefilter pass per text: a control character, or digits a phone/card/IBAN/IPv4 may hold.
# A single character class scans far faster than an alternation (0.3 vs 2.7 us per message).
_PRE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f0-9]")

# --- DP305 secrets (never echoed in full) ----------------------------------------------------
_SECRETS = [
    ("OpenAI/Anthropic-style API key", re.compile(r"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Stripe key", re.compile(r"\b[rsp]k_live_[0-9A-Za-z]{20,}")),
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
]
SECRET_PATTERNS = _SECRETS  # public: (label, regex) pairs, used by `fix` to mask what DP305 finds

# One search for the literal every pattern above starts with; the patterns run only on a hit.
_SECRET_HINT = re.compile(r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox|AIza|_live_|PRIVATE KEY|eyJ")

# --- DP308 encoding damage -------------------------------------------------------------------
_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|â€[\u0080-\u00bf\u2018-\u201e\u2122]|â€")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"\d(?:\d\d|\.\d)")  # \d{3}|\d\.\d, led by \d so the search skips to digits
# Substrings every _PHONE / _IBAN match contains, led by \d: when they are absent the full
# pattern (which tries every position) cannot match and is skipped.
_PHONE_NEED = re.compile(r"\d\d\d[ .\-]\d\d\d")
_IBAN_NEED = re.compile(r"\d\d(?<=[A-Z][A-Z]\d\d)")

# --- DP306 truncation ---------------------------------------------------------------------------
_SENTENCE_END = frozenset(".!?。！？")
_DANGLING_WORDS = frozenset("and or but the a an to of with for in on at by from that which because so as if".split())

# --- Line-level hints ----------------------------------------------------------------------------
# One bit per rule family: set when some string of the line MAY trip that family. A clear bit is
# a proof that no string of the line can (see line_hints); the per-text checks then skip it.
# DP301/DP302 need "<", "[" or "{{" in the text: "[" and "{" are in every JSON line, so those two
# are tested per text (one memchr each); "<" is a line hint.
H_LT = 1  # DP301 / DP302: some string may hold "<"
H_EMAIL = 2  # DP304 email
H_DIGIT = 4  # DP304 numbers: an ASCII digit
H_CONTROL = 8  # DP308 control characters
H_SECRET = 16  # DP305
H_NON_ASCII = 32  # DP308 mojibake / U+FFFD
# Not a rule family but a fact: every string of the line is ASCII with " " as its only whitespace
# (no backslash, so no \n \t \r \f escapes and no \u). Never part of H_ALL; mask with H_RULES.
H_SPACES_ONLY = 64
# The checks registered with @text_rule have no line shortcut: line_hints sets this bit on every
# line once one is registered, so every guard lets every text through to them.
H_EVERY = 128


@dataclass(frozen=True, slots=True)
class Family:
    """Rules that can only fire on a string holding something rare, and the line bit that says so.

    ``holds(text)`` is that necessary condition on one string; line_hints must set ``bit`` on
    every raw line that has such a string (tests hold it to this). ``text_triggers``: characters
    that also let the family fire but are in every JSON line ("[", "{"), so they are tested per
    text (``needs_text_check``) instead of per line.
    """

    bit: int
    rules: tuple[str, ...]
    needs: str  # holds(), in words
    holds: Callable[[str], object]
    text_triggers: str = ""


FAMILIES: tuple[Family, ...] = (
    Family(H_LT, ("DP301", "DP302"), '"<" (or "[" / "{{", tested per text)', lambda t: "<" in t, "[{"),
    Family(H_EMAIL, ("DP304",), '"@" (an email address)', lambda t: "@" in t),
    Family(H_DIGIT, ("DP304",), "an ASCII digit (card, phone, IPv4, IBAN)", lambda t: any(c in t for c in "0123456789")),
    Family(H_CONTROL, ("DP308",), "a control character", lambda t: _CONTROL.search(t)),
    Family(H_SECRET, ("DP305",), "a match of a secret pattern", lambda t: any(rx.search(t) for _, rx in _SECRETS)),
    Family(H_NON_ASCII, ("DP308",), "a non-ASCII character (mojibake, U+FFFD)", lambda t: not t.isascii()),
)
# Rules checked on every text, with no shortcut: a blank text (DP300) and the reply rules of
# assistant_rules (DP303, DP306, DP307 run on every assistant text the fast paths see).
EVERY_TEXT_RULES = ("DP300", "DP303", "DP306", "DP307")
TEXT_TRIGGERS = "".join(f.text_triggers for f in FAMILIES)

H_ALL = functools.reduce(operator.or_, (f.bit for f in FAMILIES), H_EVERY)
H_RULES = H_ALL  # the rule bits of a hints value (H_SPACES_ONLY is a fact, not a rule)


def needs_text_check(text: str) -> bool:
    """On a line whose hints name no rule family: may a rule other than the assistant rules fire?

    Yes when the text is blank (DP300) or holds a per-text trigger of a family (TEXT_TRIGGERS; a
    test keeps the literals below equal to it). Spelled out for speed: it runs on most messages.
    """
    return "[" in text or "{" in text or not text or text.isspace()


# @text_rule checks, run by _check_text_rules on every text, and the rule ids they report.
_EVERY_TEXT_CHECKS: list[Callable[[str, Sink, str], None]] = []
EVERY_TEXT_RULES_REGISTERED: set[str] = set()
_ALWAYS = 0  # H_EVERY once a check is registered, else 0: what line_hints adds to every line


def text_rule(*rules: str):
    """Register ``check(text, sink, pointer)`` to run on every non-blank text of every message.

    ``rules``: the catalog ids it reports. Use it for a new per-text rule: the line hints and the
    fast paths need no edit, every text reaches the check (``pointer`` is the finding pointer as
    text; pass it to ``sink.add``). Applies to user, system, developer, tool and assistant texts
    and to text parts. Keep the pointer out of the message: a system prompt's findings are
    computed once and replayed on every line that repeats it. For speed, a rule that only rare
    characters can trip may instead join a family (see FAMILIES).
    """
    def register(check):
        global _ALWAYS
        _EVERY_TEXT_CHECKS.append(check)
        EVERY_TEXT_RULES_REGISTERED.update(rules)
        _ALWAYS = H_EVERY
        return check

    return register

# Literal-led patterns (the regex engine skips to the literal), on the raw bytes: a necessary part
# of every match of the _SECRETS patterns, grouped by the character a line must hold first.
_SECRET_DASH = re.compile(rb"-(?:(?<=sk-)|(?<=xox[abposr]-)|(?<=PRIVATE KEY-))")
_SECRET_UNDERSCORE = re.compile(rb"_(?:(?<=gh[pousr]_)|(?<=github_)(?=pat_)|(?<=k_)(?=live_))")
_SECRET_AWS_GOOGLE = re.compile(rb"A(?:KIA|SIA|Iza)")
_ESCAPE_BFU = re.compile(rb"\\[bfu]")


def line_hints(data: bytes) -> int:
    r"""Which content rule families may fire on some string of this raw JSON line (H_* bits).

    Exact reasoning, so a clear bit never hides a finding. Every string value of the parsed line
    is spelled inside ``data``: a character appears in the raw bytes as itself (UTF-8), as a
    two-byte escape (\" \\ \/ \b \f \n \r \t) or as a \uXXXX escape; JSON (and orjson) allow no
    raw control characters below U+0020. With no ``\u`` in the line, any run of text characters
    other than those eight escaped ones is a run of the raw line too, so a literal that every
    match of a family needs is absent from every string when it is absent from the line. In
    UTF-8 every byte of a multi-byte character is >= 0x80, so ASCII literals are found exactly.

    The tests are single-byte scans first (``int in bytes`` is memchr), the rest behind them.
    """
    # _PRE's control characters: U+007F (raw), U+0008 / U+000C (\b, \f); the others need \u.
    h = H_CONTROL if 0x7F in data else 0
    ascii_only = data.isascii()
    if 0x5C in data:  # a backslash: look at the escapes
        for m in _ESCAPE_BFU.finditer(data):
            if m.group()[1] == 0x75:  # \u: an escape may spell any character, no conclusion
                return H_ALL
            h = H_CONTROL
    elif ascii_only:
        h |= H_SPACES_ONLY
    if 0x3C in data:  # "<"
        h |= H_LT
    if 0x40 in data:  # "@"
        h |= H_EMAIL
    if (0x30 in data or 0x31 in data or 0x32 in data or 0x33 in data or 0x34 in data or 0x35 in data
            or 0x36 in data or 0x37 in data or 0x38 in data or 0x39 in data):  # an ASCII digit
        h |= H_DIGIT
    # A DP305 finding needs one of its patterns to match, and each holds a literal found below
    # ("sk-", "xox?-", "PRIVATE KEY-", "gh?_", "github_pat_", "k_live_", AKIA, ASIA, AIza, ".eyJ").
    if ((0x2D in data and _SECRET_DASH.search(data)) or (0x5F in data and _SECRET_UNDERSCORE.search(data))
            or (0x49 in data and 0x41 in data and _SECRET_AWS_GOOGLE.search(data))
            or (0x4A in data and data.find(b".eyJ") >= 0)):
        h |= H_SECRET
    if not ascii_only:
        h |= H_NON_ASCII
    return h | _ALWAYS


def _pointer(p) -> str:
    """A pointer given as text, or as (prefix, index, leaf) to be formatted only when a finding needs it."""
    return p if type(p) is str else f"{p[0]}/{p[1]}/{p[2]}"


def mask_secret(s: str) -> str:
    """Show just enough of a secret to find it: its first 4 characters and its length."""
    return f"{s[:4]}…({len(s)} chars)"


def mask_pii(kind: str, s: str) -> str:
    if kind == "email":
        user, _, domain = s.partition("@")
        return f"{user[:1]}***@{domain}"
    return s[:2] + "*" * max(0, len(s) - 4) + s[-2:]


def check_text(text: str, sink: Sink, pointer, *, assistant: bool, has_calls: bool = False,
               hints: int = H_ALL) -> None:
    """Run every content rule over one message text.

    ``pointer`` is the finding pointer, or a (prefix, index, leaf) tuple formatted on demand.
    ``hints`` (line_hints bits) names the rule families that may fire; the others are skipped.
    """
    check_text_at(text, sink, pointer, assistant, has_calls, hints)


def check_text_at(text: str, sink: Sink, pointer, assistant: bool, has_calls: bool, hints: int) -> None:
    """check_text with positional arguments (the per-message hot path)."""
    if not text or text.isspace():  # == not text.strip(): both test Py_UNICODE_ISSPACE, no copy
        if not has_calls:
            sink.add("DP300", "content is empty or whitespace only; give the message text or drop the message",
                     _pointer(pointer))
        return
    if hints & H_RULES or needs_text_check(text):  # with none, only the assistant rules can fire
        _check_text_rules(text, sink, pointer, hints)
    if assistant:
        assistant_rules(text, sink, pointer, hints)


def _check_text_rules(text: str, sink: Sink, pointer, hints: int) -> None:
    # Substring tests (memchr speed) decide which regexes run; each is computed once.
    lt = hints & H_LT and "<" in text  # without H_LT no string of the line holds "<"
    lb = "[" in text
    if lt or (lb and "[INST" in text):
        m = _SPECIAL.search(text)
        if m:
            sink.add("DP301", f"reserved token {m.group(0)!r} in the text; the provider rejects it and it would "
                     "break the chat template. Remove it or spell it differently", _pointer(pointer))
    if lt or lb or ("{" in text and "{{" in text):
        m = _PLACEHOLDER.search(text)
        if m:
            sink.add("DP302", f"unfilled template placeholder {m.group(0)!r}; fill it in", _pointer(pointer))
    if hints & H_EMAIL and "@" in text:
        m = _EMAIL.search(text)
        if m:
            sink.add("DP304", f"email address {mask_pii('email', m.group(0))}; remove or pseudonymise personal data",
                     _pointer(pointer))
    # _PRE finds nothing in a text without control characters (H_CONTROL clear) and ASCII digits.
    if hints & H_CONTROL or (hints & H_DIGIT and (
            "0" in text or "1" in text or "2" in text or "3" in text or "4" in text or "5" in text or "6" in text
            or "7" in text or "8" in text or "9" in text)):
        pre = _PRE.search(text)
        if pre is not None:
            first_digit = pre.start() if pre.group(0).isdigit() else None
            ctl = None if first_digit is not None else pre.group(0)
            if first_digit is None:
                d = re.search(r"[0-9]", text)
                first_digit = d.start() if d else None
            elif hints & H_CONTROL:  # without it no string holds a control character
                m = _CONTROL.search(text)
                ctl = m.group(0) if m else None
            if first_digit is not None and _DIGITS.search(text, first_digit):
                _check_numbers(text, sink, _pointer(pointer))
            if ctl is not None:
                sink.add("DP308", f"control character U+{ord(ctl):04X} in the text; remove it", _pointer(pointer))
    # Every secret pattern holds one of these literals ("_" covers gh?_, github_pat_ and _live_):
    # eight substring tests cost less than half of the hint regex's scan, which then confirms.
    if hints & H_SECRET and ("_" in text or "sk-" in text or "xox" in text or "eyJ" in text or "AKIA" in text
                             or "ASIA" in text or "AIza" in text or "PRIVATE KEY" in text) \
            and _SECRET_HINT.search(text):
        for label, rx in _SECRETS:
            m = rx.search(text)
            if m:
                sink.add("DP305", f"{label} {mask_secret(m.group(0))} in the text; revoke it and remove it "
                         "(`dataprep fix` masks it)", _pointer(pointer))
    if hints & H_NON_ASCII and not text.isascii():  # O(1) in CPython: mojibake and U+FFFD need non-ASCII
        if "Ã" in text or "Â" in text or "â€" in text:
            m = _MOJIBAKE.search(text)
            if m:
                sink.add("DP308", f"mojibake {m.group(0)!r}: UTF-8 text decoded as Latin-1/CP1252 somewhere "
                         "upstream; re-decode the source", _pointer(pointer))
        if "\ufffd" in text:
            sink.add("DP308", "U+FFFD replacement character: bytes were lost in a bad decode upstream",
                     _pointer(pointer))
    if hints & H_EVERY and _EVERY_TEXT_CHECKS:
        where = _pointer(pointer)
        for check in _EVERY_TEXT_CHECKS:
            check(text, sink, where)


class _Recorder:
    """Stands in for a Sink while one text's findings are computed for the cache below."""

    __slots__ = ("items",)

    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, rule: str, message: str, pointer: str | None = None) -> None:
        self.items.append((rule, message))


# (text, has_calls) -> the (rule, message) pairs check_text gives a non-assistant text. System
# prompts recur on most lines of a file; their findings are computed once and replayed (the
# messages never name the pointer). Bounded; cleared when full.
_REPEATED: dict[tuple[str, bool], tuple[tuple[str, str], ...]] = {}
_REPEATED_MAX = 1024
_REPEATED_TEXT_MAX = 1 << 14  # longer texts are checked every time, not kept (at most ~16 MB held)


def check_repeated_text(text: str, sink: Sink, pointer: str, *, has_calls: bool = False) -> None:
    """``check_text(..., assistant=False)`` for texts that recur across lines (system prompts)."""
    key = (text, has_calls)
    found = _REPEATED.get(key)
    if found is None:
        rec = _Recorder()
        check_text(text, rec, pointer, assistant=False, has_calls=has_calls)  # type: ignore[arg-type]
        found = tuple(rec.items)
        if len(text) <= _REPEATED_TEXT_MAX:
            if len(_REPEATED) >= _REPEATED_MAX:
                _REPEATED.clear()
            _REPEATED[key] = found
    for rule, message in found:
        sink.add(rule, message, pointer)


_NOT_DIGITS = bytes(range(48)) + bytes(range(58, 128))


def _check_numbers(text: str, sink: Sink, pointer: str) -> None:
    # In an ASCII text \d is [0-9]: a card match holds >= 13 digits, a phone finding >= 9, an IPv4
    # match >= 4. Counting them (one C pass) skips the patterns that cannot match.
    digits_in = len(text.encode("ascii").translate(None, _NOT_DIGITS)) if text.isascii() else 99
    for m in _CARD.finditer(text) if digits_in >= 13 else ():
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits) and len(set(digits)) > 2:
            sink.add("DP304", f"payment card number {mask_pii('card', digits)} (passes the Luhn check); remove it",
                     pointer)
            return
    m = _PHONE.search(text) if digits_in >= 9 and _PHONE_NEED.search(text) else None
    if m and sum(c.isdigit() for c in m.group(0)) >= 9:
        sink.add("DP304", f"phone number {mask_pii('phone', m.group(0))}; remove or pseudonymise it", pointer)
        return
    for m in _IPV4.finditer(text) if digits_in >= 4 else ():
        try:
            ip = ipaddress.IPv4Address(m.group(0))
        except ValueError:
            continue
        if ip.is_global:
            sink.add("DP304", f"public IP address {m.group(0)}; remove or replace with a documentation address "
                     "(192.0.2.0/24)", pointer)
            return
    for m in _IBAN.finditer(text) if _IBAN_NEED.search(text) else ():
        if _iban_ok(m.group(0)):
            sink.add("DP304", f"IBAN {mask_pii('iban', m.group(0).replace(' ', ''))}; remove it", pointer)
            return


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(s: str) -> bool:
    s = s.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def assistant_rules(text: str, sink: Sink, pointer, hints: int = H_ALL) -> None:
    """DP303, DP306, DP307 on a reply text that is not blank (what check_text adds for assistants)."""
    low = text.lower()
    # Substrings every refusal pattern contains; the regex runs only when one is present. In an
    # ASCII text, every _REFUSAL match holds (lower-cased) " an ai", "i can", "able to", "my
    # knowledge cutoff" or "my training data": fewer and longer needles, tested first.
    if (not text.isascii() or " an ai" in low or "i can" in low or "able to" in low or "my knowledge cutoff" in low
            or "my training data" in low) and (
            " ai" in low or "i can" in low or "unable" in low or "not able" in low or "my knowledge" in low
            or "my training" in low or low.startswith("ai")):
        m = _REFUSAL.search(text)
        if m:
            sink.add("DP303", f"refusal or AI boilerplate {m.group(0)!r}; the model learns to say it. Rewrite the "
                     "answer or drop the example", _pointer(pointer))
    stripped = text.rstrip()
    last = stripped[-1]
    # Measured on 2,087 real conversations (LLaMA-Factory demos, converted): ";" ended complete
    # code ("main();"), and an odd fence count before a reply's closing fence or its final
    # sentence came from a stray ``` earlier on; both cried wolf (precision 72% -> 100%, see
    # the rule's doc).
    if ("`" in stripped and stripped.count("```") % 2 == 1  # no backtick: count is 0 (memchr first)
            and last not in _SENTENCE_END and not stripped.endswith("```")):
        sink.add("DP306", "reply ends inside an unclosed ``` code fence: it looks cut off", _pointer(pointer))
    else:
        if last in ",:-(" or last == "—":
            sink.add("DP306", f"reply ends with {last!r}: it looks cut off mid-sentence", _pointer(pointer))
        elif last.isalpha() and len(stripped) > 40:
            tail = stripped.rsplit(None, 1)[-1].lower()
            if tail in _DANGLING_WORDS:
                sink.add("DP306", f"reply ends with the word {tail!r}: it looks cut off mid-sentence",
                         _pointer(pointer))
    if len(text) >= 200:
        # The first 20k characters show a loop as well as the whole text does, at bounded cost
        # (a 50 MB reply must not become 10 M word objects).
        found = _words_unless_varied(low[:20_000], hints & H_SPACES_ONLY)
        # A looping reply repeats words first: the 3-gram count runs only when few words are distinct.
        if found is not None and len(found[0]) >= 30 and found[1] < 0.5 * len(found[0]):
            words = found[0]
            grams = list(zip(words, words[1:], words[2:]))
            distinct = len(set(grams))
            if distinct / len(grams) < 0.35:
                sink.add("DP307", f"repetitive: only {distinct} distinct word 3-grams among {len(grams)}; a looping "
                         "or padded reply teaches the model to loop", _pointer(pointer))
                return
    # _mostly_repeated's first test, inline (it runs on every reply): see the comment above it.
    s = low
    if s[0].isspace() or s[-1].isspace():
        s = s.strip()
    n = len(s)
    if n >= _LOOP_MIN_CHARS:
        mid = n // 2
        h = min(32, (n + 5) // 15)
        if s.count(s[mid - h:mid + h]) >= 2:
            loop = _mostly_repeated(s)
            if loop is not None:
                sink.add("DP307", loop, _pointer(pointer))


# --- DP307 on short replies and character runs ---------------------------------------------------
# The 3-gram rule above needs 30 words. A short reply can still be one phrase said over and over
# ("the answer is the answer is ..."), and a reply can be one character repeated thousands of
# times (a single "word"). Both are caught when the repetition covers more than two thirds of the
# reply. Such a stretch [a, b) holds [n/3, 2n/3] and repeats a unit of m characters (m = 1 for a
# character run; a phrase of p words and the space after each, said 6+ times, spans over 5m, so
# m < (b - a) / 5). The 2h characters around the middle then occur again k*m further out, for some
# k*m >= 2h still inside the stretch: its longer side past the probe holds (b - a - 2h) / 2 >=
# 2h + m - 1 characters when b - a >= 6h + 2m - 2, which m < (b - a) / 5 and b - a > 2n/3 give
# for h <= (n + 5) / 15. So str.count, which counts non-overlapping matches, finds the probe at
# least twice; a wide probe (up to 64 characters) rarely recurs in ordinary text. One slice and one count rule out almost every ordinary reply before
# any word is split; the rule is exactly what follows that test.
_LOOP_MIN_CHARS = 12  # "ha ha ha ha ha ha" and longer
_LOOP_COPIES = 6  # a phrase said at least this many times in a row
_LOOP_PHRASE_WORDS = 8  # of at most this many words
_RUN_CHARS = 32  # a run of one character at least this long
_LOOP_TEXT_MAX = 20_000  # longer replies: the 3-gram rule's first 20k characters speak for them


def _mostly_repeated(low: str) -> str | None:
    """Why the (lower-cased) reply is mostly one repeated character or phrase, or None."""
    s = low
    if s[0].isspace() or s[-1].isspace():
        s = s.strip()
    n = len(s)
    if n < _LOOP_MIN_CHARS:
        return None
    mid = n // 2
    h = min(32, (n + 5) // 15)  # the widest probe the argument above allows (and 2h <= n/3 - 2)
    if s.count(s[mid - h:mid + h]) < 2:
        return None
    # Rare from here on (a few percent of ordinary replies get this far).
    c = s[mid]
    run = n - mid - len(s[mid:].lstrip(c)) + mid - len(s[:mid].rstrip(c))
    if run >= _RUN_CHARS and 3 * run > 2 * n:
        return (f"repetitive: the character {c!r} repeated {run:,} times makes up most of the reply; a "
                "looping reply teaches the model to loop")
    if n > _LOOP_TEXT_MAX:
        return None
    words = s.split()
    # The stretch holds s[mid]: the word there (index k; when mid is a space, k is the next word)
    # has its copy p words before or after it inside the stretch, for the stretch's own p.
    k = len(s[:mid].split()) - (0 if s[mid].isspace() or s[mid - 1].isspace() else 1)
    found = _widest_repeat(words, k)
    if found is None:
        return None
    start, p, count, span = found
    if 3 * span <= 2 * n:  # span counts one space between words: s itself is at least that wide
        return None
    phrase = " ".join(words[start:start + p])
    return (f"repetitive: {short(phrase, 40)!r} repeated {count // p} times in a row makes up most of the "
            "reply; a looping reply teaches the model to loop")


# _RUNS[p]: a run of >= 5p ones in the bytes eq[i] = (words[i] == words[i + p]), i.e. >= 6p words
# repeating with period p.
_RUNS = [re.compile(rb"\x01{%d,}" % (5 * p)) if p else None for p in range(_LOOP_PHRASE_WORDS + 1)]


def _widest_repeat(words: list[str], k: int | None = None) -> tuple[int, int, int, int] | None:
    """The widest stretch of words repeating a phrase of p <= 8 words at least 6 times.

    A stretch is maximal: words[i] == words[i + p] throughout, and it holds count >= 6p words.
    Returns (start, p, count, span) with span its width in characters at one space between
    words, or None. The comparisons run in C (map, bytes, a regex over the result). With ``k``,
    only stretches holding words[k] are wanted: a period p whose copy of words[k] is not equal
    on either side is skipped.
    """
    n = len(words)
    ends = None
    best: tuple[int, int, int, int] | None = None
    for p in range(1, min(_LOOP_PHRASE_WORDS, n // _LOOP_COPIES) + 1):
        if k is not None and not ((k + p < n and words[k] == words[k + p]) or (k >= p and words[k] == words[k - p])):
            continue
        eq = bytes(map(operator.eq, words, words[p:]))
        for m in _RUNS[p].finditer(eq):
            if ends is None:  # ends[i]: characters of words[:i], one space after each
                ends = [0, *itertools.accumulate(len(w) + 1 for w in words)]
            start, count = m.start(), m.end() - m.start() + p
            span = ends[start + count] - ends[start] - 1
            if best is None or span > best[3]:
                best = (start, p, count, span)
    return best


# Every character str.split() splits on (Py_UNICODE_ISSPACE) besides " ": ASCII, then the rest.
_OTHER_WS_ASCII = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_OTHER_WS = _OTHER_WS_ASCII + ("\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                               "\u2028\u2029\u202f\u205f\u3000")


def _words_unless_varied(s: str, spaces_only: int = 0) -> tuple[list[str], int] | None:
    """``(s.split(), number of distinct words)``, or None when DP307 provably cannot fire.

    DP307 needs n >= 30 words with distinct 3-grams G < 0.35 (n - 2). Each distinct word but
    the last two starts a distinct 3-gram (at its first occurrence), so G >= D - 2 for D distinct
    words. The first k words hold D_k <= D distinct words; the rest of the text holds at most
    (its whitespace characters + 1) words, so n <= n_up. If 100 (D_k - 2) >= 35 (n_up - 2), then
    G / (n - 2) >= 0.35 exactly; float division rounds monotonically, so the computed ratio is
    >= float(0.35) and DP307's "< 0.35" is False.

    k is a little over a third of the words expected from the length, enough for ordinary text,
    so most of the split and of the hashing is saved; when the bound fails the remaining words
    are split and hashed once, nothing twice. ``spaces_only``: s has no whitespace but " ".
    """
    k = 4 + len(s) // 14  # ~0.4 of the words at 5.5 characters a word, + 4
    words = s.split(None, k)
    if len(words) <= k:  # that was every word
        return words, len(set(words))
    rest = words.pop()
    ws = rest.count(" ")
    if not spaces_only:
        for ch in _OTHER_WS_ASCII if rest.isascii() else _OTHER_WS:
            if ch in rest:
                ws += rest.count(ch)
    n_up = k + 1 + ws
    if n_up < 30:
        return None  # fewer than 30 words
    seen = set(words)
    if 100 * (len(seen) - 2) >= 35 * (n_up - 2):
        return None
    more = rest.split()
    seen.update(more)
    words += more  # == s.split(): the first k words, then the words of the remainder
    return words, len(seen)
