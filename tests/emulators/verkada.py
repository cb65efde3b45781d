"""A stand-in for Verkada Command's Access API, for tests only: credkit never imports it.

It serves, on 127.0.0.1 and a free port, the documented calls the connector makes
(apidocs.verkada.com), with Command's rules as far as its documentation states them:

- ``POST /token`` with ``x-api-key`` gives a token, sent as ``x-verkada-auth``; a token
  expires after ``token_lifetime`` seconds and then answers 401 "Token expired";
- at most ``requests_per_window`` requests per ``window_seconds`` window (300 a minute in 5 s
  windows for real); past it, 429 and a cool-down of one window;
- ``GET /access/v1/access_users`` pages (``page_size`` at most 200, ``page_token`` and
  ``next_page_token``), ``GET /access/v1/access_users/user`` by exactly one key;
- cards, license plates and entry codes unique in the organisation; an entry code of 4-16
  digits, taken from another user only with ``override``; cards answered with their internal
  type names ("HID" for Standard 26-bit Wiegand);
- injected faults: a 5xx before or after a call applies, a response slower than the client's
  timeout, a connection closed after the call applied, and a hold that applies a call and then
  waits (so that a test can kill the client in the middle of a reassign).

Every write that changes state is logged in ``writes`` so that tests can count them.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credkit.formats import REGISTRY

MAX_PAGE_SIZE = 200


def internal_type_name(display_name: str) -> str:
    """The name Command answers with for a type: its legacy code where it has one."""
    card_format = REGISTRY.get(display_name)
    return card_format.aliases[0] if card_format.aliases else card_format.name


@dataclass
class Fault:
    """A fault injected into the nth call (1-based, counted per matching method and path
    prefix) that matches: "500-before" (not applied), "500-after" (applied, then 500),
    "timeout" (applied, answered after delay seconds), "cut" (applied, connection closed),
    "hold" (applied, then wait until released), "429"."""

    method: str
    path: str
    nth: int
    kind: str
    delay: float = 0.0
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class EmulatorLimits:
    requests_per_window: int = 25
    window_seconds: float = 5.0
    token_lifetime: float = 30 * 60


class CommandEmulator:
    """The organisation's state, the HTTP server around it, and what it was asked."""

    def __init__(self, api_key: str = "test-key", limits: EmulatorLimits | None = None) -> None:
        self.api_key = api_key
        self.limits = limits or EmulatorLimits()
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.writes: list[tuple[str, str, dict[str, str]]] = []
        self.requests = 0
        self.rate_limited = 0
        self.expired_tokens = 0
        self._lock = threading.RLock()
        self._window_start = 0.0
        self._window_count = 0
        self._cool_down_until = 0.0
        self._card_ids = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None

    # --- the organisation ----------------------------------------------------------------

    def add_user(self, user_id: str | None = None, **fields: Any) -> str:
        user_id = user_id or str(uuid.uuid4())
        self.users[user_id] = {
            "user_id": user_id,
            "external_id": fields.get("external_id"),
            "email": fields.get("email"),
            "employee_id": fields.get("employee_id"),
            "full_name": fields.get("full_name"),
            "entry_code": None,
            "cards": [],
            "license_plates": [],
        }
        return user_id

    def give_card(self, user_id: str, card_type: str, facility_code: int | None,
                  card_number: int, active: bool = True) -> str:  # fmt: skip
        card = self._new_card(card_type, facility_code, card_number, active)
        self.users[user_id]["cards"].append(card)
        return card["card_id"]

    def credential_owners(self) -> dict[str, tuple[str, bool]]:
        """Every credential as (credkit's key -> (owner, active)): what tests compare."""
        owners: dict[str, tuple[str, bool]] = {}
        for user in self.users.values():
            keys = [(_card_identity(card), card["active"]) for card in user["cards"]]
            keys += [
                (f"license_plate:{plate['license_plate_number']}", plate["active"])
                for plate in user["license_plates"]
            ]
            if user["entry_code"]:
                keys.append((f"entry_code:{user['entry_code']}", True))
            for key, active in keys:
                if key in owners:
                    raise AssertionError(f"{key} held twice")  # uniqueness broken
                owners[key] = (user["user_id"], active)
        return owners

    def load_directory(self, directory: Any) -> None:
        """Make the organisation hold what a credkit directory holds (its users, their cards,
        plates and entry codes): Command as it was when its export was taken."""
        for user in directory.users_frame().itertuples():
            self.add_user(user.user_id, external_id=user.external_id, email=user.email,
                          employee_id=user.employee_id)  # fmt: skip
        for held in directory.credentials_frame().itertuples():
            owner = self.users[held.user_id]
            active = held.status == "active"
            if held.kind == "card":
                facility = int(held.facility_code) if held.facility_code else None
                self.give_card(held.user_id, held.card_type, facility, int(held.card_number),
                               active=active)  # fmt: skip
            elif held.kind == "license_plate":
                owner["license_plates"].append({"license_plate_number": held.license_plate,
                                                "name": "", "active": active})  # fmt: skip
            else:
                owner["entry_code"] = held.entry_code

    # --- serving -------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the base URL."""
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs add 40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                emulator._handle(self, "GET")

            def do_POST(self) -> None:
                emulator._handle(self, "POST")

            def do_PUT(self) -> None:
                emulator._handle(self, "PUT")

            def do_DELETE(self) -> None:
                emulator._handle(self, "DELETE")

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{self.server.server_address[1]}"
        finally:
            for fault in self.faults:
                fault.release.set()
            self.server.shutdown()
            self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        params = {name: values[-1] for name, values in parse_qs(url.query).items()}
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        fault = self._fault_for(method, url.path)
        if fault is not None and fault.kind == "429":
            return _answer(handler, 429, {"message": "Too Many Requests"})
        with self._lock:
            self.requests += 1
            if not self._admit():
                self.rate_limited += 1
                return _answer(handler, 429, {"message": "Too Many Requests"})
            if fault is not None and fault.kind == "500-before":
                return _answer(handler, 500, {"message": "Internal Server Error"})
            try:
                body = json.loads(raw) if raw else {}
                status, answer = self._route(method, url.path, params, body, handler.headers)
            except ApiError as error:
                status, answer = error.status, {"message": error.message}
            except (ValueError, KeyError, TypeError) as error:
                status, answer = 400, {"message": f"Bad Request: {error}"}
        if fault is None or status >= 400:
            return _answer(handler, status, answer)
        fault.fired.set()
        if fault.kind == "500-after":
            return _answer(handler, 503, {"message": "Service Unavailable"})
        if fault.kind == "timeout":
            time.sleep(fault.delay)
            return _answer(handler, status, answer)
        if fault.kind == "hold":
            fault.release.wait(30)
        # "cut" (and a released "hold"): applied, but the client never hears back.
        handler.close_connection = True
        handler.connection.shutdown(2)

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and path.startswith(fault.path):
                    fault.seen += 1
                    if fault.seen == fault.nth:
                        return fault
        return None

    def _admit(self) -> bool:
        """The rate limit: counted in fixed windows; past it, a cool-down of one window."""
        now = time.monotonic()
        if now < self._cool_down_until:
            return False
        if now - self._window_start >= self.limits.window_seconds:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count > self.limits.requests_per_window:
            self._cool_down_until = now + self.limits.window_seconds
            return False
        return True

    # --- the API -------------------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict[str, str], body: dict[str, Any],
               headers: Any) -> tuple[int, Any]:  # fmt: skip
        if (method, path) == ("POST", "/token"):
            if headers.get("x-api-key") != self.api_key:
                raise ApiError(401, "Invalid API key")
            token = uuid.uuid4().hex
            self.tokens[token] = time.monotonic()
            return 200, {"token": token}
        issued = self.tokens.get(headers.get("x-verkada-auth") or "")
        if issued is None:
            raise ApiError(401, "Invalid token")
        if time.monotonic() - issued > self.limits.token_lifetime:
            self.expired_tokens += 1
            raise ApiError(401, "Token expired")
        routes: dict[tuple[str, str], Callable[[dict[str, str], dict[str, Any]], Any]] = {
            ("GET", "/access/v1/access_users"): self._list_users,
            ("GET", "/access/v1/access_users/user"): self._get_user,
            ("POST", "/access/v1/credentials/card"): self._add_card,
            ("DELETE", "/access/v1/credentials/card"): self._delete_card,
            ("PUT", "/access/v1/credentials/card/activate"): self._activate_card,
            ("PUT", "/access/v1/credentials/card/deactivate"): self._deactivate_card,
            ("POST", "/access/v1/credentials/license_plate"): self._add_plate,
            ("DELETE", "/access/v1/credentials/license_plate"): self._delete_plate,
            ("PUT", "/access/v1/credentials/license_plate/activate"): self._activate_plate,
            ("PUT", "/access/v1/credentials/license_plate/deactivate"): self._deactivate_plate,
            ("PUT", "/access/v1/access_users/user/entry_code"): self._set_entry_code,
            ("DELETE", "/access/v1/access_users/user/entry_code"): self._delete_entry_code,
        }
        route = routes.get((method, path))
        if route is None:
            raise ApiError(404, "Not Found")
        answer = route(params, body)
        if method != "GET":
            self.writes.append((method, path, params))
        return 200, answer

    def _list_users(self, params: dict[str, str], _body: Any) -> Any:
        size = int(params.get("page_size", 100))
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ApiError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        ordered = sorted(self.users)
        start = int(params.get("page_token") or 0)
        page = ordered[start : start + size]
        following = start + size if start + size < len(ordered) else None
        members = [
            {k: self.users[u][k] for k in ("user_id", "email", "employee_id", "full_name")}
            for u in page
        ]
        return {"access_members": members,
                "next_page_token": None if following is None else str(following)}  # fmt: skip

    def _user(self, params: dict[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
        given = [name for name in keys if params.get(name)]
        if len(given) != 1:
            raise ApiError(400, f"exactly one of {', '.join(keys)} is required")
        name = given[0]
        if name == "user_id":
            if params[name] in self.users:
                return self.users[params[name]]
            raise ApiError(404, "User not found")
        for user in self.users.values():
            if (user.get(name) or "") == params[name]:
                return user
        raise ApiError(404, "User not found")

    def _get_user(self, params: dict[str, str], _body: Any) -> Any:
        user = self._user(params, ("user_id", "external_id", "email", "employee_id"))
        return _public({k: v for k, v in user.items() if k != "full_name"})

    def _new_card(self, card_type: str, facility_code: Any, card_number: Any,
                  active: bool) -> dict[str, Any]:  # fmt: skip
        card_format = REGISTRY.find(str(card_type))
        if card_format is None:
            raise ApiError(400, f"Invalid card type {card_type}")
        facility = str(int(facility_code)) if card_format.has_facility_code else None
        card = {"type": internal_type_name(card_format.name), "facility_code": facility,
                "card_number": str(int(card_number)), "active": bool(active)}  # fmt: skip
        card["_key"] = _card_identity(card)  # kept out of answers (see _public)
        if card["_key"] in self._all_keys():
            raise ApiError(400, "Credential already in use in this organization")
        card["card_id"] = f"card-{next(self._card_ids)}"
        card["card_number_hex"] = None
        card["card_number_base36"] = None
        return card

    def _add_card(self, params: dict[str, str], body: dict[str, Any]) -> Any:
        user = self._user(params, ("user_id", "external_id"))
        number = body.get("card_number")
        facility = body.get("facility_code")
        if number in (None, "") and body.get("card_number_hex"):
            decoded = REGISTRY.get(body["type"]).decode(body["card_number_hex"])
            facility, number = decoded.facility_code, decoded.card_number
        card = self._new_card(body["type"], facility, number, body.get("active", True))
        user["cards"].append(card)
        return _public(card)

    def _card(self, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        user = self._user(params, ("user_id", "external_id"))  # the user is always named
        for card in user["cards"]:
            if card["card_id"] == params.get("card_id"):
                return user, card
        raise ApiError(404, "Card not found for this user")

    def _delete_card(self, params: dict[str, str], _body: Any) -> Any:
        user, card = self._card(params)
        user["cards"].remove(card)
        return None

    def _activate_card(self, params: dict[str, str], _body: Any) -> Any:
        _user, card = self._card(params)
        card["active"] = True
        return _public(card)

    def _deactivate_card(self, params: dict[str, str], _body: Any) -> Any:
        _user, card = self._card(params)
        card["active"] = False
        return _public(card)

    def _add_plate(self, params: dict[str, str], body: dict[str, Any]) -> Any:
        user = self._user(params, ("user_id", "external_id"))
        number = str(body["license_plate_number"]).upper()
        if f"license_plate:{number}" in self._all_keys():
            raise ApiError(400, "License plate already in use in this organization")
        plate = {"license_plate_number": number, "name": body.get("name", ""),
                 "active": bool(body.get("active", True))}  # fmt: skip
        user["license_plates"].append(plate)
        return plate

    def _plate(self, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        user = self._user(params, ("user_id", "external_id"))
        for plate in user["license_plates"]:
            if plate["license_plate_number"] == params.get("license_plate_number"):
                return user, plate
        raise ApiError(404, "License plate not found for this user")

    def _delete_plate(self, params: dict[str, str], _body: Any) -> Any:
        user, plate = self._plate(params)
        user["license_plates"].remove(plate)
        return None

    def _activate_plate(self, params: dict[str, str], _body: Any) -> Any:
        _user, plate = self._plate(params)
        plate["active"] = True
        return plate

    def _deactivate_plate(self, params: dict[str, str], _body: Any) -> Any:
        _user, plate = self._plate(params)
        plate["active"] = False
        return plate

    def _set_entry_code(self, params: dict[str, str], body: dict[str, Any]) -> Any:
        user = self._user(params, ("user_id", "external_id", "email", "employee_id"))
        code = str(body["entry_code"])
        if not (code.isdigit() and 4 <= len(code) <= 16):
            raise ApiError(400, "entry_code must be 4 to 16 digits")
        holder = next((u for u in self.users.values() if u["entry_code"] == code), None)
        if holder is not None and holder is not user:
            if params.get("override") != "true":
                raise ApiError(400, "Entry code already in use in this organization")
            holder["entry_code"] = None
        user["entry_code"] = code
        return _public(user)

    def _delete_entry_code(self, params: dict[str, str], _body: Any) -> Any:
        user = self._user(params, ("user_id", "external_id", "email", "employee_id"))
        user["entry_code"] = None
        return None

    def _all_keys(self) -> set[str]:
        return set(self.credential_owners())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer: expected under injected faults


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _public(value: Any) -> Any:
    """A copy of state as the API answers it: without the emulator's own "_key" fields."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if k != "_key"}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def _card_identity(card: dict[str, Any]) -> str:
    if "_key" in card:
        return card["_key"]
    name = REGISTRY.get(card["type"]).name
    facility = card["facility_code"] or ""
    return f"card:{name}:{facility}:{int(card['card_number'])}"


def _answer(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
