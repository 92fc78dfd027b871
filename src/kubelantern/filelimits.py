"""The open-file limit `serve` runs under, and the connection cap sized from it.

Why (issue 10, defect 4): every client connection is a descriptor, and at the common soft
limit of 1,024 about a thousand idle connections made accept() fail with EMFILE. `serve`
raises the soft limit to the hard one at start (what the administrator allows anyway), and
caps client connections well below it, so the listener refuses cleanly before the process
runs out.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

# Descriptors kept out of the connection budget: listeners, the clusters' pooled request
# connections, kubeconfig and token files, exec plugins' pipes, the log.
RESERVED = 64
# asyncio accepts up to `backlog` sockets per wake-up of the listener, and the protocol
# factory (so the cap) sees them only on the next loop iteration, their refusal closes them
# one more later: up to three batches of descriptors must always be to spare.
ACCEPT_BATCH = 100
ACCEPT_RESERVE = 3 * ACCEPT_BATCH
# A client connection can hold up to three: itself, its upstream stream, a recording file.
PER_CONNECTION = 3
MIN_CONNECTIONS = 32


@dataclass(frozen=True)
class FileLimit:
    before: int  # the soft limit `serve` was started with
    soft: int  # the soft limit now
    hard: int

    @property
    def raised(self) -> bool:
        return self.soft > self.before


def raise_open_file_limit() -> FileLimit:
    """Soft RLIMIT_NOFILE → the hard limit (unlimited hard: left as it is)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError):  # a sandbox that refuses: keep what there is
            pass
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return FileLimit(before, soft, hard)


def connections_for(soft_limit: int) -> int:
    """The default `--max-connections` under a soft open-file limit (pure)."""
    if soft_limit == resource.RLIM_INFINITY or soft_limit <= 0:
        soft_limit = 1 << 20
    return max(MIN_CONNECTIONS, (soft_limit - RESERVED - ACCEPT_RESERVE) // PER_CONNECTION)
