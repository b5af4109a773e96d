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
(``columns``: prompt, query, response, system, history, messages, tools, chosen, rejected;
``tags``: role_tag, content_tag, user_tag, assistant_tag, system_tag, function_tag,
observation_tag).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dataprep.checks import formats as F
from dataprep.checks.base import short, type_name
from dataprep.checks.chat import ROLES
from dataprep.io.reader import RawLine
from dataprep.io.records import SourceRecord, open_records, raw_text
from dataprep.schema.findings import Finding, Severity

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
}
TARGETS = {"openai": F.OPENAI_CHAT, F.OPENAI_CHAT: F.OPENAI_CHAT, "openai-dpo": F.OPENAI_DPO}
PREFERENCE_SOURCES = frozenset({F.SHAREGPT_DPO, F.PREFERENCE_COLUMNS, F.OPENAI_DPO})

# Logical column / tag names accepted by ``mapping`` (LLaMA-Factory's names first, then aliases).
COLUMN_KEYS = {
    "prompt": "prompt", "instruction": "prompt",
    "query": "query", "input": "query",
    "response": "response", "output": "response", "completion": "response",
    "system": "system", "history": "history",
    "messages": "messages", "conversations": "messages",
    "tools": "tools", "chosen": "chosen", "rejected": "rejected",
}
TAG_KEYS = ("role_tag", "content_tag", "user_tag", "assistant_tag", "system_tag", "function_tag", "observation_tag")
MAPPING_KEYS = tuple(COLUMN_KEYS) + TAG_KEYS

_DEFAULT_COLUMNS = {
    "prompt": ("instruction", "prompt"),
    "query": ("input",),
    "response": ("output", "completion"),
    "system": ("system",),
    "history": ("history",),
    "messages": ("conversations", "messages"),
    "tools": ("tools",),
    "chosen": ("chosen",),
    "rejected": ("rejected",),
}
# Speaker tag → what it becomes. "call" = assistant tool call, "observation" = tool result.
_DEFAULT_TAGS = {
    "human": "user", "user": "user",
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
    shape: str = "jsonl"  # input container: jsonl or json-array
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
        }


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


def detect_source(rec: object, cols: _Columns) -> str:
    """The source format of one record, mapping-aware (a superset of ``formats.detect``)."""
    if not isinstance(rec, dict):
        return F.UNKNOWN
    m = cols.mapped
    pref = cols.has(rec, "chosen") and cols.has(rec, "rejected")
    if "messages" in m and m["messages"] in rec:
        return F.SHAREGPT_DPO if pref else F.SHAREGPT
    if "prompt" in m and m["prompt"] in rec:
        return F.PREFERENCE_COLUMNS if pref and not cols.has(rec, "response") else F.ALPACA
    fmt = F.detect(rec)
    if fmt == F.OPENAI_CHAT:
        msgs = rec.get("messages")
        # LLaMA-Factory's "messages" column in from/value style is ShareGPT, not OpenAI.
        if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict) and "role" not in msgs[0] \
                and any(k in msgs[0] for k in cols.role_keys):
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
    t = ctx.cols.get(rec, "tools")
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


