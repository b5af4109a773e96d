"""OpenAI chat / preference records to and from the shapes other trainers read.

``convert`` turns every source into OpenAI chat (or OpenAI preference) first, checks it with the
validator's per-line rules, and only then hands it to one function here. Each function takes one
record and returns one record, or raises ``Unexpressible`` with the reason: a record that the
target cannot hold whole goes to the rejects file, it is never written with a part missing.
The driver in ``convert.py`` stays the one place that counts every record.

Facts come from ``shared/reference/PROVIDERS.md`` (gathered 2026-12-03). What rests on a
statement marked UNVERIFIED there is said so where it is used.

Vertex AI, Gemini supervised tuning (verified: prepare-data page and function-calling tuning page):
``contents`` [{role user|model, parts [{text} | {fileData {mimeType, fileUri}} | {functionCall
{name, args}} | {functionResponse {name, response}}]}], optional ``systemInstruction`` {parts
[{text}]}, optional ``tools`` [{functionDeclarations [{name, description, parameters}]}]. Files
live in Cloud Storage, so only ``gs://`` images convert (inline data is UNVERIFIED for tuning).
FACTS.md says Vertex allows no two turns of one role in a row, so such a record is rejected.
UNVERIFIED: the role of a turn that carries ``functionResponse`` parts (we write ``user``, the
Gemini API's convention, and read ``user`` or ``function``); whether tuning takes lower-case
JSON-schema ``parameters`` as OpenAI writes them (copied unchanged); ``response`` {``output``:
text}, the Gemini API's documented key for a function's output. Preference tuning (verified,
preference-tuning prepare page): ``contents`` (text only, ends with a user turn), optional
``system_instruction``, ``completions``: one {score 1, completion} and one {score 0, completion},
each completion one model turn.

Amazon Bedrock Nova (``bedrock-conversation-2024``, verified): ``schemaVersion``, optional
``system`` [{text}], ``messages`` [{role user|assistant, content [{text} | {image} | {video}]}],
first turn user, last turn assistant, no other roles, images by S3 URI. The strings
``User:``, ``Bot:``, ``Assistant:``, ``System:``, ``<image>``, ``<video>``, ``[EOS]`` in user or
system text fail the job. DPO (SageMaker Nova recipes page, verified): the last assistant turn
holds ``candidates`` [{content, preferenceLabel preferred|non-preferred}]. UNVERIFIED: the
image block's inner layout ({format, source {s3Location {uri}}}, Bedrock's Converse layout) and
a ``schemaVersion`` on DPO lines; the same-bucket rule cannot be checked offline.

TRL (verified, TRL 1.16.0 wheel and the HF chat-template docs): OpenAI chat ``messages`` (and
``tools``) as they are, except that a tool call's ``function.arguments`` is an object, not JSON
text; preference data as ``prompt`` / ``chosen`` / ``rejected`` message lists.

What the way back (``from_*``) cannot restore, it makes the same every time: tool call ids are
``call_<line>_<n>`` (neither Vertex nor Nova stores them; calls and results pair by name and
order), ``arguments`` is the JSON text of ``args``, a one-part text content is a string, an
assistant turn that only calls tools has no ``content``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

import orjson

from dataprep.checks.base import short, type_name

VERTEX = "vertex"
VERTEX_PREF = "vertex-preference"
NOVA = "bedrock-nova"
NOVA_DPO = "bedrock-nova-dpo"
TRL = "trl"
TRL_PREF = "trl-preference"
LABELS = {
    VERTEX: "Vertex AI Gemini tuning (contents/parts)",
    VERTEX_PREF: "Vertex AI Gemini preference tuning (contents/completions)",
    NOVA: "Bedrock Nova (bedrock-conversation-2024)",
    NOVA_DPO: "Bedrock Nova DPO (candidates/preferenceLabel)",
    TRL: "TRL chat (messages, tool-call arguments as objects)",
    TRL_PREF: "TRL preference (prompt/chosen/rejected)",
}
EXPORT_TARGETS = (VERTEX, NOVA, TRL)  # --to names
NOVA_SCHEMA = "bedrock-conversation-2024"
# Nova fails the whole job on these in user or system text (PROVIDERS.md, Amazon Bedrock).
NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
                ".gif": "image/gif", ".heic": "image/heic", ".heif": "image/heif"}
_NOVA_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".webp": "webp"}

CallIds = Callable[[], str]


class Unexpressible(ValueError):
    """A record the target cannot hold whole: ``reason`` for the rejects file, ``kind`` to count."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def _no(reason: str, kind: str) -> Unexpressible:
    return Unexpressible(reason, kind)


_BACK = "OpenAI"  # the target of the from_* functions


def _only_keys(d: dict, allowed: tuple[str, ...], where: str, target: str) -> None:
    extra = [k for k in d if k not in allowed]
    if not extra:
        return
    names = ", ".join(repr(short(k, 30)) for k in extra[:4])
    if target == _BACK:
        raise _no(f"{where}: {names} is not part of the shape being read and has no OpenAI equivalent; "
                  "remove it, or name the file's format with --from", "key with no OpenAI equivalent")
    raise _no(f"{where}: {names} has no place in {target} data; remove it or keep this record "
              "in OpenAI format", f"key with no {target} equivalent")


