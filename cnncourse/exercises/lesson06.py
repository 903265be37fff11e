"""Lesson 06's exercises, the next steps after the lesson's transfer model: a model that pools the
base's map itself and has a bigger head, what fine-tuning three blocks trains (by hand), and a
function that prepares fine-tuning for any number of top blocks."""

from __future__ import annotations

import numpy as np

from . import CannotCheck, Exercise, Incorrect, call_learner, whole_number

ALPHA = 0.25          # the smallest MobileNet: its ImageNet weights are the ones an offline class has
SIZE = 96
HIDDEN, DROPOUT = 64, 0.3
BLOCKS = 13           # MobileNet's depthwise-separable blocks, named conv_dw_1/conv_pw_1 ... conv_dw_13/conv_pw_13


def _base_of(model):
    """The pretrained base inside a learner's model: the nested Model whose name says MobileNet."""
    import keras

    bases = [layer for layer in model.layers if isinstance(layer, keras.Model) and "mobilenet" in layer.name]
    if not bases:
        raise Incorrect("there is no MobileNet inside the model: build the base with "
                        "keras.applications.MobileNet(...) and call it on the preprocessed images.")
    return bases[0]


def _imagenet_reference():
    import warnings

    import keras

    try:
        with warnings.catch_warnings():   # "weights for input shape (224, 224) will be loaded": as intended
            warnings.filterwarnings("ignore", message=".input_shape. is undefined or non-square")
            return keras.applications.MobileNet(alpha=ALPHA, include_top=False, weights="imagenet",
                                                input_shape=(SIZE, SIZE, 3))
    except Exception as err:  # noqa: BLE001 - offline with an empty cache
        raise CannotCheck(f"the MobileNet alpha={ALPHA} ImageNet weights are not available here "
                          f"({str(err).splitlines()[0][:100]}); run `python -m cnncourse fetch`.") from None


def _activation(layer) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


# ----------------------------------------------------------------------------- q1
def _check_head(after):
    """The layers after the base should be GlobalAveragePooling2D, Dense(64, relu), Dropout(0.3), Dense(10, softmax)."""
    import keras

    L = keras.layers
    kinds = [type(layer).__name__ for layer in after]
    if not after or not isinstance(after[0], L.GlobalAveragePooling2D):
        raise Incorrect("pool the base's map right after the base with a GlobalAveragePooling2D layer (one "
                        f"average per channel); the layers after the base are {kinds}.")
    dense = [layer for layer in after if isinstance(layer, L.Dense)]
    drops = [layer for layer in after if isinstance(layer, L.Dropout)]
    if len(dense) != 2:
        raise Incorrect(f"the head should have two Dense layers (a hidden one, then the output); it has {len(dense)}.")
    hidden, output = dense
    if hidden.units != HIDDEN or _activation(hidden) != "relu":
        raise Incorrect(f"the hidden layer should be Dense({HIDDEN}) with a ReLU; yours has {hidden.units} units "
                        f"and activation {_activation(hidden)!r}.")
    if output.units != 10 or _activation(output) != "softmax":
        raise Incorrect("end the model in Dense(10) with a softmax: one probability per CIFAR-10 class.")
    if len(drops) != 1 or drops[0].rate != DROPOUT:
        raise Incorrect(f"put one Dropout({DROPOUT}) on the hidden layer's output.")
    if kinds != ["GlobalAveragePooling2D", "Dense", "Dropout", "Dense"]:
        raise Incorrect(f"the head's layers come in the order {kinds}: pooling, hidden Dense, its Dropout, "
                        "then the output Dense.")


