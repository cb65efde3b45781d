"""The credkit command line: one library call per command, rendered, with an exit status.

Exit statuses: 0 done; 1 some rows failed (or a refused undo, or a demo on a directory that has
users); 2 the file or its columns are rejected, or the command line is wrong; 3 the directory or
an output cannot be opened or written; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from credkit.connection import SetupError, database_error_message, display_url
from credkit.defaults import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, database_url
from credkit.lazy import lazy_module, lazy_name
from credkit.outputs import check_output, write_failure, write_output
from credkit.privileges import process_login
from credkit.render import printable

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa
    from tqdm import tqdm

    from credkit.directory import Directory
    from credkit.profiles import Profile
else:  # imported when a command first uses them, so that `credkit --help` stays quick
    sa = lazy_module("sqlalchemy")
    tqdm = lazy_name("tqdm", "tqdm")
    Directory = lazy_name("credkit.directory", "Directory")

#: Exit statuses (see the module docstring and the README).
SETUP_FAILED = 3
INTERRUPTED = 130
INTERNAL_ERROR = 70  # a bug in credkit (EX_SOFTWARE): never expected, reported by the last resort

#: The longest operator name a run records (the import_runs.operator column).
MAX_OPERATOR_LENGTH = 255

_URL_KEY = "credkit.database_url"


class CommandFailed(click.ClickException):
    """A command that cannot go on: its one- or two-line message and its exit status."""

    def __init__(self, message: str, exit_code: int = SETUP_FAILED) -> None:
        super().__init__(printable(message))  # a file name or URL may hold escapes
        self.exit_code = exit_code


#: What Ctrl-C prints (exit 130).
_INTERRUPTED_MESSAGE = (
    "interrupted: nothing is half-written (an import keeps the batches it had committed, "
    "see `credkit runs`); run the command again to finish"
)


class CredkitGroup(click.Group):
    """The top-level group: turns setup errors, database errors and Ctrl-C into a message and
    an exit status instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            if not _interrupted(error):
                raise self._failure(ctx, error) from None
            raise CommandFailed(
                _INTERRUPTED_MESSAGE, INTERRUPTED
            ) from None  # Ctrl-C, then the driver's cleanup failed on top
        except KeyboardInterrupt:
            raise CommandFailed(_INTERRUPTED_MESSAGE, INTERRUPTED) from None

    @staticmethod
    def _failure(ctx: click.Context, error: Exception) -> Exception:
        """The message and status an exception stands for (click's own pass unchanged)."""
        if isinstance(error, click.ClickException | click.exceptions.Exit | click.Abort):
            return error
        if isinstance(error, SetupError):
            return CommandFailed(str(error))
        if isinstance(error, sa.exc.DBAPIError):
            url = ctx.meta.get(_URL_KEY) or database_url()
            return CommandFailed(database_error_message(error, url))
        if isinstance(error, BrokenPipeError):  # `credkit export | head`: the reader left early
            _silence_stdout()
            return CommandFailed(
                "standard output was closed before everything was written (a pipe that "
                "stopped reading?); write to a file with -o to keep all of it"
            )
        if _is_driver_error(error):  # from a driver-level read or write (insert_many, ...)
            url = ctx.meta.get(_URL_KEY) or database_url()
            wrapped = sa.exc.DBAPIError(None, None, error)  # type: ignore[arg-type]
            return CommandFailed(database_error_message(wrapped, url))
        # The last resort: a bug, named, never a traceback.
        return CommandFailed(
            f"internal error ({type(error).__name__}); this is a bug in credkit: "
            "please report it with the command you ran",
            INTERNAL_ERROR,
        )


