"""The import notification: an e-mail with the counts and the failed rows, sent through SMTP."""

from __future__ import annotations

import dataclasses
import io
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from credkit.connection import SetupError
from credkit.findings import mask_entry_code
from credkit.importer import ImportResult
from credkit.render import printable

ENV_PREFIX = "CREDKIT_SMTP_"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. Secrets come from the environment, never from arguments
    that would land in shell history."""

    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    sender: str = "credkit@localhost"
    cafile: str | None = None  # a private CA to trust for STARTTLS (a company mail relay)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SmtpSettings:
        """Settings from CREDKIT_SMTP_HOST, _PORT, _STARTTLS, _USER, _PASSWORD, _FROM, _CAFILE."""
        env = os.environ if environ is None else environ
        value = lambda name, default=None: env.get(ENV_PREFIX + name, default)  # noqa: E731
        port = str(value("PORT", cls.port))
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise SetupError(
                f"{ENV_PREFIX}PORT is {printable(port)!r}, not a port number; set it to the "
                "SMTP server's port (e.g. 587)"
            )
        return cls(
            host=value("HOST", cls.host),
            port=int(port),
            starttls=value("STARTTLS", "true").lower() not in ("0", "false", "no"),
            user=value("USER"),
            password=value("PASSWORD"),
            sender=value("FROM", cls.sender),
            cafile=value("CAFILE"),
        )


def address_problem(address: str) -> str | None:
    """Why address cannot receive the notification (None when it can): one address, no
    line breaks or other control characters, which would forge mail headers."""
    if any(not character.isprintable() for character in address):
        return "the address holds a line break or another control character; give one address"
    try:
        parsed = Address(addr_spec=address.strip())
    except (ValueError, IndexError, TypeError):
        return f"{printable(address)!r} is not an e-mail address; give one like ops@example.com"
    if not parsed.username or not parsed.domain:
        return f"{printable(address)!r} is not an e-mail address; give one like ops@example.com"
    return None


def masked_failed_rows(result: ImportResult) -> ImportResult:
    """The result with its failed rows' entry codes masked, as every report but the
    operator's own failed-rows file shows them (mail travels and stays in mailboxes)."""
    rows = result.failed_rows
    if "Entry Code" not in rows.columns:
        return result
    masked = rows.assign(**{"Entry Code": rows["Entry Code"].map(mask_entry_code)})
    return dataclasses.replace(result, failed_rows=masked)


def result_message(result: ImportResult, file_name: str, to: str, sender: str) -> EmailMessage:
    """The notification: counts per outcome in the body, the failed rows as a CSV attachment."""
    counts = result.counts()
    file_name = printable(file_name)  # a line feed in a file name must not forge a header
    message = EmailMessage()
    message["Subject"] = f"credkit import of {file_name}: " + (
        "all rows applied" if not counts["fail"] else f"{counts['fail']} rows failed"
    )
    message["From"] = sender
    message["To"] = to
    lines = [f"Run {result.run_id} imported {file_name}.", ""]
    lines += [f"{outcome:>10}: {count}" for outcome, count in counts.items()]
    if counts["fail"]:
        lines += ["", "The failed rows are attached: fix them and import the file again."]
    message.set_content("\n".join(lines) + "\n")
    if counts["fail"]:
        stream = io.StringIO()
        masked_failed_rows(result).write_failed_rows(stream)
        # Text, so that it is declared UTF-8 (names and masked codes are not ASCII).
        message.add_attachment(stream.getvalue(), subtype="csv", filename="failed-rows.csv")
    return message


def send_result(
    result: ImportResult, file_name: str, to: str, settings: SmtpSettings | None = None
) -> str | None:
    """Send the notification; None when sent, else why not (the import itself stands)."""
    settings = settings or SmtpSettings.from_env()
    message = result_message(result, file_name, to, settings.sender)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.cafile))
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        return f"the notification to {to} was not sent: {error}"
    return None
