"""Fixtures shared by the test modules (instead of test modules importing each other)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastgd


@pytest.fixture(scope="session")
def ci() -> bool:
    """Whether the tests run in CI: ``CI`` set to a true value, as GitHub Actions, GitLab and ``.ci/run`` do."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def small_data() -> fastgd.Dataset:
    """A small, well-conditioned float64 problem: 60 rows, 3 features."""
    return fastgd.make_regression(60, 3, noise=0.1, bias=0.5, seed=0)


@pytest.fixture(scope="session")
def small_data32(small_data: fastgd.Dataset) -> fastgd.Dataset:
    """``small_data`` in float32."""
    return fastgd.Dataset(
        small_data.X.astype(np.float32), small_data.y.astype(np.float32), small_data.coef.astype(np.float32), 0.5
    )
