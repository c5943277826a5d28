"""Figure data and drawing of :mod:`fastgd.report`: every figure is a valid, non-empty PNG."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

import fastgd
from fastgd.report import SeedPictureUnavailable
from fastgd.report.plotdata import (
    SUBOPTIMALITY_FLOOR,
    convergence_figures,
    scaling_panels,
    speedup_panels,
    timing_panels,
)
from fastgd.report.plots import (
    draw_bar_panels,
    draw_convergence,
    draw_scaling,
    figure_png_bytes,
)
from fastgd.report.seeddata import (
    LOCAL_MINIMUM,
    OutlierFits,
    gradient_walks,
    outlier_fits,
    seed_slope,
)
from fastgd.report.seedplots import draw_gradient_walks, draw_outlier_fits
from fastgd.report.style import backend_style, method_style
from fastgd.report.summaries import epoch_time_summary, speedup_table
from fastgd.report.tables import convergence_table, timing_table

from .test_report_tables import METHODS, make_record, make_records

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZES = [(40, 3), (80, 3), (160, 6), (320, 12)]


def assert_valid_png(source: bytes | Path, min_bytes: int = 5_000) -> None:
    """A PNG signature, a plausible size, and an image matplotlib can read that is not blank."""
    data = source.read_bytes() if isinstance(source, Path) else source
    assert data[:8] == PNG_SIGNATURE
    assert len(data) >= min_bytes
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.ndim == 3 and image.shape[0] >= 200 and image.shape[1] >= 300
    assert float(image[..., :3].std()) > 0.01  # something was drawn


def test_convergence_figure_data_and_drawing() -> None:
    convergence = convergence_table(make_records())
    figures = convergence_figures(convergence)
    assert len(figures) == 1
    figure = figures[0]
    assert [panel.loss_name for panel in figure.panels] == ["l2", "l1"]
    n_runs = sum(1 for method in METHODS for _ in ("fastgd",) + (("numpy",) if method == "batch" else ()))
    assert all(len(panel.curves) >= n_runs for panel in figure.panels)
    for panel in figure.panels:
        for curve in panel.curves:
            assert curve.time_s.shape == curve.epochs.shape == curve.suboptimality.shape
            assert (curve.suboptimality >= SUBOPTIMALITY_FLOOR).all()  # drawable on a log axis
            np.testing.assert_allclose(curve.epochs, np.arange(len(curve.epochs)))
    assert figure.panels[0].relative and "normal equations" in figure.panels[0].optimum_label
    assert "best loss seen" in figure.panels[1].optimum_label
    assert_valid_png(figure_png_bytes(draw_convergence(figure)))


def test_timing_and_speedup_bars() -> None:
    summary = epoch_time_summary(timing_table(make_records(losses=("l2",))))
    timing = timing_panels(summary)
    assert len(timing) == 1
    panel = timing[0]
    assert panel.categories == ["batch", "sgd", "minibatch", "adam"]
    assert panel.series == ["fastgd", "numpy", "sklearn", "torch"]
    assert np.isnan(panel.values[0, 3])  # torch did not run full-batch GD
    assert (panel.lower[np.isfinite(panel.values)] <= panel.values[np.isfinite(panel.values)]).all()
    assert_valid_png(figure_png_bytes(draw_bar_panels(timing, title="Epoch time", ylabel="epoch time (s)")))
    speedups = speedup_panels(speedup_table(summary))
    assert len(speedups) == 1 and speedups[0].series == ["numpy", "sklearn", "torch"]
    np.testing.assert_allclose(speedups[0].values[1, :2], [3.0, 5.0])
    figure = draw_bar_panels(
        speedups,
        title="Speed-up",
        ylabel="speed-up",
        reference_line=1.0,
        annotate=True,
        tick_format=lambda value, _: f"{value:g}×",
    )
    reference = [line for line in figure.axes[0].get_lines() if list(line.get_ydata()) == [1.0, 1.0]]
    assert reference, "the 1x reference line is drawn"
    assert_valid_png(figure_png_bytes(figure))


def test_no_peer_means_no_speedup_panel() -> None:
    records = [make_record(method, "fastgd", "l2") for method in METHODS]
    assert speedup_panels(speedup_table(epoch_time_summary(timing_table(records)))) == []


def test_scaling_needs_a_sweep_and_fits_the_slope() -> None:
    one_size = epoch_time_summary(timing_table(make_records(losses=("l2",))))
    assert scaling_panels(one_size) == []
    records = [
        make_record(method, "fastgd", "l2", n_samples=n, n_features=d, epochs=2) for method in METHODS for n, d in SIZES
    ]
    panels = scaling_panels(epoch_time_summary(timing_table(records)))
    assert len(panels) == 1 and len(panels[0].series) == len(METHODS)
    for series in panels[0].series:
        # the hand-made epoch time is proportional to n_samples * n_features
        assert series.slope == pytest.approx(1.0)
        np.testing.assert_array_equal(series.sizes, [n * d for n, d in SIZES])
    assert_valid_png(figure_png_bytes(draw_scaling(panels)))


def test_gradient_walks_follow_the_sign_of_the_slope() -> None:
    walks = gradient_walks()
    right, left, still = walks
    assert seed_slope(right.start) < 0 and (np.diff(right.iterates) > 0).all()
    assert seed_slope(left.start) > 0 and (np.diff(left.iterates) < 0).all()
    np.testing.assert_allclose(still.iterates, LOCAL_MINIMUM)
    for walk in (right, left):  # walking downhill towards the minimum, never past it
        assert abs(walk.iterates[-1] - LOCAL_MINIMUM) < abs(walk.start - LOCAL_MINIMUM)
        np.testing.assert_allclose(walk.iterates[1:], walk.iterates[:-1] - walk.lr * seed_slope(walk.iterates[:-1]))
    assert_valid_png(figure_png_bytes(draw_gradient_walks(walks)))


def test_gradient_walks_with_fastgd_sgd_match_the_plain_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    optim = pytest.importorskip("fastgd.optim")
    monkeypatch.setattr(fastgd, "SGD", optim.SGD, raising=False)
    walks = gradient_walks()
    assert {walk.computed_with for walk in walks} == {"fastgd.SGD update kernel"}
    for walk in walks:
        np.testing.assert_allclose(
            walk.iterates[1:],
            walk.iterates[:-1] - walk.lr * seed_slope(walk.iterates[:-1]),
            rtol=1e-12,
            atol=1e-12,
        )


def test_outlier_fits_without_fastgd_fit_is_an_explicit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(fastgd, "fit", raising=False)
    with pytest.raises(SeedPictureUnavailable, match="fastgd.fit"):
        outlier_fits()


def test_outlier_fits_with_fastgd_fit() -> None:
    if not hasattr(fastgd, "fit"):
        pytest.skip("fastgd.fit is not available yet")
    fits = outlier_fits()
    true_slope = fits.true_line[0]
    # L1 ignores the outliers; L2 is pulled by them
    assert abs(fits.l1_line[0] - true_slope) < 0.2
    assert abs(fits.l2_line[0] - true_slope) > 3 * abs(fits.l1_line[0] - true_slope)
    assert_valid_png(figure_png_bytes(draw_outlier_fits(fits)))


def test_outlier_picture_draws_given_lines() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, 30)
    is_outlier = x > 2
    y = 1.5 * x + 0.5 - 6.0 * is_outlier
    figure = draw_outlier_fits(OutlierFits(x, y, is_outlier, (1.5, 0.5), (1.45, 0.52), (0.6, -0.6)))
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert any(label.startswith("L1 fit") for label in labels) and any(label.startswith("L2 fit") for label in labels)
    assert_valid_png(figure_png_bytes(figure))


def test_styles_are_stable_and_distinct() -> None:
    methods = [method_style(name) for name in METHODS]
    backends = [backend_style(name) for name in ("fastgd", "numpy", "sklearn", "torch")]
    for styles in (methods, backends):
        assert len({style.color for style in styles}) == len(styles)
        assert len({style.marker for style in styles}) == len(styles)
    assert method_style("my_optimizer") == method_style("my_optimizer")
    assert method_style("my_optimizer").label == "my_optimizer"
