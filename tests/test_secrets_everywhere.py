"""No command echoes a secret or personal data (issue 15): every output a command writes, on a
dataset that plants them where they hurt most.

Secrets open assistant turns, user turns and the system prompt, repeated over 130 lines, so
they become the top openings, duplicate clusters and system-prompt previews. Every stream and
file of every command is searched for each secret in any letter case, and for every run of 10+
letters and digits of it (a secret cut into words or n-grams is still a leak).

Files that are the user's own data by contract are searched differently, and say why below.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.mask import PLACEHOLDER, mask_secrets, redact

AWS_ID = "AKIAQ3EGUTZ6XMPL4KWJ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8aTk3LpV"
PEM_BODY = ("MIIEowIBAAKCAQEAu7Qx9Lm2Vr4Tn8Bw1Cz6PjKq", "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBhYmNk")
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----"
# what DP305 reports (and `fix` masks in the user's data)
DP305 = {
    "aws access key id": AWS_ID,
    "github token": "ghp_Zq8RkT2mW9xB4nV7cL1pH6sJ3dF0gY5aE2uQ",
    "openai key": "sk-proj-T7qLm2Vx9KpB4nR8sW1cZ6hJ3dF0gY5aE2uQoPz",
    "slack token": "xoxb-4829105736-8391027465-QwErTyUiOpAsDfGhJkLzXcVb",
    "google api key": "AIzaSyD4kR9mT2xV7bN1qW8eL3pZ6cH0jF5gU2s",
    "stripe key": "sk_live_51HxQk2Lm9Vr4Tn8Bw1Cz6Pj",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyNDI3In0.Xk3mQ9vT2pL8nR4sW1cZ6hJ",
    "private key": PEM,
}
# DP304 personal data (validate masks these too) and the AWS secret access key (no DP305 pattern)
OTHER = {
    "aws secret access key": AWS_SECRET,
    "email": "jane.doe.4711@example-corp.com",
    "phone": "+1 415-555-0199",
    "card": "4539 1488 0343 6467",
    "iban": "DE89 3704 0044 0532 0130 00",
}
SECRETS = DP305 | OTHER


def forms(name: str, value: str) -> set[str]:
    """The ways a secret can show up in an output (compared lower-cased)."""
    out = {value} | set(re.findall(r"[A-Za-z0-9]{10,}", value))  # whole, and cut into words
    if name in ("phone", "card"):
        out |= {re.sub(r"\D", "", value), re.sub(r"^\+1 ", "", value)}
    if name == "phone":
        out.add("415 555 0199")
    if name == "iban":
        out.add(value.replace(" ", ""))
    if name == "email":
        out |= {"jane.doe.4711", "jane doe 4711"}
    if name == "private key":
        out = set(PEM_BODY)  # the header is no secret; the key material is
    return {f.lower() for f in out}


FORMS = {name: forms(name, value) for name, value in SECRETS.items()}


def leaks(text: str, names=SECRETS) -> list[str]:
    low = text.lower()
    return sorted(f"{n}: {f!r}" for n in names for f in FORMS[n] if f in low)


def planted_dataset(path: Path) -> Path:
    """133 chat lines; every secret opens some user and assistant turns, the system prompt
    carries one on every line, the first 10 lines repeat (exact duplicate clusters), and two
    lines hold secrets where a role, a key, a tool name and a schema type belong."""
    names = list(SECRETS)
    rows = []
    for i in range(120):
        first = SECRETS[names[i % len(names)]]
        rows.append({"messages": [
            {"role": "system", "content": f"{DP305['openai key']} is the service key. Contact {OTHER['email']}."},
            {"role": "user", "content": f"{first} please store aws_access_key_id={AWS_ID} "
                                        f"aws_secret_access_key={AWS_SECRET} for request {i}"},
            {"role": "assistant", "content": f"{first} {DP305['github token']} is what I found for request {i}."},
        ]})
    rows += rows[:10]
    # secrets where the structure is wrong: the structural findings quote these values
    rows.append({"messages": [{"role": DP305["openai key"], "content": "hi"},
                              {"role": "assistant", "content": "ok", AWS_ID: 1}]})
    rows.append({"messages": [{"role": "user", "content": "weather?"}, {"role": "assistant", "content": "sunny"}],
                 "tools": [{"type": "function", "function": {"name": DP305["github token"],
                                                             "parameters": {"type": DP305["slack token"]}}}]})
    lines = [json.dumps(r) for r in rows]
    # one line no repair can save (no assistant turn): fix and convert reject it
    lines.append(json.dumps({"messages": [{"role": "user", "content": f"{DP305['slack token']} alone"}]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every command on the planted dataset: {name: combined output}, and the output folder."""
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("secrets")
    mp.setenv("DATAPREP_CACHE_DIR", str(base / "cache"))
    mp.setenv("COLUMNS", "200")
    mp.delenv("GITHUB_STEP_SUMMARY", raising=False)
    data = planted_dataset(base / "planted.jsonl")
    out = base / "out"
    out.mkdir()
    d, o = str(data), str(out)
    commands = {f"validate -f {f}": ["validate", d, "-f", f] for f in ("text", "json", "github", "junit", "sarif")}
    commands |= {f"gate -f {f}": ["gate", d, "-f", f, "-j", "1", "--rules", "strict"]
                 for f in ("text", "json", "github", "junit", "sarif", "markdown")}
    commands |= {
        "validate --output": ["validate", d, "-f", "sarif", "--output", f"{o}/validate.sarif"],
        "tokens": ["tokens", d, "-j", "1"],
        "tokens --json": ["tokens", d, "--json", "-j", "1"],
        "dedup": ["dedup", d, "-j", "1", "--out", f"{o}/dedup_kept.jsonl", "--clusters", f"{o}/clusters.jsonl"],
        "dedup --json": ["dedup", d, "--json", "-j", "1"],
        "dedup -f json": ["dedup", d, "-f", "json", "-j", "1"],
        "split": ["split", d, "--out-dir", f"{o}/split", "--json", "-j", "1"],
        "diversity": ["diversity", d, "-j", "1"],
        "diversity --json": ["diversity", d, "--json", "-j", "1"],
        "audit": ["audit", d, "--html", f"{o}/audit.html", "--json", f"{o}/audit.json", "--markdown",
                  f"{o}/audit.md", "-j", "1", "--fail-on", "never"],
        "scan": ["scan", d, "-j", "1"],
        "scan --json": ["scan", d, "--json", "-j", "1"],
        "convert": ["convert", d, f"{o}/converted.jsonl", "--json"],
        "fix": ["fix", d, "--out", f"{o}/fixed.jsonl", "--rejects", f"{o}/fix_rejects.jsonl", "--json"],
        "fix --dry-run": ["fix", d, "--dry-run"],
        "train llamafactory --dry-run": ["train", d, "--backend", "llamafactory", "--dry-run", "--force",
                                         "--model", "tiny-random", "-o", f"{o}/run_lf", "-j", "1"],
        "train axolotl --dry-run": ["train", d, "--backend", "axolotl", "--dry-run", "--force",
                                    "--model", "tiny-random", "-o", f"{o}/run_ax", "-j", "1"],
    }
    runner = CliRunner()
    results = {}
    try:
        for name, args in commands.items():
            r = runner.invoke(app, args, catch_exceptions=True)
            assert r.exception is None or isinstance(r.exception, SystemExit), (name, r.exception)
            assert r.exit_code in (0, 1), (name, r.exit_code, r.output[-2000:])
            results[name] = r.output
    finally:
        mp.undo()
    return results, out, data


