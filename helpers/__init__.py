"""Helpers for the course book on weight initialization in neural networks.

Three layers, each importing only the ones above it in this list:

1. **Core** - :mod:`~helpers.initializers` (PyTorch's names and conventions), :mod:`~helpers.activations`,
   :mod:`~helpers.layers` (the layer model: ``Dense``, ``Act``, ``Residual``, ``LayerNorm``,
   ``BatchNorm``, ``Sequential``, each with ``forward`` and ``backward``; weights stacked on a leading
   axis run many seeds at once), :mod:`~helpers.network` (the MLP as one composition of layers,
   losses, ``stack_mlps``), :mod:`~helpers.optimizers`, :mod:`~helpers.training` (``train`` for one
   network, ``train_ensemble`` for many seeds at once), :mod:`~helpers.diagnostics`, :mod:`~helpers.data`.
2. **Theory** - :mod:`~helpers.theory`: what the book predicts (variance propagation forward and
   backward for one input and for pairs, the mean-field maps, finite-width corrections).
3. **Chapter experiments** - thin modules, imported as ``from helpers import <module>``, that compose
   core and theory into one chapter's studies: ``symmetry``, ``propagation``, ``layerwise``,
   ``finite_width``, ``frameworks``, ``lsuv``, ``residual``, ``normalization``, ``meanfield``,
   ``jacobian``, ``realdata`` (the training comparisons replayed on the UCI digits) and the modules
   of the later chapters.

Beside them, the book's machinery: :mod:`~helpers.plotting` (house style), :mod:`~helpers.labs`
(interactive labs for Jupyter and the static book) and :mod:`~helpers.report` (glue numbers into the
prose and assert the claims). The core and theory names are re-exported here (``import helpers as H``).
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
