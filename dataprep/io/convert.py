"""Convert Alpaca, ShareGPT, prompt/completion and preference data to OpenAI chat / preference JSONL.

Every input record ends in exactly one place: one line of the output, or one line of the rejects
file (``{"source_line": N, "reason": ..., "record": <original>}``). Each converted record is run
through the validator's own per-line checks (``validate.check_line``) before it is written; a
record that would still carry an error-severity finding goes to the rejects file with those
findings instead, so the output is clean by construction.

Sources (``source``; ``auto`` decides per record):

- ``alpaca``: instruction / input / output, optional system and history ([[user, assistant], ...]).
  Empty-input markers (``<noinput>``, ``No input``, ``N/A``, ``""``) are dropped; instruction and
  input are joined with a blank line.
- ``sharegpt``: ``conversations`` of ``{from, value}`` turns. human → user, gpt → assistant,
  system → system, function_call → an assistant message with ``tool_calls`` (ids ``call_<line>_<n>``,
  deterministic), observation → ``tool`` messages linked by ``tool_call_id``. ``tools`` (a JSON
  string or a list) becomes OpenAI ``tools``; a top-level ``system`` becomes the system message.
- ``prompt-completion``: prompt → user, completion → assistant.
- ``sharegpt-dpo`` (conversations + chosen/rejected) and ``preference`` (prompt/chosen/rejected
  columns; chosen/rejected as strings, one message, or message lists) → OpenAI preference format.
- ``openai`` / ``openai-dpo``: passed through (e.g. a JSON array of chat records → JSONL).
- ``{"text": ...}``: rejected, there is no prompt/response split to recover.

``mapping`` renames columns and speaker tags the way LLaMA-Factory's ``dataset_info.json`` does
(``columns``: prompt, query, response, system, history, messages, tools, chosen, rejected,
kto_tag, images, videos, audios; ``tags``: role_tag, content_tag, user_tag, assistant_tag,
system_tag, function_tag, observation_tag); ``dataset_spec`` reads that mapping from a
``dataset_info.json`` entry.

Column vocabularies recognised without a mapping: prompt ``instruction`` / ``prompt`` /
``question`` / ``query``; input ``input`` / ``context`` (Dolly); response ``output`` /
``completion`` / ``response`` / ``answer``. So Alpaca, Dolly (instruction/context/response),
question/answer, prompt/response and query/answer all convert as they are. Also recognised:

- ``llamafactory``: LLaMA-Factory's newer layout, ``messages`` whose ``content`` is a list of
  ``{"type": "text" | "tools" | "tool_calls", "value": ...}`` parts with a per-message
  ``loss_weight`` (assistant: 0 or 1 becomes OpenAI ``weight``; on other roles OpenAI trains on
  nothing, so it is dropped and counted); ``chosen_messages`` / ``rejected_messages`` pairs.
- ``oasst``: OpenAssistant message trees (``{"prompt": {"role": "prompter", "text", "replies":
  [...]}}``): one record, one conversation, following the top-ranked reply (rank 0) at each
  level; the alternatives not taken are counted. One-message-per-row OASST exports are rejected
  with the reason (a conversation spans several rows).
- KTO labels (``kto_tag``, from dataset_info): a false label gives the last assistant reply
  weight 0; an example whose only reply is undesirable is rejected (nothing to learn from it).

- ``vertex`` / ``bedrock-nova``: Vertex Gemini tuning lines (``contents``/``parts``, preference
  ``completions``) and Bedrock Nova ``bedrock-conversation-2024`` lines (DPO ``candidates``),
  read back to OpenAI chat / preference by ``targets``.

Targets beyond OpenAI (``--to vertex | bedrock-nova | trl``): each record is converted to OpenAI
chat or preference as above and checked, then ``targets.export`` writes it in the target's shape
or raises with the reason, which sends it to the rejects file like any other reject.

Input containers: JSONL, a whole-file JSON array, parquet and CSV/TSV (see ``records``).
An unrecognised record's reject reason, and the terminal summary, carry the ``--map`` that its
columns suggest.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dataprep.checks import formats as F
from dataprep.checks.base import short, type_name
from dataprep.checks.chat import ROLES
from dataprep.io import targets as T
from dataprep.io.atomic import AtomicWriter
from dataprep.io.reader import RawLine
from dataprep.io.records import TABULAR_SHAPES, SourceRecord, open_records, raw_text
from dataprep.schema.findings import Finding, Severity

# Sources this module recognises beyond the validator's formats (``formats.detect``).
LF_MESSAGES = "llamafactory"
LF_DPO = "llamafactory-dpo"
OASST_TREE = "oasst-tree"
OASST_ROW = "oasst-row"
LABELS = {
    **F.LABELS,
    LF_MESSAGES: "LLaMA-Factory messages (content parts, loss_weight)",
    LF_DPO: "LLaMA-Factory preference (chosen_messages, rejected_messages)",
    OASST_TREE: "OpenAssistant message trees",
    OASST_ROW: "OpenAssistant one message per row",
    **T.LABELS,
}

# --from names (CLI) → detection names
SOURCES = {
    "auto": None,
    "alpaca": F.ALPACA,
    "sharegpt": F.SHAREGPT,
    "sharegpt-dpo": F.SHAREGPT_DPO,
    "prompt-completion": F.PROMPT_COMPLETION,
    "preference": F.PREFERENCE_COLUMNS,
    F.PREFERENCE_COLUMNS: F.PREFERENCE_COLUMNS,
    "openai": F.OPENAI_CHAT,
    F.OPENAI_CHAT: F.OPENAI_CHAT,
    "openai-dpo": F.OPENAI_DPO,
    "llamafactory": LF_MESSAGES,
    "llamafactory-dpo": LF_DPO,
    "oasst": OASST_TREE,
    "vertex": T.VERTEX,  # chat or preference, per record (targets.refine)
    "bedrock-nova": T.NOVA,
}
TARGETS = {"openai": F.OPENAI_CHAT, F.OPENAI_CHAT: F.OPENAI_CHAT, "openai-dpo": F.OPENAI_DPO}
# --to names written through targets.export: the record goes through OpenAI form (and its checks) first.
EXPORT_TARGETS = T.EXPORT_TARGETS
PREFERENCE_SOURCES = frozenset({F.SHAREGPT_DPO, F.PREFERENCE_COLUMNS, F.OPENAI_DPO, LF_DPO, T.VERTEX_PREF, T.NOVA_DPO})
CONVERTIBLE = F.CONVERTIBLE | {LF_MESSAGES, LF_DPO, OASST_TREE} | set(T.IMPORTS)

# Logical column / tag names accepted by ``mapping`` (LLaMA-Factory's names first, then aliases).
COLUMN_KEYS = {
    "prompt": "prompt", "instruction": "prompt", "question": "prompt",
    "query": "query", "input": "query", "context": "query",
    "response": "response", "output": "response", "completion": "response", "answer": "response",
    "system": "system", "history": "history",
    "messages": "messages", "conversations": "messages",
    "tools": "tools", "chosen": "chosen", "rejected": "rejected",
    "kto_tag": "kto_tag", "images": "images", "videos": "videos", "audios": "audios",
}
TAG_KEYS = ("role_tag", "content_tag", "user_tag", "assistant_tag", "system_tag", "function_tag", "observation_tag")
MAPPING_KEYS = tuple(COLUMN_KEYS) + TAG_KEYS

_DEFAULT_COLUMNS = {
    # Order decides when a record has two of them: the more specific name first.
    "prompt": ("instruction", "prompt", "question", "query"),
    "query": ("input", "context"),
    "response": ("output", "completion", "response", "answer"),
    "system": ("system",),
    "history": ("history",),
    "messages": ("conversations", "messages"),
    "tools": ("tools",),
    "chosen": ("chosen",),
    "rejected": ("rejected",),
    "kto_tag": (),  # only from a mapping: "label" is too common a name to guess
    "images": ("images",),
    "videos": ("videos",),
    "audios": ("audios",),
}
# Which logical columns each source reads (the per-column report names only these).
_SOURCE_COLUMNS = {
    F.ALPACA: ("prompt", "query", "response", "system", "history"),
    F.PROMPT_COMPLETION: ("prompt", "query", "response", "system", "history"),
    F.SHAREGPT: ("messages", "system", "tools"),
    F.SHAREGPT_DPO: ("messages", "system", "tools", "chosen", "rejected"),
    F.PREFERENCE_COLUMNS: ("prompt", "query", "system", "history", "tools", "chosen", "rejected"),
}
_ALWAYS_COLUMNS = ("kto_tag", "images", "videos", "audios")
_MEDIA = ("images", "videos", "audios")
# Speaker tag → what it becomes. "call" = assistant tool call, "observation" = tool result.
_DEFAULT_TAGS = {
    "human": "user", "user": "user",
    "prompter": "user",  # OpenAssistant
    "gpt": "assistant", "assistant": "assistant", "model": "assistant", "chatgpt": "assistant",
    "bard": "assistant", "bing": "assistant",
    "system": "system",
    "function_call": "call", "observation": "observation", "tool": "observation",
}
_TAG_ROLE = {"user_tag": "user", "assistant_tag": "assistant", "system_tag": "system",
             "function_tag": "call", "observation_tag": "observation"}

# Alpaca's many ways of saying "no input" / "no output": `<noinput>`, "No input.", "< noinput >",
# "NoInput", "N/A", ... compared after lower-casing and dropping spaces, brackets, quotes, dots.
_MARKER_NOISE = re.compile(r"[\s<>`'\"._\-\[\]()]")
EMPTY_INPUT_MARKERS = frozenset({"", "noinput", "n/a"})
EMPTY_OUTPUT_MARKERS = frozenset({"nooutput", "n/a"})


def _marker(s: str) -> str:
    return _MARKER_NOISE.sub("", s.lower()) if len(s) <= 40 else s

TEXT_REASON = "plain text has no prompt/response split; not convertible to chat"


class MappingError(ValueError):
    """A bad ``--map`` entry (unknown field name, empty column)."""


class _Reject(Exception):
    def __init__(self, reason: str, kind: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind or reason


@dataclass
class ConvertResult:
    in_path: str
    out_path: str
    rejects_path: str | None
    shape: str = "jsonl"  # input container: jsonl, json-array, parquet, csv or tsv
    target: str | None = None  # openai-chat / openai-dpo (None: nothing convertible was found)
    records: int = 0  # input records (blank JSONL lines are not records)
    written: int = 0
    rejected: int = 0
    blank_lines: int = 0
    sources: Counter = field(default_factory=Counter)  # detected source format → records
    reject_kinds: Counter = field(default_factory=Counter)  # short reason → records
    reject_examples: dict[str, list[int]] = field(default_factory=dict)  # short reason → first source lines
    empty_inputs_normalised: int = 0  # Alpaca inputs that were an empty-input marker
    output_warnings: Counter = field(default_factory=Counter)  # warning/info rule → count, in written lines
    columns: Counter = field(default_factory=Counter)  # (logical field, column) → records that had it
    unused_columns: Counter = field(default_factory=Counter)  # column no converter read → records
    map_hints: Counter = field(default_factory=Counter)  # suggested --map for unrecognised records → records
    oasst_alternatives: int = 0  # OASST replies not on the top-ranked branch (not in the output)
    oasst_unanswered: int = 0  # trailing OASST prompter turns with no reply (dropped)
    kto_undesirable: int = 0  # KTO-false replies written with weight 0
    target_notes: Counter = field(default_factory=Counter)  # what --to vertex/bedrock-nova/trl left out, and why
    openai_shape: str | None = None  # with such a --to: the OpenAI form each record was checked in
    ignored_loss_weights: int = 0  # non-zero loss_weight on user/system/tool messages (OpenAI: never trained)

    @property
    def by_row(self) -> bool:
        """Records are numbered by table row (parquet / CSV), not by line."""
        return self.shape in TABULAR_SHAPES

    @property
    def accounted(self) -> bool:
        """Every input record is in the output or in the rejects file."""
        return self.records == self.written + self.rejected

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def to_dict(self) -> dict:
        return {
            "input": self.in_path, "output": self.out_path, "rejects": self.rejects_path,
            "input_shape": self.shape, "target": self.target, "records": self.records,
            "written": self.written, "rejected": self.rejected, "blank_lines": self.blank_lines,
            "sources": dict(self.sources), "rejected_by_reason": dict(self.reject_kinds),
            "reject_examples": self.reject_examples, "empty_inputs_normalised": self.empty_inputs_normalised,
            "output_errors": 0, "output_warnings": dict(self.output_warnings),
            "record_numbers": "rows" if self.by_row else "lines",
            "columns": _column_dict(self.columns), "unused_columns": dict(self.unused_columns),
            "suggested_maps": dict(self.map_hints),
            "oasst_alternatives_not_used": self.oasst_alternatives,
            "oasst_unanswered_turns_dropped": self.oasst_unanswered,
            "kto_undesirable_weight_0": self.kto_undesirable,
            "loss_weights_dropped": self.ignored_loss_weights,
            "target_notes": dict(self.target_notes), "checked_as": self.openai_shape,
            "accounted": self.accounted,
        }


def _column_dict(columns: Counter) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (logical, col), n in sorted(columns.items()):
        out.setdefault(logical, {})[col] = n
    return out


# ---------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------

def parse_mapping(items: list[str] | dict | None) -> dict[str, str]:
    """``["prompt=question", "response=answer"]`` (or a dict) → normalised {logical: column}."""
    if not items:
        return {}
    pairs = items.items() if isinstance(items, dict) else []
    if not isinstance(items, dict):
        parsed = []
        for item in items:
            for part in str(item).split(","):
                part = part.strip()
                if not part:
                    continue
                key, sep, value = part.partition("=")
                if not sep:
                    raise MappingError(f"--map {part!r}: expected FIELD=COLUMN")
                parsed.append((key.strip(), value.strip()))
        pairs = parsed
    out: dict[str, str] = {}
    for key, value in pairs:
        k = key.lower().replace("-", "_")
        if k in COLUMN_KEYS:
            k = COLUMN_KEYS[k]
        elif k not in TAG_KEYS:
            raise MappingError(f"--map {key}: unknown field; use one of {', '.join(MAPPING_KEYS)}")
        if not isinstance(value, str) or not value:
            raise MappingError(f"--map {key}: empty column/tag name")
        out[k] = value
    return out


class _Columns:
    """Column and tag names for one conversion: the mapping first, then the usual names."""

    def __init__(self, mapping: dict[str, str]):
        self.mapped = mapping
        self.cols = {k: ((mapping[k],) if k in mapping else ()) + v for k, v in _DEFAULT_COLUMNS.items()}
        self.role_keys = ((mapping["role_tag"],) if "role_tag" in mapping else ()) + ("from", "role")
        self.content_keys = ((mapping["content_tag"],) if "content_tag" in mapping else ()) + ("value", "content")
        self.tags = dict(_DEFAULT_TAGS)
        for key, role in _TAG_ROLE.items():
            if key in mapping:
                self.tags[mapping[key]] = role

    def key(self, rec: dict, logical: str) -> str | None:
        for k in self.cols[logical]:
            if k in rec:
                return k
        return None

    def get(self, rec: dict, logical: str):
        k = self.key(rec, logical)
        return None if k is None else rec[k]

    def has(self, rec: dict, logical: str) -> bool:
        return self.key(rec, logical) is not None

    def names(self, logical: str) -> str:
        return " / ".join(repr(k) for k in self.cols[logical])


def _lf_message(m: object) -> bool:
    """A LLaMA-Factory (newer layout) message: content parts with ``value``, or a ``loss_weight``."""
    if not isinstance(m, dict):
        return False
    if "loss_weight" in m:
        return True
    c = m.get("content")
    return isinstance(c, list) and bool(c) and all(isinstance(p, dict) and "value" in p for p in c)


def _is_oasst_tree(rec: dict) -> bool:
    root = rec.get("prompt")
    if isinstance(root, dict) and "text" in root and "role" in root:
        return True
    return "text" in rec and "role" in rec and "replies" in rec  # a tree whose root is the record


def detect_source(rec: object, cols: _Columns) -> str:
    """The source format of one record, mapping-aware (a superset of ``formats.detect``)."""
    if not isinstance(rec, dict):
        return F.UNKNOWN
    m = cols.mapped
    pref = cols.has(rec, "chosen") and cols.has(rec, "rejected")
    if "messages" in m and m["messages"] in rec:
        return F.SHAREGPT_DPO if pref else F.SHAREGPT
    if "prompt" in m and m["prompt"] in rec:
        if pref and not cols.has(rec, "response"):
            return F.PREFERENCE_COLUMNS
        if not cols.has(rec, "response") and not any(isinstance(v, str) and v.strip() for k, v in rec.items()
                                                      if k != m["prompt"]):
            return F.TEXT  # a pre-training corpus mapped as prompt only (LLaMA-Factory's c4_demo)
        return F.ALPACA
    if "chosen_messages" in rec and "rejected_messages" in rec:
        return LF_DPO
    if _is_oasst_tree(rec):
        return OASST_TREE
    if {"message_id", "parent_id", "role", "text"} <= rec.keys():
        return OASST_ROW
    shape = T.detect(rec)  # Vertex contents/parts, Nova schemaVersion or content blocks
    if shape is not None:
        return shape
    fmt = F.detect(rec)
    if fmt == F.OPENAI_CHAT:
        msgs = rec.get("messages")
        if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict):
            if any(_lf_message(x) for x in msgs):
                return LF_MESSAGES
            # LLaMA-Factory's "messages" column in from/value style is ShareGPT, not OpenAI.
            if "role" not in msgs[0] and any(k in msgs[0] for k in cols.role_keys):
                return F.SHAREGPT_DPO if pref else F.SHAREGPT
            # Speaker names OpenAI does not know but a tag table does (OASST's "prompter").
            if any(isinstance(x, dict) and isinstance(x.get("role"), str) and x["role"] not in ROLES
                   and x["role"] in cols.tags for x in msgs):
                return F.SHAREGPT_DPO if pref else F.SHAREGPT
        return fmt
    if fmt not in (F.UNKNOWN, F.TEXT):
        return fmt
    if cols.has(rec, "prompt"):
        if pref:
            return F.PREFERENCE_COLUMNS  # also Alpaca-style ranking data: instruction/input/chosen/rejected
        if cols.has(rec, "response"):
            return F.ALPACA
    if "messages" in m and cols.has(rec, "messages"):
        return F.SHAREGPT
    return fmt


# Column names that suggest a prompt or a reply, for the --map hint of an unrecognised record.
_PROMPT_HINTS = ("instruction", "question", "query", "prompt", "problem", "request", "input", "human",
                 "user", "source", "src", "context", "title")
_RESPONSE_HINTS = ("response", "answer", "output", "completion", "reply", "solution", "target", "tgt",
                   "assistant", "bot", "gpt", "chosen")
_ROLE_NAMES = ("from", "role", "speaker", "author", "sender", "who", "type")


def _arg(value: str) -> str:
    return shlex.quote(value)


def suggest_map(rec: object) -> str | None:
    """The ``--map`` options this record's columns suggest (None: nothing plausible)."""
    if not isinstance(rec, dict):
        return None
    for key, v in rec.items():  # a list of turn objects: a conversation column
        if not (isinstance(v, list) and v and all(isinstance(t, dict) for t in v[:50])):
            continue
        turns = v[:50]
        shared = [k for k in turns[0] if all(k in t for t in turns)]
        texts = [k for k in shared if all(isinstance(t[k], str) for t in turns)]
        if len(texts) < 2:
            continue
        roleish = [k for k in texts if len({t[k] for t in turns}) <= 8 and max(len(t[k]) for t in turns) <= 32]
        role = next((k for k in _ROLE_NAMES if k in roleish), roleish[0] if roleish else None)
        if role is None:
            continue
        content = max((k for k in texts if k != role), key=lambda k: sum(len(t[k]) for t in turns))
        parts = [f"messages={_arg(key)}"]
        if role not in ("from", "role"):
            parts.append(f"role_tag={_arg(role)}")
        if content not in ("value", "content"):
            parts.append(f"content_tag={_arg(content)}")
        speakers = list(dict.fromkeys(t[role] for t in turns))
        unknown = [x for x in speakers if x not in _DEFAULT_TAGS]
        known_roles = {_DEFAULT_TAGS[x] for x in speakers if x in _DEFAULT_TAGS}
        for tag_key, r in (("user_tag", "user"), ("assistant_tag", "assistant")):
            if unknown and r not in known_roles:
                parts.append(f"{tag_key}={_arg(unknown.pop(0))}")
        return " ".join(f"--map {p}" for p in parts)
    strings = [k for k, v in rec.items() if isinstance(v, str) and v.strip()]

    def named(hints: tuple[str, ...], exclude: str | None) -> str | None:
        for h in hints:
            for k in strings:
                if k != exclude and h in k.lower():
                    return k
        return None

    prompt = named(_PROMPT_HINTS, None)
    response = named(_RESPONSE_HINTS, prompt)
    if prompt is None and response is not None:
        prompt = next((k for k in strings if k != response), None)
    if response is None and prompt is not None:
        # the longest other text column is the likeliest reply
        rest = [k for k in strings if k != prompt]
        response = max(rest, key=lambda k: len(rec[k])) if rest else None
    if prompt is None and response is None and len(strings) >= 2:
        prompt, response = strings[0], strings[1]
    if prompt is None or response is None:
        return None
    return f"--map prompt={_arg(prompt)} --map response={_arg(response)}"


