"""Run every notebook in notebooks/ and store its outputs, ready for nbval (`make notebooks`).

They run as nbval runs them: in notebooks/, the runbooks on a demo directory named through
the environment (tests/runbooks.py). Outputs that nbval is told to ignore (live widgets) and
the saved widget state are dropped: they hold random model ids that would change the file on
every run for nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.runbooks import NOTEBOOKS, runbook_environment  # noqa: E402

IGNORE_MARK = "NBVAL_IGNORE_OUTPUT"


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3").execute(cwd=str(NOTEBOOKS))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
            if IGNORE_MARK in cell.source:
                cell.outputs = []
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(names: list[str]) -> None:
    paths = [NOTEBOOKS / name for name in names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    base = Path(tempfile.mkdtemp(prefix="credkit-notebooks-"))
    try:
        os.environ.update(runbook_environment(base))  # the kernels inherit it
        for path in paths:
            print(f"running {path.name}")
            refresh(path)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
