"""The credential directory: its tables, the constraints the database enforces, and its queries."""

from __future__ import annotations

import json
import string
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from credkit.connection import create_engine_for
from credkit.defaults import BATCH_SIZE, database_url
from credkit.privileges import install_operator_trigger, process_login

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator):
    """A UTC time stored without zone (the same on SQLite and PostgreSQL), aware in Python."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("credkit stores aware UTC times only")  # a programming fault
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, unique=True),
    sa.Column("external_id", sa.String(255), unique=True),
    sa.Column("employee_id", sa.String(255)),
    sa.Column("email", sa.String(320)),
    # Case-insensitive uniqueness that both SQLite and PostgreSQL enforce the same way:
    # the trimmed, lower-cased email in a column of its own with a unique constraint.
    sa.Column("email_key", sa.String(320), unique=True),
    sa.Column("first_name", sa.String(255), nullable=False, default=""),
    sa.Column("last_name", sa.String(255), nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False, default="active"),
    sa.CheckConstraint("status in ('active', 'suspended')", name="user_status"),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    # The credential's identity (see credential_key); unique across the whole directory.
    sa.Column("credential_key", sa.String(400), nullable=False, unique=True),
    sa.Column("card_type", sa.String(100)),
    # Decimal text: iClass serial numbers reach 2**64 - 1, past a signed BIGINT.
    sa.Column("facility_code", sa.String(20)),
    sa.Column("card_number", sa.String(20)),
    sa.Column("card_number_hex", sa.String(20)),
    sa.Column("license_plate", sa.String(20)),
    sa.Column("entry_code", sa.String(16)),
    sa.Column("status", sa.String(16), nullable=False, default="active"),
    sa.Column("modified", UtcDateTime, nullable=False),
    sa.CheckConstraint("kind in ('card', 'license_plate', 'entry_code')", name="credential_kind"),
    sa.CheckConstraint("status in ('active', 'inactive')", name="credential_status"),
    # A user has at most one entry code, enforced by the database.
    sa.Index(
        "one_entry_code_per_user",
        "user_pk",
        unique=True,
        sqlite_where=sa.text("kind = 'entry_code'"),
        postgresql_where=sa.text("kind = 'entry_code'"),
    ),
)

import_runs = sa.Table(
    "import_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # "credentials" or "users"
    # Who ran it, as the directory knows them: on PostgreSQL the login (current_user, set by
    # the trigger below whatever the client sends), on SQLite the operating-system user.
    sa.Column("operator", sa.String(255), nullable=False),
    # Whom the operator says they ran it for (--operator): a note beside the operator, never
    # instead of it. Added by revision 0004.
    sa.Column("on_behalf_of", sa.String(255)),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("file_name", sa.String(1000), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("options", sa.JSON, nullable=False, default=dict),
    sa.Column("counts", sa.JSON, nullable=False, default=dict),
    sa.Column("undone_by", sa.Integer, sa.ForeignKey("import_runs.id")),
)

# New directories get the operator trigger with their table (upgraded ones from revision 0004).
sa.event.listen(
    import_runs, "after_create", lambda _table, conn, **_kw: install_operator_trigger(conn)
)

credential_history = sa.Table(
    "credential_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id"), index=True),
    sa.Column("row", sa.Integer),  # the file's row that made the change
    sa.Column("credential_key", sa.String(400), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Column("at", UtcDateTime, nullable=False),
)

#: The values a credential holds, besides its owner, key, status and time.
CREDENTIAL_FIELDS = [
    "kind",
    "card_type",
    "facility_code",
    "card_number",
    "card_number_hex",
    "license_plate",
    "entry_code",
]

# What a credential looks like joined with its user, as exports and reviews read it.
_CREDENTIAL_VIEW = [
    users.c.first_name,
    users.c.last_name,
    users.c.user_id,
    users.c.external_id,
    users.c.employee_id,
    users.c.email,
    credentials.c.id,
    credentials.c.kind,
    credentials.c.credential_key,
    credentials.c.card_type,
    credentials.c.facility_code,
    credentials.c.card_number,
    credentials.c.card_number_hex,
    credentials.c.license_plate,
    credentials.c.entry_code,
    credentials.c.status,
    credentials.c.modified,
]
CREDENTIAL_VIEW_COLUMNS = [column.name for column in _CREDENTIAL_VIEW]

USER_COLUMNS = ["user_id", "external_id", "employee_id", "email", "first_name", "last_name"]


def now_utc() -> datetime:
    """The current time in UTC, at the whole second the export format keeps."""
    return datetime.now(UTC).replace(microsecond=0)


def new_user_id() -> str:
    """A fresh directory-managed user id (a UUID string)."""
    return str(uuid.uuid4())


#: Emails compare case-insensitively in ASCII only: Unicode lower-casing would turn look-alikes
#: (the Kelvin sign, a dotted capital I) into the Latin letters of somebody else's address.
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def email_key(email: str | None) -> str | None:
    """The form emails are compared in: trimmed, ASCII letters lower-cased; None when empty."""
    folded = (email or "").strip().translate(ASCII_LOWER)
    return folded or None


def email_keys(emails: pd.Series) -> pd.Series:
    """email_key for a whole column of text at once, empty text staying empty.

    Arrow's ascii_lower, in C: it lower-cases the bytes A-Z only, which never occur inside a
    multi-byte UTF-8 character, so it folds exactly as ASCII_LOWER does, 60 times faster.
    """
    trimmed = emails.str.strip()
    folded = pc.ascii_lower(pa.array(trimmed.array, type=pa.large_string()))
    return pd.Series(pd.array(folded, dtype=trimmed.dtype), index=emails.index)


def card_key(card_type: str, facility_code: int | str | None, card_number: int | str) -> str:
    """The identity of a card: its canonical card type, facility code and card number."""
    facility = "" if facility_code in (None, "") else str(int(facility_code))
    return f"card:{card_type}:{facility}:{int(card_number)}"


def plate_key(license_plate: str) -> str:
    """The identity of a license plate (already normalised)."""
    return f"license_plate:{license_plate}"


def entry_code_key(entry_code: str) -> str:
    """The identity of an entry code; leading zeros are significant."""
    return f"entry_code:{entry_code}"


@dataclass(frozen=True)
class NewUser:
    """A user to add to the directory."""

    first_name: str
    last_name: str
    external_id: str | None = None
    employee_id: str | None = None
    email: str | None = None
    user_id: str | None = None
    status: str = "active"


class Directory:
    """A credential directory in a SQL database, its tables created on first use."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.url = database_url(url)
        self.engine = engine or create_engine_for(self.url)
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # --- users -------------------------------------------------------------------------------

    def add_users(
        self, new_users: list[NewUser], connection: Connection | None = None
    ) -> list[str]:
        """Add users in one statement and return their user ids."""
        rows = [_user_row(user) for user in new_users]
        if rows:
            self._run(lambda conn: conn.execute(users.insert(), rows), connection)
        return [row["user_id"] for row in rows]

    def users_frame(self) -> pd.DataFrame:
        """Every user, one row each, with their keys and names (all text)."""
        query = sa.select(*(users.c[name] for name in USER_COLUMNS), users.c.status).order_by(
            users.c.id
        )
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=[*USER_COLUMNS, "status"])
        return frame.astype(object).where(frame.notna(), None)

    # --- credentials -------------------------------------------------------------------------

    def add_credential(
        self,
        user_id: str,
        *,
        kind: str,
        credential_key: str,
        status: str = "active",
        modified: datetime | None = None,
        connection: Connection | None = None,
        **values: str | None,
    ) -> None:
        """Give a user one credential; the database refuses a duplicate."""

        def insert(conn: Connection) -> None:
            user_pk = conn.execute(
                sa.select(users.c.id).where(users.c.user_id == user_id)
            ).scalar_one()
            conn.execute(
                credentials.insert().values(
                    user_pk=user_pk,
                    kind=kind,
                    credential_key=credential_key,
                    status=status,
                    modified=modified or now_utc(),
                    **values,
                )
            )

        self._run(insert, connection)

    def credential_count(self) -> int:
        """How many credentials the directory holds."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(credentials)).scalar_one()

    def iter_credentials(self, batch_size: int = BATCH_SIZE) -> Iterator[pd.DataFrame]:
        """Every credential joined with its user, in batches of at most batch_size rows.

        Batches are keyed on the credential id (keyset pagination), so memory stays bounded
        however large the directory is, and the order is stable.
        """
        columns = _CREDENTIAL_VIEW
        names = CREDENTIAL_VIEW_COLUMNS
        last_id = 0
        with self.engine.connect() as conn:
            while True:
                query = (
                    sa.select(*columns)
                    .join_from(credentials, users, credentials.c.user_pk == users.c.id)
                    .where(credentials.c.id > last_id)
                    .order_by(credentials.c.id)
                    .limit(batch_size)
                )
                rows = conn.execute(query).all()
                if not rows:
                    return
                last_id = rows[-1].id
                yield pd.DataFrame(rows, columns=names, dtype=object)

    def credentials_frame(self) -> pd.DataFrame:
        """Every credential joined with its user, in one DataFrame (for small directories)."""
        batches = list(self.iter_credentials())
        if not batches:
            return pd.DataFrame(columns=CREDENTIAL_VIEW_COLUMNS)
        return pd.concat(batches, ignore_index=True)

    # --- plumbing ----------------------------------------------------------------------------

    def _run(self, work: Any, connection: Connection | None) -> Any:
        if connection is not None:
            return work(connection)
        with self.engine.begin() as conn:
            return work(conn)


def start_run(
    conn: Connection,
    *,
    kind: str,
    file_name: str,
    file_sha256: str,
    options: dict[str, Any],
    on_behalf_of: str | None = None,
) -> int:
    """Record that an import starts (who, when, which file, with which options).

    The operator is not the caller's to choose: on PostgreSQL the database's trigger records
    the connected login, on SQLite this process records its operating-system user.
    on_behalf_of is the operator's own note of whom the run is for.
    """
    result = conn.execute(
        import_runs.insert().values(
            kind=kind,
            operator=process_login(),  # replaced by current_user on PostgreSQL
            on_behalf_of=on_behalf_of or None,
            started_at=now_utc(),
            file_name=file_name,
            file_sha256=file_sha256,
            options=options,
            counts={},
        )
    )
    return result.inserted_primary_key[0]


def finish_run(conn: Connection, run_id: int, counts: dict[str, int]) -> None:
    """Record how an import ended."""
    conn.execute(
        import_runs.update()
        .where(import_runs.c.id == run_id)
        .values(finished_at=now_utc(), counts=counts)
    )


def record_run(conn: Connection, *, counts: dict[str, int], **run: Any) -> int:
    """Record a whole run at once (for imports that apply in a single transaction)."""
    run_id = start_run(conn, **run)
    finish_run(conn, run_id, counts)
    return run_id


def insert_many(
    conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows, tuples of values in the order of columns, with the driver's own executemany.

    The values must already be what the driver takes (see bind_value): SQLAlchemy's per-row
    parameter processing costs more than the database's own work when an import writes
    250,000 rows, and this is the one place that skips it.
    """
    if not rows:
        return
    placeholder = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if placeholder is None:  # a programming fault: a driver credkit was not written for
        raise NotImplementedError(f"paramstyle {conn.dialect.paramstyle!r}")
    quote = conn.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )
    conn.exec_driver_sql(statement, rows)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def bind_value(conn: Connection, column: sa.Column, value: Any) -> Any:
    """A value as the column's type hands it to this connection's driver (for insert_many)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process else value


def _user_row(user: NewUser) -> dict[str, Any]:
    return {
        "user_id": user.user_id or new_user_id(),
        "external_id": user.external_id or None,
        "employee_id": user.employee_id or None,
        "email": (user.email or "").strip() or None,
        "email_key": email_key(user.email),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": user.status,
    }


#: The SQLite page cache of an import's writing connection (SQLite's default is 2 MiB).
SQLITE_CACHE_KIB = 65_536


@contextmanager
def bulk_write_cache(conn: Connection) -> Iterator[None]:
    """A 64 MiB SQLite page cache on this connection while an import writes through it.

    An import's inserts land at random places in the credential-key index, and with SQLite's
    default 2 MiB cache most of them miss. Only the writing connection gets it, and only for
    the import: reviews and exports keep the default, so their memory stays what it was.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    # On the driver's connection: a PRAGMA through SQLAlchemy would begin a transaction.
    driver = conn.connection.driver_connection
    default = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {default}")


