"""What every part of one running local cloud shares.

moto's backends have almost no locks, and the local cloud adds threads of its own (health
checker, queue pollers, replication). Every read-modify-write of a backend therefore happens
under ``LOCK``: the HTTP front holds it for each moto request, background parts hold it while
they touch backends and never while they wait for something else (a Lambda worker, a probe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from moto.core import DEFAULT_ACCOUNT_ID

from .config import Config

LOCK = threading.RLock()

log = logging.getLogger("localcloud")


class Component(Protocol):
    """A background part of the local cloud (a poller, a checker, a server)."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reset(self) -> None:
        """Forget all state; called after moto's backends were reset."""

    def status(self) -> dict[str, Any]: ...


class Runtime:
    """The settings and components of the running local cloud."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.started_at = time.time()
        self.components: dict[str, Component] = {}
        self._reset_hooks: list[Any] = []

    def add(self, component: Component) -> Component:
        self.components[component.name] = component
        return component

    def get(self, name: str) -> Any:
        return self.components[name]

    def on_reset(self, hook: Any) -> None:
        """Register a callable run after every reset (for module-level caches)."""
        self._reset_hooks.append(hook)

    def start(self) -> None:
        for component in self.components.values():
            component.start()

    def stop(self) -> None:
        for component in reversed(list(self.components.values())):
            try:
                component.stop()
            except Exception:  # a failing component must not keep the others running
                log.exception("stopping %s failed", component.name)

    def reset(self) -> None:
        for component in self.components.values():
            component.reset()
        for hook in self._reset_hooks:
            hook()

    def scaled(self, seconds: float) -> float:
        """A health-check interval in wall-clock seconds under the time scale."""
        return seconds * self.config.time_scale


# The one runtime of this process; set by the server on start.
_CURRENT: Runtime | None = None


def current() -> Runtime:
    if _CURRENT is None:
        raise RuntimeError("the local cloud runtime is not started")
    return _CURRENT


def set_current(runtime: Runtime | None) -> None:
    global _CURRENT
    _CURRENT = runtime


def account_ids(backend_dict: Any) -> list[str]:
    """Accounts that have state in a moto BackendDict (the default one first)."""
    ids = list(backend_dict.keys())
    if DEFAULT_ACCOUNT_ID in ids:
        ids.remove(DEFAULT_ACCOUNT_ID)
        ids.insert(0, DEFAULT_ACCOUNT_ID)
    return ids


def regional_backends(backend_dict: Any) -> Iterator[tuple[str, str, Any]]:
    """(account, region, backend) for every region that already has state.

    Iterates over copies: regions and accounts appear lazily while requests run.
    """
    for account_id in account_ids(backend_dict):
        per_region = backend_dict[account_id]
        for region in list(per_region.keys()):
            yield account_id, region, per_region[region]