def _interrupted(error: BaseException) -> bool:
    """Whether error happened while handling a Ctrl-C (SQLite's rollback of a connection the
    interrupt left closed raises ProgrammingError, the KeyboardInterrupt as its context)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _is_driver_error(error: BaseException) -> bool:
    """An error of a database driver itself (sqlite3, psycopg), not wrapped by SQLAlchemy."""
    module = type(error).__module__ or ""
    return module == "sqlite3" or module.startswith(("psycopg", "adbc"))


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush into a closed
    pipe does not print an error of its own (the recipe of Python's signal documentation)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's stream)
        pass


def _database_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """--db after the subcommand, else before it (on a parent group), else the environment,
    else the default; remembered for the error messages."""
    parent = ctx.parent
    while value is None and parent is not None:
        value = parent.params.get("database_url")
        parent = parent.parent
    url = value or database_url()
    ctx.meta[_URL_KEY] = url
    return url


def directory_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """The --db option every command that touches the directory shares (it may also stand
    before the subcommand: `credkit --db URL review FILE`)."""
    return click.option(
        "--db",
        "database_url",
        default=None,
        callback=_database_url,
        metavar="URL",
        help=f"The directory's database URL (default: ${DATABASE_URL_ENV}, "
        f"else {DEFAULT_DATABASE_URL}).",
    )(command)


def _operator(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_OPERATOR_LENGTH:
        raise click.BadParameter(
            f"is {len(value)} characters long; an operator name has at most {MAX_OPERATOR_LENGTH}"
        )
    if any(not character.isprintable() for character in value):
        raise click.BadParameter("may not hold control characters; give a plain name")
    return value


def operator_option(help_text: str) -> Callable[..., Any]:
    """--operator: who runs the command, recorded with the run (checked before anything runs)."""
    return click.option("--operator", default=None, callback=_operator, help=help_text)


def _open(database_url: str, *, create: bool = False) -> Directory:
    """The directory at the URL; reading commands never create one (create=False)."""
    try:
        return Directory(database_url, create=create)
    except sa.exc.ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        from credkit.privileges import GROUP_ROLES

        login = sa.engine.make_url(database_url).username or "?"
        raise SetupError(
            f"your login {login} may not use the directory at {display_url(database_url)}: it "
            f"has none of the roles {', '.join(GROUP_ROLES)}; ask an administrator to run "
            f"`credkit roles grant {login} viewer` (or manager)"
        ) from None


def _write(path: Path, write: Callable[[Any], Any], already_done: str = "") -> Any:
    """Write an output whole, or say (exit 3) what stopped it, and what was already done."""
    try:
        return write_output(path, write)
    except SetupError as error:
        raise SetupError(f"{error}{already_done}") from None


def _require(directory: Directory, action: str) -> None:
    """Stop (SetupError, exit 3) when the connected login may not do action (see
    credkit.privileges); called before any file is read."""
    from credkit.privileges import require

    require(directory.engine, action, directory.url)  # type: ignore[arg-type]


_OPERATOR_HELP = "Whom you run this for: recorded beside your login, never instead of it."


@click.group(cls=CredkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="credkit")
@click.option(
    "--db",
    "database_url",
    envvar=DATABASE_URL_ENV,
    default=None,
    metavar="URL",
    help=f"The directory's database URL, for every command (or set {DATABASE_URL_ENV}; "
    f"default {DEFAULT_DATABASE_URL}).",
)
def main(database_url: str | None) -> None:
    """Bulk import, review and export of access-control credentials through CSV files.

    \b
    Examples:
      credkit demo --users 1000 --out demo/
      credkit review demo/credentials-messy.csv
      credkit --db sqlite:///demo/credkit.db export -o credentials.csv

    \b
    Exit status: 0 done; 1 some rows failed; 2 file rejected or a wrong option;
    3 the directory or an output cannot be opened or written; 130 interrupted.
    """


@main.command()
@click.option("--users", "user_count", default=1000, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many users.")  # fmt: skip
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the sample CSV files.",
)
@click.option("--seed", default=7, show_default=True, help="Same seed, same demo.")
@directory_option
def demo(user_count: int, out_dir: Path, seed: int, database_url: str) -> None:
    """Create a demo directory with users, credentials and sample CSV files.

    Writes credentials-clean.csv (valid new credentials for existing users) and
    credentials-messy.csv (the typical mistakes operators meet) into --out.
    """
    from credkit.demo import CLEAN_FILE, MESSY_FILE, create_demo
    from credkit.outputs import write_failure

    _check_demo_folder(out_dir)
    for name in (CLEAN_FILE, MESSY_FILE):
        check_output(out_dir / name, "--out", database_url=database_url, folder_made=True)
    directory = Directory(database_url)
    _require(directory, "users-import")
    _require(directory, "import")
    existing = len(directory.users_frame())
    if existing:
        raise click.ClickException(
            f"the directory at {display_url(database_url)} already has {existing} users; "
            "the demo needs an empty one (name another with --db)"
        )
    try:
        result = create_demo(directory, out_dir, user_count=user_count, seed=seed)
    except OSError as error:
        raise SetupError(write_failure(Path(error.filename or out_dir), error)) from None
    click.echo(f"Created {result.users} users with {result.credentials} credentials.")
    for path in result.files:
        click.echo(f"Wrote {printable(str(path))}")


def _check_demo_folder(out_dir: Path) -> None:
    """SetupError unless the demo's files can be written in out_dir (made if missing)."""
    import os

    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise SetupError(f"--out {out_dir}: {existing} is not a folder; name a folder")
    if not os.access(existing, os.W_OK):
        raise SetupError(f"--out {out_dir}: {existing} is not writable; name another folder")


@main.group()
def users() -> None:
    """Manage directory users."""


