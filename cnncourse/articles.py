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
# validation_split=0.1 of the 60,000 training images: the last 6,000 validated, 54,000 trained
LESSON01_MNIST_SETTINGS = {"training images": 54_000, "validation images": 6_000, "epochs": 20, "batch size": 128}

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


# Article 000: four architectures on Fashion-MNIST, Adam, batch 500, validation_split 0.2,
# 100 epochs; before every epoch the "hidden" layer's output for all 60,000 training
# images was embedded with UMAP (n_neighbors=40).  It published figures, no numbers: its
# conclusion is that Inception + Residual reached the best accuracy and the most clearly
# separated clusters.
# validation_split=0.2 of the 60,000 training images: Keras validated on the last 12,000
LESSON04_SETTINGS = {"training images": 48_000, "validation images": 12_000, "epochs": 100, "batch size": 500,
                     "images embedded per epoch": 60_000, "UMAP n_neighbors": 40}
LESSON04_BEST_MODEL = "Inception+Residual"


# Article 002: validation (= test set) accuracy on CIFAR-10 after 100 epochs, batch 128,
# each row adding one technique to the row above (one run each).
LESSON05_ABLATION: dict[str, float] = {
    "base CNN": 0.7288,
    "+ augmentation": 0.8609,
    "+ batch norm": 0.9124,
    "+ residual blocks": 0.8971,
    "+ global avg pooling": 0.9044,
    "+ dropout": 0.9046,
    "+ mixup": 0.9070,
    "+ AMSGrad": 0.9096,
}
LESSON05_SETTINGS = {"training images": 50_000, "epochs": 100, "batch size": 128, "width": 1.0}


# Article 004 section 4: MobileNet (alpha 1.0, ImageNet, no top, average pooling) + Dense(10)
# on 32x32 CIFAR-10, pixels in [0, 1]; Adam, batch 128, 3 epochs, test set as validation.
LESSON06_MOBILENET_PARAMS = {"total": 3_239_114, "trainable": 3_217_226, "non-trainable": 21_888}
LESSON06_BEFORE_TRAINING = {"test loss": 2.3138, "test accuracy": 0.1194}
LESSON06_EPOCHS = {  # epoch: (train accuracy, validation accuracy)
    1: (0.6426, 0.7144),
    2: (0.7826, 0.7499),
    3: (0.8265, 0.7728),
}
LESSON06_SECONDS_PER_EPOCH = (15, 17)   # per epoch, on the article's machine (its Keras log)

# Article 004 section 5.1: SimpleConvNet with GlobalAveragePooling2D instead of Flatten.
LESSON06_GAP_PARAMS = {"Flatten": 591_390, "GAP": 6_390}
LESSON06_GAP_ACCURACY = 0.56        # after 150 epochs, "about 10 points below" the Flatten model
LESSON06_GAP_EPOCHS = 150
