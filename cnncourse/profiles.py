"""Run profiles: every size a lesson uses, in one place.

A profile is picked with the environment variable ``CNNCOURSE_PROFILE``
(``smoke``, ``laptop`` or ``full``; default ``laptop``).  A notebook never
hard-codes an epoch count or a dataset size: it asks for its lesson's
settings::

    from cnncourse.profiles import get_profile
    profile = get_profile()          # reads CNNCOURSE_PROFILE
    s = profile.lesson01             # a frozen dataclass of sizes

``smoke``  proves that every cell runs (tiny data, one epoch; what CI runs).
``laptop`` is what a learner runs on a 2-core CPU: minutes per notebook.
``full``   reproduces the articles' own settings; meant for a GPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from .reproducibility import DEFAULT_SEED, derive_seed, run_seed

PROFILE_ENV = "CNNCOURSE_PROFILE"
DEFAULT_PROFILE = "laptop"


class ProfileError(ValueError):
    """An unknown profile name was asked for."""


@dataclass(frozen=True)
class Lesson01Settings:
    """Sizes for lesson 01 (CNN basics).

    ``None`` for a ``*_train``/``*_test`` count means "the whole official split" (for
    training: less the ``*_val`` validation images, held out from the rest of it).
    """

    mnist_train: int | None
    mnist_val: int
    mnist_test: int | None
    mnist_epochs: int
    mnist_batch_size: int
    cifar_train: int | None
    cifar_val: int
    cifar_test: int | None
    cifar_epochs: int
    cifar_batch_size: int


@dataclass(frozen=True)
class Lesson02Settings:
    """Sizes for lesson 02 (filters and feature maps)."""

    mnist_train: int | None
    mnist_test: int | None
    mnist_epochs: int
    mnist_batch_size: int
    cifar_train: int | None
    cifar_test: int | None
    cifar_epochs: int
    cifar_batch_size: int


@dataclass(frozen=True)
class Lesson03Settings:
    """Sizes for lesson 03 (weight maps under regularization)."""

    check_train: int
    check_test: int
    check_epochs: int          # per regularization setting
    init_epochs: int           # per initial weight scale
    mnist_train: int | None
    mnist_test: int | None
    mnist_epochs: int
    mnist_batch_size: int


@dataclass(frozen=True)
class Lesson04Settings:
    """Sizes for lesson 04 (four architectures, the hidden layer's UMAP after every epoch).

    Every architecture is trained once per seed in ``seeds`` (the same images, another
    initialisation and order).  ``probe_size`` training images (stratified) are embedded
    every epoch; UMAP's ``n_neighbors`` must be smaller than it.
    """

    fashion_train: int | None   # training images (None: all that the validation set leaves)
    fashion_val: int            # validation images, held out from the rest of the training split
    fashion_test: int | None
    seeds: tuple[int, ...]
    epochs: int
    batch_size: int
    probe_size: int
    n_neighbors: int
    embed_every: int            # embed epochs 0, k, 2k, ... and the last


@dataclass(frozen=True)
class Lesson05Settings:
    """Sizes for lesson 05 (the ResNet-techniques ablation on CIFAR-10).

    ``width`` multiplies the article's 64/128/256 filters; the configurations named in
    ``repeat_rows`` are trained once per seed in ``seeds``, the others once (first seed).
    """

    cifar_train: int | None
    cifar_test: int | None
    width: float
    epochs: int
    batch_size: int
    seeds: tuple[int, ...]
    repeat_rows: tuple[str, ...] = ()   # rows run with every seed; the others once (first seed)


@dataclass(frozen=True)
class Lesson06Settings:
    """Sizes for lesson 06 (MobileNet transfer learning; Global Average Pooling).

    ``mobilenet_alphas`` lists MobileNet widths in order of preference: the lesson uses
    the first whose ImageNet weights are cached or downloadable, and says so.  Every run
    of the lesson (transfer and from scratch) trains on the same ``transfer_images(alpha)``
    images, chooses its epoch on ``val_images`` held out from the rest of the training
    split, and is tested once on ``cifar_test`` images.
    """

    mobilenet_alphas: tuple[float, ...]
    transfer_train: tuple[tuple[float, int | None], ...]   # (alpha, training images)
    val_images: int             # validation images, from the rest of the training split
    cifar_test: int | None
    image_sizes: tuple[int, ...]  # frozen ImageNet features at each input size (px)
    image_size: int             # the size for random-weight features and fine-tuning
    article_train: int | None   # the article's run: training images (None: all but the validation ones)
    article_epochs: int         # the article's run: 32 px, [0, 1] inputs, everything trained
    article_batch_size: int
    head_epochs: int            # a linear head on cached features
    head_batch_size: int
    finetune_from: str          # the first MobileNet layer that fine-tuning unfreezes
    finetune_epochs: int
    finetune_batch_size: int
    finetune_learning_rate: float
    scratch_epochs: int         # SimpleConvNet from scratch, Flatten and GAP
    scratch_batch_size: int

    def transfer_images(self, alpha: float) -> int | None:
        """How many training images the lesson uses at width ``alpha`` (None = all but the validation ones)."""
        for a, n in self.transfer_train:
            if a == alpha:
                return n
        raise ValueError(f"no transfer_train size for alpha={alpha}; have {[a for a, _ in self.transfer_train]}")


@dataclass(frozen=True)
class Profile:
    """One named run profile: a description and the settings of every lesson."""

    name: str
    description: str
    lesson01: Lesson01Settings
    lesson02: Lesson02Settings
    lesson03: Lesson03Settings
    lesson04: Lesson04Settings
    lesson05: Lesson05Settings
    lesson06: Lesson06Settings
    # Compile nothing: run Keras op by op.  For a handful of steps this is faster than
    # building a graph (a MobileNet fine-tuning graph takes ~17 s to build on a 2-core CPU).
    run_eagerly: bool = False
    # Whether the lessons' claims are judged (HOLDS / NOT SEEN / WITHIN NOISE) on this profile's runs; a
    # profile too small to decide them records each claim as NOT JUDGED (cnncourse.claims)
    judges_claims: bool = True
    # The run's seed ($CNNCOURSE_SEED; see cnncourse.reproducibility) and where it came from; get_profile
    # derives every lesson's seeds from it
    seed: int = DEFAULT_SEED
    seed_origin: str = "the course's default"

    def summary(self, lesson: str | None = None) -> str:
        """A short text of the profile for a notebook's first cell: its name, and the sizes
        of ``lesson`` (e.g. "lesson01"), or of every lesson when None."""
        names = [f.name for f in fields(self) if f.name.startswith("lesson")]
        if lesson is not None and lesson not in names:
            raise ValueError(f"unknown lesson {lesson!r}; valid: {', '.join(names)}")
        lines = [f"cnncourse profile: {self.name} - {self.description}"
                 + (" (Keras runs eagerly)" if self.run_eagerly else "")
                 + f"; seed {self.seed} ({self.seed_origin})"]
        for name in names if lesson is None else [lesson]:
            value = getattr(self, name)
            sizes = ", ".join(f"{k.name}={getattr(value, k.name)}" for k in fields(value))
            lines.append(f"  {name}: {sizes}")
        return "\n".join(lines)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tiny data, one epoch: proves every cell runs (CI); judges no claim",
        judges_claims=False,
        lesson01=Lesson01Settings(
            mnist_train=1000, mnist_val=500, mnist_test=500, mnist_epochs=1, mnist_batch_size=128,
            cifar_train=1000, cifar_val=500, cifar_test=500, cifar_epochs=1, cifar_batch_size=100,
        ),
        lesson02=Lesson02Settings(
            mnist_train=2000, mnist_test=1000, mnist_epochs=1, mnist_batch_size=128,
            cifar_train=1000, cifar_test=500, cifar_epochs=1, cifar_batch_size=100,
        ),
        lesson03=Lesson03Settings(
            check_train=500, check_test=200, check_epochs=5, init_epochs=3,
            mnist_train=1000, mnist_test=500, mnist_epochs=1, mnist_batch_size=128,
        ),
        lesson04=Lesson04Settings(
            fashion_train=800, fashion_val=500, fashion_test=500, seeds=(42, 43), epochs=1, batch_size=32,
            probe_size=200, n_neighbors=15, embed_every=1,
        ),
        lesson05=Lesson05Settings(
            cifar_train=256, cifar_test=100, width=0.125, epochs=1, batch_size=64, seeds=(42,),
        ),
        lesson06=Lesson06Settings(
            # the smallest MobileNet, whose weights the offline course cache holds
            mobilenet_alphas=(0.25,), transfer_train=((0.25, 192),), val_images=100, cifar_test=200,
            image_sizes=(32, 64), image_size=64, article_train=192, article_epochs=1, article_batch_size=64,
            head_epochs=2, head_batch_size=64, finetune_from="conv_dw_13", finetune_epochs=1,
            finetune_batch_size=64, finetune_learning_rate=1e-4, scratch_epochs=1, scratch_batch_size=100,
        ),
        run_eagerly=True,
    ),
    "laptop": Profile(
        name="laptop",
        description="a 2-core CPU in minutes, close enough to the articles to teach the same lesson",
        lesson01=Lesson01Settings(
            # Overfitting is the lesson, so the models must get past their best epoch: fewer images
            # overfit sooner, and batch 32 makes twice the updates of batch 64 per epoch at about the
            # same cost (~8 ms per image-epoch for the six MNIST models together on a 2-core CPU).
            # Measured, models whose validation loss was lowest before the last epoch: 2 of 6 on
            # 5,000 images x 12 epochs of batch 64; 4 of 6 on 6,000 x 10 and on 10,000 x 8; 5 of 6
            # on 8,000 x 10 (one conv still improving), so 12 epochs here.  Validation: 3,000 images
            # held out from the rest of the training split.  The SimpleConvNet on 10,000 CIFAR
            # images turned upward after epoch 7 of 15 (2.2 s per epoch).
            mnist_train=8000, mnist_val=3000, mnist_test=None, mnist_epochs=12, mnist_batch_size=32,
            cifar_train=20000, cifar_val=5000, cifar_test=None, cifar_epochs=15, cifar_batch_size=100,
        ),
        lesson02=Lesson02Settings(
            # The colour filters look learned only once training has moved them further than their
            # random start, which takes weight updates.  Measured on a 2-core CPU (45,000 images,
            # batch 32): 3 epochs moved them 1.1x the size of the start (tiles still mostly noise),
            # 10 epochs 2.8x (colour blobs and edges in most tiles), ~10 s per epoch.
            mnist_train=None, mnist_test=None, mnist_epochs=10, mnist_batch_size=128,
            cifar_train=None, cifar_test=None, cifar_epochs=10, cifar_batch_size=32,
        ),
        lesson03=Lesson03Settings(
            check_train=2000, check_test=1000, check_epochs=60, init_epochs=30,
            mnist_train=20000, mnist_test=None, mnist_epochs=5, mnist_batch_size=128,
        ),
        lesson04=Lesson04Settings(
            # Two seeds per architecture, so that the ranking has a spread, at about the cost of the
            # one seed on 9,600 images x 8 epochs that this lesson had before (305-340 s).  Measured on
            # a 2-core CPU at batch 64: 5,000 images + 2,000 validated cost the four models ~22 s per
            # epoch; 7 epochs made the notebook 402 s, so 6.  The 1,000 probe images' recording
            # (~1.0 s) and UMAPs (~0.7 s) come to ~0.08 of an epoch's training.
            fashion_train=5000, fashion_val=2000, fashion_test=None, seeds=(42, 43), epochs=6, batch_size=64,
            probe_size=1000, n_neighbors=40, embed_every=1,
        ),
        lesson05=Lesson05Settings(
            # Measured on a 2-core CPU: augmentation's gain shows only once the base CNN overfits
            # and the augmented one has had ~1,000 updates.  Training costs about as much per image
            # at batch 32 as at 64 (BatchNorm doubles it), so batch 32 buys twice the updates:
            # 1,280 images x 28 epochs (1,120 updates) took 16.2 minutes for the 8 rows, with the
            # base CNN at train 91% / test 30% and augmentation +4.6 points.  1,600-1,800 images
            # x 40 epochs of batch 64 took 21.5-23.5 minutes; width 0.25 on 2,000 images, 29.
            # The rows whose effect the article found large run with three seeds (mean +- std, and
            # the pooled spread is every run's noise); the small-effect rows run once.
            cifar_train=1280, cifar_test=1000, width=0.125, epochs=28, batch_size=32, seeds=(42, 43, 44),
            repeat_rows=("base CNN", "+ augmentation", "+ batch norm", "+ AMSGrad"),
        ),
        lesson06=Lesson06Settings(
            # The article's alpha 1.0 where its weights can be had, else the cached 0.25 (alpha 1.0
            # costs ~2.3x as much per image, so it gets half the images).  Measured on a 2-core CPU at
            # alpha 0.25 on 10,000 images: frozen ImageNet features + a linear head reach ~27% at
            # 32 px (97% of the features are 0), ~61% at 64 px and ~66% at 96 px; extracting them
            # costs 0.4 / 0.7 / 1.1 ms per image, once (cached).  Sizes 128/160/192 would need other
            # weight files than the 224 one, so 96 px it is.  The article's own run (32 px, everything
            # trained) and its from-scratch comparison train on the whole training split, as the
            # article did, for the article's 2-epoch figure.
            mobilenet_alphas=(1.0, 0.25), transfer_train=((1.0, 5000), (0.25, 10000)), val_images=2000,
            cifar_test=5000, image_sizes=(32, 64, 96), image_size=96, article_train=None, article_epochs=2,
            article_batch_size=128,
            head_epochs=40, head_batch_size=128, finetune_from="conv_dw_12", finetune_epochs=3,
            finetune_batch_size=64, finetune_learning_rate=1e-4, scratch_epochs=20, scratch_batch_size=100,
        ),
    ),
    "full": Profile(
        name="full",
        description="the articles' own settings (all data, all epochs); meant for a GPU",
        lesson01=Lesson01Settings(
            # The articles: 20 epochs; MNIST validated on 10% of its 60,000 training images
            mnist_train=None, mnist_val=6000, mnist_test=None, mnist_epochs=20, mnist_batch_size=128,
            cifar_train=None, cifar_val=5000, cifar_test=None, cifar_epochs=20, cifar_batch_size=100,
        ),
        lesson02=Lesson02Settings(
            mnist_train=None, mnist_test=None, mnist_epochs=12, mnist_batch_size=128,
            cifar_train=None, cifar_test=None, cifar_epochs=20, cifar_batch_size=100,
        ),
        lesson03=Lesson03Settings(
            check_train=2000, check_test=1000, check_epochs=100, init_epochs=50,
            mnist_train=None, mnist_test=None, mnist_epochs=20, mnist_batch_size=128,
        ),
        lesson04=Lesson04Settings(
            # The article: 100 epochs, batch 500, validation_split 0.2 (12,000 of 60,000), n_neighbors
            # 40, one run; it embedded all 60,000 training images every epoch; this embeds a
            # 3,000-image probe every 5th epoch (21 embeddings per model, about 10 s each on a CPU),
            # and trains every model with two seeds, so that the ranking has a spread.
            fashion_train=None, fashion_val=12000, fashion_test=None, seeds=(42, 43), epochs=100,
            batch_size=500, probe_size=3000, n_neighbors=40, embed_every=5,
        ),
        lesson05=Lesson05Settings(
            # The article: width 1.0, all 50,000 images, 100 epochs, batch 128, one run each.
            cifar_train=None, cifar_test=None, width=1.0, epochs=100, batch_size=128, seeds=(42,),
        ),
        lesson06=Lesson06Settings(
            # The article: alpha 1.0, all images, Adam, batch 128, 3 epochs; GAP: 150 epochs.
            # 224 px is MobileNet's own input size (and its cached weight file).
            mobilenet_alphas=(1.0, 0.25), transfer_train=((1.0, None), (0.25, None)), val_images=5000,
            cifar_test=None, image_sizes=(32, 64, 96, 224), image_size=224, article_train=None, article_epochs=3,
            article_batch_size=128, head_epochs=40, head_batch_size=128, finetune_from="conv_dw_12",
            finetune_epochs=5, finetune_batch_size=64, finetune_learning_rate=1e-4, scratch_epochs=150,
            scratch_batch_size=100,
        ),
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile called ``name``, or the one named by ``CNNCOURSE_PROFILE``.

    Its ``seed`` is the run's (``CNNCOURSE_SEED``, default 42), and every lesson's seeds derive from it
    (:func:`with_seed`).  Raises ProfileError, listing the valid names, for an unknown name, and
    :class:`cnncourse.reproducibility.SeedError` for a ``CNNCOURSE_SEED`` that is neither a number nor a name.
    """
    if name is None:
        name = os.environ.get(PROFILE_ENV, "").strip() or DEFAULT_PROFILE
    key = name.strip().lower()
    if key not in PROFILES:
        valid = ", ".join(PROFILES)
        raise ProfileError(
            f"Unknown cnncourse profile {name!r}. Valid profiles: {valid}. "
            f"Set it with the environment variable {PROFILE_ENV} (default {DEFAULT_PROFILE!r})."
        )
    seed, origin = run_seed()
    return with_seed(PROFILES[key], seed, origin)


def with_seed(profile: Profile, seed: int, origin: str = "") -> Profile:
    """``profile`` for a run with seed ``seed``: every lesson's seeds derived from it (the default
    run's 42, 43, 44 become seed, seed + 1, seed + 2; see :func:`cnncourse.reproducibility.derive_seed`)."""
    def derived(settings):
        return replace(settings, seeds=tuple(derive_seed(s, seed) for s in settings.seeds))

    return replace(profile, seed=seed, seed_origin=origin or f"seed {seed}",
                   lesson04=derived(profile.lesson04), lesson05=derived(profile.lesson05))
