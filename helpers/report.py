"""Numbers in the prose come from the code: glue them at a fixed precision and assert the claims.

:func:`glue` stores a value for MyST-NB's ``{glue}`` roles, formatted so that the notebook's text
output is stable (nbval compares it), and :func:`check` turns a claim in the prose into an assertion
with a message a reader can act on.
"""

from __future__ import annotations

import math
from numbers import Real


class Formatted:
    """A number that represents itself with a fixed format (so glued text is reproducible)."""

    def __init__(self, value: object, fmt: str):
        self.value = value
        self.fmt = fmt

    def __repr__(self) -> str:
        # A quoted string: MyST-NB's {glue:text} passes text/plain through ast.literal_eval, which
        # would turn an unquoted "0.40" into 0.4 and "1e+07" into 10000000.0; a string literal
        # comes back exactly as formatted (and a format spec in the role still applies).
        return repr(self.fmt.format(self.value))


def glue(name: str, value: object, fmt: str = "{:.3g}") -> None:
    """Glue ``value`` under ``name`` for the book (``{glue:text}`name```), formatted with ``fmt``.

    The glued text is exactly ``fmt.format(value)``, so it is the same on every machine as long as
    the value is stable to the printed precision. Nothing is displayed in the notebook.
    """
    from myst_nb import glue as _glue  # imported lazily: only notebooks need MyST-NB

    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format string such as '{{:.2f}}', got {type(fmt).__name__}")
    try:  # fail here, with a clear message, rather than inside the notebook's display machinery
        fmt.format(value)
    except (ValueError, TypeError, IndexError, KeyError) as err:
        raise ValueError(f"fmt {fmt!r} cannot format {value!r}: {err}") from None
    _glue(name, Formatted(value, fmt), display=False)
    return None


def check(condition: bool, claim: str) -> None:
    """Raise ``AssertionError("claim does not hold: ...")`` unless ``condition`` is true."""
    if not isinstance(claim, str) or not claim:
        raise ValueError(f"claim must be a non-empty sentence saying what is checked, got {claim!r}")
    if not condition:
        raise AssertionError(f"claim does not hold: {claim}")


def check_close(actual: float, expected: float, *, rtol: float = 0.0, atol: float = 0.0, claim: str = "") -> None:
    """Assert ``|actual - expected| <= max(atol, rtol * max(|actual|, |expected|))`` (``math.isclose``).

    NaN never passes. Fails with the claim, both values and the tolerances in the message.
    """
    for tol, label in ((rtol, "rtol"), (atol, "atol")):
        if isinstance(tol, bool) or not isinstance(tol, Real) or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{label} must be a finite number >= 0, got {tol!r}")
    if not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        raise AssertionError(
            f"claim does not hold: {claim or 'values agree'} (got {actual!r}, expected {expected!r}, "
            f"rtol={rtol}, atol={atol})"
        )
