"""Where the default corpus (five magazine articles shipped as package data) lies, found with
importlib.resources so it works wherever the package is installed, not only in a source checkout."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["DEFAULT_CORPUS"]

# A plain Path: the package is installed as files (setuptools package-data), never run from a zip.
DEFAULT_CORPUS = Path(str(resources.files("index").joinpath("default_corpus", "pulse")))
