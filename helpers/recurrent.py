"""Recurrent cells as layers of the layer model, and initializers for recurrent weights.

An unrolled recurrent network is a deep network whose layers share one weight matrix. The cells
here run a whole sequence in ``forward`` and back-propagate through time in ``backward``, with the
same protocol as :class:`helpers.layers.Dense` (``params``, ``grads``, ``forward``/``backward``):

* :class:`SimpleRNN` - the Elman (1990) network ``h_t = phi(W x_t + U h_{t-1} + b)``;
* :class:`LSTM` - long short-term memory (Hochreiter & Schmidhuber 1997) with the forget gate of
  Gers, Schmidhuber & Cummins (2000), gates in PyTorch's order ``i, f, g, o``;
* :class:`GRU` - the gated recurrent unit (Cho et al. 2014) in PyTorch's form, gates ``r, z, n``.

Shapes: ``x`` is ``(batch, T, n_in)``; the output is every hidden state, ``(batch, T, n_hidden)``.
An **ensemble** of ``E`` cells stacks every parameter on a leading axis (``weight_ih`` of shape
``(E, G n_hidden, n_in)``) and takes ``x`` of shape ``(E, batch, T, n_in)``: many seeds in one
batched pass. After ``backward`` a cell also keeps ``dh`` (dL/dh_t for every step, shape of the
output) and ``dh0`` (dL/dh_0 of the initial state); the LSTM keeps ``dc`` for its cell state.
Every backward pass is checked against central finite differences in ``tests/test_recurrent.py``.

Initializers for the recurrent matrix (:func:`recurrent_matrix`): Gaussian rescaled to a chosen
spectral radius, orthogonal (Saxe, McClelland & Ganguli 2014) and the identity (IRNN, Le, Jaitly &
Hinton 2015); for gated cells the forget-gate bias (Gers et al. 2000; Jozefowicz, Zaremba &
Sutskever 2015) and chrono initialization (Tallec & Ollivier 2018), see :func:`lstm_bias`, with
the memory time a gate bias implies (:func:`memory_time`).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from . import _checks
from .activations import get_activation
from .initializers import orthogonal
from .layers import QUIET, Layer, Workspace

RECURRENT_KINDS = ("gaussian", "orthogonal", "identity")
CELLS = ("rnn", "lstm", "gru")


def _t(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))``, computed without overflow for large ``|z|``."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --------------------------------------------------------------------------------------------
# Initializers
# --------------------------------------------------------------------------------------------
def spectral_radius(w: np.ndarray) -> float | np.ndarray:
    """Largest absolute eigenvalue of a square matrix (or of each matrix of a stack ``(E, n, n)``)."""
    w = _checks.array(w, "w")
    if w.ndim not in (2, 3) or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"w must be a square matrix (n, n) or a stack (E, n, n), got shape {w.shape}")
    rho = np.max(np.abs(np.linalg.eigvals(w)), axis=-1)
    return float(rho) if w.ndim == 2 else rho


def recurrent_matrix(kind: str, n: int, rng: np.random.Generator | None = None, *,
                     spectral_radius: float = 1.0, dtype=np.float64) -> np.ndarray:
    """An ``(n, n)`` recurrent weight matrix of one of three kinds, scaled to spectral radius ``rho``.

    * ``"gaussian"``: ``G`` with i.i.d. N(0, 1/n) entries, rescaled to ``rho G / max|eig(G)|``. By the
      circular law (Ginibre 1965; Bai 1997) the eigenvalues of ``G`` fill the unit disk uniformly as
      ``n`` grows, so the rescaling is a small correction; the largest singular value is about 2,
      twice the spectral radius (Marchenko & Pastur 1967).
    * ``"orthogonal"``: ``rho Q`` with ``Q`` Haar-orthogonal (Saxe et al. 2014): every eigenvalue and
      every singular value has modulus exactly ``rho``.
    * ``"identity"``: ``rho I``, the IRNN of Le, Jaitly & Hinton (2015) (``rho = 1``) meant for ReLU.

    ``rng`` may be None for ``"identity"`` only.
    """
    _checks.choice(kind, "kind", RECURRENT_KINDS)
    n = _checks.positive_int(n, "n")
    rho = _checks.finite_float(spectral_radius, "spectral_radius", positive=True)
    dtype = _checks.float_dtype(dtype)
    if kind == "identity":
        return (rho * np.eye(n)).astype(dtype, copy=False)
    rng = _checks.generator(rng)
    if kind == "orthogonal":
        return orthogonal((n, n), rng, gain=rho, dtype=dtype)
    g = rng.standard_normal((n, n)) / math.sqrt(n)
    return (g * (rho / np.max(np.abs(np.linalg.eigvals(g))))).astype(dtype, copy=False)


def memory_time(bias: float | np.ndarray) -> float | np.ndarray:
    """Characteristic memory time ``tau = -1 / ln(sigmoid(b))`` of a gate with bias ``b``.

    A cell state multiplied by ``f = sigmoid(b)`` at every step keeps ``f^k = exp(-k / tau)`` of its
    content after ``k`` steps. Since ``-ln sigmoid(b) = ln(1 + e^{-b})``, ``tau = 1 / ln(1 + e^{-b})``:
    1.44 steps for ``b = 0``, 3.19 for the forget bias ``b = 1`` (Gers et al. 2000; Jozefowicz et al.
    2015), and ``1 / ln(1 + 1/(T-1))``, about ``T - 1/2``, for ``b = ln(T - 1)``, the largest chrono
    bias (Tallec & Ollivier 2018, who write the same time as ``1 / (1 - f)``).
    """
    b = np.asarray(bias, dtype=float)
    if not np.all(np.isfinite(b)):
        raise ValueError("bias must be finite")
    tau = 1.0 / np.log1p(np.exp(-b))
    return float(tau) if tau.ndim == 0 else tau


def chrono_forget_bias(n_hidden: int, t_max: float, rng: np.random.Generator) -> np.ndarray:
    """Chrono initialization of the forget gate (Tallec & Ollivier 2018): ``b_f ~ ln U[1, T_max - 1]``.

    The memory times :func:`memory_time` of the units then spread from about 1.4 steps to about
    ``T_max`` steps, the range of dependencies the task is expected to have. The input-gate bias is
    set to ``-b_f`` (:func:`lstm_bias`).
    """
    n_hidden = _checks.positive_int(n_hidden, "n_hidden")
    t_max = _checks.finite_float(t_max, "t_max")
    if t_max <= 2:
        raise ValueError(f"t_max must be > 2 (chrono draws from U[1, t_max - 1]), got {t_max}")
    rng = _checks.generator(rng)
    return np.log(rng.uniform(1.0, t_max - 1.0, size=n_hidden))


def lstm_bias(n_hidden: int, rng: np.random.Generator | None = None, *, forget_bias: float | str = 1.0,
              t_max: float | None = None) -> np.ndarray:
    """The LSTM bias vector ``[b_i, b_f, b_g, b_o]`` (length ``4 n_hidden``, PyTorch's gate order).

    ``forget_bias`` a number: ``b_f`` equal to it and every other bias 0 (1 is the forget-gate bias
    of Gers et al. 2000, recommended by Jozefowicz et al. 2015; Keras' ``unit_forget_bias=True``).
    ``forget_bias="chrono"``: ``b_f ~ ln U[1, t_max - 1]`` and ``b_i = -b_f`` (Tallec & Ollivier 2018),
    which needs ``t_max`` and ``rng``.
    """
    n_hidden = _checks.positive_int(n_hidden, "n_hidden")
    b = np.zeros(4 * n_hidden)
    if isinstance(forget_bias, str):
        _checks.choice(forget_bias, "forget_bias", ("chrono",))
        if t_max is None:
            raise ValueError("t_max must be given for forget_bias='chrono'")
        bf = chrono_forget_bias(n_hidden, t_max, rng)
        b[:n_hidden], b[n_hidden:2 * n_hidden] = -bf, bf
        return b
    if not isinstance(forget_bias, Real) or isinstance(forget_bias, bool):
        raise TypeError(f"forget_bias must be a number or 'chrono', got {type(forget_bias).__name__}")
    b[n_hidden:2 * n_hidden] = _checks.finite_float(forget_bias, "forget_bias")
    return b


# --------------------------------------------------------------------------------------------
# The cells
# --------------------------------------------------------------------------------------------
class RecurrentCell(Layer):
    """Base of the recurrent cells: parameter checks, input projection, gradient sums over batch and time.

    A subclass sets ``gates`` (the number of ``n_hidden``-row blocks of ``weight_ih`` and ``weight_hh``)
    and implements ``forward`` over a sequence and ``backward`` through time.
    """

    gates = 1

    def __init__(self, weight_ih: np.ndarray, weight_hh: np.ndarray, biases: dict[str, np.ndarray | None]) -> None:
        super().__init__()
        w_ih = _checks.array(weight_ih, "weight_ih")
        w_hh = _checks.array(weight_hh, "weight_hh")
        if w_ih.ndim not in (2, 3):
            raise ValueError(f"weight_ih must have shape (G*n_hidden, n_in) or (E, G*n_hidden, n_in), got {w_ih.shape}")
        g = self.gates
        if w_ih.shape[-2] % g:
            raise ValueError(f"weight_ih must have {g} * n_hidden rows, got shape {w_ih.shape}")
        n = w_ih.shape[-2] // g
        want = w_ih.shape[:-2] + (g * n, n)
        if w_hh.shape != want:
            raise ValueError(f"weight_hh must have shape {want} for this weight_ih, got {w_hh.shape}")
        self.n_hidden, self.n_in = n, w_ih.shape[-1]
        self.params["weight_ih"] = w_ih.astype(float, copy=False)
        self.params["weight_hh"] = w_hh.astype(float, copy=False)
        for name, b in biases.items():
            b = np.zeros(w_ih.shape[:-1]) if b is None else _checks.array(b, name)
            if b.shape != w_ih.shape[:-1]:
                raise ValueError(f"{name} must have shape {w_ih.shape[:-1]}, got {b.shape}")
            self.params[name] = b.astype(float, copy=False)
        self.dh: np.ndarray | None = None
        self.dh0: np.ndarray | None = None

    @property
    def ensemble(self) -> int | None:
        """The ensemble size ``E`` (None for a single cell)."""
        w = self.params["weight_ih"]
        return w.shape[0] if w.ndim == 3 else None

    def _check_x(self, x: np.ndarray) -> np.ndarray:
        x = _checks.array(x, "x")
        e = self.ensemble
        ok = x.ndim == 3 if e is None else (x.ndim == 4 and x.shape[0] == e)
        if not ok or x.shape[-1] != self.n_in or x.shape[-2] < 1:
            want = f"(batch, T, {self.n_in})" if e is None else f"(E={e}, batch, T, {self.n_in})"
            raise ValueError(f"x must have shape {want} for this {type(self).__name__}, got {x.shape}")
        return x.astype(float, copy=False)

    def _state(self, s: np.ndarray | None, x: np.ndarray, name: str) -> np.ndarray:
        shape = x.shape[:-2] + (self.n_hidden,)
        if s is None:
            return np.zeros(shape)
        s = _checks.array(s, name)
        if s.shape != shape:
            raise ValueError(f"{name} must have shape {shape} for this x, got {s.shape}")
        return s.astype(float, copy=False)

    def _bias(self, name: str) -> np.ndarray:
        b = self.params[name]
        return b if b.ndim == 1 else b[:, None, :]

    def _project(self, x: np.ndarray) -> np.ndarray:
        """``x_t W_ih^T`` for every step at once: shape ``(..., batch, T, G n)``."""
        w = self.params["weight_ih"]
        if w.ndim == 2:
            return x @ w.T
        e, b, t, _ = x.shape
        return np.matmul(x.reshape(e, b * t, -1), _t(w)).reshape(e, b, t, -1)

    def _outer(self, da: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """``sum_{batch, t} da^T inputs``: the gradient of a weight from ``(.., B, T, G n)`` and ``(.., B, T, m)``."""
        if da.ndim == 3:
            return _t(da.reshape(-1, da.shape[-1])) @ inputs.reshape(-1, inputs.shape[-1])
        e = da.shape[0]
        return np.matmul(_t(da.reshape(e, -1, da.shape[-1])), inputs.reshape(e, -1, inputs.shape[-1]))

    def _bias_grad(self, da: np.ndarray) -> np.ndarray:
        return da.sum(axis=(0, 1)) if da.ndim == 3 else da.sum(axis=(1, 2))

    def _dx(self, da: np.ndarray) -> np.ndarray:
        w = self.params["weight_ih"]
        if w.ndim == 2:
            return da @ w
        e, b, t, _ = da.shape
        return np.matmul(da.reshape(e, b * t, -1), w).reshape(e, b, t, -1)

    def _input_grads(self, da: np.ndarray, bias: str = "bias") -> np.ndarray:
        self.grads["weight_ih"] = self._outer(da, self.x)
        self.grads[bias] = self._bias_grad(da)
        return self._dx(da)


class SimpleRNN(RecurrentCell):
    """Elman (1990) recurrence ``h_t = phi(x_t W_ih^T + h_{t-1} W_hh^T + b)`` over a whole sequence.

    Backward through time (Werbos 1990; Rumelhart et al. 1986): with ``g_t = dL/dh_t`` (from the
    output at ``t`` plus from step ``t + 1``), ``da_t = phi'(a_t) g_t`` and ``g_{t-1} += da_t W_hh``.
    The gradient reaching ``h_0`` from step ``T`` is a product of ``T`` Jacobians
    ``diag(phi'(a_t)) W_hh`` (Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013).
    """

    def __init__(self, weight_ih: np.ndarray, weight_hh: np.ndarray, bias: np.ndarray | None = None, *,
                 activation: str = "tanh") -> None:
        super().__init__(weight_ih, weight_hh, {"bias": bias})
        self.activation = get_activation(activation)

    def forward(self, x: np.ndarray, ws: Workspace | None = None, *, h0: np.ndarray | None = None) -> np.ndarray:
        self.x = x = self._check_x(x)
        h = self.h0 = self._state(h0, x, "h0")
        u, b = self.params["weight_hh"], self._bias("bias")
        xw = self._project(x)
        t_len = x.shape[-2]
        self.a = np.empty(xw.shape)
        self.h = np.empty(xw.shape)
        with np.errstate(**QUIET):
            for t in range(t_len):
                a = xw[..., t, :] + np.matmul(h, _t(u)) + b
                self.a[..., t, :] = a
                h = self.h[..., t, :] = self.activation.apply(a)
        return self.h

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("h")
        u = self.params["weight_hh"]
        if np.shape(dy) != self.h.shape:
            raise ValueError(f"dy must have the output's shape {self.h.shape}, got {np.shape(dy)}")
        da = np.empty(self.h.shape)
        self.dh = np.empty(self.h.shape)
        carry = np.zeros(self.h0.shape)
        with np.errstate(**QUIET):
            for t in reversed(range(self.h.shape[-2])):
                g = self.dh[..., t, :] = dy[..., t, :] + carry
                d = da[..., t, :] = self.activation.grad(self.a[..., t, :], self.h[..., t, :], g)
                carry = np.matmul(d, u)
            self.dh0 = carry
            h_prev = np.concatenate([self.h0[..., None, :], self.h[..., :-1, :]], axis=-2)
            self.grads["weight_hh"] = self._outer(da, h_prev)
            return self._input_grads(da)


class LSTM(RecurrentCell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997) with a forget gate (Gers et al. 2000).

    With ``a_t = x_t W_ih^T + h_{t-1} W_hh^T + b`` split into four blocks (PyTorch's order)::

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g              h_t = o * tanh(c_t)

    Backward through time: ``dc_t = dc_{t+1}-part + dh_t o (1 - tanh(c_t)^2)`` and the cell state
    passes ``dc_t * f_t`` back to ``c_{t-1}``: along the cell state the gradient is multiplied by the
    forget gates only, the "constant error carousel" when ``f = 1``. ``dc`` keeps dL/dc_t.
    """

    gates = 4

    def __init__(self, weight_ih: np.ndarray, weight_hh: np.ndarray, bias: np.ndarray | None = None) -> None:
        super().__init__(weight_ih, weight_hh, {"bias": bias})
        self.dc: np.ndarray | None = None

    def forward(self, x: np.ndarray, ws: Workspace | None = None, *, h0: np.ndarray | None = None,
                c0: np.ndarray | None = None) -> np.ndarray:
        self.x = x = self._check_x(x)
        h = self.h0 = self._state(h0, x, "h0")
        c = self.c0 = self._state(c0, x, "c0")
        u, b, n = self.params["weight_hh"], self._bias("bias"), self.n_hidden
        xw = self._project(x)
        out_shape = xw.shape[:-1] + (n,)
        self.gate = np.empty(xw.shape)      # i, f, g, o after their nonlinearities
        self.c, self.tc, self.h = np.empty(out_shape), np.empty(out_shape), np.empty(out_shape)
        with np.errstate(**QUIET):
            for t in range(x.shape[-2]):
                a = xw[..., t, :] + np.matmul(h, _t(u)) + b
                s = self.gate[..., t, :]
                s[..., :2 * n] = sigmoid(a[..., :2 * n])
                s[..., 2 * n:3 * n] = np.tanh(a[..., 2 * n:3 * n])
                s[..., 3 * n:] = sigmoid(a[..., 3 * n:])
                c = self.c[..., t, :] = s[..., n:2 * n] * c + s[..., :n] * s[..., 2 * n:3 * n]
                tc = self.tc[..., t, :] = np.tanh(c)
                h = self.h[..., t, :] = s[..., 3 * n:] * tc
        return self.h

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("h")
        if np.shape(dy) != self.h.shape:
            raise ValueError(f"dy must have the output's shape {self.h.shape}, got {np.shape(dy)}")
        u, n = self.params["weight_hh"], self.n_hidden
        da = np.empty(self.gate.shape)
        self.dh, self.dc = np.empty(self.h.shape), np.empty(self.h.shape)
        carry_h, carry_c = np.zeros(self.h0.shape), np.zeros(self.c0.shape)
        with np.errstate(**QUIET):
            for t in reversed(range(self.h.shape[-2])):
                s = self.gate[..., t, :]
                i, f, g, o = s[..., :n], s[..., n:2 * n], s[..., 2 * n:3 * n], s[..., 3 * n:]
                c_prev = self.c[..., t - 1, :] if t else self.c0
                tc = self.tc[..., t, :]
                dh = self.dh[..., t, :] = dy[..., t, :] + carry_h
                dc = self.dc[..., t, :] = carry_c + dh * o * (1.0 - tc * tc)
                d = da[..., t, :]
                d[..., :n] = dc * g * i * (1.0 - i)
                d[..., n:2 * n] = dc * c_prev * f * (1.0 - f)
                d[..., 2 * n:3 * n] = dc * i * (1.0 - g * g)
                d[..., 3 * n:] = dh * tc * o * (1.0 - o)
                carry_c = dc * f
                carry_h = np.matmul(d, u)
            self.dh0, self.dc0 = carry_h, carry_c
            h_prev = np.concatenate([self.h0[..., None, :], self.h[..., :-1, :]], axis=-2)
            self.grads["weight_hh"] = self._outer(da, h_prev)
            return self._input_grads(da)


class GRU(RecurrentCell):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's form with two biases::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    (blocks of ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` in the order ``r, z, n``). ``z``
    keeps the old state: with ``z = sigmoid(b_z)`` the state decays like ``sigmoid(b_z)^k`` along the
    direct path, as an LSTM cell state does with its forget gate.
    """

    gates = 3

    def __init__(self, weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray | None = None,
                 bias_hh: np.ndarray | None = None) -> None:
        super().__init__(weight_ih, weight_hh, {"bias_ih": bias_ih, "bias_hh": bias_hh})

    def forward(self, x: np.ndarray, ws: Workspace | None = None, *, h0: np.ndarray | None = None) -> np.ndarray:
        self.x = x = self._check_x(x)
        h = self.h0 = self._state(h0, x, "h0")
        u, n = self.params["weight_hh"], self.n_hidden
        gi = self._project(x) + self._bias("bias_ih")[..., None, :]
        b_hh = self._bias("bias_hh")
        out_shape = gi.shape[:-1] + (n,)
        self.gh = np.empty(gi.shape)        # h W_hh^T + b_hh, needed for r's gradient
        self.gate = np.empty(gi.shape)      # r, z, n after their nonlinearities
        self.h = np.empty(out_shape)
        with np.errstate(**QUIET):
            for t in range(x.shape[-2]):
                gh = self.gh[..., t, :] = np.matmul(h, _t(u)) + b_hh
                s = self.gate[..., t, :]
                s[..., :2 * n] = sigmoid(gi[..., t, :2 * n] + gh[..., :2 * n])
                s[..., 2 * n:] = np.tanh(gi[..., t, 2 * n:] + s[..., :n] * gh[..., 2 * n:])
                z = s[..., n:2 * n]
                h = self.h[..., t, :] = (1.0 - z) * s[..., 2 * n:] + z * h
        return self.h

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("h")
        if np.shape(dy) != self.h.shape:
            raise ValueError(f"dy must have the output's shape {self.h.shape}, got {np.shape(dy)}")
        u, n = self.params["weight_hh"], self.n_hidden
        dgi, dgh = np.empty(self.gate.shape), np.empty(self.gate.shape)
        self.dh = np.empty(self.h.shape)
        carry = np.zeros(self.h0.shape)
        with np.errstate(**QUIET):
            for t in reversed(range(self.h.shape[-2])):
                s, gh = self.gate[..., t, :], self.gh[..., t, :]
                r, z, nn = s[..., :n], s[..., n:2 * n], s[..., 2 * n:]
                h_prev = self.h[..., t - 1, :] if t else self.h0
                dh = self.dh[..., t, :] = dy[..., t, :] + carry
                dan = dh * (1.0 - z) * (1.0 - nn * nn)
                dar = dan * gh[..., 2 * n:] * r * (1.0 - r)
                daz = dh * (h_prev - nn) * z * (1.0 - z)
                gi_t, gh_t = dgi[..., t, :], dgh[..., t, :]
                gi_t[..., :n] = gh_t[..., :n] = dar
                gi_t[..., n:2 * n] = gh_t[..., n:2 * n] = daz
                gi_t[..., 2 * n:] = dan
                gh_t[..., 2 * n:] = dan * r
                carry = dh * z + np.matmul(gh_t, u)
            self.dh0 = carry
            h_prev = np.concatenate([self.h0[..., None, :], self.h[..., :-1, :]], axis=-2)
            self.grads["weight_hh"] = self._outer(dgh, h_prev)
            self.grads["bias_hh"] = self._bias_grad(dgh)
            return self._input_grads(dgi, "bias_ih")


class LastStep(Layer):
    """The hidden state of the last step: ``(..., T, n) -> (..., n)``; backward puts ``dy`` there."""

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        x = _checks.array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have shape (..., T, n), got {x.shape}")
        self.shape = x.shape
        return x[..., -1, :]

    def backward(self, dy: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        self._need_forward("shape")
        dx = np.zeros(self.shape)
        dx[..., -1, :] = dy
        return dx


# --------------------------------------------------------------------------------------------
# Building cells (one, or an ensemble of independent draws)
# --------------------------------------------------------------------------------------------
def _members(ensemble: int | None) -> int:
    return 1 if ensemble is None else _checks.positive_int(ensemble, "ensemble")


def _stack(draws: list[np.ndarray], ensemble: int | None) -> np.ndarray:
    return draws[0] if ensemble is None else np.stack(draws)


def _input_weights(rows: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((rows, n_in)) / math.sqrt(n_in)   # LeCun normal, Var = 1/n_in


def _gate_blocks(kind: str, gates: int, n: int, rng: np.random.Generator, rho: float) -> np.ndarray:
    return np.concatenate([recurrent_matrix(kind, n, rng, spectral_radius=rho) for _ in range(gates)])


def simple_rnn(n_in: int, n_hidden: int, rng: np.random.Generator, *, recurrent: str = "orthogonal",
               spectral_radius: float = 1.0, activation: str = "tanh", ensemble: int | None = None) -> SimpleRNN:
    """A :class:`SimpleRNN` with LeCun-normal input weights (Var = 1/n_in), zero bias and a recurrent
    matrix from :func:`recurrent_matrix` (``recurrent``, ``spectral_radius``); ``ensemble=E`` stacks
    ``E`` independent draws."""
    n_in, n_hidden = _checks.positive_int(n_in, "n_in"), _checks.positive_int(n_hidden, "n_hidden")
    _checks.choice(recurrent, "recurrent", RECURRENT_KINDS)
    rho = _checks.finite_float(spectral_radius, "spectral_radius", positive=True)
    get_activation(activation)
    rng = _checks.generator(rng)
    w_ih, w_hh = [], []
    for _ in range(_members(ensemble)):
        w_ih.append(_input_weights(n_hidden, n_in, rng))
        w_hh.append(recurrent_matrix(recurrent, n_hidden, rng, spectral_radius=rho))
    w_ih, w_hh = _stack(w_ih, ensemble), _stack(w_hh, ensemble)
    return SimpleRNN(w_ih, w_hh, np.zeros(w_ih.shape[:-1]), activation=activation)


def lstm(n_in: int, n_hidden: int, rng: np.random.Generator, *, forget_bias: float | str = 1.0,
         t_max: float | None = None, recurrent: str = "orthogonal", spectral_radius: float = 1.0,
         ensemble: int | None = None) -> LSTM:
    """An :class:`LSTM` with LeCun-normal input weights, one :func:`recurrent_matrix` per gate block
    (as Flax's ``LSTMCell``) and the bias of :func:`lstm_bias` (``forget_bias`` 1, 0 or ``"chrono"``)."""
    n_in, n_hidden = _checks.positive_int(n_in, "n_in"), _checks.positive_int(n_hidden, "n_hidden")
    _checks.choice(recurrent, "recurrent", RECURRENT_KINDS)
    rho = _checks.finite_float(spectral_radius, "spectral_radius", positive=True)
    rng = _checks.generator(rng)
    w_ih, w_hh, b = [], [], []
    for _ in range(_members(ensemble)):
        w_ih.append(_input_weights(4 * n_hidden, n_in, rng))
        w_hh.append(_gate_blocks(recurrent, 4, n_hidden, rng, rho))
        b.append(lstm_bias(n_hidden, rng, forget_bias=forget_bias, t_max=t_max))
    return LSTM(_stack(w_ih, ensemble), _stack(w_hh, ensemble), _stack(b, ensemble))


def gru(n_in: int, n_hidden: int, rng: np.random.Generator, *, update_bias: float = 0.0,
        recurrent: str = "orthogonal", spectral_radius: float = 1.0, ensemble: int | None = None) -> GRU:
    """A :class:`GRU` with LeCun-normal input weights, one :func:`recurrent_matrix` per gate block,
    and zero biases except ``b_iz = update_bias`` (the gate that keeps the old state)."""
    n_in, n_hidden = _checks.positive_int(n_in, "n_in"), _checks.positive_int(n_hidden, "n_hidden")
    _checks.choice(recurrent, "recurrent", RECURRENT_KINDS)
    rho = _checks.finite_float(spectral_radius, "spectral_radius", positive=True)
    bz = _checks.finite_float(update_bias, "update_bias")
    rng = _checks.generator(rng)
    w_ih, w_hh, b = [], [], []
    for _ in range(_members(ensemble)):
        w_ih.append(_input_weights(3 * n_hidden, n_in, rng))
        w_hh.append(_gate_blocks(recurrent, 3, n_hidden, rng, rho))
        bias = np.zeros(3 * n_hidden)
        bias[n_hidden:2 * n_hidden] = bz
        b.append(bias)
    w_ih = _stack(w_ih, ensemble)
    return GRU(w_ih, _stack(w_hh, ensemble), _stack(b, ensemble), np.zeros(w_ih.shape[:-1]))


def make_cell(cell: str, n_in: int, n_hidden: int, rng: np.random.Generator, **kwargs) -> RecurrentCell:
    """:func:`simple_rnn`, :func:`lstm` or :func:`gru` by name (``cell`` one of ``CELLS``)."""
    _checks.choice(cell, "cell", CELLS)
    return {"rnn": simple_rnn, "lstm": lstm, "gru": gru}[cell](n_in, n_hidden, rng, **kwargs)
