"""The scripts in ``examples/`` run, at small sizes, and show what they claim."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"fastgd_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_figure(path):
    figure = Path(path)
    assert figure.suffix == ".png"
    assert figure.stat().st_size > 10_000  # a real plot, not an empty canvas


def test_toy_problems_reach_the_known_minima(tmp_path):
    results = load_example("toy_problems").main(tmp_path, n_steps=300)
    assert results["cubic_sgd"] == pytest.approx(4 / 3, abs=1e-9)
    assert results["cubic_adam"] == pytest.approx(4 / 3, abs=1e-4)
    assert results["weighted_mean"] == pytest.approx(1.8)
    assert results["weighted_sgd"] == pytest.approx(1.8, abs=1e-9)
    assert results["weighted_adam"] == pytest.approx(1.8, abs=1e-4)
    assert_figure(results["figure"])


def test_custom_logcosh_loss_beats_l2_on_outliers(tmp_path):
    results = load_example("custom_loss").main(tmp_path, n_samples=3000, epochs=10)
    assert results["logcosh_error"] < 0.15
    assert results["logcosh_error"] < 0.3 * results["l2_error"]
    assert math.isfinite(results["logcosh_final_loss"])
    assert_figure(results["figure"])


def test_l1_is_closer_to_the_truth_than_l2_with_outliers(tmp_path):
    results = load_example("l1_vs_l2").main(tmp_path, n_samples=5000, epochs=8)
    assert results["l1_max_error"] < 0.1
    assert results["l1_rms_error"] < 0.3 * results["l2_rms_error"]
    assert_figure(results["figure"])


def test_memmap_training_trains_from_disk(tmp_path):
    results = load_example("memmap_training").main(tmp_path, n_samples=20_000, n_features=20, batch_size=64)
    assert results["file_mb"] == pytest.approx(20_000 * 21 * 4 / 2**20, rel=0.01)
    assert results["max_coef_error"] < 0.05
    assert results["anon_growth_mb"] < 64  # nothing the size of the data is allocated
    assert not list(tmp_path.glob("*.npy"))  # the files are removed unless keep=True


def test_memmap_training_command_line(tmp_path):
    command = [sys.executable, str(EXAMPLES / "memmap_training.py"), "--out-dir", str(tmp_path),
               "--n-samples", "5000", "--n-features", "3", "--batch-size", "32", "--keep"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "5,000 x 3 float32 on disk" in completed.stdout
    assert sorted(path.name for path in tmp_path.glob("*.npy")) == ["memmap_X.npy", "memmap_X_y.npy"]
