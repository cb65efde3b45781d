"""credkit's benchmarks: speed and memory of review, re-review and export, against baselines.

Every measurement runs in a fresh subprocess (``run.py --child ...``), so that its peak RSS is its
own. Seconds are timed inside the child around the operation only (imports and setup excluded);
peak RSS is the child's whole-process high-water mark (``ru_maxrss``), which the parent reads
from ``os.wait4`` on exactly that child. Each measurement is repeated (``--repeat``, default 3),
round-robin so that the machine's noise falls on all of them alike, and the median is reported.
Every target is a ratio against a baseline measured in the same run.

    .venv/bin/python benchmarks/run.py                 # full size: 250,000 rows, ~3 minutes
    .venv/bin/python benchmarks/run.py --rows 20000    # a quick check

Prints the tables and writes them to ``benchmarks/results/latest.md`` (raw numbers in
``latest.json``). A missed target prints MISS but does not change the exit status: this is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import filecmp
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

#: The credential CSV's columns (credkit.columns.HEADERS, checked by the parent), spelled out
#: here so that the raw export baseline does not import credkit (and pandas) at all.
HEADERS = [
    "First Name",
    "Last Name",
    "User ID",
    "External ID",
    "Employee ID",
    "Email",
    "Card Type",
    "Facility Code",
    "Card Number",
    "Card Number Hex",
    "License Plate",
    "Entry Code",
    "Credential Status",
    "Modified",
]

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

TARGETS = {
    "review_vs_read": 5.0,  # full review <= 5x the pyarrow read
    "frictionless_vs_review": 8.0,  # frictionless >= 8x the full review
    "review_vs_edit": 50.0,  # re-review of one row <= 1/50 of a full review
    "review_rss_mb": 800.0,  # peak RSS of the review
    "export_rss_growth": 1.10,  # peak RSS exporting N credentials <= 1.10x exporting N/5
}


# --------------------------------------------------------------------------------------------
# The child: one measurement, its result as JSON on stdout
# --------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    """This process's peak RSS so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_read(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    before = _rss_mb()
    started = time.perf_counter()
    frame = pd.read_csv(spec["csv"], dtype=str, engine="pyarrow", keep_default_na=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_before_mb": before, "rows": len(frame)}


def child_review(spec: dict[str, Any]) -> dict[str, Any]:
    from credkit.columns import HEADERS as CREDKIT_HEADERS
    from credkit.directory import Directory
    from credkit.review import review_file

    assert HEADERS == CREDKIT_HEADERS, "run.py's HEADERS must match credkit.columns.HEADERS"
    before = _rss_mb()
    started = time.perf_counter()
    review = review_file(spec["csv"], Directory(spec["url"]))
    seconds = time.perf_counter() - started
    summary = review.summary()
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "rows": summary["rows"],
        "rows_with_errors": summary["rows_with_errors"],
        "errors": summary["errors"],
        "warnings": summary["warnings"],
        "by_code": summary["by_code"],
    }


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


def frictionless_schema() -> Any:
    from frictionless import Schema

    fields = []
    for header in HEADERS:
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
    schema = frictionless_schema()
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
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(HEADERS)
            while batch := cursor.fetchmany(5_000):
                writer.writerows(batch)
                count += len(batch)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_before_mb": before, "rows": count}


CHILDREN = {
    "read": child_read,
    "review": child_review,
    "edit": child_edit,
    "frictionless": child_frictionless,
    "export": child_export,
    "export_raw": child_export_raw,
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


class Measurement:
    """One named measurement: its task, its input, and the results of its runs."""

    def __init__(self, key: str, label: str, task: str, spec: dict[str, Any], what: str) -> None:
        self.key, self.label, self.task, self.spec, self.what = key, label, task, spec, what
        self.runs: list[dict[str, Any]] = []
        self.scale = 1.0  # frictionless on a prefix: times are multiplied by this
        self.note = ""

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
        result = run_child(self.task, self.spec, log_dir / f"{self.key}.stderr")
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


def plan(data: Data, edits: int) -> dict[str, Measurement]:
    work = data.work
    rows = f"{data.rows:,} rows"
    full, small = f"{data.credentials:,} credentials", f"{data.small_credentials:,} credentials"
    csv_spec = {"csv": str(data.csv), "url": data.url}
    found = [
        Measurement("read", "a. baseline: pandas.read_csv, pyarrow engine", "read", csv_spec, rows),
        Measurement("review", "b. full review: review_file", "review", csv_spec, rows),
        Measurement(
            "edit",
            "c. re-review of one edited row: review.edit",
            "edit",
            csv_spec | {"edits": edits},
            f"{rows}, median of {edits} edits",
        ),
        Measurement(
            "frictionless",
            "d. peer baseline: frictionless validate",
            "frictionless",
            {"path": str(data.csv), "rows": data.rows},
            rows,
        ),
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
            {"db": str(data.db), "out": str(work / "export-raw.csv")},
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
            {"db": str(data.small_db), "out": str(work / "export-raw-small.csv")},
            small,
        ),
    ]
    return {measurement.key: measurement for measurement in found}


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
    """(target, measured, limit, verdict) per target; None-safe when a measurement failed."""
    read, review, edit = m["read"].median, m["review"].median, m["edit"].median
    peer, export, raw = m["frictionless"].median, m["export"].median, m["export_raw"].median
    rss, rss_big, rss_small = m["review"].rss, m["export"].rss, m["export_small"].rss
    out = []

    def both(a: float | None, b: float | None) -> bool:
        return a is not None and b is not None

    value = review / read if both(review, read) else None
    out.append(
        (
            "full review <= 5x the pyarrow read",
            f"{review or 0:.2f} s / {read or 0:.2f} s = {ratio_text(value)}",
            f"<= {TARGETS['review_vs_read']:g}x",
            verdict(None if value is None else value <= TARGETS["review_vs_read"]),
        )
    )
    value = peer / review if both(peer, review) else None
    out.append(
        (
            "full review >= 8x faster than frictionless",
            f"frictionless{' (scaled)' if m['frictionless'].scale != 1 else ''} {peer or 0:.2f} s"
            f" / review {review or 0:.2f} s = {ratio_text(value, 2)}",
            f">= {TARGETS['frictionless_vs_review']:g}x",
            verdict(None if value is None else value >= TARGETS["frictionless_vs_review"]),
        )
    )
    value = review / edit if both(review, edit) else None
    out.append(
        (
            "re-review of one row <= 1/50 of a full review",
            f"{edit or 0:.3f} s vs {review or 0:.2f} s = 1/{value or 0:.0f}",
            f"<= 1/{TARGETS['review_vs_edit']:g}",
            verdict(None if value is None else value >= TARGETS["review_vs_edit"]),
        )
    )
    out.append(
        (
            "peak RSS of the full review <= 800 MB",
            f"{rss or 0:.0f} MB",
            f"<= {TARGETS['review_rss_mb']:g} MB",
            verdict(None if rss is None else rss <= TARGETS["review_rss_mb"]),
        )
    )
    value = rss_big / rss_small if both(rss_big, rss_small) else None
    out.append(
        (
            "export memory is bounded: peak RSS at full size vs 1/5 size",
            f"{rss_big or 0:.0f} MB vs {rss_small or 0:.0f} MB = {ratio_text(value, 2)}",
            f"<= {TARGETS['export_rss_growth']:g}x",
            verdict(None if value is None else value <= TARGETS["export_rss_growth"]),
        )
    )
    value = export / raw if both(export, raw) else None
    out.append(
        (
            "export time vs raw sqlite3 + csv.writer (informational)",
            f"{export or 0:.2f} s / {raw or 0:.2f} s = {ratio_text(value)}",
            "no target",
            "info",
        )
    )
    return out


