"""The client-side rate limiter: at most N requests in any window of W seconds."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

_SLACK = 1e-6  # seconds


class WindowLimiter:
    """Blocks a request until sending it keeps every sliding window of window_seconds at or
    under limit requests. A sliding window under the limit is also under it in each of the
    server's fixed windows, whatever their phase."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a limiter needs a positive limit and window")  # a programming fault
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Wait, if need be, then count one request as sent now."""
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window_seconds:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                # The slack keeps float rounding from leaving the oldest request a hair inside
                # the window after a sleep meant to take it out (and the loop spinning).
                delay = self.window_seconds - (now - self._sent[0]) + _SLACK
                self.waited_seconds += delay
                self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Wait out a server's cool-down (after a 429), then start counting afresh."""
        with self._lock:
            self.waited_seconds += seconds
            self._sleep(seconds)
            self._sent.clear()
