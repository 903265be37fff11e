"""Lesson 04's exercises: the next step after the blocks the lesson shows -- a residual block whose
shortcut needs a 1×1 projection, an inception block with a third (pooling) branch -- checked on
their layers, shape and parameters, and where Inception's extra parameters come from."""

from __future__ import annotations

import re

from . import Exercise, Incorrect, call_learner

_SHAPE = re.compile(r"\((?:None, )?(\d+), (\d+), (\d+)\)")


def _mismatch(err: Exception) -> tuple[bool, bool] | None:
    """For Keras' "incompatible shapes" errors of Add and Concatenate: (heights/widths differ,
    channels differ); None for any other error, or a message whose shapes cannot be read."""
    first = str(err).splitlines()[0] if str(err) else ""
    shapes = [tuple(map(int, m)) for m in _SHAPE.findall(first)]
    if "shape" not in first or len(shapes) < 2:
        return None
    return len({s[:2] for s in shapes}) > 1, len({s[2] for s in shapes}) > 1


def _apply(block, name: str, input_shape, on_mismatch, **kwargs):
    """Apply the learner's ``block(x, **kwargs)`` to an Input; return (input, output, model).

    ``on_mismatch(spatial, channels)`` gives the message when two tensors the block joins do
    not fit (Keras raises at the Add or Concatenate)."""
    import keras

    inputs = keras.Input(shape=input_shape)
    arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    try:
        outputs = call_learner(block, inputs, **kwargs)
    except (TypeError, ValueError) as err:
        mismatch = _mismatch(err)
        if mismatch is not None:
            raise Incorrect(on_mismatch(*mismatch)) from None
        first = str(err).splitlines()[0] if str(err) else ""
        raise Incorrect(f"{name}(x, {arguments}) raised {type(err).__name__}: {first[:150]}") from None
    if not isinstance(outputs, keras.KerasTensor):
        raise Incorrect(f"{name} should return the block's output tensor (what the last layer returns); "
                        f"it returned a {type(outputs).__name__}.")
    return inputs, outputs, keras.Model(inputs, outputs)


def _layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def _producer(model, tensor):
    """The layer of ``model`` whose output is ``tensor`` (None for the model's input)."""
    return next((layer for layer in model.layers if layer.output is tensor), None)


# ----------------------------------------------------------------------------- q1
Q1_INPUT, Q1_FILTERS = (14, 14, 32), 64


def _q1_mismatch(spatial: bool, channels: bool) -> str:
    if spatial:
        return ("the tensors you add differ in height and width: with padding='valid' a 2×2 convolution "
                "shrinks the map; padding='same' keeps it.")
    return ("the tensors you add have different numbers of channels: x has as many as the block's input, "
            "the convolutions' output as many as `filters`. Add needs the same shape on both sides, so the "
            "shortcut must change x's channel count first.")


def _check_q1(residual_block):
    import keras

    inputs, outputs, model = _apply(residual_block, "residual_block", Q1_INPUT, _q1_mismatch,
                                    filters=Q1_FILTERS, kernel_size=2)
    adds = _layers_of(model, keras.layers.Add)
    if not adds:
        raise Incorrect("there is no Add layer: a residual block adds its shortcut to the output of its "
                        "convolutions.")
    if outputs.shape[-1] != Q1_FILTERS:
        raise Incorrect(f"the block outputs {outputs.shape[-1]} channels when called with filters={Q1_FILTERS}: "
                        "every convolution in it should have `filters` filters.")
    if tuple(outputs.shape[1:3]) != tuple(inputs.shape[1:3]):
        raise Incorrect("the block changes the height and width: this one only changes the channel count "
                        "(no pooling or stride inside it).")
    shortcut = [_producer(model, t) for t in adds[-1].input]
    from_x = [layer for layer in shortcut if layer is not None and layer.input is inputs]
    if not from_x:
        raise Incorrect("neither input of the Add comes straight from x through one layer: the shortcut is "
                        "x → a 1×1 convolution → Add, beside the Conv → BatchNorm → ReLU → Conv branch.")
    projection = from_x[0]
    if not isinstance(projection, keras.layers.Conv2D):
        raise Incorrect(f"the shortcut is a {type(projection).__name__}; make it a convolution, "
                        "keras.layers.Conv2D(filters, 1) (on a map, a Dense acts on each pixel's channels alone, "
                        "as a 1×1 convolution does, but a convolutional network writes it as one).")
    if tuple(projection.kernel_size) != (1, 1):
        raise Incorrect("the shortcut's convolution should be 1×1: it only has to turn each pixel's channels "
                        "into `filters` channels, without looking at its neighbours (a larger kernel makes it "
                        "a second branch).")
    branch = [c for c in _layers_of(model, keras.layers.Conv2D) if c is not projection]
    if len(branch) != 2 or any(tuple(c.kernel_size) != (2, 2) for c in branch):
        raise Incorrect("besides the shortcut, the block should have two convolutions of kernel_size (2×2 here), "
                        "like the lesson's Residual model.")
    if not _layers_of(model, keras.layers.BatchNormalization):
        raise Incorrect("the lesson's block normalises between its convolutions: Conv → BatchNorm → ReLU → Conv.")
    c_in = Q1_INPUT[-1]
    expected = ((2 * 2 * c_in + 1) * Q1_FILTERS + 4 * Q1_FILTERS + (2 * 2 * Q1_FILTERS + 1) * Q1_FILTERS
                + (c_in + 1) * Q1_FILTERS)      # branch (conv, BatchNorm's four numbers per channel, conv) + projection
    if model.count_params() != expected:
        raise Incorrect("the parameter count is not that of Conv → BatchNorm → ReLU → Conv plus a 1×1 "
                        "convolution on the shortcut: is there an extra layer with weights, or a convolution "
                        "without its bias?")


