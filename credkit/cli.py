"""The credkit command line: one library call per command, rendered, with an exit status."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd
from tqdm import tqdm

from credkit.defaults import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
from credkit.directory import Directory


def directory_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """The --db option every command that touches the directory shares."""
    return click.option(
        "--db",
        "database_url",
        envvar=DATABASE_URL_ENV,
        default=DEFAULT_DATABASE_URL,
        show_default=True,
        help=f"The directory's database URL (or set {DATABASE_URL_ENV}).",
    )(command)


def _require(directory: Directory, action: str) -> None:
    """Stop with one line (exit 3) when the connected login may not do action (see
    credkit.privileges); before any file is read."""
    from credkit.connection import SetupError
    from credkit.privileges import require

    try:
        require(directory.engine, action, directory.url)  # type: ignore[arg-type]
    except SetupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(3)


_OPERATOR_HELP = "Whom you run this for: recorded beside your login, never instead of it."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="credkit")
def main() -> None:
    """Bulk import, review and export of access-control credentials through CSV files.

    \b
    Examples:
      credkit demo --users 1000 --out demo/
      credkit review demo/credentials-messy.csv
      credkit export -o credentials.csv
    """


@main.command()
@click.option("--users", "user_count", default=1000, show_default=True, help="How many users.")
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
    from credkit.demo import create_demo

    directory = Directory(database_url)
    _require(directory, "users-import")
    _require(directory, "import")
    existing = len(directory.users_frame())
    if existing:
        raise click.ClickException(
            f"the directory at {database_url} already has {existing} users; "
            "the demo needs an empty one (name another with --db)"
        )
    result = create_demo(directory, out_dir, user_count=user_count, seed=seed)
    click.echo(f"Created {result.users} users with {result.credentials} credentials.")
    for path in result.files:
        click.echo(f"Wrote {path}")


@main.group()
def users() -> None:
    """Manage directory users."""


@users.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--operator", default=None, metavar="NAME", help=_OPERATOR_HELP)
@directory_option
def users_import(file: Path, operator: str | None, database_url: str) -> None:
    """Add or update users from a user CSV.

    Columns: First Name, Last Name, External ID, Employee ID, Email. Users are matched by
    External ID, then Email. Exit status: 0 all rows applied, 1 some failed, 2 file rejected.
    """
    from credkit.render import findings_text
    from credkit.users import import_users

    directory = Directory(database_url)
    _require(directory, "users-import")
    result = import_users(directory, file, on_behalf_of=operator)
    if len(result.findings):
        click.echo(findings_text(result.findings))
    counts = ", ".join(f"{outcome} {count}" for outcome, count in result.counts.items())
    click.echo("File rejected: nothing written." if result.rejected else counts)
    sys.exit(2 if result.rejected else 1 if result.counts["fail"] else 0)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")  # fmt: skip
def template(output: Path | None) -> None:
    """Write the credential CSV template: the headers and three sample rows."""
    from credkit.export import template_csv

    text = template_csv()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)


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
    directory = Directory(database_url)
    _require(directory, "export")
    if output is None:
        write_export(directory, sys.stdout, keep=filters.apply)
    else:
        count = write_export(directory, output, keep=filters.apply)
        click.echo(f"Wrote {count} credentials to {output}", err=True)


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    if value is None:
        return None
    delimiter = names.get(value.lower(), value)
    if len(delimiter) != 1:
        raise click.BadParameter("a delimiter is one character, or tab, comma, semicolon, pipe")
    return delimiter


def _encoding(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    import codecs

    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise click.BadParameter(f"{value!r} is not an encoding Python knows") from None
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
    directory = Directory(database_url)
    _require(directory, "review")
    result = review_file(file, directory, options)
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
@click.option("--operator", default=None, metavar="NAME", help=_OPERATOR_HELP)
@click.option(
    "--notify",
    "notify_address",
    default=None,
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
    directory = Directory(database_url)
    _require(directory, "review" if dry_run else "import")  # a dry run writes nothing
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

            result = execute_import(plan, directory, on_behalf_of=operator, progress=advance)
    counts = result.counts()
    if failed_rows is not None:
        result.write_failed_rows(failed_rows)
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


def run_directory_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--db after a runs subcommand as well (`credkit runs show 3 --db URL`); it wins over the
    group's."""
    return click.option(
        "--db",
        "database_url",
        default=None,
        help="The directory's database URL (as for `credkit runs --db`).",
    )(command)


def _runs_directory(ctx: click.Context, database_url: str | None) -> Directory:
    return Directory(database_url or ctx.obj)


@main.group(invoke_without_command=True)
@directory_option
@click.pass_context
def runs(ctx: click.Context, database_url: str) -> None:
    """List import runs; show or undo one."""
    ctx.obj = database_url  # opened by the command that runs: a subcommand may name another
    if ctx.invoked_subcommand is None:
        from credkit.runs import list_runs

        directory = Directory(database_url)
        _require(directory, "runs")
        frame = list_runs(directory)
        if frame.empty:
            click.echo("No runs yet.")
            return
        for run in frame.itertuples():
            undone = f" (undone by run {int(run.undone_by)})" if pd.notna(run.undone_by) else ""
            counts = ", ".join(f"{k} {v}" for k, v in run.counts.items())
            noted = run.on_behalf_of and run.on_behalf_of != run.operator
            operator = run.operator + (f" for {run.on_behalf_of}" if noted else "")
            click.echo(f"{run.id}  {run.started_at:%Y-%m-%d %H:%M}Z  {run.kind:<11} "
                       f"{operator:<12} {run.file_name}  {counts}{undone}")  # fmt: skip


