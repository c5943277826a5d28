"""Static checks run with the tests, so CI (which runs the README's test command) enforces them.

ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, NumPy and numpydoc
docstring rules) over the package, tests, benchmarks and examples; mypy over
the package.  Configuration: ``[tool.ruff]`` and ``[tool.mypy]`` in
pyproject.toml.  Both come with the ``lint`` extra (part of ``dev``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff():
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[lint]')")
    result = run(["ruff", "check", "fastgd", "tests", "bench", "examples"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy():
    pytest.importorskip("mypy")
    result = run([sys.executable, "-m", "mypy", "fastgd"])
    assert result.returncode == 0, result.stdout + result.stderr
