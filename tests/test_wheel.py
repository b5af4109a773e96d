"""What users install is the wheel: build it (and the sdist), check it holds every file of the
package, install it non-editable into a fresh virtual environment, and run every command of the
README's command table on a copy of sample_data/ from a folder outside the source tree.

This is slow (a build and a venv install, ~1-2 minutes with a warm pip cache), and it is the only
test that sees what `pip install dataprep-chat` gives a user: the editable install the rest of the
suite uses reads the source tree and cannot notice a package missing from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"

pytestmark = pytest.mark.slow


def _source_files() -> set[str]:
    """Every file the installed package must hold, as its path inside the wheel."""
    out = set()
    for p in (ROOT / "dataprep").rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".toml", ".json", ".tcss"}:
            out.add(p.relative_to(ROOT).as_posix())
    for p in (ROOT / "rules").rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".toml"}:
            out.add("dataprep/rules/" + p.relative_to(ROOT / "rules").as_posix())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    # From a clean copy of the tree: an egg-info left by an earlier build would list files that
    # discovery no longer finds, and setuptools would still package them.
    src = tmp_path_factory.mktemp("src") / "dataprep-chat"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "build", "dist", "__pycache__", "data", ".hypothesis", ".pytest_cache"))
    # sdist first, then the wheel built from the unpacked sdist (build's default): both are tested.
    r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, os.listdir(out)
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_wheel_holds_every_package_file(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = sorted(_source_files() - names)
    assert not missing, f"files of the source tree missing from the wheel: {missing}"


def test_sdist_holds_every_package_file(built):
    with tarfile.open(built["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    want = {p if not p.startswith("dataprep/rules/") else "rules/" + p[len("dataprep/rules/"):]
            for p in _source_files()}
    missing = sorted(want - names)
    assert not missing, f"files of the source tree missing from the sdist: {missing}"


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> dict:
    """A fresh venv with the wheel installed non-editable, and a folder outside the source tree."""
    base = tmp_path_factory.mktemp("user")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    r = subprocess.run(pip + [str(built["wheel"])], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    work = base / "work"
    shutil.copytree(SAMPLES, work / "sample_data", ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["DATAPREP_CACHE_DIR"] = str(base / "cache")
    env["COLUMNS"] = "120"
    return {"venv": venv, "work": work, "env": env}


def _run(installed, *args: str, ok=(0, 1)) -> subprocess.CompletedProcess:
    r = subprocess.run([str(installed["venv"] / "bin" / "dataprep"), *args], cwd=installed["work"],
                       env=installed["env"], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    said = r.stdout + r.stderr
    assert "Traceback" not in said and "Error: No module" not in said, f"dataprep {' '.join(args)}:\n{said[-4000:]}"
    assert r.returncode in ok, f"dataprep {' '.join(args)} exited {r.returncode}:\n{said[-4000:]}"
    return r


def test_installed_package_is_the_wheel_not_the_source_tree(installed):
    py = installed["venv"] / "bin" / "python"
    r = subprocess.run([str(py), "-c", "import dataprep, dataprep.rules; print(dataprep.__file__); "
                        "print(dataprep.rules.__file__); print(dataprep.__version__)"],
                       cwd=installed["work"], env=installed["env"], capture_output=True, text=True, check=True)
    pkg, rules, version = r.stdout.split()
    assert str(installed["venv"]) in pkg and str(ROOT) not in pkg
    assert str(installed["venv"]) in rules
    assert _run(installed, "--version").stdout.strip() == f"dataprep {version}"
    assert version != "0+unknown"


# Every command of the README's command table, on the sample data, as a new user would run it.
COMMANDS = [
    ("validate", ["validate", "sample_data/support_chat.jsonl", "sample_data/broken.jsonl"]),
    ("validate-json", ["validate", "sample_data/support_chat.jsonl", "--output-format", "json"]),
    ("rules", ["rules"]),
    ("rules-one", ["rules", "DP101"]),
    ("convert", ["convert", "sample_data/alpaca.json", "converted.jsonl"]),
    ("fix", ["fix", "sample_data/broken.jsonl", "--out", "fixed.jsonl", "--rejects", "rejects.jsonl"]),
    ("tokens", ["tokens", "sample_data/support_chat.jsonl"]),
    ("dedup", ["dedup", "sample_data/support_chat.jsonl", "--out", "kept.jsonl", "--json"]),
    ("split", ["split", "sample_data/support_chat.jsonl", "--out-dir", "splits"]),
    ("diversity", ["diversity", "sample_data/support_chat.jsonl"]),
    ("gate", ["gate", "sample_data/support_chat.jsonl", "--rules", "style"]),
    ("audit", ["audit", "sample_data", "--html", "report.html", "--json", "audit.json", "--fail-on", "never"]),
    ("scan", ["scan", "sample_data/tools.jsonl"]),
    ("train", ["train", "sample_data/support_chat.jsonl", "--backend", "axolotl", "--model",
               "Qwen/Qwen2.5-0.5B-Instruct", "--dry-run"]),
]


@pytest.mark.parametrize("name,args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_runs_from_the_installed_wheel(installed, name, args):
    r = _run(installed, *args)
    if name == "validate-json":
        import orjson

        doc = orjson.loads(r.stdout)
        assert doc["dataprep_version"] == _run(installed, "--version").stdout.split()[1]
    if name == "audit":
        assert (installed["work"] / "report.html").stat().st_size > 10_000
    if name == "dedup":
        assert (installed["work"] / "kept.jsonl").exists()


def test_tui_first_screen_from_the_installed_wheel(installed):
    """The terminal inspector, driven by textual's own test pilot inside the fresh venv."""
    script = (
        "import asyncio\n"
        "from dataprep.tui.app import DataprepApp\n"
        "async def go():\n"
        "    app = DataprepApp('sample_data/support_chat.jsonl', jobs=1, cache=False, loader='thread')\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        for _ in range(3):\n"
        "            await app.workers.wait_for_complete()\n"
        "            await pilot.pause()\n"
        "        print('rows', app.examples.count)\n"
        "asyncio.run(go())\n"
    )
    r = subprocess.run([str(installed["venv"] / "bin" / "python"), "-c", script], cwd=installed["work"],
                       env=installed["env"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout[-3000:] + r.stderr[-3000:]
    assert "rows 150" in r.stdout