def _args_object(call: dict, where: str) -> dict:
    """A tool call's ``arguments`` JSON text as the object it encodes (Vertex ``args``, TRL)."""
    fn = call.get("function") if isinstance(call, dict) else None
    args = fn.get("arguments") if isinstance(fn, dict) else None
    if isinstance(args, dict):
        return args
    if not isinstance(args, str):
        raise _no(f"{where}: arguments is {type_name(args)}, not JSON text", "tool-call arguments not an object")
    try:
        parsed = orjson.loads(args)
    except orjson.JSONDecodeError:
        raise _no(f"{where}: arguments {short(args, 40)!r} is not valid JSON; fix or drop this call",
                  "tool-call arguments not an object") from None
    if not isinstance(parsed, dict):
        raise _no(f"{where}: arguments is a JSON {type_name(parsed)}, not an object; chat templates "
                  "need an object", "tool-call arguments not an object")
    return parsed


def _args_text(args: object, where: str) -> str:
    if not isinstance(args, dict):
        raise _no(f"{where}: args is {type_name(args)}, not an object", "bad function call")
    # Python's default separators: the form OpenAI's own examples and most exports use.
    return json.dumps(args, ensure_ascii=False)


def _text_list(content: object, where: str, target: str) -> list[str]:
    """Text-only content (a string or text parts) as a list of strings."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        out = []
        for j, p in enumerate(content):
            if not (isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)):
                what = p.get("type") if isinstance(p, dict) else type_name(p)
                raise _no(f"{where}.content[{j}]: a {short(str(what), 20)} part; {target} takes only text "
                          "here", f"non-text content in {target}")
            _only_keys(p, ("type", "text"), f"{where}.content[{j}]", target)
            out.append(p["text"])
        return out
    raise _no(f"{where}: content is {type_name(content)}, not text", f"non-text content in {target}")


def _openai_content(texts: list[str]) -> str | list[dict]:
    return texts[0] if len(texts) == 1 else [{"type": "text", "text": t} for t in texts]


def _weight(m: dict, where: str, target: str, notes: Counter) -> None:
    w = m.get("weight", 1)
    if w == 0:
        raise _no(f"{where}: weight 0 (an assistant turn kept as context but not trained on); {target} "
                  "trains every assistant turn and has no per-turn weight", f"weight 0 in {target}")
    if "weight" in m:
        notes[f"weight 1 dropped: {target} trains every assistant turn"] += 1


def _image_uri(p: dict, where: str, scheme: str, target: str) -> str:
    iu = p.get("image_url")
    url = iu.get("url") if isinstance(iu, dict) else None
    if not isinstance(url, str):
        raise _no(f"{where}: image_url has no url", "bad image")
    _only_keys(iu, ("url", "detail") if iu.get("detail", "auto") == "auto" else ("url",), f"{where}.image_url",
               target)
    if not url.startswith(scheme):
        how = "an inline (data:) image" if url.startswith("data:") else f"image URL {short(url, 40)!r}"
        raise _no(f"{where}: {how}; {target} reads images only from {scheme} URIs: upload the file "
                  "and reference it there", f"image not at a {scheme} URI")
    return url


# ---------------------------------------------------------------------------------------------
# Vertex AI (Gemini)
# ---------------------------------------------------------------------------------------------

def _vertex_user_parts(content: object, where: str) -> list[dict]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise _no(f"{where}: content is {type_name(content)}, not text", "non-text content in vertex")
    parts: list[dict] = []
    for j, p in enumerate(content):
        pw = f"{where}.content[{j}]"
        kind = p.get("type") if isinstance(p, dict) else None
        if kind == "text" and isinstance(p.get("text"), str):
            _only_keys(p, ("type", "text"), pw, VERTEX)
            parts.append({"text": p["text"]})
        elif kind == "image_url":
            _only_keys(p, ("type", "image_url"), pw, VERTEX)
            uri = _image_uri(p, pw, "gs://", VERTEX)
            mime = _IMAGE_TYPES.get(PurePosixPath(uri).suffix.lower())
            if mime is None:
                raise _no(f"{pw}: cannot tell the image type of {short(uri, 40)!r} from its name; Vertex needs "
                          "a mimeType: use a .png, .jpg, .webp, .heic or .heif name", "image of unknown type")
            parts.append({"fileData": {"mimeType": mime, "fileUri": uri}})
        else:
            raise _no(f"{pw}: a {short(str(kind), 20)} part has no Vertex equivalent", "non-text content in vertex")
    return parts


def _vertex_tools(tools: object, notes: Counter) -> list[dict]:
    if not isinstance(tools, list):
        raise _no(f"tools is {type_name(tools)}, not a list", "bad tools")
    decls = []
    for i, t in enumerate(tools):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(fn, dict):
            raise _no(f"tools[{i}]: only function tools have a Vertex equivalent", "bad tools")
        _only_keys(t, ("type", "function"), f"tools[{i}]", VERTEX)
        _only_keys(fn, ("name", "description", "parameters", "strict"), f"tools[{i}].function", VERTEX)
        if "strict" in fn:
            notes["strict dropped from tools: no Vertex equivalent"] += 1
        decl = {k: fn[k] for k in ("name", "description", "parameters") if k in fn}
        if "parameters" in decl:
            where = f"tools[{i}].function.parameters"
            decl["parameters"] = _schema_types(decl["parameters"], True, where)
            if _outside_gemini_schema(decl["parameters"]):
                notes["tool parameters with keywords Gemini's Schema does not list\n"
                      "  (kept; UNVERIFIED whether Vertex tuning accepts them)"] += 1
        decls.append(decl)
    return [{"functionDeclarations": decls}] if decls else []


# Gemini's Schema type names (the tuning page's example writes them upper-case, as the API's enum
# does); JSON schema writes them lower-case.
_SCHEMA_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
# Fields of Gemini's Schema object (Vertex API reference); anything else is noted, not dropped.
_GEMINI_SCHEMA_KEYS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "default", "items", "minimum", "maximum"})


def _schema_types(schema: object, upper: bool, where: str) -> object:
    """A function's parameter schema with its type names in Gemini's case (``upper``) or JSON schema's."""
    if not isinstance(schema, dict):
        raise _no(f"{where}: a schema must be an object, not {type_name(schema)}", "bad tools")
    out = dict(schema)
    t = schema.get("type")
    if t is not None:
        names = {n: n.upper() for n in _SCHEMA_TYPES} if upper else {n.upper(): n for n in _SCHEMA_TYPES}
        if not isinstance(t, str) or t not in names:
            raise _no(f"{where}.type: {short(json.dumps(t), 30)} has no {'Gemini' if upper else 'JSON-schema'} "
                      "equivalent; use one type name (nullable: true for null)", "schema type with no equivalent")
        out["type"] = names[t]
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: _schema_types(v, upper, f"{where}.properties.{k}")
                             for k, v in schema["properties"].items()}
    if "items" in schema:
        out["items"] = _schema_types(schema["items"], upper, f"{where}.items")
    if isinstance(schema.get("anyOf"), list):
        out["anyOf"] = [_schema_types(v, upper, f"{where}.anyOf[{j}]") for j, v in enumerate(schema["anyOf"])]
    return out


