"""Weight-aware tokenisation of chat examples: `input_ids` + `labels` where only assistant turns
with `weight != 0` carry labels; everything else (system, user, tool messages, template headers,
weight-0 assistant turns) is -100.

TRL's `assistant_only_loss` masks by the template's `{% generation %}` blocks but knows nothing of
OpenAI's per-message `weight`, so dataprep tokenises itself and hands SFTTrainer a pre-tokenised
dataset (`input_ids` + `labels`; TRL 1.x uses a given `labels` column as is, then truncates to
`max_length` and packs if asked).

How the assistant spans are found in the rendered text (character offsets, then mapped to tokens
with the fast tokenizer's offset mapping):

1. Templates with `{% generation %}` blocks: the spans transformers reports for those blocks, one
   per assistant message, in order (exactly what TRL's assistant mask uses).
2. Other templates: prefix differencing. The span of assistant message i is what rendering
   `messages[:i+1]` adds to rendering `messages[:i]` with `add_generation_prompt=True` (the
   reply plus the template's end-of-turn text). Templates that rewrite earlier turns (some
   "thinking" templates drop past reasoning) break this; such an example raises TemplateError and
   the fix is a template with `{% generation %}` markers.

A token is trained when it starts inside a trained span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .data import ConversionStats, DataError, to_hf_conversation

_GENERATION_RE = re.compile(r"\{%-?\s*generation\s*-?%\}")


class TemplateError(ValueError):
    """The tokenizer's chat template cannot be used to locate assistant turns."""


@dataclass
class TemplateInfo:
    template: str
    has_generation: bool
    renders_tools: bool
    renders_tool_calls: bool


def template_info(tokenizer: Any) -> TemplateInfo:
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # several named templates: use the default one
        template = template.get("default") or next(iter(template.values()))
    if not template:
        raise TemplateError("the tokenizer has no chat template; pick an instruct/chat model or set one "
                            "(tokenizer.chat_template) before training")
    return TemplateInfo(
        template=template,
        has_generation=bool(_GENERATION_RE.search(template)),
        renders_tools="tools" in template,
        renders_tool_calls="tool_calls" in template,
    )


def _render(tokenizer: Any, info: TemplateInfo, messages, tools, *, add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        messages, tools=tools, chat_template=info.template, tokenize=False,
        add_generation_prompt=add_generation_prompt,
    )


def _generation_spans(tokenizer: Any, info: TemplateInfo, messages, tools) -> tuple[str, list[tuple[int, int]]] | None:
    try:
        from transformers.utils.chat_template_utils import render_jinja_template
    except ImportError:  # pragma: no cover - older/newer transformers layout
        return None
    try:
        rendered, indices = render_jinja_template(
            conversations=[messages], tools=tools, chat_template=info.template,
            return_assistant_tokens_mask=True, **dict(getattr(tokenizer, "special_tokens_map", {}) or {}),
        )
    except TypeError:  # pragma: no cover - signature changed
        return None
    return rendered[0], [tuple(span) for span in indices[0]]


def _prefix_spans(tokenizer: Any, info: TemplateInfo, messages, tools) -> tuple[str, list[tuple[int, int]]]:
    full = _render(tokenizer, info, messages, tools)
    spans = []
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        prefix = _render(tokenizer, info, messages[:i], tools, add_generation_prompt=True) if i else ""
        upto = _render(tokenizer, info, messages[: i + 1], tools)
        if not upto.startswith(prefix) or not full.startswith(upto):
            raise TemplateError(
                "the chat template renders earlier turns differently once later turns are added, so assistant "
                "turns cannot be located; use a template with {% generation %} markers")
        spans.append((len(prefix), len(upto)))
    return full, spans


def assistant_spans(tokenizer: Any, messages: list[dict], tools=None, info: TemplateInfo | None = None
                    ) -> tuple[str, list[tuple[int, int]]]:
    """(rendered text, one (start, end) character span per assistant message, in order)."""
    info = info or template_info(tokenizer)
    n_assistant = sum(1 for m in messages if m.get("role") == "assistant")
    if info.has_generation:
        found = _generation_spans(tokenizer, info, messages, tools)
        if found is not None and len(found[1]) == n_assistant:
            return found
    return _prefix_spans(tokenizer, info, messages, tools)


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    trained_turns: int
    masked_turns: int

    @property
    def trained_tokens(self) -> int:
        return sum(1 for x in self.labels if x != -100)


def tokenize_conversation(
    tokenizer: Any,
    example: dict[str, Any],
    *,
    info: TemplateInfo | None = None,
    stats: ConversionStats | None = None,
) -> TokenizedExample:
    """Tokenise one OpenAI chat example into input_ids + labels (see the module docstring)."""
    if not getattr(tokenizer, "is_fast", False):
        raise TemplateError("a fast (Rust) tokenizer is needed for offset mapping")
    info = info or template_info(tokenizer)
    messages, tools, trainable = to_hf_conversation(
        example, template_renders_tools=info.renders_tools,
        template_renders_tool_calls=info.renders_tool_calls, stats=stats,
    )
    text, spans = assistant_spans(tokenizer, messages, tools, info)
    assistant_flags = [t for m, t in zip(messages, trainable, strict=True) if m.get("role") == "assistant"]
    trained_spans = [span for span, flag in zip(spans, assistant_flags, strict=True) if flag]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids = list(enc["input_ids"])
    labels = [-100] * len(input_ids)
    if trained_spans:
        for idx, (start, end) in enumerate(enc["offset_mapping"]):
            if end <= start:
                continue
            for s, e in trained_spans:
                if s <= start < e:
                    labels[idx] = input_ids[idx]
                    break
    return TokenizedExample(
        input_ids=input_ids, labels=labels,
        trained_turns=sum(assistant_flags), masked_turns=len(assistant_flags) - sum(assistant_flags),
    )


def tokenize_file(tokenizer: Any, rows: list[tuple[int, dict[str, Any]]], *, stats: ConversionStats | None = None,
                  drop_untrained: bool = True) -> dict[str, list]:
    """Columns `input_ids`, `labels`, `line` for a list of (line, example); examples without any
    trained token are dropped (and counted in stats.skipped) unless drop_untrained is False."""
    info = template_info(tokenizer)
    cols: dict[str, list] = {"input_ids": [], "labels": [], "line": []}
    for lineno, example in rows:
        try:
            tok = tokenize_conversation(tokenizer, example, info=info, stats=stats)
        except DataError as exc:
            raise DataError(f"line {lineno}: {exc}") from None
        if stats is not None:
            stats.examples += 1
        if drop_untrained and tok.trained_tokens == 0:
            if stats is not None:
                stats.skipped += 1
            continue
        cols["input_ids"].append(tok.input_ids)
        cols["labels"].append(tok.labels)
        cols["line"].append(lineno)
    return cols
