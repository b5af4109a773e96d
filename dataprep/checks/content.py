"""DP300-DP308: what the text of one message says. Each check is a pure function over a string.

Every check starts with a cheap substring test so the regexes only run on the few texts that
could match: the scan calls these on every message of every line.
"""

from __future__ import annotations

import ipaddress
import re

from dataprep.checks.base import Sink

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
_DANGLING_WORDS = frozenset("and or but the a an to of with for in on at by from that which because so as if".split())


def mask_secret(s: str) -> str:
    """Show just enough of a secret to find it: its first 4 characters and its length."""
    return f"{s[:4]}…({len(s)} chars)"


def mask_pii(kind: str, s: str) -> str:
    if kind == "email":
        user, _, domain = s.partition("@")
        return f"{user[:1]}***@{domain}"
    return s[:2] + "*" * max(0, len(s) - 4) + s[-2:]


def check_text(text: str, sink: Sink, pointer: str, *, assistant: bool, has_calls: bool = False) -> None:
    """Run every content rule over one message text."""
    if not text.strip():
        if not has_calls:
            sink.add("DP300", "content is empty or whitespace only; give the message text or drop the message",
                     pointer)
        return
    # Substring tests (memchr speed) decide which regexes run; each is computed once.
    lt = "<" in text
    lb = "[" in text
    if lt or (lb and "[INST" in text):
        m = _SPECIAL.search(text)
        if m:
            sink.add("DP301", f"reserved token {m.group(0)!r} in the text; the provider rejects it and it would "
                     "break the chat template. Remove it or spell it differently", pointer)
    if lt or lb or "{{" in text:
        m = _PLACEHOLDER.search(text)
        if m:
            sink.add("DP302", f"unfilled template placeholder {m.group(0)!r}; fill it in", pointer)
    if "@" in text:
        m = _EMAIL.search(text)
        if m:
            sink.add("DP304", f"email address {mask_pii('email', m.group(0))}; remove or pseudonymise personal data",
                     pointer)
    pre = _PRE.search(text)
    if pre is not None:
        first_digit = pre.start() if pre.group(0).isdigit() else None
        ctl = None if first_digit is not None else pre.group(0)
        if first_digit is None:
            d = re.search(r"[0-9]", text)
            first_digit = d.start() if d else None
        else:
            m = _CONTROL.search(text)
            ctl = m.group(0) if m else None
        if first_digit is not None and _DIGITS.search(text, first_digit):
            _check_numbers(text, sink, pointer)
        if ctl is not None:
            sink.add("DP308", f"control character U+{ord(ctl):04X} in the text; remove it", pointer)
    # Every secret pattern holds one of these literals ("_" covers gh?_, github_pat_ and _live_):
    # eight substring tests cost less than half of the hint regex's scan, which then confirms.
    if ("_" in text or "sk-" in text or "xox" in text or "eyJ" in text or "AKIA" in text or "ASIA" in text
            or "AIza" in text or "PRIVATE KEY" in text) and _SECRET_HINT.search(text):
        for label, rx in _SECRETS:
            m = rx.search(text)
            if m:
                sink.add("DP305", f"{label} {mask_secret(m.group(0))} in the text; revoke it and remove it "
                         "(`dataprep fix` masks it)", pointer)
    if not text.isascii():  # O(1) in CPython: mojibake and U+FFFD need non-ASCII characters
        if "Ã" in text or "Â" in text or "â€" in text:
            m = _MOJIBAKE.search(text)
            if m:
                sink.add("DP308", f"mojibake {m.group(0)!r}: UTF-8 text decoded as Latin-1/CP1252 somewhere "
                         "upstream; re-decode the source", pointer)
        if "\ufffd" in text:
            sink.add("DP308", "U+FFFD replacement character: bytes were lost in a bad decode upstream", pointer)
    if assistant:
        _check_assistant_text(text, sink, pointer)


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


def _check_numbers(text: str, sink: Sink, pointer: str) -> None:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits) and len(set(digits)) > 2:
            sink.add("DP304", f"payment card number {mask_pii('card', digits)} (passes the Luhn check); remove it",
                     pointer)
            return
    m = _PHONE.search(text) if _PHONE_NEED.search(text) else None
    if m and sum(c.isdigit() for c in m.group(0)) >= 9:
        sink.add("DP304", f"phone number {mask_pii('phone', m.group(0))}; remove or pseudonymise it", pointer)
        return
    for m in _IPV4.finditer(text):
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


def _check_assistant_text(text: str, sink: Sink, pointer: str) -> None:
    low = text.lower()
    # Substrings every refusal pattern contains; the regex runs only when one is present.
    if " ai" in low or "i can" in low or "unable" in low or "not able" in low or "my knowledge" in low \
            or "my training" in low or low.startswith("ai"):
        m = _REFUSAL.search(text)
        if m:
            sink.add("DP303", f"refusal or AI boilerplate {m.group(0)!r}; the model learns to say it. Rewrite the "
                     "answer or drop the example", pointer)
    stripped = text.rstrip()
    if stripped.count("```") % 2 == 1:
        sink.add("DP306", "reply ends inside an unclosed ``` code fence: it looks cut off", pointer)
    else:
        last = stripped[-1]
        if last in ",;:-(" or last == "—":
            sink.add("DP306", f"reply ends with {last!r}: it looks cut off mid-sentence", pointer)
        elif last.isalpha():
            tail = stripped.rsplit(None, 1)[-1].lower()
            if tail in _DANGLING_WORDS and len(stripped) > 40:
                sink.add("DP306", f"reply ends with the word {tail!r}: it looks cut off mid-sentence", pointer)
    if len(text) >= 200:
        # The first 20k characters show a loop as well as the whole text does, at bounded cost
        # (a 50 MB reply must not become 10 M word objects).
        words = low[:20_000].split()
        # A looping reply repeats words first: the 3-gram count runs only when few words are distinct.
        if len(words) >= 30 and len(set(words)) < 0.5 * len(words):
            grams = list(zip(words, words[1:], words[2:]))
            distinct = len(set(grams))
            if distinct / len(grams) < 0.35:
                sink.add("DP307", f"repetitive: only {distinct} distinct word 3-grams among {len(grams)}; a looping "
                         "or padded reply teaches the model to loop", pointer)