def _outside_gemini_schema(schema: object) -> bool:
    if not isinstance(schema, dict):
        return False
    if set(schema) - _GEMINI_SCHEMA_KEYS:
        return True
    kids = list(schema.get("properties", {}).values()) if isinstance(schema.get("properties"), dict) else []
    kids += [schema["items"]] if "items" in schema else []
    kids += schema["anyOf"] if isinstance(schema.get("anyOf"), list) else []
    return any(_outside_gemini_schema(k) for k in kids)


def _parallel(rec: dict, target: str, notes: Counter) -> None:
    if "parallel_tool_calls" in rec:
        notes["parallel_tool_calls dropped: an OpenAI request option"] += 1


def _split_system(msgs: list, target: str) -> tuple[dict | None, list]:
    if not isinstance(msgs, list) or not msgs:
        raise _no("messages is empty or not a list", "no messages")
    first = msgs[0]
    if isinstance(first, dict) and first.get("role") == "system":
        return first, msgs[1:]
    return None, msgs


def _mid_role(m: dict, i: int, target: str, where: str = "messages") -> Unexpressible:
    role = m.get("role")
    if role == "system":
        return _no(f"{where}[{i}]: a system message after the start; {target} takes one system prompt, "
                   "before the conversation: move it to the start or merge it", "system message not first")
    return _no(f"{where}[{i}]: role {short(str(role), 20)!r} has no {target} equivalent", f"role not in {target}")


def _vertex_turns(msgs: list, notes: Counter, where: str = "messages", offset: int = 0) -> list[dict]:
    """OpenAI messages (no leading system) → Vertex ``contents``."""
    contents: list[dict] = []
    calls: dict[str, str] = {}  # open tool-call id → function name, from the last assistant turn
    for k, m in enumerate(msgs):
        i = k + offset
        mw = f"{where}[{i}]"
        if not isinstance(m, dict):
            raise _no(f"{mw} is {type_name(m)}, not a message", "bad message")
        role = m.get("role")
        if role == "user":
            _only_keys(m, ("role", "content"), mw, VERTEX)
            contents.append({"role": "user", "parts": _vertex_user_parts(m.get("content"), mw)})
        elif role == "assistant":
            _only_keys(m, ("role", "content", "tool_calls", "weight"), mw, VERTEX)
            _weight(m, mw, VERTEX, notes)
            c = m.get("content")
            if c == "" and m.get("tool_calls"):
                c = None  # an empty text beside calls says nothing; it comes back without content
            parts = [] if c is None else [{"text": t} for t in _text_list(c, mw, VERTEX)]
            calls = {}
            for j, tc in enumerate(m.get("tool_calls") or []):
                cw = f"{mw}.tool_calls[{j}]"
                fn = tc.get("function") if isinstance(tc, dict) else None
                if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                    raise _no(f"{cw}: a tool call without a function name", "bad function call")
                _only_keys(tc, ("id", "type", "function"), cw, VERTEX)
                _only_keys(fn, ("name", "arguments"), f"{cw}.function", VERTEX)
                name = fn["name"]
                calls[tc.get("id")] = name
                parts.append({"functionCall": {"name": name, "args": _args_object(tc, cw)}})
            if not parts:
                raise _no(f"{mw}: an assistant turn with no text and no tool call", "empty assistant turn")
            contents.append({"role": "model", "parts": parts})
        elif role == "tool":
            _only_keys(m, ("role", "content", "tool_call_id"), mw, VERTEX)
            name = calls.pop(m.get("tool_call_id"), None)
            if name is None:
                raise _no(f"{mw}: tool result for id {short(str(m.get('tool_call_id')), 30)!r}, which no "
                          "unanswered call of the assistant turn before it has", "tool result without its call")
            out = "\n".join(_text_list(m.get("content"), mw, VERTEX))
            part = {"functionResponse": {"name": name, "response": {"output": out}}}
            prev = contents[-1] if contents else None
            if prev and prev["role"] == "user" and all("functionResponse" in p for p in prev["parts"]):
                prev["parts"].append(part)  # the results of one turn's calls travel together
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            raise _mid_role(m, i, VERTEX, where)
    for k in range(1, len(contents)):
        if contents[k]["role"] == contents[k - 1]["role"]:
            raise _no(f"{where}: two {contents[k]['role']} turns in a row (turns {k} and {k + 1} in Vertex form); "
                      "Vertex takes no two turns of one role in a row: merge them", "same role twice in a row")
    return contents


