"""The bundled sample data (sample_data/): present, the advertised sizes and shapes, clean,
free of near duplicates, and reproducible from sample_data/make_samples.py.

These checks are written independently of the dataprep package on purpose: they pin down what
the sample files promise (see sample_data/README.md), so a regression in a rule shows up in that
rule's tests, not here.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import re
import string
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"

EXPECTED = {
    "support_chat.jsonl": 150,
    "tools.jsonl": 40,
    "dpo.jsonl": 40,
    "alpaca.json": 40,
    "alpaca.jsonl": 20,
    "sharegpt.json": 30,
    "sharegpt_dpo.json": 20,
    "prompt_completion.jsonl": 15,
    "text_only.jsonl": 5,
    "multilingual.jsonl": 60,
}
CHAT_FILES = ["support_chat.jsonl", "tools.jsonl", "multilingual.jsonl"]


def load(name: str) -> list:
    raw = (SAMPLE / name).read_bytes()
    text = raw.decode("utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines()]
    return json.loads(text)


# --- text measures (the definitions the README states) ----------------------------------------

_STRIP = str.maketrans("", "", string.punctuation)


def words(text: str) -> list[str]:
    return text.lower().translate(_STRIP).split()


def shingles(text: str, n: int = 5) -> set:
    w = words(text)
    if len(w) < n:
        return {tuple(w)} if w else set()
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def jaccard(a: set, b: set) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text.strip()))


_DIRTY = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "phone/card-like digit run": re.compile(r"\d(?:[\s().\-/]*\d){6,}"),
    "ip address": re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),
    "secret-like": re.compile(r"\bsk-|AKIA|gh[pousr]_|github_pat_|xox[abposr]-|AIza|eyJ|PRIVATE KEY|[rsp]k_live_"),
    "placeholder": re.compile(r"\{\{\s*\w|\[\s*(?:INSERT|YOUR|ENTER|PLACEHOLDER)|<\s*(?:PLACEHOLDER|YOUR|INSERT)", re.I),
    "special token": re.compile(r"<\||\|>"),
    "refusal": re.compile(r"as an ai|language model|openai|\bi cannot\b|\bi can['’]t\b|\bi(?: am|['’]m) (?:unable|not able)\b"
                          r"|\bi(?: am|['’]m) sorry\b|my limitations|knowledge cutoff", re.I),
    "encoding damage": re.compile(r"Ã|Â|â€|\ufffd|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"),
}


def dirt(text: str) -> list[str]:
    return [name for name, rx in _DIRTY.items() if rx.search(text)]


def check_reply(text) -> list[str]:
    """An assistant reply: non-empty, clean, 1-6 sentences, ends like a finished sentence."""
    if not isinstance(text, str) or not text.strip():
        return ["empty"]
    out = dirt(text)
    if text.rstrip()[-1] not in ".!?":
        out.append("unfinished ending")
    if text.count("```") % 2:
        out.append("unclosed code fence")
    if not 1 <= sentences(text) <= 6:
        out.append(f"{sentences(text)} sentences")
    w = text.lower().split()
    if len(w) >= 30 and len(set(zip(w, w[1:], w[2:]))) / (len(w) - 2) < 0.6:
        out.append("repetitive")
    return out


def first_user(example: dict) -> str:
    return next(m["content"] for m in example["messages"] if m["role"] == "user")


# --- files and sizes ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,count", sorted(EXPECTED.items()))
def test_file_exists_with_expected_count(name, count):
    assert (SAMPLE / name).is_file(), name
    assert len(load(name)) == count


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.endswith(".jsonl")))
def test_jsonl_is_one_object_per_line(name):
    raw = (SAMPLE / name).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\n") and b"\r" not in raw
    for i, line in enumerate(raw.decode("utf-8").split("\n")[:-1], 1):
        assert line.strip(), f"{name}:{i} is blank"
        assert isinstance(json.loads(line), dict), f"{name}:{i}"


def test_readme_lists_every_file():
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    for name in [*EXPECTED, "broken.jsonl", "make_samples.py"]:
        assert f"`{name}`" in readme, name


# --- chat files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CHAT_FILES)
def test_chat_lines_alternate_and_end_with_assistant(name):
    for i, ex in enumerate(load(name), 1):
        assert set(ex) <= {"messages", "tools", "parallel_tool_calls"}, f"{name}:{i}"
        msgs = ex["messages"]
        roles = [m["role"] for m in msgs]
        assert "system" not in roles[1:], f"{name}:{i}"
        # collapse each tool round (assistant with tool_calls + its tool messages) into nothing
        turns = [m["role"] for m in msgs
                 if m["role"] in ("user", "assistant") and not m.get("tool_calls")]
        assert turns and turns[0] == "user", f"{name}:{i}"
        assert all(a != b for a, b in zip(turns, turns[1:])), f"{name}:{i}: {roles}"
        last = msgs[-1]
        assert last["role"] == "assistant" and isinstance(last.get("content"), str) and not last.get("tool_calls"), \
            f"{name}:{i}"
        assert last.get("weight", 1) == 1, f"{name}:{i}"


@pytest.mark.parametrize("name", CHAT_FILES)
def test_chat_content_is_clean(name):
    problems = []
    for i, ex in enumerate(load(name), 1):
        for j, m in enumerate(ex["messages"]):
            where = f"{name}:{i}/messages/{j}"
            if m["role"] == "assistant" and m.get("tool_calls"):
                assert m.get("content", None) is None, where
                continue
            if m["role"] == "assistant":
                problems += [f"{where}: {p}" for p in check_reply(m["content"])]
            else:
                assert isinstance(m["content"], str) and m["content"].strip(), where
                problems += [f"{where}: {p}" for p in dirt(m["content"])]
    assert not problems, problems[:20]


def test_support_chat_shape():
    data = load("support_chat.jsonl")
    assert all(set(ex) == {"messages"} for ex in data)
    systems = collections.Counter(ex["messages"][0]["content"] for ex in data if ex["messages"][0]["role"] == "system")
    with_system = sum(systems.values())
    assert 0.85 <= with_system / len(data) <= 0.95
    assert 2 <= len(systems) <= 3
    assert systems.most_common(1)[0][1] / with_system > 0.6
    pairs = collections.Counter(sum(m["role"] == "user" for m in ex["messages"]) for ex in data)
    assert set(pairs) == {1, 2, 3, 4}
    for ex in data:
        assert not any("tool_calls" in m or m["role"] == "tool" for m in ex["messages"])


def test_support_chat_weights():
    weighted = 0
    for i, ex in enumerate(load("support_chat.jsonl"), 1):
        assistants = [m for m in ex["messages"] if m["role"] == "assistant"]
        for m in ex["messages"]:
            if "weight" in m:
                assert m["role"] == "assistant" and m["weight"] in (0, 1), i
        if any(m.get("weight") == 0 for m in assistants):
            weighted += 1
            first_zero = next(k for k, m in enumerate(assistants) if m.get("weight") == 0)
            assert any(m.get("weight", 1) == 1 for m in assistants[first_zero + 1:]), i
    assert weighted == 5


def test_support_chat_has_no_near_duplicates():
    """Exact word 5-gram Jaccard over all message texts, every pair of the 150 lines."""
    data = load("support_chat.jsonl")
    sigs = [shingles("\n".join(m["content"] for m in ex["messages"])) for ex in data]
    worst = max((jaccard(sigs[i], sigs[j]), i + 1, j + 1)
                for i in range(len(sigs)) for j in range(i + 1, len(sigs)))
    assert worst[0] < 0.5, f"lines {worst[1]} and {worst[2]}: Jaccard {worst[0]:.2f}"
    firsts = [first_user(ex) for ex in data]
    assert len(set(firsts)) == len(firsts)


def test_support_chat_openings_vary():
    data = load("support_chat.jsonl")
    openings = collections.Counter(" ".join(words(first_user(ex))[:3]) for ex in data)
    phrase, n = openings.most_common(1)[0]
    assert n <= 0.1 * len(data), (phrase, n)


def test_multilingual_languages():
    """48 English, 6 German, 6 Spanish; every message of a conversation in the same language."""
    stop = {
        "en": {"the", "and", "is", "you", "to", "of", "it", "for", "with", "your", "that"},
        "de": {"der", "die", "das", "und", "ist", "ich", "sie", "nicht", "mit", "ein", "eine", "für", "bei"},
        "es": {"el", "la", "los", "las", "y", "que", "de", "en", "una", "para", "por", "se", "mi"},
    }

    def lang(text):
        w = set(words(text))
        return max(stop, key=lambda k: len(w & stop[k]))

    counts = collections.Counter()
    for i, ex in enumerate(load("multilingual.jsonl"), 1):
        langs = {lang(m["content"]) for m in ex["messages"] if m["role"] in ("user", "assistant")}
        assert len(langs) == 1, (i, langs)
        (code,) = langs
        counts[code] += 1
        if code != "en":
            for m in ex["messages"]:
                if m["role"] in ("user", "assistant"):
                    assert sentences(m["content"]) >= 2, (i, m["content"])
    assert counts == {"en": 48, "de": 6, "es": 6}


def test_multilingual_languages_langdetect():
    langdetect = pytest.importorskip("langdetect")
    langdetect.DetectorFactory.seed = 0
    stop_de, stop_es = {"und", "ist", "ich", "nicht"}, {"que", "los", "para", "una"}
    for i, ex in enumerate(load("multilingual.jsonl"), 1):
        texts = [m["content"] for m in ex["messages"] if m["role"] in ("user", "assistant")]
        joined = set(words(" ".join(texts)))
        expected = "de" if joined & stop_de else "es" if joined & stop_es else "en"
        for t in texts:
            if sum(c.isalpha() for c in t) >= 40:
                assert langdetect.detect(t) == expected, (i, t)


# --- tools ---------------------------------------------------------------------------------------

def test_tools_definitions_and_calls():
    data = load("tools.jsonl")
    parallel_lines = 0
    for i, ex in enumerate(data, 1):
        tools = ex["tools"]
        assert 3 <= len(tools) <= 5, i
        defined = set()
        for t in tools:
            assert t["type"] == "function" and set(t) == {"type", "function"}, i
            fn = t["function"]
            assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", fn["name"]) and fn["description"], i
            params = fn["parameters"]
            assert params["type"] == "object" and isinstance(params["properties"], dict), i
            assert set(params.get("required", [])) <= set(params["properties"]), i
            defined.add(fn["name"])
        assert len(defined) == len(tools), i

        msgs = ex["messages"]
        seen_ids: set = set()
        max_calls = 0
        k = 0
        while k < len(msgs):
            m = msgs[k]
            assert m["role"] != "tool", f"line {i}: tool message without a preceding call"
            if m["role"] == "assistant" and m.get("tool_calls"):
                assert m.get("content", None) is None, i
                ids = []
                for c in m["tool_calls"]:
                    assert set(c) == {"id", "type", "function"} and c["type"] == "function", i
                    assert c["id"].startswith("call_") and c["id"] not in seen_ids, i
                    assert c["function"]["name"] in defined, i
                    args = json.loads(c["function"]["arguments"])
                    assert isinstance(args, dict), i
                    required = next(t["function"]["parameters"].get("required", []) for t in tools
                                    if t["function"]["name"] == c["function"]["name"])
                    assert set(required) <= set(args), i
                    ids.append(c["id"])
                    seen_ids.add(c["id"])
                max_calls = max(max_calls, len(ids))
                answers = msgs[k + 1:k + 1 + len(ids)]
                assert [a["role"] for a in answers] == ["tool"] * len(ids), i
                assert sorted(a["tool_call_id"] for a in answers) == sorted(ids), i
                for a in answers:
                    assert isinstance(json.loads(a["content"]), dict), i
                k += 1 + len(ids)
                continue
            k += 1
        assert seen_ids, f"line {i} makes no tool call"
        assert ex.get("parallel_tool_calls", False) == (max_calls > 1), i
        parallel_lines += max_calls > 1
        assert msgs[-1]["content"].endswith("."), i
    assert parallel_lines >= 5


# --- preference files ---------------------------------------------------------------------------

def test_dpo_lines():
    for i, ex in enumerate(load("dpo.jsonl"), 1):
        assert set(ex) == {"input", "preferred_output", "non_preferred_output"}, i
        roles = [m["role"] for m in ex["input"]["messages"]]
        assert roles in (["user"], ["system", "user"]), i
        for m in ex["input"]["messages"]:
            assert not dirt(m["content"]), i
        good, bad = ex["preferred_output"], ex["non_preferred_output"]
        assert len(good) == len(bad) == 1 and good[0]["role"] == bad[0]["role"] == "assistant", i
        assert good[0]["content"] != bad[0]["content"], i
        assert not check_reply(good[0]["content"]) and not check_reply(bad[0]["content"]), i


def test_sharegpt_dpo_records():
    for i, rec in enumerate(load("sharegpt_dpo.json"), 1):
        assert set(rec) == {"conversations", "chosen", "rejected"}, i
        froms = [t["from"] for t in rec["conversations"]]
        body = froms[1:] if froms[0] == "system" else froms
        assert body[-1] == "human" and all(a != b for a, b in zip(body, body[1:])), i
        assert rec["chosen"]["from"] == rec["rejected"]["from"] == "gpt", i
        assert rec["chosen"]["value"] != rec["rejected"]["value"], i
        assert not check_reply(rec["chosen"]["value"]) and not check_reply(rec["rejected"]["value"]), i


# --- converter inputs ----------------------------------------------------------------------------

def test_alpaca_records():
    data = load("alpaca.json")
    markers = collections.Counter(r["input"] for r in data if r["input"] in ("", "<noinput>", "No input", "N/A"))
    assert markers["<noinput>"] == markers["No input"] == markers["N/A"] == 3 and markers[""] >= 3
    assert sum("system" in r for r in data) >= 2
    with_history = [r for r in data if "history" in r]
    assert len(with_history) >= 2
    for r in with_history:
        assert all(isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) and x for x in h)
                   for h in r["history"])
    for name in ("alpaca.json", "alpaca.jsonl"):
        for i, r in enumerate(load(name), 1):
            assert {"instruction", "input", "output"} <= set(r) <= {"instruction", "input", "output", "system", "history"}
            assert r["instruction"].strip() and r["output"].strip(), (name, i)
            assert r["output"].rstrip()[-1] in ".!?", (name, i)
            assert not dirt(r["output"]) and not dirt(r["instruction"]), (name, i)


def test_sharegpt_records():
    data = load("sharegpt.json")
    with_tools = 0
    for i, rec in enumerate(data, 1):
        assert set(rec) <= {"conversations", "system", "tools"}, i
        froms = [t["from"] for t in rec["conversations"]]
        assert set(froms) <= {"human", "gpt", "system", "function_call", "observation"}, i
        assert froms[-1] == "gpt", i
        names = set()
        if "tools" in rec:
            tools = json.loads(rec["tools"])
            assert isinstance(tools, list) and tools, i
            names = {t["name"] for t in tools}
            assert all(t["parameters"]["type"] == "object" for t in tools), i
        for k, t in enumerate(rec["conversations"]):
            assert isinstance(t["value"], str) and t["value"].strip(), i
            if t["from"] == "function_call":
                call = json.loads(t["value"])
                assert set(call) == {"name", "arguments"} and isinstance(call["arguments"], dict), i
                assert call["name"] in names, i
                assert rec["conversations"][k + 1]["from"] == "observation", i
            elif t["from"] == "observation":
                assert rec["conversations"][k - 1]["from"] == "function_call", i
            elif t["from"] == "gpt":
                assert not check_reply(t["value"]), (i, t["value"])
        if "function_call" in froms:
            with_tools += 1
    assert 12 <= with_tools <= 18


def test_prompt_completion_and_text_only():
    for i, r in enumerate(load("prompt_completion.jsonl"), 1):
        assert set(r) == {"prompt", "completion"}, i
        assert r["prompt"].strip() and not check_reply(r["completion"]), i
    for i, r in enumerate(load("text_only.jsonl"), 1):
        assert set(r) == {"text"} and r["text"].strip() and not dirt(r["text"]), i


# --- the generator ------------------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLE / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generator_is_deterministic(tmp_path):
    """Running the generator reproduces every bundled file byte for byte, and writes nothing else."""
    assert _generator().main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(EXPECTED)
    for name in EXPECTED:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), \
            f"{name} differs from a fresh run of make_samples.py: regenerate it"