def _convert_one(rec, fmt: str, target: str, ctx: _Ctx) -> dict:
    if fmt == F.TEXT:
        raise _Reject(TEXT_REASON, "plain text record")
    if fmt == F.UNKNOWN or not isinstance(rec, dict):
        if not isinstance(rec, dict):
            raise _Reject(f"record is a JSON {type_name(rec)}, not an object", "not an object")
        keys = ", ".join(short(k, 30) for k in list(rec)[:8]) or "none"
        raise _Reject(f"unrecognised record (keys: {keys}); name its format with --from or its columns with --map",
                      "unrecognised format")
    natural = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
    if natural == F.OPENAI_CHAT and target == F.OPENAI_DPO:
        raise _Reject(f"a {F.LABELS[fmt]} record has no rejected reply; it cannot become a preference pair",
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


class _AtomicWriter:
    """Write to a temporary file next to ``path``; move it into place only on success."""

    def __init__(self, path: str):
        self.path = path
        if path == "-":  # stdout: spooled, copied out on commit
            fd, self.tmp = tempfile.mkstemp(prefix=".dataprep-stdout.", suffix=".tmp")
        else:
            parent = Path(path).resolve().parent
            if not parent.is_dir():
                raise OSError(2, "directory does not exist", str(parent))
            fd, self.tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp", dir=parent)
        self.f = os.fdopen(fd, "wb", buffering=1 << 20)

    def write(self, data: bytes) -> None:
        self.f.write(data)

    def read_back(self) -> str:
        """Close for writing and return the temporary file's path (to filter it into a new writer)."""
        self.f.close()
        return self.tmp

    def commit(self) -> None:
        if self.tmp is None:
            return
        if not self.f.closed:
            self.f.close()
        if self.path == "-":
            import shutil

            with open(self.tmp, "rb") as f:
                shutil.copyfileobj(f, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            os.unlink(self.tmp)
        else:
            os.replace(self.tmp, self.path)
        self.tmp = None

    def abort(self) -> None:
        if self.tmp is not None:
            try:
                self.f.close()
            finally:
                try:
                    os.unlink(self.tmp)
                except OSError:
                    pass
                self.tmp = None


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


def convert(in_path: str, out_path: str, *, source: str = "auto", target: str | None = None,
            rejects_path: str | None = None, mapping: list[str] | dict | None = None) -> ConvertResult:
    """Convert one file; see the module doc. Raises InputError (unreadable input), OSError
    (unwritable output), MappingError / ValueError (bad arguments)."""
    from dataprep.validate import check_line

    if source not in SOURCES:
        names = ", ".join(k for k in SOURCES if k not in (F.PREFERENCE_COLUMNS, F.OPENAI_CHAT))
        raise ValueError(f"unknown source format {source!r}; use one of {names}")
    if target is not None and target not in TARGETS:
        raise ValueError(f"unknown target format {target!r}; use openai or openai-dpo")
    cols = _Columns(parse_mapping(mapping))
    forced = SOURCES[source]
    tgt = TARGETS[target] if target else None
    if rejects_path is None:
        if out_path == "-":
            raise ValueError("writing the output to stdout needs --rejects FILE for the records that do not convert")
        rejects_path = default_rejects_path(out_path)
    if out_path != "-" and rejects_path != "-" and Path(out_path).resolve() == Path(rejects_path).resolve():
        raise ValueError("the output and the rejects file must be different files")
    res = ConvertResult(in_path, out_path, rejects_path)
    stream = open_records(in_path)  # InputError before anything is written
    res.shape = stream.shape
    out = _AtomicWriter(out_path)
    try:
        rej = _AtomicWriter(rejects_path)
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
        entry: dict = {"source_line": src.line, "reason": reason}
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
            data = orjson.dumps(entry)
        except (orjson.JSONEncodeError, TypeError):
            import json

            data = json.dumps(entry, ensure_ascii=True).encode()
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
            fmt = forced if (forced is not None and isinstance(rec, dict)) else detect_source(rec, cols)
            res.sources[fmt] += 1
            if src.errors:  # duplicate keys: which value wins is a guess; a person should decide
                reject(src, _reasons(src.errors), src.errors[0].name, src.errors)
                continue
            if tgt is None and fmt in F.TRAINABLE | F.CONVERTIBLE:
                tgt = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
                tgt_line = src.line
                res.target = tgt
            try:
                if tgt is None:  # nothing convertible yet: this record is text / unknown, _convert_one says why
                    _convert_one(rec, fmt, F.OPENAI_CHAT, _Ctx(src.line, cols, res))
                    raise _Reject("unrecognised record", "unrecognised format")  # not reached
                natural = F.OPENAI_DPO if fmt in PREFERENCE_SOURCES else F.OPENAI_CHAT
                if target is None and fmt not in (F.TEXT, F.UNKNOWN) and natural != tgt:
                    raise _Reject(f"record is {F.LABELS[fmt]} but this file converts to {F.LABELS[tgt]} "
                                  f"(decided by line {tgt_line}); keep one format per file, or convert it "
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
            errors = [f for f in outcome.findings if f.severity is Severity.ERROR]
            if errors:
                reject(src, _reasons(errors), " / ".join(sorted({f"{f.rule} {f.name}" for f in errors})), errors)
                continue
            for f in outcome.findings:
                res.output_warnings[f.rule] += 1
            out.write(data + b"\n")
            res.written += 1
        res.blank_lines = len(stream.blank_lines)
        if res.target is None:
            res.target = tgt
        out.commit()
        rej.commit()
    except BaseException as e:
        out.abort()
        rej.abort()
        if isinstance(e, EOFError):  # truncated gzip/zstd (the reader raises EOFError for both)
            from dataprep.io.reader import InputError

            raise InputError(in_path, f"read failed: {e}") from None
        raise
    return res


# ---------------------------------------------------------------------------------------------
# Human summary
# ---------------------------------------------------------------------------------------------

def summary_renderables(res: ConvertResult) -> list:
    """What ``dataprep convert`` prints (rich renderables)."""
    from rich.table import Table
    from rich.text import Text

    srcs = ", ".join(f"{F.LABELS.get(k, k) if k != 'unparseable' else 'unparseable'} {n}"
                     for k, n in res.sources.most_common()) or "none"
    shape = "JSON array" if res.shape == "json-array" else "JSONL"
    out: list = [Text(f"{res.in_path}: {shape}, {res.records} record(s) ({srcs})"
                      + (f", {res.blank_lines} blank line(s) skipped" if res.blank_lines else ""))]
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(justify="left")
    t.add_column(justify="right")
    t.add_column(justify="left")
    target = F.LABELS.get(res.target, "nothing convertible") if res.target else "nothing convertible"
    t.add_row("written", str(res.written), f"{res.out_path} ({target})")
    t.add_row("rejected", str(res.rejected), f"{res.rejects_path}")
    if res.empty_inputs_normalised:
        t.add_row("empty-input markers dropped", str(res.empty_inputs_normalised), "")
    out.append(t)
    if res.reject_kinds:
        r = Table(title="rejected records by reason", title_justify="left", box=None)
        r.add_column("reason")
        r.add_column("records", justify="right")
        r.add_column("first source lines")
        for kind, n in res.reject_kinds.most_common():
            r.add_row(short(kind, 70), str(n), ", ".join(map(str, res.reject_examples.get(kind, []))))
        out.append(r)
    warn = sum(res.output_warnings.values())
    detail = ", ".join(f"{k} {n}" for k, n in sorted(res.output_warnings.items()))
    out.append(Text(f"every written line was checked with the validator's per-line rules: 0 errors, "
                    f"{warn} warning(s)/info(s)" + (f" ({detail})" if detail else "")))
    if 0 < res.written < 10:
        out.append(Text(f"note: {res.written} example(s); OpenAI requires at least 10 per file (DP109)"))
    return out
