"""helpers.realdata: training comparisons on the UCI digits, measured on held-out images."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import helpers as H
from helpers import data, frameworks
from helpers import realdata as RD

SMALL = {"hidden": [16, 16], "seeds": [0, 1], "steps": 40, "lr": 0.05, "batch_size": 32}


def test_shapes_sizes_and_what_is_measured():
    c = RD.compare_on_digits({"He": "kaiming_normal", "LeCun": "lecun_normal"}, **SMALL)
    d = data.digits(0)
    assert c.names == ("He", "LeCun") and c.seeds == (0, 1)
    assert (c.n_train, c.n_test) == (len(d.y_train), len(d.y_test)) == (1347, 450)
    for name in c.names:
        assert c.loss[name].shape == (2, 40) and np.all(np.isfinite(c.loss[name]))
        for field in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "diverged_at"):
            assert getattr(c, field)[name].shape == (2,)
        assert np.all(c.diverged_at[name] == -1)
        # accuracies are fractions of 1347 and 450 images
        assert np.allclose(c.train_accuracy[name] * 1347, np.round(c.train_accuracy[name] * 1347))
        assert np.allclose(c.test_accuracy[name] * 450, np.round(c.test_accuracy[name] * 450))
        # 40 steps of SGD move a 10-class network well away from chance on the digits
        assert np.all(c.train_loss[name] < 0.8 * np.log(10)) and np.all(c.test_accuracy[name] > 0.5)


def test_matches_a_hand_made_ensemble_and_single_network_evaluation():
    """The same networks and minibatches, trained with train_ensemble directly, then measured one by one."""
    c = RD.compare_on_digits({"a": "xavier_normal", "b": "kaiming_uniform"}, activation="tanh", **SMALL)
    d = data.digits(0)
    nets = [H.build_mlp([64, 16, 16, 10], np.random.default_rng(s), activation="tanh", init=init)
            for init in ("xavier_normal", "kaiming_uniform") for s in (0, 1)]
    rngs = [np.random.default_rng([s, 1]) for s in (0, 1)] * 2
    run = H.train_ensemble(nets, d.x_train, d.y_train, rngs, steps=40, lr=0.05, momentum=0.9, batch_size=32)
    np.testing.assert_allclose(np.vstack([c.loss["a"], c.loss["b"]]), run.loss, rtol=1e-12)
    for k, net in enumerate(nets):
        name, s = "ab"[k // 2], k % 2
        assert c.test_accuracy[name][s] == H.accuracy(net, d.x_test, d.y_test)
        assert c.train_accuracy[name][s] == H.accuracy(net, d.x_train, d.y_train)
        loss, _ = H.softmax_cross_entropy(H.predict(net, d.x_test), d.y_test)
        np.testing.assert_allclose(c.test_loss[name][s], loss, rtol=1e-10)


def test_common_random_numbers_and_determinism():
    """Two names for one rule give identical runs; a rerun is identical; another seed is not."""
    c = RD.compare_on_digits({"x": "kaiming_normal", "y": "kaiming_normal"}, **SMALL)
    np.testing.assert_array_equal(c.loss["x"], c.loss["y"])
    again = RD.compare_on_digits({"x": "kaiming_normal"}, **SMALL)
    np.testing.assert_array_equal(again.loss["x"], c.loss["x"])
    np.testing.assert_array_equal(again.test_accuracy["x"], c.test_accuracy["x"])
    assert not np.array_equal(c.loss["x"][0], c.loss["x"][1])
    other_split = RD.compare_on_digits({"x": "kaiming_normal"}, split_seed=1, **SMALL)
    assert not np.array_equal(other_split.loss["x"], c.loss["x"])


def test_layer_draw_with_zero_biases_equals_the_plain_initializer():
    def with_zero_bias(shape, rng):
        return H.kaiming_normal(shape, rng), np.zeros(shape[0])

    a = RD.compare_on_digits({"He": "kaiming_normal"}, **SMALL)
    b = RD.compare_on_digits({"He": RD.LayerDraw(with_zero_bias)}, **SMALL)
    np.testing.assert_array_equal(a.loss["He"], b.loss["He"])


def test_layer_draw_uses_the_drawn_biases():
    """PyTorch's default layer draws random biases; they must reach the network."""
    pytorch = RD.LayerDraw(functools.partial(frameworks.default_init, "pytorch"))

    def weights_only(shape, rng):
        w, _ = frameworks.default_init("pytorch", shape, rng)
        return w

    a = RD.compare_on_digits({"pt": pytorch}, **SMALL)
    b = RD.compare_on_digits({"pt": weights_only}, **SMALL)
    assert not np.allclose(a.loss["pt"][:, 0], b.loss["pt"][:, 0])
    net = RD._build([64, 16, 10], pytorch, np.random.default_rng(0), H.get_activation("relu"))
    w, bias = frameworks.default_init("pytorch", (16, 64), np.random.default_rng(0))
    np.testing.assert_array_equal(net.weights[0], w)
    np.testing.assert_array_equal(net.biases[0], bias)


