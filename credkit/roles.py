"""The PostgreSQL group roles of a shared directory: what each may do, table by table, and setup.

Three group roles, none of them a login; logins get what a role may do by being granted it
(``credkit roles grant LOGIN ROLE``):

- ``credkit_admin``: every privilege on every table and sequence, and the right to grant the
  three roles; undoes anyone's run.
- ``credkit_manager``: imports credentials and users, exports, undoes its own runs.
- ``credkit_viewer``: reviews files and reads runs. It reads only the columns a review needs,
  so it cannot export, and row-level security hides every entry code from it: the entry-code
  credentials (their value and their ``entry_code:NNNN`` key) and their history.

The database enforces all of it (table and column privileges, row-level security policies, the
operator trigger of credkit.privileges); credkit's own checks only say so before a file is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from credkit import generation
from credkit.connection import SetupError, display_url
from credkit.privileges import (
    ADMIN_ROLE,
    GROUP_ROLES,
    MANAGER_ROLE,
    REVIEW_CREDENTIAL_COLUMNS,
    REVIEW_USER_COLUMNS,
    VIEWER_ROLE,
    install_operator_trigger,
)

ALL_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Grant:
    """What one role holds on one table: privileges on the whole table, SELECT on some columns."""

    privileges: tuple[str, ...] = ()
    select_columns: tuple[str, ...] = ()


#: Every table of a directory and what each role holds on it. A table missing here gets no
#: privilege at all: tests/test_roles.py checks this list against credkit.directory.metadata
#: (plus Alembic's alembic_version), so a new table cannot be forgotten.
TABLE_PRIVILEGES: dict[str, dict[str, Grant]] = {
    "users": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        # DELETE: undoing a user import removes the users it created (credkit.runs).
        MANAGER_ROLE: Grant(_WRITE),
        VIEWER_ROLE: Grant(select_columns=REVIEW_USER_COLUMNS),
    },
    "credentials": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(_WRITE),
        VIEWER_ROLE: Grant(select_columns=REVIEW_CREDENTIAL_COLUMNS),
    },
    "import_runs": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(("SELECT", "INSERT", "UPDATE")),
        VIEWER_ROLE: Grant(("SELECT",)),
    },
    "credential_history": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(("SELECT", "INSERT")),
        VIEWER_ROLE: Grant(("SELECT",)),
    },
    # Users' names and keys only, no credential: nothing a viewer may not read.
    "user_history": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(("SELECT", "INSERT")),
        VIEWER_ROLE: Grant(("SELECT",)),
    },
    # Every review reads the generation (credkit.generation); only triggers move it.
    "directory_generation": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(("SELECT",)),
        VIEWER_ROLE: Grant(("SELECT",)),
    },
    # Every command reads the schema revision when it opens the directory.
    "alembic_version": {
        ADMIN_ROLE: Grant(ALL_PRIVILEGES),
        MANAGER_ROLE: Grant(("SELECT",)),
        VIEWER_ROLE: Grant(("SELECT",)),
    },
}

#: The sequences behind the tables' ids: nextval needs USAGE.
SEQUENCE_PRIVILEGES = {ADMIN_ROLE: "USAGE, SELECT, UPDATE", MANAGER_ROLE: "USAGE, SELECT"}


@dataclass(frozen=True)
class Policy:
    """A row-level security policy: who, for which command, which rows (USING / WITH CHECK)."""

    name: str
    table: str
    command: str
    role: str
    using: str | None = "true"
    check: str | None = None


_OWN_RUN = "operator = current_user::text"

#: Row-level security on the tables that hold entry codes or whose rows belong to a login.
POLICIES = [
    *(
        Policy(f"{role}_all", table, "ALL", role, "true", "true")
        for table in ("credentials", "credential_history")
        for role in (ADMIN_ROLE, MANAGER_ROLE)
    ),
    Policy("credkit_viewer_no_entry_codes", "credentials", "SELECT", VIEWER_ROLE,
           "kind <> 'entry_code'"),
    Policy("credkit_viewer_no_entry_codes", "credential_history", "SELECT", VIEWER_ROLE,
           "NOT starts_with(credential_key, 'entry_code:')"),
    Policy(f"{ADMIN_ROLE}_all", "import_runs", "ALL", ADMIN_ROLE, "true", "true"),
    Policy(f"{MANAGER_ROLE}_read", "import_runs", "SELECT", MANAGER_ROLE),
    Policy(f"{MANAGER_ROLE}_record", "import_runs", "INSERT", MANAGER_ROLE, None, _OWN_RUN),
    Policy(f"{MANAGER_ROLE}_own_runs", "import_runs", "UPDATE", MANAGER_ROLE, _OWN_RUN, _OWN_RUN),
    Policy(f"{VIEWER_ROLE}_read", "import_runs", "SELECT", VIEWER_ROLE),
]  # fmt: skip
RLS_TABLES = sorted({policy.table for policy in POLICIES})

#: The shorter names `credkit roles grant` accepts.
ROLE_ALIASES = {"admin": ADMIN_ROLE, "manager": MANAGER_ROLE, "viewer": VIEWER_ROLE}

#: A PostgreSQL advisory lock key ("CRKR") so that two setups never race to create a role.
_ROLES_LOCK = 0x43524B52

NO_ROLES_ON_SQLITE = (
    "a SQLite directory has no roles: whoever can write its file can do everything, and each "
    "run records the operating-system user; roles need a PostgreSQL directory"
)


@dataclass
class SetupReport:
    """What `credkit roles setup` did: roles created, tables and sequences granted."""

    created_roles: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)


def setup_roles(engine: Engine, url: str | None = None) -> SetupReport:
    """Create the three group roles (where missing) and grant them exactly what TABLE_PRIVILEGES
    says, in one transaction; running it again changes nothing, and after an upgrade it grants
    the new tables. Privileges not in the catalogue are taken back from the three roles."""
    _postgres_only(engine)
    report = SetupReport()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ROLES_LOCK})
        _check_may_create_roles(conn)
        if not _exists(conn, "users"):
            raise SetupError(
                f"no credkit directory at {display_url(url or engine.url)}; create it first "
                "(`credkit users import` or `credkit demo`), then set up its roles"
            )
        for role in GROUP_ROLES:
            if not _role_exists(conn, role):
                conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
                report.created_roles.append(role)
        # Administrators appoint managers and viewers (and, granted WITH ADMIN OPTION, admins).
        conn.exec_driver_sql(
            f"GRANT {MANAGER_ROLE}, {VIEWER_ROLE} TO {ADMIN_ROLE} WITH ADMIN OPTION"
        )
        roles = ", ".join(GROUP_ROLES)
        database = _quote(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
        schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
        conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {database} TO {roles}")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {roles}")
        for table, grants in TABLE_PRIVILEGES.items():
            if not _exists(conn, table):
                continue
            _grant_table(conn, table, grants)
            report.tables.append(table)
            report.sequences.extend(_grant_sequences(conn, table))
        for table in RLS_TABLES:
            if _exists(conn, table):
                _apply_policies(conn, table)
        install_operator_trigger(conn)
        if _exists(conn, "directory_generation"):
            generation.grant(conn, ADMIN_ROLE, MANAGER_ROLE, VIEWER_ROLE)
    return report


def grant_role(engine: Engine, login: str, role: str) -> str:
    """Make a login a member of one of the three roles; returns the role's full name."""
    _postgres_only(engine)
    role = role_name(role)
    with engine.begin() as conn:
        _check_may_grant(conn, role, login)
        admin_option = " WITH ADMIN OPTION" if role == ADMIN_ROLE else ""
        conn.exec_driver_sql(f"GRANT {role} TO {_quote(conn, login)}{admin_option}")
    return role


