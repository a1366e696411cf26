"""Numbers in the prose come from the code: glue them at a fixed precision and assert the claims.

:func:`glue` stores a value for MyST-NB's ``{glue}`` roles, formatted so that the notebook's text
output is stable (nbval compares it), and :func:`check` turns a claim in the prose into an assertion
with a message a reader can act on.
"""

from __future__ import annotations

import math


class Formatted:
    """A number that represents itself with a fixed format (so glued text is reproducible)."""

    def __init__(self, value: object, fmt: str):
        self.value = value
        self.fmt = fmt

    def __repr__(self) -> str:
        return self.fmt.format(self.value)


def glue(name: str, value: object, fmt: str = "{:.3g}") -> None:
    """Glue ``value`` under ``name`` for the book (``{glue:text}`name```), formatted with ``fmt``.

    The glued text is exactly ``fmt.format(value)``, so it is the same on every machine as long as
    the value is stable to the printed precision. Nothing is displayed in the notebook.
    """
    from myst_nb import glue as _glue  # imported lazily: only notebooks need MyST-NB

    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    _glue(name, Formatted(value, fmt), display=False)
    return None


def check(condition: bool, claim: str) -> None:
    """Raise ``AssertionError("claim does not hold: ...")`` unless ``condition`` is true."""
    if not condition:
        raise AssertionError(f"claim does not hold: {claim}")


def check_close(actual: float, expected: float, *, rtol: float = 0.0, atol: float = 0.0, claim: str = "") -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|``, naming the claim when it fails."""
    if not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        raise AssertionError(
            f"claim does not hold: {claim or 'values agree'} (got {actual!r}, expected {expected!r}, "
            f"rtol={rtol}, atol={atol})"
        )
