"""credkit's benchmarks: speed and memory of review, re-review, export and import, vs baselines.

Every measurement runs in a fresh subprocess (``run.py --child ...``), so that its peak RSS is its
own. Seconds are timed inside the child around the operation only (imports and setup excluded);
peak RSS is the child's whole-process high-water mark (``ru_maxrss``), which the parent reads
from ``os.wait4`` on exactly that child. Each measurement is repeated (``--repeat``, default 3),
round-robin so that the machine's noise falls on all of them alike, and the median is reported.
Every target is a ratio against a baseline measured in the same run.

    .venv/bin/python benchmarks/run.py                 # full size: 250,000 rows, ~9 minutes
    .venv/bin/python benchmarks/run.py --rows 20000    # a quick check

Prints the tables and writes them to ``benchmarks/results/latest.md`` (raw numbers in
``latest.json``). A missed target prints MISS but does not change the exit status: this is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import filecmp
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: The same join as credkit.export, in plain SQL, with the same two conversions done by SQLite.
RAW_EXPORT_SQL = """
SELECT u.first_name, u.last_name, u.user_id, u.external_id, u.employee_id, u.email,
       c.card_type, c.facility_code, c.card_number, c.card_number_hex, c.license_plate,
       c.entry_code, upper(substr(c.status, 1, 1)) || substr(c.status, 2),
       strftime('%Y-%m-%dT%H:%M:%SZ', c.modified)
FROM credentials AS c JOIN users AS u ON u.id = c.user_pk
ORDER BY c.id
"""

#: frictionless's per-field constraints, equivalent to credkit's per-field schema (empty cells
#: are missing values to frictionless, and pass, as they do in credkit).
FRICTIONLESS_PATTERNS = {
    "Facility Code": "[0-9]+",
    "Card Number": "[0-9]+",
    "Card Number Hex": "(0[xX])?[0-9A-Fa-f ]+",
    "License Plate": "[A-Za-z0-9 -]{2,14}",
    "Entry Code": "[0-9]{4,16}",
    "Modified": (
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?"
        "|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( ?[AaPp][Mm])?"
    ),
}
FRICTIONLESS_STATUS = ["Active", "Inactive", "active", "inactive", "ACTIVE", "INACTIVE"]
#: Above this estimated time for the whole file, frictionless runs on the prefix and is scaled.
FRICTIONLESS_FULL_LIMIT = 180.0

#: How many single-row edits each re-review run times (on rows spread over the file).
EDITS = 9

TARGETS = {  # issue #12
    "warm_vs_read": 8.0,  # warm review (the snapshot used) <= 8x the pyarrow read
    "frictionless_vs_warm": 4.0,  # frictionless >= 4x the warm review
    "cold_vs_read": 12.0,  # cold review (first in a fresh process) <= 12x the pyarrow read
    "frictionless_vs_cold": 3.0,  # frictionless >= 3x the cold review
    "edit_vs_small_edit": 1.5,  # re-review of one row at N rows <= 1.5x the same at 2,500
    "edit_vs_warm": 0.1,  # re-review of one row <= 1/10 of a warm full review
    "review_rss_mb": 800.0,  # peak RSS of the review
    "export_vs_raw": 2.0,  # export <= 2x a raw sqlite3 join written with csv.writer
    "export_rss_growth": 1.10,  # peak RSS exporting N credentials <= 1.10x exporting N/5
    "import_vs_raw": 3.0,  # execute_import into SQLite <= 3x a raw sqlite3 executemany
    "import_process_vs_plain": 8.0,  # `credkit import` less its review <= 8x stdlib process
    "import_rss_mb": 800.0,  # peak RSS of the import (review, plan and execute)
    "process_cold_vs_read": 6.0,  # `credkit review FILE --json` cold <= 6x a read process
    "process_warm_vs_read": 4.5,  # the same, warm
    "process_frictionless_vs_cold": 2.0,  # a whole frictionless process >= 2x slower (cold)
    "process_frictionless_vs_warm": 2.5,  # and >= 2.5x slower than the warm process
}

#: The PostgreSQL directory of the import benchmark, and the database to create it from.
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
PG_ADMIN_DATABASE = "test"

#: What the check after each import run reports.
CHECK_KEYS = ("written", "history_rows", "matches_expected", "missing", "unexpected")
#: The import's tables, emptied before each PostgreSQL run (users stay).
PG_IMPORT_TABLES = "credential_history, import_runs, credentials"


# --------------------------------------------------------------------------------------------
# The child: one measurement, its result as JSON on stdout
# --------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    """This process's peak RSS so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_read(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline read, repeated inside the child (spec["inner"] times, the median kept):
    at a tenth of a second, one read per process moves by half from run to run."""
    import pandas as pd

    before = _rss_mb()
    times = []
    for _ in range(spec.get("inner", 1)):
        started = time.perf_counter()
        frame = pd.read_csv(spec["csv"], dtype=str, engine="pyarrow", keep_default_na=False)
        times.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(times),
        "inner": times,
        "rss_before_mb": before,
        "rows": len(frame),
    }


def fresh_directory_copy(source: str, folder: str) -> tuple[str, dict[str, str]]:
    """A copy of a SQLite directory in an emptied folder, and an environment whose cache folder
    (XDG_CACHE_HOME) is empty inside it: no snapshot of the directory exists anywhere, beside
    the file or in the cache, so the next review is cold. Returns the copy's URL and the env."""
    import shutil

    target = Path(folder)
    shutil.rmtree(target, ignore_errors=True)
    (target / "cache").mkdir(parents=True)
    shutil.copyfile(source, target / "directory.db")
    env = dict(os.environ, XDG_CACHE_HOME=str(target / "cache"))
    return f"sqlite:///{target / 'directory.db'}", env


def has_snapshot() -> bool:
    """Whether this credkit keeps a directory snapshot (credkit.snapshot); without one a warm
    review is a cold one, and the report says so."""
    import importlib.util

    return importlib.util.find_spec("credkit.snapshot") is not None


def child_review(spec: dict[str, Any]) -> dict[str, Any]:
    """Cold, then warm: the first review in this fresh process, of a fresh copy of the
    directory with no snapshot anywhere; then a second review of the same file and directory,
    which finds the snapshot the first one left (in memory, or on disk) where credkit has one."""
    url, env = fresh_directory_copy(spec["db"], spec["copy"])
    os.environ.update(env)  # before credkit is imported: its cache folder is the empty one
    from credkit.directory import Directory
    from credkit.review import review_file

    before = _rss_mb()
    started = time.perf_counter()
    directory = Directory(url)  # opening it is part of a cold review (its generation is read)
    review = review_file(spec["csv"], directory)
    seconds = time.perf_counter() - started
    summary = review.summary()
    # A notebook's new review replaces the old one: holding both would measure two reviews'
    # memory against a target for one.
    del review
    gc.collect()
    started = time.perf_counter()
    review_file(spec["csv"], directory)  # as a notebook re-reviews: the same Directory
    warm = time.perf_counter() - started
    return {
        "seconds": seconds,
        "warm_seconds": warm,
        "snapshot": has_snapshot(),
        "rss_before_mb": before,
        "rows": summary["rows"],
        "rows_with_errors": summary["rows_with_errors"],
        "errors": summary["errors"],
        "warnings": summary["warnings"],
        "by_code": summary["by_code"],
    }