# ---------------------------------------------------------------------------------------------
# Record converters: each returns the output record or raises _Reject
# ---------------------------------------------------------------------------------------------

def _text(value, what: str, kind: str | None = None) -> str:
    if isinstance(value, str):
        return value.strip()
    raise _Reject(f"{what} is {type_name(value)}, not text", kind or f"{what.split()[0]} is not text")


class _Ctx:
    """Per-record state: the source line (for deterministic tool call ids) and counters."""

    def __init__(self, line: int, cols: _Columns, result: ConvertResult):
        self.line = line
        self.cols = cols
        self.result = result
        self.calls = 0

    def call_id(self) -> str:
        self.calls += 1
        return f"call_{self.line}_{self.calls}"


def _system_message(rec: dict, ctx: _Ctx) -> list[dict]:
    s = ctx.cols.get(rec, "system")
    if s is None:
        return []
    s = _text(s, "system", "system is not text")
    return [{"role": "system", "content": s}] if s else []


def _instruction_prompt(rec: dict, ctx: _Ctx) -> str:
    """Alpaca instruction + input (markers dropped), joined with a blank line."""
    cols = ctx.cols
    key = cols.key(rec, "prompt")
    if key is None:
        raise _Reject(f"no instruction column (looked for {cols.names('prompt')})", "no instruction column")
    instr = _text(rec[key], key)
    inp = cols.get(rec, "query")
    if inp is None:
        inp = ""
    inp = _text(inp, cols.key(rec, "query") or "input")
    if _marker(inp) in EMPTY_INPUT_MARKERS:
        if inp:
            ctx.result.empty_inputs_normalised += 1
        inp = ""
    if instr and inp:
        return f"{instr}\n\n{inp}"
    return instr or inp


