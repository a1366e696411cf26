"""Plotting: the house style, deterministic PNG bytes, and shared plots that survive blown-up values."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np

import helpers as H
from helpers.plotting import figure_png


def _fig():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [1, 3, 2])
    return fig, ax


def test_figure_png_is_deterministic():
    a, _ = _fig()
    b, _ = _fig()
    assert figure_png(a) == figure_png(b)
    assert b"Software" not in figure_png(a)  # no version stamp in the bytes
    plt.close("all")


def test_show_emits_only_a_png_and_closes_the_figure():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    fig, _ = _fig()
    with capture_output() as captured:
        H.show(fig)
    assert list(captured.outputs[0].data) == ["image/png"]
    assert captured.stdout == "" and captured.stderr == ""
    assert not plt.fignum_exists(fig.number)


def test_shared_plots_draw_non_finite_values_without_warnings():
    fig, axes = plt.subplots(1, 4, figsize=(10, 3))
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal(500) * s for s in (1.0, 10.0, 1e3)] + [np.array([np.inf, np.nan, 1.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H.ridge(axes[0], samples, labels=["1", "2", "3", "4"])
        H.per_layer(axes[1], [1.0, 10.0, np.inf, np.nan], log=True)
        H.healthy_band(axes[1])
        H.loss_curves(axes[2], {"ok": np.linspace(2, 0.1, 50), "diverged": np.r_[np.ones(10), np.full(40, np.nan)]})
        net = H.build_mlp([2, 8, 3], rng)
        x, y = H.spirals(20, rng)
        H.decision_regions(axes[3], lambda g: H.predict(net, g), x, y, resolution=40)
        figure_png(fig)
    assert axes[0].get_yticklabels()[0].get_text() == "4"  # first layer at the top
    assert len(axes[2].get_lines()) == 2 and axes[2].get_yscale() == "log"
    plt.close(fig)


def test_per_layer_accepts_one_row_per_layer():
    fig, ax = plt.subplots()
    H.per_layer(ax, np.ones((5, 3)))
    assert len(ax.get_lines()) == 3 and list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4, 5]
    plt.close(fig)
