"""Text for a person's terminal. Titles, authors and comments come from the corpus, which anyone can write:
an escape sequence in them (ESC]0;... sets the window title, ESC[2J clears the screen) must never reach
the terminal as a command."""
from __future__ import annotations

import json
import re

# ESC sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-character ones) and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, clearing
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC (window title, links) and other strings
    r"|\x1b[ -/]*[0-~]?"  # two- and three-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # 8-bit OSC and other strings
)
# Other control characters (tab and newline stay) and the invisible marks that reorder how text is shown.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# In JSON text, the characters json.dumps leaves raw that a terminal would still act on or reorder.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")  # undecodable bytes of an argument: no terminal can be sent them


def plain(text: object) -> str:
    """`text` with escape sequences and control characters removed (tabs and newlines kept), and any
    undecodable byte shown as U+FFFD."""
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", _ESCAPES.sub("", str(text))))


def one_line(text: object) -> str:
    """plain(text) on one line, for an error message."""
    return " ".join(plain(text).split("\n"))


def json_text(data: object) -> str:
    """`data` as indented JSON (non-ASCII kept readable) with every control character escaped."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