def test_a_diverging_initialization_is_reported_and_not_measured():
    big = lambda shape, rng: 4.0 * H.kaiming_normal(shape, rng)  # noqa: E731
    c = RD.compare_on_digits({"big": big, "He": "kaiming_normal"}, hidden=[32] * 10, seeds=[0, 1], steps=30,
                             lr=0.02, batch_size=32)
    assert np.all(c.diverged_at["big"] >= 0) and np.all(c.diverged_at["He"] == -1)
    for field in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert np.all(np.isnan(getattr(c, field)["big"]))
        assert np.all(np.isfinite(getattr(c, field)["He"]))
    assert np.isnan(c.tail_loss("big")).all()
    assert np.isnan(c.median("big", "test_accuracy"))


def test_summaries():
    c = RD.compare_on_digits({"He": "kaiming_normal"}, **SMALL)
    np.testing.assert_allclose(c.tail_loss("He", 10), c.loss["He"][:, -10:].mean(axis=1))
    assert c.median("He") == float(np.median(c.test_accuracy["He"]))
    assert c.median("He", "train_loss") == float(np.median(c.train_loss["He"]))
    smooth = c.smoothed("He", 5)
    np.testing.assert_allclose(smooth[:, 10], c.loss["He"][:, 6:11].mean(axis=1))
    np.testing.assert_allclose(smooth[:, 2], c.loss["He"][:, :3].mean(axis=1))
    with pytest.raises(ValueError, match="name must be one of"):
        c.smoothed("Xavier")
    with pytest.raises(ValueError, match="field must be"):
        c.median("He", "loss")


def test_running_mean_against_a_loop():
    x = np.random.default_rng(0).standard_normal((3, 30))
    want = np.array([[x[r, max(0, s - 6):s + 1].mean() for s in range(30)] for r in range(3)])
    np.testing.assert_allclose(H.running_mean(x, 7), want, rtol=1e-12)


def test_plot_comparison_draws_without_warnings_even_with_a_diverged_run():
    big = lambda shape, rng: 4.0 * H.kaiming_normal(shape, rng)  # noqa: E731
    c = RD.compare_on_digits({"big": big, "He": "kaiming_normal"}, hidden=[32] * 10, seeds=[0, 1], steps=30,
                             lr=0.02, batch_size=32)
    fig = Figure()
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RD.plot_comparison(axes, c, {"big": "red", "He": "green"}, window=5, labels={"He": "He normal"})
        fig.canvas.draw()
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["big", "He normal"]
    assert len(axes[0].get_lines()) == 3  # two medians and the chance level
    with pytest.raises(ValueError, match="colors must map every name"):
        RD.plot_comparison(axes, c, {"He": "green"})
    with pytest.raises(TypeError, match="comparison must be"):
        RD.plot_comparison(axes, {"He": 1}, {"He": "green"})


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"inits": {}}, TypeError, "inits must be a non-empty mapping"),
    ({"inits": ["kaiming_normal"]}, TypeError, "inits must be a non-empty mapping"),
    ({"hidden": 16}, TypeError, "hidden must be a non-empty sequence"),
    ({"hidden": []}, TypeError, "hidden must be a non-empty sequence"),
    ({"hidden": [16, 0]}, ValueError, r"hidden\[1\] must be a positive integer"),
    ({"seeds": []}, TypeError, "seeds must be a non-empty sequence"),
    ({"seeds": [0, -1]}, ValueError, r"seeds\[1\] must be"),
    ({"seeds": [1, 1]}, ValueError, "seeds must be distinct"),
    ({"activation": "swish2"}, ValueError, "activation"),
    ({"steps": 0}, ValueError, "steps must be a positive integer"),
    ({"lr": -0.1}, ValueError, "lr must be > 0"),
    ({"momentum": 1.0}, ValueError, "momentum must be in"),
    ({"split_seed": -2}, ValueError, "split_seed must be"),
    ({"inits": {"x": "no_such_rule"}}, ValueError, "init"),
])
def test_bad_inputs(kwargs, exc, match):
    args = {"inits": {"He": "kaiming_normal"}, "hidden": [8], "seeds": [0], "steps": 2}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        RD.compare_on_digits(args.pop("inits"), args.pop("hidden"), **args)


def test_layer_draw_bad_draws():
    with pytest.raises(TypeError, match="draw must be a callable"):
        RD.LayerDraw(3)
    one = RD.LayerDraw(lambda shape, rng: H.kaiming_normal(shape, rng))
    with pytest.raises(TypeError, match="must return a pair"):
        RD.compare_on_digits({"x": one}, [8], seeds=[0], steps=2)
    wrong = RD.LayerDraw(lambda shape, rng: (np.zeros(shape[::-1]), np.zeros(shape[0])))
    with pytest.raises(ValueError, match="returned shapes"):
        RD.compare_on_digits({"x": wrong}, [8], seeds=[0], steps=2)
