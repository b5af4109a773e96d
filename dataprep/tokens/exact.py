"""Exact token counts of open-model training examples, as the trainer sees them, offline.

The formula counts (``count.py``) add a fixed overhead per message; a trainer instead renders
each example with the model's chat template and tokenises the text. This module does the same:

- :class:`TemplateCounter` — a local model directory (or ``tokenizer.json`` beside a
  ``tokenizer_config.json``) with a Jinja chat template. With ``transformers`` installed (the
  ``train`` extra) the template is rendered by transformers' own renderer and the text tokenised
  by the tokenizer as ``apply_chat_template(..., tokenize=True)`` does; without it, by ``jinja2`` in
  the same sandboxed environment (trim_blocks, lstrip_blocks, ``{% generation %}``, ``tojson``,
  ``raise_exception``, ``strftime_now``) and the ``tokenizers`` library. Tests check both against
  ``apply_chat_template`` token for token.
- :class:`MistralCounter` — Mistral's own encoder (``mistral-common``, extra ``open-tokenizers``):
  ``encode_chat_completion`` in fine-tuning mode, on the vocabulary file verified in ``vocab.py``.

Trainable tokens (assistant-only loss). A template with ``{% generation %}`` blocks reports one
character span per assistant turn: exactly what TRL's ``assistant_only_loss`` uses. A token is
trainable when it overlaps a span of an assistant turn whose ``weight`` is not 0 (the overlap rule
of ``apply_chat_template(return_assistant_tokens_mask=True)``). A template without the markers
cannot give TRL an assistant mask (TRL then swaps in a patched template for the families it knows,
or refuses); dataprep then locates each assistant turn by prefix differencing, the way its own
``trl`` backend masks (``dataprep/train/tokenize.py``), and says so.

Truncation: trainers cut an example at their maximum length, keeping the start (TRL's
``max_length``, default 1024): tokens past it are never seen, and an example whose trainable
tokens all lie past it trains on nothing. Both are reported per line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "TRL_DEFAULT_MAX_LENGTH",
    "ExactCount",
    "ExactReport",
    "MistralCounter",
    "TemplateCounter",
    "count_file",
    "exact_counter",
    "find_chat_template",
]

#: TRL SFTConfig.max_length's default (TRL 1.16): longer examples are cut, keeping the start.
TRL_DEFAULT_MAX_LENGTH = 1024

_GENERATION_RE = re.compile(r"\{%-?\s*generation\s*-?%\}")


class ExactCountError(ValueError):
    """One example cannot be rendered or encoded (the message says why)."""


@dataclass(slots=True)
class ExactCount:
    total: int  # tokens the trainer sees (before truncation)
    trainable: int  # tokens with loss (assistant turns with weight != 0)
    trainable_kept: int  # trainable tokens within the first max_length tokens
    reason: str | None = None  # why no token is trainable, when none is


def _special_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):  # an AddedToken as saved
        return value["content"]
    return None


def find_chat_template(path: str | Path) -> tuple[Path, Path | None, str | None, dict[str, Any]]:
    """(tokenizer.json, tokenizer_config.json or None, chat template or None, config) for a model
    directory or a tokenizer.json path. The template is ``chat_template.jinja`` when present (what
    transformers 5 saves), else the config's ``chat_template`` (a string, or a list of named
    templates: the one named "default")."""
    p = Path(path)
    root = p if p.is_dir() else p.parent
    tok_json = p / "tokenizer.json" if p.is_dir() else p
    if not tok_json.is_file():
        raise ExactCountError(f"no tokenizer.json at {tok_json}")
    cfg_path = root / "tokenizer_config.json"
    config: dict[str, Any] = {}
    if cfg_path.is_file():
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ExactCountError(f"cannot read {cfg_path}: {e}") from e
        if not isinstance(config, dict):
            raise ExactCountError(f"{cfg_path} is not a JSON object")
    template = None
    jinja_file = root / "chat_template.jinja"
    if jinja_file.is_file():
        template = jinja_file.read_text(encoding="utf-8")
    else:
        raw = config.get("chat_template")
        if isinstance(raw, list):
            named = {t.get("name"): t.get("template") for t in raw if isinstance(t, dict)}
            raw = named.get("default") or next(iter(named.values()), None)
        template = raw if isinstance(raw, str) and raw.strip() else None
    return tok_json, cfg_path if cfg_path.is_file() else None, template, config


def _conversation(example: dict[str, Any]) -> dict[str, Any]:
    """A preference example as the conversation that is trained on (input + preferred output)."""
    if "messages" in example:
        return example
    inp = example.get("input")
    if isinstance(inp, dict) and isinstance(example.get("preferred_output"), list):
        conv = {"messages": list(inp.get("messages") or []) + list(example["preferred_output"])}
        if inp.get("tools"):
            conv["tools"] = inp["tools"]
        return conv
    return example


def _no_trainable_reason(trained_flags: list[bool], trainable: int, kept: int, max_length: int | None) -> str | None:
    if kept:
        return None
    if not trained_flags:
        return "no assistant turn"
    if not any(trained_flags):
        return "every assistant turn has weight 0"
    if trainable and max_length is not None:
        return f"every trainable token lies past --max-length {max_length:,} (truncated away)"
    return "the template renders no assistant tokens"


# ------------------------------------------------------------------------------------ templates


def _jinja_environment():
    """A sandboxed Jinja environment with the extensions and helpers Hugging Face chat templates
    use (the same set transformers provides), and a ``generation`` tag that records the character
    span of each block while a tracker list is set."""
    from datetime import datetime

    import jinja2
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTracker(Extension):
        tags = {"generation"}

        def __init__(self, environment):
            super().__init__(environment)
            environment.extend(generation_tracker=None)

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_track"), [], [], body).set_lineno(lineno)

        def _track(self, caller):
            text = caller()
            tracker = self.environment.generation_tracker
            if tracker is not None:
                blocks, spans = tracker
                start = sum(len(b) for b in blocks)
                spans.append((start, start + len(text)))
            return text

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # Jinja's own tojson escapes HTML characters; chat templates expect plain json.dumps
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


class TemplateCounter:
    """Counts examples through a model's own chat template and tokenizer (see the module doc).

    ``backend``: "auto" (transformers when importable, else jinja), "transformers" or "jinja".
    """

    def __init__(self, path: str | Path, *, backend: str = "auto", max_length: int | None = TRL_DEFAULT_MAX_LENGTH):
        tok_json, cfg_path, template, config = find_chat_template(path)
        if template is None:
            raise ExactCountError(
                f"{path} has no chat template (no chat_template.jinja, no chat_template in "
                "tokenizer_config.json): exact per-example counts need the template the trainer renders")
        self.path = str(path)
        self.template = template
        self.max_length = max_length
        self.has_generation = bool(_GENERATION_RE.search(template))
        self.renders_tools = "tools" in template
        self.renders_tool_calls = "tool_calls" in template
        self._specials = {k: s for k, v in config.items() if k.endswith("_token") and (s := _special_str(v)) is not None}
        if backend == "auto":
            try:
                import transformers  # noqa: F401

                backend = "transformers"
            except ImportError:
                backend = "jinja"
        if backend not in ("transformers", "jinja"):
            raise ValueError(f"backend must be auto, transformers or jinja, not {backend!r}")
        self.backend = backend
        if backend == "transformers":
            from transformers import PreTrainedTokenizerFast
            from transformers.utils.chat_template_utils import render_jinja_template

            root = Path(path) if Path(path).is_dir() else Path(path).parent
            try:
                self._hf = PreTrainedTokenizerFast.from_pretrained(str(root), local_files_only=True)
            except Exception as e:  # noqa: BLE001 - transformers raises many kinds; say which file
                raise ExactCountError(f"transformers cannot load the tokenizer in {root}: {e}") from e
            self._render_jinja = render_jinja_template
            self._kwargs = dict(self._hf.special_tokens_map)
        else:
            try:
                from tokenizers import Tokenizer
            except ImportError as e:
                raise ExactCountError("counting through a chat template needs `tokenizers` and `jinja2` "
                                      "(pip install tokenizers jinja2) or transformers") from e
            self._tok = Tokenizer.from_file(str(tok_json))
            self._tok.no_truncation()
            self._tok.no_padding()
            self._compiled = _jinja_environment().from_string(template)
            self._kwargs = dict(self._specials)

    # -- rendering
    def render(self, messages: list[dict], tools: list | None, *, add_generation_prompt: bool = False
               ) -> tuple[str, list[tuple[int, int]]]:
        """(rendered text, character span of each ``{% generation %}`` block, in order)."""
        if self.backend == "transformers":
            texts, spans = self._render_jinja(
                conversations=[messages], tools=tools, chat_template=self.template,
                return_assistant_tokens_mask=self.has_generation, add_generation_prompt=add_generation_prompt,
                **self._kwargs)
            return texts[0], [tuple(s) for s in (spans[0] if spans else [])]
        env = self._compiled.environment
        blocks: list[str] = []
        spans: list[tuple[int, int]] = []
        env.generation_tracker = (blocks, spans)
        try:
            for block in self._compiled.generate(messages=messages, tools=tools, documents=None,
                                                 add_generation_prompt=add_generation_prompt, **self._kwargs):
                blocks.append(block)
        finally:
            env.generation_tracker = None
        return "".join(blocks), spans

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and character offsets, without adding special tokens (the template wrote them)."""
        if self.backend == "transformers":
            enc = self._hf(text, add_special_tokens=False, return_offsets_mapping=True)
            return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
        enc = self._tok.encode(text, add_special_tokens=False)
        return list(enc.ids), list(enc.offsets)

    def _prefix_spans(self, messages: list[dict], tools: list | None, full: str) -> list[tuple[int, int]]:
        spans = []
        for i, msg in enumerate(messages):
            if msg.get("role") != "assistant":
                continue
            prefix = self.render(messages[:i], tools, add_generation_prompt=True)[0] if i else ""
            upto = self.render(messages[: i + 1], tools)[0]
            if not upto.startswith(prefix) or not full.startswith(upto):
                raise ExactCountError("the chat template renders earlier turns differently once later turns are "
                                      "added, so assistant turns cannot be located without {% generation %} markers")
            spans.append((len(prefix), len(upto)))
        return spans

    def tokenize(self, example: dict[str, Any]) -> tuple[list[int], list[int], list[bool]]:
        """(input_ids, 0/1 trainable mask, trained flag per assistant turn) of one example."""
        from dataprep.train.data import DataError, to_hf_conversation

        try:
            messages, tools, flags = to_hf_conversation(
                _conversation(example), template_renders_tools=self.renders_tools,
                template_renders_tool_calls=self.renders_tool_calls)
        except DataError as e:
            raise ExactCountError(str(e)) from None
        try:
            text, spans = self.render(messages, tools)
            assistant_flags = [f for m, f in zip(messages, flags) if m.get("role") == "assistant"]
            if not self.has_generation:
                spans = self._prefix_spans(messages, tools, text)
        except ExactCountError:
            raise
        except Exception as e:  # noqa: BLE001 - jinja2 TemplateError, raise_exception() in the template, ...
            raise ExactCountError(f"the chat template refused the example: {type(e).__name__}: {e}") from None
        if len(spans) == len(assistant_flags):
            trained = [s for s, f in zip(spans, assistant_flags) if f]
        elif all(assistant_flags):  # markers that do not pair one-to-one with turns: no weights to apply
            trained = spans
        else:
            raise ExactCountError(f"the template marks {len(spans)} generation block(s) for {len(assistant_flags)} "
                                  "assistant turn(s), so per-turn weights cannot be applied")
        ids, offsets = self.encode(text)
        mask = [0] * len(ids)
        # a token is trainable when it overlaps a trained span (apply_chat_template's rule); spans
        # and offsets are both in order, so one pass over the tokens is enough
        k = 0
        for t, (start, end) in enumerate(offsets):
            while k < len(trained) and start >= trained[k][1]:
                k += 1
            if k == len(trained):
                break
            if end > trained[k][0] and end > start:
                mask[t] = 1
        return ids, mask, assistant_flags

    def count(self, example: dict[str, Any]) -> ExactCount:
        ids, mask, flags = self.tokenize(example)
        trainable = sum(mask)
        kept = sum(mask[: self.max_length]) if self.max_length is not None else trainable
        return ExactCount(len(ids), trainable, kept, _no_trainable_reason(flags, trainable, kept, self.max_length))

    def describe(self) -> dict[str, Any]:
        how = ("transformers (render_jinja_template + the fast tokenizer, as apply_chat_template)"
               if self.backend == "transformers" else "jinja2 + tokenizers (transformers not installed)")
        if self.has_generation:
            mask = ("yes: the template has {% generation %} markers, so TRL's assistant_only_loss can mask "
                    "non-assistant tokens")
        else:
            mask = ("no: the template has no {% generation %} markers; TRL's assistant_only_loss refuses it unless "
                    "TRL knows the model family and swaps in its own template. Trainable tokens here are located by "
                    "prefix differencing (how dataprep's trl backend masks)")
        return {"tokenizer": self.path, "rendered_with": how, "backend": self.backend,
                "assistant_mask": self.has_generation, "assistant_mask_note": mask}


