"""Every limit of the Verkada connector in one place, and where its API key and URL come from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

API_KEY_ENV = "VERKADA_API_KEY"
API_URL_ENV = "VERKADA_API_URL"
DEFAULT_API_URL = "https://api.verkada.com"


@dataclass(frozen=True)
class VerkadaLimits:
    """What Command's API allows and how the client paces itself (apidocs.verkada.com).

    Command allows 300 requests a minute per organisation, counted in 5-second windows (25
    each); the client keeps one under that per window so that latency never tips it over.
    """

    requests_per_window: int = 24
    window_seconds: float = 5.0
    token_lifetime_seconds: float = 30 * 60
    #: A token is renewed this long before it would expire (and whenever the API says so).
    token_renew_margin_seconds: float = 60.0
    page_size: int = 200  # the API's maximum
    timeout_seconds: float = 30.0
    #: Attempts of one call on a 5xx, a timeout or a dropped connection, with backoff between.
    max_attempts: int = 6
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    #: How long a 429 is waited out when the answer names no Retry-After.
    cooldown_seconds: float = 5.0
    #: 429s in a row after which the run stops (resumable) instead of waiting on for ever.
    max_rate_limited_waits: int = 200

    @property
    def requests_per_second(self) -> float:
        return self.requests_per_window / self.window_seconds


@dataclass(frozen=True)
class VerkadaSettings:
    """Where the organisation's API is, with which key, within which limits."""

    api_key: str = field(repr=False)  # never shown, never stored in a run record
    base_url: str = DEFAULT_API_URL
    limits: VerkadaLimits = field(default_factory=VerkadaLimits)


class MissingApiKey(ValueError):
    """No API key was given (a setup mistake the CLI reports in one line)."""


def read_api_key(key_file: str | Path | None = None) -> str:
    """The API key: from key_file when given, else from VERKADA_API_KEY."""
    if key_file is not None:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise MissingApiKey(
                f"cannot read the API key file {key_file}: {error.strerror or error}"
            ) from None
        if not key:
            raise MissingApiKey(f"the API key file {key_file} is empty")
        return key
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise MissingApiKey(
            f"no Verkada API key: set {API_KEY_ENV} or name a file with --verkada-key-file"
        )
    return key


def api_url(url: str | None = None) -> str:
    """The API's base URL: url, else VERKADA_API_URL, else Command's default region."""
    return (url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
