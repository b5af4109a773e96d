"""The rule catalog (dataprep/schema/catalog.toml): complete, consistent, and its examples well formed.

These tests look at the catalog as data only; running every bad/fixed example through the
validator is a separate test.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import orjson
import pytest

from dataprep.schema.catalog import all_rules, get_rule
from dataprep.schema.findings import Severity

DESCRIPTION = "# description:"

# The public contract of RULES.md: id -> (name, default severity). Ids are never renumbered.
# DP600 is "error/warning" there (it depends on the tier); the catalog may use either.
RULES_MD = {
    "DP100": ("file-unreadable", "error"),
    "DP101": ("invalid-utf8", "error"),
    "DP102": ("invalid-json", "error"),
    "DP103": ("not-an-object", "error"),
    "DP104": ("duplicate-key", "error"),
    "DP105": ("blank-line", "warning"),
    "DP106": ("byte-order-mark", "warning"),
    "DP107": ("file-too-large", "error"),
    "DP108": ("mixed-formats", "error"),
    "DP109": ("too-few-examples", "error"),
    "DP200": ("missing-messages", "error"),
    "DP201": ("unknown-top-level-key", "error"),
    "DP202": ("message-not-object", "error"),
    "DP203": ("missing-role", "error"),
    "DP204": ("unknown-role", "error"),
    "DP205": ("unknown-message-key", "error"),
    "DP206": ("missing-content", "error"),
    "DP207": ("bad-content-type", "error"),
    "DP208": ("no-assistant-message", "error"),
    "DP209": ("trailing-non-assistant", "warning"),
    "DP210": ("invalid-weight", "error"),
    "DP211": ("invalid-tool-call", "error"),
    "DP212": ("orphan-tool-message", "error"),
    "DP213": ("invalid-tool-definition", "error"),
    "DP214": ("undefined-tool-called", "warning"),
    "DP215": ("role-order", "warning"),
    "DP216": ("invalid-image", "error"),
    "DP217": ("no-trainable-tokens", "error"),
    "DP220": ("invalid-preference", "error"),
    "DP221": ("identical-preference", "warning"),
    "DP300": ("empty-content", "error"),
    "DP301": ("special-token", "error"),
    "DP302": ("template-placeholder", "warning"),
    "DP303": ("refusal-boilerplate", "warning"),
    "DP304": ("pii", "warning"),
    "DP305": ("secret", "error"),
    "DP306": ("truncated", "warning"),
    "DP307": ("repetition", "warning"),
    "DP308": ("encoding-damage", "warning"),
    "DP309": ("language-mismatch", "warning"),
    "DP310": ("system-prompt-drift", "info"),
    "DP311": ("missing-system-prompt", "info"),
    "DP400": ("example-too-long", "warning"),
    "DP401": ("token-budget", "warning"),
    "DP500": ("exact-duplicate", "warning"),
    "DP501": ("near-duplicate", "warning"),
    "DP502": ("split-leakage", "error"),
    "DP503": ("conflicting-answers", "warning"),
    "DP600": ("below-volume-tier", "error|warning"),
    "DP601": ("low-diversity", "warning"),
    "DP602": ("language-mix", "warning"),
    "DP603": ("length-skew", "info"),
    # Added after RULES.md was written (issue 17: rules peer checkers have); never renumbered.
    "DP112": ("unconvertible-record", "error"),
    "DP218": ("unanswered-tool-call", "error"),
    "DP222": ("preference-input-ends-with-assistant", "warning"),
    "DP199": ("analysis-failed", "error"),  # issue 15: a crashed analysis fails closed
}

# Rules whose `bad` line is deliberately not clean JSON (broken, or a key given twice).
BAD_NOT_CLEAN_JSON = {"DP102", "DP104"}

# Rules about one JSONL line show their defect as one runnable line: the DP2xx structure rules, the
# DP300-DP308 content rules and these DP1xx ones. Every other rule (file- and dataset-level ones,
# and DP101 / DP105, whose invalid bytes or blank line cannot be shown as printable text) describes
# its example in prose. A new dataset-level rule needs no edit here.
RUNNABLE_DP1XX = {"DP102", "DP103", "DP104", "DP112"}


def _runnable(rid: str) -> bool:
    return rid.startswith("DP2") or "DP300" <= rid <= "DP308" or rid in RUNNABLE_DP1XX


DESCRIBED = {rid for rid in all_rules() if not _runnable(rid)}

SENTENCE_END = (".", "!", "?")


def _raw_rules() -> list[dict]:
    text = resources.files("dataprep.schema").joinpath("catalog.toml").read_text("utf-8")
    return tomllib.loads(text)["rule"]


RULES = all_rules()
EXAMPLES = [(r.id, kind, getattr(r, kind)) for r in RULES.values() for kind in ("bad", "fixed")]
JSON_EXAMPLES = [(rid, kind, text) for rid, kind, text in EXAMPLES if not text.startswith(DESCRIPTION)]


def _ex_id(param) -> str:
    return f"{param[0]}-{param[1]}"


def test_catalog_parses_and_has_every_field():
    raw = _raw_rules()
    assert len(raw) >= len(RULES_MD)
    for r in raw:
        assert set(r) - {"threshold"} == {"id", "name", "severity", "summary", "doc", "bad", "fixed"}, r.get("id")
        for key, value in r.items():
            if key != "threshold":
                assert isinstance(value, str), (r["id"], key)


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: r.id)
def test_no_field_is_empty_or_todo(rule):
    for field in ("summary", "doc", "bad", "fixed"):
        value = getattr(rule, field)
        assert value.strip(), f"{rule.id}.{field} is empty"
        assert "TODO" not in value, f"{rule.id}.{field} still says TODO"


def test_ids_are_unique_and_well_formed():
    ids = [r["id"] for r in _raw_rules()]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for i in ids:
        assert re.fullmatch(r"DP\d{3}", i), i


def test_names_are_unique_kebab_case():
    names = [r["name"] for r in _raw_rules()]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    for n in names:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", n), n


def test_every_rules_md_rule_is_present_with_its_name_and_severity():
    for rid, (name, severity) in RULES_MD.items():
        assert rid in RULES, f"{rid} ({name}) missing from the catalog"
        rule = RULES[rid]
        assert rule.name == name, (rid, rule.name, name)
        assert rule.severity.value in severity.split("|"), (rid, rule.severity, severity)


def test_lookup_by_id_and_name():
    for rid, (name, _) in RULES_MD.items():
        assert get_rule(rid).id == rid
        assert get_rule(name).id == rid
        assert get_rule(rid.lower()).id == rid


def test_severities_and_groups():
    for r in RULES.values():
        assert isinstance(r.severity, Severity)
        assert r.group == r.id[:3] + "xx"


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: r.id)
def test_doc_is_one_paragraph(rule):
    doc = rule.doc
    assert "\n" not in doc, f"{rule.id}: doc must be one paragraph"
    assert "  " not in doc, f"{rule.id}: doc has a double space (line continuation gone wrong?)"
    assert 150 <= len(doc) <= 1000, (rule.id, len(doc))
    assert doc.endswith("."), rule.id


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: r.id)
def test_examples_are_lines_or_marked_descriptions(rule):
    for kind in ("bad", "fixed"):
        text = getattr(rule, kind)
        described = text.startswith(DESCRIPTION)
        assert described == (rule.id in DESCRIBED), f"{rule.id}.{kind}: description marker mismatch"
        if not described:
            assert "\n" not in text and "\r" not in text, f"{rule.id}.{kind} must be a single JSONL line"
    assert rule.bad != rule.fixed, rule.id


@pytest.mark.parametrize(
    "example", [e for e in JSON_EXAMPLES if not (e[1] == "bad" and e[0] in BAD_NOT_CLEAN_JSON)], ids=_ex_id)
def test_json_examples_parse(example):
    # DP102's and DP104's bad examples are broken on purpose; tests below check they really are.
    orjson.loads(example[2])


def test_broken_examples_really_are_broken():
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(RULES["DP102"].bad)
    # orjson accepts a duplicate key silently (the last wins): the raw text must hold it twice.
    bad = RULES["DP104"].bad
    parsed = orjson.loads(bad)
    assert len(re.findall(r'"[^"\\]+"\s*:', bad)) > len(re.findall(r'"[^"\\]+"\s*:', orjson.dumps(parsed).decode()))


def _is_dpo(rec: dict) -> bool:
    return "preferred_output" in rec or "non_preferred_output" in rec


@pytest.mark.parametrize("example", [e for e in JSON_EXAMPLES if e[1] == "fixed"], ids=_ex_id)
def test_fixed_examples_are_plausible_training_lines(example):
    """A light shape check (the validator test is the real one): a user turn, and an assistant
    reply that ends a sentence."""
    rid, _, text = example
    rec = orjson.loads(text)
    assert isinstance(rec, dict), rid
    if "instruction" in rec:  # DP112: a record of a source format, fixed before `convert`
        assert rec["instruction"].strip(), rid
        assert rec["output"].rstrip().endswith(SENTENCE_END), rid
        return
    if _is_dpo(rec):
        msgs = rec["input"]["messages"]
        outputs = [rec["preferred_output"], rec["non_preferred_output"]]
        for out in outputs:
            assert isinstance(out, list) and len(out) == 1 and out[0]["role"] == "assistant", rid
            assert out[0]["content"].rstrip().endswith(SENTENCE_END), rid
        assert outputs[0][0]["content"] != outputs[1][0]["content"], rid
    else:
        msgs = rec["messages"]
        assert msgs[-1]["role"] == "assistant", rid
    roles = [m["role"] for m in msgs]
    assert "user" in roles, rid
    for m in msgs:
        if m["role"] == "assistant" and isinstance(m.get("content"), str):
            assert m["content"].rstrip().endswith(SENTENCE_END), rid


def test_secret_example_uses_a_fake_key_of_the_right_shape():
    bad = RULES["DP305"].bad
    m = re.search(r"sk-proj-[A-Za-z0-9]{40}\b", bad)
    assert m, "the DP305 example should carry an sk-proj- style key"
    assert "sk-" not in RULES["DP305"].fixed


def test_dpo_examples_use_the_preference_format():
    for rid in ("DP220", "DP221"):
        for kind in ("bad", "fixed"):
            rec = orjson.loads(getattr(RULES[rid], kind))
            assert "input" in rec and "messages" not in rec, (rid, kind)


# --- thresholds: a dataset-level rule's preset keys live in its catalog entry ----------------------

# What the presets accepted before the thresholds moved into the catalog (issue 16): key -> (kind,
# rule, op). Pinned so that moving them changed nothing a preset file can say.
THRESHOLD_KEYS = {
    "max_duplicate_share": ("share", "DP501", "<="),
    "max_over_length_share": ("share", "DP400", "<="),
    "min_distinct_2": ("share", "DP601", ">="),
    "max_top_opening_share": ("share", "DP601", "<="),
    "min_effective_openings": ("int", "DP601", ">="),
    "allowed_languages": ("languages", "DP602", "<="),
    "max_other_language_share": ("share", None, ""),
    "token_budget": ("int", "DP401", "<="),
    "require_system_prompt": ("bool", "DP311", "<="),
}


def test_thresholds_come_from_the_catalog():
    from dataprep.gate.presets import THRESHOLDS
    from dataprep.schema.catalog import all_thresholds

    assert THRESHOLDS == all_thresholds()
    assert {k: (t.kind, t.rule, t.op) for k, t in THRESHOLDS.items()} == THRESHOLD_KEYS
    for t in THRESHOLDS.values():
        assert t.doc.strip(), t.key
        if t.rule is None:  # a parameter names the threshold it belongs to, which exists
            assert t.parameter_of in THRESHOLDS and THRESHOLDS[t.parameter_of].rule is not None, t.key
        else:
            assert t.label.strip() and t.rule in DESCRIBED, t.key  # thresholds judge datasets, not lines
    assert THRESHOLDS["max_other_language_share"].default == 0.01


def test_every_threshold_has_a_measurement():
    """A threshold in the catalog that the gate cannot measure would be silently ignored."""
    from dataprep.gate.presets import THRESHOLDS, load_preset
    from dataprep.gate.verdict import _measure

    preset = load_preset("openai")
    for key, spec in THRESHOLDS.items():
        if spec.rule is not None:
            measured, why = _measure(preset, key, {"examples": 0})  # KeyError: no code measures it
            assert measured is None and why, key


def test_a_malformed_threshold_is_named():
    from dataprep.schema.catalog import _threshold

    with pytest.raises(ValueError, match=r"DP601 threshold 'x': kind must be one of"):
        _threshold("DP601", {"key": "x", "kind": "ratio", "op": "<=", "label": "x", "doc": "x"})
    with pytest.raises(ValueError, match=r"DP601 threshold 'x': op must be"):
        _threshold("DP601", {"key": "x", "kind": "share", "op": "<", "label": "x", "doc": "x"})


def test_a_new_catalog_threshold_is_accepted_by_presets(tmp_path, monkeypatch):
    """Adding a threshold is a catalog edit: the preset parser learns the key from it."""
    from dataprep.gate import presets
    from dataprep.schema.catalog import ThresholdSpec

    spec = ThresholdSpec("max_example_share", "share", "DP603", "<=", "share", "a made-up threshold")
    monkeypatch.setitem(presets.THRESHOLDS, spec.key, spec)
    f = tmp_path / "p.toml"
    f.write_text('extends = "openai"\n[thresholds]\nmax_example_share = 0.5\n')
    assert presets.load_preset(str(f)).threshold("max_example_share") == 0.5
    f.write_text('extends = "openai"\n[thresholds]\nmax_example_share = 2\n')
    with pytest.raises(presets.PresetError, match="must be a share between 0 and 1"):
        presets.load_preset(str(f))
