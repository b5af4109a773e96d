"""Reading chat JSONL for the training backends and converting OpenAI-format examples for local
trainers (no heavy dependencies: used by the trl backend, the config exports and the openai backend).

Conversion of one OpenAI chat example (`{"messages": [...], "tools"?, "functions"?}`) to the
message list a Hugging Face chat template expects (`to_hf_conversation`):

- `content`: a string stays as is; `null` becomes ""; a list of parts keeps its text parts, joined
  with "\\n"; image parts are dropped (the local backends are text-only) and counted.
- `weight` is removed from the message and becomes the message's `trainable` flag:
  an assistant message is trained unless `weight == 0`; other roles are never trained.
- `tool_calls[].function.arguments` (a JSON string in OpenAI's format) is parsed into an object,
  which is what Hugging Face chat templates expect (`arguments | tojson`); if it is not valid JSON the
  string is kept.
- The deprecated `functions` list becomes `tools` (`{"type": "function", "function": f}`), an
  assistant `function_call` becomes a one-element `tool_calls`, and a `function` role message becomes
  a `tool` message carrying `name`.
- `tools` are passed to the chat template (`tools=`). A template that does not reference `tools`
  cannot show them to the model: the definitions are then dropped (counted, warned) and assistant
  tool calls are rendered into the assistant content as JSON (`{"tool_calls": [...]}`) so that
  what the model is trained to emit is still the call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DataError(ValueError):
    """The training file cannot be used by a backend (the gate should have caught it first)."""


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line number, object) for every non-blank line; DataError on the first bad line."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(f"{path}:{lineno}: not a JSON line ({exc}); run `dataprep validate` first") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def detect_format(path: str | Path) -> str:
    """"openai-dpo" when the first example is a preference pair, else "openai-chat"."""
    for _, obj in iter_jsonl(path):
        if "preferred_output" in obj or "non_preferred_output" in obj:
            return "openai-dpo"
        if "messages" in obj:
            return "openai-chat"
        raise DataError(f"{path}: first example has neither 'messages' nor a preference pair; "
                        "convert it with `dataprep convert`")
    raise DataError(f"{path}: no examples")


@dataclass
class ConversionStats:
    examples: int = 0
    skipped: int = 0
    images_dropped: int = 0
    tool_definitions_dropped: int = 0
    tool_calls_as_text: int = 0
    weight0_turns: int = 0
    trained_turns: int = 0
    notes: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        out = []
        if self.images_dropped:
            out.append(f"{self.images_dropped} image part(s) dropped: the local backends train on text only")
        if self.tool_definitions_dropped:
            out.append(f"tool definitions of {self.tool_definitions_dropped} example(s) dropped: the chat "
                       "template does not render `tools`")
        if self.tool_calls_as_text:
            out.append(f"{self.tool_calls_as_text} assistant tool call message(s) rendered as JSON text: the "
                       "chat template does not render `tool_calls`")
        if self.skipped:
            out.append(f"{self.skipped} example(s) skipped (no trainable assistant tokens)")
        return out + self.notes

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "notes"}


def content_text(content: Any, stats: ConversionStats | None = None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict):
                if part.get("type") == "text" or ("text" in part and "type" not in part):
                    texts.append(str(part.get("text", "")))
                elif stats is not None:
                    stats.images_dropped += 1
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts)
    return str(content)


def _parse_arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except json.JSONDecodeError:
            return arguments
    return arguments


def _tools_of(example: dict[str, Any]) -> list[dict[str, Any]] | None:
    tools = example.get("tools")
    if not tools and example.get("functions"):
        tools = [{"type": "function", "function": f} for f in example["functions"] if isinstance(f, dict)]
    return list(tools) if tools else None


def to_hf_conversation(
    example: dict[str, Any],
    *,
    template_renders_tools: bool = True,
    template_renders_tool_calls: bool = True,
    stats: ConversionStats | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, list[bool]]:
    """OpenAI chat example -> (HF messages, tools or None, trainable flag per message)."""
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        raise DataError("example has no 'messages' list")
    tools = _tools_of(example)
    if tools and not template_renders_tools:
        if stats is not None:
            stats.tool_definitions_dropped += 1
        tools = None
    out: list[dict[str, Any]] = []
    trainable: list[bool] = []
    for msg in messages:
        if not isinstance(msg, dict):
            raise DataError("a message is not an object")
        role = msg.get("role")
        new: dict[str, Any] = {"role": role, "content": content_text(msg.get("content"), stats)}
        if role == "function":  # deprecated form of a tool result
            new["role"] = "tool"
            if msg.get("name"):
                new["name"] = msg["name"]
        if msg.get("name") and role != "function":
            new["name"] = msg["name"]
        if msg.get("tool_call_id"):
            new["tool_call_id"] = msg["tool_call_id"]
        calls = msg.get("tool_calls")
        if not calls and isinstance(msg.get("function_call"), dict):
            calls = [{"type": "function", "function": msg["function_call"]}]
        if role == "assistant" and calls:
            hf_calls = []
            for call in calls:
                fn = dict(call.get("function") or {})
                fn["arguments"] = _parse_arguments(fn.get("arguments"))
                item = {"type": call.get("type", "function"), "function": fn}
                if call.get("id"):
                    item["id"] = call["id"]
                hf_calls.append(item)
            if template_renders_tool_calls:
                new["tool_calls"] = hf_calls
            else:
                text = json.dumps({"tool_calls": [c["function"] for c in hf_calls]}, ensure_ascii=False)
                new["content"] = (new["content"] + "\n" + text) if new["content"] else text
                if stats is not None:
                    stats.tool_calls_as_text += 1
        is_trained = role == "assistant" and msg.get("weight", 1) != 0
        if stats is not None and role == "assistant":
            if is_trained:
                stats.trained_turns += 1
            else:
                stats.weight0_turns += 1
        out.append(new)
        trainable.append(is_trained)
    return out, tools, trainable


def read_chat_examples(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """All examples of a chat JSONL (line number, object); DataError for a preference file."""
    rows = list(iter_jsonl(path))
    if not rows:
        raise DataError(f"{path}: no examples")
    for lineno, obj in rows:
        if "messages" not in obj:
            if "preferred_output" in obj:
                raise DataError(f"{path}:{lineno}: a preference (DPO) example; the local SFT backends need chat "
                                "examples (DPO is supported by the openai backend)")
            raise DataError(f"{path}:{lineno}: no 'messages'")
    return rows
