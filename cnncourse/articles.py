"""The figures the source articles published, for the lessons' "yours vs the article's" tables.

Facts only (see ../spec/COURSE.md); measured on the articles' machines with Keras 2.
"""

from __future__ import annotations

import pandas as pd

# Article 001: the MNIST variants (test loss, test accuracy after 20 epochs of Adadelta).
# Model 1's own figures were published in an earlier article that is not part of the
# sources, so they are left blank rather than guessed.
LESSON01_MNIST_VARIANTS: dict[str, tuple[float | None, float | None]] = {
    "1: base": (None, None),
    "2: one conv": (0.0268, 0.9914),
    "3: three convs": (0.0247, 0.9926),
    "4: no pooling": (0.0370, 0.9896),
    "5: 4x4 pooling": (0.0224, 0.9927),
    "6: one dense": (0.0355, 0.9897),
}

# Article 001's training settings for every variant (Adadelta, learning rate 1.0).
LESSON01_MNIST_SETTINGS = {"training images": 60_000, "epochs": 20, "batch size": 128}

# Article 004 section 3: SimpleConvNet on CIFAR-10, Adam, batch 100, 20 epochs,
# "about 65% at best", overfitting from about epoch 5.
LESSON01_SIMPLE_CONVNET_CIFAR10_ACCURACY = 0.65
LESSON01_SIMPLE_CONVNET_OVERFIT_EPOCH = 5

# Article 003 section 1: the one-conv MNIST CNN reached "~99%" test accuracy.
LESSON02_MNIST_SINGLE_CONV_ACCURACY = 0.99

# Article 003 section 2.1: under L1, "only 5 units" kept weights on features 3 and 6.
LESSON03_L1_UNITS_USING_SIGNAL = 5


def lesson01_mnist_table() -> pd.DataFrame:
    """Article 001's figures as a DataFrame: model, article_test_loss, article_test_accuracy."""
    rows = [
        {"model": name, "article_test_loss": loss, "article_test_accuracy": acc}
        for name, (loss, acc) in LESSON01_MNIST_VARIANTS.items()
    ]
    return pd.DataFrame(rows).astype({"article_test_loss": float, "article_test_accuracy": float})
