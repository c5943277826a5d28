"""The README cannot rot: every Python block runs, and its printed output is the text block under it.

Every Python block is followed by a text block with its output (checked); a
block that printed without one would fail rather than pass unchecked.

Shell blocks: the set-up block's test line is what ``.ci/run`` executes (checked
here), and its ``fastgd bench`` is exercised end to end by ``tests/test_cli.py``.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.DOTALL)
PYTHON = [(i, code) for i, (lang, code) in enumerate(BLOCKS) if lang == "python"]


def test_readme_has_python_examples():
    assert len(PYTHON) >= 2


@pytest.mark.parametrize(("index", "code"), PYTHON, ids=[f"block{i}" for i, _ in PYTHON])
def test_python_block_runs_and_prints_what_the_readme_shows(index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    printed = buffer.getvalue().strip()
    if index + 1 < len(BLOCKS) and BLOCKS[index + 1][0] == "text":
        assert printed == BLOCKS[index + 1][1].strip()
    else:  # a block without an output block must print nothing, so no printed claim goes unchecked
        assert not printed, f"README block {index} prints but no ```text block follows it:\n{printed}"


def test_every_python_block_shows_its_output():
    """Each Python block in the README prints, and a text block with the output follows it."""
    for index, _ in PYTHON:
        assert index + 1 < len(BLOCKS) and BLOCKS[index + 1][0] == "text", f"README block {index} has no output block"


def test_ci_runs_the_readme_test_command():
    lines = BLOCKS[0][1].splitlines()
    marker = lines.index("# Install and run the tests")
    readme_command = lines[marker + 1]
    extracted = subprocess.run(
        ["awk", "/^# Install and run the tests/ { getline; print; exit }", "README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert extracted == readme_command
    assert "pytest" in readme_command and "pip install" in readme_command
    assert 'bash -euo pipefail -c "$command"' in (ROOT / ".ci" / "run").read_text()