def _check_q1(build_hidden_head_model):
    import keras

    model = call_learner(build_hidden_head_model)
    if not isinstance(model, keras.Model):
        raise Incorrect(f"build_hidden_head_model() should return a keras.Model; it returned a "
                        f"{type(model).__name__}.")
    if tuple(model.input_shape[1:]) != (32, 32, 3):
        raise Incorrect(f"the model takes {tuple(model.input_shape[1:])} inputs: it should take the 32×32×3 "
                        "CIFAR images themselves, and resize them inside.")
    base = _base_of(model)
    if base.trainable or base.trainable_weights:
        raise Incorrect("the base is not frozen: set base.trainable = False, so that only the new head learns.")
    reference = _imagenet_reference()
    first = lambda m: next(l for l in m.layers if isinstance(l, keras.layers.Conv2D))   # noqa: E731
    if not np.allclose(first(base).get_weights()[0], first(reference).get_weights()[0]):
        raise Incorrect("the base's weights are not the ImageNet ones: pass weights='imagenet' "
                        f"(and alpha={ALPHA}).")
    if tuple(base.input_shape[1:3]) != (SIZE, SIZE):
        raise Incorrect(f"the base sees {tuple(base.input_shape[1:3])} images: resize the 32×32 images to "
                        f"{SIZE}×{SIZE} first (keras.layers.Resizing).")
    if len(base.output.shape) != 4:
        raise Incorrect("the base pools its map itself (pooling='avg' or 'max'): this time let it return the map "
                        "(pooling=None, the default) and pool it with a layer of your own.")
    after = model.layers[model.layers.index(base) + 1:]
    _check_head(after)
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    out = keras.ops.convert_to_numpy(model(images, training=False))
    if out.shape != (2, 10) or not np.allclose(out.sum(axis=1), 1, atol=1e-4):
        raise Incorrect(f"for 2 images the model outputs shape {out.shape}: it should end in 10 softmax "
                        "probabilities per image.")
    resized = keras.ops.image.resize(images, (SIZE, SIZE))

    def predicted(pixels):
        x = base(pixels, training=False)
        for layer in after:
            x = layer(x, training=False) if isinstance(layer, keras.layers.Dropout) else layer(x)
        return keras.ops.convert_to_numpy(x)

    if np.allclose(out, predicted(resized * 2.0 - 1.0), atol=1e-3):
        return
    if np.allclose(out, predicted(resized), atol=1e-3):
        raise Incorrect("the base gets the pixels in [0, 1], but MobileNet's ImageNet weights were trained on "
                        "pixels in [-1, 1]: scale them as the lesson did.")
    raise Incorrect(f"the images do not reach the base as Resizing to {SIZE} px and scaling to [-1, 1] would give: "
                    "check the layers between the input and the base, and their order.")


q1 = Exercise(
    name="q1", lesson="06", variables=("build_hidden_head_model",), checker=_check_q1,
    purpose="write a transfer model of your own: the base returns its feature map, you pool it, and a "
            "bigger head (a hidden layer with dropout) reads the pooled features",
    expected="the base sees what it was trained on (96 px, pixels in [-1, 1]) and stays frozen; "
             "GlobalAveragePooling2D turns its 3×3×256 map into 256 numbers, and the hidden layer and its "
             "dropout are the head's to learn.",
    cost="seconds (builds two small MobileNets; no training)",
    hints=("Start from the lesson's build_transfer_model: the same input, Resizing, Rescaling and frozen base; "
           "then change what comes after the base.",
           "keras.applications.MobileNet(..., pooling=None) returns a (3, 3, 256) map at 96 px; "
           "layers.GlobalAveragePooling2D() makes it (256,).",
           f"After the base: GlobalAveragePooling2D() → Dense({HIDDEN}, activation='relu') → Dropout({DROPOUT}) "
           "→ Dense(10, activation='softmax')."),
    solution_code="import keras\n\n"
                  "def build_hidden_head_model():\n"
                  "    inputs = keras.Input(shape=(32, 32, 3))\n"
                  "    x = keras.layers.Resizing(96, 96)(inputs)\n"
                  "    x = keras.layers.Rescaling(2.0, offset=-1.0)(x)        # [0, 1] -> [-1, 1]\n"
                  "    base = keras.applications.MobileNet(alpha=0.25, include_top=False, weights=\"imagenet\",\n"
                  "                                        input_shape=(96, 96, 3))   # pooling=None: a 3x3x256 map\n"
                  "    base.trainable = False\n"
                  "    x = base(x, training=False)\n"
                  "    x = keras.layers.GlobalAveragePooling2D()(x)\n"
                  "    x = keras.layers.Dense(64, activation=\"relu\")(x)\n"
                  "    x = keras.layers.Dropout(0.3)(x)\n"
                  "    outputs = keras.layers.Dense(10, activation=\"softmax\")(x)\n"
                  "    return keras.Model(inputs, outputs)",
)


# ----------------------------------------------------------------------------- q2
def _block_channels(alpha: float = ALPHA) -> dict[int, tuple[int, int]]:
    """(input channels, output channels) of each of MobileNet's 13 depthwise-separable blocks."""
    widths = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]   # stem, then blocks 1-13
    scaled = [int(w * alpha) for w in widths]
    return {k: (scaled[k - 1], scaled[k]) for k in range(1, BLOCKS + 1)}


