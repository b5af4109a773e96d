"""DP200-DP221: the structure of one OpenAI chat (SFT) or preference (DPO) example.

Each function takes one parsed record and a Sink, and is pure: no I/O, no state across lines.
"""

from __future__ import annotations

import re

import orjson

from dataprep.checks.base import Sink, pointer_escape, short, type_name
from dataprep.checks.content import (
    H_ALL,
    H_RULES,
    assistant_rules,
    check_repeated_text,
    check_text,
    check_text_at,
    needs_text_check,
)
from dataprep.schema.limits import provider_limits

CHAT_TOP_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
DPO_TOP_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
DPO_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"})
PART_TYPES = frozenset({"text", "image_url"})
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.I)
_DATA_IMAGE = re.compile(r"data:image/([A-Za-z0-9.+-]{1,40});base64,", re.I)
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/=\s]+\Z", re.ASCII)  # ASCII: \s is the six whitespace bytes
_LIMITS = provider_limits()
MAX_IMAGES = _LIMITS["max_images_per_example"]
MAX_IMAGE_BYTES = _LIMITS["max_image_bytes"]
IMAGE_TYPES = frozenset(_LIMITS["image_types"])


def check_chat(rec: dict, sink: Sink, content: bool = True, hints: int = H_ALL) -> None:
    """Every structural and content rule of one OpenAI chat SFT example.

    ``hints``: content.line_hints of the raw line, the content rule families that may fire.
    """
    if len(rec) == 1 and "messages" in rec:  # the usual line: nothing else to check at the top
        msgs = rec["messages"]
        if type(msgs) is list and msgs:
            check_messages(msgs, sink, "/messages", None, require_assistant=True, content=content, hints=hints)
            return
    if not CHAT_TOP_KEYS.issuperset(rec):  # one C call for the usual clean line
        for k in rec:
            if k not in CHAT_TOP_KEYS:
                hint = " (weight belongs on assistant messages)" if k == "weight" else ""
                sink.add("DP201", f"unknown top-level key {short(k)!r}{hint}; allowed: messages, tools, "
                         "parallel_tool_calls, functions", f"/{pointer_escape(k)}")
    ptc = rec.get("parallel_tool_calls")
    if ptc is not None and not isinstance(ptc, bool):
        sink.add("DP201", f"parallel_tool_calls must be true or false, not {type_name(ptc)}", "/parallel_tool_calls")
    # Without either key the definitions check has nothing to say and returns None.
    defined = _check_tool_definitions(rec, sink, "") if "tools" in rec or "functions" in rec else None
    msgs = rec.get("messages")
    if not isinstance(msgs, list) or not msgs:
        what = "missing" if msgs is None and "messages" not in rec else (
            "empty" if isinstance(msgs, list) else f"a {type_name(msgs)}, not a list")
        sink.add("DP200", f"messages is {what}; each line needs a non-empty list of messages", "/messages")
        return
    check_messages(msgs, sink, "/messages", defined, require_assistant=True, content=content, hints=hints)


