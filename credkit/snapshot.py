"""The review's cached read of the directory: its users and credentials, read as Arrow and kept
(in memory and on disk) while the directory's generation says nothing has changed.

A snapshot is keyed by the generation the database keeps (credkit.generation), the schema
revision and the login, read in one query at the start of each review; it is valid only for
exactly that state. It is only a read cache: the import's guarded writes still decide at
write time. On disk it lives beside a SQLite directory, or in the user's cache folder for
PostgreSQL, written atomically with mode 0600, and holds no secret: the keys of entry codes
are keyed hashes (HMAC with a key derived from the generation id, which the file does not
hold), and the file names its state only by a digest. A folder that cannot be written simply
gets no file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from credkit import generation
from credkit.connection import sqlite_path
from credkit.directory import Directory, DirectoryLookup, credentials, raw_rows, users
from credkit.privileges import process_login
from credkit.rules.columnar import (
    ROWS_BESIDE,
    KeyIndex,
    arrow_strings,
    arrow_text,
    python_values,
    truth,
    whole_seconds,
)

#: How the reviews of this process were served: "database", "memory" or "disk" (for tests and
#: benchmarks, which must prove a snapshot was used without timing it).
READS: Counter[str] = Counter()

#: The snapshot file's format; a file of another format is ignored (and replaced).
FORMAT = "credkit-snapshot-1"

USER_COLUMNS = ["user_id", "external_id", "email_key", "first_name", "last_name"]
CREDENTIAL_COLUMNS = ["credential_key", "user_id", "id", "kind", "status", "modified"]
_USERS_SCHEMA = pa.schema([(name, pa.string()) for name in USER_COLUMNS])
_CREDENTIALS_SCHEMA = pa.schema(
    [(name, pa.int64() if name == "id" else pa.string()) for name in CREDENTIAL_COLUMNS[:-1]]
    + [("modified", pa.timestamp("us", tz="UTC"))]
)
#: The credentials as read, before modified is parsed (SQLite holds text; PostgreSQL's is cast).
_CREDENTIALS_READ_SCHEMA = _CREDENTIALS_SCHEMA.set(
    len(CREDENTIAL_COLUMNS) - 1, pa.field("modified", pa.string())
)
#: The users and credentials as _read_sqlalchemy reads them (see there).
_USERS_READ_SCHEMA = pa.schema([("id", pa.int64()), *_USERS_SCHEMA, ("live", pa.int64())])
_CREDENTIALS_BY_PK_SCHEMA = _CREDENTIALS_READ_SCHEMA.set(1, pa.field("user_pk", pa.int64()))
_USERS_SQL = (
    "SELECT user_id, external_id, email_key, first_name, last_name FROM users "
    "WHERE gone_at IS NULL ORDER BY id"
)
_CREDENTIALS_SQL = (
    "SELECT c.credential_key, u.user_id, c.id, c.kind, c.status, CAST(c.modified AS TEXT) "
    "FROM credentials c JOIN users u ON c.user_pk = u.id ORDER BY c.id"
)
_HASHED_PREFIX = "entry_code#"
_HASHES_KEPT = 1_000_000  # entry codes' keys whose hash a snapshot remembers
_ENTRY_CODE_PREFIX = "entry_code:"  # how an entry code's credential key starts

_MEMORY: dict[str, Snapshot] = {}


@dataclass(frozen=True)
class Snapshot:
    """What a review needs of the directory, at one generation."""

    digest: str  # of the key: generation, generation id, revision, login
    users: pd.DataFrame  # USER_COLUMNS, users not gone, raw values (None for empty)
    credentials: pd.DataFrame  # CREDENTIAL_COLUMNS, modified as UTC datetimes
    secret: bytes  # the HMAC key of hashed entry codes (never written)
    hashed: bool  # whether entry codes' keys are hashed (read from disk)

    def hash_key(self, key: str) -> str:
        """What stands for an entry code's credential key on disk: its HMAC-SHA256."""
        return self.hash_keys([key])[0]

    def hash_keys(self, keys: list[str]) -> list[str]:
        """hash_key of each key: HMAC (RFC 2104) from the two padded key states, hashed once
        per snapshot (hmac.new per key costs twice as much), and each key hashed once (a
        re-review names the same keys again)."""
        inner, outer = self._hmac_states
        memo = self._hashed
        if len(memo) > _HASHES_KEPT:
            memo.clear()
        hashed = []
        for key in keys:
            value = memo.get(key)
            if value is None:
                digest = inner.copy()
                digest.update(key.encode())
                final = outer.copy()
                final.update(digest.digest())
                value = memo[key] = _HASHED_PREFIX + final.hexdigest()
            hashed.append(value)
        return hashed

    @cached_property
    def _hashed(self) -> dict[str, str]:
        return {}

    @cached_property
    def codes_read(self) -> dict[str, str]:
        """Entry codes' keys as a file names them, by their hash, once known: named by a file's
        row (NamedCodes) or read from the directory (never written)."""
        return {}

    @cached_property
    def named_codes(self) -> NamedCodes:
        """The entry codes' keys files have named so far, with their rows among the codes."""
        return NamedCodes()

    @cached_property
    def _hmac_states(self) -> tuple[hashlib._Hash, hashlib._Hash]:
        block = hashlib.sha256().block_size
        secret = self.secret if len(self.secret) <= block else hashlib.sha256(self.secret).digest()
        secret = secret.ljust(block, b"\0")
        return (
            hashlib.sha256(bytes(byte ^ 0x36 for byte in secret)),
            hashlib.sha256(bytes(byte ^ 0x5C for byte in secret)),
        )

    @cached_property
    def rule_users(self) -> pd.DataFrame:
        """users with user_id as Python strings (object), converted once: the rules hand each
        row its user's id as one, and taking them in numpy costs ~1 ms where converting a
        250,000-row file's ids from Arrow cost ~15 ms a review."""
        ids = self.users["user_id"].to_numpy(dtype=object)
        return self.users.assign(user_id=pd.Series(ids, index=self.users.index, dtype=object))

    def user_index(self, name: str) -> KeyIndex:
        """The index of one users' key column, built on first use and kept."""
        if name not in self._user_indexes:
            self._user_indexes[name] = KeyIndex(arrow_strings(self.users[name]))
        return self._user_indexes[name]

    @cached_property
    def _user_indexes(self) -> dict[str, KeyIndex]:
        return {}

    @cached_property
    def credential_index(self) -> CredentialIndex:
        """The credentials in Arrow with their lookups, built on first use and kept."""
        return CredentialIndex(self.credentials)