def finetune_param_count(first_block: int, *, alpha: float = ALPHA, num_classes: int = 10,
                         batchnorm: int = 0, conv_bias: bool = False, full_depthwise: bool = False) -> int:
    """What fine-tuning trains when MobileNet's blocks ``first_block``..13 are unfrozen (BatchNorm frozen),
    plus a Dense(num_classes) head on the pooled features.

    Each block is a 3×3 depthwise conv (one 3×3 filter per input channel) and a 1×1 pointwise conv
    (inputs × outputs), neither with a bias.  The keyword arguments count the usual mistakes instead:
    ``batchnorm`` parameters per BatchNorm channel, a bias per conv filter, a depthwise conv counted as
    a full 3×3 conv.
    """
    channels = _block_channels(alpha)
    total = 0
    for k in range(first_block, BLOCKS + 1):
        c_in, c_out = channels[k]
        depthwise = 9 * c_in * (c_in if full_depthwise else 1)
        total += depthwise + c_in * c_out + (c_in + c_out) * (int(conv_bias) + batchnorm)
    return total + (channels[BLOCKS][1] + 1) * num_classes


def _check_q2(finetune_params):
    answer = whole_number("finetune_params", finetune_params)
    right = finetune_param_count(11)
    if answer == right:
        return
    head = (_block_channels()[BLOCKS][1] + 1) * 10
    mistakes = {
        right - head: "the new Dense(10) head trains in stage 2 too: add its parameters.",
        finetune_param_count(11, batchnorm=2): "the BatchNormalization layers stay frozen, so none of their "
                                               "parameters train (not even their scale and shift).",
        finetune_param_count(11, batchnorm=4): "the BatchNormalization layers stay frozen, so none of their "
                                               "parameters train.",
        finetune_param_count(11, conv_bias=True): "MobileNet's convolutions have no bias (the BatchNorm after "
                                                  "each one supplies the shift).",
        finetune_param_count(11, full_depthwise=True): "a depthwise 3×3 convolution has one 3×3 filter per input "
                                                       "channel, not one per pair of input and output channels.",
        finetune_param_count(12): "that counts blocks 12 and 13 only: block 11 is unfrozen as well.",
        finetune_param_count(10): "that counts four blocks: unfreezing from conv_dw_11 leaves block 10 frozen.",
    }
    if answer in mistakes:
        raise Incorrect(mistakes[answer])
    raise Incorrect("not yet: add, for blocks 11, 12 and 13, the depthwise conv's weights (3×3 per input channel) "
                    "and the pointwise conv's (input channels × output channels), then the head's weights and "
                    "biases. base.summary() shows each layer's channels.")


q2 = Exercise(
    name="q2", lesson="06", variables=("finetune_params",), checker=_check_q2,
    purpose="count what fine-tuning trains, and see what a depthwise-separable block costs",
    expected="more than half of the base's convolution weights sit in its last three blocks, almost all of "
             "them in the 1×1 pointwise convs: the 3×3 depthwise convs are cheap.",
    cost="seconds (no training)",
    hints=("Only three kinds of layer hold parameters that train here: the depthwise convs (conv_dw_k), the "
           "pointwise convs (conv_pw_k) of blocks 11 to 13, and the head. BatchNorm is frozen.",
           "A depthwise 3×3 conv filters each channel on its own: 3·3 weights per channel. A pointwise conv is a "
           "1×1 conv: input channels × output channels weights. Neither has a bias. At alpha 0.25 block 11 maps "
           "128 channels to 128, block 12 128 to 256, block 13 256 to 256.",
           "The head is Dense(10) on 256 pooled features: 256 × 10 weights and 10 biases."),
    solution_code="# blocks 11-13: (3*3*c_in depthwise + c_in*c_out pointwise), then the Dense(10) head\n"
                  "finetune_params = (9 * 128 + 128 * 128) + (9 * 128 + 128 * 256) + (9 * 256 + 256 * 256) "
                  "+ (256 + 1) * 10",
)


# ----------------------------------------------------------------------------- q3
def _fresh_model(size: int = 64):
    """A small random-weight transfer model, frozen: only which layers train matters here."""
    import keras

    inputs = keras.Input(shape=(size, size, 3))
    base = keras.applications.MobileNet(alpha=ALPHA, include_top=False, weights=None,
                                        input_shape=(size, size, 3), pooling="avg")
    base.trainable = False
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="output")(base(inputs)))


def _block_of(name: str) -> int | None:
    """The block a MobileNet layer belongs to (conv_dw_12_bn -> 12, conv_pad_12 -> 12), None for the stem."""
    parts = name.split("_")
    if len(parts) >= 3 and parts[0] == "conv" and parts[1] in ("dw", "pw", "pad") and parts[2].isdigit():
        return int(parts[2])
    return None


