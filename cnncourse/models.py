"""Model builders: one function per architecture the lessons use.

Every builder returns an *uncompiled* ``keras.Model`` named after what it
builds; compiling (optimizer, loss) is the lesson's choice and lives in
:mod:`cnncourse.training`.  Parameter counts are those of the source articles
and are checked in the tests.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import layers

MNIST_SHAPE = (28, 28, 1)
CIFAR_SHAPE = (32, 32, 3)


# ----------------------------------------------------------------------------- comparing models
def _layer_kind(layer: keras.layers.Layer) -> str:
    """The layer's type, with its activation when it has one: "Conv2D(relu)", "Flatten"."""
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", "linear")
    return type(layer).__name__ + ("" if activation is None or name == "linear" else f"({name})")


def describe_layers(model: keras.Model) -> list[tuple[str, tuple, int]]:
    """One row per layer of ``model``: (layer type with its activation, output shape without the
    batch axis, parameters), e.g. ``("Conv2D(relu)", (28, 28, 30), 2280)``.

    The input layer and layer names are left out, so a ``keras.Sequential`` written in a lesson
    and the package's functional builder of the same architecture describe alike.
    """
    return [(_layer_kind(layer), tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers if not isinstance(layer, layers.InputLayer)]


def assert_same_architecture(model: keras.Model, reference: keras.Model) -> None:
    """Raise AssertionError unless ``model`` and ``reference`` have the same layer types in the same
    order, with the same output shapes and parameter counts (see :func:`describe_layers`).

    The message names the first layer (counted from 1 after the input) where they differ, so
    that a changed cell says what it changed.
    """
    if tuple(model.input_shape[1:]) != tuple(reference.input_shape[1:]):
        raise AssertionError(f"{model.name!r} takes inputs of shape {model.input_shape[1:]}, "
                             f"{reference.name!r} of shape {reference.input_shape[1:]}")
    mine, theirs = describe_layers(model), describe_layers(reference)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            raise AssertionError(
                f"{model.name!r} differs from {reference.name!r} at layer {i + 1}: "
                f"{a[0]} {a[1]} with {a[2]:,} parameters vs {b[0]} {b[1]} with {b[2]:,} parameters")
    if len(mine) != len(theirs):
        raise AssertionError(f"{model.name!r} has {len(mine)} layers, {reference.name!r} has {len(theirs)}")


# ----------------------------------------------------------------------------- lesson 01: reading shapes
def _simple_convnet(pooling: layers.Layer, name: str, input_shape, num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(30, 5, strides=1, padding="valid", activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = pooling(x)
    x = layers.Dense(100, activation="relu", name="dense")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def build_simple_convnet(input_shape=CIFAR_SHAPE, num_classes: int = 10) -> keras.Model:
    """The "SimpleConvNet" of article 004: Conv2D(30, 5) -> MaxPool(2) -> Flatten -> Dense(100) -> Dense(10).

    On (32, 32, 3) inputs: 591,390 parameters (conv 2,280; dense 588,100; output 1,010).
    Layer names: "conv", "pool", "flatten", "dense", "output".
    """
    return _simple_convnet(layers.Flatten(name="flatten"), "simple_convnet", input_shape, num_classes)


def build_simple_gap_convnet(input_shape=CIFAR_SHAPE, num_classes: int = 10) -> keras.Model:
    """The SimpleConvNet with Flatten replaced by GlobalAveragePooling2D (article 004 section 5.1).

    The (None, 14, 14, 30) map becomes (None, 30): 6,390 parameters instead of 591,390
    (conv 2,280; dense 30*100+100 = 3,100; output 1,010).  Same layer names, "gap" for the pooling.
    """
    return _simple_convnet(layers.GlobalAveragePooling2D(name="gap"), "simple_gap_convnet", input_shape, num_classes)


def build_dense_on_feature_map(input_shape=CIFAR_SHAPE) -> keras.Model:
    """The pitfall of article 004: Dense(100) applied straight to the pooled (14, 14, 30) map.

    Dense acts on the last axis only, so the output is (None, 14, 14, 100), not a
    vector per image: 5,380 parameters (conv 2,280 + dense 30*100+100 = 3,100).
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(30, 5, activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    outputs = layers.Dense(100, activation="relu", name="dense")(x)
    return keras.Model(inputs, outputs, name="dense_on_feature_map")


# ----------------------------------------------------------------------------- lesson 01: MNIST variants
def _mnist_cnn(name, convs, pool_size, dense_hidden, input_shape, num_classes) -> keras.Model:
    """Shared body of the article-001 variants: convs -> [pool] -> Dropout(0.25) -> Flatten -> [Dense(128)+Dropout(0.5)] -> softmax."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for i, (filters, kernel) in enumerate(convs, start=1):
        x = layers.Conv2D(filters, kernel, padding="valid", activation="relu", name=f"conv{i}")(x)
    if pool_size:
        x = layers.MaxPooling2D(pool_size, name="pool")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    if dense_hidden:
        x = layers.Dense(128, activation="relu", name="dense")(x)
        x = layers.Dropout(0.5, name="dropout2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def build_mnist_base_cnn(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Model 1: Conv(32, 3) -> Conv(64, 3) -> MaxPool(2) -> Dropout -> Flatten -> Dense(128) -> Dropout -> softmax.

    1,199,882 parameters on 28x28x1 inputs.
    """
    return _mnist_cnn("model1_base", [(32, 3), (64, 3)], 2, True, input_shape, num_classes)


def build_mnist_one_conv(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Variant 2: a single Conv(64, 5) instead of the two 3x3 convs (same 24x24x64 map)."""
    return _mnist_cnn("model2_one_conv", [(64, 5)], 2, True, input_shape, num_classes)


def build_mnist_three_conv(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Variant 3: Conv(32, 3) -> Conv(64, 3) -> Conv(64, 3)."""
    return _mnist_cnn("model3_three_conv", [(32, 3), (64, 3), (64, 3)], 2, True, input_shape, num_classes)


def build_mnist_no_pooling(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Variant 4: model 1 without its MaxPooling2D (the dense layer sees the whole 24x24x64 map)."""
    return _mnist_cnn("model4_no_pooling", [(32, 3), (64, 3)], None, True, input_shape, num_classes)


def build_mnist_big_pooling(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Variant 5: model 1 with MaxPooling2D(4) instead of (2)."""
    return _mnist_cnn("model5_big_pooling", [(32, 3), (64, 3)], 4, True, input_shape, num_classes)


def build_mnist_one_dense(input_shape=MNIST_SHAPE, num_classes: int = 10) -> keras.Model:
    """Variant 6: model 1 without its hidden Dense(128) + Dropout(0.5)."""
    return _mnist_cnn("model6_one_dense", [(32, 3), (64, 3)], 2, False, input_shape, num_classes)


MNIST_VARIANTS = {
    "1: base": build_mnist_base_cnn,
    "2: one conv": build_mnist_one_conv,
    "3: three convs": build_mnist_three_conv,
    "4: no pooling": build_mnist_no_pooling,
    "5: 4x4 pooling": build_mnist_big_pooling,
    "6: one dense": build_mnist_one_dense,
}
"""The six models of article 001, keyed by the label the lesson's tables use."""


# ----------------------------------------------------------------------------- lesson 02
def build_mnist_single_conv(input_shape=MNIST_SHAPE, num_classes: int = 10, filters: int = 16) -> keras.Model:
    """Article 003's MNIST CNN: Conv2D(16, 5x5, relu) -> MaxPool(2) -> Flatten -> Dense(10, softmax).

    23,466 parameters on 28x28x1 inputs (conv 416; output 12*12*16*10 + 10 = 23,050).
    The conv layer is named "conv", so that its kernels and feature maps can be fetched by name.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(filters, 5, activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="mnist_single_conv")


# ----------------------------------------------------------------------------- lesson 03
def build_regularized_mlp(
    num_features: int = 10,
    num_classes: int = 2,
    *,
    hidden_units: int = 30,
    l1: float = 0.0,
    l2: float = 0.0,
    dropout: float = 0.0,
    init_stddev: float | None = None,
    seed: int | None = None,
    name: str = "mlp",
) -> keras.Model:
    """An MLP ``num_features -> hidden_units (relu) -> num_classes (softmax)``, the first layer named "hidden".

    l1, l2 : penalties on the first layer's weights (article 003 regularizes that layer only)
    dropout : rate of a Dropout on the hidden units' outputs (0 = none): no unit can be relied
        on alone, so the signal is spread over many of them
    init_stddev : both layers' initial weights drawn from N(0, init_stddev^2) instead of Glorot uniform
    For 10 features, 30 units and 2 classes: 300 + 30 first-layer parameters, 62 in the output.
    """
    if l1 < 0 or l2 < 0 or not 0 <= dropout < 1:
        raise ValueError(f"need l1, l2 >= 0 and 0 <= dropout < 1; got l1={l1}, l2={l2}, dropout={dropout}")
    # adds l1 * sum(|w|) + l2 * sum(w**2) over the hidden layer's weights to the loss
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None

    def initializer(offset: int):   # each layer its own seed: the two layers draw different numbers
        layer_seed = None if seed is None else seed + offset
        if init_stddev is None:
            return keras.initializers.GlorotUniform(seed=layer_seed)
        return keras.initializers.RandomNormal(stddev=init_stddev, seed=layer_seed)

    inputs = keras.Input(shape=(num_features,), name="features")
    x = layers.Dense(hidden_units, activation="relu", kernel_initializer=initializer(0),
                     kernel_regularizer=regularizer, name="hidden")(inputs)
    if dropout:
        x = layers.Dropout(dropout, name="hidden_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=initializer(1), name="output")(x)
    return keras.Model(inputs, outputs, name=name)


# ----------------------------------------------------------------------------- lesson 04
FASHION_SHAPE = (28, 28, 1)


def _conv(filters: int, kernel: int, name: str) -> layers.Conv2D:
    """Article 000's convolution: 32 filters, 'same' padding, he_normal, no activation of its own."""
    return layers.Conv2D(filters, kernel, padding="same", kernel_initializer="he_normal", name=name)


def _classifier_head(x, num_classes: int):
    """Flatten -> Dense(128) named "hidden" (the embedded layer, before its ReLU) -> ReLU -> softmax."""
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, kernel_initializer="he_normal", name="hidden")(x)
    x = layers.ReLU(name="hidden_relu")(x)
    return layers.Dense(num_classes, activation="softmax", name="output")(x)


def _pool_and_drop(x, stage: int):
    """The end of every stage: MaxPool(2) halves the height and width, then Dropout(0.2)."""
    x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
    return layers.Dropout(0.2, name=f"stage{stage}_dropout")(x)


def build_sequential_cnn(input_shape=FASHION_SHAPE, num_classes: int = 10, filters: int = 32) -> keras.Model:
    """Article 000's plain CNN: 3 stages of Conv(2x2) -> Conv(2x2) -> ReLU -> MaxPool(2) -> Dropout(0.2).

    59,082 parameters on 28x28x1 inputs.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for s in (1, 2, 3):
        x = _conv(filters, 2, f"stage{s}_conv1")(x)
        x = _conv(filters, 2, f"stage{s}_conv2")(x)
        x = layers.ReLU(name=f"stage{s}_relu")(x)
        x = _pool_and_drop(x, s)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="sequential")


def build_inception_cnn(input_shape=FASHION_SHAPE, num_classes: int = 10, filters: int = 32) -> keras.Model:
    """Article 000's Inception-style CNN: each of 3 stages runs a 2x2 branch and a 3x3 branch
    (Conv -> Conv -> ReLU -> MaxPool(2) -> Dropout(0.2) each) and concatenates them on channels."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for s in (1, 2, 3):
        branches = []
        for k in (2, 3):
            b = _conv(filters, k, f"stage{s}_{k}x{k}_conv1")(x)
            b = _conv(filters, k, f"stage{s}_{k}x{k}_conv2")(b)
            b = layers.ReLU(name=f"stage{s}_{k}x{k}_relu")(b)
            b = layers.MaxPooling2D(2, name=f"stage{s}_{k}x{k}_pool")(b)
            branches.append(layers.Dropout(0.2, name=f"stage{s}_{k}x{k}_dropout")(b))
        x = layers.Concatenate(name=f"stage{s}_concat")(branches)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="inception")


def _residual_branch(x, kernel: int, stage: int, tag: str, filters: int):
    """Conv -> BatchNorm -> ReLU -> Conv; returns (branch output, its first conv's output)."""
    first = _conv(filters, kernel, f"stage{stage}_{tag}conv1")(x)
    y = layers.BatchNormalization(name=f"stage{stage}_{tag}bn")(first)
    y = layers.ReLU(name=f"stage{stage}_{tag}relu")(y)
    return _conv(filters, kernel, f"stage{stage}_{tag}conv2")(y), first


def build_residual_cnn(input_shape=FASHION_SHAPE, num_classes: int = 10, filters: int = 32) -> keras.Model:
    """Article 000's residual CNN: 3 stages of Conv(2x2) -> BN -> ReLU -> Conv(2x2) added to a shortcut
    (stage 1: its own first conv's output, as the input has one channel; stages 2-3: the stage input),
    then MaxPool(2) -> Dropout(0.2)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for s in (1, 2, 3):
        y, first = _residual_branch(x, 2, s, "", filters)
        x = layers.Add(name=f"stage{s}_add")([y, first if s == 1 else x])
        x = _pool_and_drop(x, s)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="residual")


def build_inception_residual_cnn(input_shape=FASHION_SHAPE, num_classes: int = 10, filters: int = 32) -> keras.Model:
    """Article 000's Inception + residual CNN: each stage adds a 2x2 and a 3x3 branch (each
    Conv -> BN -> ReLU -> Conv) and the shortcut (stage 1: the 2x2 branch's first conv output;
    stages 2-3: the stage input), then MaxPool(2) -> Dropout(0.2)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for s in (1, 2, 3):
        y2, first2 = _residual_branch(x, 2, s, "2x2_", filters)
        y3, _ = _residual_branch(x, 3, s, "3x3_", filters)
        x = layers.Add(name=f"stage{s}_add")([y2, y3, first2 if s == 1 else x])
        x = _pool_and_drop(x, s)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="inception_residual")


def stage_submodel(model: keras.Model, stage: str) -> keras.Model:
    """The layers of one stage of ``model`` -- those whose names start with ``stage + "_"`` (e.g.
    "stage2") -- as a model of their own, sharing the weights, from the stage's input to its last
    layer.  For diagrams: one stage shows a block's structure at a legible size.  Raises
    ValueError listing the stages there are when ``stage`` has no layers."""
    inside = [layer for layer in model.layers if layer.name.startswith(f"{stage}_")]
    if not inside:
        stages = sorted({layer.name.split("_")[0] for layer in model.layers if "_" in layer.name})
        raise ValueError(f"{model.name} has no layers named {stage}_*; its layer-name prefixes: {stages}")
    sub = keras.Model(inside[0].input, inside[-1].output, name=f"{model.name}_{stage}")
    sub.layers[0].name = f"{stage}_input"
    return sub


ARCHITECTURES = {
    "Sequential": build_sequential_cnn,
    "Inception": build_inception_cnn,
    "Residual": build_residual_cnn,
    "Inception+Residual": build_inception_residual_cnn,
}
"""The four models of article 000 (lesson 04), keyed by the names the lesson's tables use."""


# ----------------------------------------------------------------------------- lesson 05
def _conv_bn_relu(x, filters: int, *, strides: int = 1, padding: str = "same", kernel: int = 3,
                  batch_norm: bool, name: str):
    """Conv -> (BatchNorm) -> ReLU: article 002 puts BN between a conv and its activation."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, name=f"{name}_conv")(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _resblock(x, *, batch_norm: bool, name: str):
    """Article 002's residual block, as wide as its input: Conv -> BN -> ReLU -> Conv, add the
    input, BN -> ReLU (the BNs only when ``batch_norm``)."""
    channels = x.shape[-1]
    y = _conv_bn_relu(x, channels, batch_norm=batch_norm, name=f"{name}_a")
    y = layers.Conv2D(channels, 3, padding="same", name=f"{name}_b_conv")(y)
    y = layers.Add(name=f"{name}_add")([y, x])
    if batch_norm:
        y = layers.BatchNormalization(name=f"{name}_bn")(y)
    return layers.ReLU(name=f"{name}_relu")(y)


def build_ablation_cnn(
    *,
    width: float = 1.0,
    batch_norm: bool = False,
    residual: bool = False,
    global_pooling: bool = False,
    dropout: float = 0.0,
    input_shape=CIFAR_SHAPE,
    num_classes: int = 10,
) -> keras.Model:
    """Article 002's 10-conv CIFAR-10 CNN, with one switch per technique of the ablation.

    Base (all switches off): ``Conv(64, 1x1) -> 3 stages -> Flatten -> Dense(softmax)``,
    stage i = two ``Conv(w_i, 3x3, same)`` then ``Conv(w_i, 3x3, stride 2, valid)``,
    with w = 64, 128, 256 and a ReLU after every conv; 32 -> 15 -> 7 -> 3 pixels.
    1,978,442 parameters at width 1.0.

    batch_norm     : BatchNorm between every conv and its ReLU
    residual       : each stage's two 3x3 convs become a residual block as wide as the
                     stage's input (as in the article: 64, 64, 128 filters), so the conv
                     count stays 10
    global_pooling : GlobalAveragePooling2D instead of Flatten
    dropout        : Dropout(rate) after each stride-2 block (0 = none)
    width          : multiplies every filter count (1.0 = the article's 64/128/256)
    """
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    stem_filters, *stage_filters = [max(1, round(n * width)) for n in (64, 64, 128, 256)]
    inputs = keras.Input(shape=input_shape, name="image")
    x = _conv_bn_relu(inputs, stem_filters, kernel=1, batch_norm=batch_norm, name="stem")
    for stage, filters in enumerate(stage_filters, start=1):
        if residual:
            x = _resblock(x, batch_norm=batch_norm, name=f"stage{stage}_res")
        else:
            x = _conv_bn_relu(x, filters, batch_norm=batch_norm, name=f"stage{stage}_1")
            x = _conv_bn_relu(x, filters, batch_norm=batch_norm, name=f"stage{stage}_2")
        x = _conv_bn_relu(x, filters, strides=2, padding="valid", batch_norm=batch_norm, name=f"stage{stage}_down")
        if dropout:
            x = layers.Dropout(dropout, name=f"stage{stage}_dropout")(x)
    if global_pooling:
        x = layers.GlobalAveragePooling2D(name="gap")(x)     # one average per channel
    else:
        x = layers.Flatten(name="flatten")(x)                # every pixel of every channel
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="ablation_cnn")


# ----------------------------------------------------------------------------- lesson 06
MOBILENET_INPUTS = ("unit", "mobilenet")


def _mobilenet_base(alpha: float, weights: str | None, size: int) -> keras.Model:
    """keras.applications.MobileNet without its top, average-pooled, for ``size`` x ``size`` inputs."""
    from .catalogue import MOBILENET_WEIGHTS, WeightsNotAvailableError, get_keras_home
    from .download import missing_weights_help

    if alpha not in (0.25, 0.5, 0.75, 1.0):
        raise ValueError(f"MobileNet alpha must be one of 0.25, 0.5, 0.75, 1.0; got {alpha}")
    try:
        with warnings.catch_warnings():   # "weights for input shape (224, 224) will be loaded": expected here
            warnings.filterwarnings("ignore", message=".*input_shape. is undefined or non-square")
            return keras.applications.MobileNet(input_shape=(size, size, 3), alpha=alpha, include_top=False,
                                                weights=weights, pooling="avg")
    except Exception as err:  # noqa: BLE001 - Keras raises a bare Exception when a download fails
        if weights != "imagenet" or "URL fetch failure" not in str(err):
            raise
        known = MOBILENET_WEIGHTS.get(alpha)
        fix = (missing_weights_help(known, get_keras_home()) if known
               else "Download the weights on a machine with internet.")
        raise WeightsNotAvailableError(
            f"The ImageNet weights of MobileNet alpha={alpha} are not in the Keras cache "
            f"({get_keras_home() / 'models'}) and could not be downloaded. {fix}") from err


def _mobilenet_inputs(image, inputs: str, image_size: int | None):
    """Resize (when ``image_size`` is set) and scale the [0, 1] ``image`` tensor for MobileNet."""
    if inputs not in MOBILENET_INPUTS:
        raise ValueError(f"inputs must be one of {MOBILENET_INPUTS}, got {inputs!r}")
    x = image
    if image_size is not None and image_size != image.shape[1]:
        if image_size < 32:
            raise ValueError(f"MobileNet needs inputs of at least 32x32 pixels, got image_size={image_size}")
        x = layers.Resizing(image_size, image_size, interpolation="bilinear", name=f"resize_{image_size}")(x)
    return layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(x) if inputs == "mobilenet" else x


def build_mobilenet_features(
    alpha: float = 1.0,
    *,
    weights: str | None = "imagenet",
    inputs: str = "mobilenet",
    image_size: int | None = None,
    input_shape=CIFAR_SHAPE,
) -> keras.Model:
    """A frozen feature extractor: (N, 32, 32, 3) images in [0, 1] -> (N, features) pooled MobileNet features.

    The images are resized to ``image_size`` x ``image_size`` (None: kept as they are) and
    scaled as ``inputs`` says (see :func:`build_mobilenet_classifier`); the base is
    frozen, so its BatchNorm layers use their stored statistics.  Features: 256 at
    alpha 0.25, 1,024 at alpha 1.0.
    """
    image = keras.Input(shape=input_shape, name="image")
    x = _mobilenet_inputs(image, inputs, image_size)
    base = _mobilenet_base(alpha, weights, int(x.shape[1]))
    base.trainable = False
    size = image_size or input_shape[0]
    return keras.Model(image, base(x), name=f"mobilenet_{alpha:g}_{size}px_features")


def build_linear_head(num_features: int, num_classes: int = 10) -> keras.Model:
    """The transfer model's head alone, for cached features: (N, num_features) -> Dense(num_classes,
    softmax), its layer named "output" (train it on standardized features, see
    :func:`cnncourse.transfer.standardize`)."""
    features = keras.Input(shape=(num_features,), name="features")
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(features)
    return keras.Model(features, outputs, name="linear_head")


def build_mobilenet_classifier(
    alpha: float = 1.0,
    *,
    weights: str | None = "imagenet",
    inputs: str = "unit",
    train_base: bool = True,
    batchnorm_inference: bool = False,
    image_size: int | None = None,
    feature_mean=None,
    feature_std=None,
    input_shape=CIFAR_SHAPE,
    num_classes: int = 10,
) -> keras.Model:
    """Article 004's transfer model: ImageNet MobileNet (v1) without its top, average pooling,
    Dense(num_classes, softmax), on 32x32 CIFAR-10 images with pixels in [0, 1].

    alpha      : MobileNet's width multiplier (1.0: 3,239,114 parameters, 3,217,226
                 trainable, 21,888 non-trainable BatchNorm statistics)
    weights    : "imagenet" (from the Keras cache, else downloaded; WeightsNotAvailableError
                 naming the file and the fetch command when neither works) or None (random)
    inputs     : "unit" feeds the [0, 1] pixels as they are (as the article did);
                 "mobilenet" first rescales them to [-1, 1], which is what the ImageNet
                 weights expect (``keras.applications.mobilenet.preprocess_input``)
    image_size : resize the images to image_size x image_size (a ``Resizing`` layer) before
                 the base; None keeps the 32x32 input (the article)
    feature_mean, feature_std : (features,) arrays: standardize the pooled features with them
                 (a fixed ``Normalization`` layer "standardize") before the head, so that a head
                 trained on standardized cached features can be copied in for fine-tuning
    train_base : False freezes the MobileNet (feature extraction: only the head learns,
                 and its BatchNorm layers stay in inference mode)
    batchnorm_inference : with ``train_base``, fine-tune the convolutions but freeze the
                 BatchNorm layers, which then stay in inference mode and normalise with their
                 ImageNet statistics (a frozen BatchNormalization runs in inference mode in
                 Keras 3; calling the base with ``training=False`` is overridden by ``fit``,
                 keras-team/keras#20285); False lets them normalise each batch and update
                 their running statistics, as Keras 2 did in the article
    """
    image = keras.Input(shape=input_shape, name="image")
    x = _mobilenet_inputs(image, inputs, image_size)
    base = _mobilenet_base(alpha, weights, int(x.shape[1]))
    base.trainable = train_base
    if train_base and batchnorm_inference:
        for layer in base.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    x = base(x)
    if (feature_mean is None) != (feature_std is None):
        raise ValueError("give both feature_mean and feature_std, or neither")
    if feature_mean is not None:
        x = layers.Normalization(mean=feature_mean, variance=np.square(feature_std), name="standardize")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output")(x)
    tag = {"unit": "", "mobilenet": "_preprocessed"}[inputs]
    tag += f"_{image_size}px" if image_size else ""
    tag += "_frozen" if not train_base else ("_bn_inference" if batchnorm_inference else "")
    return keras.Model(image, outputs, name=f"mobilenet_{alpha:g}{tag}")
