"""Lesson 04's exercises: write a residual block and an inception block that pass a shape and
parameter check, and say where Inception's extra parameters come from."""

from __future__ import annotations

from . import Exercise, Incorrect, call_learner


def _apply(block, name: str, input_shape=(14, 14, 32), **kwargs):
    """Apply the learner's ``block(x, **kwargs)`` to an Input; return (input, output, model)."""
    import keras

    inputs = keras.Input(shape=input_shape)
    try:
        outputs = call_learner(block, inputs, **kwargs)
    except (TypeError, ValueError) as err:
        first = str(err).splitlines()[0]
        if "shape" in first and ("Concatenate" in first or "Add" in first or "match" in first):
            raise Incorrect(f"{name}: the tensors you join do not have matching shapes. With padding='valid' "
                            "every convolution shrinks the map (by a different amount for 2×2 and 3×3); "
                            "padding='same' keeps the height and width.") from None
        raise Incorrect(f"{name}(x, filters=32) raised {type(err).__name__}: {first[:150]}") from None
    if not isinstance(outputs, keras.KerasTensor):
        raise Incorrect(f"{name} should return the block's output tensor (what the last layer returns); "
                        f"it returned a {type(outputs).__name__}.")
    return inputs, outputs, keras.Model(inputs, outputs)


def _layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def _check_q1(residual_block):
    import keras

    inputs, outputs, model = _apply(residual_block, "residual_block", filters=32, kernel_size=2)
    adds = _layers_of(model, keras.layers.Add)
    if not adds:
        raise Incorrect("there is no Add layer: a residual block adds its input to the output of its "
                        "convolutions.")
    add_inputs = adds[-1].input
    if not any(t is inputs for t in add_inputs):
        raise Incorrect("the Add layer does not receive the block's input: the shortcut must carry x itself, "
                        "unchanged, to the Add.")
    convs = _layers_of(model, keras.layers.Conv2D)
    if len(convs) != 2 or any(tuple(c.kernel_size) != (2, 2) for c in convs):
        raise Incorrect("the block should have two convolutions of kernel_size (2×2 here), like the "
                        "lesson's Residual model.")
    if any(c.padding != "same" for c in convs):
        raise Incorrect("with 'valid' padding a 2×2 convolution shrinks the map, and the shortcut no longer "
                        "fits: use padding='same'.")
    if not _layers_of(model, keras.layers.BatchNormalization):
        raise Incorrect("the lesson's block normalises between its convolutions: Conv → BatchNorm → ReLU → Conv.")
    if tuple(outputs.shape[1:]) != tuple(inputs.shape[1:]):
        raise Incorrect(f"the block turns a {tuple(inputs.shape[1:])} input into {tuple(outputs.shape[1:])}: "
                        "a residual block keeps the shape, so that input and output can be added.")
    expected = 2 * (2 * 2 * 32 + 1) * 32 + 4 * 32      # two convolutions + BatchNorm's four numbers per channel
    if model.count_params() != expected:
        raise Incorrect("the parameter count is not that of Conv → BatchNorm → ReLU → Conv + shortcut with 32 "
                        "filters: is there an extra layer, or a Dense?")


q1 = Exercise(
    name="q1", lesson="04", variables=("residual_block",), checker=_check_q1,
    purpose="write the Residual model's block in the functional API",
    expected="the shortcut costs no parameters: the block's output has the input's shape, so the two add.",
    cost="seconds (no training)",
    hints=("Start from y = keras.layers.Conv2D(filters, kernel_size, padding='same')(x), and so on; "
           "end with keras.layers.Add()([y, x]).",
           "Conv → BatchNormalization → ReLU → Conv, then Add the block's input x to the result.",
           "models.build_residual_cnn in cnncourse/models.py does it for a whole model: "
           "look at _residual_branch."),
    solution_code="import keras\n\n"
                  "def residual_block(x, filters=32, kernel_size=2):\n"
                  "    y = keras.layers.Conv2D(filters, kernel_size, padding=\"same\")(x)\n"
                  "    y = keras.layers.BatchNormalization()(y)\n"
                  "    y = keras.layers.ReLU()(y)\n"
                  "    y = keras.layers.Conv2D(filters, kernel_size, padding=\"same\")(y)\n"
                  "    return keras.layers.Add()([y, x])     # the shortcut: x itself",
)


