"""Lesson 01's exercises: shapes and parameter counts by hand, and a Dense-on-a-feature-map fix without Flatten."""

from __future__ import annotations

import numpy as np

from . import Exercise, Incorrect, call_learner, whole_number


def _four_conv_conv4():
    """Model 3 with a fourth unpadded 3x3 convolution of 128 filters: its conv4 layer."""
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1))] + [
        keras.layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}")
        for i, filters in enumerate((32, 64, 64, 128), start=1)])
    layer = model.get_layer("conv4")
    return tuple(layer.output.shape[1:]), layer.count_params(), layer


def _check_q1(conv4_shape, conv4_params):
    shape, params, layer = _four_conv_conv4()
    try:
        given = tuple(int(d) for d in conv4_shape)
    except (TypeError, ValueError):
        raise Incorrect("conv4_shape should be three numbers: (height, width, channels).") from None
    if len(given) != 3:
        raise Incorrect(f"conv4_shape has {len(given)} numbers; give (height, width, channels), "
                        "without the batch axis.")
    if given[2] != shape[2]:
        raise Incorrect("the channels are not right: a convolution outputs one channel per filter.")
    if given[:2] != shape[:2]:
        raise Incorrect("the height and width are not right: each 3×3 'valid' convolution (no padding) "
                        "trims one pixel from every border, and the input is 28×28.")
    kh, kw = layer.kernel_size
    filters = layer.filters
    channels_in = layer.input.shape[-1]
    whole_number("conv4_params", conv4_params)
    if conv4_params == params - filters:
        raise Incorrect("almost: every filter also has one bias.")
    if conv4_params == (kh * kw + 1) * filters:
        raise Incorrect("a filter has a weight for every input channel at every kernel position, "
                        "not one per position.")
    if conv4_params == (kh * kw * channels_in + 1) * channels_in and channels_in != filters:
        raise Incorrect("count the filters of conv4 itself, not of the layer before.")
    if conv4_params != params:
        raise Incorrect("not the number of parameters of conv4: (kernel height × width × input channels "
                        "+ 1 bias) per filter, times the filters.")


q1 = Exercise(
    name="q1", lesson="01", variables=("conv4_shape", "conv4_params"), checker=_check_q1,
    purpose="read a convolution's output shape and parameter count without running it",
    expected="the shape shrinks by 2 per 3×3 'valid' convolution, and a filter has a weight per "
             "input channel and kernel position, plus one bias.",
    cost="seconds (no training)",
    hints=("The convolutions are conv1 (32 filters) → conv2 (64) → conv3 (64) → conv4 (128), all 3×3 and "
           "unpadded, on a 28×28×1 image. Work out the shape after each of them.",
           "A 3×3 unpadded convolution turns H×W into (H−2)×(W−2). conv4 reads conv3's output, whose "
           "channels are conv3's filters.",
           "Parameters of a conv layer = (kernel height × kernel width × input channels + 1) × filters."),
    solution_code="conv4_shape = (20, 20, 128)              # 28 -> 26 -> 24 -> 22 -> 20; 128 filters\n"
                  "conv4_params = (3 * 3 * 64 + 1) * 128    # 73,856",
)


def _dense_after_pooling(pool_size):
    """Model 1's first Dense(128) when its pooling has ``pool_size`` (None: no pooling)."""
    import keras

    stack = [keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(32, 3), keras.layers.Conv2D(64, 3)]
    if pool_size:
        stack.append(keras.layers.MaxPooling2D(pool_size))
    stack += [keras.layers.Flatten(), keras.layers.Dense(128, name="dense")]
    return keras.Sequential(stack).get_layer("dense")


def _check_q2(dense_params_pool3):
    layer = _dense_after_pooling(3)
    params, units = layer.count_params(), layer.units
    value = dense_params_pool3
    whole_number("dense_params_pool3", value)
    if value == _dense_after_pooling(2).count_params():
        raise Incorrect("that is model 1's dense layer, after a 2×2 pooling: a 3×3 pooling keeps one value "
                        "of every 3×3 window, so the map shrinks by a factor of 3 each way.")
    if value == _dense_after_pooling(None).count_params():
        raise Incorrect("that is the dense layer without any pooling: the 3×3 pooling shrinks the map first.")
    if value == params - units:
        raise Incorrect("almost: every unit also has one bias.")
    if value != params:
        raise Incorrect("not yet: Flatten lays the pooled feature map out as one vector; each of the 128 units "
                        "has a weight for every number in it, plus a bias.")


