"""The credential directory: its tables, the constraints the database enforces, and its queries."""

from __future__ import annotations

import functools
import json
import os
import socket
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from credkit import generation
from credkit.connection import create_engine_for
from credkit.defaults import BATCH_SIZE, database_url
from credkit.migrations import open_directory
from credkit.privileges import install_operator_trigger, process_login

if TYPE_CHECKING:
    from credkit.snapshot import CredentialIndex

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
    # email_key(email), trimmed and case-folded, in a column of its own with a unique
    # constraint (revision 0002 recomputed the keys of older directories).
    sa.Column("email_key", sa.String(320), unique=True),
    sa.Column("first_name", sa.String(255), nullable=False, default=""),
    sa.Column("last_name", sa.String(255), nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False, default="active"),
    # Set when a loaded Command export no longer lists the user (credkit.loading): the user
    # is left out of reviews but kept, since history names them. Revision 0005.
    sa.Column("gone_at", UtcDateTime),
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
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("file_name", sa.String(1000), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("options", sa.JSON, nullable=False, default=dict),
    sa.Column("counts", sa.JSON, nullable=False, default=dict),
    sa.Column("undone_by", sa.Integer, sa.ForeignKey("import_runs.id")),
    # The liveness mark of a run that has not finished (see credkit.runs.run_liveness): the
    # importing process, its host, and the time of its last batch; cleared when it finishes.
    sa.Column("owner_pid", sa.Integer),
    sa.Column("owner_host", sa.String(255)),
    sa.Column("heartbeat_at", UtcDateTime),
    # Whom the operator says they ran it for (--operator): a note beside the operator, never
    # instead of it. Added by revision 0006.
    sa.Column("on_behalf_of", sa.String(255)),
)

# New directories get the operator trigger with their table (upgraded ones from revision 0006).
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