def check_dpo(rec: dict, sink: Sink, content: bool = True, hints: int = H_ALL) -> None:
    """The OpenAI preference format: input.messages + one preferred and one non-preferred reply."""
    for k in rec:
        if k not in DPO_TOP_KEYS:
            sink.add("DP201", f"unknown top-level key {short(k)!r} in a preference example; allowed: input, "
                     "preferred_output, non_preferred_output", f"/{pointer_escape(k)}")
    inp = rec.get("input")
    if not isinstance(inp, dict):
        sink.add("DP220", f"input must be an object with messages, not {type_name(inp)}", "/input")
    else:
        for k in inp:
            if k not in DPO_INPUT_KEYS:
                sink.add("DP201", f"unknown key {short(k)!r} in input", f"/input/{pointer_escape(k)}")
        defined = _check_tool_definitions(inp, sink, "/input")
        msgs = inp.get("messages")
        if not isinstance(msgs, list) or not msgs:
            sink.add("DP220", "input.messages must be a non-empty list of messages", "/input/messages")
        else:
            check_messages(msgs, sink, "/input/messages", defined, require_assistant=False, content=content,
                           hints=hints)
            last = msgs[-1]
            if type(last) is dict and last.get("role") == "assistant":
                sink.add("DP222", "input ends with an assistant message, so the two outputs answer no prompt; end "
                         "input.messages with the user (or tool) turn they reply to", f"/input/messages/{len(msgs) - 1}")
    texts = []
    for key in ("preferred_output", "non_preferred_output"):
        out = rec.get(key)
        ptr = f"/{key}"
        if out is None:
            sink.add("DP220", f"{key} is missing", ptr)
            continue
        if not isinstance(out, list) or len(out) != 1:
            n = len(out) if isinstance(out, list) else type_name(out)
            sink.add("DP220", f"{key} must be a list of exactly one assistant message (got {n})", ptr)
            continue
        m = out[0]
        if not isinstance(m, dict) or m.get("role") != "assistant":
            sink.add("DP220", f"{key}[0] must be an assistant message", f"{ptr}/0")
            continue
        c = m.get("content")
        if not isinstance(c, str):
            sink.add("DP220", f"{key}[0].content must be text (preference outputs are text only), "
                     f"not {type_name(c)}", f"{ptr}/0/content")
            continue
        for k in m:
            if k not in ("role", "content"):
                sink.add("DP205", f"unknown key {short(k)!r} in a preference output", f"{ptr}/0/{pointer_escape(k)}")
        if content:
            check_text(c, sink, (ptr, 0, "content"), assistant=True, hints=hints)
        texts.append(c)
    if len(texts) == 2 and texts[0].strip() == texts[1].strip():
        sink.add("DP221", "preferred and non-preferred outputs are the same text; the pair teaches nothing",
                 "/non_preferred_output/0/content")


def _check_tool_definitions(rec: dict, sink: Sink, base: str) -> set[str] | None:
    """DP213; returns the defined function names, or None when the example defines none."""
    names: set[str] | None = None
    tools = rec.get("tools")
    if "tools" in rec:
        names = set()
        if not isinstance(tools, list):
            sink.add("DP213", f"tools must be a list, not {type_name(tools)}", f"{base}/tools")
        else:
            for i, t in enumerate(tools):
                ptr = f"{base}/tools/{i}"
                if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(t.get("function"), dict):
                    sink.add("DP213", "each tool must be {\"type\": \"function\", \"function\": {name, parameters}}", ptr)
                    continue
                name = _check_function_def(t["function"], sink, f"{ptr}/function")
                if name:
                    names.add(name)
    funcs = rec.get("functions")
    if "functions" in rec:
        names = names or set()
        if not isinstance(funcs, list):
            sink.add("DP213", f"functions must be a list, not {type_name(funcs)}", f"{base}/functions")
        else:
            for i, f in enumerate(funcs):
                if not isinstance(f, dict):
                    sink.add("DP213", "each function must be an object {name, parameters}", f"{base}/functions/{i}")
                    continue
                name = _check_function_def(f, sink, f"{base}/functions/{i}")
                if name:
                    names.add(name)
    return names


def _check_function_def(fn: dict, sink: Sink, ptr: str) -> str | None:
    name = fn.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        sink.add("DP213", f"function name {short(name)!r} must match ^[a-zA-Z0-9_-]{{1,64}}$", f"{ptr}/name")
        name = None
    if "parameters" in fn:
        p = fn["parameters"]
        if not isinstance(p, dict):
            sink.add("DP213", f"parameters must be a JSON Schema object, not {type_name(p)}", f"{ptr}/parameters")
        elif "type" in p and p["type"] != "object":
            sink.add("DP213", f"parameters schema must have type \"object\", not {short(p['type'])!r}",
                     f"{ptr}/parameters/type")
        elif "properties" in p and not isinstance(p["properties"], dict):
            sink.add("DP213", "parameters.properties must be an object", f"{ptr}/parameters/properties")
        else:
            problem = schema_problem(p)
            if problem is not None:
                where, why = problem
                sink.add("DP213", f"parameters is not a valid JSON Schema: {why}", f"{ptr}/parameters{where}")
    return name


# canonical JSON of a parameters schema -> None (valid) or (pointer below it, reason). Files repeat
# the same few tool definitions on every line: each distinct schema is checked once. Bounded;
# cleared when full.
_SCHEMA_PROBLEMS: dict[bytes, tuple[str, str] | None] = {}
_SCHEMA_PROBLEMS_MAX = 4096
_META_CHECKERS: dict = {}  # validator class -> a validator over that draft's meta-schema