q2 = Exercise(
    name="q2", lesson="01", variables=("dense_params_pool3",), checker=_check_q2,
    purpose="see where a CNN's parameters go: the first dense layer after Flatten",
    expected="the pooled map sets the length of the flattened vector, and with it the size of the first "
             "dense layer, which holds most of the model's parameters.",
    cost="seconds (no training)",
    hints=("Model 1's two 3×3 convolutions turn 28×28×1 into 24×24×64; then the pooling, Flatten and "
           "Dense(128).",
           "MaxPooling2D(3) keeps the largest value of every 3×3 window, moving 3 pixels at a time: "
           "24×24 becomes 8×8, with the 64 channels unchanged.",
           "Parameters of a dense layer = (inputs + 1) × units, and Flatten gives 8·8·64 inputs."),
    solution_code="dense_params_pool3 = (8 * 8 * 64 + 1) * 128   # 524,416",
)


def _check_q3(build_fixed):
    import keras

    from ..models import build_simple_gap_convnet

    model = call_learner(build_fixed)
    if not isinstance(model, keras.Model):
        raise Incorrect(f"build_fixed() should return a keras.Model; it returned a {type(model).__name__}.")
    try:
        images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
        out = keras.ops.convert_to_numpy(model(images, training=False))
    except Exception as err:  # noqa: BLE001 - a model that cannot take CIFAR images
        raise Incorrect(f"the model cannot take a batch of 32×32×3 images ({type(err).__name__}: "
                        f"{str(err).splitlines()[0][:120]}).") from None
    if out.ndim != 2:
        raise Incorrect(f"for 2 images the model outputs shape {out.shape}: still a map per image. Something "
                        "must turn the feature map into one vector before the dense layers.")
    if out.shape != (2, 10):
        raise Incorrect(f"for 2 images the model outputs shape {out.shape}: a classifier of the 10 CIFAR "
                        "classes gives 10 numbers per image.")
    if not np.allclose(out.sum(axis=1), 1.0, atol=1e-4) or (out < 0).any():
        raise Incorrect("the 10 outputs are not probabilities (they should be >= 0 and sum to 1): "
                        "end with a softmax.")
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        raise Incorrect("keep the convolution: the point is to fix the model, not to replace it.")
    if any(isinstance(layer, keras.layers.Flatten) for layer in model.layers):
        raise Incorrect("that is the SimpleConvNet's fix, with Flatten: this exercise asks for one without it, "
                        "whose dense layer sees one number per feature map.")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) != 2 or dense[0].units != 100:
        raise Incorrect("keep the pitfall model's Dense(100, relu), then add the Dense(10, softmax) output.")
    if model.count_params() != build_simple_gap_convnet().count_params():
        raise Incorrect("the first dense layer should see one number per feature map, 30 per image: "
                        "summarise each whole map by one value.")


q3 = Exercise(
    name="q3", lesson="01", variables=("build_fixed",), checker=_check_q3,
    purpose="fix the pitfall model without Flatten, with far fewer parameters",
    expected="a layer that summarises each whole 14×14 feature map by one number turns the map into a "
             "vector of 30 per image; the dense layer then has 3,100 weights instead of 588,100.",
    cost="seconds (no training)",
    hints=("The pitfall model outputs (None, 14, 14, 100): a vector per position, not per image. Flatten "
           "would make 5,880 numbers per image; you want 30, one per feature map.",
           "Summarise each feature map over all its positions: its average, say. Keras has a pooling layer "
           "that pools over the whole map (not over 2×2 windows).",
           "keras.layers.GlobalAveragePooling2D() after the MaxPooling2D, then Dense(100, relu) and "
           "Dense(10, softmax)."),
    solution_code="import keras\n\n"
                  "def build_fixed(input_shape=(32, 32, 3)):\n"
                  "    inputs = keras.Input(shape=input_shape)\n"
                  "    x = keras.layers.Conv2D(30, 5, activation=\"relu\")(inputs)\n"
                  "    x = keras.layers.MaxPooling2D(2)(x)\n"
                  "    x = keras.layers.GlobalAveragePooling2D()(x)       # one number per feature map: 30 per image\n"
                  "    x = keras.layers.Dense(100, activation=\"relu\")(x)\n"
                  "    outputs = keras.layers.Dense(10, activation=\"softmax\")(x)\n"
                  "    return keras.Model(inputs, outputs)",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
