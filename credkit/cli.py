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
from typing import Any

import click
import sqlalchemy as sa
from tqdm import tqdm

from credkit.connection import SetupError, database_error_message, display_url
from credkit.defaults import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, database_url
from credkit.directory import Directory
from credkit.outputs import check_output, write_output
from credkit.render import printable

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
    return Directory(database_url, create=create)


def _write(path: Path, write: Callable[[Any], Any], already_done: str = "") -> Any:
    """Write an output whole, or say (exit 3) what stopped it, and what was already done."""
    try:
        return write_output(path, write)
    except SetupError as error:
        raise SetupError(f"{error}{already_done}") from None


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
@operator_option("Who runs the import (default: your login).")
@directory_option
def users_import(file: Path, operator: str | None, database_url: str) -> None:
    """Add or update users from a user CSV.

    Columns: First Name, Last Name, External ID, Employee ID, Email. Users are matched by
    External ID, then Email. Exit status: 0 all rows applied, 1 some failed, 2 file rejected.
    """
    from credkit.render import findings_text
    from credkit.users import import_users

    result = import_users(Directory(database_url), file, operator=operator or _login())
    if len(result.findings):
        click.echo(findings_text(result.findings))
    counts = ", ".join(f"{outcome} {count}" for outcome, count in result.counts.items())
    click.echo("File rejected: nothing written." if result.rejected else counts)
    sys.exit(2 if result.rejected else 1 if result.counts["fail"] else 0)


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


def reading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to read a credential CSV, shared by review and import."""
    options = [
        click.option("--encoding", default=None, callback=_encoding, help="Read the file in this encoding (e.g. cp1252)."),
        click.option("--delimiter", default=None, callback=_delimiter,
                     help="Read the file with this delimiter (';', 'tab', ...)."),
        click.option("--map", "mapping", multiple=True, callback=_mapping, metavar='"FROM=TO"',
                     help="Accept a header mapping, e.g. --map \"Card Numbr=Card Number\"."),
        click.option("--reassign", is_flag=True,
                     help="Move credentials that belong to another user to the row's user."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reading_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@directory_option
def review(
    file: Path,
    encoding: str | None,
    delimiter: str | None,
    mapping: tuple[tuple[str, str], ...],
    reassign: bool,
    as_json: bool,
    database_url: str,
) -> None:
    """Review a credential CSV: print its file, column and row findings.

    Exit status: 0 no errors, 1 row errors, 2 file or column errors.
    """
    from credkit.render import review_text
    from credkit.review import ReviewOptions, review_file

    options = ReviewOptions(
        reassign=reassign, encoding=encoding, delimiter=delimiter, mapping=mapping
    )
    result = review_file(file, _open(database_url), options)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(review_text(result))
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
@operator_option("Who runs the import (default: your login).")
@click.option(
    "--notify",
    "notify_address",
    default=None,
    callback=lambda _ctx, _param, value: _notify_address(value),
    metavar="ADDRESS",
    help="E-mail the result to ADDRESS (SMTP settings: CREDKIT_SMTP_HOST, _PORT, "
    "_STARTTLS, _USER, _PASSWORD, _FROM).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@directory_option
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
    as_json: bool,
    database_url: str,
) -> None:
    """Import a credential CSV: review, plan, then (unless --dry-run) apply.

    Exit status: 0 no row failed, 1 some rows failed, 2 file rejected (nothing written).
    """  # fmt: skip
    from credkit.importer import dry_run as plan_only
    from credkit.importer import execute_import, plan_import
    from credkit.render import findings_text
    from credkit.review import ReviewOptions, review_file

    options = ReviewOptions(
        reassign=reassign, overwrite_newer=overwrite_newer, encoding=encoding,
        delimiter=delimiter, mapping=mapping,
    )  # fmt: skip
    if failed_rows is not None:
        check_output(failed_rows, "--failed-rows", inputs=[file], database_url=database_url)
    if notify_address and not dry_run:
        from credkit.notify import SmtpSettings

        SmtpSettings.from_env()  # a wrong setting stops the command before the import writes
    directory = _open(database_url)
    review = review_file(file, directory, options)
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

            result = execute_import(plan, directory, operator=operator or _login(),
                                    progress=advance)  # fmt: skip
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


@main.group(invoke_without_command=True)
@directory_option
@click.pass_context
def runs(ctx: click.Context, database_url: str) -> None:
    """List import runs; show or undo one."""
    if ctx.invoked_subcommand is None:  # a subcommand opens its own (it may name another --db)
        from credkit.render import runs_text
        from credkit.runs import list_runs

        click.echo(runs_text(list_runs(_open(database_url))))


@runs.command("show")
@click.argument("run_id", type=int)
@directory_option
def runs_show(run_id: int, database_url: str) -> None:
    """Show one run and the credential changes it made, in row order."""
    from credkit.render import run_text
    from credkit.runs import list_runs, run_changes

    directory = _open(database_url)
    frame = list_runs(directory)
    run = frame[frame["id"] == run_id]
    if run.empty:
        raise click.ClickException(f"there is no run {run_id}; `credkit runs` lists them")
    click.echo(run_text(run.iloc[0], run_changes(directory, run_id)))


@runs.command("undo")
@click.argument("run_id", type=int)
@operator_option("Who undoes the run (default: your login).")
@directory_option
def runs_undo(run_id: int, operator: str | None, database_url: str) -> None:
    """Revert a run; refused where a later change would be overwritten. Exit 1 when refused."""
    from credkit.runs import undo_run

    result = undo_run(_open(database_url), run_id, operator=operator or _login())
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
def codes() -> None:
    """List every finding code with its severity, level and meaning."""
    from credkit.findings import catalogue_table

    click.echo(catalogue_table().to_string(index=False))


def _notify_address(value: str | None) -> str | None:
    """The --notify address, checked before the import writes anything."""
    if value is None:
        return None
    from credkit.notify import address_problem

    problem = address_problem(value)
    if problem:
        raise click.BadParameter(problem, param_hint="--notify")
    return value


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"