def _history(rec: dict, ctx: _Ctx) -> list[dict]:
    h = ctx.cols.get(rec, "history")
    if h is None or h == []:
        return []
    if not isinstance(h, list):
        raise _Reject(f"history is {type_name(h)}; expected a list of [instruction, response] pairs", "bad history")
    out = []
    for i, pair in enumerate(h):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise _Reject(f"history[{i}] is not an [instruction, response] pair", "bad history")
        out.append({"role": "user", "content": _text(pair[0], f"history[{i}][0]", "bad history")})
        out.append({"role": "assistant", "content": _text(pair[1], f"history[{i}][1]", "bad history")})
    return out


def convert_alpaca(rec: dict, ctx: _Ctx) -> dict:
    """Alpaca and legacy prompt/completion (the same shape with other column names)."""
    cols = ctx.cols
    prompt = _instruction_prompt(rec, ctx)
    rkey = cols.key(rec, "response")
    if rkey is None:
        pkey = cols.key(rec, "prompt")
        if not any(isinstance(v, str) and v.strip() for k, v in rec.items() if k != pkey):
            raise _Reject(TEXT_REASON, "plain text record")  # e.g. a pre-training {"text": ...} corpus
        raise _Reject(f"no output column (looked for {cols.names('response')})", "no output column")
    out = rec[rkey]
    if isinstance(out, list):
        raise _Reject(f"{rkey} is a list (ranking data?); use chosen/rejected columns and --to openai-dpo",
                      "output is a list")
    out = _text(out, rkey)
    if out and _marker(out) in EMPTY_OUTPUT_MARKERS:
        raise _Reject(f"{rkey} is the empty-output marker {out!r}: nothing to train on", "empty-output marker")
    msgs = _system_message(rec, ctx) + _history(rec, ctx)
    msgs.append({"role": "user", "content": prompt})
    msgs.append({"role": "assistant", "content": out})
    return {"messages": msgs}