class MistralCounter:
    """Exact counts with Mistral's own encoder (mistral-common, fine-tuning validation mode).

    Total: ``encode_chat_completion`` of the whole conversation (BOS, [INST]...[/INST], replies,
    EOS; the system prompt folded into the last user turn, as the library does). Trainable: for
    each assistant turn with weight != 0, its content's tokens plus the EOS that ends it (the loss
    mistral-finetune puts on a reply); tool-call turns add their calls as the library encodes them.
    """

    def __init__(self, encoding_name: str, *, max_length: int | None = TRL_DEFAULT_MAX_LENGTH):
        from dataprep.tokens.vocab import get_open_encoding

        enc = get_open_encoding(encoding_name)
        if not hasattr(enc, "tokenizer"):
            raise ExactCountError(f"{encoding_name} is not a Mistral vocabulary")
        self.name = encoding_name
        self.tokenizer = enc.tokenizer
        self.raw = enc.tokenizer.instruct_tokenizer.tokenizer
        self.max_length = max_length
        self.has_generation = None

    def _messages(self, example: dict[str, Any]) -> tuple[list[dict], list | None, list[bool]]:
        from dataprep.train.data import DataError, to_hf_conversation

        try:
            messages, tools, flags = to_hf_conversation(_conversation(example))
        except DataError as e:
            raise ExactCountError(str(e)) from None
        out = []
        for m in messages:
            m = dict(m)
            if m.get("tool_calls"):
                m["tool_calls"] = [{"id": c.get("id") or "", "type": "function",
                                    "function": {"name": c["function"].get("name"),
                                                 "arguments": json.dumps(c["function"].get("arguments"))
                                                 if not isinstance(c["function"].get("arguments"), str)
                                                 else c["function"]["arguments"]}}
                                   for c in m["tool_calls"]]
            m.pop("name", None) if m.get("role") != "tool" else None
            out.append(m)
        return out, tools, flags

    def count(self, example: dict[str, Any]) -> ExactCount:
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        messages, tools, flags = self._messages(example)
        try:
            req = ChatCompletionRequest(messages=messages, tools=tools)
            tokens = self.tokenizer.encode_chat_completion(req).tokens
        except Exception as e:  # noqa: BLE001 - pydantic ValidationError, InvalidMessageStructureException, ...
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ExactCountError(f"mistral-common refused the example: {msg}") from None
        assistant_flags = [f for m, f in zip(messages, flags) if m.get("role") == "assistant"]
        trainable = 0
        for m, f in zip(messages, flags):
            if m.get("role") == "assistant" and f:
                n = len(self.raw.encode(m.get("content") or "", bos=False, eos=False)) + 1  # + EOS
                for c in m.get("tool_calls") or []:
                    n += len(self.raw.encode(json.dumps([c["function"]]), bos=False, eos=False)) + 1
                trainable += n
        total = len(tokens)
        # where in the sequence each reply lands is not reported by the library: past max_length,
        # assume the cut removes trainable tokens first (a lower bound on what is kept)
        kept = trainable
        if self.max_length is not None and total > self.max_length:
            kept = max(0, trainable - (total - self.max_length))
        return ExactCount(total, trainable, kept, _no_trainable_reason(assistant_flags, trainable, kept,
                                                                         self.max_length))

    def describe(self) -> dict[str, Any]:
        return {"tokenizer": f"mistral-common {self.name}", "rendered_with": "mistral-common encode_chat_completion "
                "(fine-tuning mode)", "backend": "mistral-common", "assistant_mask": None,
                "assistant_mask_note": "Mistral's format has no Jinja template; trainable = assistant replies + EOS; after "
                "truncation a lower bound (the cut is assumed to remove trainable tokens first)"}


