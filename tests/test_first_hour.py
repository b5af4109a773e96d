"""The usual first-hour mistakes through every command: a non-zero exit, one line that says what
to do, no traceback, and no empty output file left behind (issue: "the first hour of a new user")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

MISTAKES = {
    "empty.jsonl": b"",
    "table.csv": b"question,answer\nWhat is 2+2?,4\n",
    "cp1252.jsonl": ('{"messages": [{"role": "user", "content": "caf\xe9?"}, '
                     '{"role": "assistant", "content": "Oui."}]}\n').encode("cp1252"),
    "alpaca.json": json.dumps([{"instruction": "Say hi", "input": "", "output": "Hi"}] * 3).encode(),
}
# what the one line must point at, per mistake
ADVICE = {"empty.jsonl": "empty", "table.csv": "convert", "cp1252.jsonl": "UTF-8", "alpaca.json": "convert"}


def _commands(src: Path, out: Path) -> dict[str, list[str]]:
    return {
        "validate": ["validate", str(src)],
        "tokens": ["tokens", str(src), "--no-cache", "-q"],
        "dedup": ["dedup", str(src), "--no-cache", "-q", "--out", str(out / "kept.jsonl")],
        "split": ["split", str(src), "--no-cache", "-q", "--out-dir", str(out / "split")],
        "diversity": ["diversity", str(src), "--no-cache", "-q"],
        "gate": ["gate", str(src), "--no-cache"],
        "audit": ["audit", str(src), "--no-cache"],
        "convert": ["convert", str(src), str(out / "converted.jsonl"), "-q"],
        "fix": ["fix", str(src), "-q", "--out", str(out / "fixed.jsonl"), "--rejects", str(out / "rej.jsonl")],
    }


@pytest.mark.parametrize("name", sorted(MISTAKES))
@pytest.mark.parametrize("command", ["validate", "tokens", "dedup", "split", "diversity", "gate", "audit",
                                     "convert", "fix"])
def test_every_command_refuses_unusable_input_and_says_what_to_do(tmp_path, name, command):
    src = tmp_path / name
    src.write_bytes(MISTAKES[name])
    out = tmp_path / "out"
    out.mkdir()
    args = _commands(src, out)[command]
    r = runner.invoke(app, args)
    text = r.output + (r.stderr if r.stderr_bytes is not None else "") + (
        f"\n(exception: {r.exception!r})" if r.exception and not isinstance(r.exception, SystemExit) else "")
    assert "Traceback" not in text and not isinstance(r.exception, (AttributeError, KeyError, TypeError,
                                                                       IndexError, ValueError, ZeroDivisionError))
    if command == "convert" and name in ("alpaca.json", "table.csv"):
        assert r.exit_code == 0, text  # convert is the remedy the others point at: it converts them
        return
    assert r.exit_code != 0, f"{command} on {name} exited 0:\n{text}"
    if command == "convert" and name == "cp1252.jsonl":
        assert "rejected" in text  # the record goes to the rejects file with its reason
        return
    assert ADVICE[name].lower() in text.lower(), f"{command} on {name} does not say what to do:\n{text}"
    empty = [p for p in out.rglob("*") if p.is_file() and p.stat().st_size == 0]
    assert not empty, f"{command} on {name} left empty output files: {empty}"


def test_a_directory_means_the_files_directly_inside_it(tmp_path):
    d = tmp_path / "data"
    (d / "bench").mkdir(parents=True)
    shutil.copy(ROOT / "sample_data" / "support_chat.jsonl", d / "chat.jsonl")
    shutil.copy(ROOT / "sample_data" / "dpo.jsonl", d / "bench" / "deep.jsonl")
    r = runner.invoke(app, ["tokens", str(d), "--json", "--no-cache", "-q"])
    assert r.exit_code in (0, 1), r.output
    files = [f["path"] for f in json.loads(r.stdout)["files"]]
    assert files == [str(d / "chat.jsonl")]  # not the sub-folder's file
    r = runner.invoke(app, ["validate", f"{d}/**/*.jsonl"])  # a glob reaches deeper
    assert "deep.jsonl" in r.output
    only_deep = tmp_path / "nested"
    (only_deep / "x").mkdir(parents=True)
    shutil.copy(ROOT / "sample_data" / "dpo.jsonl", only_deep / "x" / "d.jsonl")
    r = runner.invoke(app, ["validate", str(only_deep)])
    assert r.exit_code == 2 and "/**/*.jsonl" in r.output  # says how to reach the sub-folders


@pytest.mark.parametrize("command", ["dedup", "diversity", "split", "fix"])
def test_a_one_file_command_given_a_directory_says_so_without_contradiction(tmp_path, command):
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "sample_data" / "support_chat.jsonl", d / "chat.jsonl")
    r = runner.invoke(app, [command, str(d)])
    assert r.exit_code == 2
    assert "reads one file" in r.output and "pass the directory itself" not in r.output


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_tokens_table_fits_the_terminal_and_never_cuts_a_number(columns):
    files = [str(ROOT / "sample_data" / n) for n in ("support_chat.jsonl", "multilingual.jsonl", "tools.jsonl")]
    r = runner.invoke(app, ["tokens", *files, "--no-cache", "-q"], env={"COLUMNS": str(columns)})
    assert r.exit_code in (0, 1), r.output
    lines = r.stdout.splitlines()
    assert max(len(x.rstrip()) for x in lines) <= columns
    doc = json.loads(runner.invoke(app, ["tokens", *files, "--no-cache", "-q", "--json"]).stdout)
    for f in doc["files"]:  # every figure of the table is printed whole (not "3,111…")
        for key in ("examples", "total_tokens"):
            value = f"{f[key]:,}" if isinstance(f[key], int) else None
            if value is not None:
                assert any(value in x.split() or f" {value} " in f" {x} " for x in lines), (key, value)
    assert "…" not in r.stdout


def _commands_of(group, prefix=""):
    import click

    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands_of(cmd, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", cmd


def test_every_option_of_every_command_says_what_it_does():
    import typer.main

    missing = []
    for name, cmd in _commands_of(typer.main.get_command(app)):
        for p in cmd.params:
            if p.param_type_name == "option" and not (p.help or "").strip():
                missing.append(f"{name} {p.opts[0]}")
    assert not missing, missing


@pytest.mark.parametrize("command", ["validate", "tokens", "dedup", "train", "gate", "audit"])
def test_help_has_no_python_placeholders_nor_private_documents(command):
    r = runner.invoke(app, [command, "--help"], env={"COLUMNS": "100"})
    assert r.exit_code == 0
    for bad in ("<bool>", "list[", "DESIGN.md"):
        assert bad not in r.output, (bad, r.output)