def _vertex_system(sys_msg: dict | None) -> dict | None:
    if sys_msg is None:
        return None
    _only_keys(sys_msg, ("role", "content"), "messages[0]", VERTEX)
    return {"parts": [{"text": t} for t in _text_list(sys_msg.get("content"), "messages[0]", VERTEX)]}


def to_vertex(rec: dict, notes: Counter) -> dict:
    """OpenAI chat → Vertex Gemini supervised tuning line."""
    _only_keys(rec, ("messages", "tools", "parallel_tool_calls"), "record", VERTEX)
    _parallel(rec, VERTEX, notes)
    sys_msg, rest = _split_system(rec.get("messages"), VERTEX)
    out: dict = {}
    system = _vertex_system(sys_msg)
    if system is not None:
        out["systemInstruction"] = system
    out["contents"] = _vertex_turns(rest, notes, offset=1 if sys_msg else 0)
    if rec.get("tools"):
        tools = _vertex_tools(rec["tools"], notes)
        if tools:
            out["tools"] = tools
    return out


def _one_reply(value: object, where: str) -> list[str]:
    if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
        raise _no(f"{where}: not one assistant message", "bad preference reply")
    m = value[0]
    _only_keys(m, ("role", "content"), f"{where}[0]", "preference")
    if m.get("role") != "assistant":
        raise _no(f"{where}[0]: role {short(str(m.get('role')), 20)!r}, not assistant", "bad preference reply")
    return _text_list(m.get("content"), f"{where}[0]", "preference data")


def to_vertex_preference(rec: dict, notes: Counter) -> dict:
    """OpenAI preference → Vertex Gemini preference tuning line (text only, ends with a user turn)."""
    _only_keys(rec, ("input", "preferred_output", "non_preferred_output"), "record", VERTEX)
    inp = rec.get("input")
    if not isinstance(inp, dict):
        raise _no("input is not an object", "bad preference record")
    if inp.get("tools"):
        raise _no("input.tools: Vertex preference tuning takes text only, no tools", "tools in vertex preference")
    _only_keys(inp, ("messages", "tools"), "input", VERTEX)
    sys_msg, rest = _split_system(inp.get("messages"), VERTEX)
    for k, m in enumerate(rest):
        if isinstance(m, dict) and (m.get("tool_calls") or m.get("role") == "tool"):
            raise _no(f"input.messages[{k + (1 if sys_msg else 0)}]: a tool call or result; Vertex preference "
                      "tuning takes text only", "tools in vertex preference")
        if isinstance(m, dict) and m.get("role") == "user" and not isinstance(m.get("content"), str):
            _text_list(m.get("content"), f"input.messages[{k}]", "Vertex preference tuning")
    contents = _vertex_turns(rest, notes, "input.messages", 1 if sys_msg else 0)
    if not contents or contents[-1]["role"] != "user":
        raise _no("input.messages: Vertex preference tuning needs the conversation to end with a user turn",
                  "last turn not user")
    out: dict = {}
    system = _vertex_system(sys_msg)
    if system is not None:
        out["system_instruction"] = system  # the preference page spells it this way
    out["contents"] = contents
    out["completions"] = [
        {"score": score, "completion": {"role": "model", "parts": [{"text": t} for t in _one_reply(rec.get(key), key)]}}
        for key, score in (("preferred_output", 1), ("non_preferred_output", 0))]
    return out


def _vertex_user(parts: list, where: str) -> dict:
    texts: list[dict] = []
    for j, p in enumerate(parts):
        pw = f"{where}.parts[{j}]"
        if isinstance(p, dict) and set(p) == {"text"} and isinstance(p["text"], str):
            texts.append({"type": "text", "text": p["text"]})
        elif isinstance(p, dict) and set(p) == {"fileData"} and isinstance(p["fileData"], dict):
            fd = p["fileData"]
            mime, uri = fd.get("mimeType"), fd.get("fileUri")
            if not (isinstance(mime, str) and mime.startswith("image/") and isinstance(uri, str)):
                raise _no(f"{pw}: a {short(str(mime), 30)} file; OpenAI chat takes images only",
                          "non-image file")
            texts.append({"type": "image_url", "image_url": {"url": uri}})
        else:
            keys = ", ".join(p) if isinstance(p, dict) else type_name(p)
            raise _no(f"{pw}: a part with {short(keys, 40)}; OpenAI chat has no equivalent in a user turn",
                      "part with no OpenAI equivalent")
    if not texts:
        raise _no(f"{where}: a user turn with no parts", "empty turn")
    if len(texts) == 1 and texts[0]["type"] == "text":
        return {"role": "user", "content": texts[0]["text"]}
    return {"role": "user", "content": texts}


