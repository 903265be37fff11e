"""Keep TensorFlow's C++ log lines out of a learner's notebook.

TensorFlow 2.21 writes start-up and data-pipeline messages (``I0000 ... cudart_stub``,
``E0000 ... NodeDef mentions attribute``, "All log messages before absl::InitializeLog")
straight to file descriptor 2, where no environment variable silences them, and a Jupyter
kernel shows that descriptor in the notebook.  :func:`hide_tensorflow_logs` puts a filter
on descriptor 2 that drops exactly those lines and passes everything else through.
Importing :mod:`cnncourse` inside a Jupyter kernel calls it; elsewhere (scripts, tests,
the CLI) nothing is changed.  ``CNNCOURSE_TF_LOGS=1`` in the environment keeps every
TensorFlow log line (for debugging TensorFlow itself).
"""

from __future__ import annotations

import os
import re
import sys
import threading

# absl's log-line prefix: severity letter, MMDD, time, thread id, file:line]
TF_LOG_LINE = re.compile(rb"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\]"
                         rb"|WARNING: All log messages before absl::InitializeLog\(\)"
                         rb"|To enable the following instructions: )")

_installed = False

#: set to 1 to see TensorFlow's C++ log lines in notebooks after all
SHOW_LOGS_ENV = "CNNCOURSE_TF_LOGS"


def logs_wanted() -> bool:
    """True when the learner asked for TensorFlow's log lines (``CNNCOURSE_TF_LOGS=1``)."""
    return os.environ.get(SHOW_LOGS_ENV, "").strip().lower() in ("1", "true", "yes")


def in_notebook_kernel() -> bool:
    """True inside a Jupyter (ipykernel) kernel."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def keep_line(line: bytes) -> bool:
    """False for a TensorFlow/absl C++ log line, True for anything else."""
    return not TF_LOG_LINE.match(line.lstrip())


class RetracingNoticeFilter:
    """A :mod:`logging` filter that drops TensorFlow's "triggered tf.function retracing" notice.

    Keras builds one predict function per model; a lesson that predicts with several models in a
    row (lesson 04 records each model's hidden layer every epoch) makes TensorFlow's Python logger
    print that notice, which is advice for code that rebuilds one function by mistake."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def hide_retracing_notices() -> None:
    """Put :class:`RetracingNoticeFilter` on TensorFlow's Python logger (once)."""
    import logging

    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, RetracingNoticeFilter) for f in logger.filters):
        logger.addFilter(RetracingNoticeFilter())


def hide_tensorflow_logs(fd: int = 2) -> bool:
    """Filter TensorFlow's C++ log lines out of descriptor ``fd`` for the rest of the process.

    Call it before TensorFlow is imported.  Returns True when the filter was installed
    (once per process), False when it already was.
    """
    global _installed
    if _installed:
        return False
    hide_retracing_notices()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    target = os.dup(fd)
    read_end, write_end = os.pipe()
    os.dup2(write_end, fd)
    os.close(write_end)

    def pump() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:
                return
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if keep_line(line))
            if kept:
                try:
                    os.write(target, kept)
                except OSError:
                    pass

    threading.Thread(target=pump, name="cnncourse-hide-tf-logs", daemon=True).start()
    _installed = True
    return True
