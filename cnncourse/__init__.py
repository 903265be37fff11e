"""cnncourse: the helper package of a hands-on course on convolutional neural networks.

Modules, one responsibility each:

- :mod:`cnncourse.profiles`  run profiles (smoke / laptop / full) and every lesson's sizes
- :mod:`cnncourse.data`      dataset loaders (MNIST, Fashion-MNIST, CIFAR-10)
- :mod:`cnncourse.download`  ``fetch``: datasets and pretrained weights, with checksums
- :mod:`cnncourse.models`    one builder per architecture; a lesson's own model checked against a builder
- :mod:`cnncourse.source`    show the package's own code in a lesson, highlighted
- :mod:`cnncourse.training`  fit/evaluate helpers returning tidy tables, a hidden-layer recorder
- :mod:`cnncourse.augment`   augmentation layers and mixup as tf.data pipelines
- :mod:`cnncourse.ablation`  train cumulative configurations, resumably, into one table
- :mod:`cnncourse.embedding` per-epoch UMAP of a hidden layer and how separable its classes are
- :mod:`cnncourse.interpret` layers by name, kernels, feature maps, Grad-CAM, weight statistics
- :mod:`cnncourse.viz`       plot helpers: samples, learning curves, results vs the article, diagrams
- :mod:`cnncourse.viz_network` plot helpers: kernels, filter tiles, feature maps, weight maps
- :mod:`cnncourse.report`    report a notebook's metrics to the runner
- :mod:`cnncourse.articles`  the figures the source articles published
- :mod:`cnncourse.runner`    run notebooks headless
- :mod:`cnncourse.quiet`     keep TensorFlow's C++ log lines out of a notebook

Importing the package imports no TensorFlow; the modules that need it do.
"""

__version__ = "0.1.0"

from .quiet import hide_tensorflow_logs, in_notebook_kernel, logs_wanted  # noqa: E402

def _cap_threads_early() -> None:
    """With ``$CNNCOURSE_THREADS`` set, tell TensorFlow and OpenMP before either starts."""
    import os

    cap = os.environ.get("CNNCOURSE_THREADS", "").strip()
    if cap.isdigit() and int(cap) > 0:
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(name, cap)


_cap_threads_early()

if in_notebook_kernel() and not logs_wanted():   # before TensorFlow loads: its C++ log lines stay out of the notebook
    hide_tensorflow_logs()

from .profiles import get_profile  # noqa: E402,F401  (light: no TensorFlow)
from .reproducibility import set_seed  # noqa: E402,F401  (imports TensorFlow only when called)