def _tools(rec: dict, ctx: _Ctx) -> list[dict] | None:
    return _parse_tools(ctx.cols.get(rec, "tools"))


def _parse_tools(t) -> list[dict] | None:
    if t is None or (isinstance(t, str) and not t.strip()):
        return None
    if isinstance(t, str):
        try:
            t = orjson.loads(t)
        except orjson.JSONDecodeError as e:
            raise _Reject(f"tools is a string but not valid JSON ({e.msg})", "tools not valid JSON") from None
    if isinstance(t, dict):
        t = [t]
    if not isinstance(t, list):
        raise _Reject(f"tools is {type_name(t)}; expected a list of function definitions", "bad tools")
    out = []
    for i, tool in enumerate(t):
        if not isinstance(tool, dict):
            raise _Reject(f"tools[{i}] is {type_name(tool)}, not a function definition", "bad tools")
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            out.append(tool)
        elif "name" in tool:
            out.append({"type": "function",
                        "function": {k: tool[k] for k in ("name", "description", "parameters") if k in tool}})
        else:
            raise _Reject(f"tools[{i}] has no function name", "bad tools")
    return out or None


def _arguments(args, where: str) -> str:
    if args is None:
        return "{}"
    if isinstance(args, dict):
        return orjson.dumps(args).decode()
    if isinstance(args, str):
        try:
            parsed = orjson.loads(args) if args.strip() else {}
        except orjson.JSONDecodeError:
            raise _Reject(f"{where}: arguments is not valid JSON", "bad function call") from None
        if not isinstance(parsed, dict):
            raise _Reject(f"{where}: arguments must be a JSON object, not {type_name(parsed)}", "bad function call")
        return args if args.strip() else "{}"
    raise _Reject(f"{where}: arguments must be an object, not {type_name(args)}", "bad function call")


def _tool_calls(value, where: str, ctx: _Ctx) -> list[dict]:
    """A ShareGPT function_call value (JSON text or already parsed): one call or a list of calls."""
    v = value
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            raise _Reject(f"{where}: function_call value is not JSON {{\"name\", \"arguments\"}}",
                          "bad function call") from None
    calls = v if isinstance(v, list) else [v]
    if not calls:
        raise _Reject(f"{where}: function_call holds no call", "bad function call")
    out = []
    for c in calls:
        if not isinstance(c, dict):
            raise _Reject(f"{where}: function_call is {type_name(c)}, not {{name, arguments}}", "bad function call")
        fn = c.get("function") if isinstance(c.get("function"), dict) else c
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise _Reject(f"{where}: function_call without a name", "bad function call")
        args = fn.get("arguments", fn.get("parameters"))
        out.append({"id": ctx.call_id(), "type": "function",
                    "function": {"name": name, "arguments": _arguments(args, where)}})
    return out


def _turns(turns, ctx: _Ctx, what: str) -> list[dict]:
    """ShareGPT turns (or OpenAI messages, passed through) → OpenAI messages."""
    if not isinstance(turns, list):
        raise _Reject(f"{what} is {type_name(turns)}, not a list of turns", f"{what} not a list")
    cols = ctx.cols
    msgs: list[dict] = []
    pending: list[str] = []  # ids of the latest calls still waiting for their observation
    for i, turn in enumerate(turns):
        where = f"{what}[{i}]"
        if not isinstance(turn, dict):
            raise _Reject(f"{where} is {type_name(turn)}, not an object", "turn not an object")
        rk = next((k for k in cols.role_keys if k in turn), None)
        if rk == "role" and "role_tag" not in cols.mapped and turn.get("role") in ROLES:
            msgs.append(dict(turn))  # already an OpenAI message
            if turn.get("role") == "assistant" and isinstance(turn.get("tool_calls"), list):
                pending = [c.get("id") for c in turn["tool_calls"] if isinstance(c, dict)]
            continue
        if rk is None:
            raise _Reject(f"{where} has no speaker ({' / '.join(cols.role_keys)})", "turn without speaker")
        tag = turn[rk]
        role = cols.tags.get(tag) if isinstance(tag, str) else None
        if role is None:
            raise _Reject(f"{where}: unknown speaker {short(tag)!r} (map it with --map user_tag=... / "
                          "assistant_tag=...)", "unknown speaker")
        ck = next((k for k in cols.content_keys if k in turn), None)
        value = turn[ck] if ck is not None else None
        if role == "call":
            calls = _tool_calls(value, where, ctx)
            msgs.append({"role": "assistant", "tool_calls": calls})
            pending = [c["id"] for c in calls]
            continue
        if ck is None:
            raise _Reject(f"{where} has no text ({' / '.join(cols.content_keys)})", "turn without text")
        if role == "observation":
            if not pending:
                raise _Reject(f"{where}: observation answers no function call", "orphan observation")
            nxt = turns[i + 1] if i + 1 < len(turns) else None
            nxt_tag = next((nxt.get(k) for k in cols.role_keys if k in nxt), None) if isinstance(nxt, dict) else None
            next_is_obs = isinstance(nxt_tag, str) and cols.tags.get(nxt_tag) == "observation"
            if len(pending) > 1 and not next_is_obs and isinstance(value, str):
                # One observation for several parallel calls: a JSON list with one result per call.
                try:
                    parts = orjson.loads(value)
                except orjson.JSONDecodeError:
                    parts = None
                if isinstance(parts, list) and len(parts) == len(pending):
                    for cid, part in zip(pending, parts):
                        text = part if isinstance(part, str) else orjson.dumps(part).decode()
                        msgs.append({"role": "tool", "tool_call_id": cid, "content": text.strip()})
                    pending = []
                    continue
            if not isinstance(value, str):
                value = orjson.dumps(value).decode() if isinstance(value, (dict, list)) else value
            msgs.append({"role": "tool", "tool_call_id": pending.pop(0), "content": _text(value, where)})
            continue
        pending = []
        msgs.append({"role": role, "content": _text(value, where, "turn text is not text")})
    return msgs


def convert_sharegpt(rec: dict, ctx: _Ctx) -> dict:
    conv = ctx.cols.get(rec, "messages")
    if conv is None:
        raise _Reject(f"no conversations column (looked for {ctx.cols.names('messages')})", "no conversations")
    msgs = _turns(conv, ctx, ctx.cols.key(rec, "messages") or "conversations")
    if not msgs:
        raise _Reject("conversations is empty", "empty conversation")
    if msgs[0].get("role") != "system":
        msgs = _system_message(rec, ctx) + msgs
    out: dict = {"messages": msgs}
    tools = _tools(rec, ctx)
    if tools:
        out["tools"] = tools
    return out


def _reply(value, ctx: _Ctx, what: str) -> tuple[list[dict], str]:
    """A chosen/rejected value → (implicit prompt messages, reply text)."""
    if isinstance(value, str):
        return [], value.strip()
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _Reject(f"{what} is {type_name(value) if not isinstance(value, list) else 'an empty list'}; expected "
                      "a reply string or message(s)", f"bad {what}")
    sub = _Ctx(ctx.line, ctx.cols, ctx.result)
    msgs = _turns(value, sub, what)
    last = msgs[-1]
    if last.get("role") != "assistant" or "tool_calls" in last:
        raise _Reject(f"{what} must end with one assistant text reply", f"bad {what}")
    content = last.get("content")
    if not isinstance(content, str):
        raise _Reject(f"{what}: the reply must be text (preference outputs are text only)", f"bad {what}")
    return msgs[:-1], content