class DirectoryLookup:
    """Answers a review's questions about the directory, for a whole file's keys at once.

    Keys are looked up with one query per question (see one_of); past SCAN_THRESHOLD keys one
    plain scan of the table is cheaper than the index lookups. Rows are read as raw driver
    values into pandas, since 250,000 rows through SQLAlchemy's per-row result processing take
    seconds.
    """

    SCAN_THRESHOLD = 20_000

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def users(self, keys: dict[str, pd.Series]) -> pd.DataFrame:
        """Users that have any of the given keys (key column name -> values): user_id,
        external_id, email_key, first_name, last_name."""
        columns = ["user_id", "external_id", "email_key", "first_name", "last_name"]
        query = sa.select(*(users.c[name] for name in columns))
        wanted = {name: _present(values) for name, values in keys.items()}
        with self.directory.engine.connect() as conn:
            if sum(len(values) for values in wanted.values()) > self.SCAN_THRESHOLD:
                everyone = _raw_frame(conn, query, columns)
                matches = pd.Series(False, index=everyone.index)
                for name, values in wanted.items():
                    matches |= everyone[name].isin(values)
                return everyone[matches].reset_index(drop=True)
            conditions = [one_of(conn, users.c[name], v) for name, v in wanted.items() if len(v)]
            if not conditions:
                return pd.DataFrame(columns=columns, dtype=object)
            return _raw_frame(conn, query.where(sa.or_(*conditions)), columns)

    def credentials(self, credential_keys: pd.Series) -> pd.DataFrame:
        """The directory's credentials with these keys, with their owner, indexed by key."""
        query = sa.select(
            credentials.c.credential_key,
            users.c.user_id,
            credentials.c.id,
            credentials.c.kind,
            credentials.c.status,
            # The raw stored value: converting 250,000 times one by one costs a second.
            sa.type_coerce(credentials.c.modified, sa.String).label("modified"),
        ).join_from(credentials, users, credentials.c.user_pk == users.c.id)
        found = self._read(query, credentials.c.credential_key, credential_keys)
        # SQLite hands back text, PostgreSQL naive datetimes: both are UTC.
        found["modified"] = pd.to_datetime(found["modified"], utc=True, format="ISO8601")
        return found.set_index("credential_key")

    def entry_codes(self, user_ids: pd.Series) -> pd.Series:
        """The credential key of each given user's entry code, indexed by user_id."""
        query = (
            sa.select(users.c.user_id, credentials.c.credential_key)
            .join_from(credentials, users, credentials.c.user_pk == users.c.id)
            .where(credentials.c.kind == "entry_code")
        )
        found = self._read(query, users.c.user_id, user_ids)
        return found.set_index("user_id")["credential_key"]

    def _read(self, query: sa.Select, column: sa.Column, values: pd.Series) -> pd.DataFrame:
        """The query's rows whose column holds one of values, as a DataFrame of raw values."""
        names = list(query.selected_columns.keys())
        wanted = _present(values)
        if len(wanted) == 0:
            return pd.DataFrame(columns=names, dtype=object)
        with self.directory.engine.connect() as conn:
            if len(wanted) > self.SCAN_THRESHOLD:
                frame = _raw_frame(conn, query, names)
                return frame[frame[column.name].isin(wanted)].reset_index(drop=True)
            return _raw_frame(conn, query.where(one_of(conn, column, wanted)), names)


