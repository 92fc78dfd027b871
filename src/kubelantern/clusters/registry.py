"""The clusters kubelantern serves, by name, with the load errors to show; loading them
from kubeconfig files or the in-cluster service account."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence

from kubelantern.clusters.cluster import CONNECT_TIMEOUT, Cluster
from kubelantern.clusters.kubeconfig import KubeconfigError, load_in_cluster, load_kubeconfigs
from kubelantern.clusters.paths import split_cluster_path
from kubelantern.clusters.spec import ClusterSpec
from kubelantern.clusters.tls import TLSContexts
from kubelantern.settings import Settings

__all__ = ["CONNECT_TIMEOUT", "Cluster", "Registry", "load_registry"]


class Registry:
    """All clusters by name, plus the load errors to show (in the UI, the log, doctor)."""

    def __init__(
        self, clusters: dict[str, Cluster], errors: list[str], current_context: str | None = None
    ) -> None:
        self.clusters = clusters
        self.errors = errors
        self.current_context = current_context  # kubeconfig's current-context, the UI's default

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[ClusterSpec],
        errors: Sequence[KubeconfigError | str] = (),
        settings: Settings | None = None,
        current_context: str | None = None,
    ) -> Registry:
        """Build clusters from loaded specs; contexts that failed to load (errors naming a
        context) become clusters with `load_error` set, so the UI can show why."""
        settings = settings or Settings()
        clusters: dict[str, Cluster] = {}
        # Built at each cluster's first use; contexts with the same TLS material share one.
        tls_contexts = TLSContexts()
        lines: list[str] = []
        for spec in specs:
            if spec.name in clusters:
                continue
            cluster = Cluster(
                spec,
                tls_contexts=tls_contexts,
                profile_override=settings.profile_overrides.get(spec.name),
                strategy_override=settings.strategy_overrides.get(spec.name),
                exec_timeout=settings.exec_plugin_timeout,
            )
            clusters[spec.name] = cluster
            if cluster.load_error:
                lines.append(cluster.load_error)
        for err in errors:
            lines.append(str(err))
            ctx = getattr(err, "context", None)
            if isinstance(ctx, str) and ctx and ctx not in clusters:
                file = getattr(err, "file", None)
                placeholder = ClusterSpec(name=ctx, server="", source=str(file) if file else "")
                clusters[ctx] = Cluster(placeholder, load_error=str(err))
        for name in settings.profile_overrides:
            if name not in clusters:
                lines.append(f"profile override for unknown cluster {name!r}")
        for name in settings.strategy_overrides:
            if name not in clusters:
                lines.append(f"strategy override for unknown cluster {name!r}")
        return cls(clusters, lines, current_context)

    def __iter__(self) -> Iterator[Cluster]:
        return iter(self.clusters.values())

    def __len__(self) -> int:
        return len(self.clusters)

    def get(self, name: str) -> Cluster | None:
        return self.clusters.get(name)

    def resolve(self, tail: str) -> tuple[Cluster, str] | None:
        """`tail` = the raw path after `/clusters/`; returns (cluster, raw API path) or None.

        The API path is not validated here: pass it through `validate_api_path`.
        """
        found = split_cluster_path(tail, self.clusters)
        if found is None:
            return None
        name, rest = found
        return self.clusters[name], rest

    async def build_tls(self) -> None:
        """Build every cluster's TLS now (`kubelantern clusters`, doctor: they show what
        only a build finds, such as a client key that does not match its certificate)."""
        await asyncio.gather(*(c.ensure_tls() for c in self.clusters.values()))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clusters.values()), return_exceptions=True)


async def load_registry(settings: Settings) -> Registry:
    """Clusters from the in-cluster service account and/or the kubeconfig files in
    `settings` (in-cluster with --kubeconfig: both, the in-cluster one first)."""
    if settings.in_cluster:
        try:
            spec = await asyncio.to_thread(load_in_cluster)
        except KubeconfigError as e:
            home: list[ClusterSpec] = []
            home_errors = [str(e)]
        else:
            home, home_errors = [dataclasses.replace(spec, user_identity=True)], []
        if not settings.kubeconfigs:
            return await asyncio.to_thread(Registry.from_specs, home, home_errors, settings)
        extra = await asyncio.to_thread(
            load_kubeconfigs, list(settings.kubeconfigs), contexts=settings.contexts
        )
        taken = {s.name for s in home}
        specs = home + [s for s in extra.specs if s.name not in taken]
        return await asyncio.to_thread(
            Registry.from_specs, specs, home_errors + list(extra.errors), settings
        )
    result = await asyncio.to_thread(
        load_kubeconfigs, list(settings.kubeconfigs) or None, contexts=settings.contexts
    )
    # Checking TLS material reads CA and key files: off the event loop.
    return await asyncio.to_thread(
        Registry.from_specs, result.specs, result.errors, settings, result.current_context
    )