# What a user import did to each user (revision 0008), so that its run can be undone: the
# user's fields before (None: the run created the user) and after.
user_history = sa.Table(
    "user_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("import_runs.id"), index=True),
    sa.Column("row", sa.Integer),  # the user file's row that made the change
    sa.Column("user_id", sa.String(36), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    # none_as_null: a created user's before is SQL NULL, not the JSON text null.
    sa.Column("before", sa.JSON(none_as_null=True)),
    sa.Column("after", sa.JSON(none_as_null=True)),
    sa.Column("at", UtcDateTime, nullable=False),
)

# Moved by the database on every change to users or credentials (credkit.generation); new
# directories get its row, sequence and triggers once every table exists (upgraded ones from
# revision 0007).
directory_generation = generation.table(metadata)
sa.event.listen(metadata, "after_create", lambda _metadata, conn, **_kw: generation.install(conn))

#: The first key of the PostgreSQL advisory lock a live run holds (the second is the run's id).
RUN_LOCK_CLASS = 0x43524B52  # "CRKR"
#: This machine's name, as a live run records it.
HOST = socket.gethostname()[:255]

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


def email_key(email: str | None) -> str | None:
    """The form emails are compared in (and unique in): trimmed, Unicode case folded as a
    person reads it (casefold of the NFC form), look-alike characters kept as written; None
    when empty.

    A look-alike character is one that compatibility normalisation (NFKC) would replace:
    fullwidth letters, ligatures, the Kelvin and Ohm signs, the long s, superscripts. Folding
    them too would turn somebody else's address into a match (``ｋim@`` or ``\u212aim@`` for
    ``kim@``), so they stay as they are, and an email with one matches only an email written
    with the same characters; the review and the user import warn about them
    (``email-lookalike``). ``ÉMILE@`` finds ``émile@``; the dotted capital I folds to ``i``
    with its dot, so ``KİM@`` is not ``kim@``.
    """
    text = (email or "").strip()
    folded = text.lower() if text.isascii() else _fold_unicode(text)
    return folded or None


def email_keys(emails: pd.Series) -> pd.Series:
    """email_key for a whole column of text at once, empty text staying empty.

    ASCII emails (nearly all) fold in Arrow's ascii_lower, in C; the others through email_key
    itself, one by one, so the two can never disagree.
    """
    from credkit.rules.columnar import non_ascii  # credkit.rules imports this

    trimmed = emails.str.strip()
    text = pa.array(trimmed.array, type=pa.large_string())
    folded = pd.Series(pd.array(pc.ascii_lower(text), dtype=trimmed.dtype), index=emails.index)
    # non_ascii settles all-ASCII text from its data buffers: ~0.5 ms at 250,000 emails, where
    # string_is_ascii took ~5 ms.
    unicode = non_ascii(text)
    if not unicode.any():
        return folded
    folded = folded.astype(object)
    folded[unicode] = [email_key(value) or "" for value in trimmed[unicode]]
    return folded.astype(trimmed.dtype)


def email_lookalikes(email: str | None) -> str:
    """The look-alike characters an email holds (see email_key), in order; empty when none."""
    text = email or ""
    return "" if text.isascii() else "".join(c for c in text if _is_lookalike(c))


@functools.lru_cache(maxsize=4096)
def _is_lookalike(character: str) -> bool:
    return unicodedata.normalize("NFKC", character) != character


def _fold_unicode(text: str) -> str:
    """Case-fold the NFC form of each stretch of text between look-alike characters."""
    parts: list[str] = []
    stretch: list[str] = []
    for character in text:
        if _is_lookalike(character):
            parts.append(unicodedata.normalize("NFC", "".join(stretch)).casefold())
            parts.append(character)
            stretch = []
        else:
            stretch.append(character)
    parts.append(unicodedata.normalize("NFC", "".join(stretch)).casefold())
    return "".join(parts)


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


def _key_of(credential: Any) -> str | None:
    """The key a stored credential's own fields make (None when they make none)."""
    try:
        if credential.kind == "card":
            return card_key(credential.card_type, credential.facility_code, credential.card_number)
        if credential.kind == "license_plate":
            return plate_key(credential.license_plate)
        if credential.kind == "entry_code":
            return entry_code_key(credential.entry_code)
    except (TypeError, ValueError):
        return None
    return None


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
    """A credential directory in a SQL database at this code's schema revision.

    A database without a directory gets one (unless create is False: SetupError, and nothing
    is created on disk); one at an older revision is refused until `credkit db upgrade`, one at
    a newer revision as well.
    """

    def __init__(
        self, url: str | None = None, *, engine: Engine | None = None, create: bool = True
    ) -> None:
        self.url = database_url(url)
        self.engine = engine or create_engine_for(self.url, create=create)
        try:
            open_directory(self.engine, metadata, self.url, create=create)
        except BaseException:
            if engine is None:  # ours: close it rather than leave a pooled connection behind
                self.engine.dispose()
            raise

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

    # --- integrity ---------------------------------------------------------------------------

    def check_integrity(self) -> list[str]:
        """What breaks the directory's promises, one sentence each; empty when nothing does.

        Every credential belongs to an existing user and its key is the one its fields make;
        every email key is its email's; every history row belongs to an existing run; a
        finished run carries no liveness mark; an undone run was undone by an undo run; and
        on SQLite the file itself is sound. Used after faults (tests/test_faults.py).
        """
        problems: list[str] = []
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                driver = conn.connection.driver_connection
                verdict = [row[0] for row in driver.execute("PRAGMA integrity_check")]
                if verdict != ["ok"]:
                    problems.append(f"SQLite integrity_check: {'; '.join(verdict[:5])}")
                if driver.execute("PRAGMA foreign_key_check").fetchall():
                    problems.append("SQLite foreign_key_check finds rows without their parent")
            orphans = conn.execute(
                sa.select(sa.func.count())
                .select_from(credentials.outerjoin(users, credentials.c.user_pk == users.c.id))
                .where(users.c.id.is_(None))
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} credentials belong to no user")
            stray = conn.execute(
                sa.select(sa.func.count())
                .select_from(
                    credential_history.outerjoin(
                        import_runs, credential_history.c.run_id == import_runs.c.id
                    )
                )
                .where(import_runs.c.id.is_(None))
            ).scalar_one()
            if stray:
                problems.append(f"{stray} history rows belong to no run")
            marked = conn.execute(
                sa.select(import_runs.c.id).where(
                    import_runs.c.finished_at.is_not(None), import_runs.c.owner_pid.is_not(None)
                )
            ).scalars().all()  # fmt: skip
            if marked:
                problems.append(f"runs {marked} are finished and still marked live")
            undoer = import_runs.alias("undoer")
            bad_undo = conn.execute(
                sa.select(import_runs.c.id)
                .select_from(
                    import_runs.outerjoin(undoer, import_runs.c.undone_by == undoer.c.id)
                )
                .where(
                    import_runs.c.undone_by.is_not(None),
                    sa.or_(undoer.c.id.is_(None), undoer.c.kind != "undo"),
                )
            ).scalars().all()  # fmt: skip
            if bad_undo:
                problems.append(f"runs {bad_undo} are marked undone by no undo run")
            for pk, email, key in conn.execute(
                sa.select(users.c.id, users.c.email, users.c.email_key)
            ).all():
                if email_key(email) != key:
                    problems.append(f"user {pk}'s email key is not its email's")
        for batch in self.iter_credentials():
            for credential in batch.itertuples():
                expected = _key_of(credential)
                if expected != credential.credential_key:
                    problems.append(f"credential {credential.id}'s key does not match its fields")
        return problems

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
    operator: str | None = None,
    live: bool = False,
) -> int:
    """Record that an import starts (who, when, which file, with which options).

    The operator is not the caller's to choose: on PostgreSQL the database's trigger records
    the connected login, on SQLite this process records its operating-system user.
    on_behalf_of (``operator`` is its name from before) is the operator's own note of whom the
    run is for.

    A live run (one that writes in batches after this transaction) carries the liveness mark
    from the moment it is visible: this process and host, a heartbeat, and on PostgreSQL the
    run's advisory lock, taken by conn's session before the run's row is committed.
    """
    now = now_utc()
    mark = {"owner_pid": os.getpid(), "owner_host": HOST, "heartbeat_at": now} if live else {}
    result = conn.execute(
        import_runs.insert().values(
            kind=kind,
            operator=process_login(),  # replaced by current_user on PostgreSQL
            on_behalf_of=(on_behalf_of or operator) or None,
            started_at=now,
            file_name=file_name,
            file_sha256=file_sha256,
            options=options,
            counts={},
            **mark,
        )
    )
    run_id = result.inserted_primary_key[0]
    if live and conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_lock(RUN_LOCK_CLASS, run_id)))
    return run_id


