"""Which dataset format one record is in, judged by its keys."""

from __future__ import annotations

from collections import Counter

OPENAI_CHAT = "openai-chat"
OPENAI_DPO = "openai-dpo"
ALPACA = "alpaca"
SHAREGPT = "sharegpt"
SHAREGPT_DPO = "sharegpt-dpo"
PROMPT_COMPLETION = "prompt-completion"
PREFERENCE_COLUMNS = "prompt-chosen-rejected"
TEXT = "text"
UNKNOWN = "unknown"

# Formats we train on directly; the rest are recognised so we can point at `dataprep convert`.
TRAINABLE = frozenset({OPENAI_CHAT, OPENAI_DPO})
CONVERTIBLE = frozenset({ALPACA, SHAREGPT, SHAREGPT_DPO, PROMPT_COMPLETION, PREFERENCE_COLUMNS})

LABELS = {
    OPENAI_CHAT: "OpenAI chat",
    OPENAI_DPO: "OpenAI preference (DPO)",
    ALPACA: "Alpaca (instruction/input/output)",
    SHAREGPT: "ShareGPT (conversations with from/value)",
    SHAREGPT_DPO: "ShareGPT preference (conversations, chosen, rejected)",
    PROMPT_COMPLETION: "legacy prompt/completion",
    PREFERENCE_COLUMNS: "prompt/chosen/rejected preference columns",
    TEXT: "plain text records",
    UNKNOWN: "unknown",
}


def detect(record: object) -> str:
    """The format of one parsed record (``unknown`` when nothing matches)."""
    if not isinstance(record, dict):
        return UNKNOWN
    if "messages" in record:
        return OPENAI_CHAT
    if "preferred_output" in record or "non_preferred_output" in record:
        return OPENAI_DPO
    if "conversations" in record:
        return SHAREGPT_DPO if ("chosen" in record and "rejected" in record) else SHAREGPT
    if "instruction" in record and "output" in record:
        return ALPACA
    if "prompt" in record and "chosen" in record and "rejected" in record:
        return PREFERENCE_COLUMNS
    if "prompt" in record and "completion" in record:
        return PROMPT_COMPLETION
    if "text" in record and len(record) <= 2:
        return TEXT
    return UNKNOWN


def majority(counts: Counter) -> str:
    """The file's format: the most common known format, else openai-chat (what we check against)."""
    known = [(n, f) for f, n in counts.items() if f != UNKNOWN]
    if not known:
        return OPENAI_CHAT
    known.sort(key=lambda t: (-t[0], t[1]))
    return known[0][1]