def report(
    m: dict[str, Measurement], data: Data, repeat: int, env: dict[str, str]
) -> tuple[str, list[str]]:
    lines = [
        "## Measurements",
        "",
        f"{data.rows:,}-row credential CSV ({data.csv.stat().st_size / 1e6:.1f} MB); directory of "
        f"{data.users:,} users and {data.credentials:,} credentials (SQLite). Median of {repeat} "
        "runs, each in a fresh subprocess; peak RSS from `os.wait4` (the child's `ru_maxrss`).",
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
    edit_runs = m["edit"].ok_runs
    if edit_runs:
        every = sorted(t for run in edit_runs for t in run["edits"])
        builds = statistics.median(run["build_seconds"] for run in edit_runs)
        lines += [
            "",
            f"Re-review: {len(every)} edits in all, {every[0]:.3f}-{every[-1]:.3f} s each; "
            f"building the review they edit (not timed) took {builds:.2f} s (median).",
        ]
    if m["frictionless"].note.startswith("prefix"):
        lines += ["", f"frictionless: {m['frictionless'].note[len('prefix: ') :]}."]
    big, raw = Path(m["export"].spec["out"]), Path(m["export_raw"].spec["out"])
    if big.exists() and raw.exists():
        same = "byte-identical to" if filecmp.cmp(big, raw, shallow=False) else "DIFFERENT from"
        lines += ["", f"The export's file is {same} the raw baseline's."]
    lines += ["", "## Targets", "", "| target | measured | limit | result |", "|---|---|---|---|"]
    rows = targets(m)
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    missed = [name for name, _, _, result in rows if "MISS" in result]
    review_runs = m["review"].ok_runs
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
    peer_runs = m["frictionless"].ok_runs
    if peer_runs:
        errors = ", ".join(f"{k} {v:,}" for k, v in peer_runs[0]["errors"].items()) or "none"
        lines += ["", f"frictionless reported: {errors}."]
    lines += ["", "## Environment", ""]
    lines += [f"- {name}: {value}" for name, value in env.items()]
    return "\n".join(lines) + "\n", missed


def environment(data: Data) -> dict[str, str]:
    from importlib.metadata import version

    packages = ["pandas", "pyarrow", "pandera", "numpy", "SQLAlchemy", "frictionless"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "packages": ", ".join(f"{name} {version(name)}" for name in packages),
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
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (>= 1)")
    parser.add_argument("--edits", type=int, default=EDITS, help="edits timed per re-review run")
    parser.add_argument("--seed", type=int, default=None, help="data seed")
    parser.add_argument("--work", type=Path, default=None, help="data folder")
    parser.add_argument(
        "--frictionless-limit",
        type=float,
        default=FRICTIONLESS_FULL_LIMIT,
        help="seconds: above this estimate frictionless runs on a prefix and is scaled",
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
    measurements = plan(data, args.edits)
    repeat = max(1, args.repeat)
    for index in range(repeat):
        for measurement in measurements.values():
            progress = f"[{index + 1}/{repeat}]"
            if measurement.key == "frictionless":
                run_frictionless(measurement, data, log_dir, progress, args.frictionless_limit)
            else:
                measurement.run(log_dir, progress)
    text, missed = report(measurements, data, repeat, environment(data))
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
    else:
        print("All targets met.")
    print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
