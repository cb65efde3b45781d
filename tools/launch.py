"""Start JupyterLab (`make lab`) or Voilà (`make app`) on a directory, as operators use them.

Both open working copies of the runbooks (my-notebooks/, git-ignored, copied from notebooks/
when missing), so that JupyterLab's autosave never changes the tracked ones that `make test`
runs. The browser tests build their servers with the same functions.

    python tools/launch.py lab|app [sqlite:///demo/credkit.db] [-- extra server arguments]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
WORKING_COPIES = REPO / "my-notebooks"
CONFIG = REPO / "jupyter_server_config.py"
DEMO_URL = "sqlite:///demo/credkit.db"
#: What jupyter_server_config.py lets through the websocket, told to the wizard.
UPLOAD_LIMIT_MIB = "100"
#: The notebook JupyterLab opens, and the runbooks the app serves (no walkthroughs: they are code).
FIRST_NOTEBOOK = "import-credentials.ipynb"
APP_NOTEBOOKS = ("import-credentials.ipynb", "export-credentials.ipynb", "sync-with-verkada.ipynb")


def working_copies(source: Path = NOTEBOOKS, target: Path = WORKING_COPIES) -> list[Path]:
    """Copy each notebook of source missing from target; the ones copied now."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(source.glob("*.ipynb")):
        copy = target / notebook.name
        if not copy.exists():
            shutil.copyfile(notebook, copy)
            copied.append(copy)
    return copied


def environment(base: Path, database_url: str = DEMO_URL, *, app: bool = False) -> dict[str, str]:
    """What the runbooks read: the directory, the folder relative paths start from, the upload
    limit of the server (Voilà keeps Jupyter Server's default 10 MiB: it reads no
    jupyter_server_config.py; larger files go through the path box)."""
    return {
        "CREDKIT_DATABASE_URL": database_url,
        "CREDKIT_BASE_DIR": str(base),
        "CREDKIT_UPLOAD_LIMIT_MIB": "10" if app else UPLOAD_LIMIT_MIB,
    }


def _root_flag() -> list[str]:
    # JupyterLab and Voilà refuse to run as root unless told they may.
    return ["--allow-root"] if os.geteuid() == 0 else []


def lab_command(python: str, root: Path, notebook: str | None = None) -> list[str]:
    """JupyterLab serving root, with the repository's server configuration."""
    command = [python, "-m", "jupyterlab", f"--config={CONFIG}", f"--ServerApp.root_dir={root}"]
    return command + _root_flag() + ([notebook] if notebook else [])


def app_command(python: str, root: Path) -> list[str]:
    """Voilà serving the runbooks in root as apps: code hidden, no notebook to edit."""
    return [
        python,
        "-m",
        "voila",
        f"--Voila.root_dir={root}",
        "--strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
    ]  # Voilà runs as root without being told (it has no --allow-root)


def app_folder(source: Path = NOTEBOOKS, target: Path = WORKING_COPIES / "app") -> Path:
    """The folder Voilà serves: fresh copies of the runbooks meant as apps, nothing else."""
    target.mkdir(parents=True, exist_ok=True)
    for name in APP_NOTEBOOKS:
        shutil.copyfile(source / name, target / name)
    return target


def main(arguments: list[str]) -> None:
    if not arguments or arguments[0] not in ("lab", "app"):
        sys.exit(__doc__)
    kind, rest = arguments[0], arguments[1:]
    extra = rest[rest.index("--") + 1 :] if "--" in rest else []
    given = rest[: rest.index("--")] if "--" in rest else rest
    url = given[0] if given else DEMO_URL
    for copy in working_copies():
        print(f"working copy: {copy.relative_to(REPO)}")
    os.environ.update(environment(REPO, url, app=kind == "app"))
    if kind == "lab":
        notebook = str((WORKING_COPIES / FIRST_NOTEBOOK).relative_to(REPO))
        command = lab_command(sys.executable, REPO, notebook)
    else:
        command = app_command(sys.executable, app_folder())
    os.chdir(REPO)
    os.execv(sys.executable, command + extra)


if __name__ == "__main__":
    main(sys.argv[1:])