def _vertex_back(contents: object, call_id: CallIds, where: str = "contents") -> list[dict]:
    """Vertex ``contents`` → OpenAI messages (no system)."""
    if not isinstance(contents, list) or not contents:
        raise _no(f"{where} is empty or not a list", "no messages")
    msgs: list[dict] = []
    open_calls: list[tuple[str, str]] = []  # (name, id) of the last model turn's unanswered calls
    for i, turn in enumerate(contents):
        tw = f"{where}[{i}]"
        if not isinstance(turn, dict) or not isinstance(turn.get("parts"), list):
            raise _no(f"{tw}: not a turn with parts", "bad turn")
        _only_keys(turn, ("role", "parts"), tw, _BACK)
        role, parts = turn.get("role"), turn["parts"]
        if role == "model":
            texts, calls = [], []
            for j, p in enumerate(parts):
                pw = f"{tw}.parts[{j}]"
                if isinstance(p, dict) and set(p) == {"text"} and isinstance(p["text"], str):
                    if calls:
                        raise _no(f"{pw}: text after a function call; OpenAI chat keeps an assistant turn's text "
                                  "before its calls", "text after a call")
                    texts.append(p["text"])
                elif isinstance(p, dict) and set(p) == {"functionCall"} and isinstance(p["functionCall"], dict):
                    fc = p["functionCall"]
                    _only_keys(fc, ("name", "args"), f"{pw}.functionCall", _BACK)
                    if not isinstance(fc.get("name"), str):
                        raise _no(f"{pw}: functionCall without a name", "bad function call")
                    cid = call_id()
                    calls.append({"id": cid, "type": "function",
                                  "function": {"name": fc["name"], "arguments": _args_text(fc.get("args", {}), pw)}})
                else:
                    keys = ", ".join(p) if isinstance(p, dict) else type_name(p)
                    raise _no(f"{pw}: a part with {short(keys, 40)}; OpenAI chat has no equivalent in an "
                              "assistant turn", "part with no OpenAI equivalent")
            m: dict = {"role": "assistant"}
            if texts:  # a turn that only calls tools has no content key, as in OpenAI's own examples
                m["content"] = _openai_content(texts)
            if calls:
                m["tool_calls"] = calls
            elif not texts:
                raise _no(f"{tw}: a model turn with no parts", "empty turn")
            open_calls = [(c["function"]["name"], c["id"]) for c in calls]
            msgs.append(m)
        elif role in ("user", "function") and parts and all(isinstance(p, dict) and "functionResponse" in p
                                                            for p in parts):
            for j, p in enumerate(parts):
                pw = f"{tw}.parts[{j}]"
                fr = p["functionResponse"]
                _only_keys(p, ("functionResponse",), pw, _BACK)
                if not isinstance(fr, dict) or not isinstance(fr.get("name"), str):
                    raise _no(f"{pw}: functionResponse without a name", "bad function response")
                _only_keys(fr, ("name", "response"), f"{pw}.functionResponse", _BACK)
                k = next((n for n, (name, _) in enumerate(open_calls) if name == fr["name"]), None)
                if k is None:
                    raise _no(f"{pw}: a response from {short(fr['name'], 30)!r}, which the model turn before it "
                              "did not call", "tool result without its call")
                _, cid = open_calls.pop(k)
                resp = fr.get("response")
                if isinstance(resp, dict) and set(resp) == {"output"} and isinstance(resp["output"], str):
                    text = resp["output"]
                else:  # a structured response: its JSON text, as a tool message carries it
                    text = json.dumps(resp, ensure_ascii=False)
                msgs.append({"role": "tool", "tool_call_id": cid, "content": text})
        elif role == "user":
            msgs.append(_vertex_user(parts, tw))
        else:
            raise _no(f"{tw}: role {short(str(role), 20)!r}; Vertex turns are user or model", "bad role")
    return msgs


def _vertex_system_back(rec: dict) -> list[dict]:
    keys = [k for k in ("systemInstruction", "system_instruction") if k in rec]
    if len(keys) > 1:
        raise _no("both systemInstruction and system_instruction; keep one", "two system instructions")
    if not keys:
        return []
    si = rec[keys[0]]
    parts = si.get("parts") if isinstance(si, dict) else None
    if not isinstance(parts, list) or not parts:
        raise _no(f"{keys[0]}: no parts", "bad system instruction")
    _only_keys(si, ("role", "parts"), keys[0], _BACK)  # its role is ignored by Vertex
    texts = []
    for j, p in enumerate(parts):
        if not (isinstance(p, dict) and set(p) == {"text"} and isinstance(p["text"], str)):
            raise _no(f"{keys[0]}.parts[{j}]: only text has an OpenAI system-message equivalent", "non-text system")
        texts.append(p["text"])
    return [{"role": "system", "content": _openai_content(texts)}]


def from_vertex(rec: dict, call_id: CallIds) -> dict:
    """Vertex Gemini supervised tuning line → OpenAI chat."""
    _only_keys(rec, ("systemInstruction", "system_instruction", "contents", "tools"), "record", _BACK)
    out: dict = {"messages": _vertex_system_back(rec) + _vertex_back(rec.get("contents"), call_id)}
    if "tools" in rec:
        tools = []
        if not isinstance(rec["tools"], list):
            raise _no("tools is not a list", "bad tools")
        for i, t in enumerate(rec["tools"]):
            if not isinstance(t, dict) or set(t) != {"functionDeclarations"} or \
                    not isinstance(t["functionDeclarations"], list):
                raise _no(f"tools[{i}]: only functionDeclarations have an OpenAI equivalent", "bad tools")
            for j, d in enumerate(t["functionDeclarations"]):
                if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                    raise _no(f"tools[{i}].functionDeclarations[{j}]: no name", "bad tools")
                where = f"tools[{i}].functionDeclarations[{j}]"
                _only_keys(d, ("name", "description", "parameters"), where, _BACK)
                if "parameters" in d:
                    d = {**d, "parameters": _schema_types(d["parameters"], False, f"{where}.parameters")}
                tools.append({"type": "function", "function": d})
        if tools:
            out["tools"] = tools
    return out


def from_vertex_preference(rec: dict, call_id: CallIds) -> dict:
    """Vertex Gemini preference line → OpenAI preference."""
    _only_keys(rec, ("systemInstruction", "system_instruction", "contents", "completions"), "record", _BACK)
    msgs = _vertex_system_back(rec) + _vertex_back(rec.get("contents"), call_id)
    comps = rec.get("completions")
    if not isinstance(comps, list) or len(comps) != 2 or not all(isinstance(c, dict) for c in comps):
        raise _no("completions: Vertex preference data holds exactly two completions", "bad completions")
    by_score: dict = {}
    for i, c in enumerate(comps):
        _only_keys(c, ("score", "completion"), f"completions[{i}]", _BACK)
        turn = c.get("completion")
        if not (isinstance(turn, dict) and turn.get("role") == "model"):
            raise _no(f"completions[{i}].completion: not one model turn", "bad completions")
        back = _vertex_back([turn], call_id, f"completions[{i}].completion")
        score = c.get("score")
        by_score[score if type(score) is int else repr(score)] = back  # True is not 1 here
    if set(by_score) != {0, 1}:
        raise _no("completions: need one with score 1 (preferred) and one with score 0", "bad completions")
    return {"input": {"messages": msgs}, "preferred_output": by_score[1], "non_preferred_output": by_score[0]}


