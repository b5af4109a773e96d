"""The shape of the package a newcomer relies on (issue 16).

- No import cycle between the modules of ``dataprep/`` (module-level imports; an import inside a
  function runs late, on purpose, and is not part of the graph).
- Every rule of the catalog is reachable: some input of the test corpus (``sample_data/``,
  ``tests/data/``, the catalog's own examples) makes it fire. A rule added to the catalog without
  an input that fires it fails here, and so does a rule whose check was lost on the way (a
  shortcut that skips it, an analysis that no longer reports it).

The light commands' imports (no polars, no numpy) are tested in tests/test_version.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dataprep.schema.catalog import all_rules

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
DATA = ROOT / "tests" / "data"


# --------------------------------------------------------------------------------------------- imports

def module_graph(root: Path, package: str = "dataprep") -> dict[str, set[str]]:
    """Module -> the package modules it imports when it is itself imported.

    Counted: ``import`` statements at module level, including those under ``if``/``try`` (but not
    under ``if TYPE_CHECKING:``, which never runs). Importing ``a.b.c`` also runs ``a/__init__``
    and ``a/b/__init__``: those packages are edges too, except the importer's own parents (a
    package importing its submodules is how packages work, not a cycle).
    """
    modules: dict[str, tuple[Path, bool]] = {}
    for p in (root / package).rglob("*.py"):
        parts = list(p.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for mod, (path, is_pkg) in modules.items():
        deps: set[str] = set()
        _imports(ast.parse(path.read_text(encoding="utf-8")).body, mod, is_pkg, known, package, deps)
        deps.discard(None)  # type: ignore[arg-type]
        for d in list(deps):
            parts = d.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                if not (mod == parent or mod.startswith(parent + ".")):
                    deps.add(parent)
        deps.discard(mod)
        graph[mod] = deps
    return graph


def _imports(body: list[ast.stmt], mod: str, is_pkg: bool, known, package: str, deps: set) -> None:
    """Add to ``deps`` what the statements ``body`` of module ``mod`` import when they run."""
    for node in body:
        if isinstance(node, ast.Import):
            deps.update(known(a.name) for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == package:
                for a in node.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{target}.{a.name}"
                    deps.add(known(sub) if known(sub) == sub else known(target))
        elif isinstance(node, ast.If):
            if ast.unparse(node.test) not in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                _imports(node.body, mod, is_pkg, known, package, deps)
            _imports(node.orelse, mod, is_pkg, known, package, deps)
        elif isinstance(node, ast.Try):
            for part in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                _imports(part, mod, is_pkg, known, package, deps)
        elif isinstance(node, ast.With):
            _imports(node.body, mod, is_pkg, known, package, deps)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan; the package is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for group in groups:  # a shortest way back to the start, inside the group, to print
        start = min(group)
        paths = {start: [start]}
        todo = [start]
        while todo:
            v = todo.pop(0)
            for w in sorted(graph[v] & group):
                if w == start:
                    todo = []
                    out.append(paths[v] + [start])
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    todo.append(w)
    return out


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_the_cycle_finder_finds_cycles_and_skips_late_imports(tmp_path):
    """The test below can fail: a module-level cycle (also through a package __init__) is found,
    imports inside functions and under TYPE_CHECKING are not."""
    root = _write(tmp_path, {
        "dataprep/__init__.py": "",
        "dataprep/a.py": "from dataprep.b import x\n",
        "dataprep/b.py": "import dataprep.c\nx = 1\n",
        "dataprep/c.py": "def f():\n    from dataprep import a\n",
        "dataprep/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dataprep import a\n",
        "dataprep/sub/__init__.py": "from .inner import y\n",
        "dataprep/sub/inner.py": "from dataprep.e import z\ny = 1\n",
        "dataprep/sub/other.py": "w = 3\n",
        "dataprep/e.py": "z = 2\n",
    })
    assert cycles(module_graph(root)) == []
    (root / "dataprep/c.py").write_text("from dataprep import a\n")
    assert cycles(module_graph(root)) == [["dataprep.a", "dataprep.b", "dataprep.c", "dataprep.a"]]
    (root / "dataprep/c.py").write_text("")
    # e imports sub.other, which runs sub/__init__ first, which imports sub.inner, which imports e
    (root / "dataprep/e.py").write_text("from dataprep.sub.other import w\nz = 2\n")
    assert cycles(module_graph(root)) == [["dataprep.e", "dataprep.sub", "dataprep.sub.inner", "dataprep.e"]]


def test_the_package_has_no_import_cycle():
    graph = module_graph(ROOT)
    assert len(graph) > 50 and "dataprep.schema.catalog" in graph
    found = cycles(graph)
    assert found == [], "import cycles (module-level imports):\n" + "\n".join(" -> ".join(c) for c in found)


def test_catalog_and_findings_do_not_import_each_other():
    graph = module_graph(ROOT)
    assert "dataprep.schema.findings" not in graph["dataprep.schema.catalog"]
    assert graph["dataprep.schema.severity"] == set()


# --------------------------------------------------------------------------------------------- reachability

# Rules that no file can carry, each with the one change of circumstance that reaches it from a
# corpus input (the test below applies it):
#   DP100 file-unreadable: a path that does not exist.
#   DP107 file-too-large: the provider's limit (512 MB) lowered below a corpus file's size.
#   DP109 too-few-examples: a file of one catalog example (the corpus files hold 10 or more).
#   DP199 analysis-failed: an analysis made to crash (it reports bugs, not data).
PRESET = """\
extends = "strict"
model = "gpt-3.5-turbo-0613"  # a 4,096-token training context: the long transcript is over it (DP400)
[thresholds]
token_budget = 1              # every file is over it (DP401)
allowed_languages = ["en"]    # the multilingual files are not (DP602)
"""
GATED = [SAMPLES / "broken.jsonl", SAMPLES / "alpaca.jsonl", SAMPLES / "support_chat.jsonl",
         SAMPLES / "multilingual.jsonl", DATA / "en_zh_instructions.jsonl", DATA / "templated_support.jsonl",
         DATA / "language_mismatch.jsonl"]


def _line_rules_of_examples() -> dict[str, set[str]]:
    from dataprep.io.reader import RawLine
    from dataprep.validate import check_line

    out = {}
    for r in all_rules().values():
        if not r.bad.startswith("# description:"):
            found = check_line(RawLine(1, 0, r.bad.encode(), b"\n"), "catalog.jsonl").findings
            out[r.id] = {f.rule for f in found}
    return out


@pytest.fixture(scope="module")
def fired(tmp_path_factory) -> dict[str, list[str]]:
    """rule id -> the inputs that made it fire."""
    from dataprep.gate.verdict import run_gate
    from dataprep.schema.limits import provider_limits

    tmp = tmp_path_factory.mktemp("reach")
    preset = tmp / "reach.toml"
    preset.write_text(PRESET)
    out: dict[str, list[str]] = {}

    def note(rules, where: str) -> None:
        for r in rules:
            out.setdefault(r, []).append(where)

    for rid, rules in _line_rules_of_examples().items():
        note(rules, f"catalog {rid} bad example")
    for path in GATED:
        others = [str(p) for p in GATED if p != path and p.name != "broken.jsonl"]
        (fa,) = run_gate(str(path), str(preset), jobs=1, cache=False, against=others).files
        note({f.rule for f in fa.findings}, path.name)

    (fa,) = run_gate(str(SAMPLES / "no-such-file.jsonl"), "openai", jobs=1, cache=False).files
    note({f.rule for f in fa.findings}, "a missing path")
    one = tmp / "one.jsonl"
    one.write_text(all_rules()["DP300"].fixed + "\n")
    (fa,) = run_gate(str(one), "openai", jobs=1, cache=False).files
    note({f.rule for f in fa.findings}, "one catalog example")

    limits = provider_limits("openai")
    saved = limits["max_file_bytes"]
    limits["max_file_bytes"] = 1000  # provider_limits is cached: every reader of the limit sees this
    try:
        (fa,) = run_gate(str(SAMPLES / "support_chat.jsonl"), "openai", jobs=1, cache=False).files
    finally:
        limits["max_file_bytes"] = saved
    note({f.rule for f in fa.findings}, "support_chat.jsonl over a 1,000-byte limit")

    # Training targets (--target, rules/targets/): their DP7xx rules fire only under a target.
    nova = tmp / "nova.jsonl"
    nova.write_text('{"messages":[{"role":"user","content":"Summarise: User: hi"},'
                    '{"role":"assistant","content":"A greeting."}]}\n')
    small = tmp / "small.toml"  # a target that takes one example per file (DP702)
    small.write_text('name = "small"\ntitle = "Small"\nstatus = "available"\nas_of = 2026-12-01\n'
                     'sources = ["https://example.com"]\nformats = ["openai-chat"]\n[limits]\nmax_examples = 1\n')
    for target, path in (("trl", SAMPLES / "dpo.jsonl"), ("azure", SAMPLES / "support_chat.jsonl"),
                         ("openai", SAMPLES / "support_chat.jsonl"), ("together", SAMPLES / "broken.jsonl"),
                         ("llamafactory", SAMPLES / "tools.jsonl"), ("mistral", SAMPLES / "tools.jsonl"),
                         ("bedrock-nova", nova), (str(small), SAMPLES / "support_chat.jsonl")):
        (fa,) = run_gate(str(path), "openai", jobs=1, cache=False, target=target).files
        note({f.rule for f in fa.findings if f.rule.startswith("DP7")}, f"{path.name} under --target {target}")

    import dataprep.tokens.analyze as tokens_analyze

    real = tokens_analyze.analyze

    def crash(*a, **k):
        raise RuntimeError("made to crash by test_package_structure")

    tokens_analyze.analyze = crash
    try:
        (fa,) = run_gate(str(SAMPLES / "support_chat.jsonl"), "openai", jobs=1, cache=False).files
    finally:
        tokens_analyze.analyze = real
    note({f.rule for f in fa.findings}, "support_chat.jsonl with the tokens analysis crashing")
    return out


def test_every_catalog_rule_fires_on_some_input(fired):
    missing = sorted(set(all_rules()) - set(fired))
    assert not missing, ("rules no input of the test corpus makes fire (add an input to sample_data/ or "
                         f"tests/data/, or fix the check): {missing}")


def test_every_runnable_catalog_example_fires_its_own_rule():
    """The quick half of the above, one line per rule (tests/test_rule_examples.py checks the
    example fires that rule alone, and its fixed line nothing)."""
    for rid, rules in _line_rules_of_examples().items():
        assert rid in rules, (rid, rules)


def test_the_corpus_inputs_are_where_the_reach_table_says(fired):
    # the dataset-level rules come from corpus files, not from the catalog's prose examples
    for rid in ("DP309", "DP310", "DP311", "DP400", "DP401", "DP500", "DP501", "DP502", "DP503", "DP600",
                "DP601", "DP602", "DP603"):
        assert any(w.endswith(".jsonl") for w in fired[rid]), (rid, fired[rid])
    assert fired["DP100"] == ["a missing path"]
    assert "support_chat.jsonl over a 1,000-byte limit" in fired["DP107"]
    assert fired["DP199"] == ["support_chat.jsonl with the tokens analysis crashing"]
