"""The setting the runbooks run in under test: a demo directory named as `make lab` names it."""

from __future__ import annotations

from pathlib import Path

from credkit.defaults import DATABASE_URL_ENV
from credkit.demo import create_demo
from credkit.directory import Directory
from credkit.notebook.runbook import BASE_DIR_ENV, THROWAWAY_TIME

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
RUNBOOK_USERS = 200
#: The URL as `make lab` writes it: relative to the base folder, so no machine path is shown.
RUNBOOK_URL = "sqlite:///demo/credkit.db"


def runbook_environment(base: Path) -> dict[str, str]:
    """Make the demo directory under base/demo; the variables that point a runbook at it."""
    folder = base / "demo"
    directory = Directory(f"sqlite:///{folder / 'credkit.db'}")
    create_demo(directory, folder, user_count=RUNBOOK_USERS, modified=THROWAWAY_TIME)
    directory.dispose()
    return {DATABASE_URL_ENV: RUNBOOK_URL, BASE_DIR_ENV: str(base)}


def is_walkthrough(notebook: Path) -> bool:
    """Walkthroughs (library code on a throwaway demo) are named walkthrough-*.ipynb."""
    return notebook.name.startswith("walkthrough-")
