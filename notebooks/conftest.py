"""The runbooks run by nbval on a demo directory named through the environment, as `make lab`
does; the walkthroughs make their own throwaway demo and ignore it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from credkit.notebook.runbook import BASE_DIR_ENV
from tests.runbooks import runbook_environment

_setting: dict[str, str] = {}
_saved: dict[str, str | None] = {}


def _environment() -> dict[str, str]:
    if not _setting:
        base = Path(tempfile.mkdtemp(prefix="credkit-nbval-"))
        _setting.update(runbook_environment(base))
    return _setting


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the notebook's kernel starts (it starts with the first cell's setup)."""
    for name, value in _environment().items():
        _saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The rest of the session sees the environment it started with."""
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _setting:
        base = _setting.get(BASE_DIR_ENV)
        if base:
            shutil.rmtree(base, ignore_errors=True)
