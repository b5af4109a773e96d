"""A tiny randomly initialised Llama + a BPE tokenizer trained on the fly, saved as a local Hugging
Face model directory. No download anywhere: for smoke runs (`--model tiny-random`) and tests.

The tokenizer's chat template is ChatML-like and wraps every assistant turn (content, tool calls
and the end-of-turn token) in `{% generation %}` ... `{% endgeneration %}`, so both TRL's
`assistant_only_loss` and dataprep's own weight-aware masking find the assistant spans.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BOS = "<|bos|>"
EOT = "<|im_end|>"
START = "<|im_start|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = [PAD, BOS, START, EOT]

TINY_CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- if tools -%}{{- '<|im_start|>tools\\n' + (tools | tojson) + '<|im_end|>\\n' -}}{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- generation -%}"
    "{{- message['content'] -}}"
    "{%- if message.get('tool_calls') -%}"
    "{{- '<tool_call>' + (message['tool_calls'] | tojson) + '</tool_call>' -}}"
    "{%- endif -%}"
    "{{- '<|im_end|>' -}}"
    "{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

_FALLBACK_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password? Open settings, choose security, then reset.",
    "Translate 'good morning' into French: bonjour.",
    "What is two plus two? Two plus two is four.",
    "system user assistant tool",
]


def texts_from_jsonl(path: str | Path) -> list[str]:
    """Every string in a chat/DPO JSONL file's messages (content, tool call names and arguments)."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                walk(json.loads(line))
            except json.JSONDecodeError:
                out.append(line)
    return out


def build_tiny_tokenizer(texts: Iterable[str], *, vocab_size: int = 600):
    """A byte-level BPE tokenizer trained on `texts`, wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = list(texts) + _FALLBACK_CORPUS
    tok.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOT,
        pad_token=PAD,
        chat_template=TINY_CHAT_TEMPLATE,
        model_max_length=4096,
    )


def build_tiny_model(
    output_dir: str | Path,
    texts: Iterable[str] | str | Path | None = None,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    vocab_size: int = 600,
    max_position_embeddings: int = 1024,
    seed: int = 0,
) -> Path:
    """Write a tiny random `LlamaForCausalLM` and its tokenizer to `output_dir`; returns the path.

    `texts` is the tokenizer's training corpus: strings, or the path of a JSONL file whose strings
    are used (the training file itself makes a tokenizer that fits the data)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if texts is None:
        corpus: list[str] = []
    elif isinstance(texts, (str, Path)) and Path(texts).is_file():
        corpus = texts_from_jsonl(texts)
    elif isinstance(texts, (str, Path)):
        corpus = [str(texts)]
    else:
        corpus = list(texts)
    tokenizer = build_tiny_tokenizer(corpus, vocab_size=vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