# ---------------------------------------------------------------------------------------------
# Amazon Bedrock Nova
# ---------------------------------------------------------------------------------------------

def _reserved(text: str, where: str) -> None:
    for s in NOVA_RESERVED:
        if s in text:
            raise _no(f"{where}: holds {s!r}, a string Nova reserves; a job with it in user or system text "
                      "fails: reword it", f"Nova reserved string {s}")


def _nova_user(content: object, where: str) -> list[dict]:
    if isinstance(content, str):
        _reserved(content, where)
        return [{"text": content}]
    if not isinstance(content, list):
        raise _no(f"{where}: content is {type_name(content)}, not text", "non-text content in bedrock-nova")
    out: list[dict] = []
    for j, p in enumerate(content):
        pw = f"{where}.content[{j}]"
        kind = p.get("type") if isinstance(p, dict) else None
        if kind == "text" and isinstance(p.get("text"), str):
            _only_keys(p, ("type", "text"), pw, NOVA)
            _reserved(p["text"], pw)
            out.append({"text": p["text"]})
        elif kind == "image_url":
            _only_keys(p, ("type", "image_url"), pw, NOVA)
            uri = _image_uri(p, pw, "s3://", NOVA)
            fmt = _NOVA_FORMATS.get(PurePosixPath(uri).suffix.lower())
            if fmt is None:
                raise _no(f"{pw}: cannot tell the image format of {short(uri, 40)!r} from its name; use a .png, "
                          ".jpg, .gif or .webp name", "image of unknown type")
            out.append({"image": {"format": fmt, "source": {"s3Location": {"uri": uri}}}})
        else:
            raise _no(f"{pw}: a {short(str(kind), 20)} part has no Nova equivalent", "non-text content in bedrock-nova")
    return out


def _nova_turns(msgs: list, notes: Counter, where: str, offset: int) -> list[dict]:
    out: list[dict] = []
    for k, m in enumerate(msgs):
        i = k + offset
        mw = f"{where}[{i}]"
        if not isinstance(m, dict):
            raise _no(f"{mw} is {type_name(m)}, not a message", "bad message")
        role = m.get("role")
        if role == "user":
            _only_keys(m, ("role", "content"), mw, NOVA)
            out.append({"role": "user", "content": _nova_user(m.get("content"), mw)})
        elif role == "assistant":
            if m.get("tool_calls"):
                raise _no(f"{mw}: a tool call; Nova fine-tuning data has no tool calls", "tool call in bedrock-nova")
            _only_keys(m, ("role", "content", "tool_calls", "weight"), mw, NOVA)
            _weight(m, mw, NOVA, notes)
            out.append({"role": "assistant", "content": [{"text": t} for t in _text_list(m.get("content"), mw, NOVA)]})
        elif role == "tool":
            raise _no(f"{mw}: a tool result; Nova fine-tuning data has only user and assistant turns",
                      "role not in bedrock-nova")
        else:
            raise _mid_role(m, i, NOVA, where)
    return out


def _nova_system(sys_msg: dict | None, where: str) -> list[dict] | None:
    if sys_msg is None:
        return None
    _only_keys(sys_msg, ("role", "content"), where, NOVA)
    texts = _text_list(sys_msg.get("content"), where, NOVA)
    for t in texts:
        _reserved(t, where)
    return [{"text": t} for t in texts]


def to_nova(rec: dict, notes: Counter) -> dict:
    """OpenAI chat → Bedrock Nova ``bedrock-conversation-2024`` line."""
    if rec.get("tools"):
        raise _no("tools: Nova fine-tuning data has no tool definitions", "tools in bedrock-nova")
    _only_keys(rec, ("messages", "tools", "parallel_tool_calls"), "record", NOVA)
    _parallel(rec, NOVA, notes)
    sys_msg, rest = _split_system(rec.get("messages"), NOVA)
    msgs = _nova_turns(rest, notes, "messages", 1 if sys_msg else 0)
    if not msgs or msgs[0]["role"] != "user":
        raise _no("messages: Nova needs the first turn after the system prompt to be a user turn",
                  "first turn not user")
    if msgs[-1]["role"] != "assistant":
        raise _no("messages: Nova needs the last turn to be an assistant turn", "last turn not assistant")
    out: dict = {"schemaVersion": NOVA_SCHEMA}
    system = _nova_system(sys_msg, "messages[0]")
    if system is not None:
        out["system"] = system
    out["messages"] = msgs
    return out