def child_directory_read(spec: dict[str, Any]) -> dict[str, Any]:
    """What the review's directory checks read, fetched with sqlite3 alone and nothing done with
    it: every user's keys and names, and every credential with its owner. A floor for any
    review that reads the directory through Python's sqlite3 rows."""
    import sqlite3

    conn = sqlite3.connect(spec["db"])
    before = _rss_mb()
    started = time.perf_counter()
    users = conn.execute(
        "SELECT user_id, external_id, email_key, first_name, last_name FROM users"
    ).fetchall()
    owned = conn.execute(
        "SELECT c.credential_key, u.user_id, c.id, c.kind, c.status, c.modified "
        "FROM credentials c JOIN users u ON c.user_pk = u.id"
    ).fetchall()
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "rss_before_mb": before, "rows": len(users) + len(owned)}


def child_edit(spec: dict[str, Any]) -> dict[str, Any]:
    from credkit.directory import Directory
    from credkit.review import review_file

    before = _rss_mb()
    started = time.perf_counter()
    review = review_file(spec["csv"], Directory(spec["url"]))
    build = time.perf_counter() - started
    index = review.table.index
    count = min(spec["edits"], len(index))
    rows = [int(index[round(k * (len(index) - 1) / max(count - 1, 1))]) for k in range(count)]
    times = []
    for row in rows:
        started = time.perf_counter()
        review.edit({(row, "License Plate"): "NEW123"})
        times.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(times),
        "edits": times,
        "edited_rows": rows,
        "build_seconds": build,
        "rss_before_mb": before,
    }


def csv_header(path: str | Path) -> list[str]:
    """A CSV file's header row. The benchmark's files carry credkit's own column names (data.py
    writes them), so children that must not import credkit take the names from there."""
    import csv

    with open(path, encoding="utf-8", newline="") as stream:
        return next(csv.reader(stream))


def frictionless_schema(headers: list[str]) -> Any:
    from frictionless import Schema

    fields = []
    for header in headers:
        constraints: dict[str, Any] = {}
        if header in FRICTIONLESS_PATTERNS:
            constraints["pattern"] = FRICTIONLESS_PATTERNS[header]
        if header == "Credential Status":
            constraints["enum"] = FRICTIONLESS_STATUS
        fields.append({"name": header, "type": "string", "constraints": constraints})
    return Schema.from_descriptor({"fields": fields})


def child_frictionless(spec: dict[str, Any]) -> dict[str, Any]:
    from frictionless import validate

    path = Path(spec["path"])
    os.chdir(path.parent)  # frictionless refuses absolute paths as unsafe
    schema = frictionless_schema(csv_header(path.name))
    before = _rss_mb()
    started = time.perf_counter()
    report = validate(path.name, schema=schema, limit_errors=10**9)
    seconds = time.perf_counter() - started
    task = report.tasks[0]
    if task.stats.get("rows") != spec["rows"]:
        raise RuntimeError(f"frictionless did not validate every row: {report.flatten()[:3]}")
    types: dict[str, int] = {}
    for error in task.errors:
        types[error.type] = types.get(error.type, 0) + 1
    return {"seconds": seconds, "rss_before_mb": before, "rows": spec["rows"], "errors": types}


def child_export(spec: dict[str, Any]) -> dict[str, Any]:
    from credkit.directory import Directory
    from credkit.export import write_export

    before = _rss_mb()
    started = time.perf_counter()
    count = write_export(Directory(spec["url"]), spec["out"])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_before_mb": before, "rows": count}


