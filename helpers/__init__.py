"""Helpers for the course book on weight initialization in neural networks.

Modules, one concept each:

* :mod:`helpers.initializers` - weight initializers and gains (PyTorch's names and conventions)
* :mod:`helpers.activations`  - activation functions with derivatives
* :mod:`helpers.network`      - a fully connected network: build, forward, backward, losses
* :mod:`helpers.training`     - minibatch SGD that records per-layer statistics and divergence
* :mod:`helpers.diagnostics`  - per-layer statistics of activations and gradients
* :mod:`helpers.theory`       - predicted variance propagation (length map)
* :mod:`helpers.data`         - small seeded datasets made in code
* :mod:`helpers.plotting`     - the house style and shared plots
* :mod:`helpers.labs`         - interactive labs for Jupyter and for the static book
* :mod:`helpers.report`       - glue numbers into the prose and assert the claims

Chapter-specific modules, imported as ``from helpers import <module>``: ``symmetry`` (breaking
symmetry), ``propagation`` (signal and gradient statistics over depth, floating-point limits),
``layerwise`` (Glorot & Bengio's per-layer study), ``finite_width`` (ensembles of random networks),
``frameworks`` (framework defaults), ``lsuv``, ``residual``, ``normalization``, ``meanfield``
(signal propagation theory) and ``jacobian`` (input-output Jacobian spectra).
"""

from .activations import Activation, get_activation
from .data import (circles, gaussian_inputs, spirals, teacher_classification, teacher_regression, two_moons,
                   xor)
from .diagnostics import LayerStats, activation_stats, dead_fraction, layer_stats, saturated_fraction, update_ratio
from .initializers import (INITIALIZERS, calculate_gain, constant, fan_in_and_fan_out, get_initializer,
                           glorot_standard, kaiming_normal, kaiming_std, kaiming_uniform, lecun_normal,
                           lecun_uniform, normal, orthogonal, truncated_normal, truncated_normal_std_factor,
                           uniform, xavier_normal, xavier_uniform, zeros)
from .labs import Control, Lab, LiveLab, all_labs
from .layers import Act, BatchNorm, Dense, Layer, LayerNorm, Residual, Sequential, Workspace, gradient_check, stack
from .network import (MLP, Cache, Grads, accuracy, backward, build_mlp, ensemble_cross_entropy, forward,
                      loss_and_grads, mean_squared_error, predict, softmax, softmax_cross_entropy, stack_mlps)
from .plotting import PALETTE, decision_regions, healthy_band, loss_curves, per_layer, ridge, show, use_style
from .report import check, check_close, glue
from .theory import gaussian_expectation, length_map, predicted_variances, second_moment
from .training import EnsembleRun, History, train, train_ensemble

__all__ = [name for name in dir() if not name.startswith("_")]
