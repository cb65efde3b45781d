"""The directory read a review needs, cold and warm: sqlite3 fetch, SQLAlchemy, ADBC, and the
snapshot (its file, and memory), medians of alternating rounds in one process.

Run: ``.venv/bin/python benchmarks/snapshot.py [--rows 250000] [--rounds 7] [--work DIR]``
(the data is benchmarks/data.py's directory: ``rows * 2 / 5`` users, ``rows`` credentials).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from benchmarks.data import WORK, dataset, ensure  # noqa: E402
from credkit import snapshot  # noqa: E402
from credkit.directory import Directory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args()
    data = dataset(args.rows, work=args.work)
    ensure(data, log=lambda *_: None)
    directory = Directory(data.url, create=False)

    def sqlite3_fetch() -> None:
        with sqlite3.connect(data.db) as conn:
            pd.DataFrame(conn.execute(snapshot._USERS_SQL).fetchall(), dtype=object)
            pd.DataFrame(conn.execute(snapshot._CREDENTIALS_SQL).fetchall(), dtype=object)
        conn.close()

    def sqlalchemy_read() -> None:
        snapshot._read_sqlalchemy(directory)

    def adbc_read() -> None:
        # Measured only: credkit does not read SQLite through ADBC (see snapshot._read_adbc).
        import adbc_driver_sqlite.dbapi as adbc

        with adbc.connect(f"file:{data.db}?mode=ro") as conn, conn.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
            cursor.execute(snapshot._USERS_SQL)
            cursor.fetch_arrow_table()
            cursor.execute(snapshot._CREDENTIALS_SQL)
            cursor.fetch_arrow_table()

    def cold() -> None:  # what a first review does: generation, read, frames, file
        snapshot._MEMORY.clear()
        for path in data.db.parent.glob(f".{data.db.name}.*.snapshot"):
            path.unlink()
        snapshot.current_snapshot(directory)

    def warm_file() -> None:  # a new process: generation, the file
        snapshot._MEMORY.clear()
        snapshot.current_snapshot(directory)

    def warm_memory() -> None:  # a re-review in the process: generation only
        snapshot.current_snapshot(directory)

    cases = {
        "sqlite3 fetchall (raw rows)": sqlite3_fetch,
        "SQLAlchemy engine -> Arrow": sqlalchemy_read,
        "ADBC sqlite -> Arrow (not used by credkit)": adbc_read,
        "cold review read (sqlite3, frames, file written)": cold,
        "warm, new process (snapshot file)": warm_file,
        "warm, same process (memory)": warm_memory,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    print(f"{data.users:,} users, {data.credentials:,} credentials; medians of {args.rounds}")
    for name, values in times.items():
        print(f"  {name:48s} {statistics.median(values):8.3f} s")
    print("reads:", dict(snapshot.READS))
    directory.dispose()


if __name__ == "__main__":
    main()
