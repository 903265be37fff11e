"""Every builder's parameter count against the article's."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import models


def _layer_params(model):
    return {layer.name: layer.count_params() for layer in model.layers}


def test_simple_convnet_matches_article_004():
    model = models.build_simple_convnet()
    assert model.count_params() == 591_390
    counts = _layer_params(model)
    assert (counts["conv"], counts["dense"], counts["output"]) == (2_280, 588_100, 1_010)
    assert model.output_shape == (None, 10)


def test_dense_on_a_4d_tensor_keeps_the_spatial_axes():
    model = models.build_dense_on_feature_map()
    assert model.output_shape == (None, 14, 14, 100)
    assert model.count_params() == 5_380
    assert _layer_params(model)["dense"] == 3_100


@pytest.mark.parametrize(
    "builder, params",
    [
        # Conv(32,3)=320, Conv(64,3)=18,496, Dense(9216->128)=1,179,776, Dense(128->10)=1,290
        (models.build_mnist_base_cnn, 1_199_882),
        # Conv(64,5)=1,664 + 1,179,776 + 1,290
        (models.build_mnist_one_conv, 1_182_730),
        # 320 + 18,496 + 36,928 + Dense(11*11*64=7744->128)=991,360 + 1,290
        (models.build_mnist_three_conv, 1_048_394),
        # 320 + 18,496 + Dense(36864->128)=4,718,720 + 1,290
        (models.build_mnist_no_pooling, 4_738_826),
        # 320 + 18,496 + Dense(2304->128)=295,040 + 1,290
        (models.build_mnist_big_pooling, 315_146),
        # 320 + 18,496 + Dense(9216->10)=92,170
        (models.build_mnist_one_dense, 110_986),
    ],
)
def test_mnist_variants_parameter_counts(builder, params):
    model = builder()
    assert model.count_params() == params
    assert model.output_shape == (None, 10)


def test_variant_registry_lists_the_six_models_in_order():
    assert list(models.MNIST_VARIANTS) == [
        "1: base", "2: one conv", "3: three convs", "4: no pooling", "5: 4x4 pooling", "6: one dense",
    ]
    names = {build().name for build in models.MNIST_VARIANTS.values()}
    assert len(names) == 6


def test_regularized_mlp_shapes_and_options():
    import keras

    model = models.build_regularized_mlp()
    assert model.get_layer("hidden").kernel.shape == (10, 30)
    assert model.count_params() == 300 + 30 + 62
    l1 = models.build_regularized_mlp(l1=0.01)
    assert isinstance(l1.get_layer("hidden").kernel_regularizer, keras.regularizers.L1L2)
    assert "hidden_dropout" in [l.name for l in models.build_regularized_mlp(dropout=0.2).layers]
    narrow = models.build_regularized_mlp(init_stddev=0.001, seed=0)
    assert float(np.std(narrow.get_layer("hidden").kernel)) < 0.002
    with pytest.raises(ValueError, match="dropout"):
        models.build_regularized_mlp(dropout=1.0)


@pytest.mark.parametrize(
    "name, params",
    [
        # convs 160 + 5 x 4,128; Flatten 3x3x32=288 -> hidden 36,992; output 1,290
        ("Sequential", 59_082),
        # per stage a 2x2 and a 3x3 branch, concatenated to 64 channels; Flatten 576 -> 73,856
        ("Inception", 169_130),
        # the Sequential convs plus 3 BatchNorms of 4 x 32
        ("Residual", 59_466),
        # two residual branches per stage (2x2 and 3x3), each with its BatchNorm
        ("Inception+Residual", 106_410),
    ],
)
def test_lesson04_architectures(name, params):
    import keras

    model = models.ARCHITECTURES[name]()
    assert model.count_params() == params
    hidden = model.get_layer("hidden")
    assert hidden.output.shape == (None, 128) and hidden.activation is keras.activations.linear
    assert model.output_shape == (None, 10)
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert all(c.filters == 32 and c.padding == "same" for c in convs)
    assert all(isinstance(c.kernel_initializer, keras.initializers.HeNormal) for c in convs)


def test_residual_shortcuts_are_wired_as_the_article_describes():
    model = models.build_residual_cnn()
    add1 = model.get_layer("stage1_add")
    inputs1 = {t._keras_history.operation.name for t in add1.input}
    assert inputs1 == {"stage1_conv2", "stage1_conv1"}  # stage 1: its own first conv's output
    add2 = model.get_layer("stage2_add")
    assert {t._keras_history.operation.name for t in add2.input} == {"stage2_conv2", "stage1_dropout"}
    both = models.build_inception_residual_cnn()
    add = both.get_layer("stage1_add")
    assert {t._keras_history.operation.name for t in add.input} == {
        "stage1_2x2_conv2", "stage1_3x3_conv2", "stage1_2x2_conv1"}


# ----------------------------------------------------------------------------- a lesson's model against a builder
def _sequential_simple_convnet(conv_activation="relu", pool_size=2):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(30, 5, activation=conv_activation),
        layers.MaxPooling2D(pool_size),
        layers.Flatten(),
        layers.Dense(100, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="mine")


def test_a_sequential_model_matches_the_functional_builder_of_the_same_network():
    mine = _sequential_simple_convnet()
    assert models.describe_layers(mine) == models.describe_layers(models.build_simple_convnet())
    assert models.describe_layers(mine)[0] == ("Conv2D(relu)", (28, 28, 30), 2_280)
    models.assert_same_architecture(mine, models.build_simple_convnet())


@pytest.mark.parametrize("changed, says", [
    (lambda: _sequential_simple_convnet(conv_activation=None), r"layer 1: Conv2D \(28, 28, 30\)"),   # activation
    (lambda: _sequential_simple_convnet(pool_size=3), r"layer 2: MaxPooling2D \(9, 9, 30\)"),        # a shape
    (lambda: models.build_simple_gap_convnet(), r"layer 3: GlobalAveragePooling2D"),                 # a type
    (lambda: models.build_simple_convnet(input_shape=(28, 28, 3)), r"inputs of shape \(28, 28, 3\)"),
])
def test_a_different_model_is_named_at_its_first_different_layer(changed, says):
    with pytest.raises(AssertionError, match=says):
        models.assert_same_architecture(changed(), models.build_simple_convnet())


def test_a_model_with_extra_layers_is_not_the_same():
    import keras

    base = models.build_mnist_one_dense()
    longer = keras.Sequential([keras.Input((28, 28, 1))] + [layer.__class__.from_config(layer.get_config())
                                                             for layer in base.layers[1:]]
                              + [keras.layers.Activation("linear")], name="longer")
    with pytest.raises(AssertionError, match="has 7 layers, .model6_one_dense. has 6"):
        models.assert_same_architecture(longer, base)
