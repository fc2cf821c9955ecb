"""A clock for the providers' retry path that never really sleeps."""

from __future__ import annotations

from homelab_secrets.providers.http import Clock


class FakeClock(Clock):
    """No real sleeping; time advances by what was slept; jitter fixed at 1.0
    (every backoff step is its full length)."""

    def __init__(self) -> None:
        self.t = 0.0
        super().__init__(sleep=self._sleep, now=lambda: self.t, random=lambda: 1.0)

    def _sleep(self, seconds: float) -> None:
        self.t += seconds