q1 = Exercise(
    name="q1", lesson="04", variables=("residual_block",), checker=_check_q1,
    purpose="a residual block whose shortcut needs a 1×1 projection, because the block changes the channel count",
    expected="the 1×1 convolution gives x the branch's channel count, so the two can be added; unlike the "
             "identity shortcut it has weights of its own (one per input channel per filter, and a bias).",
    cost="seconds (no training)",
    hints=("Adding x as it is fails: x has 32 channels and the branch 64. What layer turns 32 channels into 64 "
           "at every pixel, without mixing neighbouring pixels?",
           "keras.layers.Conv2D(filters, 1) applied to x is the shortcut; the branch is the lesson's "
           "Conv → BatchNormalization → ReLU → Conv with padding='same'.",
           "shortcut = keras.layers.Conv2D(filters, 1)(x), then return keras.layers.Add()([y, shortcut])."),
    solution_code="import keras\n\n"
                  "def residual_block(x, filters=64, kernel_size=2):\n"
                  "    y = keras.layers.Conv2D(filters, kernel_size, padding=\"same\")(x)\n"
                  "    y = keras.layers.BatchNormalization()(y)\n"
                  "    y = keras.layers.ReLU()(y)\n"
                  "    y = keras.layers.Conv2D(filters, kernel_size, padding=\"same\")(y)\n"
                  "    shortcut = keras.layers.Conv2D(filters, 1)(x)   # 1x1: x's channels -> filters channels\n"
                  "    return keras.layers.Add()([y, shortcut])",
)


# ----------------------------------------------------------------------------- q2
Q2_INPUT, Q2_FILTERS = (14, 14, 64), 32


def _q2_mismatch(spatial: bool, channels: bool) -> str:
    return ("the branches' maps differ in height and width, so they cannot be concatenated: every convolution "
            "needs padding='same', and a pooling layer that keeps the size needs strides=1 as well "
            "(MaxPooling2D's strides default to its pool size). The 2×2 and 3×3 branches here leave out the "
            "stage's MaxPooling2D(2) and Dropout.")


def _check_q2(inception_block):
    import keras

    inputs, outputs, model = _apply(inception_block, "inception_block", Q2_INPUT, _q2_mismatch,
                                    filters=Q2_FILTERS)
    concats = _layers_of(model, keras.layers.Concatenate)
    if not concats:
        raise Incorrect("there is no Concatenate layer: an inception block runs branches side by side and "
                        "stacks their outputs on the channel axis.")
    if len(concats[-1].input) != 3:
        raise Incorrect(f"the Concatenate joins {len(concats[-1].input)} branches; this block has three: the "
                        "lesson's 2×2 and 3×3 branches, and a pooling branch.")
    pools = _layers_of(model, keras.layers.MaxPooling2D)
    if not pools:
        raise Incorrect("there is no MaxPooling2D: the third branch starts with a 3×3 max-pooling of x.")
    pool = pools[0]
    if tuple(pool.pool_size) != (3, 3):
        raise Incorrect("the pooling branch takes the maximum over a 3×3 window (pool_size=3).")
    if tuple(outputs.shape[1:3]) != tuple(inputs.shape[1:3]):
        raise Incorrect("the block changes the height and width: padding='same' everywhere, and strides=1 on "
                        "the pooling, keep them.")
    if outputs.shape[-1] != 3 * Q2_FILTERS:
        raise Incorrect(f"the block outputs {outputs.shape[-1]} channels with filters={Q2_FILTERS}: each branch "
                        "should end with `filters` channels. Max-pooling keeps x's channels; a 1×1 convolution "
                        "after it sets how many the pooling branch hands on.")
    convs = _layers_of(model, keras.layers.Conv2D)
    kernels = sorted(tuple(c.kernel_size) for c in convs)
    if kernels != [(1, 1), (2, 2), (2, 2), (3, 3), (3, 3)]:
        raise Incorrect("the block should have the lesson's two branches (two 2×2 convolutions; two 3×3 "
                        "convolutions) and one 1×1 convolution in the pooling branch.")
    one_by_one = next(c for c in convs if tuple(c.kernel_size) == (1, 1))
    if _producer(model, one_by_one.input) is not pool or pool.input is not inputs:
        raise Incorrect("the pooling branch is x → MaxPooling2D → 1×1 convolution: pool x first, then let the "
                        "1×1 convolution choose the channels.")
    c_in, f = Q2_INPUT[-1], Q2_FILTERS
    expected = sum((k * k * c + 1) * f for k, c in [(2, c_in), (2, f), (3, c_in), (3, f), (1, c_in)])
    if model.count_params() != expected:
        raise Incorrect("the parameter count is not that of the three branches alone: is there an extra layer "
                        "with weights, or a convolution without its bias?")


