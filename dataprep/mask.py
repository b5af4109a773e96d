"""The one place where secrets and personal data are masked, for everything dataprep writes.

``redact(text)`` is what every report, summary and screen calls on dataset text before showing
it (openings, system-prompt previews, duplicate panes, conversations, finding messages). It
masks what the validator reports: DP305 secrets (its ``SECRET_PATTERNS``) and DP304 personal
data (emails, payment cards that pass the Luhn check, phone numbers of 9+ digits, IBANs with a
valid checksum), each in the form the validator prints (``mask_secret`` / ``mask_pii``), so a
masked value on screen matches the finding about it. Public IP addresses are not masked: the
validator prints them in full too (they are no personal data on their own).

Three differences from detection, all on the side of masking more:

- secrets match case-insensitively here: a key that was lower-cased on its way to a report
  (openings, word lists) is still a key;
- a private key is masked with its whole ``BEGIN ... END`` block (DP305 reports the header);
- an AWS secret access key (40 characters, no prefix; DP305 has no pattern for it) is masked
  when it looks random (see ``_aws_secret_like``), or in a text that also holds an AWS access
  key id or a "secret access key" label;
- ``style="placeholder"`` replaces each match by one word (``[REDACTED_SECRET]``, ...), for
  text that is cut into words afterwards: a mask such as ``AKIA…(20 chars)`` would become the
  words "akia 20 chars".

Mask before cutting: a secret cut in half (a preview's first 120 characters, a line limit)
no longer matches any pattern, so callers redact the text and then truncate the result.

``mask_secrets(text, PLACEHOLDER, exact=True)`` is what ``dataprep fix`` writes into the
user's data: exactly what DP305 finds, each replaced by ``[REDACTED_SECRET]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dataprep.checks.content import (
    _CARD,
    _EMAIL,
    _IBAN,
    _PHONE,
    SECRET_PATTERNS,
    _iban_ok,
    _luhn_ok,
    mask_pii,
    mask_secret,
)

__all__ = ["PLACEHOLDER", "mask_pii", "mask_secret", "mask_secrets", "redact", "redact_tree"]

PLACEHOLDER = "[REDACTED_SECRET]"
PII_PLACEHOLDERS = {"email": "[REDACTED_EMAIL]", "card": "[REDACTED_CARD]", "phone": "[REDACTED_PHONE]",
                    "iban": "[REDACTED_IBAN]"}

# The private key header widened to the whole block: the header alone is what DP305 reports,
# masking must take the key material with it. ``\\n`` inside the body covers keys embedded in
# JSON-encoded strings (tool arguments); an unterminated block runs to the end of its base64.
_KEY_BODY = r"(?:[A-Za-z0-9+/=\s]|\\n)"
_PRIVATE_KEY = (r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"
                rf"(?:{_KEY_BODY}*?-----END (?:[A-Z]+ )?PRIVATE KEY-----|{_KEY_BODY}*)")
_EXACT = [re.compile(_PRIVATE_KEY) if label == "private key block" else rx for label, rx in SECRET_PATTERNS]
_ANY_CASE = [re.compile(_PRIVATE_KEY if label == "private key block" else rx.pattern, re.IGNORECASE)
             for label, rx in SECRET_PATTERNS]
# A literal every pattern above starts with (or holds): the patterns run only on a hit. Substring
# tests first (memchr speed; a case-insensitive regex alternation costs ~15 us per 2 KB).
_HINT_EXACT = ("sk-", "AKIA", "ASIA", "xox", "AIza", "eyJ", "PRIVATE KEY")
_HINT_LOWER = tuple(h.lower() for h in _HINT_EXACT)
_UNDERSCORE_EXACT = re.compile(r"gh[pousr]_|github_pat_|_live_")
_UNDERSCORE_LOWER = _UNDERSCORE_EXACT  # already lower case


def _secret_hint(hay: str, exact: bool) -> bool:
    for h in _HINT_EXACT if exact else _HINT_LOWER:
        if h in hay:
            return True
    return "_" in hay and (_UNDERSCORE_EXACT if exact else _UNDERSCORE_LOWER).search(hay) is not None


# An AWS secret access key has no prefix of its own: 40 characters of [A-Za-z0-9/+], and DP305
# has no pattern for it. Display masking takes such a run (a whole run, not part of a longer one)
# when it mixes upper case, lower case, digits and "/" or "+" (random base64: 72% of keys hold
# a "/" or "+"), and, in a text that also names AWS credentials (an access key id, a "secret
# access key" / "aws_secret" label), any such run with a digit and a letter. A SHA-1 digest next
# to a key id is masked too: harmless on a screen.
_AWS_CONTEXT = re.compile(r"\b(?:akia|asia)[0-9a-z]{16}\b|secret.?access.?key|aws.?secret")  # on lower-cased text
_RUN_40 = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _aws_secret_like(s: str, context: bool) -> bool:
    digit = any(c.isdigit() for c in s)
    if context:
        return digit and not s.isdigit()
    return digit and ("/" in s or "+" in s) and not s.islower() and not s.isupper()


# What a text needs for a phone, card or IBAN match: four digits with at most one separator
# between each (every phone and card match holds such a run) or an IBAN's country code and check
# digits. Led by \d, so the search skips to digits; run only when the text has a digit at all.
_NUMBER_HINT = re.compile(r"\d(?:[ .\-]?\d){3}|\d\d(?<=[A-Z][A-Z]\d\d)")
_DIGIT_CHARS = "0123456789"


def mask_secrets(text: str, replace: str | Callable[[str], str] | None = None, *,
                 exact: bool = False) -> tuple[str, int]:
    """``text`` with every secret replaced; returns (text, secrets masked).

    ``replace``: a fixed string, a function of the matched secret, or None for the validator's
    form (``mask_secret``: the first 4 characters and the length). ``exact``: only what DP305
    finds, case-sensitively (for the user's data); otherwise any letter case.
    """
    hay = text if exact else text.lower()
    runs = not exact and len(text) >= 40 and ("/" in text or "+" in text or "akia" in hay or "asia" in hay
                                              or "secret" in hay)
    if not runs and not _secret_hint(hay, exact):
        return text, 0
    if replace is None:
        replace = mask_secret
    repl = (lambda m: replace(m.group(0))) if callable(replace) else replace.replace("\\", "\\\\")
    total = 0
    if runs:  # before the key id becomes its mask, which would leave no context to find
        context = _AWS_CONTEXT.search(hay) is not None
        n = 0

        def aws(m: re.Match) -> str:
            nonlocal n
            if _aws_secret_like(m.group(0), context):
                n += 1
                return replace(m.group(0)) if callable(replace) else replace
            return m.group(0)

        text = _RUN_40.sub(aws, text)
        total = n
    for _ in range(4):  # a replacement cannot create a new match, but be sure
        n_round = 0
        for rx in _EXACT if exact else _ANY_CASE:
            text, n = rx.subn(repl, text)
            n_round += n
        if not n_round:
            break
        total += n_round
    return text, total


def _card(m: re.Match, placeholder: bool) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if 13 <= len(digits) <= 19 and _luhn_ok(digits) and len(set(digits)) > 2:  # as DP304 decides
        return PII_PLACEHOLDERS["card"] if placeholder else mask_pii("card", digits)
    return m.group(0)


def _phone(m: re.Match, placeholder: bool) -> str:
    s = m.group(0)
    if sum(c.isdigit() for c in s) >= 9:
        return PII_PLACEHOLDERS["phone"] if placeholder else mask_pii("phone", s)
    return s


def _iban(m: re.Match, placeholder: bool) -> str:
    s = m.group(0)
    if _iban_ok(s):
        return PII_PLACEHOLDERS["iban"] if placeholder else mask_pii("iban", s.replace(" ", ""))
    return s


def redact(text: str, *, style: str = "mask") -> str:
    """``text`` with every secret and every piece of personal data masked (module doc).

    ``style``: "mask" (the validator's forms, ``AKIA…(20 chars)``, ``j***@example.com``) or
    "placeholder" (one word each, for text that is cut into words next).
    """
    if not isinstance(text, str) or not text:
        return text
    placeholder = style == "placeholder"
    text, _ = mask_secrets(text, PLACEHOLDER if placeholder else None)
    if "@" in text:
        text = _EMAIL.sub(PII_PLACEHOLDERS["email"] if placeholder else (lambda m: mask_pii("email", m.group(0))),
                          text)
    if not any(d in text for d in _DIGIT_CHARS) or not _NUMBER_HINT.search(text):
        return text
    # IBANs and cards before phones: their digit groups also look like a phone number
    text = _IBAN.sub(lambda m: _iban(m, placeholder), text)
    text = _CARD.sub(lambda m: _card(m, placeholder), text)
    return _PHONE.sub(lambda m: _phone(m, placeholder), text)


def redact_tree(value):
    """A copy of a JSON-like value (dicts, lists, strings) with ``redact`` applied to every string,
    keys included; numbers and the rest unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_tree(k) if isinstance(k, str) else k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v) for v in value]
    return value
