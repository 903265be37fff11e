"""Lesson 06's exercises: build a transfer model with the right preprocessing and a frozen base,
count what it trains, and unfreeze the top of the base for fine-tuning."""

from __future__ import annotations

import numpy as np

from . import CannotCheck, Exercise, Incorrect, call_learner, whole_number

ALPHA = 0.25          # the smallest MobileNet: its ImageNet weights are the ones an offline class has
SIZE = 96


def _base_of(model):
    """The pretrained base inside a learner's model: the nested Model whose name says MobileNet."""
    import keras

    bases = [layer for layer in model.layers if isinstance(layer, keras.Model) and "mobilenet" in layer.name]
    if not bases:
        raise Incorrect("there is no MobileNet inside the model: build the base with "
                        "keras.applications.MobileNet(...) and call it on the preprocessed images.")
    return bases[0]


def _imagenet_reference():
    import keras

    import warnings

    try:
        with warnings.catch_warnings():   # "weights for input shape (224, 224) will be loaded": as intended
            warnings.filterwarnings("ignore", message=".input_shape. is undefined or non-square")
            return keras.applications.MobileNet(alpha=ALPHA, include_top=False, weights="imagenet",
                                                input_shape=(SIZE, SIZE, 3), pooling="avg")
    except Exception as err:  # noqa: BLE001 - offline with an empty cache
        raise CannotCheck(f"the MobileNet alpha={ALPHA} ImageNet weights are not available here "
                          f"({str(err).splitlines()[0][:100]}); run `python -m cnncourse fetch`.") from None


def _built_model(build_transfer_model):
    import keras

    model = call_learner(build_transfer_model)
    if not isinstance(model, keras.Model):
        raise Incorrect(f"build_transfer_model() should return a keras.Model; it returned a "
                        f"{type(model).__name__}.")
    if tuple(model.input_shape[1:]) != (32, 32, 3):
        raise Incorrect(f"the model takes {tuple(model.input_shape[1:])} inputs: it should take the 32×32×3 "
                        "CIFAR images themselves, and resize them inside.")
    return model


def _check_q1(build_transfer_model):
    import keras

    model = _built_model(build_transfer_model)
    base = _base_of(model)
    if base.trainable or base.trainable_weights:
        raise Incorrect("the base is not frozen: set base.trainable = False before training the new head.")
    reference = _imagenet_reference()
    first = lambda m: next(l for l in m.layers if isinstance(l, keras.layers.Conv2D))   # noqa: E731
    if not np.allclose(first(base).get_weights()[0], first(reference).get_weights()[0]):
        raise Incorrect("the base's weights are not the ImageNet ones: pass weights='imagenet' "
                        f"(and alpha={ALPHA}).")
    if tuple(base.input_shape[1:3]) != (SIZE, SIZE):
        raise Incorrect(f"the base sees {tuple(base.input_shape[1:3])} images: resize the 32×32 images to "
                        f"{SIZE}×{SIZE} first (keras.layers.Resizing), where ImageNet features work far better.")
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    out = keras.ops.convert_to_numpy(model(images, training=False))
    if out.shape != (2, 10) or not np.allclose(out.sum(axis=1), 1, atol=1e-4):
        raise Incorrect(f"for 2 images the model outputs shape {out.shape}: it should end in 10 softmax "
                        "probabilities per image.")
    head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense):
        raise Incorrect("end the model with the new head: a Dense(10, softmax) on the pooled features.")
    resized = keras.ops.image.resize(images, (SIZE, SIZE))

    def predicted(pixels):
        features = keras.ops.convert_to_numpy(base(pixels, training=False))
        if features.ndim == 4:
            features = features.mean(axis=(1, 2))
        return keras.ops.convert_to_numpy(head(features))

    if np.allclose(out, predicted(resized * 2.0 - 1.0), atol=1e-3):
        return
    if np.allclose(out, predicted(resized), atol=1e-3):
        raise Incorrect("the base gets the pixels in [0, 1], but MobileNet's ImageNet weights were trained on "
                        "pixels in [-1, 1]: scale them (keras.layers.Rescaling(2.0, offset=-1.0), or "
                        "preprocess_input on 0-255 pixels).")
    raise Incorrect("the images do not reach the base as Resizing to 96 px and scaling to [-1, 1] would give: "
                    "check the order of the layers between the input and the base.")


