"""Static checks run with the tests, so CI (which runs the README's test command) enforces them.

ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, NumPy and numpydoc
docstring rules) over the package, tests, benchmarks and examples; mypy over
the package.  Configuration: ``[tool.ruff]`` and ``[tool.mypy]`` in
pyproject.toml.  Both come with the ``lint`` extra (part of ``dev``).  A
missing tool skips the test on a developer's machine but fails it in CI
(environment variable ``CI`` set to a true value, as CI services do), where
the dev extra installs both.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _require(tool: str, available: bool, ci: bool) -> None:
    """Skip when ``tool`` is missing outside CI; in CI (``CI`` set) a missing tool fails the test."""
    if available:
        return
    message = f"{tool} is not installed (pip install -e '.[lint]'; the dev extra includes it)"
    if ci:
        pytest.fail(f"{message}: CI installs the dev extra, so a missing linter is an error there")
    pytest.skip(message)


def test_ruff(ci):
    _require("ruff", shutil.which("ruff") is not None, ci)
    result = run(["ruff", "check", "fastgd", "tests", "bench", "examples"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format(ci):
    _require("ruff", shutil.which("ruff") is not None, ci)
    result = run(["ruff", "format", "--check", "fastgd", "tests", "bench", "examples"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy(ci):
    _require("mypy", importlib.util.find_spec("mypy") is not None, ci)
    result = run([sys.executable, "-m", "mypy", "fastgd"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_linter_fails_in_ci_and_skips_elsewhere():
    with pytest.raises(pytest.fail.Exception, match="CI installs the dev extra"):
        _require("ruff", False, ci=True)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _require("ruff", False, ci=False)
    _require("ruff", True, ci=True)
