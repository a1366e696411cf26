"""Helpers for the course book on weight initialization in neural networks.

Three layers, each importing only the ones above it in this list:

1. **Core** - :mod:`~helpers.initializers` (PyTorch's names and conventions), :mod:`~helpers.activations`,
   :mod:`~helpers.layers` (the layer model: ``Dense``, ``Act``, ``Dropout``, ``Residual``,
   ``LayerNorm``, ``BatchNorm``, ``Sequential``, each with ``forward`` and ``backward``; weights
   stacked on a leading axis run many seeds at once), :mod:`~helpers.attention` (the transformer's
   layers: self-attention, GELU, embeddings, Pre-LN and Post-LN blocks), :mod:`~helpers.recurrent`
   (recurrent cells and recurrent initializers), :mod:`~helpers.network` (the MLP as one composition of layers,
   losses, ``stack_mlps``), :mod:`~helpers.optimizers`, :mod:`~helpers.training` (``train`` for one
   network, ``train_ensemble`` for many seeds at once), :mod:`~helpers.diagnostics`, :mod:`~helpers.data`.
2. **Theory** - :mod:`~helpers.theory`: everything the book predicts, in five modules: Gaussian
   expectations; one input forward and backward (per-layer profiles for any widths and variances,
   the mean-variance map of an activation, the residual streams of a residual MLP and of a
   transformer); the mean-field maps for pairs of inputs and the phase diagram; finite-width
   fluctuations; the kernels of infinitely wide networks.
3. **Chapter experiments** - thin modules, imported as ``from helpers import <module>``, that compose
   core and theory into one chapter's studies: ``symmetry``, ``propagation``, ``layerwise``,
   ``finite_width``, ``frameworks``, ``lsuv``, ``residual``, ``normalization``, ``jacobian``,
   ``transformers``, ``parametrization``, ``memory`` and ``realdata`` (the training comparisons
   replayed on the UCI digits).

Beside them, the book's machinery: :mod:`~helpers.plotting` (house style), :mod:`~helpers.labs`
(interactive labs for Jupyter and the static book) and :mod:`~helpers.report` (glue numbers into the
prose and assert the claims). The core and theory names are re-exported here (``import helpers as H``).
"""

from .activations import Activation, get_activation
from .attention import (GELU, CausalSelfAttention, ScaledResidual, TokenEmbedding, Transformer, build_transformer,
                        deepnorm_coefficients, gpt2_residual_std, sequence_loss, tfixup_scale)
from .data import (circles, gaussian_inputs, spirals, teacher_classification, teacher_regression, two_moons,
                   xor)
from .diagnostics import LayerStats, activation_stats, dead_fraction, layer_stats, saturated_fraction, update_ratio
from .initializers import (INITIALIZERS, VARIANCE_RULES, calculate_gain, constant, fan_in_and_fan_out,
                           get_initializer, glorot_standard, kaiming_normal, kaiming_std, kaiming_uniform,
                           lecun_normal, lecun_uniform, normal, orthogonal, truncated_normal,
                           truncated_normal_std_factor, uniform, weight_variance, xavier_normal, xavier_uniform,
                           zeros)
from .labs import Control, Lab, LiveLab, all_labs
from .layers import (Act, BatchNorm, Dense, Dropout, Layer, LayerNorm, Residual, Sequential, Workspace,
                     gradient_check, stack)
from .network import (MLP, Cache, Grads, accuracy, backward, build_mlp, ensemble_cross_entropy, forward,
                      loss_and_grads, mean_squared_error, predict, random_network, softmax, softmax_cross_entropy,
                      stack_mlps)
from .recurrent import (GRU, LSTM, LastStep, SimpleRNN, chrono_forget_bias, lstm_bias, memory_time,
                        recurrent_matrix, spectral_radius)
from .plotting import PALETTE, decision_regions, healthy_band, loss_curves, per_layer, ridge, show, use_style
from .report import check, check_close, glue
from .theory import *  # noqa: F403 - the theory's names, listed in helpers.theory.__all__
from .training import EnsembleRun, History, running_mean, steps_to_threshold, train, train_ensemble

__all__ = [name for name in dir() if not name.startswith("_")]