def schema_problem(schema: dict) -> tuple[str, str] | None:
    """Why ``schema`` is not a valid JSON Schema (checked against its draft's meta-schema), or None.

    The draft is the one ``$schema`` names, else 2020-12 (what OpenAI's function parameters follow).
    """
    try:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # nesting beyond orjson's limit: judged without the cache
        key = None
    if key is not None and key in _SCHEMA_PROBLEMS:
        return _SCHEMA_PROBLEMS[key]
    found = _meta_check(schema)
    if key is not None:
        if len(_SCHEMA_PROBLEMS) >= _SCHEMA_PROBLEMS_MAX:
            _SCHEMA_PROBLEMS.clear()
        _SCHEMA_PROBLEMS[key] = found
    return found


def _meta_check(schema: dict) -> tuple[str, str] | None:
    # jsonschema is imported on first use: most files define no tools, and the import costs
    # ~0.1 s in every worker process.
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import best_match

    try:
        cls = validators.validator_for(schema, default=Draft202012Validator)
        checker = _META_CHECKERS.get(cls)
        if checker is None:
            checker = _META_CHECKERS[cls] = cls(cls.META_SCHEMA)
        err = best_match(checker.iter_errors(schema))
    except RecursionError:  # fail closed: a schema we cannot check is not passed as valid
        return "", "it nests too deeply to be checked"
    if err is None:
        return None
    where = "".join(f"/{pointer_escape(str(k))}" for k in err.absolute_path)
    return where, short(err.message, 100)


