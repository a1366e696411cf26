"""The experiments of the transformers chapter, and its lab driven directly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import helpers as H
from helpers import transformers as trf

R = np.random.default_rng


def test_attention_saturation_follows_the_score_variance():
    sat = trf.attention_saturation([4, 64], R(0), rows=500)
    np.testing.assert_allclose(sat["score_var"], [4, 64], rtol=0.1)
    assert sat["entropy_unscaled"][1] < 0.5 * sat["entropy_scaled"][1]
    assert abs(sat["entropy_scaled"][0] - sat["entropy_scaled"][1]) < 0.05
    assert np.all(sat["jacobian_unscaled"] >= 0) and np.all(np.isfinite(sat["jacobian_unscaled"]))


def test_predicted_stream_variance_matches_a_shallow_stack():
    # One block, independent tokens (large vocabulary): the lower edge of the prediction is the mean.
    runs = []
    for s in range(6):
        rng = R(s)
        net = H.build_transformer(1000, 64, 4, 1, 16, rng)
        runs.append(trf.stream_profile(net, rng.integers(0, 1000, (16, 16))))
    pred = H.predicted_stream_variance(1, 64, 16)
    np.testing.assert_allclose(np.mean(runs, axis=0), pred, rtol=0.06)


def test_prediction_bounds_are_ordered_and_scaling_divides_increments():
    low = H.predicted_stream_variance(8, 32, 8)
    high = H.predicted_stream_variance(8, 32, 8, tokens_alike=True)
    assert np.all(high >= low) and np.all(np.diff(low) > 0)
    scaled = H.predicted_stream_variance(8, 32, 8, out_gain=0.25)
    np.testing.assert_allclose(np.diff(scaled), np.diff(low) / 16, rtol=1e-12)


def test_layer_gradient_norms_pre_ln_shrink_with_depth():
    def last(depth):
        vals = []
        for s in range(3):
            rng = R([s, depth])
            net = H.build_transformer(16, 32, 4, depth, 8, rng, **trf.scheme_kwargs("Pre-LN", depth))
            vals.append(trf.layer_gradient_norms(net, rng, tokens=8)[-1])
        return np.mean(vals)

    assert last(4) / last(16) == pytest.approx(2.0, rel=0.3)


@pytest.mark.parametrize("scheme", trf.SCHEMES)
def test_every_scheme_builds_and_reports_finite_profiles(scheme):
    p = trf.depth_profile(scheme, 3, [0], d_model=16, n_heads=2, tokens=8, batch=2)
    assert p["stream"].shape == (7,) and p["grad"].shape == (3,)
    assert np.all(np.isfinite(p["stream"])) and p["stream"][0] == 1.0


def test_scheme_arguments():
    kw = trf.scheme_kwargs("DeepNorm", 10)
    a, b = H.deepnorm_coefficients(10)
    assert kw["placement"] == "post" and kw["skip"] == a and kw["value_gain"] == b == kw["out_gain"]
    assert trf.scheme_kwargs("ReZero", 3)["alpha"] == 0.0
    assert trf.scheme_kwargs("SkipInit", 8)["alpha"] == pytest.approx(0.25)
    assert trf.scheme_kwargs("Pre-LN, GPT-2 scaled", 8)["out_gain"] == pytest.approx(0.25)
    net = trf.build_scheme("T-Fixup", 4, R(1), d_model=16, n_heads=2)
    assert np.std(net.embedding.params["token"]) * math.sqrt(2) == pytest.approx(
        16 ** -0.25 * H.tfixup_scale(4), rel=0.15)


def test_rank_collapse_without_and_with_residuals():
    no_skip = trf.rank_collapse(4, R(2), residual=False, d_model=16, n_heads=2, tokens=8)
    small = trf.rank_collapse(4, R(2), residual=True, branch_scale=0.2, d_model=16, n_heads=2, tokens=8)
    assert no_skip[-1] < 1e-6 < 0.5 < small[-1]
    assert no_skip.shape == (5,)


def test_copy_batch_structure():
    ids, targets, mask = trf.copy_batch(R(3), 4, 3, 6)
    assert ids.shape == targets.shape == mask.shape == (4, 6)
    np.testing.assert_array_equal(ids[:, 3], 0)
    np.testing.assert_array_equal(targets[:, 3:], ids[:, :3])
    assert mask[:, 3:].all() and not mask[:, :3].any()


def test_train_copy_learns_with_pre_ln():
    out = trf.train_copy("pre", 0, steps=40, n_layers=2, d_model=16, length=2, batch=16, lr=1e-2)
    assert out["loss"].shape == (40,)
    assert out["loss"][-5:].mean() < 0.5 * out["loss"][:5].mean()
    assert out["accuracy"] > 0.8


def test_lab_settings_and_live_controls():
    lab = trf.make_lab()
    assert lab.n_settings == 16
    data = lab.data(depth=6, placement="Post-LN", init="GPT-2 scaled", d_k=32)
    assert data["stream"].shape == (13,) and data["grad"].shape == (6,)
    np.testing.assert_allclose(data["stream"][1:], 1.0, atol=0.02)
    assert lab.alt(lab.params()).startswith("Pre-LN stack of depth 24")
    live = lab.widget()
    live.controls["placement"].value = "Post-LN"
    live.controls["depth"].value = 6
    assert live.params["placement"] == "Post-LN"
    assert live.data["grad"].shape == (6,)
    assert live.image.value[:4] == b"\x89PNG"
