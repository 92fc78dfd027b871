"""The command registry of the simulated container shell: every built-in command by name."""

from __future__ import annotations

from . import commands
from .cmdapi import CommandFn

COMMANDS: dict[str, CommandFn] = {**commands.COMMANDS}

# Builtins of the shell itself: `which`/`command -v` do not find them as executables.
SHELL_ONLY_BUILTINS = frozenset({"cd", "exec", "exit", "export", "unset"})