def check_messages(msgs: list, sink: Sink, base: str, defined: set[str] | None, *, require_assistant: bool,
                   content: bool = True, hints: int = H_ALL) -> None:
    """Roles, keys, content, weights, tool calls, images and turn order of one message list."""
    call_turn: dict[str, int] = {}  # tool call id -> the message that made the call
    # The answer block of the latest assistant turn with tool calls: the ids still unanswered
    # (id -> index in its tool_calls). None when no block is open; any message but a tool
    # message closes it.
    open_calls: dict[str, int] | None = None
    block_turn = -1
    images = 0
    assistants = 0
    zero_weight = 0
    last_assistant = -1
    prev_role = None
    prev_had_calls = False
    seen_non_system = False
    rules = hints & H_RULES  # some text rule family may fire on this line (content.line_hints)
    for i, m in enumerate(msgs):
        if open_calls is not None and not (m.__class__ is dict and m.get("role") == "tool"):
            if open_calls:
                _unanswered(open_calls, sink, base, block_turn, i)
            open_calls, block_turn = None, -1
        # Fast path: the {role, content} user / assistant / system message with text content,
        # which is most messages. It does exactly what the general path below does for that
        # shape (valid role and keys, no tool or weight keys), in the same order.
        if m.__class__ is dict and len(m) == 2:  # __class__: a little cheaper than type() here
            role = m.get("role")
            c = m.get("content")
            if c.__class__ is str and role.__class__ is str:  # both keys present: they are the two keys
                if role == "user":
                    # With no line hint, only a text that needs_text_check can trip a rule here.
                    if content and (rules or needs_text_check(c)):
                        check_text_at(c, sink, (base, i, "content"), False, False, hints)
                    seen_non_system = True
                    if prev_role == "user":
                        sink.add("DP215", "two user messages in a row; merge them or add the assistant turn between",
                                 f"{base}/{i}/role")
                    prev_role, prev_had_calls = role, False
                    continue
                if role == "assistant":
                    if content:
                        if rules or needs_text_check(c):
                            check_text_at(c, sink, (base, i, "content"), True, False, hints)
                        else:  # what check_text_at does for such a text: the assistant rules only
                            assistant_rules(c, sink, (base, i, "content"), hints)
                    seen_non_system = True
                    assistants += 1
                    last_assistant = i
                    prev_role, prev_had_calls = role, False
                    continue
                if role == "system":
                    if content and (rules or needs_text_check(c)):
                        check_repeated_text(c, sink, f"{base}/{i}/content")
                    if seen_non_system:
                        sink.add("DP215", f"{role} message at position {i} after the conversation started; put it "
                                 "first", f"{base}/{i}/role")
                    prev_role, prev_had_calls = role, False
                    continue
        if type(m) is not dict:
            sink.add("DP202", f"message {i} is a {type_name(m)}, not an object", f"{base}/{i}")
            prev_role, prev_had_calls = None, False
            continue
        role = m.get("role")
        is_assistant = role == "assistant"
        if type(role) is not str or role not in ROLES:  # a list or object role is unhashable
            if role is None:
                sink.add("DP203", f"message {i} has no role", f"{base}/{i}/role" if "role" in m else f"{base}/{i}")
            else:
                sink.add("DP204", f"unknown role {short(role)!r}; use system, developer, user, assistant or tool",
                         f"{base}/{i}/role")
        if not MESSAGE_KEYS.issuperset(m):
            for k in m:
                if k not in MESSAGE_KEYS:
                    sink.add("DP205", f"unknown message key {short(k)!r}", f"{base}/{i}/{pointer_escape(k)}")
        has_calls = False
        if len(m) > 2 or "content" not in m:  # the common {role, content} message skips the rare keys
            calls = m.get("tool_calls")
            fcall = m.get("function_call")
            has_calls = bool(calls) or bool(fcall)
            if calls is not None:
                if not is_assistant:
                    sink.add("DP211", "only assistant messages may carry tool_calls", f"{base}/{i}/tool_calls")
                made = _check_tool_calls(calls, sink, f"{base}/{i}/tool_calls", defined)
                for cid in made:
                    call_turn[cid] = i
                if is_assistant and made:
                    open_calls, block_turn = made, i
            if fcall is not None:
                _check_function_call(fcall, sink, f"{base}/{i}/function_call", defined)
            if "weight" in m:
                w = m["weight"]
                if not is_assistant:
                    sink.add("DP210", f"weight on a {short(role)} message; only assistant messages take a weight "
                             "(`dataprep fix` removes it)", f"{base}/{i}/weight")
                elif type(w) is not int or w not in (0, 1):
                    sink.add("DP210", f"weight must be 0 or 1, not {short(w)}", f"{base}/{i}/weight")
                elif w == 0:
                    zero_weight += 1
            if role == "tool":
                tcid = m.get("tool_call_id")
                if not isinstance(tcid, str) or not tcid:
                    sink.add("DP212", "tool message without tool_call_id",
                             f"{base}/{i}/tool_call_id" if "tool_call_id" in m else f"{base}/{i}")
                elif open_calls is not None and tcid in open_calls:
                    del open_calls[tcid]  # answered
                elif tcid not in call_turn:
                    sink.add("DP212", f"tool_call_id {short(tcid)!r} matches no earlier tool call",
                             f"{base}/{i}/tool_call_id")
                elif call_turn[tcid] != block_turn:  # (a second result for a call of this turn is not judged)
                    sink.add("DP212", f"tool_call_id {short(tcid)!r} answers the call of message {call_turn[tcid]}, "
                             "not of the assistant turn right before it; put each result right after its call",
                             f"{base}/{i}/tool_call_id")
            elif role == "function" and not isinstance(m.get("name"), str):
                sink.add("DP212", "function message without the name of the function it answers", f"{base}/{i}")
        elif role == "tool":
            sink.add("DP212", "tool message without tool_call_id", f"{base}/{i}")
        c = m.get("content")
        if type(c) is str:
            if content:
                if is_assistant:
                    check_text(c, sink, (base, i, "content"), assistant=True, has_calls=has_calls, hints=hints)
                # Without a hint bit, only a text that needs_text_check can trip a non-assistant rule.
                elif hints & H_RULES or needs_text_check(c):
                    if role == "system" or role == "developer":  # the same few prompts on most lines
                        check_repeated_text(c, sink, f"{base}/{i}/content", has_calls=has_calls)
                    else:
                        check_text(c, sink, (base, i, "content"), assistant=False, has_calls=has_calls,
                                   hints=hints)
        elif c is None:
            if not (is_assistant and (has_calls or isinstance(m.get("refusal"), str))):
                sink.add("DP206", f"message {i} ({short(role)}) has no content" +
                         (" and no tool_calls" if is_assistant else ""), f"{base}/{i}/content")
        elif type(c) is list:
            images += _check_parts(c, sink, f"{base}/{i}/content", role, content, hints)
        else:
            sink.add("DP207", f"content must be a string or a list of parts, not {type_name(c)}",
                     f"{base}/{i}/content")
        # turn order (the assistant and user turns, by far the most common, are tested first)
        if is_assistant:
            seen_non_system = True
            assistants += 1
            last_assistant = i
        elif role == "user":
            seen_non_system = True
            if prev_role == "user":
                sink.add("DP215", "two user messages in a row; merge them or add the assistant turn between",
                         f"{base}/{i}/role")
        elif role == "system" or role == "developer":
            if seen_non_system:
                sink.add("DP215", f"{role} message at position {i} after the conversation started; put it first",
                         f"{base}/{i}/role")
        elif role is not None:
            seen_non_system = True
            if (role == "tool" or role == "function") and not (prev_had_calls or prev_role in ("tool", "function")):
                sink.add("DP215", f"{role} message not right after an assistant tool call", f"{base}/{i}/role")
        prev_role, prev_had_calls = role, has_calls and is_assistant
    if open_calls and block_turn < len(msgs) - 1:  # an example may end on the call itself, not halfway
        _unanswered(open_calls, sink, base, block_turn, None)
    if images > MAX_IMAGES:
        sink.add("DP216", f"{images} images in one example; at most {MAX_IMAGES} are allowed", base)
    if require_assistant:
        if assistants == 0:
            sink.add("DP208", "no assistant message: nothing to train on", base)
        else:
            if last_assistant < len(msgs) - 1:
                sink.add("DP209", f"{len(msgs) - 1 - last_assistant} message(s) after the last assistant turn are "
                         "never trained on; end the example with the assistant reply", f"{base}/{last_assistant + 1}")
            if zero_weight == assistants:
                sink.add("DP217", "every assistant message has weight 0: no trainable tokens", base)