@runs.command("show")
@click.argument("run_id", type=int)
@run_directory_option
@click.pass_context
def runs_show(ctx: click.Context, run_id: int, database_url: str | None) -> None:
    """Show one run and the credential changes it made."""
    from credkit.findings import mask_entry_code
    from credkit.privileges import reads_entry_codes
    from credkit.runs import list_runs, run_changes

    directory = _runs_directory(ctx, database_url)
    _require(directory, "runs")
    frame = list_runs(directory)
    run = frame[frame["id"] == run_id]
    if run.empty:
        raise click.ClickException(f"there is no run {run_id}")
    for name, value in run.iloc[0].items():
        click.echo(f"{name}: {value}")
    for change in run_changes(directory, run_id).itertuples():
        key = change.credential_key
        if key.startswith("entry_code:"):
            key = "entry_code:" + mask_entry_code(key.split(":", 1)[1])
        click.echo(f"  row {change.row}: {change.action} {key}")
    with directory.engine.connect() as conn:
        if not reads_entry_codes(conn):
            click.echo("  (changes to entry codes are withheld from your login)")


@runs.command("undo")
@click.argument("run_id", type=int)
@click.option("--operator", default=None, metavar="NAME", help=_OPERATOR_HELP)
@run_directory_option
@click.pass_context
def runs_undo(
    ctx: click.Context, run_id: int, operator: str | None, database_url: str | None
) -> None:
    """Revert a run; refused where a later change would be overwritten. Exit 1 when refused."""
    from credkit.connection import SetupError
    from credkit.runs import undo_run

    directory = _runs_directory(ctx, database_url)
    _require(directory, "undo")
    try:
        result = undo_run(directory, run_id, on_behalf_of=operator)
    except SetupError as error:  # another login's run, and this one is no administrator
        click.echo(f"Error: {error}", err=True)
        sys.exit(3)
    if not result.undone:
        click.echo(f"Refused: {result.refusal}", err=True)
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


def _roles_engine(database_url: str) -> Any:
    """The engine `credkit roles` works on; a SQLite directory has no roles (exit 3)."""
    from credkit.connection import create_engine_for
    from credkit.roles import NO_ROLES_ON_SQLITE

    engine = create_engine_for(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        click.echo(f"Error: {NO_ROLES_ON_SQLITE}", err=True)
        sys.exit(3)
    return engine


def _roles_call(work: Callable[[], Any]) -> Any:
    from credkit.connection import SetupError

    try:
        return work()
    except SetupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(3)


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
    ctx.obj = database_url
    if ctx.invoked_subcommand is None:
        from credkit.roles import role_members

        engine = _roles_engine(database_url)
        try:
            members = _roles_call(lambda: role_members(engine))
        finally:
            engine.dispose()
        for role, logins in members.items():
            click.echo(f"{role}: {', '.join(logins) or '(no logins)'}")


@roles.command("setup")
@run_directory_option
@click.pass_context
def roles_setup(ctx: click.Context, database_url: str | None) -> None:
    """Create the three roles and grant each what it needs; safe to run again (and after
    `credkit db upgrade`, to grant new tables). Exit 3 when the login may not."""
    from credkit.roles import setup_roles

    url = database_url or ctx.obj
    engine = _roles_engine(url)
    try:
        report = _roles_call(lambda: setup_roles(engine, url))
    finally:
        engine.dispose()
    created = ", ".join(report.created_roles) or "none (all existed)"
    click.echo(f"Roles created: {created}.")
    click.echo(f"Granted on {len(report.tables)} tables ({', '.join(report.tables)}) and "
               f"{len(report.sequences)} sequences; row-level security on entry codes and runs.")  # fmt: skip


@roles.command("grant")
@click.argument("login")
@click.argument("role", callback=_role_argument)
@run_directory_option
@click.pass_context
def roles_grant(ctx: click.Context, login: str, role: str, database_url: str | None) -> None:
    """Make LOGIN a member of ROLE (credkit_admin, credkit_manager or credkit_viewer; or
    admin, manager, viewer). Exit 3 when your login may not grant it."""
    from credkit.roles import grant_role

    engine = _roles_engine(database_url or ctx.obj)
    try:
        _roles_call(lambda: grant_role(engine, login, role))
    finally:
        engine.dispose()
    click.echo(f"{login} is now a member of {role}.")


@roles.command("revoke")
@click.argument("login")
@click.argument("role", callback=_role_argument)
@run_directory_option
@click.pass_context
def roles_revoke(ctx: click.Context, login: str, role: str, database_url: str | None) -> None:
    """Take ROLE from LOGIN. Exit 3 when your login may not."""
    from credkit.roles import revoke_role

    engine = _roles_engine(database_url or ctx.obj)
    try:
        _roles_call(lambda: revoke_role(engine, login, role))
    finally:
        engine.dispose()
    click.echo(f"{login} is no longer a member of {role}.")
