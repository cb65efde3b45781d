"""Profile one execute_import of the import benchmark with cProfile: credkit's hot spots.

    .venv/bin/python benchmarks/profile_import.py [--rows N] [--top 15] [--all] [--sort tottime]

Uses the data run.py uses (made by data.py if missing): a fresh copy of the users-only directory
(made here the way run.py makes it), the import CSV reviewed and planned first (not profiled),
then execute_import alone under cProfile. Prints the top functions, credkit's own only unless
``--all``, and saves the whole profile to ``benchmarks/results/import.prof`` (open with
``python -m pstats`` or snakeviz).
"""

from __future__ import annotations

import cProfile
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data as benchdata  # noqa: E402
import profiling  # noqa: E402
import run as benchrun  # noqa: E402

from credkit.directory import Directory  # noqa: E402
from credkit.importer import execute_import, plan_import  # noqa: E402
from credkit.review import review_file  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    args = profiling.options(__doc__.splitlines()[0], "import.prof").parse_args(argv)
    data = benchdata.dataset(args.rows)
    benchdata.ensure(data)
    template = data.work / "import-users.db"
    db = data.work / "import-profile.db"
    benchrun.child_import_template({"template": str(template), "source": str(data.db)})
    benchrun._fresh_sqlite(str(template), str(db))
    directory = Directory(f"sqlite:///{db}")
    started = time.perf_counter()
    plan = plan_import(review_file(data.import_csv, directory))
    print(f"review and plan (not profiled): {time.perf_counter() - started:.2f} s")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    result = execute_import(plan, directory, operator="bench")
    profiler.disable()
    print(
        f"execute_import of {data.import_rows:,} rows: {time.perf_counter() - started:.2f} s "
        f"under cProfile; outcomes {result.counts()}"
    )
    directory.dispose()
    profiling.report(profiler, args)


if __name__ == "__main__":
    main()