def child_export_raw(spec: dict[str, Any]) -> dict[str, Any]:
    import csv
    import sqlite3

    before = _rss_mb()
    started = time.perf_counter()
    count = 0
    connection = sqlite3.connect(spec["db"])
    try:
        cursor = connection.execute(RAW_EXPORT_SQL)
        with open(spec["out"], "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(csv_header(spec["csv"]))
            while batch := cursor.fetchmany(5_000):
                writer.writerows(batch)
                count += len(batch)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_before_mb": before, "rows": count}


# --- the import: credkit's execute_import and raw bulk inserts of the same rows --------------


def _libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg itself takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _fresh_sqlite(template: str, db: str) -> None:
    """A fresh copy of the users-only directory (and no stale WAL files beside it)."""
    import shutil

    for path in (db, f"{db}-wal", f"{db}-shm"):
        Path(path).unlink(missing_ok=True)
    shutil.copyfile(template, db)


def _fresh_postgres(url: str) -> None:
    """Empty the import's tables (the users stay), so that every run starts equal."""
    import psycopg

    with psycopg.connect(_libpq_url(url)) as conn:
        conn.execute(f"TRUNCATE {PG_IMPORT_TABLES} RESTART IDENTITY")


def _expected_rows(path: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """data.py's import-rows.csv: its columns (credentials columns, user_pk first) and its rows
    as database rows: user_pk an int, empty cells NULL."""
    import csv

    with open(path, encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        columns = next(reader)
        if columns[0] != "user_pk":
            raise ValueError(f"{path}: unexpected header {columns}")
        rows = [
            (int(row[0]), *(value if value != "" else None for value in row[1:])) for row in reader
        ]
    return columns, rows


def child_import_check(spec: dict[str, Any]) -> dict[str, Any]:
    """After an import run, in a child of its own (so that its memory is not the run's): does
    the credentials table hold exactly the rows of import-rows.csv?"""
    columns, expected_rows = _expected_rows(spec["rows_csv"])
    query = f"SELECT {', '.join(columns)} FROM credentials"
    if spec["backend"] == "sqlite":
        import sqlite3

        conn = sqlite3.connect(spec["db"])
        try:
            found = conn.execute(query).fetchall()
            history = conn.execute("SELECT count(*) FROM credential_history").fetchone()[0]
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(_libpq_url(spec["url"])) as conn:
            found = conn.execute(query).fetchall()
            history = conn.execute("SELECT count(*) FROM credential_history").fetchone()[0]
    expected = set(expected_rows)
    written = set(map(tuple, found))
    return {
        "written": len(found),
        "history_rows": history,
        "matches_expected": len(found) == len(expected) and written == expected,
        "missing": len(expected - written),
        "unexpected": len(written - expected),
    }


def child_import_template(spec: dict[str, Any]) -> dict[str, Any]:
    """Make the users-only directory (once per benchmark run): credkit's empty schema, then
    every user of the benchmark directory copied in, and no credentials."""
    import sqlite3

    from credkit.directory import Directory, users

    started = time.perf_counter()
    template = spec["template"]
    for path in (template, f"{template}-wal", f"{template}-shm"):
        Path(path).unlink(missing_ok=True)
    Directory(f"sqlite:///{template}").dispose()  # credkit's tables and indexes
    columns = ", ".join(users.c.keys())
    conn = sqlite3.connect(template)
    try:
        conn.execute("ATTACH DATABASE ? AS source", (spec["source"],))
        with conn:
            conn.execute(f"INSERT INTO users ({columns}) SELECT {columns} FROM source.users")
        conn.execute("DETACH DATABASE source")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "credentials", "credential_history", "import_runs")
        }
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for path in (f"{template}-wal", f"{template}-shm"):  # all in the main file: copy it alone
        Path(path).unlink(missing_ok=True)
    return {"seconds": time.perf_counter() - started, "rss_before_mb": 0.0, "counts": counts}


def child_postgres_setup(spec: dict[str, Any]) -> dict[str, Any]:
    """Make the PostgreSQL directory (once per benchmark run): create the database if missing,
    credkit's tables afresh, the users of the users-only SQLite directory in bulk inserts.
    Returns available=False, with the reason, when PostgreSQL cannot be reached."""
    import sqlite3

    import sqlalchemy as sa

    started = time.perf_counter()
    url = sa.engine.make_url(spec["url"])
    try:
        admin = sa.create_engine(
            url.set(database=spec["admin_database"]),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        with admin.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": url.database},
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    except Exception as error:  # any failure to reach the server: skip PostgreSQL
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        return {"available": False, "reason": reason[0] if reason else type(error).__name__}

    from credkit.directory import Directory, metadata, users

    directory = Directory(spec["url"])
    metadata.drop_all(directory.engine)
    metadata.create_all(directory.engine)
    source = sqlite3.connect(spec["template"])
    source.row_factory = sqlite3.Row
    try:
        rows = [dict(row) for row in source.execute("SELECT * FROM users ORDER BY id")]
    finally:
        source.close()
    with directory.engine.begin() as conn:
        for start in range(0, len(rows), 50_000):
            conn.execute(users.insert(), rows[start : start + 50_000])
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")
        )
        conn.execute(sa.text("ANALYZE users"))
    directory.dispose()
    return {
        "available": True,
        "server_version": version,
        "users": len(rows),
        "seconds": time.perf_counter() - started,
    }


def child_import(spec: dict[str, Any]) -> dict[str, Any]:
    """credkit's import of the import CSV into a fresh users-only directory: the review and
    the plan are built first (timed apart, not for the target), then execute_import alone."""
    from credkit.directory import Directory
    from credkit.importer import execute_import, plan_import
    from credkit.review import review_file

    if spec["backend"] == "sqlite":
        _fresh_sqlite(spec["template"], spec["db"])
    else:
        _fresh_postgres(spec["url"])
    directory = Directory(spec["url"])
    started = time.perf_counter()
    review = review_file(spec["csv"], directory)
    review_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plan = plan_import(review)
    plan_seconds = time.perf_counter() - started
    planned = plan.counts()
    before = _rss_mb()
    started = time.perf_counter()
    result = execute_import(plan, directory, operator="bench")
    seconds = time.perf_counter() - started
    directory.dispose()
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "review_seconds": review_seconds,
        "plan_seconds": plan_seconds,
        "planned": planned,
        "outcomes": result.counts(),
        "findings": review.summary()["by_code"],
    }


