"""Profile one full review of the benchmark CSV with cProfile: the hot spots in credkit's code.

    .venv/bin/python benchmarks/profile_review.py [--rows N] [--top 15] [--all] [--sort tottime]

Uses the data run.py uses (made by data.py if missing). Prints the top functions by cumulative
time, credkit's own only unless ``--all``, and saves the whole profile to
``benchmarks/results/review.prof`` (open with ``python -m pstats`` or snakeviz).
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

from credkit.directory import Directory  # noqa: E402
from credkit.review import review_file  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    args = profiling.options(__doc__.splitlines()[0], "review.prof").parse_args(argv)
    data = benchdata.dataset(args.rows)
    benchdata.ensure(data)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    review_file(data.csv, Directory(data.url))
    profiler.disable()
    print(f"review of {data.rows:,} rows: {time.perf_counter() - started:.2f} s under cProfile")
    profiling.report(profiler, args)


if __name__ == "__main__":
    main()
