"""The job broker: Redis when a URL is given, otherwise an in-process stub broker.

Actors are declared at import time with `actor` below, before anyone knows which
broker the process will use; `install` binds every declared actor to the chosen
broker. A process calls `install` once, from the composition root, before it sends
or consumes a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

F = TypeVar("F", bound=Callable[..., Any])

_ACTORS: list[dramatiq.Actor[Any, Any]] = []
# Declared actors wait here until `install` moves them to the real broker.
_PENDING = StubBroker()
# The broker `install` chose; actors declared after it (a module imported late) bind to it at once.
_INSTALLED: dramatiq.Broker | None = None


def actor(**options: Any) -> Callable[[Callable[..., Any]], dramatiq.Actor[Any, Any]]:
    """Declare a dramatiq actor (same options as `dramatiq.actor`), bound at `install`."""

    def declare(fn: Callable[..., Any]) -> dramatiq.Actor[Any, Any]:
        broker = _INSTALLED if _INSTALLED is not None else _PENDING
        declared: dramatiq.Actor[Any, Any] = dramatiq.actor(broker=broker, **options)(fn)
        _ACTORS.append(declared)
        return declared

    return declare


def install(redis_url: str | None, *, namespace: str = "timeledger") -> dramatiq.Broker:
    """Make the process's broker and bind every declared actor to it.

    `namespace` keeps the queues of separate installations (or test sessions)
    on one Redis apart.
    """
    global _INSTALLED  # one broker per process, chosen by the composition root
    broker: dramatiq.Broker
    if redis_url:
        broker = RedisBroker(url=redis_url, namespace=namespace)  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    _INSTALLED = broker
    for declared in _ACTORS:
        declared.broker = broker
        broker.declare_actor(declared)
    return broker


def declared_actors() -> list[dramatiq.Actor[Any, Any]]:
    return list(_ACTORS)


def close(broker: dramatiq.Broker) -> None:
    """Close the broker's connections (a Redis broker keeps a pool open otherwise)."""
    broker.close()
    if isinstance(broker, RedisBroker):
        broker.client.close()
        broker.client.connection_pool.disconnect()
