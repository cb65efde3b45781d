"""Modules and names imported on first use, so that a command pays only for what it runs."""

from __future__ import annotations

from importlib import import_module
from typing import Any


class LazyModule:
    """A module imported on the first attribute looked up on it (``sa.exc`` imports SQLAlchemy).

    Unlike importlib.util.LazyLoader it leaves sys.modules alone: every other import of the
    module is an ordinary one.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


class LazyName:
    """A module's attribute (a class or a function) imported when first called or inspected."""

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name

    def resolve(self) -> Any:
        return getattr(import_module(self._module), self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.resolve(), attribute)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self.resolve())

    def __repr__(self) -> str:
        return f"<lazy {self._module}.{self._name}>"


def lazy_module(name: str) -> Any:
    """The module called name, imported when first used (typed Any: use it like the module)."""
    return LazyModule(name)


def lazy_name(module: str, name: str) -> Any:
    """module.name, imported when first called or looked into."""
    return LazyName(module, name)