def _preference(prompt_msgs: list[dict], tools, rec: dict, ctx: _Ctx, target: str) -> dict:
    cols = ctx.cols
    pre_c, chosen = _reply(cols.get(rec, "chosen"), ctx, "chosen")
    pre_r, rejected = _reply(cols.get(rec, "rejected"), ctx, "rejected")
    if pre_c or pre_r:
        if pre_c != pre_r:
            raise _Reject("chosen and rejected carry different conversations before the reply",
                          "chosen/rejected prompts differ")
        if not prompt_msgs:
            prompt_msgs = pre_c
        elif pre_c != prompt_msgs:
            raise _Reject("chosen repeats a conversation that differs from the prompt",
                          "chosen/rejected prompts differ")
    if not prompt_msgs:
        raise _Reject("no prompt: the preference pair has nothing to answer", "no prompt")
    return _pair(prompt_msgs, tools, chosen, rejected, target)


def convert_sharegpt_dpo(rec: dict, ctx: _Ctx, target: str) -> dict:
    conv = ctx.cols.get(rec, "messages")
    msgs = _turns(conv, ctx, ctx.cols.key(rec, "messages") or "conversations") if conv is not None else []
    if msgs and msgs[0].get("role") != "system":
        msgs = _system_message(rec, ctx) + msgs
    return _preference(msgs, _tools(rec, ctx), rec, ctx, target)


def convert_preference_columns(rec: dict, ctx: _Ctx, target: str) -> dict:
    cols = ctx.cols
    p = cols.get(rec, "prompt")
    if p is None or isinstance(p, str):
        msgs = []
        if p is not None:
            text = _instruction_prompt(rec, ctx)
            user = [{"role": "user", "content": text}] if text else []
            msgs = _system_message(rec, ctx) + _history(rec, ctx) + user
    else:
        msgs = _turns(p if isinstance(p, list) else [p], ctx, cols.key(rec, "prompt") or "prompt")
        if msgs and msgs[0].get("role") != "system":
            msgs = _system_message(rec, ctx) + msgs
    return _preference(msgs, _tools(rec, ctx), rec, ctx, target)


def _parts_message(m, where: str, ctx: _Ctx) -> tuple[dict | None, list[dict] | None]:
    """One LLaMA-Factory message → (OpenAI message or None for a tools-only system message, tools)."""
    if not isinstance(m, dict):
        raise _Reject(f"{where} is {type_name(m)}, not a message", "turn not an object")
    role = m.get("role")
    if role not in ("system", "user", "assistant", "tool"):
        raise _Reject(f"{where}: role {short(role)!r} is not system, user, assistant or tool", "unknown speaker")
    content = m.get("content")
    if isinstance(content, str):
        parts = [{"type": "text", "value": content}]
    elif isinstance(content, list):
        parts = content
    elif content is None:
        parts = []
    else:
        raise _Reject(f"{where}: content is {type_name(content)}, not text or a list of parts", "bad content")
    texts: list[str] = []
    calls: list[dict] = []
    tools = None
    for j, p in enumerate(parts):
        pw = f"{where}.content[{j}]"
        if not isinstance(p, dict):
            raise _Reject(f"{pw} is {type_name(p)}, not a {{type, value}} part", "bad content")
        kind = p.get("type", "text")
        value = p.get("value", p.get("text"))
        if kind == "text":
            if not isinstance(value, str):
                raise _Reject(f"{pw}: text part value is {type_name(value)}, not text", "turn text is not text")
            texts.append(value)
        elif kind == "tools":
            tools = _parse_tools(value)
        elif kind == "tool_calls":
            if role != "assistant":
                raise _Reject(f"{pw}: tool calls on a {role} message", "bad function call")
            calls.extend(_tool_calls(value, pw, ctx))
        elif kind == "reasoning":
            raise _Reject(f"{pw}: a reasoning part; OpenAI chat fine-tuning data has no place for it (put it in the "
                          "reply text or drop it)", "reasoning part")
        else:
            raise _Reject(f"{pw}: a {short(kind)!r} part; only text, tools and tool_calls parts convert",
                          "non-text content part")
    text = "".join(texts).strip()
    msg: dict = {"role": role}
    if calls:
        msg["tool_calls"] = calls
        if text:
            msg["content"] = text
    elif role == "system" and not text and tools:
        return None, tools
    else:
        msg["content"] = text
    lw = m.get("loss_weight")
    if lw is not None:
        if isinstance(lw, bool) or not isinstance(lw, (int, float)):
            raise _Reject(f"{where}: loss_weight is {type_name(lw)}, not a number", "bad loss_weight")
        if role == "assistant":
            if lw not in (0, 1):
                raise _Reject(f"{where}: loss_weight {lw}; OpenAI's per-message weight is 0 or 1 (set it to 0 or 1 "
                              "in the source, or drop the message)", "loss_weight not 0 or 1")
            msg["weight"] = int(lw)
        elif lw:
            ctx.result.ignored_loss_weights += 1
    return msg, tools


def _lf_messages(msgs, ctx: _Ctx, what: str) -> tuple[list[dict], list[dict] | None]:
    """LLaMA-Factory messages → OpenAI messages and tools; tool results follow their calls."""
    if not isinstance(msgs, list):
        raise _Reject(f"{what} is {type_name(msgs)}, not a list of messages", f"{what} not a list")
    out: list[dict] = []
    tools = None
    pending: list[str] = []
    for i, m in enumerate(msgs):
        msg, t = _parts_message(m, f"{what}[{i}]", ctx)
        tools = t or tools
        if msg is None:
            continue
        if msg["role"] == "tool":
            if not pending:
                raise _Reject(f"{what}[{i}]: tool result answers no tool call", "orphan observation")
            msg = {"role": "tool", "tool_call_id": pending.pop(0), "content": msg.get("content", "")}
        else:
            pending = [c["id"] for c in msg.get("tool_calls", [])]
        out.append(msg)
    return out, tools


def convert_lf_messages(rec: dict, ctx: _Ctx) -> dict:
    msgs, tools = _lf_messages(rec.get("messages"), ctx, "messages")
    if not msgs:
        raise _Reject("messages is empty", "empty conversation")
    out: dict = {"messages": msgs}
    if tools:
        out["tools"] = tools
    return out


def _pair(prompt_msgs: list[dict], tools, chosen: str, rejected: str, target: str) -> dict:
    """An OpenAI preference record (or, for chat, the prompt with the preferred reply)."""
    if target == F.OPENAI_CHAT:  # SFT on the preferred reply
        out: dict = {"messages": prompt_msgs + [{"role": "assistant", "content": chosen}]}
        if tools:
            out["tools"] = tools
        return out
    inp: dict = {"messages": prompt_msgs}
    if tools:
        inp["tools"] = tools
    return {"input": inp,
            "preferred_output": [{"role": "assistant", "content": chosen}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}]}


def convert_lf_dpo(rec: dict, ctx: _Ctx, target: str) -> dict:
    sides = []
    tools = None
    for what in ("chosen_messages", "rejected_messages"):
        msgs, t = _lf_messages(rec[what], ctx, what)
        tools = t or tools
        if not msgs or msgs[-1].get("role") != "assistant" or "tool_calls" in msgs[-1]:
            raise _Reject(f"{what} must end with one assistant text reply", f"bad {what}")
        prompt = [{k: v for k, v in x.items() if k != "weight"} for x in msgs[:-1]]
        sides.append((prompt, msgs[-1]["content"]))
    (p_c, chosen), (p_r, rejected) = sides
    if p_c != p_r:
        raise _Reject("chosen_messages and rejected_messages differ before the reply", "chosen/rejected prompts differ")
    if not p_c:
        raise _Reject("no prompt: the preference pair has nothing to answer", "no prompt")
    return _pair(p_c, tools, chosen, rejected, target)


_OASST_ROLES = {"prompter": "user", "user": "user", "assistant": "assistant", "system": "system"}


def _rank(node: dict, i: int) -> tuple:
    r = node.get("rank")
    ok = isinstance(r, (int, float)) and not isinstance(r, bool)
    return (not ok, r if ok else 0, i)  # ranked replies first, best (0) first, then file order


