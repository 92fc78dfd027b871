"""The object store: dicts by (namespace, name) per resource, one global resourceVersion
counter like etcd's, a bounded event history for watches that resume, and live watchers."""

from __future__ import annotations

import asyncio
import builtins
import copy
import datetime as dt
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


def now_rfc3339(t: dt.datetime | None = None) -> str:
    t = t or dt.datetime.now(dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    rv: int
    key: str  # store key, e.g. "pods" or "deployments.apps"
    type: str  # ADDED | MODIFIED | DELETED
    object: JSON


class Gone(Exception):
    """The requested resourceVersion is older than the kept history."""


@dataclass(eq=False)
class Watcher:
    key: str
    namespace: str | None
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(10_000))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A watcher that cannot keep up is cut off, as the apiserver does.
            self.overflowed = True
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)


def meta_key(obj: JSON) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


Listener = Callable[[Event], None]


class Store:
    def __init__(self, history: int = 1000, uid_seed: int = 1) -> None:
        self._objects: dict[str, dict[tuple[str, str], JSON]] = {}
        self.rv = 100  # a fresh etcd is never at 0; keeps numbers realistic
        self.history: deque[Event] = deque(maxlen=history)
        self.watchers: set[Watcher] = set()
        self.listeners: list[Listener] = []
        self._uid_counter = 0
        self._uid_ns = uuid.UUID(int=uid_seed)

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str, namespace: str, name: str) -> JSON | None:
        return self._objects.get(key, {}).get((namespace, name))

    def list(self, key: str, namespace: str | None = None) -> list[JSON]:
        items = self._objects.get(key, {})
        keys = sorted(k for k in items if namespace is None or k[0] == namespace)
        return [items[k] for k in keys]

    def keys(self) -> builtins.list[str]:
        return list(self._objects)

    # -- writing -------------------------------------------------------------------------
    def new_uid(self) -> str:
        self._uid_counter += 1
        return str(uuid.uuid5(self._uid_ns, str(self._uid_counter)))

    def _bump(self, obj: JSON) -> int:
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        return self.rv

    def add(self, key: str, obj: JSON, *, created: dt.datetime | None = None) -> JSON:
        """Store a new object: stamps uid, creationTimestamp, resourceVersion."""
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", self.new_uid())
        meta.setdefault("creationTimestamp", now_rfc3339(created))
        self._bump(obj)
        self._objects.setdefault(key, {})[meta_key(obj)] = obj
        self._emit(Event(self.rv, key, "ADDED", obj))
        return obj

    def replace(self, key: str, obj: JSON) -> JSON:
        self._bump(obj)
        self._objects.setdefault(key, {})[meta_key(obj)] = obj
        self._emit(Event(self.rv, key, "MODIFIED", obj))
        return obj

    def remove(self, key: str, namespace: str, name: str) -> JSON | None:
        obj = self._objects.get(key, {}).pop((namespace, name), None)
        if obj is None:
            return None
        self._bump(obj)
        self._emit(Event(self.rv, key, "DELETED", obj))
        return obj

    def _emit(self, event: Event) -> None:
        # The history keeps a snapshot: later in-place changes must not rewrite the past.
        snap = Event(event.rv, event.key, event.type, copy.deepcopy(event.object))
        self.history.append(snap)
        for w in list(self.watchers):
            if w.key == snap.key and (
                w.namespace is None or w.namespace == meta_key(snap.object)[0]
            ):
                w.offer(snap)
        for listener in list(self.listeners):
            listener(snap)

    # -- watching ------------------------------------------------------------------------
    def events_since(self, key: str, rv: int, namespace: str | None = None) -> builtins.list[Event]:
        """Events for `key` after `rv`, or Gone when the history no longer reaches back."""
        if rv >= self.rv:
            return []
        oldest = self.history[0].rv if self.history else self.rv + 1
        if rv < oldest - 1:
            raise Gone(rv)
        return [
            e
            for e in self.history
            if e.rv > rv
            and e.key == key
            and (namespace is None or meta_key(e.object)[0] == namespace)
        ]

    def subscribe(self, key: str, namespace: str | None) -> Watcher:
        w = Watcher(key, namespace)
        self.watchers.add(w)
        return w

    def unsubscribe(self, w: Watcher) -> None:
        self.watchers.discard(w)
