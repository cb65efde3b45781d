"""Who runs a command and what the database lets them do: the operator's login, and the checks.

On PostgreSQL the database decides: a run's operator is ``current_user``, set by a trigger the
client cannot override, and every command first asks the database (``has_table_privilege``,
``has_column_privilege``, ``row_security_active``) whether the connected login may do what it is
about to do, so that a refusal is one line before any file is read. On SQLite there are no
logins: the operator is the operating-system user, and the file's permissions are the only
guard.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from credkit.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine
else:  # SQLAlchemy on first use: the command line imports this module for process_login
    sa = lazy_module("sqlalchemy")

from credkit.connection import SetupError, display_url

#: The three group roles of a shared directory (see credkit.roles), most powerful first.
ADMIN_ROLE = "credkit_admin"
MANAGER_ROLE = "credkit_manager"
VIEWER_ROLE = "credkit_viewer"
GROUP_ROLES = (ADMIN_ROLE, MANAGER_ROLE, VIEWER_ROLE)

Action = Literal["review", "import", "export", "users-import", "runs", "undo"]


@dataclass(frozen=True)
class Requirement:
    """One privilege an action needs: on a table, or on some of its columns only."""

    table: str
    privilege: str  # SELECT, INSERT, UPDATE or DELETE
    columns: tuple[str, ...] = ()


def _needs(table: str, *privileges: str, columns: tuple[str, ...] = ()) -> list[Requirement]:
    return [Requirement(table, privilege, columns) for privilege in privileges]


#: The columns a review reads: its users' keys and names, and its credentials' identities and
#: times. Nothing else, so that a viewer can review without reading any credential's value.
#: gone_at: a review leaves out the users a loaded export no longer lists (credkit.loading).
REVIEW_USER_COLUMNS = (
    "id", "user_id", "external_id", "email_key", "first_name", "last_name", "gone_at",
)  # fmt: skip
REVIEW_CREDENTIAL_COLUMNS = ("id", "user_pk", "kind", "credential_key", "status", "modified")

_REVIEW = [
    *_needs("users", "SELECT", columns=REVIEW_USER_COLUMNS),
    *_needs("credentials", "SELECT", columns=REVIEW_CREDENTIAL_COLUMNS),
]
_RUNS = [*_needs("import_runs", "SELECT"), *_needs("credential_history", "SELECT")]

#: What each command needs, checked before it reads its file.
REQUIREMENTS: dict[str, list[Requirement]] = {
    "review": _REVIEW,
    "import": [
        *_REVIEW,
        *_needs("users", "SELECT"),
        *_needs("credentials", "SELECT", "INSERT", "UPDATE", "DELETE"),
        *_needs("credential_history", "INSERT"),
        *_needs("import_runs", "INSERT", "UPDATE"),
    ],
    "export": [*_needs("users", "SELECT"), *_needs("credentials", "SELECT")],
    "users-import": [
        *_REVIEW,
        *_needs("users", "SELECT", "INSERT", "UPDATE"),
        *_needs("credentials", "SELECT", "INSERT", "UPDATE", "DELETE"),
        *_needs("credential_history", "INSERT"),
        *_needs("user_history", "INSERT"),
        *_needs("import_runs", "INSERT", "UPDATE"),
    ],  # fmt: skip
    "runs": _RUNS,
    "undo": [
        *_RUNS,
        *_needs("users", "SELECT"),
        *_needs("credentials", "SELECT", "INSERT", "UPDATE", "DELETE"),
        *_needs("credential_history", "INSERT"),
        *_needs("import_runs", "INSERT", "UPDATE"),
        # Undoing a user import: the users it created go, those it updated are put back.
        *_needs("users", "UPDATE", "DELETE"),
        *_needs("user_history", "SELECT", "INSERT"),
    ],
}

#: What the refusal calls each action, and which roles may do it.
_ACTION_WORDS = {
    "review": ("review a file against", f"{VIEWER_ROLE}, {MANAGER_ROLE} or {ADMIN_ROLE}"),
    "import": ("import credentials into", f"{MANAGER_ROLE} or {ADMIN_ROLE}"),
    "export": ("export credentials from", f"{MANAGER_ROLE} or {ADMIN_ROLE}"),
    "users-import": ("import users into", f"{MANAGER_ROLE} or {ADMIN_ROLE}"),
    "runs": ("read the runs of", f"{VIEWER_ROLE}, {MANAGER_ROLE} or {ADMIN_ROLE}"),
    "undo": ("undo runs in", f"{MANAGER_ROLE} (their own runs) or {ADMIN_ROLE}"),
}


def process_login() -> str:
    """The operating-system user running this process: a SQLite run's operator."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def current_login(conn: Connection) -> str:
    """The login the directory sees: ``current_user`` on PostgreSQL, else the process's user."""
    if conn.dialect.name == "postgresql":
        return conn.execute(sa.text("SELECT current_user")).scalar_one()
    return process_login()