def convert_oasst_tree(rec: dict, ctx: _Ctx) -> dict:
    """The top-ranked branch of an OpenAssistant message tree as one conversation."""
    node = rec["prompt"] if isinstance(rec.get("prompt"), dict) else rec
    path: list[dict] = []
    alternatives = 0
    while True:
        if len(path) >= 1000:
            raise _Reject("message tree deeper than 1000 turns", "bad message tree")
        path.append(node)
        replies = node.get("replies") or []
        if not isinstance(replies, list):
            raise _Reject(f"replies at depth {len(path) - 1} is {type_name(replies)}, not a list", "bad message tree")
        live = [(i, r) for i, r in enumerate(replies) if isinstance(r, dict) and not r.get("deleted")]
        if not live:
            break
        alternatives += len(live) - 1
        node = min(live, key=lambda ir: _rank(ir[1], ir[0]))[1]
    msgs = []
    for depth, n in enumerate(path):
        role = _OASST_ROLES.get(n.get("role")) if isinstance(n.get("role"), str) else None
        if role is None:
            raise _Reject(f"message at depth {depth}: role {short(n.get('role'))!r} is not prompter or assistant",
                          "unknown speaker")
        msgs.append({"role": role, "content": _text(n.get("text"), f"message at depth {depth}: text",
                                                    "turn text is not text")})
    unanswered = 0
    while msgs and msgs[-1]["role"] != "assistant":
        msgs.pop()
        unanswered += 1
    if not msgs:
        raise _Reject("message tree has no assistant reply", "no assistant reply")
    ctx.result.oasst_alternatives += alternatives
    ctx.result.oasst_unanswered += unanswered
    return {"messages": msgs}


def _kto_label(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")  # CSV cells are text
    raise _Reject(f"KTO label is {short(value)!r}, not true or false", "bad KTO label")


def _apply_kto(out: dict, rec: dict, ctx: _Ctx) -> dict:
    """A false KTO label: the last assistant reply is kept as context with weight 0."""
    col = ctx.cols.mapped.get("kto_tag")
    if col is None or col not in rec or "messages" not in out:
        return out
    if _kto_label(rec[col]):
        return out
    msgs = out["messages"]
    last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=None)
    if last is None:
        raise _Reject("no assistant reply to label", "no assistant reply")
    msgs[last] = {**msgs[last], "weight": 0}
    if all(m.get("weight") == 0 for m in msgs if m.get("role") == "assistant"):
        raise _Reject("KTO label false on the only reply: an undesirable example, nothing in it to learn from by "
                      "supervised fine-tuning", "KTO undesirable reply")
    ctx.result.kto_undesirable += 1
    return out


def _check_media(rec: dict, ctx: _Ctx) -> None:
    for logical in _MEDIA:
        key = ctx.cols.key(rec, logical)
        v = rec[key] if key is not None else None
        if v:  # a non-empty list (or path)
            n = len(v) if isinstance(v, list) else 1
            raise _Reject(f"{key}: a multimodal example ({n} {logical[:-1]} file(s)); only text conversations "
                          "convert", "multimodal example")


def _convert_one(rec, fmt: str, target: str, ctx: _Ctx) -> dict:
    if isinstance(rec, dict) and fmt not in (F.TEXT, F.UNKNOWN, OASST_ROW):
        _check_media(rec, ctx)
    out = _dispatch(rec, fmt, target, ctx)
    if isinstance(rec, dict) and "kto_tag" in ctx.cols.mapped:
        if out is rec:  # a passed-through record: a copy without the label column
            out = {k: v for k, v in rec.items() if k != ctx.cols.mapped["kto_tag"]}
        out = _apply_kto(out, rec, ctx)
    return out


def _dispatch(rec, fmt: str, target: str, ctx: _Ctx) -> dict:
    if fmt == F.TEXT:
        raise _Reject(TEXT_REASON, "plain text record")
    if fmt == F.UNKNOWN or not isinstance(rec, dict):
        if not isinstance(rec, dict):
            raise _Reject(f"record is a JSON {type_name(rec)}, not an object", "not an object")
        keys = ", ".join(short(k, 30) for k in list(rec)[:8]) or "none"
        hint = suggest_map(rec)
        if hint:
            ctx.result.map_hints[hint] += 1
            raise _Reject(f"unrecognised record (keys: {keys}); its columns suggest: {hint}", "unrecognised format")
        raise _Reject(f"unrecognised record (keys: {keys}); name its format with --from or its columns with --map",
                      "unrecognised format")
    if fmt == OASST_ROW:
        raise _Reject("one OpenAssistant message per row: a conversation spans several rows; convert the "
                      "message-tree export (*.trees.jsonl) instead", "OASST message row")
    natural = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
    if natural == F.OPENAI_CHAT and target == F.OPENAI_DPO:
        raise _Reject(f"a {LABELS[fmt]} record has no rejected reply; it cannot become a preference pair",
                      "not preference data")
    if fmt == F.OPENAI_CHAT or fmt == F.OPENAI_DPO:
        if fmt != target:
            raise _Reject("an OpenAI preference record cannot be passed through to chat; convert it from its source",
                          "not chat data")
        return rec
    if fmt in (F.ALPACA, F.PROMPT_COMPLETION):
        return convert_alpaca(rec, ctx)
    if fmt == F.SHAREGPT:
        return convert_sharegpt(rec, ctx)
    if fmt == F.SHAREGPT_DPO:
        return convert_sharegpt_dpo(rec, ctx, target)
    if fmt == F.PREFERENCE_COLUMNS:
        return convert_preference_columns(rec, ctx, target)
    if fmt == LF_MESSAGES:
        return convert_lf_messages(rec, ctx)
    if fmt == LF_DPO:
        return convert_lf_dpo(rec, ctx, target)
    if fmt == OASST_TREE:
        return convert_oasst_tree(rec, ctx)
    if fmt in T.IMPORTS:
        try:
            return T.IMPORTS[fmt](rec, ctx.call_id)
        except T.Unexpressible as u:
            raise _Reject(u.reason, u.kind) from None
    raise _Reject(f"no converter for {fmt}", "unrecognised format")


# ---------------------------------------------------------------------------------------------
# The file-level driver
# ---------------------------------------------------------------------------------------------

def default_rejects_path(out_path: str) -> str:
    """``OUT`` with ``.rejects.jsonl`` in place of its extension (``out.jsonl`` → ``out.rejects.jsonl``)."""
    p = Path(out_path)
    name = p.name
    for ext in (".jsonl", ".ndjson", ".json"):
        if name.lower().endswith(ext):
            return str(p.with_name(name[: -len(ext)] + ".rejects.jsonl"))
    return str(p.with_name((p.stem if p.suffix else name) + ".rejects.jsonl"))


def _reasons(findings: list[Finding]) -> str:
    parts = []
    for f in findings:
        where = f" at {f.pointer}" if f.pointer else ""
        parts.append(f"{f.rule} {f.name}{where}: {f.message}")
    return "; ".join(parts)


def _finding_dicts(findings: list[Finding]) -> list[dict]:
    out = []
    for f in findings:
        d = {"rule": f.rule, "name": f.name, "severity": f.severity.value, "message": f.message}
        if f.pointer is not None:
            d["pointer"] = f.pointer
        if f.column is not None:
            d["column"] = f.column
        out.append(d)
    return out


def _json_default(o):
    """Values JSON has no type for (parquet binary, decimals): bytes as base64, the rest as text."""
    if isinstance(o, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(o)).decode("ascii")
    return str(o)


# Columns whose CSV cell may hold JSON (a conversation, message list or tool list written as text).
_JSON_CELL_LOGICAL = ("messages", "history", "chosen", "rejected")
_JSON_CELL_NAMES = ("chosen_messages", "rejected_messages", "preferred_output", "non_preferred_output", "input")


def _json_cells(rec: object, cols: _Columns) -> object:
    """CSV cells are text: parse the ones that hold a conversation or message list as JSON.

    Only structural columns, and only when the cell parses to the shape that column takes, so an
    Alpaca ``input`` that happens to read ``[1, 2]`` stays text.
    """
    if not isinstance(rec, dict):
        return rec
    keys = {k for lg in _JSON_CELL_LOGICAL for k in cols.cols[lg]} | set(_JSON_CELL_NAMES)
    out = dict(rec)
    for k, v in rec.items():
        if k not in keys or not isinstance(v, str) or v.lstrip()[:1] not in ("[", "{"):
            continue
        try:
            parsed = orjson.loads(v)
        except orjson.JSONDecodeError:
            continue
        if k == "input":
            ok = isinstance(parsed, dict) and "messages" in parsed  # OpenAI preference input
        else:
            ok = isinstance(parsed, list) and all(isinstance(x, (dict, list)) for x in parsed) or \
                (isinstance(parsed, dict) and ("role" in parsed or "from" in parsed))
        if ok:
            out[k] = parsed
    return out