def _is_compiled_for_stage2(model, learning_rate: float) -> None:
    import keras

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise Incorrect("the model is not compiled: after changing what is trainable, compile it again for stage 2.")
    if not isinstance(optimizer, keras.optimizers.Adam):
        raise Incorrect(f"compile with Adam, as the lesson's stage 2 did (yours: {type(optimizer).__name__}).")
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if not np.isclose(rate, learning_rate, rtol=1e-4):
        raise Incorrect("the optimizer's learning rate is not the learning_rate the function was given: pass it "
                        "to keras.optimizers.Adam(learning_rate=...).")
    loss = getattr(model, "loss", None)
    if not (loss == "categorical_crossentropy" or isinstance(loss, keras.losses.CategoricalCrossentropy)
            or loss is keras.losses.categorical_crossentropy):
        raise Incorrect("the lesson's labels are one-hot: compile with loss='categorical_crossentropy'.")


def _check_one(prepare_fine_tuning, n_blocks: int, learning_rate: float) -> None:
    import keras

    from ..transfer import get_base

    model = _fresh_model()
    returned = call_learner(prepare_fine_tuning, model, n_blocks, learning_rate)
    base = get_base(model)
    first = BLOCKS + 1 - n_blocks
    if not base.trainable:
        raise Incorrect("the base itself is still frozen (base.trainable is False), so none of its layers "
                        "train: set it to True first, then freeze the layers you keep.")
    if not model.get_layer("output").trainable:
        raise Incorrect("the head no longer trains: stage 2 trains it along with the top blocks.")
    top = lambda layer: (_block_of(layer.name) or 0) >= first   # noqa: E731
    norms = [layer.name for layer in base.layers
             if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]
    if norms:
        raise Incorrect(f"BatchNormalization layers train (e.g. {norms[0]}): keep every one of them frozen, so "
                        "that they keep normalising with their ImageNet statistics.")
    early = [layer.name for layer in base.layers if layer.weights and layer.trainable and not top(layer)]
    if early:
        raise Incorrect(f"with n_blocks={n_blocks}, layers below the last {n_blocks} blocks train too (e.g. "
                        f"{early[0]}): blocks are counted from the top, conv_dw_13/conv_pw_13 being the last.")
    late = [layer.name for layer in base.layers if top(layer) and layer.weights and not layer.trainable
            and not isinstance(layer, keras.layers.BatchNormalization)]
    if late:
        raise Incorrect(f"with n_blocks={n_blocks}, some layers of the last {n_blocks} blocks stay frozen (e.g. "
                        f"{late[0]}).")
    _is_compiled_for_stage2(model, learning_rate)
    trained = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    if returned is None:
        raise Incorrect("the function should also return how many parameters stage 2 will train (base and head).")
    try:
        whole_number("the returned count", returned)
    except Incorrect:
        raise Incorrect("the function should return a whole number: how many parameters stage 2 will train.") from None
    if int(returned) != trained:
        raise Incorrect(f"with n_blocks={n_blocks} the function returns {int(returned):,}, but the model's "
                        "trainable weights hold another number of parameters: count model.trainable_weights "
                        "(base and head), after unfreezing.")


def _check_q3(prepare_fine_tuning):
    for n_blocks, learning_rate in ((3, 1e-5), (1, 3e-4)):   # two calls, so that a fixed answer shows
        _check_one(prepare_fine_tuning, n_blocks, learning_rate)


q3 = Exercise(
    name="q3", lesson="06", variables=("prepare_fine_tuning",), checker=_check_q3,
    purpose="prepare stage 2 for any number of top blocks: unfreeze them (BatchNorm kept frozen), compile "
            "with a small learning rate, and say what will train",
    expected="MobileNet's blocks end in conv_pw_13; unfreezing the last n means from conv_dw_(14 - n) on, and "
             "the count it returns for 3 blocks is your answer to exercise 2.",
    cost="seconds (builds two random-weight MobileNets; no training)",
    hints=("The base's layers are named by block: conv_dw_k, conv_dw_k_bn, ..., conv_pw_k_relu for k = 1 to 13 "
           "(print [layer.name for layer in base.layers]). The last n blocks start at block 14 - n.",
           "transfer.unfreeze_top(model, first_layer) unfreezes from a layer name; then compile, as the lesson's "
           "stage 2 did, but with the learning rate you were given.",
           "Return sum(int(np.prod(w.shape)) for w in model.trainable_weights), counted after unfreezing."),
    solution_code="import keras\n"
                  "import numpy as np\n"
                  "from cnncourse import transfer\n\n"
                  "def prepare_fine_tuning(model, n_blocks, learning_rate):\n"
                  "    # the last n_blocks blocks start at conv_dw_(14 - n_blocks); BatchNorm stays frozen\n"
                  "    transfer.unfreeze_top(model, f\"conv_dw_{14 - n_blocks}\")\n"
                  "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),\n"
                  "                  loss=\"categorical_crossentropy\", metrics=[\"accuracy\"])\n"
                  "    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)",
)

EXERCISES = {e.name: e for e in (q1, q2, q3)}
