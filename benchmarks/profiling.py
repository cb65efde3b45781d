"""What profile_review.py and profile_import.py share: their options and how they report."""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from pathlib import Path

import data as benchdata

RESULTS = Path(__file__).resolve().parent / "results"


def options(description: str, profile_name: str) -> argparse.ArgumentParser:
    """The options both profilers take; the profile is saved as results/<profile_name>."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=benchdata.DEFAULT_ROWS)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--all", action="store_true", help="not only credkit's functions")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (or tottime)")
    parser.add_argument("--out", type=Path, default=RESULTS / profile_name)
    return parser


def report(profiler: cProfile.Profile, args: argparse.Namespace) -> None:
    """Save the whole profile to args.out and print its top functions (credkit's own only,
    unless --all)."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(args.out)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats(args.sort)
    stats.print_stats(*([] if args.all else [r"credkit[/\\]"]), args.top)
    print(stream.getvalue())
