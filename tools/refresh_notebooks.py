"""Run every runbook in notebooks/ and store its outputs, ready for nbval (`make notebooks`).

Outputs that nbval is told to ignore (live widgets) and the saved widget state are dropped:
they hold random model ids that would change the file on every run for nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
IGNORE_MARK = "NBVAL_IGNORE_OUTPUT"


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute(cwd=str(NOTEBOOKS.parent))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
            if IGNORE_MARK in cell.source:
                cell.outputs = []
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(names: list[str]) -> None:
    paths = [NOTEBOOKS / name for name in names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name}")
        refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