q2 = Exercise(
    name="q2", lesson="04", variables=("inception_block",), checker=_check_q2,
    purpose="add a third branch to the Inception model's block: max-pooling, then a 1×1 convolution",
    expected="the pooling branch costs only its 1×1 convolution; the block hands on three times `filters` "
             "channels, and the next block's convolutions read all of them.",
    cost="seconds (no training)",
    hints=("Start from the lesson's two branches (Conv → Conv → ReLU, 2×2 and 3×3, padding='same', without "
           "the stage's pooling and dropout) and add a third branch from the same x; Concatenate the three.",
           "keras.layers.MaxPooling2D(3) shrinks the map, because its strides default to its pool size: "
           "MaxPooling2D(3, strides=1, padding='same') keeps 14×14.",
           "Third branch: p = MaxPooling2D(3, strides=1, padding='same')(x), then "
           "Conv2D(filters, 1)(p) and a ReLU."),
    solution_code="import keras\n\n"
                  "def inception_block(x, filters=32):\n"
                  "    branches = []\n"
                  "    for k in (2, 3):\n"
                  "        b = keras.layers.Conv2D(filters, k, padding=\"same\")(x)\n"
                  "        b = keras.layers.Conv2D(filters, k, padding=\"same\")(b)\n"
                  "        branches.append(keras.layers.ReLU()(b))\n"
                  "    p = keras.layers.MaxPooling2D(3, strides=1, padding=\"same\")(x)   # keeps 14x14\n"
                  "    p = keras.layers.Conv2D(filters, 1)(p)                           # x's channels -> filters\n"
                  "    branches.append(keras.layers.ReLU()(p))\n"
                  "    return keras.layers.Concatenate()(branches)   # 3 x filters channels",
)


# ----------------------------------------------------------------------------- q3
Q3_CHOICES = ("3x3 convolutions", "2x2 convolutions", "dense layer")


def _check_q3(biggest_share):
    if biggest_share not in Q3_CHOICES:
        raise Incorrect(f"answer with one of {', '.join(map(repr, Q3_CHOICES))}.")
    if biggest_share == "dense layer":
        raise Incorrect("the first dense layer does grow (each of its 128 units reads 3×3×64 numbers instead of "
                        "3×3×32), but add up the 3×3 convolutions: Sequential has none, so all of them are extra, "
                        "in every stage.")
    if biggest_share == "2x2 convolutions":
        raise Incorrect("the 2×2 branch is Sequential's own: of its convolutions only the first of stages 2 and "
                        "3 grew, as it reads 64 channels instead of 32, at 4 weights per channel per filter. "
                        "A 3×3 kernel has 9, and all of the 3×3 convolutions are extra.")


q3 = Exercise(
    name="q3", lesson="04", variables=("biggest_share",), checker=_check_q3,
    purpose="explain a parameter count: where Inception's extra parameters sit, by kind of layer",
    expected="the 3×3 convolutions: Sequential has none, so every one of them is extra; the first dense "
             "layer's growth comes next, the 2×2 convolutions' last.",
    cost="seconds (no training)",
    hints=("Inception is Sequential (its 2×2 branch) plus a 3×3 branch in every stage. Which layers are new, "
           "and which are Sequential's own layers that grew?",
           "A convolution's weights per filter = kernel height × width × input channels. The 2×2 convolutions "
           "grew only where they read 64 channels; the 3×3 ones are new everywhere.",
           "Count them: sum(layer.count_params() for layer in built['Inception'].layers if "
           "isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3))."),
    solution_code="biggest_share = \"3x3 convolutions\"   # all of them are extra, at 9 weights per input channel",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