def _check_parts(parts: list, sink: Sink, ptr: str, role, content: bool = True, hints: int = H_ALL) -> int:
    images = 0
    if not parts:
        sink.add("DP300", "content is an empty list of parts", ptr)
    for j, p in enumerate(parts):
        pp = f"{ptr}/{j}"
        if not isinstance(p, dict):
            sink.add("DP207", f"content part {j} is a {type_name(p)}, not an object", pp)
            continue
        t = p.get("type")
        if t == "text":
            txt = p.get("text")
            if not isinstance(txt, str):
                sink.add("DP207", "text part without a text string", f"{pp}/text")
            elif content:
                check_text(txt, sink, f"{pp}/text", assistant=role == "assistant", hints=hints)
        elif t == "image_url":
            images += 1
            if role == "assistant":
                sink.add("DP216", "image in an assistant message; images are allowed in user and system "
                         "messages only", pp)
            iu = p.get("image_url")
            url = iu.get("url") if isinstance(iu, dict) else None
            problem = _image_problem(url)
            if problem is not None:
                sink.add("DP216", problem, f"{pp}/image_url")
        else:
            sink.add("DP207", f"unknown content part type {short(t)!r}; use text or image_url", f"{pp}/type")
    return images


def _image_problem(url) -> str | None:
    """Why an image URL would be refused (OpenAI: http(s), or base64 JPEG/PNG/WEBP up to 10 MB)."""
    if isinstance(url, str):
        if _HTTP_URL.match(url):
            return None
        m = _DATA_IMAGE.match(url)
        if m:
            kind = m.group(1).lower()
            if kind not in IMAGE_TYPES:
                return (f"image type image/{short(kind, 20)} is not accepted: use JPEG, PNG or WEBP (convert the "
                        "image)")
            start = m.end()
            if _BASE64_BODY.match(url, start):  # one C pass over the payload; nothing is decoded
                size = _decoded_size(url, start)
                if size <= MAX_IMAGE_BYTES:
                    return None
                return (f"image is {size:,} bytes once decoded; at most {MAX_IMAGE_BYTES:,} bytes (10 MB) per "
                        "image are accepted: downscale or recompress it")
    return f"image URL {short(url, 40)!r} must be http(s) or a data:image/... base64 URL"


