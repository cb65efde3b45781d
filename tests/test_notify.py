"""The import notification, sent end to end to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from credkit.directory import Directory, NewUser
from credkit.importer import execute_import, plan_import
from credkit.notify import SmtpSettings, send_result
from credkit.review import review_bytes

USER_ID = "11111111-1111-4111-8111-111111111111"


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def result(sqlite_directory: Directory):
    sqlite_directory.add_users([NewUser("Ada", "Lovelace", user_id=USER_ID)])
    data = f"User ID,License Plate,Entry Code\n{USER_ID},AB12,\n{USER_ID},,12\n".encode()
    plan = plan_import(review_bytes(data, sqlite_directory, file_name="plates.csv"))
    return execute_import(plan, sqlite_directory, operator="tester")


def test_the_result_is_mailed_with_the_failed_rows(result) -> None:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = SmtpSettings(
            host="127.0.0.1", port=port, starttls=False, sender="ops@example.com"
        )
        assert send_result(result, "plates.csv", "boss@example.com", settings) is None
    finally:
        controller.stop()
    (message,) = mailbox.messages
    assert message["To"] == "boss@example.com" and message["From"] == "ops@example.com"
    assert message["Subject"] == "credkit import of plates.csv: 1 rows failed"
    body = message.get_body(("plain",)).get_content()
    assert "create: 1" in body and "fail: 1" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "failed-rows.csv"
    lines = attachment.get_content().splitlines()
    assert lines[0].startswith("Row,") and lines[1].startswith("3,")
    assert "lost leading zeros" in lines[1]


def test_starttls_and_login(result, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        logins.append(ok)
        return AuthResult(success=ok)

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost",
        tls_context=server_tls, require_starttls=True, authenticator=authenticate,
        auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        settings = SmtpSettings(
            host="localhost", port=port, user="ops", password="s3cret", cafile=str(cert)
        )
        assert send_result(result, "plates.csv", "boss@example.com", settings) is None
    finally:
        controller.stop()
    assert logins == [True]
    assert len(mailbox.messages) == 1


def test_an_unreachable_server_is_reported_not_raised(result) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False)
    problem = send_result(result, "plates.csv", "boss@example.com", settings)
    assert problem and "not sent" in problem


def test_settings_from_the_environment() -> None:
    settings = SmtpSettings.from_env(
        {"CREDKIT_SMTP_HOST": "mail.example.com", "CREDKIT_SMTP_PORT": "2525",
         "CREDKIT_SMTP_STARTTLS": "false", "CREDKIT_SMTP_USER": "ops"}
    )  # fmt: skip
    assert (settings.host, settings.port, settings.starttls, settings.user) == (
        "mail.example.com", 2525, False, "ops",
    )  # fmt: skip
