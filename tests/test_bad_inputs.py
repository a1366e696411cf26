"""A table of bad inputs tried against every public function of the helpers core.

Each row is one call that must fail with ``ValueError`` or ``TypeError`` whose message names the
offending parameter (and, through ``match``, what is allowed). One parametrized test per row, so the
test report counts them: ``pytest tests/test_bad_inputs.py -q`` prints one pass per bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import helpers as H
from helpers.labs import Lab
from helpers import data as _data
from helpers import optimizers as _opt
from helpers import realdata as _realdata

NAN, INF = float("nan"), float("inf")
R = np.random.default_rng


def _net(sizes=(3, 4, 2), **kw):
    return H.build_mlp(list(sizes), R(0), **kw)


def _pass(net=None):
    net = net or _net()
    x = R(1).standard_normal((5, net.sizes[0]))
    return net, *H.forward(net, x)


def _grads():
    net = _net()
    _, grads, cache = H.loss_and_grads(net, R(1).standard_normal((5, 3)), np.array([0, 1, 0, 1, 1]))
    return net, grads, cache


def _ax():
    fig = Figure()
    FigureCanvasAgg(fig)
    return fig.subplots()


def _lab():
    return Lab("bad-input-lab", [H.Control("x", (1, 2), 1)], lambda x: x, lambda fig, d, p: None, lambda p: "alt")


SHAPE_FNS = {
    "uniform": H.uniform, "normal": H.normal, "truncated_normal": H.truncated_normal,
    "lecun_normal": H.lecun_normal, "lecun_uniform": H.lecun_uniform, "glorot_standard": H.glorot_standard,
    "xavier_uniform": H.xavier_uniform, "xavier_normal": H.xavier_normal, "kaiming_normal": H.kaiming_normal,
    "kaiming_uniform": H.kaiming_uniform, "orthogonal": H.orthogonal,
}
FAN_FNS = {k: v for k, v in SHAPE_FNS.items() if k not in ("uniform", "normal", "truncated_normal")}
GAIN_FNS = {k: SHAPE_FNS[k] for k in ("lecun_normal", "lecun_uniform", "xavier_uniform", "xavier_normal", "orthogonal")}

ROWS: list = []


def row(id_, call, exc, match):
    ROWS.append(pytest.param(call, exc, match, id=id_))


# -- initializers: every function that takes a shape and a generator ---------------------------
for name, fn in SHAPE_FNS.items():
    row(f"{name}-zero-size", lambda fn=fn: fn((0, 5), R(0)), ValueError, r"shape\[0\] must be a positive integer")
    row(f"{name}-negative-size", lambda fn=fn: fn((4, -3), R(0)), ValueError, r"shape\[1\] must be a positive integer")
    row(f"{name}-float-size", lambda fn=fn: fn((4, 2.5), R(0)), TypeError, r"shape\[1\] must be an integer")
    row(f"{name}-string-shape", lambda fn=fn: fn("4x4", R(0)), TypeError, r"shape must be a tuple of positive integers")
    row(f"{name}-no-generator", lambda fn=fn: fn((4, 4), None), TypeError, r"rng must be a numpy.random.Generator")
    row(f"{name}-legacy-randomstate", lambda fn=fn: fn((4, 4), np.random.RandomState(0)), TypeError,
        r"rng must be a numpy.random.Generator")
    row(f"{name}-int-dtype", lambda fn=fn: fn((4, 4), R(0), dtype=np.int32), ValueError,
        r"dtype must be float32 or float64")
for name, fn in FAN_FNS.items():
    row(f"{name}-one-dimensional", lambda fn=fn: fn((5,), R(0)), ValueError, r"shape must have at least 2 dimensions")
for name, fn in GAIN_FNS.items():
    for bad in (NAN, INF, -1.0, 0.0):
        exc = ValueError
        row(f"{name}-gain-{bad}", lambda fn=fn, bad=bad: fn((4, 4), R(0), gain=bad), exc, r"gain must be")
    row(f"{name}-gain-string", lambda fn=fn: fn((4, 4), R(0), gain="1"), TypeError, r"gain must be a real number")
for name in ("kaiming_normal", "kaiming_uniform"):
    fn = SHAPE_FNS[name]
    row(f"{name}-mode", lambda fn=fn: fn((4, 4), R(0), mode="fan_avg"), ValueError,
        r"mode must be one of 'fan_in', 'fan_out'; got 'fan_avg'")
    row(f"{name}-nonlinearity", lambda fn=fn: fn((4, 4), R(0), nonlinearity="gelu"), ValueError,
        r"nonlinearity must be one of .*'relu'.*got 'gelu'")
    row(f"{name}-slope-nan", lambda fn=fn: fn((4, 4), R(0), a=NAN), ValueError, r"a must be finite")
row("kaiming_std-mode", lambda: H.kaiming_std((4, 4), mode="avg"), ValueError, r"mode must be one of")
row("kaiming_std-shape", lambda: H.kaiming_std((4, 0)), ValueError, r"shape\[1\] must be a positive integer")
row("calculate_gain-unknown", lambda: H.calculate_gain("gelu"), ValueError, r"nonlinearity must be one of")
row("calculate_gain-not-a-string", lambda: H.calculate_gain(None), ValueError, r"nonlinearity must be one of")
row("calculate_gain-slope-nan", lambda: H.calculate_gain("leaky_relu", NAN), ValueError, r"param must be finite")
row("calculate_gain-slope-string", lambda: H.calculate_gain("leaky_relu", "0.2"), TypeError, r"param must be a real")
row("calculate_gain-slope-bool", lambda: H.calculate_gain("leaky_relu", True), TypeError, r"param must be a real")
row("fan_in_and_fan_out-1d", lambda: H.fan_in_and_fan_out((7,)), ValueError, r"shape must have at least 2")
row("fan_in_and_fan_out-zero", lambda: H.fan_in_and_fan_out((7, 0, 3)), ValueError, r"shape\[1\]")
row("zeros-zero-size", lambda: H.zeros((0, 3)), ValueError, r"shape\[0\]")
row("zeros-dtype", lambda: H.zeros((2, 3), dtype="int64"), ValueError, r"dtype must be float32 or float64")
row("constant-value-nan", lambda: H.constant((2, 3), value=NAN), ValueError, r"value must be finite")
row("constant-negative-size", lambda: H.constant((-2, 3)), ValueError, r"shape\[0\]")
row("uniform-low-not-below-high", lambda: H.uniform((2, 2), R(0), low=1.0, high=1.0), ValueError,
    r"low must be smaller than high")
row("uniform-high-inf", lambda: H.uniform((2, 2), R(0), high=INF), ValueError, r"high must be finite")
row("normal-std-negative", lambda: H.normal((2, 2), R(0), std=-1.0), ValueError, r"std must be >= 0")
row("normal-mean-nan", lambda: H.normal((2, 2), R(0), mean=NAN), ValueError, r"mean must be finite")
row("truncated_normal-bound-zero", lambda: H.truncated_normal((2, 2), R(0), bound=0.0), ValueError, r"bound must be > 0")
row("truncated_normal-std-inf", lambda: H.truncated_normal((2, 2), R(0), std=INF), ValueError, r"std must be finite")
row("truncated_normal-correct-variance-string", lambda: H.truncated_normal((2, 2), R(0), correct_variance="yes"),
    TypeError, r"correct_variance must be True or False")
row("truncated_normal_std_factor-negative", lambda: H.truncated_normal_std_factor(-2.0), ValueError, r"bound must be > 0")
row("get_initializer-unknown", lambda: H.get_initializer("xavier"), ValueError,
    r"init must be one of .*'xavier_uniform'.*got 'xavier'")
row("get_initializer-not-a-name", lambda: H.get_initializer(3), ValueError, r"init must be one of")

# -- activations -------------------------------------------------------------------------------
row("get_activation-unknown", lambda: H.get_activation("gelu"), ValueError, r"activation must be one of .*'tanh'")
row("get_activation-slope-negative", lambda: H.get_activation("leaky_relu", slope=-0.1), ValueError, r"slope must be >= 0")
row("get_activation-slope-nan", lambda: H.get_activation("leaky_relu", slope=NAN), ValueError, r"slope must be finite")

# -- network -----------------------------------------------------------------------------------
row("build_mlp-empty-sizes", lambda: H.build_mlp([], R(0)), ValueError, r"sizes must list at least")
row("build_mlp-one-size", lambda: H.build_mlp([3], R(0)), ValueError, r"sizes must list at least")
row("build_mlp-zero-width", lambda: H.build_mlp([3, 0, 2], R(0)), ValueError, r"sizes\[1\] must be a positive integer")
row("build_mlp-negative-width", lambda: H.build_mlp([3, -4, 2], R(0)), ValueError, r"sizes\[1\] must be a positive")
row("build_mlp-float-width", lambda: H.build_mlp([3, 4.0, 2], R(0)), TypeError, r"sizes\[1\] must be an integer")
row("build_mlp-sizes-string", lambda: H.build_mlp("3,4,2", R(0)), TypeError, r"sizes must be a sequence")
row("build_mlp-no-generator", lambda: H.build_mlp([3, 2], 0), TypeError, r"rng must be a numpy.random.Generator")
row("build_mlp-activation", lambda: H.build_mlp([3, 2], R(0), activation="swish"), ValueError, r"activation must be one of")
row("build_mlp-init", lambda: H.build_mlp([3, 2], R(0), init="he"), ValueError, r"init must be one of")
row("build_mlp-output-init", lambda: H.build_mlp([3, 2], R(0), output_init="one"), ValueError, r"init must be one of")
row("build_mlp-init-kwargs", lambda: H.build_mlp([3, 2], R(0), init="xavier_normal", init_kwargs={"gain": NAN}),
    ValueError, r"gain must be finite")
row("build_mlp-init-kwargs-mode", lambda: H.build_mlp([3, 2], R(0), init_kwargs={"mode": "both"}),
    ValueError, r"mode must be one of")
row("build_mlp-init-kwargs-typo", lambda: H.build_mlp([3, 2], R(0), init="xavier_normal", init_kwargs={"gian": 1.0}),
    TypeError, r"gian")
row("build_mlp-bias-inf", lambda: H.build_mlp([3, 2], R(0), bias=INF), ValueError, r"bias must be finite")
row("build_mlp-dtype", lambda: H.build_mlp([3, 2], R(0), dtype=np.float16), ValueError, r"dtype must be float32 or float64")
row("build_mlp-slope", lambda: H.build_mlp([3, 2], R(0), activation="leaky_relu", slope=NAN), ValueError,
    r"slope must be finite")
row("forward-wrong-width", lambda: H.forward(_net(), np.ones((5, 4))), ValueError, r"x must have 3 columns")
row("forward-1d-input", lambda: H.forward(_net(), np.ones(3)), ValueError, r"x must be 2-dimensional")
row("forward-empty-batch", lambda: H.forward(_net(), np.ones((0, 3))), ValueError, r"x must hold at least one row")
row("forward-strings", lambda: H.forward(_net(), np.array([["a", "b", "c"]])), TypeError, r"x must be a numeric array")
row("forward-not-a-network", lambda: H.forward([np.eye(3)], np.ones((2, 3))), TypeError, r"net must be an MLP")
row("predict-wrong-width", lambda: H.predict(_net(), np.ones((5, 2))), ValueError, r"x must have 3 columns")
row("backward-grad-shape", lambda: H.backward(*_pass()[::2], np.ones((5, 3))), ValueError,
    r"grad_out must have the output's shape \(5, 2\)")
row("backward-grad-1d", lambda: H.backward(*_pass()[::2], np.ones(10)), ValueError, r"grad_out must be 2-dimensional")
row("backward-cache-of-other-net", lambda: H.backward(_net((3, 4, 4, 2)), _pass()[2], np.ones((5, 2))), ValueError,
    r"cache must come from a forward pass of this 3-layer network")
row("backward-not-a-cache", lambda: H.backward(_net(), {"pre": []}, np.ones((5, 2))), TypeError,
    r"cache must be the Cache returned by forward")
row("forward-workspace", lambda: H.forward(_net(), np.ones((2, 3)), workspace={}), TypeError,
    r"workspace must be a Workspace or None")
row("backward-workspace", lambda: H.backward(*_pass()[::2], np.ones((5, 2)), workspace=[]), TypeError,
    r"workspace must be a Workspace or None")
row("softmax-1d", lambda: H.softmax(np.ones(3)), ValueError, r"logits must be 2-dimensional")
row("cross_entropy-label-too-big", lambda: H.softmax_cross_entropy(np.ones((2, 3)), np.array([0, 3])), ValueError,
    r"labels must be integers in \[0, 2\]")
row("cross_entropy-negative-label", lambda: H.softmax_cross_entropy(np.ones((2, 3)), np.array([-1, 0])), ValueError,
    r"labels must be integers in \[0, 2\]")
row("cross_entropy-float-labels", lambda: H.softmax_cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0])), ValueError,
    r"labels must be integers")
row("cross_entropy-length-mismatch", lambda: H.softmax_cross_entropy(np.ones((2, 3)), np.array([0, 1, 2])), ValueError,
    r"labels must have one entry per row of logits \(2\)")
row("cross_entropy-one-hot-labels", lambda: H.softmax_cross_entropy(np.ones((2, 3)), np.eye(3)[:2]), ValueError,
    r"labels must be 1-dimensional")
row("cross_entropy-empty", lambda: H.softmax_cross_entropy(np.ones((0, 3)), np.array([], dtype=int)), ValueError,
    r"logits must hold at least one row")
row("mse-shape-mismatch", lambda: H.mean_squared_error(np.ones((4, 2)), np.ones((4, 3))), ValueError,
    r"target must have the prediction's shape \(4, 2\)")
row("mse-pred-1d", lambda: H.mean_squared_error(np.ones(4), np.ones(4)), ValueError, r"pred must be 2-dimensional")
row("loss_and_grads-unknown-loss", lambda: H.loss_and_grads(_net(), np.ones((2, 3)), np.array([0, 1]), "hinge"),
    ValueError, r"loss must be one of 'cross_entropy', 'mse'; got 'hinge'")
row("loss_and_grads-labels-mismatch", lambda: H.loss_and_grads(_net(), np.ones((2, 3)), np.array([0, 1, 1])),
    ValueError, r"labels must have one entry per row")
row("accuracy-labels-mismatch", lambda: H.accuracy(_net(), np.ones((4, 3)), np.array([0, 1])), ValueError,
    r"labels must have one entry per row of x \(4\)")

# -- training ----------------------------------------------------------------------------------
_x, _y = np.ones((6, 3)), np.array([0, 1, 0, 1, 0, 1])
for bad, exc, msg in [(NAN, ValueError, "lr must be finite"), (INF, ValueError, "lr must be finite"),
                      (0.0, ValueError, "lr must be > 0"), (-0.1, ValueError, "lr must be > 0"),
                      ("0.1", TypeError, "lr must be a real number")]:
    row(f"train-lr-{bad}", lambda bad=bad: H.train(_net(), _x, _y, R(0), lr=bad), exc, msg)
row("train-steps-zero", lambda: H.train(_net(), _x, _y, R(0), steps=0), ValueError, r"steps must be a positive integer")
row("train-steps-float", lambda: H.train(_net(), _x, _y, R(0), steps=10.0), TypeError, r"steps must be an integer")
row("train-batch-size-zero", lambda: H.train(_net(), _x, _y, R(0), batch_size=0), ValueError, r"batch_size must be")
row("train-momentum-one", lambda: H.train(_net(), _x, _y, R(0), momentum=1.0), ValueError, r"momentum must be in \[0, 1\)")
row("train-momentum-negative", lambda: H.train(_net(), _x, _y, R(0), momentum=-0.5), ValueError, r"momentum must be >= 0")
row("train-momentum-nan", lambda: H.train(_net(), _x, _y, R(0), momentum=NAN), ValueError, r"momentum must be finite")
row("train-loss", lambda: H.train(_net(), _x, _y, R(0), loss="l1"), ValueError, r"loss must be one of")
row("train-record-every", lambda: H.train(_net(), _x, _y, R(0), record_every=0), ValueError, r"record_every must be")
row("train-divergence-factor", lambda: H.train(_net(), _x, _y, R(0), divergence_factor=0.5), ValueError,
    r"divergence_factor must be > 1")
row("train-y-length", lambda: H.train(_net(), _x, _y[:4], R(0)), ValueError, r"y must have one entry per row of x \(6\)")
row("train-y-scalar", lambda: H.train(_net(), _x, 1, R(0)), ValueError, r"y must have one entry per row")
row("train-y-out-of-range", lambda: H.train(_net(), _x, _y + 5, R(0)), ValueError, r"y must be integer class labels in \[0, 1\]")
row("train-x-width", lambda: H.train(_net(), np.ones((6, 2)), _y, R(0)), ValueError, r"x must have shape \(n >= 1, 3\)")
row("train-x-1d", lambda: H.train(_net(), np.ones(6), _y, R(0)), ValueError, r"x must be 2-dimensional")
row("train-no-generator", lambda: H.train(_net(), _x, _y, 42), TypeError, r"rng must be a numpy.random.Generator")
row("train-not-a-network", lambda: H.train("net", _x, _y, R(0)), TypeError, r"net must be an MLP")

# -- diagnostics -------------------------------------------------------------------------------
row("saturated_fraction-activation", lambda: H.saturated_fraction(np.ones((2, 2)), "gelu"), ValueError,
    r"activation must be one of")
row("saturated_fraction-threshold-zero", lambda: H.saturated_fraction(np.ones((2, 2)), "tanh", 0.0), ValueError,
    r"threshold must be > 0")
row("saturated_fraction-threshold-nan", lambda: H.saturated_fraction(np.ones((2, 2)), "tanh", NAN), ValueError,
    r"threshold must be finite")
row("saturated_fraction-strings", lambda: H.saturated_fraction(np.array(["a"]), "tanh"), TypeError, r"pre must be a numeric")
row("saturated_fraction-empty", lambda: H.saturated_fraction(np.ones((0, 2)), "tanh"), ValueError, r"pre must hold")
row("dead_fraction-1d", lambda: H.dead_fraction(np.ones(4), "relu"), ValueError, r"pre must be 2-dimensional")
row("dead_fraction-activation", lambda: H.dead_fraction(np.ones((2, 2)), "elu"), ValueError, r"activation must be one of")
row("activation_stats-foreign-cache", lambda: H.activation_stats(_net((3, 4, 4, 2)), _pass()[2]), ValueError,
    r"cache must come from a forward pass of this 3-layer network")
row("activation_stats-not-a-network", lambda: H.activation_stats(None, _pass()[2]), TypeError, r"net must be an MLP")
row("layer_stats-foreign-grads", lambda: H.layer_stats(*_pass()[::2], H.Grads([], [], [], [])), ValueError,
    r"grads must come from a backward pass of this 2-layer network")
row("layer_stats-not-grads", lambda: H.layer_stats(*_pass()[::2], grads={"w": 1}), TypeError, r"grads must be the Grads")
row("update_ratio-lr-nan", lambda: H.update_ratio(*_grads()[:2], NAN), ValueError, r"lr must be finite")
row("update_ratio-lr-negative", lambda: H.update_ratio(*_grads()[:2], -1.0), ValueError, r"lr must be > 0")

# -- theory ------------------------------------------------------------------------------------
row("predicted_variances-negative-depth", lambda: H.predicted_variances(-1, 2.0), ValueError,
    r"depth must be a positive integer, got -1")
row("predicted_variances-zero-depth", lambda: H.predicted_variances(0, 2.0), ValueError, r"depth must be a positive")
row("predicted_variances-float-depth", lambda: H.predicted_variances(3.0, 2.0), TypeError, r"depth must be an integer")
row("predicted_variances-sigma-w2-negative", lambda: H.predicted_variances(3, -2.0), ValueError, r"sigma_w2 must be >= 0")
row("predicted_variances-sigma-w2-inf", lambda: H.predicted_variances(3, INF), ValueError, r"sigma_w2 must be finite")
row("predicted_variances-sigma-b2-nan", lambda: H.predicted_variances(3, 2.0, sigma_b2=NAN), ValueError,
    r"sigma_b2 must be finite")
row("predicted_variances-input-moment", lambda: H.predicted_variances(3, 2.0, input_second_moment=-1.0), ValueError,
    r"input_second_moment must be >= 0")
row("predicted_variances-activation", lambda: H.predicted_variances(3, 2.0, "gelu"), ValueError, r"activation must be one of")
row("length_map-q-negative", lambda: H.length_map(-1.0, 2.0), ValueError, r"variance must be >= 0")
row("length_map-sigma-w2-nan", lambda: H.length_map(1.0, NAN), ValueError, r"sigma_w2 must be finite")
row("length_map-sigma-b2-negative", lambda: H.length_map(1.0, 1.0, "tanh", sigma_b2=-0.1), ValueError, r"sigma_b2 must be >= 0")
row("second_moment-activation", lambda: H.second_moment("swish", 1.0), ValueError, r"activation must be one of")
row("second_moment-variance-inf", lambda: H.second_moment("tanh", INF), ValueError, r"variance must be finite")
row("gaussian_expectation-not-callable", lambda: H.gaussian_expectation(2.0, 1.0), TypeError, r"f must be a function")
row("gaussian_expectation-variance", lambda: H.gaussian_expectation(np.cos, -1.0), ValueError, r"q must be >= 0")
row("gaussian_expectation-mean-nan", lambda: H.gaussian_expectation(np.cos, 1.0, mean=NAN), ValueError, r"mean must be finite")
row("gaussian_expectation-mean-shape", lambda: H.gaussian_expectation(np.cos, np.ones(3), mean=np.ones(2)), ValueError,
    r"mean must broadcast against q")
row("moment_map-activation", lambda: H.moment_map("swish", 0.0, 1.0), ValueError, r"activation must be one of")
row("moment_map-mean-inf", lambda: H.moment_map("selu", INF, 1.0), ValueError, r"mean must be finite")
row("moment_map-variance-negative", lambda: H.moment_map("selu", 0.0, -1.0), ValueError, r"variance must be >= 0")
row("moment_map-mean-string", lambda: H.moment_map("selu", "0", 1.0), TypeError, r"mean must be a real number")
row("predicted_residual_variances-blocks", lambda: H.predicted_residual_variances(0, [2.0, 2.0]), ValueError,
    r"blocks must be a positive integer")
row("predicted_residual_variances-empty", lambda: H.predicted_residual_variances(3, []), ValueError,
    r"branch_sigma_w2 must list at least one layer")
row("predicted_residual_variances-scalar", lambda: H.predicted_residual_variances(3, 2.0), TypeError,
    r"branch_sigma_w2 must be a sequence")
row("predicted_residual_variances-negative", lambda: H.predicted_residual_variances(3, [2.0, -1.0]), ValueError,
    r"branch_sigma_w2\[1\] must be >= 0")
row("predicted_residual_variances-input", lambda: H.predicted_residual_variances(3, [2.0], input_variance=NAN),
    ValueError, r"input_variance must be finite")
row("predicted_residual_variances-activation", lambda: H.predicted_residual_variances(3, [2.0], "gelu"), ValueError,
    r"activation must be one of")

# -- the theory: Gaussian expectations, one input, mean field, finite width; random networks --
row("arccos_kernel-c-above-one", lambda: H.arccos_kernel(1.5), ValueError, r"c must be a correlation in \[-1")
row("relu_covariance-q-negative", lambda: H.relu_covariance(-1.0, 1.0, 0.5), ValueError, r"q_a must be >= 0")
row("bivariate_expectation-not-callable", lambda: H.bivariate_expectation(3.0, 1.0, 1.0, 0.5), TypeError, r"f must be a function of numpy arrays")
row("bivariate_expectation-c-nan", lambda: H.bivariate_expectation(np.multiply, 1.0, 1.0, NAN), ValueError, r"c must be a correlation in \[-1")
row("backward_factor-sigma-w2-negative", lambda: H.backward_factor(1.0, -1.0), ValueError, r"sigma_w2 must be >= 0")
row("backward_factor-activation", lambda: H.backward_factor(1.0, 1.0, "gelu"), ValueError, r"activation must be one of 'identity'")
row("derivative_second_moment-variance-inf", lambda: H.derivative_second_moment("tanh", INF), ValueError, r"variance must be finite")
row("predicted_profile-too-few-sizes", lambda: H.predicted_profile([4], [], "relu"), TypeError, r"sizes must be a sequence of at least two")
row("predicted_profile-variances-length", lambda: H.predicted_profile([4, 4, 4], [0.5], "relu"), ValueError, r"weight_variances must have one entry per")
row("predicted_profile-variance-negative", lambda: H.predicted_profile([4, 4], [-0.5], "relu"), ValueError, r"weight_variances\[0\] must be >= 0")
row("predicted_profile-sigma-b2-nan", lambda: H.predicted_profile([4, 4], [0.5], "relu", sigma_b2=NAN), ValueError, r"sigma_b2 must be finite")
row("predicted_profile-sizes-string", lambda: H.predicted_profile("44", [0.5], "relu"), TypeError, r"sizes must be a sequence")
row("preserving_gain-relu", lambda: H.preserving_gain("relu"), ValueError, r"activation must be one of 'tanh'")
row("preserving_gain-q-zero", lambda: H.preserving_gain("tanh", 0.0), ValueError, r"q must be > 0")
row("q_star-sigma-w2-negative", lambda: H.q_star(-1.0), ValueError, r"sigma_w2 must be >= 0")
row("q_star-max-iter-zero", lambda: H.q_star(1.0, 0.0, "tanh", max_iter=0), ValueError, r"max_iter must be a positive integer")
row("chi1-sigma-b2-nan", lambda: H.chi1(1.0, NAN), ValueError, r"sigma_b2 must be finite")
row("chi1-activation", lambda: H.chi1(1.0, 0.0, "swish"), ValueError, r"activation must be one of 'identity'")
row("chi_c-c-out-of-range", lambda: H.chi_c(-1.5, 1.0), ValueError, r"c must be a correlation in \[-1")
row("correlation_map-relu-no-fixed-point", lambda: H.correlation_map(0.5, 3.0, 0.0, "relu"), ValueError, r"the length map has no finite fixed point")
row("covariance_map-q-negative", lambda: H.covariance_map(-1.0, 1.0, 0.5, 1.0), ValueError, r"q_a must be >= 0")
row("c_star-sigma-w2-inf", lambda: H.c_star(INF), ValueError, r"sigma_w2 must be finite")
row("critical_line-activation", lambda: H.critical_line("gelu"), ValueError, r"activation must be one of 'identity'")
row("critical_sigma_w2-sigma-b2-negative", lambda: H.critical_sigma_w2(-0.1), ValueError, r"sigma_b2 must be >= 0")
row("depth_scales-sigma-w2-nan", lambda: H.depth_scales(NAN), ValueError, r"sigma_w2 must be finite")
row("length_map_slope-q-negative", lambda: H.length_map_slope(-1.0, 1.0), ValueError, r"q must be >= 0")
row("phase-atol-negative", lambda: H.phase(1.0, 0.0, "tanh", atol=-1.0), ValueError, r"atol must be >= 0")
row("phase_diagram-2d-grid", lambda: H.phase_diagram("tanh", np.ones((2, 2))), ValueError, r"sigma_w2 and sigma_b2 must be 1-D grids")
row("predicted_pair-depth-zero", lambda: H.predicted_pair(0, 1.0), ValueError, r"depth must be a positive integer")
row("norm_factor_variance-width-zero", lambda: H.norm_factor_variance(0), ValueError, r"width must be a positive integer")
row("norm_factor_variance-slope-negative", lambda: H.norm_factor_variance(10, -0.1), ValueError, r"slope must be >= 0")
row("predicted_norm_moments-one-width", lambda: H.predicted_norm_moments([10]), ValueError, r"widths must list an input width and at l")
row("predicted_norm_moments-sigma-w2-zero", lambda: H.predicted_norm_moments([10, 10], sigma_w2=0.0), ValueError, r"sigma_w2 must be > 0")
row("relu_log_norm_mean-width-zero", lambda: H.relu_log_norm_mean([10, 0]), ValueError, r"widths\[1\] must be a positive integer")
row("relu_survival-widths-string", lambda: H.relu_survival("10"), TypeError, r"widths must be a sequence of layer width")
row("random_network-activation-missing", lambda: H.random_network([3, 3], np.random.default_rng(0)), TypeError, r"random_network\(\) missing 1 required keyw")
row("random_network-sigma-w2-zero", lambda: H.random_network([3, 3], np.random.default_rng(0), activation="relu", sigma_w2=0.0), ValueError, r"sigma_w2 must be > 0")
row("random_network-weights", lambda: H.random_network([3, 3], np.random.default_rng(0), activation="relu", weights="uniform"), ValueError, r"weights must be one of 'gaussian'")
row("random_network-orthogonal-fan-out", lambda: H.random_network([3, 3], np.random.default_rng(0), activation="relu", weights="orthogonal", mode="fan_out"), ValueError, r"mode must be 'fan_in' for weights='ortho")
row("random_network-dtype", lambda: H.random_network([3, 3], np.random.default_rng(0), activation="relu", dtype=np.int32), ValueError, r"dtype must be float16")
row("weight_variance-unknown-rule", lambda: H.weight_variance("he_fancy", (3, 4)), ValueError, r"init must be one of 'lecun_normal'")
row("weight_variance-gain-for-kaiming", lambda: H.weight_variance("kaiming_normal", (3, 4), gain=2.0), ValueError, r"gain only applies to the LeCun and Xavie")
row("weight_variance-a-for-xavier", lambda: H.weight_variance("xavier_uniform", (3, 4), a=0.1), ValueError, r"a only apply to the Kaiming rules")
row("weight_variance-mode", lambda: H.weight_variance("kaiming_normal", (3, 4), mode="fan_avg"), ValueError, r"mode must be one of 'fan_in'")
row("weight_variance-bad-shape", lambda: H.weight_variance("lecun_normal", (0, 4)), ValueError, r"shape\[0\] must be a positive integer")

# -- data --------------------------------------------------------------------------------------
for name, call in {
    "spirals": lambda n, rng: H.spirals(n, rng), "two_moons": lambda n, rng: H.two_moons(n, rng),
    "circles": lambda n, rng: H.circles(n, rng), "xor": lambda n, rng: H.xor(n, rng),
    "gaussian_inputs": lambda n, rng: H.gaussian_inputs(n, 3, rng),
    "teacher_classification": lambda n, rng: H.teacher_classification(n, 3, 2, rng),
    "teacher_regression": lambda n, rng: H.teacher_regression(n, 3, rng),
}.items():
    param = "n_per_class" if name == "spirals" else "n"
    row(f"{name}-size-zero", lambda call=call: call(0, R(0)), ValueError, rf"{param} must be a positive integer")
    row(f"{name}-size-negative", lambda call=call: call(-5, R(0)), ValueError, rf"{param} must be a positive integer")
    row(f"{name}-no-generator", lambda call=call: call(10, 0), TypeError, r"rng must be a numpy.random.Generator")
row("spirals-classes", lambda: H.spirals(10, R(0), classes=0), ValueError, r"classes must be a positive integer")
row("spirals-noise", lambda: H.spirals(10, R(0), noise=-0.1), ValueError, r"noise must be >= 0")
row("spirals-turns", lambda: H.spirals(10, R(0), turns=NAN), ValueError, r"turns must be finite")
row("two_moons-noise", lambda: H.two_moons(10, R(0), noise=INF), ValueError, r"noise must be finite")
row("circles-factor", lambda: H.circles(10, R(0), factor=0.0), ValueError, r"factor must be > 0")
row("gaussian_inputs-dim", lambda: H.gaussian_inputs(10, 0, R(0)), ValueError, r"dim must be a positive integer")
row("gaussian_inputs-dtype", lambda: H.gaussian_inputs(10, 2, R(0), dtype=int), ValueError, r"dtype must be float32")
row("teacher_classification-classes", lambda: H.teacher_classification(10, 2, 0, R(0)), ValueError, r"classes must be")
row("teacher_classification-hidden", lambda: H.teacher_classification(10, 2, 2, R(0), hidden=-1), ValueError,
    r"hidden must be")
row("teacher_regression-outputs", lambda: H.teacher_regression(10, 2, R(0), outputs=0), ValueError, r"outputs must be")
row("teacher_regression-noise", lambda: H.teacher_regression(10, 2, R(0), noise=-1.0), ValueError, r"noise must be >= 0")
row("digits-test_fraction-zero", lambda: _data.digits(0, test_fraction=0.0), ValueError,
    r"test_fraction must be strictly between 0 and 1")
row("digits-test_fraction-nan", lambda: _data.digits(0, test_fraction=NAN), ValueError, r"test_fraction must be finite")
row("digits-seed-string", lambda: _data.digits("0"), TypeError, r"seed must be a non-negative integer")
row("digits-seed-negative", lambda: _data.digits(-3), ValueError, r"seed must be a non-negative integer")
row("compare_on_digits-inits", lambda: _realdata.compare_on_digits({}, [8]), TypeError, r"inits must be a non-empty mapping")
row("compare_on_digits-hidden", lambda: _realdata.compare_on_digits({"He": "kaiming_normal"}, [8, 0]), ValueError,
    r"hidden\[1\] must be a positive integer")
row("compare_on_digits-seeds", lambda: _realdata.compare_on_digits({"He": "kaiming_normal"}, [8], seeds=[2, 2]),
    ValueError, r"seeds must be distinct")
row("compare_on_digits-split_seed", lambda: _realdata.compare_on_digits({"He": "kaiming_normal"}, [8], split_seed=-1),
    ValueError, r"split_seed must be")
row("LayerDraw-draw", lambda: _realdata.LayerDraw("pytorch"), TypeError, r"draw must be a callable")
row("running_mean-window", lambda: H.running_mean(np.ones((2, 5)), 0), ValueError, r"window must be a positive integer")
row("steps_to_threshold-1d", lambda: H.steps_to_threshold(np.ones(3), 1.0), ValueError, r"curves must")

# -- optimizers --------------------------------------------------------------------------------
row("SGD-model-not-a-layer", lambda: _opt.SGD([np.ones(3)], 0.1), TypeError, r"model must be a helpers.layers.Layer")
row("SGD-lr-zero", lambda: _opt.SGD(H.Dense(np.ones((2, 2))), 0.0), ValueError, r"lr must be > 0")
row("SGD-lr-2d", lambda: _opt.SGD(H.Dense(np.ones((2, 2))), np.ones((2, 2))), ValueError, r"lr must be a positive number")
row("SGD-momentum-one", lambda: _opt.SGD(H.Dense(np.ones((2, 2))), 0.1, 1.0), ValueError, r"momentum must be in \[0, 1\)")
row("SGD-multiplier-unknown", lambda: _opt.SGD(H.Dense(np.ones((2, 2))), 0.1, lr_multipliers={"w": 1.0}), ValueError,
    r"lr_multipliers names \['w'\]")
row("Adam-lr-inf", lambda: _opt.Adam(H.Dense(np.ones((2, 2))), INF), ValueError, r"lr must be finite")
row("Adam-betas", lambda: _opt.Adam(H.Dense(np.ones((2, 2))), betas=(1.0, 0.9)), ValueError, r"betas must be in \[0, 1\)")
row("Adam-eps", lambda: _opt.Adam(H.Dense(np.ones((2, 2))), eps=-1.0), ValueError, r"eps must be > 0")
row("Adam-multiplier-negative", lambda: _opt.Adam(H.Dense(np.ones((2, 2))), lr_multipliers={"weight": -1.0}),
    ValueError, r"lr_multipliers\['weight'\] must be >= 0")

# -- plotting ----------------------------------------------------------------------------------
row("healthy_band-low-negative", lambda: H.healthy_band(_ax(), -1.0, 2.0), ValueError, r"low must be > 0")
row("healthy_band-high-nan", lambda: H.healthy_band(_ax(), 0.5, NAN), ValueError, r"high must be finite")
row("healthy_band-inverted", lambda: H.healthy_band(_ax(), 2.0, 0.5), ValueError, r"low must be smaller than high")
row("ridge-no-samples", lambda: H.ridge(_ax(), []), ValueError, r"samples must be a sequence of arrays")
row("ridge-bins-zero", lambda: H.ridge(_ax(), [np.ones(3)], bins=0), ValueError, r"bins must be a positive integer")
row("ridge-labels-mismatch", lambda: H.ridge(_ax(), [np.ones(3)] * 2, labels=["a"]), ValueError,
    r"labels must have one entry per sample array \(2\)")
row("ridge-value-range", lambda: H.ridge(_ax(), [np.ones(3)], value_range=(1.0, -1.0)), ValueError,
    r"value_range must be \(low, high\)")
row("per_layer-empty", lambda: H.per_layer(_ax(), []), ValueError, r"values must hold one number")
row("per_layer-strings", lambda: H.per_layer(_ax(), ["a", "b"]), TypeError, r"values must be a numeric array")
row("loss_curves-not-a-mapping", lambda: H.loss_curves(_ax(), [np.ones(3)]), TypeError, r"curves must map")
row("decision_regions-3d-points", lambda: H.decision_regions(_ax(), lambda g: g, np.ones((4, 3)), np.zeros(4)),
    ValueError, r"x must have shape \(n >= 1, 2\)")
row("decision_regions-labels", lambda: H.decision_regions(_ax(), lambda g: g, np.ones((4, 2)), np.zeros(3)),
    ValueError, r"y must have one label per row of x \(4\)")
row("decision_regions-predict", lambda: H.decision_regions(_ax(), None, np.ones((4, 2)), np.zeros(4)), TypeError,
    r"predict must be a function")
row("decision_regions-resolution", lambda: H.decision_regions(_ax(), lambda g: g, np.ones((4, 2)), np.zeros(4),
                                                              resolution=0), ValueError, r"resolution must be")

# -- the layer model and ensembles ------------------------------------------------------------------
row("Dense-weight-1d", lambda: H.Dense(np.ones(3)), ValueError, r"weight must have shape \(n_out, n_in\)")
row("Dense-weight-string", lambda: H.Dense("w"), TypeError, r"weight must be")
row("Dense-bias-shape", lambda: H.Dense(np.ones((2, 3)), np.ones(3)), ValueError, r"bias must have shape \(2,\)")
row("Dense-multiplier-nan", lambda: H.Dense(np.ones((2, 3)), multiplier=NAN), ValueError, r"multiplier must be finite")
row("Dense-forward-width", lambda: H.Dense(np.ones((2, 3))).forward(np.ones((4, 2))), ValueError,
    r"x must have shape \(\.\.\., 3\)")
row("Dense-backward-before-forward", lambda: H.Dense(np.ones((2, 3))).backward(np.ones((1, 2))), RuntimeError,
    r"needs a forward pass first")
row("Act-unknown", lambda: H.Act("swish"), ValueError, r"activation must be one of")
row("Sequential-not-a-layer", lambda: H.Sequential([H.Act(), "relu"]), TypeError, r"layers\[1\] must be a Layer")
row("Dropout-p-one", lambda: H.Dropout(1.0, R(0)), ValueError, r"p must be in \[0, 1\), got 1.0")
row("Dropout-p-negative", lambda: H.Dropout(-0.5, R(0)), ValueError, r"p must be >= 0")
row("Dropout-generator", lambda: H.Dropout(0.5, 0), TypeError, r"rng must be a numpy.random.Generator")
row("Dropout-fixed-mask-shape", lambda: H.Dropout(0.5, R(0), fixed_mask=np.ones(3)).forward(np.ones((2, 3))),
    ValueError, r"fixed_mask must have the input's shape \(2, 3\)")
row("Residual-branch", lambda: H.Residual(np.ones(2)), TypeError, r"branch must be a Layer")
row("Residual-scale-inf", lambda: H.Residual(H.Act(), INF), ValueError, r"scale must be finite")
row("LayerNorm-n-zero", lambda: H.LayerNorm(0), ValueError, r"n must be a positive integer")
row("LayerNorm-eps-zero", lambda: H.LayerNorm(3, eps=0.0), ValueError, r"eps must be > 0")
row("LayerNorm-forward-width", lambda: H.LayerNorm(3).forward(np.ones((2, 4))), ValueError, r"x must have shape")
row("BatchNorm-n-float", lambda: H.BatchNorm(2.5), TypeError, r"n must be an integer")
row("BatchNorm-dtype", lambda: H.BatchNorm(3, dtype=np.int32), ValueError, r"dtype must be float32 or float64")
row("gradient_check-not-a-layer", lambda: H.gradient_check(np.ones(2), np.ones((1, 2)), R(0)), TypeError,
    r"layer must be a Layer")
row("gradient_check-generator", lambda: H.gradient_check(H.Act(), np.ones((1, 2)), 0), TypeError,
    r"rng must be a numpy.random.Generator")
row("stack-empty", lambda: H.stack([]), ValueError, r"arrays must hold at least one member")
row("stack-shapes", lambda: H.stack([np.ones(2), np.ones(3)]), ValueError, r"arrays must all have one shape")
row("stack_mlps-empty", lambda: H.stack_mlps([]), TypeError, r"nets must be a non-empty sequence of MLPs")
row("stack_mlps-sizes", lambda: H.stack_mlps([_net(), _net((3, 5, 2))]), ValueError, r"nets must share one architecture")
row("stack_mlps-ensemble-member", lambda: H.stack_mlps([H.stack_mlps([_net()])]), TypeError,
    r"nets\[0\] must be a single MLP")
row("MLP-member-single", lambda: _net().member(0), ValueError, r"member\(\) needs an ensemble")
row("MLP-member-range", lambda: H.stack_mlps([_net(), _net()]).member(2), ValueError, r"k must be in \[0, 1\]")
row("ensemble_cross_entropy-2d", lambda: H.ensemble_cross_entropy(np.ones((2, 3)), np.zeros((2, 3), int)), ValueError,
    r"logits must be 3-dimensional")
row("ensemble_cross_entropy-labels-shape", lambda: H.ensemble_cross_entropy(np.ones((2, 4, 3)), np.zeros((2, 3), int)),
    ValueError, r"labels must have shape \(2, 4\)")
row("ensemble_cross_entropy-labels-range", lambda: H.ensemble_cross_entropy(np.ones((2, 4, 3)), np.full((2, 4), 3)),
    ValueError, r"labels must be integers in \[0, 2\]")
row("train_ensemble-single-net", lambda: H.train_ensemble(_net(), np.ones((4, 3)), np.zeros(4, int), [R(0)]), TypeError,
    r"nets must be a non-empty list of MLP")
row("train_ensemble-rngs-count", lambda: H.train_ensemble([_net()], np.ones((4, 3)), np.zeros(4, int), [R(0), R(1)]),
    ValueError, r"rngs must be a list holding one numpy Generator per network \(1\)")
row("train_ensemble-eval-every", lambda: H.train_ensemble([_net()], np.ones((4, 3)), np.zeros(4, int), [R(0)],
                                                          eval_every=0), ValueError, r"eval_every must be a positive")
row("train_ensemble-labels", lambda: H.train_ensemble([_net()], np.ones((4, 3)), np.full(4, 2), [R(0)]), ValueError,
    r"y must hold integer labels in \[0, 1\]")

# -- labs and report ---------------------------------------------------------------------------
row("Control-name", lambda: H.Control("not valid", (1,), 1), ValueError, r"name must be a Python identifier")
row("Control-default", lambda: H.Control("x", (1, 2), 3), ValueError, r"default of control 'x' must be one of")
row("Lab-name", lambda: Lab("Lab One", [H.Control("x", (1,), 1)], print, print, print), ValueError, r"name must be")
row("Lab-compute", lambda: Lab("lab", [H.Control("x", (1,), 1)], None, print, print), TypeError, r"compute must be")
row("Lab-params-value", lambda: _lab().params(x=5), ValueError, r"x must be one of \(1, 2\)")
row("Lab-params-unknown", lambda: _lab().params(y=1), ValueError, r"unknown control 'y'")
row("Lab-frames-max-frames", lambda: _lab().frames(max_frames=1), ValueError, r"has 2 settings but max_frames is 1")
row("Lab-frames-max-frames-zero", lambda: _lab().frames(max_frames=0), ValueError, r"max_frames must be a positive")
row("Lab-frames-dpi", lambda: _lab().frames(dpi=0), ValueError, r"dpi must be a positive integer")
row("Lab-frames-colors", lambda: _lab().frames(colors=1000), ValueError, r"colors must be at most 256")
row("glue-name", lambda: H.glue(None, 1.0), ValueError, r"name must be a non-empty string")
row("glue-fmt", lambda: H.glue("x", "text", "{:.2f}"), ValueError, r"fmt '\{:.2f\}' cannot format 'text'")
row("check-claim", lambda: H.check(True, None), ValueError, r"claim must be")
row("check_close-rtol", lambda: H.check_close(1.0, 1.0, rtol=NAN), ValueError, r"rtol must be a finite number")

# -- recurrent cells and initializers, the recurrent chapter's experiments -------------------------
from helpers import frameworks as _fw  # noqa: E402
from helpers import memory as _mem  # noqa: E402
from helpers import recurrent as _rec  # noqa: E402

row("SimpleRNN-weight_hh-shape", lambda: H.SimpleRNN(np.zeros((4, 2)), np.zeros((3, 3))), ValueError,
    r"weight_hh must have shape \(4, 4\)")
row("SimpleRNN-weight_ih-1d", lambda: H.SimpleRNN(np.zeros(4), np.zeros((4, 4))), ValueError, r"weight_ih must have shape")
row("SimpleRNN-activation", lambda: H.SimpleRNN(np.zeros((4, 2)), np.zeros((4, 4)), activation="swish"), ValueError,
    r"activation")
row("SimpleRNN-bias-shape", lambda: H.SimpleRNN(np.zeros((4, 2)), np.zeros((4, 4)), np.zeros(3)), ValueError,
    r"bias must have shape \(4,\)")
row("SimpleRNN-x-2d", lambda: _rec.simple_rnn(2, 3, R(0)).forward(np.zeros((4, 2))), ValueError, r"x must have shape")
row("SimpleRNN-x-features", lambda: _rec.simple_rnn(2, 3, R(0)).forward(np.zeros((1, 4, 5))), ValueError,
    r"x must have shape \(batch, T, 2\)")
row("SimpleRNN-ensemble-x", lambda: _rec.simple_rnn(2, 3, R(0), ensemble=2).forward(np.zeros((3, 1, 4, 2))), ValueError,
    r"x must have shape \(E=2")
row("SimpleRNN-h0-shape", lambda: _rec.simple_rnn(2, 3, R(0)).forward(np.zeros((1, 4, 2)), h0=np.zeros(3)), ValueError,
    r"h0 must have shape \(1, 3\)")
row("SimpleRNN-backward-first", lambda: _rec.simple_rnn(2, 3, R(0)).backward(np.zeros((1, 4, 3))), RuntimeError,
    r"needs a forward pass first")
row("LSTM-weight_ih-rows", lambda: H.LSTM(np.zeros((6, 2)), np.zeros((6, 1))), ValueError, r"weight_ih must have 4 \* n_hidden rows")
row("LSTM-c0-shape", lambda: _rec.lstm(2, 3, R(0)).forward(np.zeros((1, 4, 2)), c0=np.zeros((2, 3))), ValueError,
    r"c0 must have shape")
row("GRU-bias_hh-shape", lambda: H.GRU(np.zeros((6, 2)), np.zeros((6, 2)), None, np.zeros(5)), ValueError,
    r"bias_hh must have shape \(6,\)")
row("GRU-dy-shape", lambda: (lambda c: (c.forward(np.zeros((1, 2, 2))), c.backward(np.zeros((1, 3, 2)))))(
    _rec.gru(2, 2, R(0))), ValueError, r"dy must have the output's shape")
row("LastStep-1d", lambda: H.LastStep().forward(np.zeros(3)), ValueError, r"x must have shape \(\.\.\., T, n\)")
row("recurrent_matrix-kind", lambda: H.recurrent_matrix("unitary", 4, R(0)), ValueError, r"kind must be one of")
row("recurrent_matrix-n", lambda: H.recurrent_matrix("orthogonal", 0, R(0)), ValueError, r"n must be a positive integer")
row("recurrent_matrix-radius", lambda: H.recurrent_matrix("gaussian", 4, R(0), spectral_radius=NAN), ValueError,
    r"spectral_radius must be finite")
row("recurrent_matrix-negative-radius", lambda: H.recurrent_matrix("identity", 4, spectral_radius=-1.0), ValueError,
    r"spectral_radius must be > 0")
row("recurrent_matrix-rng", lambda: H.recurrent_matrix("gaussian", 4, None), TypeError, r"rng must be a numpy")
row("spectral_radius-square", lambda: H.spectral_radius(np.zeros((2, 3))), ValueError, r"w must be a square matrix")
row("memory_time-nan", lambda: H.memory_time(NAN), ValueError, r"bias must be finite")
row("chrono_forget_bias-t_max", lambda: H.chrono_forget_bias(4, 2.0, R(0)), ValueError, r"t_max must be > 2")
row("chrono_forget_bias-n_hidden", lambda: H.chrono_forget_bias(0, 10.0, R(0)), ValueError, r"n_hidden must be a positive")
row("lstm_bias-chrono-no-t_max", lambda: H.lstm_bias(3, R(0), forget_bias="chrono"), ValueError, r"t_max must be given")
row("lstm_bias-name", lambda: H.lstm_bias(3, forget_bias="ones"), ValueError, r"forget_bias must be one of 'chrono'")
row("lstm_bias-type", lambda: H.lstm_bias(3, forget_bias=None), TypeError, r"forget_bias must be a number or 'chrono'")
row("simple_rnn-recurrent", lambda: _rec.simple_rnn(2, 3, R(0), recurrent="eye"), ValueError, r"recurrent must be one of")
row("lstm-ensemble", lambda: _rec.lstm(2, 3, R(0), ensemble=0), ValueError, r"ensemble must be a positive integer")
row("gru-update_bias", lambda: _rec.gru(2, 3, R(0), update_bias=INF), ValueError, r"update_bias must be finite")
row("make_cell-cell", lambda: _rec.make_cell("transformer", 2, 3, R(0)), ValueError, r"cell must be one of")
row("gradient_by_lag-state", lambda: _mem.gradient_by_lag(_rec.simple_rnn(2, 3, R(0)), np.zeros((1, 3, 2)), R(0), state="z"),
    ValueError, r"state must be one of")
row("gradient_norms-seq_len", lambda: _mem.gradient_norms("rnn", 0, R(0)), ValueError, r"seq_len must be a positive")
row("gradient_norms-input_scale", lambda: _mem.gradient_norms("rnn", 5, R(0), input_scale=0.0), ValueError,
    r"input_scale must be > 0")
row("forget_decay-lags", lambda: _mem.forget_decay(np.zeros(3), np.zeros((2, 2))), ValueError, r"lags must be 1-dimensional")
row("fitted_memory_time-shapes", lambda: _mem.fitted_memory_time(np.ones(3), np.ones(4)), ValueError, r"norms and lags")
row("adding_problem-seq_len", lambda: _mem.adding_problem(4, 1, R(0)), ValueError, r"seq_len must be at least 2")
row("adding_problem-n", lambda: _mem.adding_problem(0, 10, R(0)), ValueError, r"n must be a positive integer")
row("train_adding-setups", lambda: _mem.train_adding({}, 10, R(0)), ValueError, r"setups must be a non-empty dict")
row("train_adding-steps", lambda: _mem.train_adding({"a": {}}, 10, R(0), steps=0), ValueError, r"steps must be a positive")
row("lab_compute-init", lambda: _mem.lab_compute("LSTM", "unitary", 1.0, 10), ValueError, r"init must be one of")
row("recurrent_default-cell", lambda: _fw.recurrent_default("keras", "gru", 3, 4), ValueError, r"cell must be one of")
row("recurrent_default-framework", lambda: _fw.recurrent_default("mxnet", "rnn", 3, 4), ValueError, r"framework must be one of")
row("recurrent_default_init-rng", lambda: _fw.recurrent_default_init("flax", "lstm", 3, 4, 0), TypeError, r"rng must be a numpy")
row("recurrent_defaults_table-n_in", lambda: _fw.recurrent_defaults_table(0, 4), ValueError, r"n_in must be a positive integer")
# -- the transformer layers (helpers.attention) and the transformers chapter -----------------------
from helpers import transformers as _trf  # noqa: E402


def _att(d=4, heads=2, **kw):
    return H.CausalSelfAttention(*(np.eye(d) for _ in range(4)), heads, **kw)


def _emb():
    return H.TokenEmbedding(np.ones((5, 3)), np.ones((4, 3)))


def _tnet():
    return H.build_transformer(5, 4, 2, 1, 4, R(0))


row("CausalSelfAttention-not-square", lambda: H.CausalSelfAttention(np.ones((4, 3)), np.eye(4), np.eye(4), np.eye(4), 2),
    ValueError, r"w_q must be a square \(d_model, d_model\) matrix")
row("CausalSelfAttention-mismatch", lambda: H.CausalSelfAttention(np.eye(4), np.eye(3), np.eye(4), np.eye(4), 2),
    ValueError, r"w_k must be a square")
row("CausalSelfAttention-heads", lambda: _att(heads=3), ValueError, r"n_heads must divide d_model = 4")
row("CausalSelfAttention-heads-zero", lambda: _att(heads=0), ValueError, r"n_heads must be a positive integer")
row("CausalSelfAttention-scale", lambda: _att(scale=-1.0), ValueError, r"scale must be > 0")
row("CausalSelfAttention-forward-width", lambda: _att().forward(np.ones((2, 3, 5))), ValueError,
    r"x must have shape \(\.\.\., T, 4\)")
row("CausalSelfAttention-backward-first", lambda: _att().backward(np.ones((1, 2, 4))), RuntimeError,
    r"needs a forward pass first")
row("ScaledResidual-skip-nan", lambda: H.ScaledResidual(H.Act(), skip=NAN), ValueError, r"skip must be finite")
row("ScaledResidual-branch", lambda: H.ScaledResidual("attention"), TypeError, r"branch must be a Layer")
row("TokenEmbedding-columns", lambda: H.TokenEmbedding(np.ones((5, 3)), np.ones((4, 2))), ValueError,
    r"position must have 3 columns")
row("TokenEmbedding-float-ids", lambda: _emb().forward(np.ones((2, 3))), TypeError, r"ids must be a 2-D integer array")
row("TokenEmbedding-too-long", lambda: _emb().forward(np.zeros((2, 5), int)), ValueError,
    r"ids must have at most 4 positions")
row("TokenEmbedding-id-range", lambda: _emb().forward(np.full((2, 3), 5)), ValueError, r"ids must be integers in \[0, 4\]")
row("Transformer-embedding", lambda: H.Transformer(None, [], None, None, placement="pre"), TypeError,
    r"embedding must be a TokenEmbedding")
row("Transformer-odd-sublayers", lambda: H.Transformer(_emb(), [H.Act()], None, H.Dense(np.ones((5, 3))),
                                                       placement="pre"), ValueError, r"two per block")
row("Transformer-placement", lambda: H.Transformer(_emb(), [H.Act(), H.Act()], None, H.Dense(np.ones((5, 3))),
                                                   placement="middle"), ValueError, r"placement must be one of")
row("build_transformer-heads", lambda: H.build_transformer(5, 6, 4, 1, 4, R(0)), ValueError, r"n_heads must divide")
row("build_transformer-placement", lambda: H.build_transformer(5, 4, 2, 1, 4, R(0), placement="sandwich"),
    ValueError, r"placement must be one of 'pre', 'post', 'none'")
row("build_transformer-init", lambda: H.build_transformer(5, 4, 2, 1, 4, R(0), weight_init="he"), ValueError,
    r"weight_init must be one of 'normal', 'xavier'")
row("build_transformer-layers", lambda: H.build_transformer(5, 4, 2, 0, 4, R(0)), ValueError,
    r"n_layers must be a positive integer")
row("build_transformer-std", lambda: H.build_transformer(5, 4, 2, 1, 4, R(0), std=0.0), ValueError, r"std must be > 0")
row("build_transformer-gain", lambda: H.build_transformer(5, 4, 2, 1, 4, R(0), out_gain=-1.0), ValueError,
    r"out_gain must be >= 0")
row("build_transformer-rng", lambda: H.build_transformer(5, 4, 2, 1, 4, 0), TypeError,
    r"rng must be a numpy.random.Generator")
row("sequence_loss-2d", lambda: H.sequence_loss(np.ones((2, 3)), np.zeros((2, 3), int)), ValueError,
    r"logits must be 3-dimensional")
row("sequence_loss-targets", lambda: H.sequence_loss(np.ones((2, 3, 4)), np.zeros((2, 2), int)), ValueError,
    r"targets must be integers of shape \(2, 3\)")
row("sequence_loss-empty-mask", lambda: H.sequence_loss(np.ones((2, 3, 4)), np.zeros((2, 3), int),
                                                        np.zeros((2, 3), bool)), ValueError, r"at least one True")
row("gpt2_residual_std-layers", lambda: H.gpt2_residual_std(0), ValueError, r"n_layers must be a positive integer")
row("gpt2_residual_std-std", lambda: H.gpt2_residual_std(12, std=INF), ValueError, r"std must be finite")
row("deepnorm_coefficients-kind", lambda: H.deepnorm_coefficients(6, "encoder-decoder"), ValueError,
    r"architecture must be one of 'encoder', 'decoder'")
row("deepnorm_coefficients-layers", lambda: H.deepnorm_coefficients(2.5), TypeError, r"n_layers must be an integer")
row("tfixup_scale-layers", lambda: H.tfixup_scale(-2), ValueError, r"n_layers must be a positive integer")
row("trf-attention_saturation-empty", lambda: _trf.attention_saturation([], R(0)), ValueError,
    r"d_ks must hold at least one")
row("trf-attention_saturation-dk", lambda: _trf.attention_saturation([0], R(0)), ValueError,
    r"d_ks\[i\] must be a positive integer")
row("trf-stream_profile-net", lambda: _trf.stream_profile(H.Act(), np.zeros((1, 2), int)), TypeError,
    r"net must be a Transformer")
row("trf-predicted_stream_variance-gain", lambda: H.predicted_stream_variance(2, 8, 4, out_gain=NAN), ValueError,
    r"out_gain must be finite")
row("trf-scheme_kwargs-name", lambda: _trf.scheme_kwargs("Fixup", 4), ValueError, r"scheme must be one of")
row("trf-layer_gradient_norms-net", lambda: _trf.layer_gradient_norms(None, R(0)), TypeError,
    r"net must be a Transformer")
row("trf-depth_profile-seeds", lambda: _trf.depth_profile("Pre-LN", 2, []), ValueError, r"seeds must hold at least one")
row("trf-rank_collapse-scale", lambda: _trf.rank_collapse(2, R(0), residual=True, branch_scale=-1.0), ValueError,
    r"branch_scale must be >= 0")
row("trf-copy_batch-vocab", lambda: _trf.copy_batch(R(0), 2, 3, 2), ValueError, r"vocab must be at least 3")
row("trf-train_copy-placement", lambda: _trf.train_copy("none", 0), ValueError, r"placement must be one of 'pre', 'post'")
row("trf-train_copy-lr", lambda: _trf.train_copy("pre", 0, lr=0.0), ValueError, r"lr must be > 0")
row("trf-lab_compute-dk", lambda: _trf.lab_compute(6, "Pre-LN", "GPT-2 scaled", 5), ValueError,
    r"d_k must divide d_model = 32")


# -- the width chapter: parametrizations and kernels ----------------------------------------------
from helpers import parametrization as _par  # noqa: E402

_XY = (np.ones((4, 3)), np.zeros(4, int))
row("relu_kernels-features", lambda: H.relu_kernels(np.ones((2, 3)), np.ones((2, 4))), ValueError,
    r"y must have 3 features")
row("relu_kernels-depth", lambda: H.relu_kernels(np.ones((2, 3)), depth=-1), ValueError, r"depth must be")
row("relu_kernels-sigma_w2", lambda: H.relu_kernels(np.ones((2, 3)), sigma_w2=0.0), ValueError, r"sigma_w2 must be")
row("relu_kernels-nan", lambda: H.relu_kernels(np.full((2, 3), NAN)), ValueError, r"x must be finite")
row("layer_scales-parametrization", lambda: _par.layer_scales("xavier", "input", 3, 4), ValueError,
    r"parametrization must be one of")
row("layer_scales-kind", lambda: _par.layer_scales("mup", "middle", 3, 4), ValueError, r"kind must be one of")
row("layer_scales-fan_in", lambda: _par.layer_scales("mup", "input", 0, 4), ValueError, r"fan_in must be a positive")
row("layer_scales-form", lambda: _par.layer_scales("mup", "input", 3, 4, form="torch"), ValueError,
    r"form must be one of")
row("layer_scales-base", lambda: _par.layer_scales("mup", "input", 3, 4, base_fan_out=-2), ValueError,
    r"base_fan_out must be a positive")
row("rescale-scales", lambda: _par.rescale((1, 1, 1, 1), 2.0), TypeError, r"scales must be a LayerScales")
row("rescale-theta", lambda: _par.rescale(_par.LayerScales(1, 1, 1, 1), 0.0), ValueError, r"theta must be")
row("scaling_exponent-quantity", lambda: _par.scaling_exponent("sp", "input", "bias"), ValueError,
    r"quantity must be one of")
row("scaling_exponent-widths", lambda: _par.scaling_exponent("sp", "input", "lr_sgd", widths=(8, 8)), ValueError,
    r"widths must be two different widths")
row("build-width", lambda: _par.build("sp", 0, R(0)), ValueError, r"width must be a positive")
row("build-rng", lambda: _par.build("sp", 8, 0), TypeError, r"rng must be a numpy.random.Generator")
row("build-ensemble", lambda: _par.build("sp", 8, R(0), ensemble=0), ValueError, r"ensemble must be a positive")
row("WidthModel-optimizer", lambda: _par.build("sp", 8, R(0), d_in=3).optimizer("rmsprop", 0.1), ValueError,
    r"name must be one of")
row("coordinate_check-widths", lambda: _par.coordinate_check("sp", [8], *_XY), ValueError,
    r"widths must hold at least two")
row("coordinate_check-labels", lambda: _par.coordinate_check("sp", [8, 16], np.ones((4, 3)), np.ones(4)), ValueError,
    r"y must hold integer class labels")
row("coordinate_check-optimizer", lambda: _par.coordinate_check("sp", [8, 16], *_XY, optimizer="lbfgs"), ValueError,
    r"optimizer must be one of")
row("lr_sweep-lrs", lambda: _par.lr_sweep("sp", [8], [0.1, -1.0], *_XY), ValueError, r"lrs\[1\] must be")
row("lr_sweep-rows", lambda: _par.lr_sweep("sp", [8], [0.1], np.ones((4, 3)), np.zeros(5, int)), ValueError,
    r"x and y must have one row per example")
row("lr_sweep-output_scale", lambda: _par.lr_sweep("sp", [8], [0.1], *_XY, output_scale=0.0), ValueError,
    r"output_scale must be")
row("empirical_ntk-model", lambda: _par.empirical_ntk(_net(), np.ones((2, 3))), TypeError,
    r"model must be a WidthModel")
row("empirical_ntk-outputs", lambda: _par.empirical_ntk(_par.build("sp", 8, R(0), d_in=3), np.ones((2, 3))),
    ValueError, r"model must have a scalar output")
row("empirical_ntk-x", lambda: _par.empirical_ntk(_par.build("sp", 8, R(0), d_in=3, d_out=1), np.ones((2, 4))),
    ValueError, r"x must have shape \(N, 3\)")
row("lazy_rich-alphas", lambda: _par.lazy_rich([1.0, 0.0], np.ones((4, 3)), np.ones(4), R(0)), ValueError,
    r"alphas\[1\] must be")
row("lazy_rich-rows", lambda: _par.lazy_rich([1.0], np.ones((4, 3)), np.ones(3), R(0)), ValueError,
    r"x and y must have one row per example")
row("ntk_fluctuation-seeds", lambda: _par.ntk_fluctuation([8], np.ones((2, 3)), seeds=0), ValueError,
    r"seeds must be a positive")


@pytest.mark.parametrize("call, exc, match", ROWS)
def test_bad_input_is_rejected_with_a_message_naming_the_parameter(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_table_is_large_and_covers_every_public_core_function():
    import inspect

    covered = " ".join(p.id for p in ROWS)
    public = {
        name for name, obj in vars(H).items()
        if callable(obj) and not name.startswith("_") and inspect.getmodule(obj) is not None
        and inspect.getmodule(obj).__name__.split(".")[1] in {  # helpers.<module>[.<submodule>]
            "initializers", "activations", "layers", "attention", "network", "optimizers", "training",
            "diagnostics", "theory", "data", "plotting", "labs", "report", "recurrent"}
    }
    # functions with nothing to validate (no arguments a reader could get wrong) or tested elsewhere
    exempt = {"use_style", "show", "MLP", "Cache", "Grads", "History", "LayerStats", "Activation", "LiveLab", "Workspace", "all_labs",
              "Layer", "EnsembleRun", "Profile", "PairPrediction", "PhaseDiagram", "GELU",
              "mean_squared_error", "softmax_cross_entropy"}
    aliases = {"mean_squared_error": "mse", "softmax_cross_entropy": "cross_entropy"}
    missing = sorted(n for n in public - exempt if n not in covered) + sorted(
        n for n, a in aliases.items() if a not in covered)
    assert not missing, f"no bad-input row for {missing}"
    assert len(ROWS) >= 250