def _decoded_size(url: str, start: int) -> int:
    """Bytes that the base64 payload ``url[start:]`` decodes to, from its length and padding alone."""
    n = len(url) - start
    for ch in " \t\r\n\f\v":  # base64 may be wrapped; the whitespace decodes to nothing
        if ch in url:
            n -= url.count(ch, start)
    end = len(url)
    while end > start and url[end - 1] in " \t\r\n\f\v":
        end -= 1
    n -= 2 if url.endswith("==", start, end) else 1 if url.endswith("=", start, end) else 0
    # 4 characters carry 3 bytes; a final group of 2 or 3 characters carries 1 or 2 bytes.
    return n // 4 * 3 + max(0, n % 4 - 1)


def _unanswered(open_calls: dict[str, int], sink: Sink, base: str, turn: int, until: int | None) -> None:
    """DP218 for each call of message ``turn`` that no tool message answered (before ``until``)."""
    where = f"before message {until}" if until is not None else "before the example ends"
    for cid, j in open_calls.items():
        sink.add("DP218", f"tool call {short(cid)!r} of message {turn} gets no tool message with its result "
                 f"{where}; OpenAI refuses unanswered calls. Add the result right after the call",
                 f"{base}/{turn}/tool_calls/{j}/id")


def _check_tool_calls(calls, sink: Sink, ptr: str, defined: set[str] | None) -> dict[str, int]:
    """DP211 / DP214 on one tool_calls list; returns the ids it calls, each with its index."""
    made: dict[str, int] = {}
    if not isinstance(calls, list):
        sink.add("DP211", f"tool_calls must be a list, not {type_name(calls)}", ptr)
        return made
    for j, c in enumerate(calls):
        cp = f"{ptr}/{j}"
        if not isinstance(c, dict):
            sink.add("DP211", f"tool call {j} is not an object", cp)
            continue
        cid = c.get("id")
        if not isinstance(cid, str) or not cid:
            sink.add("DP211", "tool call without an id", f"{cp}/id")
        else:
            made[cid] = j
        if c.get("type") != "function":
            sink.add("DP211", f"tool call type must be \"function\", not {short(c.get('type'))!r}", f"{cp}/type")
        fn = c.get("function")
        if not isinstance(fn, dict):
            sink.add("DP211", "tool call without a function object", f"{cp}/function")
            continue
        _check_call_function(fn, sink, f"{cp}/function", defined)
    return made


def _check_function_call(fc, sink: Sink, ptr: str, defined: set[str] | None) -> None:
    if not isinstance(fc, dict):
        sink.add("DP211", f"function_call must be an object, not {type_name(fc)}", ptr)
        return
    _check_call_function(fc, sink, ptr, defined)


def _check_call_function(fn: dict, sink: Sink, ptr: str, defined: set[str] | None) -> None:
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        sink.add("DP211", "function call without a name", f"{ptr}/name")
    elif not TOOL_NAME.fullmatch(name):  # no tool can be defined under such a name: DP214 would be noise
        sink.add("DP211", f"function name {short(name)!r} must match ^[a-zA-Z0-9_-]{{1,64}}$ (as tool "
                 "definitions do)", f"{ptr}/name")
    elif defined is None:
        sink.add("DP214", f"call to {short(name)!r} but the example defines no tools", f"{ptr}/name")
    elif name not in defined:
        sink.add("DP214", f"call to {short(name)!r}, which tools does not define", f"{ptr}/name")
    args = fn.get("arguments")
    if isinstance(args, str):
        try:
            parsed = orjson.loads(args)
        except orjson.JSONDecodeError as e:
            sink.add("DP211", f"arguments is not valid JSON ({e.msg} at character {e.pos + 1})", f"{ptr}/arguments")
            return
        if not isinstance(parsed, dict):
            sink.add("DP211", f"arguments must encode a JSON object, not {type_name(parsed)}", f"{ptr}/arguments")
    elif isinstance(args, dict):
        sink.add("DP211", "arguments is an object; it must be a string holding JSON (`dataprep fix` stringifies it)",
                 f"{ptr}/arguments")
    else:
        sink.add("DP211", f"arguments must be a JSON-object string, not {type_name(args)}", f"{ptr}/arguments")