def _count_columns(rec: dict, fmt: str, cols: _Columns, res: ConvertResult) -> None:
    """Which column fed which field, and which columns nothing read (the per-column report)."""
    used: dict[str, str] = {}
    if fmt in (F.OPENAI_CHAT, F.OPENAI_DPO):
        used = {k: k for k in rec}  # passed through as they are
    elif fmt == LF_MESSAGES:
        used = {"messages": "messages"}
    elif fmt == LF_DPO:
        used = {"chosen": "chosen_messages", "rejected": "rejected_messages"}
    elif fmt in T.IMPORTS:
        known = ("contents", "systemInstruction", "system_instruction", "tools", "completions", "schemaVersion",
                 "system", "messages")
        used = {k: k for k in rec if k in known}
    elif fmt == OASST_TREE:
        used = {"message tree": "prompt" if isinstance(rec.get("prompt"), dict) else "(the record)"}
        if "prompt" not in rec:
            used.update({k: k for k in ("text", "role", "replies") if k in rec})
    elif fmt in _SOURCE_COLUMNS:
        for logical in _SOURCE_COLUMNS[fmt]:
            k = cols.key(rec, logical)
            if k is not None:
                used[logical] = k
    for logical in _ALWAYS_COLUMNS:
        k = cols.mapped.get(logical) if logical == "kto_tag" else cols.key(rec, logical)
        if k is not None and k in rec:
            used[logical] = k
    if fmt in (F.UNKNOWN, F.TEXT, OASST_ROW):
        return  # the reject reason says what the record holds
    for logical, k in used.items():
        res.columns[(logical, k)] += 1
    seen = set(used.values())
    for k in rec:
        if k not in seen:
            res.unused_columns[k] += 1


def convert(in_path: str, out_path: str, *, source: str = "auto", target: str | None = None,
            rejects_path: str | None = None, mapping: list[str] | dict | None = None) -> ConvertResult:
    """Convert one file; see the module doc. Raises InputError (unreadable input), OSError
    (unwritable output), MappingError / ValueError (bad arguments)."""
    from dataprep.checks.lines import check_line

    if source not in SOURCES:
        names = ", ".join(k for k in SOURCES if k not in (F.PREFERENCE_COLUMNS, F.OPENAI_CHAT))
        raise ValueError(f"unknown source format {source!r}; use one of {names}")
    export = target if target in EXPORT_TARGETS else None
    if target is not None and target not in TARGETS and export is None:
        raise ValueError(f"unknown target format {target!r}; use openai, openai-dpo, "
                         + ", ".join(EXPORT_TARGETS))
    cols = _Columns(parse_mapping(mapping))
    forced = SOURCES[source]
    tgt = TARGETS[target] if target in TARGETS else None  # the OpenAI form; an export decides it from the data
    pick = target is None or export is not None  # the first convertible record decides chat or preference
    if rejects_path is None:
        if out_path == "-":
            raise ValueError("writing the output to stdout needs --rejects FILE for the records that do not convert")
        rejects_path = default_rejects_path(out_path)
    if out_path != "-" and rejects_path != "-" and Path(out_path).resolve() == Path(rejects_path).resolve():
        raise ValueError("the output and the rejects file must be different files")
    res = ConvertResult(in_path, out_path, rejects_path)
    stream = open_records(in_path)  # InputError before anything is written
    res.shape = stream.shape
    out = AtomicWriter(out_path)
    try:
        rej = AtomicWriter(rejects_path)
    except BaseException:
        out.abort()
        raise
    tgt_line = 0

    def reject(src: SourceRecord, reason: str, kind: str, findings: list[Finding] | None = None) -> None:
        res.rejected += 1
        res.reject_kinds[kind] += 1
        ex = res.reject_examples.setdefault(kind, [])
        if len(ex) < 5:
            ex.append(src.line)
        entry: dict = {"source_row" if res.by_row else "source_line": src.line, "reason": reason}
        if kind == "unrecognised format" and isinstance(src.value, dict):
            hint = suggest_map(src.value)
            if hint:
                entry["suggested_map"] = hint
        if findings:
            entry["findings"] = _finding_dicts(findings)
        if src.ok:
            entry["record"] = src.value
        else:
            text, enc = raw_text(src.raw)
            entry["record"] = text
            if enc:
                entry["record_encoding"] = enc
        try:
            data = orjson.dumps(entry, default=_json_default)
        except (orjson.JSONEncodeError, TypeError):
            import json

            data = json.dumps(entry, ensure_ascii=True, default=_json_default).encode()
        rej.write(data + b"\n")

    try:
        for src in stream.records:
            res.records += 1
            if not src.ok:
                res.sources["unparseable"] += 1
                reject(src, _reasons(src.findings), "invalid JSON" if any(f.rule == "DP102" for f in src.findings)
                       else src.findings[0].name, src.findings)
                continue
            rec = src.value
            if stream.shape in ("csv", "tsv"):
                rec = src.value = _json_cells(rec, cols)
            fmt = forced if (forced is not None and isinstance(rec, dict)) else detect_source(rec, cols)
            if forced in T.IMPORTS:
                fmt = T.refine(forced, rec)
            res.sources[fmt] += 1
            if isinstance(rec, dict):
                _count_columns(rec, fmt, cols, res)
            if src.errors:  # duplicate keys: which value wins is a guess; a person should decide
                reject(src, _reasons(src.errors), src.errors[0].name, src.errors)
                continue
            if tgt is None and fmt in F.TRAINABLE | CONVERTIBLE:
                tgt = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
                tgt_line = src.line
                res.target = T.shape(export, tgt == F.OPENAI_DPO) if export else tgt
                res.openai_shape = tgt if export else None
            try:
                if tgt is None:  # nothing convertible yet: this record is text / unknown, _convert_one says why
                    _convert_one(rec, fmt, F.OPENAI_CHAT, _Ctx(src.line, cols, res))
                    raise _Reject("unrecognised record", "unrecognised format")  # not reached
                natural = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
                if pick and fmt not in (F.TEXT, F.UNKNOWN) and natural != tgt:
                    raise _Reject(f"record is {LABELS[fmt]} but this file converts to {LABELS[res.target]} "
                                  f"(decided by {'row' if res.by_row else 'line'} {tgt_line}); keep one format "
                                  f"per file, or convert it "
                                  f"separately with --to", "other format than the file")
                converted = _convert_one(rec, fmt, tgt, _Ctx(src.line, cols, res))
            except _Reject as r:
                reject(src, r.reason, r.kind)
                continue
            try:
                data = orjson.dumps(converted)
            except (orjson.JSONEncodeError, TypeError) as e:
                reject(src, f"cannot be written as JSON: {e}", "not serialisable")
                continue
            outcome = check_line(RawLine(src.line, 0, data, b"\n"), out_path, tgt)
            errors = [f for f in outcome.findings if f.severity is Severity.ERROR
                      # Vertex and Nova read images from gs:// / s3://, which OpenAI's DP216 refuses; the
                      # export below refuses every image URL its target cannot read.
                      and not (f.rule == "DP216" and export in (T.VERTEX, T.NOVA))]
            if errors:
                reject(src, _reasons(errors), " / ".join(sorted({f"{f.rule} {f.name}" for f in errors})), errors)
                continue
            if export:
                notes: Counter = Counter()  # counted only for records that are written
                try:
                    data = orjson.dumps(T.export(export, tgt == F.OPENAI_DPO, converted, notes))
                except T.Unexpressible as u:
                    reject(src, u.reason, u.kind)
                    continue
                res.target_notes.update(set(notes))  # records, not occurrences
            for f in outcome.findings:
                res.output_warnings[f.rule] += 1
            out.write(data + b"\n")
            res.written += 1
        res.blank_lines = len(stream.blank_lines)
        if res.target is None:
            res.target = tgt
        if not res.accounted:  # fail closed: never publish an output that lost a record
            raise RuntimeError(f"internal error: {res.records} records read but {res.written} written + "
                               f"{res.rejected} rejected; nothing was written")
        out.commit(keep_empty=False)
        if not rej.commit(keep_empty=False):
            res.rejects_path = None
    except BaseException as e:
        out.abort()
        rej.abort()
        if isinstance(e, EOFError):  # truncated gzip/zstd (the reader raises EOFError for both)
            from dataprep.io.reader import InputError

            raise InputError(in_path, f"read failed: {e}") from None
        raise
    return res