def child_import_raw(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline: the same rows in one executemany INSERT, in one transaction, with the
    driver alone (psycopg, or sqlite3 with the two pragmas that change what SQLite does:
    foreign keys and WAL). With spec["credkit_cache"], sqlite3 also gets credkit's larger
    page cache: an informational run that shows what that setting alone is worth."""
    columns, rows = _expected_rows(spec["rows_csv"])
    columns.append("modified")
    placeholders = ", ".join(["?" if spec["backend"] == "sqlite" else "%s"] * len(columns))
    statement = f"INSERT INTO credentials ({', '.join(columns)}) VALUES ({placeholders})"
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    if spec["backend"] == "sqlite":
        import sqlite3

        _fresh_sqlite(spec["template"], spec["db"])
        # Stored as SQLAlchemy stores a DateTime in SQLite.
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        values = [(*row, stamp) for row in rows]
        conn = sqlite3.connect(spec["db"])
        conn.execute("PRAGMA foreign_keys = ON")  # as credkit's engine sets them
        conn.execute("PRAGMA journal_mode = WAL")
        if spec.get("credkit_cache"):
            from credkit.directory import SQLITE_CACHE_KIB

            conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        before = _rss_mb()
        started = time.perf_counter()
        with conn:  # one transaction
            conn.executemany(statement, values)
        seconds = time.perf_counter() - started
        conn.close()
    else:
        import psycopg

        _fresh_postgres(spec["url"])
        values = [(*row, now) for row in rows]
        conn = psycopg.connect(_libpq_url(spec["url"]))
        before = _rss_mb()
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(statement, values)
        seconds = time.perf_counter() - started
        conn.close()
    return {"seconds": seconds, "rss_before_mb": before}


def child_plain_import(spec: dict[str, Any]) -> dict[str, Any]:
    """The whole-process import baseline: the standard library alone reads import-rows.csv and
    executemany's it into a fresh one-table SQLite database, in one transaction. The parent
    times this whole process (interpreter start included) against `credkit import`."""
    import csv
    import sqlite3

    path = Path(spec["db"])
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    with open(spec["rows_csv"], encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        columns = next(reader)
        rows = [tuple(value if value != "" else None for value in row) for row in reader]
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE credentials ({', '.join(columns)})")
    placeholders = ", ".join("?" * len(columns))
    with conn:
        conn.executemany(f"INSERT INTO credentials VALUES ({placeholders})", rows)
    conn.close()
    return {"seconds": time.perf_counter() - started, "rss_before_mb": 0.0, "rows": len(rows)}


CHILDREN = {
    "read": child_read,
    "review": child_review,
    "directory_read": child_directory_read,
    "edit": child_edit,
    "frictionless": child_frictionless,
    "export": child_export,
    "export_raw": child_export_raw,
    "import_template": child_import_template,
    "postgres_setup": child_postgres_setup,
    "import": child_import,
    "import_raw": child_import_raw,
    "import_check": child_import_check,
    "plain_import": child_plain_import,
}


def child_main(task: str, spec_json: str) -> None:
    result = CHILDREN[task](json.loads(spec_json))
    print(json.dumps(result))


# --------------------------------------------------------------------------------------------
# The parent: the plan, the runs, the medians, the report
# --------------------------------------------------------------------------------------------


def run_child(task: str, spec: dict[str, Any], log_path: Path) -> dict[str, Any]:
    """One measurement in a fresh interpreter; adds its peak RSS as wait4 reports it."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", task, json.dumps(spec)]
    with open(log_path, "w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        output = process.stdout.read() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode != 0:
        tail = log_path.read_text()[-2000:]
        return {"failed": True, "error": f"exit {process.returncode}: {tail}"}
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


#: How a whole process reads the file with pandas and pyarrow (the whole-process baseline).
READ_SCRIPT = (
    "import sys, pandas as pd; "
    "pd.read_csv(sys.argv[1], dtype=str, engine='pyarrow', keep_default_na=False)"
)


def credkit_command(*arguments: str) -> list[str]:
    """`credkit ARGUMENTS` as a user runs it: the console script of this interpreter's
    environment (or the same entry point through -c where there is no script)."""
    script = Path(sys.executable).parent / "credkit"
    if script.exists():
        return [sys.executable, str(script), *arguments]
    return [sys.executable, "-c", "import sys; from credkit.cli import main; sys.exit(main())",
            *arguments]  # fmt: skip


def run_process(
    command: list[str], log_path: Path, env: dict[str, str] | None, ok_codes: tuple[int, ...]
) -> dict[str, Any]:
    """One whole process, timed from its start to its exit by the parent (interpreter start,
    imports and all), with its peak RSS from wait4."""
    with open(log_path, "w") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok_codes:
        tail = log_path.read_text()[-2000:]
        return {"failed": True, "error": f"exit {process.returncode}: {tail}"}
    return {"seconds": seconds, "rss_before_mb": 0.0, "peak_rss_mb": usage.ru_maxrss / 1024}


class Measurement:
    """One named measurement: its task, its input, and the results of its runs.

    A whole-process measurement has a command instead (timed by the parent), and may have a
    prepare step run before each of its runs, untimed (a fresh copy of a directory)."""

    def __init__(self, key: str, label: str, task: str, spec: dict[str, Any], what: str) -> None:
        self.key, self.label, self.task, self.spec, self.what = key, label, task, spec, what
        self.runs: list[dict[str, Any]] = []
        self.repeat: int | None = None  # runs of its own, if not --repeat (the imports)
        self.scale = 1.0  # frictionless on a prefix: times are multiplied by this
        self.note = ""
        self.command: Any = None  # list[str], or a callable giving it, for a whole process
        self.prepare: Any = None  # called before each run, untimed; returns the env to run in
        self.ok_codes: tuple[int, ...] = (0,)
        self.env: dict[str, str] | None = None

    @property
    def ok_runs(self) -> list[dict[str, Any]]:
        return [run for run in self.runs if not run.get("failed")]

    @property
    def seconds(self) -> list[float]:
        return [run["seconds"] * self.scale for run in self.ok_runs]

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.ok_runs else None

    @property
    def rss(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(run["peak_rss_mb"] for run in runs) if runs else None

    @property
    def rss_before(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(run["rss_before_mb"] for run in runs) if runs else None

    def run(self, log_dir: Path, progress: str) -> dict[str, Any]:
        if self.command is not None:
            if self.prepare is not None:
                self.env = self.prepare()
            command = self.command() if callable(self.command) else self.command
            result = run_process(command, log_dir / f"{self.key}.stderr", self.env, self.ok_codes)
        else:
            result = run_child(self.task, self.spec, log_dir / f"{self.key}.stderr")
        if self.task.startswith("import") and not result.get("failed"):
            check = run_child("import_check", self.spec, log_dir / f"{self.key}-check.stderr")
            if check.get("failed"):
                result |= {"matches_expected": False, "check_error": check["error"]}
            else:
                result |= {key: check[key] for key in CHECK_KEYS}
        self.runs.append(result)
        if result.get("failed"):
            print(f"  {progress} {self.key}: FAILED\n{result['error']}", file=sys.stderr)
        else:
            print(
                f"  {progress} {self.key}: {result['seconds']:.3f} s, "
                f"peak RSS {result['peak_rss_mb']:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
        return result


#: The groups --only can pick, and the measurements of each.
GROUPS = ("review", "export", "import", "process")
#: Rows of the small file of the re-review target (the same directory, the file's prefix).
EDIT_SMALL_ROWS = 2_500
#: Rounds, at least, of a measurement whose baseline takes under a second (whole processes).
MIN_ROUNDS = 7


def csv_prefix(source: Path, target: Path, rows: int) -> Path:
    """The header and first rows of a CSV file (records, not lines: a cell may hold a newline)."""
    import csv

    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    with (
        open(source, encoding="utf-8", newline="") as inp,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        reader, writer = csv.reader(inp), csv.writer(out, lineterminator="\r\n")
        for index, record in enumerate(reader):
            if index > rows:
                break
            writer.writerow(record)
    return target


def plan(
    data: Data,
    edits: int,
    postgres_url: str | None,
    import_repeat: int,
    groups: tuple[str, ...] = GROUPS,
    repeat: int = 3,
) -> dict[str, Measurement]:
    work = data.work
    rows = f"{data.rows:,} rows"
    full, small = f"{data.credentials:,} credentials", f"{data.small_credentials:,} credentials"
    csv_spec = {"csv": str(data.csv), "url": data.url}
    found: list[Measurement] = []
    if "review" in groups or "process" in groups:
        found.append(
            Measurement(
                "read",
                "a. baseline: pandas.read_csv, pyarrow engine (median of 7 inside the child)",
                "read",
                csv_spec | {"inner": 7},
                rows,
            )
        )
    if "review" in groups:
        edit_csv = csv_prefix(
            data.csv, work / f"credentials-{EDIT_SMALL_ROWS}.csv", EDIT_SMALL_ROWS
        )
        found += [
            Measurement(
                "review",
                "b. cold review: review_file, first in a fresh process, no snapshot",
                "review",
                {"csv": str(data.csv), "db": str(data.db), "copy": str(work / "review-copy")},
                rows,
            ),
            Measurement(
                "directory_read",
                "b. informational: sqlite3 fetch of what the directory checks read",
                "directory_read",
                {"db": str(data.db)},
                f"{data.users:,} users, {data.credentials:,} credentials",
            ),
            Measurement(
                "edit",
                "c. re-review of one edited row: review.edit",
                "edit",
                csv_spec | {"edits": edits},
                f"{rows}, median of {edits} edits",
            ),
            Measurement(
                "edit_small",
                f"c. re-review of one edited row, {EDIT_SMALL_ROWS:,}-row file, same directory",
                "edit",
                {"csv": str(edit_csv), "url": data.url, "edits": edits},
                f"{EDIT_SMALL_ROWS:,} rows, median of {edits} edits",
            ),
        ]
    if "review" in groups or "process" in groups:
        found.append(
            Measurement(
                "frictionless",
                "d. peer baseline: frictionless validate",
                "frictionless",
                {"path": str(data.csv), "rows": data.rows},
                rows,
            )
        )
    if "export" in groups:
        found += [
            Measurement(
                "export",
                "e. export: write_export",
                "export",
                {"url": data.url, "out": str(work / "export.csv")},
                full,
            ),
            Measurement(
                "export_raw",
                "e. baseline: sqlite3 join + csv.writer",
                "export_raw",
                {"db": str(data.db), "csv": str(data.csv), "out": str(work / "export-raw.csv")},
                full,
            ),
            Measurement(
                "export_small",
                "e. export, 1/5 size (memory check)",
                "export",
                {"url": data.small_url, "out": str(work / "export-small.csv")},
                small,
            ),
            Measurement(
                "export_raw_small",
                "e. baseline, 1/5 size",
                "export_raw",
                {
                    "db": str(data.small_db),
                    "csv": str(data.csv),
                    "out": str(work / "export-raw-small.csv"),
                },
                small,
            ),
        ]
    creates = f"{data.import_rows:,} creates, {data.users:,} users"
    template = str(work / "import-users.db")
    sqlite_spec = {"backend": "sqlite", "template": template, "rows_csv": str(data.import_rows_csv)}
    credkit_db, raw_db = work / "import.db", work / "import-raw.db"
    if "import" in groups:
        found += [
            Measurement(
                "import",
                "f. import execute: execute_import (SQLite)",
                "import",
                sqlite_spec
                | {
                    "csv": str(data.import_csv),
                    "db": str(credkit_db),
                    "url": f"sqlite:///{credkit_db}",
                },
                creates,
            ),
            Measurement(
                "import_raw",
                "f. baseline: sqlite3 executemany into credkit's schema, one transaction",
                "import_raw",
                sqlite_spec | {"db": str(raw_db)},
                f"{data.import_rows:,} rows",
            ),
            Measurement(
                "import_raw_cache",
                "f. informational: the same, with credkit's SQLite page cache",
                "import_raw",
                sqlite_spec | {"db": str(raw_db), "credkit_cache": True},
                f"{data.import_rows:,} rows",
            ),
        ]
        found += import_processes(data, template, import_repeat)
    if "import" in groups and postgres_url:
        pg_spec = {
            "backend": "postgresql",
            "url": postgres_url,
            "rows_csv": str(data.import_rows_csv),
        }
        found += [
            Measurement(
                "import_pg",
                "g. import execute: execute_import (PostgreSQL)",
                "import",
                pg_spec | {"csv": str(data.import_csv)},
                creates,
            ),
            Measurement(
                "import_raw_pg",
                "g. baseline: psycopg cursor.executemany, one transaction",
                "import_raw",
                pg_spec,
                f"{data.import_rows:,} rows",
            ),
        ]
    for measurement in found:
        if measurement.task.startswith("import"):
            measurement.repeat = import_repeat
    if "process" in groups:
        found += review_processes(data, repeat)
    return {measurement.key: measurement for measurement in found}


def review_processes(data: Data, repeat: int) -> list[Measurement]:
    """h. Whole processes, timed by the parent: `credkit review FILE --json` cold (a fresh
    copy of the directory, no snapshot anywhere) then warm (the same copy, right after: the
    snapshot the cold process left on disk), a process that imports pandas and reads the file
    with pyarrow, and a whole frictionless process. At least MIN_ROUNDS rounds each."""
    copy = data.work / "process-copy"
    state: dict[str, Any] = {}

    def fresh() -> dict[str, str]:
        state["url"], state["env"] = fresh_directory_copy(str(data.db), str(copy))
        return state["env"]

    def review() -> list[str]:
        return credkit_command("--db", state["url"], "review", str(data.csv), "--json")

    rows = f"{data.rows:,} rows"
    read = Measurement(
        "proc_read", "h. baseline process: import pandas, pyarrow read", "", {}, rows
    )
    read.command = [sys.executable, "-c", READ_SCRIPT, str(data.csv)]
    cold = Measurement("proc_review_cold", "h. `credkit review FILE --json`, cold", "", {}, rows)
    cold.command, cold.prepare, cold.ok_codes = review, fresh, (0, 1)
    warm = Measurement("proc_review_warm", "h. the same again, warm", "", {}, rows)
    warm.command, warm.ok_codes = review, (0, 1)
    warm.prepare = lambda: state["env"]
    peer = Measurement("proc_frictionless", "h. whole frictionless process", "", {}, rows)
    spec = json.dumps({"path": str(data.csv), "rows": data.rows})
    peer.command = [sys.executable, str(Path(__file__).resolve()), "--child", "frictionless", spec]
    found = [read, cold, warm, peer]
    for measurement in found:
        measurement.repeat = max(repeat, MIN_ROUNDS)
    return found


def import_processes(data: Data, template: str, import_repeat: int) -> list[Measurement]:
    """f'. Whole processes of the import, timed by the parent, each on a fresh copy of the
    users-only directory: `credkit import FILE`, `credkit review FILE --json` (its review, to
    subtract), and a process of the standard library alone that executemany's the same rows
    into a fresh one-table database."""
    copy = data.work / "process-import"
    state: dict[str, Any] = {}

    def fresh() -> dict[str, str]:
        state["url"], state["env"] = fresh_directory_copy(template, str(copy))
        return state["env"]

    creates = f"{data.import_rows:,} creates"
    whole = Measurement("proc_import", "f'. `credkit import FILE` process", "", {}, creates)
    whole.command = lambda: credkit_command(
        "--db", state["url"], "import", str(data.import_csv), "--operator", "bench"
    )
    whole.prepare, whole.ok_codes = fresh, (0, 1)
    review = Measurement(
        "proc_import_review", "f'. `credkit review FILE --json` of the same", "", {}, creates
    )
    review.command = lambda: credkit_command(
        "--db", state["url"], "review", str(data.import_csv), "--json"
    )
    review.prepare, review.ok_codes = fresh, (0, 1)
    plain = Measurement(
        "proc_plain_import",
        "f'. baseline process: stdlib csv + sqlite3 executemany, one table",
        "",
        {},
        f"{data.import_rows:,} rows",
    )
    spec = json.dumps(
        {"rows_csv": str(data.import_rows_csv), "db": str(data.work / "plain-import.db")}
    )
    plain.command = [sys.executable, str(Path(__file__).resolve()), "--child", "plain_import", spec]
    found = [whole, review, plain]
    for measurement in found:
        measurement.repeat = import_repeat
    return found


def prepare_import(
    measurements: dict[str, Measurement], data: Data, log_dir: Path, postgres_url: str | None
) -> str:
    """Once per benchmark run: the users-only SQLite directory every import run copies, and
    (when reachable) the PostgreSQL directory with the same users. Returns a note for the
    report about PostgreSQL; drops its measurements when it is not there."""
    template = measurements["import"].spec["template"]
    result = run_child(
        "import_template",
        {"template": template, "source": str(data.db)},
        log_dir / "import_template.stderr",
    )
    if result.get("failed"):
        raise SystemExit(f"could not make the users-only directory:\n{result['error']}")
    counts = result["counts"]
    if counts["users"] != data.users or counts["credentials"] != 0:
        raise SystemExit(f"the users-only directory is not as expected: {counts}")
    print(
        f"  users-only directory: {counts['users']:,} users, no credentials -> {template} "
        f"({result['seconds']:.1f} s)",
        file=sys.stderr,
    )
    if not postgres_url:
        return "PostgreSQL: skipped (--no-postgres)."
    result = run_child(
        "postgres_setup",
        {"url": postgres_url, "admin_database": PG_ADMIN_DATABASE, "template": template},
        log_dir / "postgres_setup.stderr",
    )
    if result.get("failed") or not result.get("available"):
        reason = result.get("reason") or result.get("error", "").strip().splitlines()[-1:]
        print(f"  skipped: no PostgreSQL ({reason})", file=sys.stderr, flush=True)
        for key in ("import_pg", "import_raw_pg"):
            measurements.pop(key, None)
        return f"PostgreSQL: skipped: no PostgreSQL ({reason})."
    print(
        f"  PostgreSQL {result['server_version']}: {result['users']:,} users -> "
        f"{postgres_url} ({result['seconds']:.1f} s)",
        file=sys.stderr,
    )
    return (
        f"PostgreSQL {result['server_version']} at `{postgres_url}`: the same users, loaded once "
        "per benchmark run with bulk inserts; before each run the import's tables are emptied "
        f"(`TRUNCATE {PG_IMPORT_TABLES} RESTART IDENTITY`, not timed)."
    )


def run_frictionless(
    measurement: Measurement, data: Data, log_dir: Path, progress: str, limit: float
) -> None:
    """frictionless on the whole file, unless a prefix run says that would take too long."""
    if data.prefix_rows >= data.rows or measurement.note == "full":
        measurement.run(log_dir, progress)
        return
    if measurement.note.startswith("prefix"):
        measurement.run(log_dir, progress)
        return
    probe = Measurement(
        "frictionless_probe",
        "probe",
        "frictionless",
        {"path": str(data.prefix_csv), "rows": data.prefix_rows},
        "",
    )
    result = probe.run(log_dir, progress + " (prefix probe)")
    if result.get("failed"):
        measurement.runs.append(result)
        return
    scale = data.rows / data.prefix_rows
    estimate = result["seconds"] * scale
    if estimate <= limit:
        measurement.note = "full"
        measurement.run(log_dir, progress)
        return
    measurement.note = f"prefix: {data.prefix_rows:,}-row prefix, scaled linearly x{scale:g}"
    measurement.spec = probe.spec
    measurement.scale = scale
    measurement.what = f"{data.prefix_rows:,}-row prefix, x{scale:g} (scaled)"
    measurement.runs.append(result)


def ratio_text(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}x"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "**MISS**"


def targets(m: dict[str, Measurement]) -> list[tuple[str, str, str, str]]:
    """(target, measured, limit, verdict) per target of issue #12; n/a where a measurement
    failed or was not run (--only)."""
    out: list[tuple[str, str, str, str]] = []

    def median(key: str) -> float | None:
        return m[key].median if key in m else None

    def runs_of(key: str) -> list[dict[str, Any]]:
        return m[key].ok_runs if key in m else []

    def warm_median() -> float | None:
        warm = [run["warm_seconds"] for run in runs_of("review")]
        return statistics.median(warm) if warm else None

    def ratio(
        name: str, top: float | None, bottom: float | None, limit: float, at_least: bool = False
    ) -> None:
        """top / bottom against limit (<= limit, or >= limit with at_least)."""
        value = top / bottom if top is not None and bottom else None
        sign = ">=" if at_least else "<="
        ok = None if value is None else value >= limit if at_least else value <= limit
        shown = f"{top or 0:.3f} s / {bottom or 0:.3f} s = {ratio_text(value, 2)}"
        out.append((name, shown, f"{sign} {limit:g}x", verdict(ok)))

    def informational(what: str, measured: float | None, baseline: float | None) -> None:
        value = measured / baseline if measured is not None and baseline else None
        shown = f"{measured or 0:.3f} s / {baseline or 0:.3f} s = {ratio_text(value, 2)}"
        out.append((f"{what} (informational)", shown, "no target", "info"))

    read, peer = median("read"), median("frictionless")
    cold, warm = median("review"), warm_median()
    snapshot = any(run.get("snapshot") for run in runs_of("review"))
    warm_note = "" if snapshot or not runs_of("review") else " [no credkit.snapshot: warm = cold]"
    ratio(f"warm review <= 8x the pyarrow read{warm_note}", warm, read, TARGETS["warm_vs_read"])
    ratio(
        f"warm review >= 4x faster than frictionless{warm_note}",
        peer,
        warm,
        TARGETS["frictionless_vs_warm"],
        at_least=True,
    )
    ratio("cold review <= 12x the pyarrow read", cold, read, TARGETS["cold_vs_read"])
    ratio(
        "cold review >= 3x faster than frictionless",
        peer,
        cold,
        TARGETS["frictionless_vs_cold"],
        at_least=True,
    )
    informational(
        "sqlite3 fetch of what the directory checks read, vs the pyarrow read",
        median("directory_read"),
        read,
    )
    edit, edit_small = median("edit"), median("edit_small")
    ratio(
        f"re-review of one row, whole file <= 1.5x the same at {EDIT_SMALL_ROWS:,} rows",
        edit,
        edit_small,
        TARGETS["edit_vs_small_edit"],
    )
    ratio(
        f"re-review of one row <= 1/10 of a warm full review{warm_note}",
        edit,
        warm,
        TARGETS["edit_vs_warm"],
    )
    rss = m["review"].rss if "review" in m else None
    out.append(
        (
            "peak RSS of the review (cold, then warm once the first is released; one process) <= 800 MB",
            f"{rss or 0:.0f} MB",
            f"<= {TARGETS['review_rss_mb']:g} MB",
            verdict(None if rss is None else rss <= TARGETS["review_rss_mb"]),
        )
    )
    ratio(
        "export <= 2x raw sqlite3 join + csv.writer",
        median("export"),
        median("export_raw"),
        TARGETS["export_vs_raw"],
    )
    big = m["export"].rss if "export" in m else None
    small = m["export_small"].rss if "export_small" in m else None
    value = big / small if big is not None and small else None
    out.append(
        (
            "export memory is flat: peak RSS at full size vs 1/5 size",
            f"{big or 0:.0f} MB vs {small or 0:.0f} MB = {ratio_text(value, 2)}",
            f"<= {TARGETS['export_rss_growth']:g}x",
            verdict(None if value is None else value <= TARGETS["export_rss_growth"]),
        )
    )
    ratio(
        "import execute (SQLite) <= 3x raw executemany into credkit's schema",
        median("import"),
        median("import_raw"),
        TARGETS["import_vs_raw"],
    )
    informational(
        "import execute (SQLite) vs raw executemany with credkit's page cache",
        median("import"),
        median("import_raw_cache"),
    )
    whole, its_review = median("proc_import"), median("proc_import_review")
    less = whole - its_review if whole is not None and its_review is not None else None
    ratio(
        "`credkit import` process less its review <= 8x a stdlib executemany process",
        less,
        median("proc_plain_import"),
        TARGETS["import_process_vs_plain"],
    )
    for key, what in (("import", "SQLite import child"), ("proc_import", "`credkit import`")):
        rss = m[key].rss if key in m else None
        out.append(
            (
                f"peak RSS of the {what} <= 800 MB",
                f"{rss or 0:.0f} MB",
                f"<= {TARGETS['import_rss_mb']:g} MB",
                verdict(None if rss is None else rss <= TARGETS["import_rss_mb"]),
            )
        )
    if "import_pg" in m and "import_raw_pg" in m:
        informational(
            "import execute (PostgreSQL) vs psycopg executemany",
            median("import_pg"),
            median("import_raw_pg"),
        )
    process_read = median("proc_read")
    process_cold, process_warm = median("proc_review_cold"), median("proc_review_warm")
    process_peer = median("proc_frictionless")
    snapshot_note = "" if snapshot or "review" not in m else " [no credkit.snapshot]"
    ratio(
        "process: `credkit review FILE --json` cold <= 6x a pandas + pyarrow read process",
        process_cold,
        process_read,
        TARGETS["process_cold_vs_read"],
    )
    ratio(
        f"process: `credkit review FILE --json` warm <= 4.5x the read process{snapshot_note}",
        process_warm,
        process_read,
        TARGETS["process_warm_vs_read"],
    )
    ratio(
        "process: frictionless >= 2x slower than credkit review, cold",
        process_peer,
        process_cold,
        TARGETS["process_frictionless_vs_cold"],
        at_least=True,
    )
    ratio(
        f"process: frictionless >= 2.5x slower than credkit review, warm{snapshot_note}",
        process_peer,
        process_warm,
        TARGETS["process_frictionless_vs_warm"],
        at_least=True,
    )
    return out


def import_notes(m: dict[str, Measurement], postgres_note: str) -> list[str]:
    """What the import runs did besides the timed execute: the review and plan before it, the
    outcomes, and whether each run wrote exactly the expected rows."""
    if "import" not in m:
        return []
    lines = ["", "## The import", ""]
    for key in ("import", "import_pg"):
        runs = m[key].ok_runs if key in m else []
        if not runs:
            continue
        review = statistics.median(run["review_seconds"] for run in runs)
        planned = statistics.median(run["plan_seconds"] for run in runs)
        before = statistics.median(run["rss_before_mb"] for run in runs)
        outcomes = runs[0]["outcomes"]
        lines.append(
            f"- {m[key].label}: before the timer, review_file took {review:.2f} s and "
            f"plan_import {planned:.2f} s (medians, not part of the ratio); RSS after them "
            f"{before:.0f} MB. Outcomes: "
            + ", ".join(f"{name} {count:,}" for name, count in outcomes.items() if count)
            + f"; findings of the review: {runs[0]['findings'] or 'none'}."
        )
    for key in ("import", "import_raw", "import_raw_cache", "import_pg", "import_raw_pg"):
        runs = m[key].ok_runs if key in m else []
        if not runs:
            continue
        exact = all(run.get("matches_expected") for run in runs)
        if exact:
            written = sorted({run["written"] for run in runs})
            history = sorted({run["history_rows"] for run in runs})
            lines.append(
                f"- {m[key].label}: every run wrote exactly the {written[0]:,} rows of "
                "import-rows.csv into credentials (checked after each run, in a child of its "
                "own); credential_history rows: " + ", ".join(f"{h:,}" for h in history) + "."
            )
        else:
            wrong = [
                run.get("check_error")
                or f"wrote {run['written']:,}: {run['missing']:,} missing, "
                f"{run['unexpected']:,} unexpected"
                for run in runs
                if not run.get("matches_expected")
            ]
            lines.append(
                f"- {m[key].label}: **NOT** exactly the rows of import-rows.csv: "
                + "; ".join(wrong)
            )
    lines.append(f"- {postgres_note}")
    return lines


def report(
    m: dict[str, Measurement],
    data: Data,
    repeat: int,
    env: dict[str, str],
    postgres_note: str,
) -> tuple[str, list[str], int]:
    lines = [
        "## Measurements",
        "",
        f"{data.rows:,}-row credential CSV ({data.csv.stat().st_size / 1e6:.1f} MB); directory of "
        f"{data.users:,} users and {data.credentials:,} credentials (SQLite). Median of {repeat} "
        "runs, each in a fresh subprocess; peak RSS from `os.wait4` (the child's `ru_maxrss`). "
        f"Imports (f, g): {data.import_rows:,}-row CSV of new credentials into a directory of "
        f"the {data.users:,} users and no credentials, median of "
        f"{m['import'].repeat if 'import' in m else repeat} runs; for f and g, *RSS after "
        "imports* is the RSS just before the timer, after building the review and the plan. "
        "h and f': whole processes timed by the parent from start to exit, at least "
        f"{MIN_ROUNDS} rounds, alternating with the others.",
        "",
        "| measurement | input | median s | runs s | peak RSS MB | RSS after imports MB |",
        "|---|---|---:|---|---:|---:|",
    ]
    for measurement in m.values():
        runs = ", ".join(f"{value:.3f}" for value in measurement.seconds) or "failed"
        median = measurement.median
        rss, before = measurement.rss, measurement.rss_before
        lines.append(
            f"| {measurement.label} | {measurement.what} | "
            f"{'n/a' if median is None else f'{median:.3f}'} | {runs} | "
            f"{'n/a' if rss is None else f'{rss:.0f}'} | "
            f"{'n/a' if before is None else f'{before:.0f}'} |"
        )
    review_runs = m["review"].ok_runs if "review" in m else []
    if review_runs:
        warm = statistics.median(run["warm_seconds"] for run in review_runs)
        snapshot = (
            "credkit.snapshot is there: the second review reads the snapshot the first left"
            if review_runs[0].get("snapshot")
            else "**no credkit.snapshot on this branch: warm = cold** (a second review that "
            "reads the directory again)"
        )
        lines += [
            "",
            f"Warm review (the second in the same child): {warm:.3f} s (median of "
            + ", ".join(f"{run['warm_seconds']:.3f}" for run in review_runs)
            + f"); {snapshot}.",
        ]
    edit_runs = m["edit"].ok_runs if "edit" in m else []
    if edit_runs:
        every = sorted(t for run in edit_runs for t in run["edits"])
        builds = statistics.median(run["build_seconds"] for run in edit_runs)
        lines += [
            "",
            f"Re-review: {len(every)} edits in all, {every[0]:.3f}-{every[-1]:.3f} s each; "
            f"building the review they edit (not timed) took {builds:.2f} s (median).",
        ]
    if "frictionless" in m and m["frictionless"].note.startswith("prefix"):
        lines += ["", f"frictionless: {m['frictionless'].note[len('prefix: ') :]}."]
    if "export" in m and "export_raw" in m:
        big, raw = Path(m["export"].spec["out"]), Path(m["export_raw"].spec["out"])
    if "export" in m and "export_raw" in m and big.exists() and raw.exists():
        same = "byte-identical to" if filecmp.cmp(big, raw, shallow=False) else "DIFFERENT from"
        lines += ["", f"The export's file is {same} the raw baseline's."]
    lines += import_notes(m, postgres_note)
    lines += ["", "## Targets", "", "| target | measured | limit | result |", "|---|---|---|---|"]
    rows = targets(m)
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    missed = [name for name, _, _, result in rows if "MISS" in result]
    unmeasured = sum(result == "n/a" for _, _, _, result in rows)
    if review_runs:
        codes = review_runs[0]["by_code"]
        first = review_runs[0]
        lines += [
            "",
            "## What the review found",
            "",
            f"{first['rows_with_errors']:,} rows with errors, {first['errors']:,} errors, "
            f"{first['warnings']:,} warnings: "
            + ", ".join(f"{code} {count:,}" for code, count in codes.items())
            + ".",
        ]
    peer_runs = m["frictionless"].ok_runs if "frictionless" in m else []
    if peer_runs:
        errors = ", ".join(f"{k} {v:,}" for k, v in peer_runs[0]["errors"].items()) or "none"
        lines += ["", f"frictionless reported: {errors}."]
    lines += ["", "## Environment", ""]
    lines += [f"- {name}: {value}" for name, value in env.items()]
    return "\n".join(lines) + "\n", missed, unmeasured


def environment(data: Data) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    packages = ["pandas", "pyarrow", "pandera", "numpy", "SQLAlchemy", "frictionless", "psycopg"]
    found = []
    for name in packages:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "packages": ", ".join(found),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
        + " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "data": f"seed {data.seed}, work folder {data.work}",
        "parent process peak RSS": f"{_rss_mb():.0f} MB (Linux carries it into each child's "
        "ru_maxrss across fork and exec, so it is the floor of every peak above)",
    }


class Data:
    """The dataset as data.py describes it (sizes and paths), without importing data.py."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.seed: int = description["seed"]
        self.rows: int = description["rows"]
        self.users: int = description["users"]
        self.credentials: int = description["credentials"]
        self.small_credentials: int = description["small_credentials"]
        self.prefix_rows: int = description["prefix_rows"]
        self.import_rows: int = description["import_rows"]
        self.import_csv = Path(description["import_csv"])
        self.import_rows_csv = Path(description["import_rows_csv"])
        self.work = Path(description["work"])
        self.csv = Path(description["csv"])
        self.prefix_csv = Path(description["prefix_csv"])
        self.db = Path(description["db"])
        self.small_db = Path(description["small_db"])
        self.url: str = description["url"]
        self.small_url: str = description["small_url"]


def prepare_data(rows: int, seed: int | None, work: Path | None) -> Data:
    """Make (or find cached) data with data.py, in a subprocess.

    The parent imports neither credkit nor numpy: Linux carries a process's peak RSS across
    fork and exec, so every child's ru_maxrss would start at the parent's peak.
    """
    command = [sys.executable, str(HERE / "data.py"), "--rows", str(rows), "--json"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if work is not None:
        command += ["--work", str(work)]
    print("data:", file=sys.stderr, flush=True)
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return Data(json.loads(output.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="credkit benchmarks (see benchmarks/README.md)")
    parser.add_argument("--rows", type=int, default=250_000, help="CSV rows (default 250,000)")
    parser.add_argument("--repeat", type=int, default=MIN_ROUNDS, help="runs per measurement")
    parser.add_argument("--edits", type=int, default=EDITS, help="edits timed per re-review run")
    parser.add_argument("--seed", type=int, default=None, help="data seed")
    parser.add_argument("--work", type=Path, default=None, help="data folder")
    parser.add_argument(
        "--frictionless-limit",
        type=float,
        default=FRICTIONLESS_FULL_LIMIT,
        help="seconds: above this estimate frictionless runs on a prefix and is scaled",
    )
    parser.add_argument(
        "--import-repeat",
        type=int,
        default=None,
        help="runs per import measurement (default: --repeat)",
    )
    parser.add_argument(
        "--postgres-url", default=PG_URL, help=f"PostgreSQL directory of the import ({PG_URL})"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL import")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run, of {', '.join(GROUPS)} (default: all)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md", help="report file")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return 0

    started = time.perf_counter()
    data = prepare_data(args.rows, args.seed, args.work)
    log_dir = data.work / "logs"
    log_dir.mkdir(exist_ok=True)
    repeat = max(1, args.repeat)
    import_repeat = max(1, args.import_repeat or repeat)
    postgres_url = None if args.no_postgres else args.postgres_url
    groups = tuple(group.strip() for group in args.only.split(",") if group.strip())
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"--only: no group {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    measurements = plan(data, args.edits, postgres_url, import_repeat, groups, repeat)
    postgres_note = "import: not run (--only)."
    if "import" in groups:
        postgres_note = prepare_import(measurements, data, log_dir, postgres_url)
    rounds = max(measurement.repeat or repeat for measurement in measurements.values())
    for index in range(rounds):
        for measurement in measurements.values():
            runs = measurement.repeat or repeat
            if index >= runs:
                continue
            progress = f"[{index + 1}/{runs}]"
            if measurement.key == "frictionless":
                run_frictionless(measurement, data, log_dir, progress, args.frictionless_limit)
            else:
                measurement.run(log_dir, progress)
    text, missed, unmeasured = report(measurements, data, repeat, environment(data), postgres_note)
    elapsed = time.perf_counter() - started
    text += f"- benchmark wall time: {elapsed:.0f} s\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# credkit benchmarks: latest run\n\n" + text)
    raw = {
        key: {"label": m.label, "runs": m.runs, "scale": m.scale} for key, m in measurements.items()
    }
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    print(text)
    if missed:
        banner = f"{len(missed)} TARGET(S) MISSED: " + "; ".join(missed)
        print("!" * len(banner) + "\n" + banner + "\n" + "!" * len(banner))
    elif unmeasured:
        print(f"The targets measured were met; {unmeasured} not measured in this run (n/a).")
    else:
        print("All targets met.")
    print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
