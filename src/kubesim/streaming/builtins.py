"""The command registry of the simulated container shell: every built-in command by name,
from the families in `commands/`."""

from __future__ import annotations

from .cmdapi import CommandFn
from .commands import archive, bulk, files, system, text

COMMANDS: dict[str, CommandFn] = {
    **text.COMMANDS,
    **files.COMMANDS,
    **archive.COMMANDS,
    **bulk.COMMANDS,
    **system.COMMANDS,
}

# Builtins of the shell itself: `which`/`command -v` do not find them as executables.
SHELL_ONLY_BUILTINS = frozenset({"cd", "exec", "exit", "export", "unset"})
