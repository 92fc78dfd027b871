"""Kubeconfig files changed on disk while serving: reload the registry, keep live streams.

A poll of the files' stamps (mtime, size, inode: editors that write a new file and rename
it change the inode) every `settings.kubeconfig_poll` seconds; a change is acted on once
the stamp has held still for one poll, so a half-written file is not loaded. A context
whose spec is unchanged keeps its `Cluster` object — its pooled session, learned strategy,
cached credentials and every stream open on it. Added contexts appear, removed ones stop
answering new requests (404), changed ones get a fresh `Cluster` for new requests; the
replaced objects are closed only at shutdown so that streams already open on them go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubelantern.clusters.cluster import Cluster
from kubelantern.clusters.probe import Prober
from kubelantern.clusters.registry import Registry, load_registry
from kubelantern.observe.logfilter import UNLIMITED
from kubelantern.settings import Settings

log = logging.getLogger("kubelantern.reload")

Stamp = tuple[tuple[str, int, int, int] | tuple[str], ...]


def watched_files(
    settings: Settings, env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[Path]:
    """The kubeconfig files kubelantern read, in the order kubectl would: the flags, else
    $KUBECONFIG, else ~/.kube/config."""
    if settings.kubeconfigs:
        return [Path(p).expanduser() for p in settings.kubeconfigs]
    env = os.environ if env is None else env
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return listed
    return [(Path.home() if home is None else home) / ".kube" / "config"]


def stamp(paths: Sequence[Path]) -> Stamp:
    out: list[tuple[str, int, int, int] | tuple[str]] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append((str(path),))  # missing (or unreadable) is a state too
        else:
            out.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


@dataclass
class Merged:
    clusters: dict[str, Cluster]
    kept: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retired: list[Cluster] = field(default_factory=list)  # live objects no longer served
    unused: list[Cluster] = field(default_factory=list)  # fresh objects not taken


def merge(live: Mapping[str, Cluster], fresh: Mapping[str, Cluster]) -> Merged:
    """*Pure*: the clusters to serve after a reload; unchanged ones keep their live object."""
    out = Merged({})
    for name, new in fresh.items():
        old = live.get(name)
        if old is not None and old.spec == new.spec and old.load_error == new.load_error:
            out.clusters[name] = old
            out.kept.append(name)
            out.unused.append(new)
            continue
        out.clusters[name] = new
        if old is None:
            out.added.append(name)
        else:
            out.changed.append(name)
            out.retired.append(old)
    for name, old in live.items():
        if name not in fresh:
            out.removed.append(name)
            out.retired.append(old)
    return out


class KubeconfigReloader:
    def __init__(self, settings: Settings, registry: Registry, prober: Prober) -> None:
        self.settings = settings
        self.registry = registry
        self.prober = prober
        self.paths = watched_files(settings)
        self.retired: list[Cluster] = []
        self._task: asyncio.Task[None] | None = None
        self._loaded: Stamp = ()
        # Clusters served whatever the files say (the demo clusters of `--demo --kubeconfig`).
        self.fixed: dict[str, Cluster] = {}

    async def snapshot(self) -> None:
        """Note the files' stamps as they are about to be loaded."""
        self._loaded = await asyncio.to_thread(stamp, self.paths)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        retired, self.retired = self.retired, []
        await asyncio.gather(*(c.close() for c in retired), return_exceptions=True)

    async def _run(self) -> None:
        interval = self.settings.kubeconfig_poll
        loaded = seen = self._loaded
        while True:
            await asyncio.sleep(interval)
            now = await asyncio.to_thread(stamp, self.paths)
            if now != loaded and now == seen:  # changed, and still since the last poll
                try:
                    await self.reload()
                except Exception as e:  # a reload must never take the server down
                    log.warning("reloading the kubeconfig failed, keeping the old one: %r", e)
                loaded = now
            seen = now

    async def reload(self) -> Merged:
        fresh = await load_registry(self.settings)
        live = {n: c for n, c in self.registry.clusters.items() if self.fixed.get(n) is not c}
        merged = merge(live, fresh.clusters)
        kept = {n: c for n, c in self.fixed.items() if n not in merged.clusters}
        # One assignment each: requests on the loop see the old or the new registry whole.
        self.registry.clusters = {**merged.clusters, **kept}
        self.registry.errors = fresh.errors
        self.registry.current_context = fresh.current_context
        for name in merged.added + merged.changed + merged.removed:
            self.prober.forget(name)
        self.retired.extend(merged.retired)
        await asyncio.gather(*(c.close() for c in merged.unused), return_exceptions=True)
        log.info(
            "kubeconfig changed (%s): %d cluster(s) unchanged; added: %s; changed: %s; removed: %s",
            ", ".join(str(p) for p in self.paths),
            len(merged.kept),
            ", ".join(repr(n) for n in merged.added) or "none",
            ", ".join(repr(n) for n in merged.changed) or "none",
            ", ".join(repr(n) for n in merged.removed) or "none",
        )
        for line in fresh.errors:
            log.warning("%s", line, extra=UNLIMITED)
        return merged
