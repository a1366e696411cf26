"""Input validation shared by the public helpers.

Every public function checks its arguments with these so that a reader who passes a bad value
gets an error naming the parameter and what is allowed, not a traceback from deep inside numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np


def positive_int(value: object, name: str, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int, or raise if it is not a (strictly) positive integer."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        allowed = "a non-negative integer" if allow_zero else "a positive integer"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)


def finite_float(value: object, name: str, *, positive: bool = False, non_negative: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real (with the sign asked for)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if non_negative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def rate(value: object, name: str) -> float:
    """Return ``value`` as a float in ``[0, 1)``: a drop rate, which must leave something to keep."""
    value = finite_float(value, name, non_negative=True)
    if value >= 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def choice(value: object, name: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` strings, else raise naming the options."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def shape_tuple(shape: object, name: str = "shape", *, min_dims: int = 1) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of positive ints with at least ``min_dims`` entries."""
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise TypeError(f"{name} must be a tuple of positive integers, got {shape!r}")
    dims = tuple(positive_int(s, f"{name}[{i}]") for i, s in enumerate(shape))
    if len(dims) < min_dims:
        raise ValueError(f"{name} must have at least {min_dims} dimensions, got {dims}")
    return dims


def generator(rng: object, name: str = "rng") -> np.random.Generator:
    """Insist on a ``numpy.random.Generator`` so that every draw in the book is seeded explicitly."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (for example np.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def float_dtype(dtype: object, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as float32 or float64, the two precisions the book compares."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be float32 or float64, got {dtype!r}")
    return dt


def array(value: object, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a numeric ndarray, checking its number of dimensions."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    return arr
