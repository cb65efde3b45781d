"""The Verkada Command API client: tokens, pacing, 429s, retries, and the access-control calls."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from credkit.connectors.verkada.config import VerkadaSettings
from credkit.connectors.verkada.limiter import WindowLimiter

USER_PATH = "/access/v1/access_users/user"
USERS_PATH = "/access/v1/access_users"
CARD_PATH = "/access/v1/credentials/card"
PLATE_PATH = "/access/v1/credentials/license_plate"
ENTRY_CODE_PATH = "/access/v1/access_users/user/entry_code"


class VerkadaError(Exception):
    """A call to Command that did not succeed (its message is safe to show: no key in it)."""


class VerkadaFatal(VerkadaError):
    """An answer that stops the run: the key refused or lacking permission, retries exhausted,
    an endless rate limit. The run is resumable."""


class VerkadaRejected(VerkadaError):
    """A 4xx answer to one call (a bad or conflicting request): the row fails with it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Command answered {status}: {message}")
        self.status = status
        self.api_message = message


class WriteOutcomeUnknown(VerkadaError):
    """A write met a 5xx, a timeout or a dropped connection: it may or may not have applied."""


class _Transient(Exception):
    """A 5xx answer (retried)."""


@dataclass
class CallStats:
    """What the client did, for progress, tests and the run's summary."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    rate_limited: int = 0
    token_renewals: int = 0
    retries: int = 0


class VerkadaClient:
    """One organisation's API: every call paced by the limiter, authenticated with a token
    that is renewed before it expires and whenever the API says it has, 429s waited out.

    Reads are retried with backoff on 5xx, timeouts and dropped connections. Writes are not
    retried here: the caller reads the user's credentials again to learn whether the write
    applied (WriteOutcomeUnknown), so that no change is ever made twice.
    """

    def __init__(
        self,
        settings: VerkadaSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.stats = CallStats()
        self._clock = clock
        self._sleep = sleep
        self.limiter = WindowLimiter(
            self.limits.requests_per_window, self.limits.window_seconds, clock=clock, sleep=sleep
        )
        self._http = httpx.Client(base_url=settings.base_url, timeout=self.limits.timeout_seconds)
        self._token: str | None = None
        self._token_at = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VerkadaClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the access-control calls --------------------------------------------------------

    def get_user(self, **key: str) -> dict[str, Any] | None:
        """A user's access information (cards, license plates, entry code) by exactly one of
        user_id, external_id, email, employee_id; None when Command has no such user."""
        try:
            return self.read("GET", USER_PATH, params=key)
        except VerkadaRejected as error:
            if error.status == 404:
                return None
            raise

    def iter_users(self) -> Iterator[dict[str, Any]]:
        """Every access user of the organisation, page by page."""
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {"page_size": self.limits.page_size}
            if page_token:
                params["page_token"] = page_token
            page = self.read("GET", USERS_PATH, params=params)
            yield from page.get("access_members", [])
            page_token = page.get("next_page_token")
            if not page_token:
                return

    def add_card(self, user_id: str, card: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", CARD_PATH, params={"user_id": user_id}, body=card)

    def delete_card(self, user_id: str, card_id: str) -> None:
        self.write("DELETE", CARD_PATH, params={"user_id": user_id, "card_id": card_id})

    def set_card_active(self, user_id: str, card_id: str, active: bool) -> None:
        path = CARD_PATH + ("/activate" if active else "/deactivate")
        self.write("PUT", path, params={"user_id": user_id, "card_id": card_id})

    def add_plate(self, user_id: str, plate: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", PLATE_PATH, params={"user_id": user_id}, body=plate)

    def delete_plate(self, user_id: str, number: str) -> None:
        params = {"user_id": user_id, "license_plate_number": number}
        self.write("DELETE", PLATE_PATH, params=params)

    def set_plate_active(self, user_id: str, number: str, active: bool) -> None:
        path = PLATE_PATH + ("/activate" if active else "/deactivate")
        self.write("PUT", path, params={"user_id": user_id, "license_plate_number": number})

    def set_entry_code(self, user_id: str, code: str, *, override: bool = False) -> None:
        params = {"user_id": user_id, "override": "true" if override else "false"}
        self.write("PUT", ENTRY_CODE_PATH, params=params, body={"entry_code": code})

    # --- plumbing ------------------------------------------------------------------------

    def read(self, method: str, path: str, **request: Any) -> Any:
        """A call that changes nothing, retried with backoff on 5xx and transport faults."""
        self.stats.reads += 1
        return self._retrying(lambda: self._send(method, path, **request))

    def write(self, method: str, path: str, **request: Any) -> Any:
        """A call that changes Command, sent once; WriteOutcomeUnknown when its fate is not
        known (the caller reads again, then decides)."""
        self.stats.writes += 1
        try:
            return self._send(method, path, **request)
        except (_Transient, httpx.TransportError) as fault:
            raise WriteOutcomeUnknown(_describe(fault)) from None

    def ensure_token(self) -> None:
        """Fetch a token now if there is none or it is about to expire (a pre-flight check
        of the key, too)."""
        age = self._clock() - self._token_at
        limits = self.limits
        if (
            self._token is None
            or age >= limits.token_lifetime_seconds - limits.token_renew_margin_seconds
        ):
            self._token = self._retrying(self._fetch_token)
            self._token_at = self._clock()

    def _fetch_token(self) -> str:
        response = self._paced("POST", "/token", headers={"x-api-key": self.settings.api_key})
        if response.status_code in (401, 403, 404):
            raise VerkadaFatal(
                f"Command refused the API key ({response.status_code}: {_message(response)}); "
                "check the key and its region's URL"
            )
        if response.status_code >= 500:
            raise _Transient(f"{response.status_code} from POST /token")
        if response.status_code >= 400:
            raise VerkadaFatal(f"POST /token answered {response.status_code}")
        return response.json()["token"]

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One call, as many times as it takes to get past expired tokens."""
        while True:
            self.ensure_token()
            response = self._paced(
                method, path, params=params, json=body, headers={"x-verkada-auth": self._token}
            )
            status = response.status_code
            if status == 401 and "expired" in _message(response).lower():
                self._token = None  # renewed on the next pass
                self.stats.token_renewals += 1
                continue
            if status in (401, 403):
                raise VerkadaFatal(
                    f"Command refused {method} {path} ({status}: {_message(response)}); "
                    "the API key needs read/write access to Access Control"
                )
            if status >= 500:
                raise _Transient(f"{status} from {method} {path}")
            if status >= 400:
                raise VerkadaRejected(status, _message(response))
            return response.json() if response.content else None

    def _paced(self, method: str, path: str, **request: Any) -> httpx.Response:
        """Send once the limiter allows it; a 429 is waited out and sent again, never failed."""
        waits = 0
        while True:
            self.limiter.acquire()
            self.stats.requests += 1
            response = self._http.request(method, path, **request)
            if response.status_code != 429:
                return response
            self.stats.rate_limited += 1
            waits += 1
            if waits > self.limits.max_rate_limited_waits:
                raise VerkadaFatal(
                    f"Command kept answering 429 (rate limited) {waits} times in a row; "
                    "another integration may be using the organisation's limit"
                )
            self.limiter.pause(_retry_after(response, self.limits.cooldown_seconds))

    def _retrying(self, call: Callable[[], Any]) -> Any:
        limits = self.limits

        def count(_state: tenacity.RetryCallState) -> None:
            self.stats.retries += 1

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((_Transient, httpx.TransportError)),
            wait=tenacity.wait_exponential(
                multiplier=limits.backoff_initial_seconds, max=limits.backoff_max_seconds
            )
            + tenacity.wait_random(0, limits.backoff_initial_seconds),
            stop=tenacity.stop_after_attempt(limits.max_attempts),
            sleep=self._sleep,
            before_sleep=count,
            reraise=True,
        )
        try:
            return retrying(call)
        except (_Transient, httpx.TransportError) as fault:
            raise VerkadaFatal(
                f"Command did not answer after {limits.max_attempts} attempts: {_describe(fault)}"
            ) from None


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(float(response.headers.get("retry-after", default)), 0.0)
    except ValueError:
        return default


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("detail") or body)[:200]
    return str(body)[:200]


def _describe(fault: BaseException) -> str:
    if isinstance(fault, httpx.TimeoutException):
        return "the call timed out"
    if isinstance(fault, httpx.TransportError):
        return f"the connection failed ({type(fault).__name__})"
    return str(fault)