q1 = Exercise(
    name="q1", lesson="06", variables=("build_transfer_model",), checker=_check_q1,
    purpose="build a transfer model: the right input size and pixel scale for the pretrained base, frozen",
    expected="the base sees what it was trained on (larger images, pixels in [-1, 1]) and only the new head "
             "learns.",
    cost="seconds (builds two small MobileNets; no training)",
    hints=("Input(32, 32, 3) → Resizing(96, 96) → scale the pixels → MobileNet base (frozen) → Dense(10).",
           "MobileNet's ImageNet weights expect pixels in [-1, 1]; CIFAR images here are in [0, 1]. "
           "keras.layers.Rescaling(2.0, offset=-1.0) does it.",
           "base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights='imagenet', "
           "input_shape=(96, 96, 3), pooling='avg'); base.trainable = False."),
    solution_code="import keras\n\n"
                  "def build_transfer_model():\n"
                  "    inputs = keras.Input(shape=(32, 32, 3))\n"
                  "    x = keras.layers.Resizing(96, 96)(inputs)\n"
                  "    x = keras.layers.Rescaling(2.0, offset=-1.0)(x)        # [0, 1] -> [-1, 1]\n"
                  "    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=\"imagenet\",\n"
                  "                                        input_shape=(96, 96, 3), pooling=\"avg\")\n"
                  "    base.trainable = False\n"
                  "    outputs = keras.layers.Dense(10, activation=\"softmax\")(base(x, training=False))\n"
                  "    return keras.Model(inputs, outputs)",
)


def _check_q2(head_params):
    features = int(256 * ALPHA * 4)     # MobileNet's last block has 1024 * alpha channels
    whole_number("head_params", head_params)
    if head_params == features * 10:
        raise Incorrect("almost: each of the 10 units also has a bias.")
    if head_params != (features + 1) * 10:
        raise Incorrect("the frozen base trains nothing; count the new head only: one weight per pooled "
                        "feature and unit, plus a bias per unit. The pooled vector has as many features "
                        "as MobileNet's last block has channels.")


q2 = Exercise(
    name="q2", lesson="06", variables=("head_params",), checker=_check_q2,
    purpose="see how little a frozen-base model trains",
    expected="a few thousand trainable parameters against the base's hundreds of thousands: that is why "
             "the head trains in seconds on cached features.",
    cost="seconds (no training)",
    hints=("With the base frozen, only the Dense(10) head has trainable parameters.",
           "At alpha 0.25 MobileNet's last block has 1024 × 0.25 channels; average pooling makes one "
           "number per channel."),
    solution_code="head_params = (256 + 1) * 10     # 256 pooled features at alpha 0.25, 10 units",
)


def _check_q3(unfreeze_from):
    import keras

    from ..transfer import get_base, unfreeze_top

    def fresh():   # random weights: only which layers train matters here
        inputs = keras.Input(shape=(SIZE, SIZE, 3))
        base = keras.applications.MobileNet(alpha=ALPHA, include_top=False, weights=None,
                                            input_shape=(SIZE, SIZE, 3), pooling="avg")
        base.trainable = False
        return keras.Model(inputs, keras.layers.Dense(10)(base(inputs)))

    mine, reference = fresh(), fresh()
    call_learner(unfreeze_from, mine, "conv_dw_12")
    expected = unfreeze_top(reference, "conv_dw_12")
    base = get_base(mine)
    names = [layer.name for layer in base.layers]
    start = names.index("conv_dw_12")
    if not base.trainable:
        raise Incorrect("the base itself is still frozen (base.trainable is False), so none of its layers "
                        "train: set it to True first, then freeze the layers you keep.")
    early = [layer.name for layer in base.layers[:start] if layer.trainable and layer.weights]
    if early:
        raise Incorrect(f"layers before conv_dw_12 train too (e.g. {early[0]}): keep the early, general "
                        "features frozen.")
    norms = [layer.name for layer in base.layers[start:]
             if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]
    if norms:
        raise Incorrect(f"the BatchNormalization layers (e.g. {norms[0]}) train: keep them frozen, or their "
                        "statistics, learned on ImageNet, drift on a small batch of CIFAR images.")
    late = [layer.name for layer in base.layers[start:]
            if layer.weights and not isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable]
    if late:
        raise Incorrect(f"some layers from conv_dw_12 on stay frozen (e.g. {late[0]}).")
    got = int(sum(np.prod(w.shape) for w in base.trainable_weights))
    if got != expected:
        raise Incorrect("the base's trainable parameters are not those of its convolutions from conv_dw_12 on.")


q3 = Exercise(
    name="q3", lesson="06", variables=("unfreeze_from",), checker=_check_q3,
    purpose="prepare fine-tuning: unfreeze the top of the base, keep the rest and BatchNorm frozen",
    expected="only the last blocks' convolutions train; the early, general features and BatchNorm's "
             "ImageNet statistics stay as they were.",
    cost="seconds (builds two random-weight MobileNets; no training)",
    hints=("Find the base (the nested MobileNet model), set base.trainable = True, then decide layer by layer.",
           "for layer in base.layers: layer.trainable = (it comes at or after conv_dw_12) and "
           "(it is not a BatchNormalization)."),
    solution_code="import keras\n\n"
                  "def unfreeze_from(model, first_layer):\n"
                  "    base = next(l for l in model.layers if isinstance(l, keras.Model))\n"
                  "    base.trainable = True\n"
                  "    names = [layer.name for layer in base.layers]\n"
                  "    start = names.index(first_layer)\n"
                  "    for i, layer in enumerate(base.layers):\n"
                  "        layer.trainable = i >= start and not isinstance(layer, keras.layers.BatchNormalization)",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
