"""Argument checks shared by the package's public functions: a wrong argument fails at once with
a message naming the argument, the value it got and what is valid -- never deep inside
TensorFlow or numpy."""

from __future__ import annotations

import numbers


def count(name: str, value, *, minimum: int = 1, allow_none: bool = False):
    """``value`` as an int >= ``minimum`` (None passes through when ``allow_none``); TypeError or
    ValueError naming ``name`` otherwise.  Booleans and floats are refused (2.5 images is a typo)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        valid = f"an integer >= {minimum}" + (" or None" if allow_none else "")
        raise TypeError(f"{name} must be {valid}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def fraction(name: str, value, *, low: float = 0.0, high: float = 1.0, inclusive: bool = False) -> float:
    """``value`` as a float strictly between ``low`` and ``high`` (or within them when ``inclusive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    ok = low <= value <= high if inclusive else low < value < high
    if not ok:
        bounds = f"[{low}, {high}]" if inclusive else f"({low}, {high})"
        raise ValueError(f"{name} must lie in {bounds}, got {value}")
    return float(value)


def choice(name: str, value, valid):
    """``value`` if it is one of ``valid``; ValueError listing them otherwise."""
    valid = list(valid)
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")
    return value
