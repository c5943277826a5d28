"""The on-disk cache is keyed on every fastgd source file (fastgd._cache)."""

from __future__ import annotations

import os

from numba.core import caching

import fastgd
from fastgd import _cache
from fastgd.kernels import training


def test_locator_is_installed_first():
    assert caching.CacheImpl._locator_classes[0] is _cache.PackageCacheLocator


def test_fastgd_kernels_use_the_package_stamp():
    locator = _cache.PackageCacheLocator.from_function(training.run_steps.py_func, training.__file__)
    assert locator is not None
    stamp = locator.get_source_stamp()
    assert stamp[0] == _cache.package_stamp()
    assert os.path.isdir(locator.get_cache_path())


def test_functions_outside_fastgd_are_left_to_numba():
    def user_function():  # defined in tests/, not in the package
        return 1

    assert _cache.PackageCacheLocator.from_function(user_function, __file__) is None


def test_stamp_changes_when_any_package_file_changes(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(_cache, "PACKAGE_DIR", tmp_path)
    _cache.package_stamp.cache_clear()
    try:
        before = _cache.package_stamp()
        (tmp_path / "sub" / "b.py").write_text("y = 3\n")
        _cache.package_stamp.cache_clear()
        assert _cache.package_stamp() != before
    finally:
        _cache.package_stamp.cache_clear()


def test_fastgd_still_imports_and_runs():
    assert fastgd.loss_value([[1.0]], [1.0], [1.0]) == 0.0


FIT_SCRIPT = """
import sys
import numpy as np
import fastgd
rng = np.random.default_rng(0)
X = rng.standard_normal((500, 4))
y = X.sum(axis=1)
optimizer = {"sgd": fastgd.SGD(lr=0.05), "adam": fastgd.Adam(lr=0.05)}[sys.argv[1]]
print(fastgd.fit(X, y, optimizer=optimizer, epochs=3).history["loss"].iloc[-1])
"""


def test_cached_training_loop_with_parallel_gradient_loads_safely(tmp_path):
    """numba/numba#8578: loading the cached serial loop that calls the parallel kernel used to segfault.

    A fresh cache directory; the third process loads the Adam loop from the cache
    before any parallel kernel has run in it (the data comes from NumPy).
    """
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    outputs = []
    for optimizer in ("sgd", "adam", "adam"):
        result = subprocess.run([sys.executable, "-c", FIT_SCRIPT, optimizer], env=env, capture_output=True, text=True)
        assert result.returncode == 0, (optimizer, result.returncode, result.stderr[-2000:])
        outputs.append(float(result.stdout.strip()))
    assert outputs[1] == outputs[2]