def to_nova_dpo(rec: dict, notes: Counter) -> dict:
    """OpenAI preference → Nova DPO line (the last assistant turn holds the two candidates)."""
    _only_keys(rec, ("input", "preferred_output", "non_preferred_output"), "record", NOVA)
    inp = rec.get("input")
    if not isinstance(inp, dict):
        raise _no("input is not an object", "bad preference record")
    if inp.get("tools"):
        raise _no("input.tools: Nova fine-tuning data has no tool definitions", "tools in bedrock-nova")
    _only_keys(inp, ("messages", "tools"), "input", NOVA)
    sys_msg, rest = _split_system(inp.get("messages"), NOVA)
    msgs = _nova_turns(rest, notes, "input.messages", 1 if sys_msg else 0)
    if not msgs or msgs[0]["role"] != "user" or msgs[-1]["role"] != "user":
        raise _no("input.messages: Nova DPO needs the prompt to start and end with a user turn",
                  "prompt not user-first and user-last")
    cands = [{"content": [{"text": t} for t in _one_reply(rec.get(key), key)], "preferenceLabel": label}
             for key, label in (("preferred_output", "preferred"), ("non_preferred_output", "non-preferred"))]
    out: dict = {"schemaVersion": NOVA_SCHEMA}  # SFT's schema tag; on DPO lines UNVERIFIED, not documented
    system = _nova_system(sys_msg, "input.messages[0]")
    if system is not None:
        out["system"] = system
    out["messages"] = msgs + [{"role": "assistant", "candidates": cands}]
    return out


def _nova_texts(content: object, where: str, images: bool) -> dict | list[dict]:
    if not isinstance(content, list) or not content:
        raise _no(f"{where}: content is empty or not a list", "bad turn")
    parts: list[dict] = []
    for j, b in enumerate(content):
        bw = f"{where}[{j}]"
        if isinstance(b, dict) and set(b) == {"text"} and isinstance(b["text"], str):
            parts.append({"type": "text", "text": b["text"]})
        elif images and isinstance(b, dict) and set(b) == {"image"} and isinstance(b["image"], dict):
            src = b["image"].get("source")
            loc = src.get("s3Location") if isinstance(src, dict) else None
            uri = loc.get("uri") if isinstance(loc, dict) else None
            if not isinstance(uri, str) or set(src) != {"s3Location"}:
                raise _no(f"{bw}: an image not given by s3Location uri; OpenAI chat takes image URLs",
                          "image without an S3 URI")
            _only_keys(loc, ("uri",), f"{bw}.image.source.s3Location", _BACK)
            _only_keys(b["image"], ("format", "source"), f"{bw}.image", _BACK)
            if b["image"].get("format") != _NOVA_FORMATS.get(PurePosixPath(uri).suffix.lower()):
                raise _no(f"{bw}: format {short(str(b['image'].get('format')), 10)!r} does not match the file name "
                          f"{short(uri, 40)!r}; an image URL carries no separate format", "image format mismatch")
            parts.append({"type": "image_url", "image_url": {"url": uri}})
        else:
            keys = ", ".join(b) if isinstance(b, dict) else type_name(b)
            raise _no(f"{bw}: a block with {short(keys, 40)}; OpenAI chat has no equivalent here",
                      "block with no OpenAI equivalent")
    if len(parts) == 1 and parts[0]["type"] == "text":
        return parts[0]["text"]
    return parts


def _nova_back(rec: dict, call_id: CallIds | None = None) -> tuple[list[dict], list | None]:
    """Nova ``system`` + ``messages`` → OpenAI messages, and the last turn's candidates if any."""
    msgs: list[dict] = []
    if "system" in rec:
        sys_ = rec["system"]
        if not isinstance(sys_, list) or not sys_:
            raise _no("system is empty or not a list", "bad system")
        texts = []
        for j, b in enumerate(sys_):
            if not (isinstance(b, dict) and set(b) == {"text"} and isinstance(b["text"], str)):
                raise _no(f"system[{j}]: only text blocks have an OpenAI equivalent", "non-text system")
            texts.append(b["text"])
        msgs.append({"role": "system", "content": _openai_content(texts)})
    turns = rec.get("messages")
    if not isinstance(turns, list) or not turns:
        raise _no("messages is empty or not a list", "no messages")
    candidates = None
    for i, t in enumerate(turns):
        tw = f"messages[{i}]"
        if not isinstance(t, dict) or t.get("role") not in ("user", "assistant"):
            raise _no(f"{tw}: not a user or assistant turn", "bad role")
        if "candidates" in t:
            if i != len(turns) - 1 or t["role"] != "assistant":
                raise _no(f"{tw}: candidates belong only in the last assistant turn", "bad candidates")
            _only_keys(t, ("role", "candidates"), tw, _BACK)
            candidates = t["candidates"]
            break
        _only_keys(t, ("role", "content"), tw, _BACK)
        msgs.append({"role": t["role"], "content": _nova_texts(t.get("content"), f"{tw}.content",
                                                              images=t["role"] == "user")})
    return msgs, candidates


def _check_schema(rec: dict) -> None:
    v = rec.get("schemaVersion")
    if v is not None and v != NOVA_SCHEMA:
        raise _no(f"schemaVersion {short(str(v), 40)!r}: this converter reads {NOVA_SCHEMA} only",
                  "other Nova schema")


def from_nova(rec: dict, call_id: CallIds) -> dict:
    """Bedrock Nova ``bedrock-conversation-2024`` line → OpenAI chat."""
    _only_keys(rec, ("schemaVersion", "system", "messages"), "record", _BACK)
    _check_schema(rec)
    msgs, cands = _nova_back(rec)
    if cands is not None:
        raise _no("a DPO record (candidates): convert it with --to openai-dpo", "not chat data")
    return {"messages": msgs}


