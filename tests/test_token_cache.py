"""The token-count cache (dataprep.tokens.count._length_counter): each distinct text is
tokenized once per process, and every count is still exactly the tokenizer's own."""

from __future__ import annotations

import random

import pytest

import dataprep.tokens.count as C
from dataprep.tokens.count import TokenCounter, count_example

MODEL = "gpt-4o-mini-2024-07-18"  # o200k_base, cookbook formula


def cookbook(example: dict, enc) -> int:
    """The OpenAI cookbook count, string by string, straight from tiktoken (no cache)."""
    n = 3
    for m in example["messages"]:
        n += 3
        for k, v in m.items():
            if isinstance(v, str):
                n += len(enc.encode_ordinary(v))
            if k == "name":
                n += 1
    return n


@pytest.fixture
def small_cache(monkeypatch):
    """Caps small enough that a test crosses every bound many times."""
    monkeypatch.setattr(C, "_COUNT_CACHE_MAX", 8)
    monkeypatch.setattr(C, "_COUNT_CACHE_CHARS", 4000)
    C._LENGTHS.clear()
    C._GENERATIONS.clear()
    yield
    C._LENGTHS.clear()
    C._GENERATIONS.clear()


def _texts(rng: random.Random, n: int) -> list[str]:
    words = "tokens cache système 東京 naïve refund wheel :) ```code``` \n\t über 1234 ab".split(" ")
    out = []
    for i in range(n):
        k = rng.choice([3, 40, 80, 300, 900])  # both sides of _COUNT_CACHE_MIN_CHARS
        out.append(f"{i} " + " ".join(rng.choices(words, k=k)))
    return out


def test_counts_equal_tiktoken_across_evictions(small_cache):
    counter = TokenCounter.for_model(MODEL)
    enc = counter.enc
    rng = random.Random(7)
    pool = _texts(rng, 60)
    giant = "word " * 2000  # longer than a whole generation (4000 characters): never stored
    for i in range(400):  # texts recur, leave, and come back after evictions
        a, b = rng.choice(pool), rng.choice(pool)
        ex = {"messages": [{"role": "system", "content": pool[0]}, {"role": "user", "content": a},
                           {"role": "assistant", "content": giant if i % 50 == 0 else b, "name": "bob"}]}
        assert counter.count(ex).total == cookbook(ex, enc)
        assert count_example(ex, enc, counter.formula).total == cookbook(ex, enc)
    for newer, older, chars in C._GENERATIONS.values():
        assert len(newer) <= 8 and len(older) <= 8 and chars <= 4000
        assert sum(map(len, newer)) == chars
        assert giant not in newer and giant not in older


def test_lone_surrogate_after_its_text_was_cached(small_cache):
    # The core tokenizer raises on a lone surrogate and tiktoken's wrapper replaces it; a text
    # cached from one path must give the other path's count, in either order.
    counter = TokenCounter.for_model(MODEL)
    enc = counter.enc
    long = "surrogate test " * 30
    bad = long + "\ud800 tail " * 20
    for order in ([long, bad, long, bad], [bad, long, bad, long]):
        C._LENGTHS.clear()
        C._GENERATIONS.clear()
        for text in order:
            ex = {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": bad}]}
            assert counter.count(ex).total == cookbook(ex, enc)


def test_one_tokenizer_call_per_distinct_long_text():
    """The point of the cache: a prompt repeated on every line is tokenized once."""
    calls = []

    class Counting:
        name = "counting-test-encoder"

        def __init__(self):
            from dataprep.tokens import get_encoding

            self.enc = get_encoding("o200k_base")

        def encode_ordinary(self, text):
            calls.append(text)
            return self.enc.encode_ordinary(text)

    enc = Counting()
    prompt = "Summarise the following support ticket in two sentences. " * 10  # ~580 characters
    for i in range(100):
        ex = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"a{i}"}]}
        assert count_example(ex, enc).total == cookbook(ex, enc.enc)
    assert calls.count(prompt) == 1  # any role's text, not only system prompts
    assert sum(c.startswith("a") and len(c) < 5 for c in calls) == 100  # short texts: straight to the tokenizer
