"""The review's time as a multiple of pandas' pyarrow read of the same file (warm, in process).

    .venv/bin/python benchmarks/review_ratio.py [--rows N] [--repeat 7] [--work DIR]

Alternates the read and the review, ``--repeat`` rounds each, and prints both medians and the
ratio; the directory is the benchmark's SQLite directory (made by data.py if missing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import data as benchdata  # noqa: E402
import pandas as pd  # noqa: E402

from credkit.directory import Directory  # noqa: E402
from credkit.review import review_file  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--work", type=Path, default=benchdata.WORK)
    args = parser.parse_args(argv)
    data = benchdata.dataset(args.rows, work=args.work)
    benchdata.ensure(data)
    directory = Directory(data.url)
    review_file(data.csv, directory)  # warm: imports, caches, the SQLite pages
    reads, reviews = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        pd.read_csv(data.csv, dtype=str, keep_default_na=False, engine="pyarrow")
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        review_file(data.csv, directory)
        reviews.append(time.perf_counter() - started)
    read, review = statistics.median(reads), statistics.median(reviews)
    print(f"{data.rows:,} rows: read {read:.3f} s, review {review:.3f} s, {review / read:.1f}x")


if __name__ == "__main__":
    main()