def revoke_role(engine: Engine, login: str, role: str) -> str:
    """Take one of the three roles from a login; returns the role's full name."""
    _postgres_only(engine)
    role = role_name(role)
    with engine.begin() as conn:
        _check_may_grant(conn, role, login)
        conn.exec_driver_sql(f"REVOKE {role} FROM {_quote(conn, login)}")
    return role


def role_members(engine: Engine) -> dict[str, list[str]]:
    """The logins of each of the three roles (a role not set up yet has none listed)."""
    _postgres_only(engine)
    query = sa.text(
        "SELECT r.rolname, m.rolname FROM pg_auth_members a "
        "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
        "WHERE r.rolname = ANY(:roles) AND m.rolcanlogin ORDER BY 1, 2"
    )
    members: dict[str, list[str]] = {role: [] for role in GROUP_ROLES}
    with engine.connect() as conn:
        for role, member in conn.execute(query, {"roles": list(GROUP_ROLES)}):
            members[role].append(member)
    return members


# --- the steps -------------------------------------------------------------------------------


def _grant_table(conn: Connection, table: str, grants: dict[str, Grant]) -> None:
    """Take every privilege back from PUBLIC and the three roles, then grant the catalogue's
    (a table's REVOKE takes its column privileges with it)."""
    name = _quote(conn, table)
    conn.exec_driver_sql(f"REVOKE ALL ON TABLE {name} FROM PUBLIC, {', '.join(GROUP_ROLES)}")
    for role, grant in grants.items():
        if grant.privileges:
            conn.exec_driver_sql(f"GRANT {', '.join(grant.privileges)} ON TABLE {name} TO {role}")
        if grant.select_columns:
            columns = ", ".join(_quote(conn, column) for column in grant.select_columns)
            conn.exec_driver_sql(f"GRANT SELECT ({columns}) ON TABLE {name} TO {role}")


