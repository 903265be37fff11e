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


def columns(name: str, table, wanted) -> None:
    """Check that the DataFrame ``table`` has every column in ``wanted`` (None entries, optional
    columns left out, are skipped); KeyError naming the first missing one and the columns it has."""
    for column in wanted:
        if column is not None and column not in table.columns:
            raise KeyError(f"{name} has no column {column!r}; columns: {list(table.columns)}")


def images_for_model(model, images):
    """``images`` as a float32 array (N, ...) after checking that they fit ``model``'s input shape
    (a Keras model); ValueError saying what the model takes, and the likely fix, otherwise."""
    import numpy as np

    images = np.asarray(images, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if images.shape[1:] != expected:
        hint = (" A single image needs a batch axis: images[None]." if images.shape == expected
                else " Is this the dataset the model was built for?")
        raise ValueError(
            f"{model.name!r} takes images of shape (N, {', '.join(map(str, expected))}); got {images.shape}.{hint}"
        )
    return images
