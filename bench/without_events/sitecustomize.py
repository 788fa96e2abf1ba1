"""The event layer off, for ``bench/cycle.py --without-events`` only (issue 26 asks that
events have no effect on the first-cycle ratio beyond noise: this measures their share).

cycle.py puts this directory on PYTHONPATH, so pantau, its parse workers and the floor all
import this module at start-up; only a process that then imports pantau's ingest or prepare
modules is changed: stories get no event (``assign_events`` decides nothing) and the
workers compute no event signature. Not a product mode: ``pantau events`` and the alerts
per event are meaningless in such a database.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any


def _replace(module: ModuleType, name: str, value: object) -> None:
    """Fails loudly where the name is gone (a rename would otherwise leave the layer on and
    the measurement silently wrong)."""
    if not callable(getattr(module, name, None)):
        raise RuntimeError(f"bench/without_events: {module.__name__}.{name} is gone")
    setattr(module, name, value)


def _patch(module: ModuleType) -> None:
    if module.__name__ == "daemon.pipeline.prepare":
        _replace(module, "signature", lambda doc, texts=None, fp=None: None)
    elif module.__name__ == "daemon.pipeline.ingest":
        assigned = module.eventing.Assigned
        _replace(module, "assign_events", lambda *args, **kwargs: assigned())


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    NAMES = ("daemon.pipeline.prepare", "daemon.pipeline.ingest")

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.NAMES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


sys.meta_path.insert(0, _Finder())
