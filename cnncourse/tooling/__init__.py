"""The course's tooling: what builds, runs, checks and publishes the lessons, never imported by them.

- :mod:`cnncourse.tooling.cli`         ``python -m cnncourse``: one function per command
- :mod:`cnncourse.tooling.doctor`      ``doctor``: what is installed, where data and weights come from
- :mod:`cnncourse.tooling.runner`      run notebooks headless, collect their metrics
- :mod:`cnncourse.tooling.pool`        ``pool``: a class's runs pooled into one verdict per claim
- :mod:`cnncourse.tooling.bench`       ``doctor --bench``: a short workload, and each lesson's time and memory here
- :mod:`cnncourse.tooling.site`        the reading copy: executed notebooks as static pages
- :mod:`cnncourse.tooling.site_audit`  ``site --check``: the reading copy's pages, links and sizes
- :mod:`cnncourse.tooling.colab_sync`  ``colab --sync``: every notebook's first cell and badge

The teaching modules (the rest of :mod:`cnncourse`) never import this subpackage; CI checks it
(the import contracts in ``pyproject.toml``, ``lint-imports``).
"""