def missing_privileges(conn: Connection, action: Action) -> list[Requirement]:
    """The privileges of an action that the connected login lacks (none on SQLite)."""
    if conn.dialect.name != "postgresql":
        return []
    missing = []
    for need in REQUIREMENTS[action]:
        if not _table_exists(conn, need.table):
            continue  # no directory yet: opening it is the connection's error, not a privilege
        if need.columns:
            granted = all(
                conn.execute(
                    sa.text("SELECT has_column_privilege(CAST(:t AS regclass), :c, :p)"),
                    {"t": need.table, "c": column, "p": need.privilege},
                ).scalar_one()
                for column in need.columns
            )
        else:
            granted = conn.execute(
                sa.text("SELECT has_table_privilege(CAST(:t AS regclass), :p)"),
                {"t": need.table, "p": need.privilege},
            ).scalar_one()
        if not granted:
            missing.append(need)
    return missing


def require(engine: Engine, action: Action, url: str | None = None) -> None:
    """Refuse, with one line, an action the connected login may not do (SetupError: exit 3)."""
    with engine.connect() as conn:
        missing = missing_privileges(conn, action)
        if not missing:
            return
        login = current_login(conn)
    words, roles = _ACTION_WORDS[action]
    where = display_url(url) if url else "this directory"
    first = missing[0]
    raise SetupError(
        f"your login {login} may not {words} the directory at {where} (no {first.privilege} on "
        f"{first.table}); it needs {roles}: an administrator runs "
        f"`credkit roles grant {login} ROLE`"
    )


def reads_entry_codes(conn: Connection) -> bool:
    """Whether the connected login can read entry codes: their column, and their rows (which
    row-level security hides from every role but managers and administrators)."""
    if conn.dialect.name != "postgresql" or not _table_exists(conn, "credentials"):
        return True
    column = conn.execute(
        sa.text("SELECT has_column_privilege('credentials', 'entry_code', 'SELECT')")
    ).scalar_one()
    if not column:
        return False
    if not conn.execute(sa.text("SELECT row_security_active('credentials')")).scalar_one():
        return True  # the owner, a superuser, or a directory without roles: no policy applies
    return is_member(conn, MANAGER_ROLE) or is_member(conn, ADMIN_ROLE)


def is_member(conn: Connection, role: str) -> bool:
    """Whether the connected login has the privileges of a role (False where it does not exist)."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r) "
                "AND pg_has_role(:r, 'USAGE')"
            ),
            {"r": role},
        ).scalar_one()
    )


def may_undo_any_run(conn: Connection) -> bool:
    """Whether the login may undo a run another login recorded: an administrator, or a login
    that row-level security does not restrict (the owner, a superuser, a directory without
    roles). On SQLite, anyone who can write the file."""
    if conn.dialect.name != "postgresql":
        return True
    restricted = conn.execute(sa.text("SELECT row_security_active('import_runs')")).scalar_one()
    return not restricted or is_member(conn, ADMIN_ROLE)


def _table_exists(conn: Connection, table: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar_one()


# --- the operator trigger ---------------------------------------------------------------------

#: The run's operator is the login that inserted it, and stays so: whatever the client sends is
#: replaced, on insert by ``current_user``, on update by the value already there.
OPERATOR_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION credkit_run_operator() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.operator := current_user;
    ELSE
        NEW.operator := OLD.operator;
    END IF;
    RETURN NEW;
END
$body$
"""
OPERATOR_TRIGGER_SQL = (
    "CREATE TRIGGER import_runs_operator BEFORE INSERT OR UPDATE ON import_runs "
    "FOR EACH ROW EXECUTE FUNCTION credkit_run_operator()"
)


def install_operator_trigger(conn: Connection) -> None:
    """Create (or re-create) the trigger that sets a run's operator, on PostgreSQL only."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(OPERATOR_FUNCTION_SQL)
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS import_runs_operator ON import_runs")
    conn.exec_driver_sql(OPERATOR_TRIGGER_SQL)