def heartbeat(conn: Connection, run_id: int) -> bool:
    """Mark a live run as still importing, in the transaction of its next batch; False when
    the run was undone meanwhile (taken for interrupted), so that the batch must not write."""
    result = conn.execute(
        import_runs.update()
        .where(import_runs.c.id == run_id, import_runs.c.undone_by.is_(None))
        .values(heartbeat_at=now_utc())
    )
    return result.rowcount == 1


def release_run(conn: Connection, run_id: int) -> None:
    """Give up a live run's advisory lock (PostgreSQL; a session's lock outlives commits)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_unlock(RUN_LOCK_CLASS, run_id)))
        conn.commit()


def finish_run(conn: Connection, run_id: int, counts: dict[str, int]) -> None:
    """Record how an import ended; its liveness mark goes (the last heartbeat stays)."""
    conn.execute(
        import_runs.update()
        .where(import_runs.c.id == run_id)
        .values(finished_at=now_utc(), counts=counts, owner_pid=None, owner_host=None)
    )


@contextmanager
def write_transaction(conn: Connection) -> Iterator[None]:
    """A transaction that takes SQLite's write lock at its start (BEGIN IMMEDIATE).

    A SQLite transaction that reads and then writes fails outright ("database is locked")
    when another writer committed in between; one that takes the lock first waits its turn
    (the driver's busy timeout) instead. On PostgreSQL it is an ordinary transaction.
    """
    with conn.begin():
        begin_immediate(conn)
        yield


#: How long a SQLite writer waits for another writer's transaction before giving up, in ms:
#: several imports and undos at once queue for SQLite's one write lock (each batch is short).
SQLITE_WRITE_WAIT_MS = 120_000


def begin_immediate(conn: Connection) -> None:
    """On SQLite, take the write lock now, in the transaction conn has just begun, waiting up
    to SQLITE_WRITE_WAIT_MS for it; nothing on other databases."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute(f"PRAGMA busy_timeout = {SQLITE_WRITE_WAIT_MS}")
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
        query = sa.select(*(users.c[name] for name in columns)).where(users.c.gone_at.is_(None))
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

    def user_rows(self, keys: dict[str, pd.Series]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Users (as users gives them: user_id, external_id, email_key, first_name, last_name)
        and, for each key column, the position in them of the user each value names (-1 for
        none): one hash lookup per key column. The frame may hold users no key names."""
        from credkit.rules.columnar import KeyIndex, arrow_strings  # credkit.rules imports this

        found = self.users(keys)
        return found, {
            name: KeyIndex(arrow_strings(found[name])).positions(arrow_strings(values))
            for name, values in keys.items()
        }

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

    def credential_rows_and_firsts(
        self, credential_keys: pa.Array
    ) -> tuple[CredentialIndex | None, np.ndarray, np.ndarray]:
        """The rules' view of credentials: the directory's credentials with these keys, indexed
        (None when it holds none of them), each key's row among them (-1 for none), and each
        key's first position among the keys (first_occurrences), from one hash pass."""
        # Both modules import this one.
        from credkit.rules.columnar import first_occurrences
        from credkit.snapshot import CREDENTIAL_COLUMNS, CredentialIndex

        existing = self.credentials(credential_keys.to_pandas()).reset_index()
        if existing.empty:  # nothing held (and no column types to index)
            none = np.full(len(credential_keys), -1, dtype=np.int64)
            return None, none, first_occurrences(credential_keys)
        index = CredentialIndex(existing[CREDENTIAL_COLUMNS])
        return index, *index.by_key.positions_and_firsts(credential_keys)

    def entry_code_keys(self, user_ids: pa.Array) -> np.ndarray:
        """The credential key of each user's current entry code, one per user asked, None where
        the user has none (entry_codes, in the users' order)."""
        from credkit.rules.columnar import positions, taken  # credkit.rules imports this

        code_users = pd.Series(user_ids.to_numpy(zero_copy_only=False), dtype=object)
        current = self.entry_codes(code_users)
        return taken(current.to_numpy(dtype=object), positions(code_users, current.index))

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
    """The distinct non-empty values, in the order they first appear (text in one Arrow hash
    pass; anything else through pandas)."""
    try:
        array = pa.array(getattr(values, "array", values), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = None
    if array is not None and (
        pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    ):
        distinct = pc.unique(pc.drop_null(array))
        distinct = distinct.filter(pc.not_equal(distinct, ""))
        return np.asarray(distinct.to_numpy(zero_copy_only=False), dtype=object)
    values = pd.Series(values, dtype=object)
    return pd.unique(values[values.notna() & (values != "")])


def _raw_frame(conn: Connection, query: sa.Select, names: list[str]) -> pd.DataFrame:
    """Run a query on the driver's own cursor: SQLAlchemy's per-row result objects cost more
    than the query itself when a review reads a whole table."""
    return pd.DataFrame(raw_rows(conn, query), columns=names, dtype=object)


def raw_rows(conn: Connection, query: sa.Select) -> list[tuple]:
    """A query's rows as the driver's own cursor returns them (see _raw_frame)."""
    compiled = query.compile(conn, compile_kwargs={"render_postcompile": True})
    parameters = compiled.construct_params()
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        return cursor.fetchall()
    finally:
        cursor.close()
