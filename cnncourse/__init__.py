"""cnncourse: the helper package of a hands-on course on convolutional neural networks.

Two halves.  The teaching modules below are what the lessons import; :mod:`cnncourse.tooling` is
what builds, runs, checks and publishes the lessons, and no teaching module imports it (CI checks
that, and that no two modules import each other, with ``lint-imports``; the contracts are in
``pyproject.toml``).

What a lesson runs on (lowest layer first):

- :mod:`cnncourse.arguments`   argument checks whose messages name the argument
- :mod:`cnncourse.quiet`       keep TensorFlow's C++ log lines out of a notebook
- :mod:`cnncourse.reproducibility` the one seed function, the run's seed (``$CNNCOURSE_SEED``), the thread cap
- :mod:`cnncourse.profiles`    run profiles (smoke / laptop / full) and every lesson's sizes
- :mod:`cnncourse.articles`    the figures the source articles published
- :mod:`cnncourse.report`      a notebook's metrics and verdicts, into the runner's ``metrics.json``
- :mod:`cnncourse.claims`      verdicts with their noise: HOLDS / NOT SEEN / WITHIN NOISE
- :mod:`cnncourse.fingerprints` sha256 of a file or an array (checksums, cache keys)

Data:

- :mod:`cnncourse.catalogue`   what the datasets and pretrained weights are, and where they live
- :mod:`cnncourse.fileformats` the official file formats read and checked: IDX, CIFAR-10 batches
- :mod:`cnncourse.download`    ``fetch``: datasets and pretrained weights, with checksums and timeouts
- :mod:`cnncourse.data`        the loaders: a lesson's arrays as an :class:`~cnncourse.data.ImageDataset`

Models and training:

- :mod:`cnncourse.models`      one builder per architecture; a lesson's model checked against a builder
- :mod:`cnncourse.source`      show the package's own code in a lesson, highlighted
- :mod:`cnncourse.training`    fit/evaluate helpers returning tidy tables, a hidden-layer recorder
- :mod:`cnncourse.augment`     augmentation layers and mixup as tf.data pipelines
- :mod:`cnncourse.ablation`    lesson 05: cumulative configurations, resumably, into one table
- :mod:`cnncourse.transfer`    lesson 06: frozen-base features computed once and cached on disk
- :mod:`cnncourse.embedding`   lesson 04: per-epoch UMAP of a hidden layer, how separable its classes are
- :mod:`cnncourse.interpret`   layers by name, kernels, feature maps, Grad-CAM, weight statistics

Figures and exercises:

- :mod:`cnncourse.viz`         plots of data and results: samples, curves, tables, diagrams, embeddings
- :mod:`cnncourse.viz_network` plots of a trained network's insides: kernels, feature maps, weight maps
- :mod:`cnncourse.colab`       a lesson's first cell on Google Colab, and its badge
- :mod:`cnncourse.exercises`   the exercises that check themselves (one module per lesson)

Importing the package imports no TensorFlow; the modules that need it do.
"""

__version__ = "0.1.0"

from .quiet import hide_tensorflow_logs, in_notebook_kernel, logs_wanted  # noqa: E402

from .reproducibility import export_thread_cap  # noqa: E402  (light: no TensorFlow)

export_thread_cap()

if in_notebook_kernel() and not logs_wanted():   # before TensorFlow loads: its C++ log lines stay out of the notebook
    hide_tensorflow_logs()

from .profiles import get_profile  # noqa: E402,F401  (light: no TensorFlow)
from .reproducibility import set_seed  # noqa: E402,F401  (imports TensorFlow only when called)