def _check_q2(inception_block):
    import keras

    inputs, outputs, model = _apply(inception_block, "inception_block", filters=32)
    concats = _layers_of(model, keras.layers.Concatenate)
    if not concats:
        raise Incorrect("there is no Concatenate layer: an inception block runs branches side by side and "
                        "stacks their outputs on the channel axis.")
    kernels = {tuple(c.kernel_size) for c in _layers_of(model, keras.layers.Conv2D)}
    if kernels != {(2, 2), (3, 3)}:
        raise Incorrect("the lesson's block has one branch of 2×2 and one of 3×3 convolutions.")
    if tuple(outputs.shape[1:3]) != tuple(inputs.shape[1:3]):
        raise Incorrect("the branches change the height and width, so they cannot be concatenated: use "
                        "padding='same'.")
    if outputs.shape[-1] != 64:
        raise Incorrect(f"the block outputs {outputs.shape[-1]} channels: two branches of 32 filters, "
                        "stacked, make twice as many.")
    expected = (2 * 2 * 32 + 1) * 32 * 2 + (3 * 3 * 32 + 1) * 32 * 2
    if model.count_params() != expected:
        raise Incorrect("the parameter count is not two convolutions per branch: does each branch have "
                        "Conv → Conv → ReLU, with nothing else that has weights?")


q2 = Exercise(
    name="q2", lesson="04", variables=("inception_block",), checker=_check_q2,
    purpose="write the Inception model's block in the functional API",
    expected="two branches of 32 filters, concatenated, make 64 channels: the next block's convolutions "
             "read twice the channels, which is where Inception's extra parameters go.",
    cost="seconds (no training)",
    hints=("Build two branches from the same x, one with kernel_size 2 and one with 3, and join them with "
           "keras.layers.Concatenate()([a, b]).",
           "Each branch: Conv2D(filters, k, padding='same') → Conv2D(filters, k, padding='same') → ReLU.",
           "models.build_inception_cnn in cnncourse/models.py builds three such blocks (with pooling and "
           "dropout in each branch, which this exercise leaves out)."),
    solution_code="import keras\n\n"
                  "def inception_block(x, filters=32):\n"
                  "    branches = []\n"
                  "    for k in (2, 3):\n"
                  "        b = keras.layers.Conv2D(filters, k, padding=\"same\")(x)\n"
                  "        b = keras.layers.Conv2D(filters, k, padding=\"same\")(b)\n"
                  "        branches.append(keras.layers.ReLU()(b))\n"
                  "    return keras.layers.Concatenate()(branches)   # 2 x filters channels",
)


def _check_q3(biggest_share):
    choices = ("3x3 convolutions", "2x2 convolutions", "dense layer")
    if biggest_share not in choices:
        raise Incorrect(f"answer with one of {', '.join(map(repr, choices))}.")
    if biggest_share == "dense layer":
        raise Incorrect("the first dense layer does grow (it reads 3×3×64 numbers instead of 3×3×32), but "
                        "look at what the convolutions of stages 2 and 3 read, and how many weights a 3×3 "
                        "kernel has per input channel.")
    if biggest_share == "2x2 convolutions":
        raise Incorrect("both branches read the 64 concatenated channels, but a 2×2 kernel has 4 weights "
                        "per input channel and a 3×3 one 9.")


q3 = Exercise(
    name="q3", lesson="04", variables=("biggest_share",), checker=_check_q3,
    purpose="explain a parameter count: where Inception's extra parameters sit",
    expected="the 3×3 convolutions that read the 64 concatenated channels hold most of the extra "
             "parameters; the dense layer the rest.",
    cost="seconds (no training)",
    hints=("The lesson prints how Inception's extra parameters split between its convolutions and its dense "
           "layer; this asks which kind of convolution takes most of the convolutions' share.",
           "A convolution's weights per filter = kernel height × width × input channels: compare 2×2 and 3×3 "
           "on the same 64 input channels."),
    solution_code="biggest_share = \"3x3 convolutions\"   # 9 weights per input channel, on 64 channels",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
