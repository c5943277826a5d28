"""The harness (``fastgd/study``, ``fastgd/report``) uses the engine through its public API only.

The architecture notes put the study and the report on top of the engine,
importing its public names only: what a user of ``import fastgd`` could write.
A name imported from any fastgd module outside the harness must therefore be
in that module's ``__all__`` (base-layer helpers such as ``fastgd._atomic``
included: they too export what they share).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import fastgd

PACKAGE_DIR = Path(fastgd.__file__).parent
HARNESS = ("study", "report")
HARNESS_FILES = sorted(path for room in HARNESS for path in (PACKAGE_DIR / room).glob("*.py"))


def imported_names(path: Path) -> list[tuple[str, str]]:
    """``(absolute module, name)`` for every ``from <fastgd module> import name`` in ``path`` (a harness module)."""
    package = ["fastgd", path.parent.name]
    pairs = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package[: len(package) - (node.level - 1)]
            module = ".".join(parts + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if module.split(".")[0] == "fastgd":
            pairs.extend((module, alias.name) for alias in node.names)
    return pairs


def test_the_harness_imports_engine_names():
    # The parser must see the harness's imports, or the test below checks nothing.
    modules = {module for path in HARNESS_FILES for module, _ in imported_names(path)}
    assert {"fastgd", "fastgd.kernels", "fastgd.optim"} <= modules


@pytest.mark.parametrize("path", HARNESS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_harness_imports_only_public_names(path):
    private = []
    for module_name, name in imported_names(path):
        if module_name.split(".")[1:2] in ([room] for room in HARNESS):
            continue  # within the harness
        module = importlib.import_module(module_name)
        if isinstance(getattr(module, name, None), type(fastgd)):
            continue  # a subpackage or submodule, e.g. ``from fastgd import kernels``
        if name not in getattr(module, "__all__", ()):
            private.append(f"{module_name}.{name}")
    assert not private, f"{path.name} imports names that are not in their module's __all__: {private}"
