"""The import notification: an e-mail with the counts and the failed rows, sent through SMTP."""

from __future__ import annotations

import io
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from credkit.importer import ImportResult

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
        return cls(
            host=value("HOST", cls.host),
            port=int(value("PORT", cls.port)),
            starttls=value("STARTTLS", "true").lower() not in ("0", "false", "no"),
            user=value("USER"),
            password=value("PASSWORD"),
            sender=value("FROM", cls.sender),
            cafile=value("CAFILE"),
        )


def result_message(result: ImportResult, file_name: str, to: str, sender: str) -> EmailMessage:
    """The notification: counts per outcome in the body, the failed rows as a CSV attachment."""
    counts = result.counts()
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
        result.write_failed_rows(stream)
        message.add_attachment(
            stream.getvalue().encode("utf-8"),
            maintype="text",
            subtype="csv",
            filename="failed-rows.csv",
        )
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