def from_nova_dpo(rec: dict, call_id: CallIds) -> dict:
    """Nova DPO line → OpenAI preference."""
    _only_keys(rec, ("schemaVersion", "system", "messages"), "record", _BACK)
    _check_schema(rec)
    msgs, cands = _nova_back(rec)
    if not isinstance(cands, list) or len(cands) != 2:
        raise _no("messages: the last assistant turn needs exactly two candidates", "bad candidates")
    by_label: dict = {}
    for i, c in enumerate(cands):
        if not isinstance(c, dict):
            raise _no(f"candidates[{i}] is not an object", "bad candidates")
        _only_keys(c, ("content", "preferenceLabel"), f"candidates[{i}]", _BACK)
        text = _nova_texts(c.get("content"), f"candidates[{i}].content", images=False)
        label = c.get("preferenceLabel")
        by_label[label if isinstance(label, str) else repr(label)] = [{"role": "assistant", "content": text}]
    if set(by_label) != {"preferred", "non-preferred"}:
        raise _no("candidates: need one labelled preferred and one non-preferred", "bad candidates")
    return {"input": {"messages": msgs}, "preferred_output": by_label["preferred"],
            "non_preferred_output": by_label["non-preferred"]}


# ---------------------------------------------------------------------------------------------
# TRL
# ---------------------------------------------------------------------------------------------

def _trl_messages(msgs: object, where: str) -> list:
    if not isinstance(msgs, list):
        raise _no(f"{where} is not a list", "no messages")
    out = []
    for i, m in enumerate(msgs):
        if isinstance(m, dict) and m.get("weight") == 0:
            raise _no(f"{where}[{i}]: weight 0; TRL has no per-turn weight and would train on this turn",
                      "weight 0 in trl")
        if isinstance(m, dict) and m.get("tool_calls"):
            calls = []
            for j, tc in enumerate(m["tool_calls"]):
                cw = f"{where}[{i}].tool_calls[{j}]"
                args = _args_object(tc, cw)  # checks that tc["function"] is an object
                calls.append({**tc, "function": {**tc["function"], "arguments": args}})
            m = {**m, "tool_calls": calls}
        out.append(m)
    return out


def to_trl(rec: dict, notes: Counter) -> dict:
    """OpenAI chat → TRL conversational: the same record, tool-call arguments as objects."""
    return {**rec, "messages": _trl_messages(rec.get("messages"), "messages")}


def to_trl_preference(rec: dict, notes: Counter) -> dict:
    """OpenAI preference → TRL conversational preference (prompt / chosen / rejected)."""
    _only_keys(rec, ("input", "preferred_output", "non_preferred_output"), "record", TRL)
    inp = rec.get("input")
    if not isinstance(inp, dict):
        raise _no("input is not an object", "bad preference record")
    _only_keys(inp, ("messages", "tools"), "input", TRL)
    out: dict = {"prompt": _trl_messages(inp.get("messages"), "input.messages"),
                 "chosen": _trl_messages(rec.get("preferred_output"), "preferred_output"),
                 "rejected": _trl_messages(rec.get("non_preferred_output"), "non_preferred_output")}
    if inp.get("tools"):
        out["tools"] = inp["tools"]
    return out


# ---------------------------------------------------------------------------------------------
# Dispatch and detection
# ---------------------------------------------------------------------------------------------

# (--to name, OpenAI shape of the record) → (written shape, function)
_EXPORTS: dict[tuple[str, bool], tuple[str, Callable[[dict, Counter], dict]]] = {
    (VERTEX, False): (VERTEX, to_vertex), (VERTEX, True): (VERTEX_PREF, to_vertex_preference),
    (NOVA, False): (NOVA, to_nova), (NOVA, True): (NOVA_DPO, to_nova_dpo),
    (TRL, False): (TRL, to_trl), (TRL, True): (TRL_PREF, to_trl_preference),
}
IMPORTS: dict[str, Callable[[dict, CallIds], dict]] = {
    VERTEX: from_vertex, VERTEX_PREF: from_vertex_preference, NOVA: from_nova, NOVA_DPO: from_nova_dpo,
}
PREFERENCE_SHAPES = frozenset({VERTEX_PREF, NOVA_DPO})


def shape(target: str, preference: bool) -> str:
    """The shape ``--to target`` writes for chat (``preference`` False) or preference records."""
    return _EXPORTS[(target, preference)][0]


def export(target: str, preference: bool, rec: dict, notes: Counter) -> dict:
    """One OpenAI record (already validated) in ``target``'s shape; raises ``Unexpressible``."""
    return _EXPORTS[(target, preference)][1](rec, notes)


def _nova_content(m: object) -> bool:
    c = m.get("content") if isinstance(m, dict) else None
    return isinstance(c, list) and bool(c) and all(
        isinstance(b, dict) and "type" not in b and len(b) == 1 and next(iter(b)) in ("text", "image", "video")
        for b in c)


def detect(rec: dict) -> str | None:
    """VERTEX / VERTEX_PREF / NOVA / NOVA_DPO when ``rec`` is in that shape, else None."""
    contents = rec.get("contents")
    if isinstance(contents, list) and contents and all(isinstance(t, dict) and "parts" in t for t in contents):
        return VERTEX_PREF if "completions" in rec else VERTEX
    msgs = rec.get("messages")
    if isinstance(msgs, list) and msgs and "schemaVersion" in rec or (
            isinstance(msgs, list) and msgs and (any(_nova_content(m) for m in msgs)
                                                 or isinstance(msgs[-1], dict) and "candidates" in msgs[-1])):
        last = msgs[-1]
        return NOVA_DPO if isinstance(last, dict) and "candidates" in last else NOVA
    return None


def refine(forced: str, rec: object) -> str:
    """``--from vertex`` / ``--from bedrock-nova``: the chat or preference variant of this record."""
    if not isinstance(rec, dict):
        return forced
    if forced == VERTEX:
        return VERTEX_PREF if "completions" in rec else VERTEX
    msgs = rec.get("messages")
    last = msgs[-1] if isinstance(msgs, list) and msgs else None
    return NOVA_DPO if isinstance(last, dict) and "candidates" in last else NOVA