def _grant_sequences(conn: Connection, table: str) -> list[str]:
    """Grant the sequences a table's columns own (its serial ids); returns their names."""
    owned = conn.execute(
        sa.text(
            "SELECT s.oid::regclass::text FROM pg_class s "
            "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid "
            "AND d.deptype IN ('a', 'i') "
            "WHERE s.relkind = 'S' AND d.refobjid = CAST(:t AS regclass) ORDER BY 1"
        ),
        {"t": table},
    ).scalars().all()  # fmt: skip
    for sequence in owned:
        conn.exec_driver_sql(
            f"REVOKE ALL ON SEQUENCE {sequence} FROM PUBLIC, {', '.join(GROUP_ROLES)}"
        )
        for role, privileges in SEQUENCE_PRIVILEGES.items():
            conn.exec_driver_sql(f"GRANT {privileges} ON SEQUENCE {sequence} TO {role}")
    return list(owned)


def _apply_policies(conn: Connection, table: str) -> None:
    name = _quote(conn, table)
    conn.exec_driver_sql(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    for policy in POLICIES:
        if policy.table != table:
            continue
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {policy.name} ON {name}")
        using = f" USING ({policy.using})" if policy.using else ""
        check = f" WITH CHECK ({policy.check})" if policy.check else ""
        conn.exec_driver_sql(
            f"CREATE POLICY {policy.name} ON {name} FOR {policy.command} TO {policy.role}"
            f"{using}{check}"
        )


def _check_may_create_roles(conn: Connection) -> None:
    login, allowed = conn.execute(
        sa.text(
            "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    if not allowed:
        raise SetupError(
            f"your login {login} may not create roles; run `credkit roles setup` as the "
            "directory's owner or a superuser (e.g. postgres)"
        )


def _check_may_grant(conn: Connection, role: str, login: str) -> None:
    if not _role_exists(conn, role):
        raise SetupError(f"there is no role {role} yet; run `credkit roles setup` first")
    may = conn.execute(
        sa.text(
            "SELECT rolsuper OR pg_has_role(:r, 'MEMBER WITH ADMIN OPTION') FROM pg_roles "
            "WHERE rolname = current_user"
        ),
        {"r": role},
    ).scalar_one()
    if not may:
        me = conn.execute(sa.text("SELECT current_user")).scalar_one()
        raise SetupError(f"your login {me} may not grant or revoke {role}; that needs {ADMIN_ROLE}")
    if login in GROUP_ROLES:
        raise SetupError(f"{login} is one of credkit's roles, not a login; name a login")
    if not _role_exists(conn, login):
        raise SetupError(
            f"there is no login {login}; create it first (CREATE ROLE {login} LOGIN PASSWORD "
            "'…'), then grant it a role"
        )


def role_name(role: str) -> str:
    name = ROLE_ALIASES.get(role.lower(), role.lower())
    if name not in GROUP_ROLES:
        raise ValueError(f"{role!r} is not one of credkit's roles: {', '.join(GROUP_ROLES)}")
    return name


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise SetupError(NO_ROLES_ON_SQLITE)


def _role_exists(conn: Connection, role: str) -> bool:
    return conn.execute(
        sa.text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"), {"r": role}
    ).scalar_one()


def _exists(conn: Connection, table: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar_one()


def _quote(conn: Connection, identifier: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(identifier)
