"""Showing the package's own source in a lesson."""

from __future__ import annotations

import pytest

from cnncourse import models
from cnncourse.source import get_source, show_source


def test_the_source_is_the_code_that_runs():
    text = get_source(models.build_simple_convnet)
    assert text.startswith("def build_simple_convnet(")
    compiled = {}
    exec(compile(text, "<shown>", "exec"), vars(models).copy(), compiled)   # it is real, complete code
    assert compiled["build_simple_convnet"]().count_params() == 591_390


def test_several_objects_are_shown_in_order_and_methods_dedented():
    from cnncourse.training import HiddenActivationRecorder

    text = get_source(models.describe_layers, HiddenActivationRecorder.on_epoch_end)
    assert text.index("def describe_layers") < text.index("def on_epoch_end")
    assert "\ndef on_epoch_end" in text            # a method comes out at the left margin


def test_no_source_is_a_clear_error():
    with pytest.raises(TypeError, match="no source code can be found for <built-in function len>"):
        get_source(len)
    with pytest.raises(TypeError, match="at least one"):
        get_source()


def test_show_source_displays_highlighted_code_and_returns_nothing(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    assert show_source(models.build_simple_convnet) is None         # no Out: value in a notebook
    (code,) = shown
    assert isinstance(code, IPython.display.Code)
    assert "def build_simple_convnet" in code.data
    assert "highlight" in code._repr_html_()                       # pygments' markup, as JupyterLab shows it