class NamedCodes:
    """Entry codes' keys as files named them (plain), each with its row among a snapshot's codes
    (-1: none), so that a re-review looks its plain keys up in one Arrow pass and hashes only
    keys no file named before: hashing a file's 16,000 codes and looking the hashes up cost
    ~13 ms a review, looking up the plain keys ~2 ms."""

    def __init__(self) -> None:
        # The keys named so far, indexed, and each one's row: replaced whole, never changed in
        # place, so that reviews in other threads always read a pair that belongs together.
        self._named = (KeyIndex(pa.array([], pa.string())), np.empty(0, dtype=np.int64))

    def rows(self, plain: pa.Array, rows_of: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Each key's row among the codes; rows_of gives those of keys not named before."""
        index, code_rows = self._named
        at = index.positions(plain)
        new = np.flatnonzero(at < 0)
        unseen = [key for key in dict.fromkeys(_taken(plain, new).to_pylist()) if key]
        if unseen:
            named = index.column
            if len(named) + len(unseen) > _HASHES_KEPT:  # start again: all are new
                named, code_rows = named.slice(0, 0), code_rows[:0]
                new = np.arange(len(plain))
                unseen = [key for key in dict.fromkeys(plain.to_pylist()) if key]
            index = KeyIndex(pa.concat_arrays([named, pa.array(unseen, pa.string())]))
            code_rows = np.concatenate([code_rows, rows_of(unseen)])
            self._named = index, code_rows
            at[new] = index.positions(_taken(plain, new))
        return np.where(at >= 0, code_rows[np.maximum(at, 0)], -1)


def _taken(values: pa.Array, at: np.ndarray) -> pa.Array:
    return values.take(pa.array(at, pa.int64()))


class CredentialIndex:
    """A snapshot's credentials as one Arrow table, looked up by key and by entry-code owner;
    built once per snapshot, so that a review or an edit hashes only its own keys, and keeping
    the Python values of the rows asked for (values). A plain lookup indexes the credentials
    it read the same way (DirectoryLookup.credential_rows_and_firsts)."""

    def __init__(self, credentials: pd.DataFrame | pa.Table) -> None:
        table = (
            credentials
            if isinstance(credentials, pa.Table)
            else pa.Table.from_pandas(credentials, preserve_index=False)
        )
        self.table = table.combine_chunks()
        self.by_key = KeyIndex(arrow_strings(self.table.column("credential_key")))
        is_code = pc.fill_null(pc.equal(self.table.column("kind"), "entry_code"), False)
        codes = self.table.select(["credential_key", "user_id"]).filter(is_code)
        self.code_rows = np.flatnonzero(is_code.to_numpy(zero_copy_only=False))
        self.code_keys = arrow_strings(codes.column("credential_key"))
        self.by_code_owner = KeyIndex(arrow_strings(codes.column("user_id")))
        self._values: dict[str, np.ndarray] = {}  # column -> Python values of rows so far
        self._converted: dict[str, np.ndarray] = {}  # column -> which rows those are

    @cached_property
    def by_code_key(self) -> KeyIndex:
        """The entry codes' own keys (hashed, in a snapshot read from disk), by code."""
        return KeyIndex(self.code_keys)

    def values(self, name: str, at: np.ndarray) -> np.ndarray:
        """One column's values at these rows (positions, each >= 0) as Python objects
        (python_values). Each row is converted once per index and kept: Timestamps cost ~0.4 us
        each, and a re-review of a file asks for the same rows again."""
        if name not in self._values:
            self._values[name] = np.full(self.table.num_rows, None, dtype=object)
            self._converted[name] = np.zeros(self.table.num_rows, dtype=bool)
        values, converted = self._values[name], self._converted[name]
        new = np.unique(at[~converted[at]])
        if len(new):
            values[new] = python_values(self.table.column(name).take(pa.array(new, pa.int64())))
            converted[new] = True
        return values[at]

    def seconds(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """modified at these rows as whole seconds (whole_seconds), and where it is known."""
        return whole_seconds(self.table.column("modified").take(pa.array(at, pa.int64())))


def directory_lookup(directory: Directory) -> DirectoryLookup:
    """The lookup a review uses: served from the snapshot of the directory's current state
    (read from memory, disk, or the database in that order); the plain lookup where the
    directory keeps no generation it may read."""
    try:
        return SnapshotLookup(directory, current_snapshot(directory))
    except sa.exc.DBAPIError:  # e.g. a login not yet granted the generation: read as before
        return DirectoryLookup(directory)


def current_snapshot(directory: Directory) -> Snapshot:
    """The snapshot of the directory as it is now."""
    with directory.engine.connect() as conn:
        number, generation_id, revision, login, writers = generation.state(conn)
    login = login or process_login()
    material = f"{number}|{generation_id}|{revision}|{login}".encode()
    digest = hashlib.sha256(b"credkit-snapshot-key|" + material).hexdigest()
    secret = hashlib.sha256(b"credkit-snapshot-hmac|" + material).digest()
    place = _place(directory, login)
    memory_key = str(place) if place else None
    kept = _MEMORY.get(memory_key) if memory_key else None
    if kept is not None and kept.digest == digest:
        READS["memory"] += 1
        return kept
    snapshot = _load(place, digest, secret) if place else None
    if snapshot is not None:
        READS["disk"] += 1
    else:
        READS["database"] += 1
        users_table, credentials_table = read_directory(directory)
        snapshot = Snapshot(digest, _frame(users_table), _frame(credentials_table), secret, False)
        # A writer that moved the generation before it was read and has not committed: what
        # was read may not be what this generation ends up holding, so it is not kept.
        if writers:
            return snapshot
        if place is not None:
            _save(place, snapshot, users_table, credentials_table)
    if memory_key:
        _MEMORY[memory_key] = snapshot
    return snapshot


def read_directory(directory: Directory, *, adbc: bool = True) -> tuple[pa.Table, pa.Table]:
    """The users and credentials a review needs, as Arrow tables: through ADBC on PostgreSQL
    where its driver is installed (and adbc is True), else through the directory's engine."""
    tables = None
    if adbc:
        with suppress(ImportError):
            tables = _read_adbc(directory)
    if tables is None:
        tables = _read_sqlalchemy(directory)
    return tables[0].cast(_USERS_SCHEMA), _with_times(tables[1]).cast(_CREDENTIALS_SCHEMA)


def _read_adbc(directory: Directory) -> tuple[pa.Table, pa.Table] | None:
    """Both tables through ADBC's PostgreSQL driver (None for SQLite, or where it cannot
    connect as the engine does: the SQLAlchemy path then reads, with its own messages).

    Not for SQLite: adbc-driver-sqlite carries a SQLite library of its own, and two SQLite
    libraries in one process can corrupt a database (closing a file in one releases the POSIX
    locks the other holds: sqlite.org/howtocorrupt.html, 2.2.1), while credkit's own engine
    has the same file open. SQLite is read through Python's own sqlite3 instead.
    """
    url = directory.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    import adbc_driver_postgresql.dbapi as driver

    target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = driver.connect(target)
    except Exception:  # the driver's own errors; never shown, since they may hold the URL
        return None
    try:
        cursor = connection.cursor()
        cursor.execute(_USERS_SQL)
        users_table = cursor.fetch_arrow_table()
        cursor.execute(_CREDENTIALS_SQL)
        credentials_table = cursor.fetch_arrow_table()
        cursor.close()
    except Exception:  # whatever the driver cannot do, the engine's own path reads instead
        return None
    finally:
        connection.close()
    return (
        users_table.rename_columns(USER_COLUMNS),
        credentials_table.rename_columns(CREDENTIAL_COLUMNS),
    )


def _read_sqlalchemy(directory: Directory) -> tuple[pa.Table, pa.Table]:
    """Both tables through the engine's own driver. Each credential's user is read as its
    user_pk and named from the users read (gone ones too, then left out): joining users in the
    query made SQLite hand over 250,000 user ids as Python strings (0.42 s against 0.26 s)."""
    users_query = sa.select(
        users.c.id,
        *(users.c[name] for name in USER_COLUMNS),
        sa.case((users.c.gone_at.is_(None), 1), else_=0).label("live"),
    ).order_by(users.c.id)
    credentials_query = sa.select(
        credentials.c.credential_key,
        credentials.c.user_pk,
        credentials.c.id,
        credentials.c.kind,
        credentials.c.status,
        sa.cast(credentials.c.modified, sa.String).label("modified"),
    ).order_by(credentials.c.id)
    with directory.engine.connect() as conn:
        everyone = _table(raw_rows(conn, users_query), _USERS_READ_SCHEMA)
        by_pk = _table(raw_rows(conn, credentials_query), _CREDENTIALS_BY_PK_SCHEMA)
    live = everyone.filter(pc.equal(everyone.column("live"), 1)).select(USER_COLUMNS)
    return live, _owners_named(by_pk, everyone)


def _owners_named(by_pk: pa.Table, everyone: pa.Table) -> pa.Table:
    """The credentials with each user_pk replaced by its user's user_id (everyone: the users
    ordered by id); a credential whose user is not there is left out, as a join leaves it."""
    pks = everyone.column("id").to_numpy()
    wanted = by_pk.column("user_pk").to_numpy()
    at = np.minimum(np.searchsorted(pks, wanted), max(len(pks) - 1, 0))
    found = pks[at] == wanted if len(pks) else np.zeros(len(wanted), dtype=bool)
    owners = everyone.column("user_id").take(pa.array(at))
    table = by_pk.set_column(1, "user_id", owners)
    return table if found.all() else table.filter(pa.array(found))


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    """The driver's rows as an Arrow table: Arrow converts the tuples itself (a pandas frame of
    them first, then Arrow, took twice as long)."""
    return pa.Table.from_struct_array(pa.array(rows, type=pa.struct(schema)))


def _frame(table: pa.Table) -> pd.DataFrame:
    """The table in pandas, strings left in Arrow (lookups filter them there, in C)."""
    return table.to_pandas()


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as DirectoryLookup gives them: raw values in object columns, None for empty
    (times stay datetimes)."""
    raw = {}
    for name, column in frame.items():
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            raw[name] = column
        else:
            values = column.to_numpy(dtype=object, na_value=None)
            raw[name] = pd.Series(values, index=frame.index, dtype=object)
    return pd.DataFrame(raw, index=frame.index)


def _with_times(table: pa.Table) -> pa.Table:
    """modified as UTC timestamps: SQLite holds text, PostgreSQL timestamps (read as text)."""
    if pa.types.is_timestamp(table.schema.field("modified").type):
        return table
    text = table.column("modified")
    try:  # the stored form, a UTC time without zone: Arrow parses it in 5 ms, pandas in 35
        times = pc.cast(text, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:  # any other ISO 8601 form
        parsed = pd.to_datetime(text.to_pandas(), utc=True, format="ISO8601")
        times = pa.array(parsed, pa.timestamp("us", tz="UTC"))
    return table.set_column(table.schema.get_field_index("modified"), "modified", times)


class SnapshotLookup(DirectoryLookup):
    """DirectoryLookup's answers, from a snapshot instead of queries."""

    def __init__(self, directory: Directory, snapshot: Snapshot) -> None:
        super().__init__(directory)
        self.snapshot = snapshot

    def users(self, keys: dict[str, pd.Series]) -> pd.DataFrame:
        everyone = self.snapshot.users
        matches = np.zeros(len(everyone), dtype=bool)
        for found in self.user_rows(keys)[1].values():
            matches[found[found >= 0]] = True
        return _as_read(everyone[matches].reset_index(drop=True))

    def user_rows(self, keys: dict[str, pd.Series]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Every user of the snapshot, and each key's position among them: one lookup per key
        column in the snapshot's own index of that column (built once per snapshot)."""
        asked = {name: arrow_text(values) for name, values in keys.items()}
        indexes = {name: self.snapshot.user_index(name) for name in asked}  # built here, once
        look_up = lambda name: indexes[name].positions(asked[name])  # noqa: E731
        if len(asked) < 2 or max(map(len, asked.values())) < ROWS_BESIDE:
            return self.snapshot.rule_users, {name: look_up(name) for name in asked}
        # Arrow's index_in releases the GIL, so a whole file's key columns are looked up side by
        # side: the three of 250,000 rows took ~51 ms one after another, ~32 ms on two threads
        # (2 cores). Only for many keys: a re-review of one row pays for no threads.
        with ThreadPoolExecutor(max_workers=2) as pool:
            return self.snapshot.rule_users, dict(zip(asked, pool.map(look_up, asked), strict=True))

    def credentials(self, credential_keys: pd.Series) -> pd.DataFrame:
        """DirectoryLookup.credentials from the snapshot, its columns left in Arrow: a whole
        file's keys are looked up in one Arrow hash pass, and only entry codes' keys hashed."""
        index = self.snapshot.credential_index
        keys = arrow_strings(credential_keys)  # missing and empty keys match nothing
        at = self._with_codes(keys, index.by_key.positions(keys))
        hit = at >= 0
        at, first = np.unique(at[hit], return_index=True)  # each credential once
        found = index.table.select(CREDENTIAL_COLUMNS).take(pa.array(at, pa.int64()))
        found = found.set_column(0, "credential_key", keys.filter(pa.array(hit)).take(first))
        return found.to_pandas(types_mapper=pd.ArrowDtype).set_index("credential_key")

    def credential_rows_and_firsts(
        self, credential_keys: pa.Array
    ) -> tuple[CredentialIndex, np.ndarray, np.ndarray]:
        """DirectoryLookup.credential_rows_and_firsts from the snapshot's own index: the
        positions are all the rules need, so the found credentials are not copied out."""
        index = self.snapshot.credential_index
        at, firsts = index.by_key.positions_and_firsts(credential_keys)
        return index, self._with_codes(credential_keys, at), firsts

    def _with_codes(self, credential_keys: pa.Array, at: np.ndarray) -> np.ndarray:
        """at, with the rows of the entry codes among the keys, where the snapshot holds
        entry codes' keys hashed (at found none of them)."""
        index = self.snapshot.credential_index
        if not self.snapshot.hashed:
            return at
        # Entry codes are hashed, and looked up among the codes alone: putting their hashes
        # in place in the whole file's keys (replace_with_mask) cost ~20 ms a review.
        codes = np.flatnonzero(truth(pc.starts_with(credential_keys, _ENTRY_CODE_PREFIX)))
        if len(codes):
            plain = credential_keys.take(pa.array(codes, pa.int64()))
            found = self.snapshot.named_codes.rows(plain, self._code_rows)
            at[codes] = np.where(found >= 0, index.code_rows[found], -1)
        return at

    def _code_rows(self, plain: list[str]) -> np.ndarray:
        """Each entry code's row among the snapshot's codes (-1: none), by its hash; the key of
        each code found is kept by its hash, to give back the key a file named."""
        hashed = self.snapshot.hash_keys(plain)
        found = self.snapshot.credential_index.by_code_key.positions(pa.array(hashed, pa.string()))
        read = self.snapshot.codes_read
        for row, key, hash_ in zip(found.tolist(), plain, hashed, strict=True):
            if row >= 0:
                read[hash_] = key
        return found

    def entry_codes(self, user_ids: pd.Series) -> pd.Series:
        owners = pc.unique(arrow_strings(user_ids))
        owners, keys = self._entry_codes_of(owners)
        current = pd.Series(
            keys, index=pd.Index(owners, dtype=object, name="user_id"), dtype=object,
            name="credential_key",
        )  # fmt: skip
        return current.dropna()

    def entry_code_keys(self, user_ids: pa.Array) -> np.ndarray:
        """DirectoryLookup.entry_code_keys from the snapshot: one lookup of the users among
        the snapshot's entry-code owners."""
        index = self.snapshot.credential_index
        at = index.by_code_owner.positions(user_ids)
        hit = np.flatnonzero(at >= 0)
        out = np.full(len(at), None, dtype=object)
        owners = user_ids.take(pa.array(hit, pa.int64()))
        out[hit] = self._entry_codes_of(owners, at[hit])[1]
        return out

    def _entry_codes_of(
        self, owners: pa.Array, at: np.ndarray | None = None
    ) -> tuple[list[str], list[str | None]]:
        """The owners that have an entry code (all of them, where their rows at are given) and
        the key of each one's code as a file names it (None: no longer known)."""
        index = self.snapshot.credential_index
        if at is None:
            at = index.by_code_owner.positions(owners)
            hit = at >= 0
            owners, at = owners.filter(pa.array(hit)), at[hit]
        owners = owners.to_pylist()
        keys = index.code_keys.take(pa.array(at, pa.int64())).to_pylist()
        if self.snapshot.hashed:
            hashed, read = keys, self.snapshot.codes_read
            keys = [read.get(key) for key in hashed]
            # A code no file row named: its key is read from the directory itself, once per
            # snapshot (the same 50 codes were read again on each review of the benchmark file).
            unknown = [owner for owner, key in zip(owners, keys, strict=True) if key is None]
            if unknown:
                live = DirectoryLookup.entry_codes(self, pd.Series(unknown, dtype=object))
                for i, (owner, key) in enumerate(zip(owners, keys, strict=True)):
                    if key is None and owner in live.index:
                        keys[i] = read[hashed[i]] = live[owner]
        return owners, keys


def _place(directory: Directory, login: str) -> Path | None:
    """Where the snapshot file of this directory and login lives (None: nowhere)."""
    who = hashlib.sha256(login.encode()).hexdigest()[:12]
    path = sqlite_path(directory.url)
    if path is not None:
        path = path.resolve()
        return path.with_name(f".{path.name}.{who}.snapshot")
    if directory.engine.dialect.name != "postgresql":
        return None
    import platformdirs

    url = directory.engine.url
    where = f"{url.host}|{url.port}|{url.database}|{url.username}|{login}"
    name = hashlib.sha256(where.encode()).hexdigest()[:24] + ".snapshot"
    return Path(platformdirs.user_cache_dir("credkit")) / "snapshots" / name


def _save(place: Path, snapshot: Snapshot, users_table: pa.Table, creds: pa.Table) -> None:
    """Write the file atomically, mode 0600, entry codes' keys hashed; nothing on any error."""
    keys = creds.column("credential_key").combine_chunks()
    codes = pc.fill_null(pc.equal(creds.column("kind").combine_chunks(), "entry_code"), False)
    if pc.any(codes).as_py():
        hashed = snapshot.hash_keys(keys.filter(codes).to_pylist())
        keys = pc.replace_with_mask(keys, codes, pa.array(hashed, pa.string()))
    creds = creds.set_column(0, "credential_key", keys)
    metadata = {"format": FORMAT, "key": snapshot.digest}
    try:
        place.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=place.parent, prefix=place.name + ".")
    except OSError:  # a read-only folder: no file, the review goes on
        return
    try:
        with os.fdopen(descriptor, "wb") as file:
            for table in (users_table.replace_schema_metadata(metadata), creds):
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                data = sink.getvalue()
                file.write(len(data).to_bytes(8, "little"))
                file.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, place)
    except OSError:
        with suppress(OSError):
            os.unlink(temporary)


def _load(place: Path, digest: str, secret: bytes) -> Snapshot | None:
    """The file's snapshot if it is of exactly this state; None otherwise (or unreadable)."""
    try:
        data = pa.memory_map(str(place), "r").read_buffer()
    except (OSError, pa.ArrowException):
        return None
    try:
        tables: list[pa.Table] = []
        offset = 0
        for _ in range(2):
            size = int.from_bytes(data[offset : offset + 8].to_pybytes(), "little")
            tables.append(pa.ipc.open_stream(data.slice(offset + 8, size)).read_all())
            offset += 8 + size
        metadata = tables[0].schema.metadata or {}
        if metadata.get(b"format") != FORMAT.encode() or metadata.get(b"key") != digest.encode():
            return None
        users_table = tables[0].cast(_USERS_SCHEMA)
        credentials_table = tables[1].cast(_CREDENTIALS_SCHEMA)
    except (pa.ArrowException, ValueError, KeyError):
        return None
    return Snapshot(digest, _frame(users_table), _frame(credentials_table), secret, True)