# ------------------------------------------------------------------------------------ a whole file


@dataclass
class ExactReport:
    """Exact counts of a file's valid examples (``lines``), plus what a trainer would do to them."""

    info: dict[str, Any]
    max_length: int | None
    lines: np.ndarray
    totals: np.ndarray
    trainable: np.ndarray
    trainable_kept: np.ndarray
    no_trainable: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # lines counted by formula instead

    @property
    def truncated_lines(self) -> list[int]:
        if self.max_length is None:
            return []
        return self.lines[self.totals > self.max_length].tolist()

    def to_dict(self) -> dict[str, Any]:
        return {**self.info, "max_length": self.max_length, "examples": int(self.lines.size),
                "total_tokens": int(self.totals.sum()), "trainable_tokens": int(self.trainable.sum()),
                "trainable_tokens_after_truncation": int(self.trainable_kept.sum()),
                "truncated": self.truncated_lines,
                "no_trainable_tokens": [{"line": ln, "reason": r} for ln, r in self.no_trainable],
                "not_counted_exactly": [{"line": ln, "reason": r} for ln, r in self.errors]}


def count_file(path: str, lines: Any, fallback_totals: Any, fallback_trainable: Any, counter) -> ExactReport:
    """Count the examples at 1-based ``lines`` of ``path`` with ``counter``. An example the counter
    cannot render keeps its formula count (``fallback_*``) and is listed in ``errors``: every line is
    accounted for, none silently dropped."""
    import orjson

    from dataprep.io.reader import iter_lines, open_binary

    want = {int(ln): i for i, ln in enumerate(np.asarray(lines, dtype=np.int64).tolist())}
    n = len(want)
    totals = np.asarray(fallback_totals, dtype=np.int64).copy()
    trainable = np.asarray(fallback_trainable, dtype=np.int64).copy()
    kept = trainable.copy()
    max_length = counter.max_length
    if max_length is not None:
        kept = np.where(totals > max_length, 0, trainable)  # replaced below for every counted line
    no_trainable: list[tuple[int, str]] = []
    errors: list[tuple[int, str]] = []
    seen: set[int] = set()
    with open_binary(path) as stream:
        for raw in iter_lines(stream):
            i = want.get(raw.number)
            if i is None:
                continue
            seen.add(raw.number)
            try:
                ex = orjson.loads(raw.data)
                c = counter.count(ex)
            except ExactCountError as e:
                errors.append((raw.number, str(e)))
            except orjson.JSONDecodeError as e:
                errors.append((raw.number, f"not JSON: {e}"))
            else:
                totals[i], trainable[i], kept[i] = c.total, c.trainable, c.trainable_kept
                if c.reason:
                    no_trainable.append((raw.number, c.reason))
            if len(seen) == n:
                break
    for ln in want:
        if ln not in seen:
            errors.append((ln, "line not found on re-reading the file (did it change since the scan?)"))
    return ExactReport(counter.describe(), max_length, np.asarray(lines, dtype=np.int64), totals, trainable, kept,
                       no_trainable, errors)


def exact_counter(model: str | None = None, tokenizer: str | None = None, *,
                  max_length: int | None = None, backend: str = "auto"):
    """The exact counter for a ``tokens`` run, or None when only the formula applies.

    - ``tokenizer`` a model directory / tokenizer.json with a chat template: :class:`TemplateCounter`
      (without a template: None, the formula counts with that tokenizer and the output says so).
    - no ``tokenizer`` and a Mistral row: :class:`MistralCounter` when mistral-common is installed.
    ``max_length`` defaults to TRL's 1024.
    """
    from dataprep.tokens.models import get_model

    cut = TRL_DEFAULT_MAX_LENGTH if max_length is None else int(max_length)
    if tokenizer is not None:
        p = Path(tokenizer)
        if not p.exists():
            return None  # tiktoken:NAME or a shipped vocabulary name: formula counts
        template = find_chat_template(p)[2]
        return TemplateCounter(p, backend=backend, max_length=cut) if template else None
    spec = get_model(model)
    if spec.encoding.startswith("mistral-"):
        return MistralCounter(spec.encoding, max_length=cut)
    return None