# The user's own data, written on purpose: the contract of these files is the input's examples,
# unchanged (dedup --out: "byte-identical lines"; split: the examples, divided; convert: the
# records in the target format). They are checked to be data, not searched for secrets.
DATA_FILES = {"dedup_kept.jsonl", "split/train.jsonl", "split/val.jsonl", "split/test.jsonl", "converted.jsonl"}
# fix's output is the user's data with DP305 secrets masked: searched for those (module below).
# Rejects files keep each rejected record (convert: "record") or line (fix: "raw") unchanged so
# the user can repair it; every other field of them (reason, findings) is searched.
REJECTS = {"converted.rejects.jsonl": "record", "fix_rejects.jsonl": "raw"}


def test_the_planted_dataset_really_holds_every_secret(runs):
    _, _, data = runs
    text = data.read_text()
    assert all(leaks(text, [n]) for n in SECRETS)  # the search can fail


@pytest.mark.parametrize("command", [
    *(f"validate -f {f}" for f in ("text", "json", "github", "junit", "sarif")),
    *(f"gate -f {f}" for f in ("text", "json", "github", "junit", "sarif", "markdown")),
    "validate --output", "tokens", "tokens --json", "dedup", "dedup --json", "dedup -f json", "split",
    "diversity", "diversity --json", "audit", "scan", "scan --json", "convert", "fix", "fix --dry-run",
    "train llamafactory --dry-run", "train axolotl --dry-run",
])
def test_terminal_output_holds_no_secret(runs, command):
    results, _, _ = runs
    assert leaks(results[command]) == []


def test_every_report_and_summary_file_holds_no_secret(runs):
    _, out, _ = runs
    searched = []
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel in DATA_FILES or rel in REJECTS or rel == "fixed.jsonl":
            continue
        searched.append(rel)
        assert leaks(p.read_text(encoding="utf-8", errors="replace")) == [], rel
    # the reports are there and were searched
    assert {"audit.html", "audit.json", "audit.md", "clusters.jsonl", "split/split.json",
            "validate.sarif"} <= set(searched)


