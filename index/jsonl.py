"""JSON Lines, one JSON value a line: the form of article archives, question sets, gold tables and the
index's own tables. One reading loop for all of them, so each names a bad line the same way."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from index.errors import InputError

__all__ = ["jsonl_rows"]


def jsonl_rows(text: str, name: str, error: type[Exception] = InputError) -> Iterator[tuple[int, Any]]:
    """(line number from 1, value) for each non-blank line of `text`, the contents of the file `name`.

    A line that is not JSON raises `error` naming the file and the line: "a.jsonl line 3: not valid JSON
    (Expecting value)". Lines end at "\\n" only: JSON may hold other line breaks (U+2028, form feed) raw in
    its strings, which `str.splitlines` would cut.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{name} line {number}: not valid JSON ({exc.msg})") from None
        yield number, value