@users.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--reassign",
    is_flag=True,
    help="Move a row's credential that belongs to another user to the row's user.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@click.option(
    "--failed-rows",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the failed rows (Row, the file's columns, Error) to this CSV.",
)
@operator_option(_OPERATOR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@directory_option
def users_import(
    file: Path,
    reassign: bool,
    dry_run: bool,
    failed_rows: Path | None,
    operator: str | None,
    as_json: bool,
    database_url: str,
) -> None:  # fmt: skip
    """Add or update users from a user CSV, with each row's card, license plate and entry code.

    Columns: First Name, Last Name, External ID, Employee ID, Email, User Status (Active or
    Suspended), and optionally one card (Card Type, Facility Code, Card Number, Card Number
    Hex), a License Plate, an Entry Code and a Credential Status. Users are matched by
    External ID, then Email; a row's credentials are reviewed as a credential import reviews
    them, and a row applies whole (its user and credentials) or fails whole.
    Exit status: 0 all rows applied, 1 some failed, 2 file rejected (nothing written).
    """  # fmt: skip
    from credkit.render import findings_text
    from credkit.users import execute_users, plan_text, plan_users, planned_result

    if failed_rows is not None:
        check_output(failed_rows, "--failed-rows", inputs=[file], database_url=database_url)
    # A dry run writes nothing, not even a new directory: it needs one that exists.
    directory = _open(database_url, create=not dry_run)
    _require(directory, "users-import")
    plan = plan_users(directory, file, reassign=reassign)
    if plan.rejected:
        if as_json:
            click.echo(json.dumps({"run_id": None, "counts": None, "failed_rows": None,
                                   "rejected": True}))  # fmt: skip
        else:
            click.echo(findings_text(plan.findings))
            click.echo("File rejected: nothing written.")
        sys.exit(2)
    if not as_json:
        click.echo(plan_text(plan))
    if dry_run:
        result = planned_result(plan)
    else:
        result = execute_users(plan, directory, on_behalf_of=operator)
    if failed_rows is not None:
        done = "" if dry_run else f"; the import itself is done: run {result.run_id}"
        _write(failed_rows, result.write_failed_rows, done)
    counts = result.counts
    if as_json:
        click.echo(json.dumps({"run_id": result.run_id, "counts": counts,
                               "credentials": result.credential_counts,
                               "failed_rows": str(failed_rows) if failed_rows else None}))  # fmt: skip
    else:
        if len(result.findings):
            click.echo(findings_text(result.findings))
        summary = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
        credentials = ", ".join(f"{o} {n}" for o, n in result.credential_counts.items())
        click.echo(
            ("Dry run (nothing written): " if dry_run else f"Run {result.run_id}: ")
            + f"users {summary}; credentials {credentials}"
        )
    sys.exit(1 if counts["fail"] else 0)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")  # fmt: skip
@click.pass_context
def template(ctx: click.Context, output: Path | None) -> None:
    """Write the credential CSV template: the headers and three sample rows."""
    from credkit.export import template_csv

    text = template_csv()
    if output is None:
        click.echo(text, nl=False)
    else:
        # No --db here, but the template must not land on the directory the others use.
        url = ctx.find_root().params.get("database_url") or database_url()
        check_output(output, "-o", database_url=url)
        _write(output, lambda stream: stream.write(text))
        click.echo(f"Wrote {printable(str(output))}", err=True)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")  # fmt: skip
@click.option(
    "--status",
    type=click.Choice(["Active", "Inactive"], case_sensitive=False),
    default=None,
    help="Only credentials with this status.",
)
@click.option("--card-type", default=None, help="Only cards of this type (name or alias).")
@click.option("--user", default=None, help="Only users whose External ID or Email contains this.")
@directory_option
def export(
    output: Path | None,
    status: str | None,
    card_type: str | None,
    user: str | None,
    database_url: str,
) -> None:
    """Export every credential of every user (or those the filters keep) as a credential CSV."""
    from credkit.export import ExportFilters, write_export
    from credkit.formats import REGISTRY

    card_format = REGISTRY.find(card_type) if card_type else None
    if card_type and card_format is None:
        raise click.BadParameter(f"unknown card type {card_type!r}", param_hint="--card-type")
    filters = ExportFilters(status or "", card_format.name if card_format else "", user or "")
    if output is not None:
        check_output(output, "-o", database_url=database_url)
    directory = _open(database_url)
    _require(directory, "export")
    if output is None:
        write_export(directory, sys.stdout, keep=filters.apply)
    else:
        count = _write(output, lambda stream: write_export(directory, stream, keep=filters.apply))
        click.echo(f"Wrote {count} credentials to {printable(str(output))}", err=True)


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    if value is None:
        return None
    delimiter = names.get(value.lower(), value)
    if len(delimiter) != 1:
        raise click.BadParameter("a delimiter is one character, or tab, comma, semicolon, pipe")
    if not delimiter.isascii() or delimiter in '"\r\n\x00' or delimiter.isalnum():
        raise click.BadParameter(
            f"{delimiter!r} cannot separate columns (it must be one ASCII character other "
            "than a quote, a line break, a letter or a digit); e.g. ';', 'tab' or '|'"
        )
    return delimiter


def _encoding(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    import codecs

    if value is not None:
        try:
            codec = codecs.lookup(value)
        except (LookupError, ValueError):  # ValueError: a NUL in the name
            raise click.BadParameter(
                f"{value!r} is not an encoding Python knows; e.g. utf-8, cp1252 or latin-1"
            ) from None
        if not codec._is_text_encoding:  # rot13, base64, hex: transforms, not text encodings
            raise click.BadParameter(
                f"{value!r} is not a text encoding; e.g. utf-8, cp1252 or latin-1"
            )
    return value


def _mapping(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    from credkit.columns import HEADERS

    pairs = []
    for value in values:
        written, separator, expected = value.partition("=")
        if not separator or expected.strip() not in HEADERS:
            raise click.BadParameter(f"{value!r}: use FROM=TO, where TO is one of {HEADERS}")
        pairs.append((written.strip(), expected.strip()))
    return tuple(pairs)


def file_reading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """How to read a credential CSV's bytes and headers: --encoding, --delimiter, --map."""
    options = [
        click.option("--encoding", default=None, callback=_encoding, help="Read the file in this encoding (e.g. cp1252)."),
        click.option("--delimiter", default=None, callback=_delimiter,
                     help="Read the file with this delimiter (';', 'tab', ...)."),
        click.option("--map", "mapping", multiple=True, callback=_mapping, metavar='"FROM=TO"',
                     help="Accept a header mapping, e.g. --map \"Card Numbr=Card Number\"."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def reading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to read a credential CSV, shared by review and import."""
    command = click.option("--sheet", default=None, help="The sheet of an Excel workbook (default: its first).")(command)  # fmt: skip
    command = click.option("--reassign", is_flag=True,
                           help="Move credentials that belong to another user to the row's user.")(command)  # fmt: skip
    return file_reading_options(command)


def _profile(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Profile | None:
    from credkit.profiles import ProfileError, load_profile

    if value is None:
        return None
    try:
        return load_profile(value)
    except ProfileError as error:
        raise click.BadParameter(str(error)) from None


def verkada_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--verkada-key-file and --verkada-url, shared by the push and the pull."""
    command = click.option(
        "--verkada-url",
        default=None,
        metavar="URL",
        help="The region's API URL (default: VERKADA_API_URL, else https://api.verkada.com).",
    )(command)
    return click.option(
        "--verkada-key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="A file holding the Verkada API key (default: VERKADA_API_KEY); never printed.",
    )(command)


def profile_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--profile NAME|PATH: read the file as a source system writes it (see `credkit convert`)."""
    return click.option(
        "--profile", default=None, callback=_profile, metavar="NAME|PATH",
        help="Read FILE as this source system writes it: a built-in profile (genetec, kantech, "
        "ict, prodatakey, alarm-com, onguard) or a profile file.",
    )(command)  # fmt: skip


def _review_with_profile(file: Path, directory: Directory, options: Any, profile: Profile) -> Any:
    """A review of a converted source file, its findings in the source file's rows."""
    import pandas as pd

    from credkit.conversion import review_source
    from credkit.findings import findings_frame

    result, conversion = review_source(file, directory, options, profile)
    result.rows = findings_frame(
        pd.concat([conversion.findings, conversion.in_source_rows(result.rows)], ignore_index=True)
    )
    return result


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile",
    required=True,
    callback=_profile,
    metavar="NAME|PATH",
    help="The source system's profile: a built-in name or a profile file.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the credential CSV here.",
)
@click.option(
    "--facility-code",
    type=click.IntRange(0),
    default=None,
    help="The facility code of every card of the file (OnGuard, ProdataKey, ...).",
)
@click.option("--card-type", default=None, help="The card type of cards the file names none for.")
@click.option("--sheet", default=None, help="The sheet of an Excel workbook (default: its first).")
@click.option(
    "--save-profile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save the profile with these choices, to reuse with --profile PATH.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def convert(
    file: Path,
    profile: Profile,
    output: Path,
    facility_code: int | None,
    card_type: str | None,
    sheet: str | None,
    save_profile: Path | None,
    as_json: bool,
) -> None:
    """Convert another system's export into credkit's credential CSV, with a profile.

    Every value the profile changes is reported with its original, and every row it cannot
    carry over is reported as skipped. Exit status: 0 written, 2 the file or profile cannot be
    read, 3 the output cannot be written.
    """  # fmt: skip
    import dataclasses

    from credkit.conversion import convert_table, read_source
    from credkit.formats import REGISTRY
    from credkit.profiles import ProfileError
    from credkit.render import findings_text

    try:
        if card_type is not None:
            card_type = REGISTRY.get(card_type).name
        profile = dataclasses.replace(
            profile,
            facility_code=profile.facility_code if facility_code is None else facility_code,
            card_type=card_type or profile.card_type,
        )
    except (KeyError, ProfileError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    check_output(output, "-o", inputs=[file])
    if save_profile is not None:
        check_output(save_profile, "--save-profile", inputs=[file, output])
    source = read_source(file, sheet=sheet)
    if not source.readable or (source.findings["severity"] == "error").any():
        click.echo(findings_text(source.findings))
        click.echo("File rejected: nothing written.")
        sys.exit(2)
    conversion = convert_table(source, profile)
    write_output(output, lambda stream: stream.write(conversion.csv_text()))
    if save_profile is not None:
        _save_profile(profile, save_profile)
    findings = findings_frame_of(source.findings, conversion.findings)
    if as_json:
        records = findings.astype(object).where(findings.notna(), None).to_dict(orient="records")
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        click.echo(findings_text(findings))
        click.echo(
            f"Wrote {len(conversion.table)} credentials from {len(source.rows)} rows to {output}"
            + (f"; saved the profile to {save_profile}" if save_profile else "")
        )
    sys.exit(0)


def findings_frame_of(*parts: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from credkit.findings import findings_frame

    return findings_frame(pd.concat([part for part in parts if len(part)] or [findings_frame()]))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reading_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--write-corrected",
    "corrected_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OUT",
    help="Write the rows without errors to OUT in canonical form, the others to "
    "OUT's .failed.csv (or --failed-rows).",
)
@click.option(
    "--failed-rows",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --write-corrected: where the rows with errors go.",
)
@directory_option
@profile_option
def review(
    file: Path,
    encoding: str | None,
    delimiter: str | None,
    mapping: tuple[tuple[str, str], ...],
    reassign: bool,
    as_json: bool,
    corrected_out: Path | None,
    failed_rows: Path | None,
    database_url: str,
    profile: Profile | None = None,
    sheet: str | None = None,
) -> None:
    """Review a credential CSV: print its file, column and row findings.

    Exit status: 0 no errors, 1 row errors, 2 file or column errors.
    """
    from credkit.render import review_text
    from credkit.review import ReviewOptions, review_file

    options = ReviewOptions(
        reassign=reassign, encoding=encoding, delimiter=delimiter, mapping=mapping, sheet=sheet
    )
    directory = _open(database_url)
    _require(directory, "review")
    if profile is None:
        result = review_file(file, directory, options)
    else:
        result = _review_with_profile(file, directory, options, profile)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(review_text(result))
    if corrected_out is not None and not result.rejected:
        from credkit.corrected import write_corrected

        try:
            written = write_corrected(result, directory, corrected_out, failed_rows)
        except OSError as error:
            click.echo(f"Cannot write the corrected file: {error.strerror or error}", err=True)
            click.echo("Name a folder that exists and that you may write to.", err=True)
            sys.exit(3)
        click.echo(f"Wrote {written.corrected_rows} corrected rows to {corrected_out}", err=True)
        if written.failed_path is not None:
            click.echo(
                f"Wrote {written.failed_rows} failed rows to {written.failed_path}", err=True
            )
    sys.exit(result.exit_status)


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reading_options
@click.option(
    "--overwrite-newer",
    is_flag=True,
    help="Apply rows even where the directory changed the credential after Modified.",
)
@click.option("--dry-run", is_flag=True, help="Plan only: print the outcomes, write nothing.")
@click.option(
    "--failed-rows",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the failed rows here, with Row and Error, to fix and import again.",
)
@operator_option(_OPERATOR_HELP)
@click.option(
    "--notify",
    "notify_address",
    default=None,
    callback=lambda _ctx, _param, value: _notify_address(value),
    metavar="ADDRESS",
    help="E-mail the result to ADDRESS (SMTP settings: CREDKIT_SMTP_HOST, _PORT, "
    "_STARTTLS, _USER, _PASSWORD, _FROM).",
)
@click.option(
    "--to",
    "target",
    type=click.Choice(["directory", "verkada"]),
    default="directory",
    show_default=True,
    help="Apply to the SQL directory, or push to Verkada Command through its API.",
)
@verkada_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@directory_option
@profile_option
def import_(
    file: Path,
    encoding: str | None,
    delimiter: str | None,
    mapping: tuple[tuple[str, str], ...],
    reassign: bool,
    overwrite_newer: bool,
    dry_run: bool,
    failed_rows: Path | None,
    operator: str | None,
    notify_address: str | None,
    target: str,
    verkada_key_file: Path | None,
    verkada_url: str | None,
    as_json: bool,
    database_url: str,
    profile: Profile | None = None,
    sheet: str | None = None,
) -> None:
    """Import a credential CSV: review, plan, then (unless --dry-run) apply.

    With --to verkada, the planned changes are pushed to Verkada Command through its API
    (review against a directory loaded with `credkit directory load`).
    Exit status: 0 no row failed, 1 some rows failed, 2 file rejected (nothing written),
    3 the directory or Command cannot be reached with the key given.
    """  # fmt: skip
    from credkit.importer import dry_run as plan_only
    from credkit.importer import execute_import, plan_import
    from credkit.render import findings_text
    from credkit.review import ReviewOptions, review_file

    options = ReviewOptions(
        reassign=reassign, overwrite_newer=overwrite_newer, encoding=encoding,
        delimiter=delimiter, mapping=mapping, sheet=sheet,
    )  # fmt: skip
    if failed_rows is not None:
        check_output(failed_rows, "--failed-rows", inputs=[file], database_url=database_url)
    if notify_address and not dry_run:
        from credkit.notify import SmtpSettings

        SmtpSettings.from_env()  # a wrong setting stops the command before the import writes
    directory = _open(database_url)
    _require(directory, "review" if dry_run else "import")  # a dry run writes nothing
    if target == "verkada":
        _push_to_verkada(file, directory, options, dry_run, failed_rows, operator,
                         notify_address, verkada_key_file, verkada_url, as_json)  # fmt: skip
    if profile is None:
        review = review_file(file, directory, options)
    else:
        from credkit.conversion import review_source

        review, _conversion = review_source(file, directory, options, profile)
    if review.rejected:
        if as_json:
            click.echo(json.dumps({"run_id": None, "counts": None, "failed_rows": None,
                                   "rejected": review.to_json()}, indent=2))  # fmt: skip
        else:
            click.echo(findings_text(review.findings))
            click.echo("File rejected: nothing written.")
        sys.exit(2)
    plan = plan_import(review)
    if dry_run:
        result = plan_only(plan)
    else:
        with tqdm(
            total=int(plan.rows["outcome"].isin(["create", "update", "reassign"]).sum()),
            unit="row",
            desc="Importing",
            disable=as_json or None,
            file=sys.stderr,
        ) as bar:

            def advance(done: int, _total: int) -> None:
                bar.update(done - bar.n)

            result = execute_import(plan, directory, on_behalf_of=operator, progress=advance)
    counts = result.counts()
    if failed_rows is not None:
        done = (
            "" if dry_run else f"; the import itself is done: run {result.run_id} (`credkit runs`)"
        )
        _write(failed_rows, result.write_failed_rows, done)
    if notify_address and not dry_run:
        from credkit.notify import send_result

        problem = send_result(result, file.name, notify_address)
        if problem:
            click.echo(f"Warning: {problem}", err=True)
    if as_json:
        click.echo(json.dumps({"run_id": result.run_id, "counts": counts,
                               "failed_rows": str(failed_rows) if failed_rows else None}))  # fmt: skip
    else:
        summary = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
        click.echo(
            ("Dry run (nothing written): " if dry_run else f"Run {result.run_id}: ") + summary
        )
        if counts["fail"] and failed_rows is None:
            click.echo(
                findings_text(
                    review.rows[
                        review.rows["row"].isin(result.rows.index[result.rows["outcome"] == "fail"])
                    ]
                )
            )
    sys.exit(1 if counts["fail"] else 0)


@main.group("directory")
def directory_group() -> None:
    """Build the local directory from an access-control system (Verkada Command)."""


@directory_group.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@file_reading_options
@operator_option(_OPERATOR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@directory_option
def directory_load(
    file: Path,
    encoding: str | None,
    delimiter: str | None,
    mapping: tuple[tuple[str, str], ...],
    operator: str | None,
    as_json: bool,
    database_url: str,
) -> None:
    """Build or refresh the directory from a Command credentials export (the 14 columns).

    Users and credentials are created as the export lists them; those a newer export no
    longer lists are marked gone. Exit status: 0 loaded, 1 some rows failed, 2 file rejected.
    """  # fmt: skip
    from credkit.loading import load_export
    from credkit.render import findings_text
    from credkit.review import ReviewOptions

    options = ReviewOptions(encoding=encoding, delimiter=delimiter, mapping=mapping)
    directory = Directory(database_url)
    _require(directory, "import")
    result = load_export(file, directory, operator=operator or process_login(), options=options)
    if as_json:
        click.echo(json.dumps({"run_id": result.run_id, "counts": result.counts,
                               "review": result.review.to_json()}, indent=2))  # fmt: skip
    else:
        findings = result.review.findings
        if len(findings):
            click.echo(findings_text(findings))
        if result.rejected:
            click.echo("File rejected: nothing loaded.")
        else:
            counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in result.counts.items())
            click.echo(f"Run {result.run_id}: {counts}")
    sys.exit(result.exit_status)


@directory_group.command("pull")
@click.option(
    "--from",
    "source",
    type=click.Choice(["verkada"]),
    required=True,
    help="The system to fetch users and credentials from.",
)
@click.option(
    "--staging",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("verkada-pull.csv"),
    show_default=True,
    help="Where the fetched rows go as they come; a pull that stopped resumes from it.",
)
@verkada_options
@operator_option(_OPERATOR_HELP)
@directory_option
def directory_pull(
    source: str,
    staging: Path,
    verkada_key_file: Path | None,
    verkada_url: str | None,
    operator: str | None,
    database_url: str,
) -> None:
    """Fetch every user's credentials through Command's API, then load them as an export.

    Two calls per 200 users and one per user: for small organisations (about 17,000 users an
    hour at the rate limit). Exit status as for `directory load`; 3 when Command refuses the key.
    """  # fmt: skip
    from credkit.connectors.verkada import VerkadaSettings, read_api_key
    from credkit.connectors.verkada.client import VerkadaFatal
    from credkit.connectors.verkada.config import MissingApiKey, api_url
    from credkit.connectors.verkada.pull import pull_from_verkada

    try:
        settings = VerkadaSettings(read_api_key(verkada_key_file), api_url(verkada_url))
    except MissingApiKey as problem:
        raise SetupError(str(problem)) from None
    directory = Directory(database_url)
    _require(directory, "import")  # before any call to Command
    with tqdm(unit="user", desc="Pulling from Verkada", file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = pull_from_verkada(directory, settings, staging,
                                       operator=operator or process_login(), progress=advance)  # fmt: skip
        except VerkadaFatal as problem:
            raise SetupError(f"{problem}; run the pull again to resume from {staging}") from None
    counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in result.counts.items())
    click.echo(f"Run {result.run_id}: {counts}")
    sys.exit(result.exit_status)


def _push_to_verkada(
    file: Path,
    directory: Directory,
    options: Any,
    dry_run: bool,
    failed_rows: Path | None,
    operator: str | None,
    notify_address: str | None,
    key_file: Path | None,
    url: str | None,
    as_json: bool,
) -> None:
    """`credkit import --to verkada`: the push, its progress, its result; exits."""
    try:
        import httpx  # noqa: F401
        import tenacity  # noqa: F401
    except ImportError:
        raise SetupError("pushing to Verkada needs the verkada extra: "
                         "pip install 'credkit[verkada]'") from None  # fmt: skip
    from credkit.connectors.verkada import VerkadaSettings, push_to_verkada, read_api_key
    from credkit.connectors.verkada.client import VerkadaFatal
    from credkit.connectors.verkada.config import MissingApiKey, api_url

    try:
        key = "" if dry_run else read_api_key(key_file)
    except MissingApiKey as problem:
        raise SetupError(str(problem)) from None
    settings = VerkadaSettings(api_key=key, base_url=api_url(url))
    with tqdm(unit="row", desc="Pushing to Verkada", disable=as_json or dry_run or None,
              file=sys.stderr) as bar:  # fmt: skip

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = push_to_verkada(file, directory, settings, operator=operator or process_login(),
                                     options=options, dry_run=dry_run, progress=advance)  # fmt: skip
        except VerkadaFatal as problem:
            raise SetupError(f"{problem}; nothing was pushed") from None
    review_rejected = result.rejected
    counts = result.counts()
    if failed_rows is not None:
        result.write_failed_rows(failed_rows)
    if notify_address and not dry_run:
        from credkit.notify import send_result

        problem = send_result(result, file.name, notify_address)
        if problem:
            click.echo(f"Warning: {problem}", err=True)
    if as_json:
        estimate = result.estimate
        click.echo(json.dumps({"run_id": result.run_id, "counts": counts,
                               "failed_rows": str(failed_rows) if failed_rows else None,
                               "calls": estimate.calls if estimate else None,
                               "seconds": estimate.seconds if estimate else None}))  # fmt: skip
    else:
        if review_rejected:
            click.echo("File rejected: nothing pushed (review it for the findings).")
            sys.exit(2)
        summary = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
        prefix = "Dry run (nothing pushed): " if dry_run else f"Run {result.run_id}: "
        click.echo(prefix + summary)
        if result.estimate is not None and dry_run:
            click.echo(result.estimate.text())
        elif not dry_run:
            calls = result.calls
            click.echo(f"{calls.requests} API calls ({calls.rate_limited} rate-limited and "
                       f"waited out, {calls.retries} retried, {calls.token_renewals} token "
                       "renewals)")  # fmt: skip
        if counts["fail"] and failed_rows is None:
            failed = result.failed_rows
            click.echo(_failed_text(failed))
    sys.exit(2 if review_rejected else 1 if counts["fail"] else 0)


def _failed_text(failed: pd.DataFrame) -> str:
    """One line per failed row: its number and why."""
    rows = zip(failed["Row"], failed["Error"], strict=True)
    return "\n".join(f"  row {row}: {error}" for row, error in rows)


@main.group(invoke_without_command=True)
@directory_option
@click.pass_context
def runs(ctx: click.Context, database_url: str) -> None:
    """List import runs; show or undo one."""
    if ctx.invoked_subcommand is None:  # a subcommand opens its own (it may name another --db)
        from credkit.render import runs_text
        from credkit.runs import list_runs

        directory = _open(database_url)
        _require(directory, "runs")
        click.echo(runs_text(list_runs(directory)))


@runs.command("show")
@click.argument("run_id", type=int)
@directory_option
def runs_show(run_id: int, database_url: str) -> None:
    """Show one run and the credential changes it made, in row order."""
    from credkit.privileges import reads_entry_codes
    from credkit.render import run_text
    from credkit.runs import list_runs, run_changes

    directory = _open(database_url)
    _require(directory, "runs")
    frame = list_runs(directory)
    run = frame[frame["id"] == run_id]
    if run.empty:
        raise click.ClickException(f"there is no run {run_id}; `credkit runs` lists them")
    click.echo(run_text(run.iloc[0], run_changes(directory, run_id)))
    with directory.engine.connect() as conn:
        if not reads_entry_codes(conn):
            click.echo("  (changes to entry codes are withheld from your login)")


@runs.command("undo")
@click.argument("run_id", type=int)
@operator_option(_OPERATOR_HELP)
@directory_option
def runs_undo(run_id: int, operator: str | None, database_url: str) -> None:
    """Revert a run; refused where a later change would be overwritten. Exit 1 when refused."""
    from credkit.runs import undo_run

    directory = _open(database_url)
    _require(directory, "undo")
    result = undo_run(directory, run_id, on_behalf_of=operator)
    if not result.undone:
        click.echo(f"Refused: {printable(str(result.refusal))}", err=True)
        sys.exit(1)
    click.echo(f"Run {run_id} undone by run {result.run_id}: {result.reverted} changes reverted.")


@main.command()
def formats() -> None:
    """List the card formats: names, aliases, bits, ranges and how their hex is read."""
    from credkit.formats import REGISTRY

    click.echo(REGISTRY.table().to_string(index=False))


@main.command()
@click.option("--templates", is_flag=True, help="Show each code's message template too.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the catalogue as JSON (templates too)."
)
def codes(templates: bool, as_json: bool) -> None:
    """List every finding code with its severity, level and meaning."""
    from credkit.findings import catalogue_table

    table = catalogue_table()
    if as_json:
        click.echo(json.dumps(table.to_dict("records"), indent=2, ensure_ascii=False))
        return
    columns = ["code", "severity", "level", "title"]
    widths = [max(len(name), *table[name].str.len()) for name in columns[:-1]]
    for values in [columns, *table[columns].itertuples(index=False)]:
        cells = [str(v).ljust(w) for v, w in zip(values, widths, strict=False)]
        click.echo("  ".join([*cells, str(values[-1])]))
    if templates:
        click.echo("")
        for code, template in zip(table["code"], table["template"], strict=True):
            click.echo(f"{code}\n    {template or '(no template yet)'}")


def _save_profile(profile: Profile, path: Path) -> None:
    """Write a profile file, as every output is written: whole or not at all (exit 3)."""
    from credkit.profiles import save_profile

    try:
        save_profile(profile, path)
    except OSError as error:
        raise SetupError(write_failure(path, error)) from None


def _notify_address(value: str | None) -> str | None:
    """The --notify address, checked before the import writes anything."""
    if value is None:
        return None
    from credkit.notify import address_problem

    problem = address_problem(value)
    if problem:
        raise click.BadParameter(problem, param_hint="--notify")
    return value


@main.command()
@click.argument("value")
@click.option(
    "--bits", type=click.IntRange(1, 64), default=None, help="Only formats of this many bits."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
def decode(value: str, bits: int | None, as_json: bool) -> None:
    """List the card formats a raw value can be, best first.

    VALUE is a hex frame (2EC0C86), a bit string, FC:CN or FC/CN, or a decimal that may be a
    facility code and card number run together. Exit status: 0 candidates listed, 1 none,
    2 the value cannot be read.
    """
    from credkit.decode import UnreadableValue, candidates

    try:
        found = candidates(value, bits=bits)
    except UnreadableValue as unreadable:
        click.echo(f"Error: {unreadable}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps([candidate.as_dict() for candidate in found], indent=2))
    elif not found:
        width = f" of {bits} bits" if bits else ""
        click.echo(f"No card format{width} fits {value!r} (or its parity bits are wrong).")
    for number, candidate in enumerate(found if not as_json else (), start=1):
        click.echo(f"{number}. {candidate.describe()}")
    sys.exit(0 if found else 1)


@main.group()
def profile() -> None:
    """Source profiles: how another system writes its file (see `credkit convert`)."""


@profile.command("list")
def profile_list() -> None:
    """List the built-in profiles and the systems they read."""
    from credkit.profiles import builtin_profiles, load_profile

    for name in builtin_profiles():
        click.echo(f"{name:12} {load_profile(name).system}")


@profile.command("save")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    required=True,
    callback=_mapping,
    metavar='"FROM=TO"',
    help="An accepted header mapping, as review's --map takes it.",
)
def profile_save(output: Path, mapping: tuple[tuple[str, str], ...]) -> None:
    """Save accepted header mappings as a profile, to use again with --profile OUTPUT.

    \b
    Example:
      credkit profile save site.toml --map "Facility Cod=Facility Code" --map "Badge=Card Number"
      credkit review next-export.csv --profile site.toml
    """  # fmt: skip
    from credkit.profiles import mapping_profile

    check_output(output, "OUTPUT")
    _save_profile(mapping_profile(mapping, name=output.stem), output)
    click.echo(f"Saved {len(mapping)} header mappings to {output}")


@main.group()
def db() -> None:
    """The directory's database: its schema revision."""


@db.command("upgrade")
@directory_option
def db_upgrade(database_url: str) -> None:
    """Upgrade a directory made by an older credkit to this credkit's schema, in one transaction.

    Exit status: 0 upgraded (or already current), 3 no directory there, or it cannot be upgraded.
    """
    from sqlalchemy.exc import DBAPIError

    from credkit.connection import SetupError, create_engine_for, display_url
    from credkit.migrations import upgrade

    shown = display_url(database_url)
    engine = create_engine_for(database_url)
    try:
        before, after = upgrade(engine, database_url)
    except SetupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(3)
    except DBAPIError as error:  # unreachable, refused, read-only: the database's own words
        reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        click.echo(f"Error: cannot upgrade the directory at {shown}: {reason}", err=True)
        sys.exit(3)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"The directory at {shown} is already at revision {after}.")
    else:
        click.echo(f"Upgraded the directory at {shown} from revision {before} to {after}.")


def _roles_engine(database_url: str) -> Any:
    """The engine `credkit roles` works on; a SQLite directory has no roles (exit 3)."""
    from credkit.connection import create_engine_for
    from credkit.roles import NO_ROLES_ON_SQLITE

    engine = create_engine_for(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise SetupError(NO_ROLES_ON_SQLITE)
    return engine


def _role_argument(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from credkit.roles import role_name

    try:
        return role_name(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.group(invoke_without_command=True)
@directory_option
@click.pass_context
def roles(ctx: click.Context, database_url: str) -> None:
    """PostgreSQL roles: credkit_admin, credkit_manager, credkit_viewer, and their logins.

    \b
    Examples:
      credkit roles setup --db postgresql+psycopg://postgres@HOST/DB
      credkit roles grant alice credkit_manager
    On SQLite there are no roles (exit status 3).
    """
    if ctx.invoked_subcommand is None:
        from credkit.roles import role_members

        engine = _roles_engine(database_url)
        try:
            members = role_members(engine)
        finally:
            engine.dispose()
        for role, logins in members.items():
            click.echo(f"{role}: {', '.join(logins) or '(no logins)'}")


@roles.command("setup")
@directory_option
def roles_setup(database_url: str) -> None:
    """Create the three roles and grant each what it needs; safe to run again (and after
    `credkit db upgrade`, to grant new tables). Exit 3 when the login may not."""
    from credkit.roles import setup_roles

    url = database_url
    engine = _roles_engine(url)
    try:
        report = setup_roles(engine, url)
    finally:
        engine.dispose()
    created = ", ".join(report.created_roles) or "none (all existed)"
    click.echo(f"Roles created: {created}.")
    click.echo(f"Granted on {len(report.tables)} tables ({', '.join(report.tables)}) and "
               f"{len(report.sequences)} sequences; row-level security on entry codes and runs.")  # fmt: skip


@roles.command("grant")
@click.argument("login")
@click.argument("role", callback=_role_argument)
@directory_option
def roles_grant(login: str, role: str, database_url: str) -> None:
    """Make LOGIN a member of ROLE (credkit_admin, credkit_manager or credkit_viewer; or
    admin, manager, viewer). Exit 3 when your login may not grant it."""
    from credkit.roles import grant_role

    engine = _roles_engine(database_url)
    try:
        grant_role(engine, login, role)
    finally:
        engine.dispose()
    click.echo(f"{login} is now a member of {role}.")


@roles.command("revoke")
@click.argument("login")
@click.argument("role", callback=_role_argument)
@directory_option
def roles_revoke(login: str, role: str, database_url: str) -> None:
    """Take ROLE from LOGIN. Exit 3 when your login may not."""
    from credkit.roles import revoke_role

    engine = _roles_engine(database_url)
    try:
        revoke_role(engine, login, role)
    finally:
        engine.dispose()
    click.echo(f"{login} is no longer a member of {role}.")
