"""Fixtures for the UI tests: a private copy of the default index, a launched app, and a hostile page.

Import the fixtures you use into a test module (`from tests.ui_fixtures import ui_engine, app_url`).
`default_engine` comes from tests/conftest.py; each module gets its own copy of that index, so
documents added through the UI never leak into other tests.
"""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

XSS_FLAGS = ("__xss_title", "__xss_by", "__xss")  # window properties the payloads below would set
# A magazine page (the shape `qa index` reads) whose headline, byline and comments carry script payloads.
XSS_PAGE = """\
This site is intended for health professionals only

Dermatology deal in Testshire <img src=x onerror="window.__xss_title=1"> sparks row

By Jo Bloggs

Clinical commissioning groups in Testshire will commission community dermatology services from next April, the local \
area team announced in a statement sent to every practice in the county this week.

The budget for dermatology will be held jointly by the CCG and the county council, which will also \
monitor waiting times.

Readers' comments (3)

  • Mallory Evil

    Dermatology commissioning in Testshire is a mistake <script>window.__xss=1</script> \
<img src=x onerror="window.__xss=2"> <a href="javascript:window.__xss=3">click me</a> \
<style>body{display:none}</style> <svg onload="window.__xss=4"></svg> ${window.__xss=5} \
{{constructor.constructor('window.__xss=6')()}} <iframe srcdoc="<script>parent.__xss=7</script>"></iframe>

    Unsuitable or offensive? Report this comment

  • Dermatology waiting lists in Testshire are far too long already, and readers doubt the CCG can fix them.

    Unsuitable or offensive? Report this comment
"""
XSS_QUESTION = "What do readers think about dermatology commissioning in Testshire?"


def write_xss_page(folder: Path) -> Path:
    path = folder / "testshire_dermatology.txt"
    path.write_text(XSS_PAGE, encoding="utf-8")
    return path


@contextlib.contextmanager
def served(engine, **options) -> Iterator[str]:
    """The app launched in this process on a free local port; yields its URL and closes it after."""
    from ui import ServeConfig
    from ui.app import launch

    demo, url = launch(engine, ServeConfig(**options), block=False, quiet=True)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def ui_engine(default_engine, tmp_path_factory):
    """An engine over a private copy of the default index (same model), free to be added to."""
    from qa import Engine

    folder = tmp_path_factory.mktemp("ui-index") / "index"
    shutil.copytree(default_engine.index_dir, folder)
    return Engine.load(folder, embedder=default_engine.embedder)


@pytest.fixture(scope="module")
def app_url(ui_engine) -> Iterator[str]:
    """The app over `ui_engine`, with a 1 MB upload limit so the limit can be tested cheaply."""
    with served(ui_engine, max_upload_mb=1) as url:
        yield url