def user_primary_keys(conn: Connection, user_ids: pd.Series) -> dict[str, int]:
    """The primary key of each of these users that exists, by user_id."""
    wanted = _present(user_ids)
    if len(wanted) == 0:
        return {}
    query = sa.select(users.c.user_id, users.c.id).where(one_of(conn, users.c.user_id, wanted))
    return dict(_raw_frame(conn, query, ["user_id", "id"]).itertuples(index=False, name=None))


def one_of(conn: Connection, column: sa.Column, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """column IN values, the whole list passed as one parameter: expanded to thousands of
    parameters, SQLAlchemy takes longer to compile the query than the database to run it."""
    values = [str(value) for value in values]
    if conn.dialect.name == "sqlite":
        listed = sa.func.json_each(sa.bindparam(None, json.dumps(values), sa.String))
        return column.in_(sa.select(listed.table_valued("value").c.value))
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, postgresql.ARRAY(sa.String)))
    return column.in_(values)


def _present(values: pd.Series | np.ndarray) -> np.ndarray:
    """The distinct non-empty values."""
    values = pd.Series(values, dtype=object)
    return pd.unique(values[values.notna() & (values != "")])


def _raw_frame(conn: Connection, query: sa.Select, names: list[str]) -> pd.DataFrame:
    """Run a query on the driver's own cursor: SQLAlchemy's per-row result objects cost more
    than the query itself when a review reads a whole table."""
    compiled = query.compile(conn, compile_kwargs={"render_postcompile": True})
    parameters = compiled.construct_params()
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        return pd.DataFrame(cursor.fetchall(), columns=names, dtype=object)
    finally:
        cursor.close()
