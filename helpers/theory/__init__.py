"""The theory: what the book predicts for random networks, in one place.

Every prediction a chapter draws over an experiment comes from here; chapter modules never re-derive
one. Five modules, from the bottom up:

* :mod:`~helpers.theory.gaussian` - Gaussian expectations of one variable (kink-safe quadrature, at
  any mean) and of two correlated variables, with ReLU's closed forms (the arc-cosine kernel of Cho &
  Saul 2009);
* :mod:`~helpers.theory.signal` - one input: the length map forward and the backward factor
  ``sigma_w2 E[phi'^2]``, the map of mean and variance through an activation (SELU's
  self-normalization, :func:`~helpers.theory.signal.moment_map`), and the per-layer profile of
  variances, forward and backward, for any activation, widths and per-layer weight variances
  (:func:`~helpers.theory.signal.predicted_profile`); and residual streams: a residual MLP's
  (:func:`~helpers.theory.signal.predicted_residual_variances`) and a Pre-LN transformer's;
* :mod:`~helpers.theory.meanfield` - the mean-field theory of Poole et al. (2016) and Schoenholz et
  al. (2017): fixed points, ``chi_1``, pairs of inputs (covariance and correlation maps), depth
  scales, the order-to-chaos phase diagram;
* :mod:`~helpers.theory.fluctuations` - finite width: how far one random network strays from the
  average (Hanin & Rolnick 2018);
* :mod:`~helpers.theory.kernels` - infinite width: the NNGP and neural tangent kernels of ReLU
  networks (Jacot et al. 2018).

Conventions, the same in all five: ``sigma_w2 = fan_in Var[W]`` and ``sigma_b2 = Var[b]`` (Poole et
al. 2016) are *variances*, never gains (a gain ``g`` is ``sigma_w2 = g**2``); positional arguments come
in the order ``sigma_w2, sigma_b2, activation``, and where ``activation`` directly follows
``sigma_w2``, ``sigma_b2`` is keyword-only. Every name is re-exported here and in ``helpers``.
"""

from .fluctuations import norm_factor_variance, predicted_norm_moments, relu_log_norm_mean, relu_survival
from .kernels import relu_kernels
from .gaussian import arccos_kernel, bivariate_expectation, gaussian_expectation, relu_covariance
from .meanfield import (PairPrediction, PhaseDiagram, c_star, chi1, chi_c, correlation_map, covariance_map,
                        critical_line, critical_sigma_w2, depth_scales, length_map_slope, phase, phase_diagram,
                        predicted_pair, q_star)
from .signal import (Profile, backward_factor, derivative_second_moment, length_map, moment_map, predicted_profile,
                     predicted_residual_variances, predicted_stream_variance, predicted_variances, preserving_gain,
                     second_moment)

__all__ = [
    "arccos_kernel", "bivariate_expectation", "gaussian_expectation", "relu_covariance",
    "Profile", "backward_factor", "derivative_second_moment", "length_map", "moment_map", "predicted_profile",
    "predicted_residual_variances", "predicted_stream_variance", "predicted_variances", "preserving_gain",
    "second_moment",
    "PairPrediction", "PhaseDiagram", "c_star", "chi1", "chi_c", "correlation_map", "covariance_map",
    "critical_line", "critical_sigma_w2", "depth_scales", "length_map_slope", "phase", "phase_diagram",
    "predicted_pair", "q_star",
    "norm_factor_variance", "predicted_norm_moments", "relu_log_norm_mean", "relu_survival",
    "relu_kernels",
]
