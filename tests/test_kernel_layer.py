"""The kernel layer's shape: what it may import, and how many arguments its kernels take.

``fastgd/kernels`` sits on the base layer only (``fastgd._jit``, ``fastgd._rng``
and its own modules: see the architecture notes), and no compiled function in
it takes more than :data:`MAX_PARAMETERS` arguments -- longer argument lists
travel as NamedTuples (Numba types those by class, so the cache still hits).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

import fastgd.kernels

KERNELS_DIR = Path(fastgd.kernels.__file__).parent
PACKAGE_DIR = KERNELS_DIR.parent
#: fastgd modules (besides fastgd.kernels.*) a kernel module may import.
ALLOWED_BASE = {"fastgd._jit", "fastgd._rng"}
MAX_PARAMETERS = 10

KERNEL_MODULES = sorted(f"fastgd.kernels.{info.name}" for info in pkgutil.iter_modules([str(KERNELS_DIR)])) + [
    "fastgd.kernels"
]


def imported_fastgd_modules(path: Path) -> set[str]:
    """Absolute names of the fastgd modules ``path`` (a module of fastgd.kernels) imports."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:  # relative to fastgd.kernels
                parts = ["fastgd", "kernels"][: 2 - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base.startswith("fastgd"):
                names.add(base)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("fastgd"))
    return names


@pytest.mark.parametrize("path", sorted(KERNELS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_kernels_import_only_the_base_layer(path):
    upward = {
        name
        for name in imported_fastgd_modules(path)
        if name not in ALLOWED_BASE and not name.startswith("fastgd.kernels")
    }
    assert not upward, f"{path.name} imports {sorted(upward)} (kernels may import only {sorted(ALLOWED_BASE)})"


@pytest.mark.parametrize("module_name", KERNEL_MODULES)
def test_no_kernel_takes_more_than_ten_arguments(module_name):
    module = importlib.import_module(module_name)
    too_long = {}
    for name, obj in vars(module).items():
        if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module_name:
            count = len(inspect.signature(obj.py_func).parameters)
            if count > MAX_PARAMETERS:
                too_long[name] = count
    assert not too_long, f"kernels with more than {MAX_PARAMETERS} parameters: {too_long}"


def test_no_hard_coded_fastmath_true():
    """Every kernel takes its fast-math flags from the one policy in fastgd._jit (no nnan/ninf)."""
    offenders = [
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*.py")
        if "fastmath=True" in path.read_text().replace(" ", "")
    ]
    assert not offenders
