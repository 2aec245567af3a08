"""SQuAD v1 articles split three ways by title, so training, calibration and reporting never share an article.

`train` is what `python -m training.answer_scorer` learns from; `calibration` is where the abstention
threshold and the confidence mapping are fitted (never trained on, never reported); `dev` is what the
benchmark reports (never trained or calibrated on). The held-out two ship in `eval/data/squad-heldout/`.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

SPLITS = ("train", "calibration", "dev")
HELDOUT = Path(__file__).resolve().parent / "data" / "squad-heldout"


def split_of(title: str) -> str:
    """"calibration" for a tenth of the articles, "dev" for another tenth, "train" for the rest."""
    bucket = int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % 10
    return "calibration" if bucket == 0 else "dev" if bucket == 1 else "train"


def read_articles(path: str | Path) -> Iterator[dict]:
    """SQuAD articles from a `.jsonl.gz` (one article per line) or `.jsonl` file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def heldout_articles(split: str) -> list[dict]:
    """The shipped calibration or dev articles."""
    if split not in ("calibration", "dev"):
        raise ValueError(f"only the held-out splits ship with the package ('calibration', 'dev'), not {split!r}")
    return list(read_articles(HELDOUT / f"{split}.jsonl.gz"))
