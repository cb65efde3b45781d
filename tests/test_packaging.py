"""The project's packaging stays consistent: environment.yml mirrors pyproject.toml."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_EXTRAS = ("notebook", "postgres", "verkada", "dev")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = list(project["dependencies"])
    for extra in CONDA_EXTRAS:
        expected += project["optional-dependencies"][extra]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip_section,) = [item for item in environment["dependencies"] if isinstance(item, dict)]
    assert sorted(pip_section["pip"]) == sorted(expected)


def test_python_version_agrees() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    minimum = project["requires-python"].removeprefix(">=")
    assert f"python>={minimum}" in environment["dependencies"]


def test_every_public_name_resolves() -> None:
    import credkit

    for name in credkit.__all__:
        assert getattr(credkit, name) is not None, name
    assert set(credkit.__all__) <= set(dir(credkit))


def test_the_command_line_imports_its_heavy_modules_only_when_a_command_needs_them() -> None:
    heavy = ["pandas", "sqlalchemy", "pandera", "tqdm", "pyarrow"]
    assert _loaded_by("import credkit, credkit.cli", heavy) == []


def test_a_review_never_imports_pandera() -> None:
    """The review runs CredentialRow's checks as Arrow kernels; pandera, a quarter of a second
    of every `credkit review`, is imported only by whoever asks for the model."""
    assert _loaded_by("import credkit.review, credkit.importer, credkit.cli", ["pandera"]) == []


def test_the_review_runs_the_checks_the_pandera_model_declares() -> None:
    from credkit.rules import CredentialRow
    from credkit.rules.fields import COLUMN_CHECKS

    declared = {
        name: tuple(check.name for check in column.checks)
        for name, column in CredentialRow.to_schema().columns.items()
    }
    assert declared == COLUMN_CHECKS


def _loaded_by(imports: str, modules: list[str]) -> list[str]:
    """Which of modules a fresh interpreter has loaded once it has run the import statement."""
    code = f"import sys; {imports}; print(sorted(m for m in {modules!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    return ast.literal_eval(loaded)