# ---------------------------------------------------------------------------------------------
# LLaMA-Factory dataset_info.json
# ---------------------------------------------------------------------------------------------

# LLaMA-Factory's defaults per formatting (its data/README): what an entry leaves out.
_LF_DEFAULTS = {
    "sharegpt": {"messages": "conversations", "role_tag": "from", "content_tag": "value", "user_tag": "human",
                 "assistant_tag": "gpt", "observation_tag": "observation", "function_tag": "function_call",
                 "system_tag": "system"},
    # OpenAI messages pass through as they are (tool calls included) unless the entry names tags.
    "openai": {"messages": "messages"},
}


@dataclass
class DatasetSpec:
    """One ``dataset_info.json`` entry as convert arguments."""

    name: str
    file: str | None  # the data file beside dataset_info.json (None: the entry names no local file)
    source: str  # a --from name
    mapping: dict[str, str]
    where: str  # where the entry says the data is, for messages


class DatasetInfoError(ValueError):
    """A dataset_info.json that cannot be used (unreadable, no such entry, unsupported entry)."""


def dataset_spec(info_path: str, name: str) -> DatasetSpec:
    """Read LLaMA-Factory's entry ``name`` from ``info_path``: file, source format and mapping."""
    import difflib
    import json

    try:
        with open(info_path, "rb") as f:
            info = json.loads(f.read())
    except OSError as e:
        raise DatasetInfoError(f"cannot read {info_path}: {e.strerror or e}") from None
    except ValueError as e:
        raise DatasetInfoError(f"{info_path} is not valid JSON: {e}") from None
    if not isinstance(info, dict):
        raise DatasetInfoError(f"{info_path}: expected an object of dataset entries")
    if name not in info:
        close = difflib.get_close_matches(name, [str(k) for k in info], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; it has {len(info)} entries"
        raise DatasetInfoError(f"{info_path} has no dataset {name!r}{hint}")
    e = info[name]
    if not isinstance(e, dict):
        raise DatasetInfoError(f"{info_path}: entry {name!r} is not an object")
    formatting = e.get("formatting", "alpaca")
    if formatting not in ("alpaca", "sharegpt", "openai"):
        raise DatasetInfoError(f"{name}: formatting {formatting!r} is not supported (alpaca, sharegpt or openai)")
    mapping: dict[str, str] = dict(_LF_DEFAULTS.get(formatting, {}))
    for group, allowed in (("columns", COLUMN_KEYS), ("tags", TAG_KEYS)):
        part = e.get(group) or {}
        if not isinstance(part, dict):
            raise DatasetInfoError(f"{name}: {group} must be an object")
        for k, v in part.items():
            if k not in allowed:
                raise DatasetInfoError(f"{name}: {group}.{k} is not a field convert knows "
                                       f"({', '.join(sorted(set(allowed)))})")
            if not isinstance(v, str) or not v:
                raise DatasetInfoError(f"{name}: {group}.{k} must name a column")
            mapping[k] = v
    ranking = bool(e.get("ranking"))
    if formatting == "alpaca":
        source = "preference" if ranking else "auto"
    else:
        source = "sharegpt-dpo" if ranking else "sharegpt"
    hub = next((e[k] for k in ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")
                if isinstance(e.get(k), str)), None)
    file = None
    if isinstance(e.get("file_name"), str):
        file = str(Path(info_path).resolve().parent / e["file_name"])
        where = file
    else:
        where = f"the hub dataset {hub}" if hub else "no file"
    return DatasetSpec(name, file, source, mapping, where)


# ---------------------------------------------------------------------------------------------
# Human summary
# ---------------------------------------------------------------------------------------------

_SHAPES = {"json-array": "JSON array", "jsonl": "JSONL", "parquet": "parquet", "csv": "CSV", "tsv": "TSV"}


def _fmt_counts(items) -> str:
    return ", ".join(f"{k} ({n:,})" for k, n in items)


def summary_renderables(res: ConvertResult) -> list:
    """What ``dataprep convert`` prints (rich renderables)."""
    from rich.table import Table
    from rich.text import Text

    srcs = ", ".join(f"{LABELS.get(k, k) if k != 'unparseable' else 'unparseable'} {n}"
                     for k, n in res.sources.most_common()) or "none"
    shape = _SHAPES.get(res.shape, res.shape)
    unit = "row" if res.by_row else "line"
    out: list = [Text(f"{res.in_path}: {shape}, {res.records} record(s) ({srcs})"
                      + (f", {res.blank_lines} blank line(s) skipped" if res.blank_lines else ""))]
    if res.columns:
        by_field: dict[str, list[tuple[str, int]]] = {}
        for (logical, col), n in res.columns.most_common():
            by_field.setdefault(logical, []).append((col, n))
        lines = [f"  {lg} <- " + ", ".join(f"{c} ({n:,})" for c, n in cols) for lg, cols in by_field.items()]
        out.append(Text("columns recognised (field <- column (records)):\n" + "\n".join(lines)))
    if res.unused_columns:
        out.append(Text("columns not used (not in the output): " + _fmt_counts(res.unused_columns.most_common(8))
                        + (f" and {len(res.unused_columns) - 8} more" if len(res.unused_columns) > 8 else "")))
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(justify="left")
    t.add_column(justify="right")
    t.add_column(justify="left")
    target = LABELS.get(res.target, "nothing convertible") if res.target else "nothing convertible"
    t.add_row("written", str(res.written), f"{res.out_path} ({target})")
    t.add_row("rejected", str(res.rejected), res.rejects_path or "(no rejects file: nothing rejected)")
    if res.empty_inputs_normalised:
        t.add_row("empty-input markers dropped", str(res.empty_inputs_normalised), "")
    out.append(t)
    check = "ok" if res.accounted else "MISMATCH"
    out.append(Text(f"count check: {res.records:,} record(s) in = {res.written:,} written + {res.rejected:,} "
                    f"rejected ({check})"))
    if res.reject_kinds:
        r = Table(title="rejected records by reason", title_justify="left", box=None)
        r.add_column("reason")
        r.add_column("records", justify="right")
        r.add_column(f"first source {unit}s")
        for kind, n in res.reject_kinds.most_common():
            r.add_row(short(kind, 70), str(n), ", ".join(map(str, res.reject_examples.get(kind, []))))
        out.append(r)
    if res.map_hints:
        src = shlex.quote(res.in_path)
        dst = shlex.quote(res.out_path)
        for hint, n in res.map_hints.most_common(3):
            out.append(Text(f"{n:,} record(s) not recognised; their columns suggest:\n"
                            f"  dataprep convert {src} {dst} {hint}"))
    if res.oasst_alternatives or res.oasst_unanswered:
        out.append(Text(f"message trees: the top-ranked branch of each was kept; {res.oasst_alternatives:,} "
                        f"alternative repl(ies) not used, {res.oasst_unanswered:,} unanswered final turn(s) dropped"))
    if res.kto_undesirable:
        out.append(Text(f"{res.kto_undesirable:,} KTO-undesirable repl(ies) kept as context with weight 0 "
                        "(not trained on)"))
    if res.ignored_loss_weights:
        out.append(Text(f"{res.ignored_loss_weights:,} non-zero loss_weight(s) on user/system/tool messages dropped: "
                        "OpenAI trains on assistant messages only"))
    for note, n in res.target_notes.most_common():
        out.append(Text(f"{n:,} record(s): {note}"))
    warn = sum(res.output_warnings.values())
    detail = ", ".join(f"{k} {n}" for k, n in sorted(res.output_warnings.items()))
    what = (f"the {LABELS.get(res.openai_shape, res.openai_shape)} form of every written line"
            if res.openai_shape else "every written line")
    out.append(Text(f"{what} was checked{chr(10) if res.openai_shape else ' '}with the validator's per-line rules: 0 errors, "
                    f"{warn} warning(s)/info(s)" + (f" ({detail})" if detail else "")))
    if 0 < res.written < 10 and res.openai_shape is None and res.target in (F.OPENAI_CHAT, F.OPENAI_DPO):
        out.append(Text(f"note: {res.written} example(s); OpenAI requires at least 10 per file (DP109)"))
    return out
