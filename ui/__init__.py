"""The web chat (Gradio): ask, read the cited passages, open the source. Start it with `qa serve`.

`ui.app.build_app(engine)` returns the Blocks app and `ui.app.launch(engine)` serves it; both use
only the public `qa` API. Importing this package does not import Gradio.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServeConfig"]


@dataclass(frozen=True)
class ServeConfig:
    """How the app is served; the defaults are the safe ones (local only, bounded queue, small uploads)."""

    host: str = "127.0.0.1"
    port: int | None = None  # None: Gradio's default (7860, or the next free port)
    max_queue: int = 32  # requests waiting beyond this are refused with a "busy" message
    concurrency: int = 2  # questions answered at once; the model shares the machine's cores
    max_upload_mb: int = 10
    # Host names the server answers for besides the loopback names and the bound address (DNS rebinding guard).
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip():
            raise ValueError(f"host must be a host name or address, got {self.host!r}")
        for name, low, high in (("max_queue", 1, 10_000), ("concurrency", 1, 64), ("max_upload_mb", 1, 1024)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        if not isinstance(self.allowed_hosts, tuple) or not all(
                isinstance(h, str) and h.strip() and not any(c in h for c in " /\\@,") for h in self.allowed_hosts):
            raise ValueError(f"allowed_hosts must be host names such as qa.example.org, got {self.allowed_hosts!r}")
        if self.port is not None and not (isinstance(self.port, int) and 1 <= self.port <= 65535):
            raise ValueError(f"port must be from 1 to 65535, got {self.port!r}")
