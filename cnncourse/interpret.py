"""Look inside a trained model: layers by name, kernels, feature maps, Grad-CAM.

Computing and drawing are separate: these functions return arrays, the
``plot_*`` helpers in :mod:`cnncourse.viz` draw them.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from . import arguments

_CONV_TYPES = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def get_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called ``name``; an unknown name raises ValueError listing the valid ones."""
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise ValueError(f"Model {model.name!r} has no layer {name!r}. Valid layer names: {', '.join(names)}")
    return model.get_layer(name)


def get_conv_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """Like :func:`get_layer`, but the layer must be convolutional (else ValueError naming the conv layers)."""
    layer = get_layer(model, name)
    if not isinstance(layer, _CONV_TYPES):
        convs = [l.name for l in model.layers if isinstance(l, _CONV_TYPES)] or ["none"]
        raise ValueError(
            f"Layer {name!r} is a {type(layer).__name__}, not a convolutional layer. "
            f"Convolutional layers of {model.name!r}: {', '.join(convs)}"
        )
    return layer


def build_activation_model(model: keras.Model, layer_name: str) -> keras.Model:
    """A sub-model from ``model``'s input to the output of its convolutional layer ``layer_name``."""
    layer = get_conv_layer(model, layer_name)
    return keras.Model(model.inputs, layer.output, name=f"{model.name}_to_{layer_name}")


def get_feature_maps(model: keras.Model, layer_name: str, images: np.ndarray) -> np.ndarray:
    """The outputs of conv layer ``layer_name`` for ``images``: array (N, H', W', filters)."""
    images = arguments.images_for_model(model, images)
    return np.asarray(build_activation_model(model, layer_name).predict(images, verbose=0))


def get_conv_kernels(model: keras.Model, layer_name: str) -> np.ndarray:
    """The kernel weights of conv layer ``layer_name``: array (kh, kw, channels_in, filters)."""
    return np.asarray(get_conv_layer(model, layer_name).kernel)


def _logits_and_layer_model(model: keras.Model, layer: keras.layers.Layer):
    """A model from ``model``'s input to [``layer``'s output, the class logits (the scores before softmax)].

    The logits are the input of a final ``Activation("softmax")`` layer, or a final softmax
    ``Dense`` layer recomputed without its activation; a model whose output is not a softmax
    is taken to output logits already.
    """
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    is_softmax = activation is keras.activations.softmax or getattr(activation, "__name__", "") == "softmax"
    if isinstance(last, keras.layers.Activation) and is_softmax:
        return keras.Model(model.inputs, [layer.output, last.input])
    if isinstance(last, keras.layers.Dense) and is_softmax:
        inner = keras.Model(model.inputs, [layer.output, last.input])

        def logits_model(x, training=False):
            maps, features = inner(x, training=training)
            logits = keras.ops.matmul(features, last.kernel)
            if last.use_bias:
                logits = logits + last.bias
            return maps, logits

        return logits_model
    return keras.Model(model.inputs, [layer.output, model.output])


def compute_gradcam(
    model: keras.Model,
    images: np.ndarray,
    layer_name: str,
    class_index: np.ndarray | int | None = None,
) -> np.ndarray:
    """Grad-CAM heatmaps: where in each image the conv layer's evidence for a class lies.

    For each image, the feature maps of ``layer_name`` are weighted by the mean
    gradient of the class's *logit* (its score before softmax, as Grad-CAM is defined:
    a softmax output saturates, and its gradient mixes in every other class) with
    respect to them, summed, passed through ReLU and scaled to [0, 1], then resized to
    the image size.

    images : (N, H, W, C) array the model accepts
    class_index : the class to explain per image (int or array (N,)); default the predicted class
    Returns an array (N, H, W) of values in [0, 1].
    """
    import tensorflow as tf

    images = arguments.images_for_model(model, images)
    layer = get_conv_layer(model, layer_name)
    grad_model = _logits_and_layer_model(model, layer)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        maps, logits = grad_model(x, training=False)
        if class_index is None:
            idx = tf.argmax(logits, axis=1)
        else:
            idx = tf.broadcast_to(tf.convert_to_tensor(class_index, dtype=tf.int64), [images.shape[0]])
        score = tf.gather(logits, idx, axis=1, batch_dims=1)
    grads = tape.gradient(score, maps)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))
    cam = cam / (tf.reduce_max(cam, axis=(1, 2), keepdims=True) + 1e-12)
    cam = tf.image.resize(cam[..., None], images.shape[1:3], method="bilinear")[..., 0]
    return np.clip(cam.numpy(), 0.0, 1.0)


def predict_labels(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class and its probability for each image: two arrays of shape (N,)."""
    probs = np.asarray(model.predict(arguments.images_for_model(model, images), batch_size=batch_size, verbose=0))
    return probs.argmax(axis=1), probs.max(axis=1)


def get_dense_kernel(model: keras.Model, layer_name: str) -> np.ndarray:
    """The kernel of dense layer ``layer_name``: array (n_inputs, n_units)."""
    layer = get_layer(model, layer_name)
    if not isinstance(layer, keras.layers.Dense):
        raise ValueError(f"Layer {layer_name!r} is a {type(layer).__name__}, not a Dense layer")
    return np.asarray(layer.kernel)


def compute_weight_stats(
    weights: np.ndarray,
    signal: Sequence[int],
    *,
    zero_threshold: float = 1e-3,
) -> dict[str, float]:
    """Numbers behind a first-layer weight map (n_inputs, n_units), for lesson 03's claims.

    Returns a dict: ``noise_zero_fraction`` (share of the noise features' weights with
    |w| < zero_threshold), ``units_using_signal`` (hidden units with |w| >= zero_threshold
    on at least one signal feature), ``mean_abs_signal`` and ``mean_abs_noise`` (mean |w|
    over the signal / noise features' weights), and ``max_abs``.
    """
    w = np.abs(np.asarray(weights))
    signal = list(signal)
    noise = [i for i in range(w.shape[0]) if i not in signal]
    return {
        "noise_zero_fraction": float(np.mean(w[noise] < zero_threshold)),
        "units_using_signal": int(np.sum((w[signal] >= zero_threshold).any(axis=0))),
        "mean_abs_signal": float(w[signal].mean()),
        "mean_abs_noise": float(w[noise].mean()),
        "max_abs": float(w.max()),
    }


def find_examples(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    confidence: np.ndarray,
    true_class: int,
    *,
    correct: bool,
    n: int = 1,
) -> np.ndarray:
    """Indices of up to ``n`` examples of ``true_class`` that were classified correctly
    (``correct=True``) or wrongly, most confident first.  Empty when there are none."""
    y_true, y_pred, confidence = map(np.asarray, (y_true, y_pred, confidence))
    mask = (y_true == true_class) & ((y_pred == y_true) if correct else (y_pred != y_true))
    idx = np.flatnonzero(mask)
    return idx[np.argsort(-confidence[idx], kind="stable")][:n]
