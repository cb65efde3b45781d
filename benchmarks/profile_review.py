"""Profile one full review of the benchmark CSV with cProfile: the hot spots in credkit's code.

    .venv/bin/python benchmarks/profile_review.py [--rows N] [--top 15] [--all]

Uses the data run.py uses (made by data.py if missing). Prints the top functions by cumulative
time, credkit's own only unless ``--all``, and saves the whole profile to
``benchmarks/results/review.prof`` (open with ``python -m pstats`` or snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data as benchdata  # noqa: E402

from credkit.directory import Directory  # noqa: E402
from credkit.review import review_file  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=benchdata.DEFAULT_ROWS)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--all", action="store_true", help="not only credkit's functions")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "review.prof")
    args = parser.parse_args(argv)
    data = benchdata.dataset(args.rows)
    benchdata.ensure(data)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    review_file(data.csv, Directory(data.url))
    profiler.disable()
    print(f"review of {data.rows:,} rows: {time.perf_counter() - started:.2f} s under cProfile")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(args.out)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(*([] if args.all else [r"credkit[/\\]"]), args.top)
    print(stream.getvalue())


if __name__ == "__main__":
    main()