def test_the_top_openings_are_masked_not_dropped(runs):
    """The issue's case: keys that open most replies are the top openings of the audit JSON."""
    _, out, _ = runs
    doc = json.loads((out / "audit.json").read_text())
    found = []

    def walk(v):
        if isinstance(v, dict):
            if "opening" in v:
                found.append(v["opening"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc)
    assert found and leaks("\n".join(found)) == []
    assert any(o.startswith("redacted_secret") for o in found)


def test_rejects_keep_the_record_and_mask_everything_else(runs):
    _, out, _ = runs
    for name, raw_key in REJECTS.items():
        lines = (out / name).read_text().splitlines()
        assert lines, name
        for line in lines:
            entry = json.loads(line)
            assert raw_key in entry  # the rejected record itself, for the user to repair
            rest = {k: v for k, v in entry.items() if k != raw_key}
            assert leaks(json.dumps(rest, ensure_ascii=False)) == [], name


def test_data_files_are_the_users_examples(runs):
    _, out, data = runs
    src = set(data.read_text().splitlines())
    for name in ("dedup_kept.jsonl", "split/train.jsonl"):
        kept = (out / name).read_text().splitlines()
        assert kept and set(kept) <= src  # byte-identical lines of the input, nothing rewritten


def test_fix_output_has_every_dp305_secret_masked(runs):
    _, out, _ = runs
    fixed = (out / "fixed.jsonl").read_text()
    assert PLACEHOLDER in fixed
    assert leaks(fixed, DP305) == []


# ------------------------------------------------------------------------------ the one function

@pytest.mark.parametrize("name", list(SECRETS))
def test_redact_masks_every_planted_secret_in_any_case(name):
    value = SECRETS[name]
    for v in (value, value.lower(), value.upper()):
        if name == "iban" and v != value.upper():
            continue  # an IBAN is upper case by definition (the validator's pattern too)
        # a bare 40-character run is taken for an AWS secret when it looks random (mixed case);
        # once lower-cased, only next to what names it (a file path must not read as a key)
        text = f"aws_secret_access_key = {v}" if name == "aws secret access key" and v != value else f"see {v} here"
        for style in ("mask", "placeholder"):
            shown = redact(text, style=style)
            assert leaks(shown, [name]) == [], (v, style, shown)


def test_redact_is_a_fixpoint_and_leaves_plain_text_alone():
    text = "Order 1234 shipped on 2024-01-15 to 10.0.0.1; see https://example.com/a/b for details."
    assert redact(text) == text
    path = "/home/user/data/train2/set/chat/v1/abcd.jsonl"  # a 40-character run with "/" and digits
    assert redact(path) == path
    once = redact(" ".join(SECRETS.values()))
    assert redact(once) == once


def test_fix_masks_only_what_dp305_finds():
    """The user's data changes only where the validator reports a secret: a lower-cased key or
    a bare 40-character string is left as it is (display masking still hides it)."""
    assert mask_secrets(AWS_ID.lower(), PLACEHOLDER, exact=True) == (AWS_ID.lower(), 0)
    assert mask_secrets(AWS_SECRET, PLACEHOLDER, exact=True) == (AWS_SECRET, 0)
    masked, n = mask_secrets(f"key {PEM} end", PLACEHOLDER, exact=True)
    assert n == 1 and masked == f"key {PLACEHOLDER} end"


# ------------------------------------------------------------------------------ the inspector

def test_tui_lists_and_views_hold_no_secret_until_asked(tmp_path, monkeypatch):
    from rich.console import Console

    from dataprep.tui.app import DataprepApp
    from dataprep.tui.findings_view import finding_label

    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))
    data = planted_dataset(tmp_path / "planted.jsonl")

    def plain(renderable) -> str:
        console = Console(width=400, record=True, file=io.StringIO(), color_system=None)
        console.print(renderable)
        return console.export_text()

    async def settle(pilot):
        for _ in range(3):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    async def go():
        tui = DataprepApp(str(data), jobs=1, cache=False, loader="thread")
        async with tui.run_test(size=(200, 60)) as pilot:
            await settle(pilot)
            assert tui.dataset.scanned
            seen = {}
            for tab in ("1", "2", "3", "4"):
                await pilot.press(tab)
                await settle(pilot)
                seen[f"screen {tab}"] = tui.export_screenshot()
            # the duplicates view: the largest cluster's members side by side
            assert tui.query_one("DuplicatesView").clusters
            seen["duplicates"] = "\n".join(plain(tui.query_one(f"#dup-text-{k}").content) for k in range(3))
            # the findings view: every finding's label, and the detail of one
            seen["findings"] = "\n".join(plain(finding_label(f)) for f in tui.dataset.findings)
            # the overview (system-prompt previews, top openings)
            seen["overview"] = "\n".join(plain(s.content) for s in tui.overview.query("Static"))
            # the conversation view, line 1: masked ...
            await pilot.press("2")
            tui.goto(1)
            await pilot.pause()
            seen["conversation"] = plain(tui.conversation.body.content)
            for where, text in seen.items():
                assert leaks(text) == [], where
            assert "AKIA…(20 chars)" in seen["conversation"]
            # ... the raw text only on request (R), and for that example only
            tui.conversation.focus()
            await pilot.press("R")
            await pilot.pause()
            revealed = plain(tui.conversation.body.content)
            assert AWS_ID in revealed and "raw text shown" in revealed
            await pilot.press("2")
            tui.goto(2)
            await pilot.pause()
            assert leaks(plain(tui.conversation.body.content)) == []

    asyncio.run(go())
