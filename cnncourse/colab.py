"""Run the lessons on Google Colab: where the course lives, the notebooks' first cell, the badges.

The repository and the ref the notebooks point at are set here, once: :data:`REPOSITORY` and
:data:`REF`.  Every notebook starts with the same code cell (:data:`SETUP_CELL`), which on Colab
installs this package from that ref (with ``--no-deps``, so Colab's own TensorFlow is kept) and
calls :func:`setup`; everywhere else it does nothing and prints nothing.  Each notebook's title
cell carries an "Open in Colab" badge for that very notebook (:func:`badge_markdown`).  After
changing :data:`REPOSITORY` or :data:`REF`, ``python -m cnncourse colab --sync``
(:mod:`cnncourse.tooling.colab_sync`) rewrites the notebooks' first cells and badges; a test checks
that they match.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

#: the course's repository on GitHub (owner/name) and the ref (branch or tag) Colab installs from
REPOSITORY = "cnncourse/cnncourse"
REF = "main"

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_CELL = f'''\
# On Google Colab this cell installs the course's package (from {REPOSITORY}@{REF}) and picks a profile
# that fits a Colab runtime; anywhere else it does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "cnncourse @ git+https://github.com/{REPOSITORY}@{REF}"], check=True)
    from cnncourse import colab
    colab.setup()'''

#: what the lessons import beyond Colab's own TensorFlow and Keras: (module, pip requirement)
RUNTIME_NEEDS = (
    ("numpy", "numpy"), ("pandas", "pandas"), ("matplotlib", "matplotlib"), ("seaborn", "seaborn"),
    ("umap", "umap-learn"), ("sklearn", "scikit-learn"), ("PIL", "pillow"), ("pydot", "pydot"), ("tqdm", "tqdm"),
)

#: the profile a Colab runtime gets unless the learner chose one: its CPU runtime has 2 cores, as the
#: laptop profile assumes (a GPU runtime runs it faster; ``full`` is hours even there)
COLAB_PROFILE = "laptop"


def notebook_url(notebook: str) -> str:
    """The notebook's address on GitHub at :data:`REF` (``notebook``: a file name such as
    ``01_cnn_basics.ipynb``)."""
    return f"https://github.com/{REPOSITORY}/blob/{REF}/notebooks/{Path(notebook).name}"


def colab_url(notebook: str) -> str:
    """The address that opens ``notebook`` (a file name) from the repository in Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{REF}/notebooks/{Path(notebook).name}"


def badge_markdown(notebook: str) -> str:
    """The "Open in Colab" badge (Markdown) for ``notebook``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook)})"


def setup(profile: str = COLAB_PROFILE) -> None:
    """On Colab, after the package is installed: install what the lessons import and Colab lacks
    (never TensorFlow or Keras: Colab's own stay), choose ``profile`` unless
    ``CNNCOURSE_PROFILE`` is already set, and say in one line what happened.  The data each lesson
    needs is downloaded by its loader when the lesson first asks for it, into ``~/.cnncourse/data``."""
    import importlib.util
    import subprocess

    from .catalogue import get_data_dir
    from .profiles import PROFILE_ENV

    missing = [req for module, req in RUNTIME_NEEDS if importlib.util.find_spec(module) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    chosen = os.environ.setdefault(PROFILE_ENV, profile)
    installed = f", installed {', '.join(missing)}" if missing else ""
    print(f"cnncourse {metadata.version('cnncourse')} from {REPOSITORY}@{REF}{installed}; profile '{chosen}' "
          f"(set {PROFILE_ENV} before this cell to choose another); data goes to {get_data_dir()} on first use.")
