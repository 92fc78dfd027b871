"""The built-in commands of the simulated container shell (`shell.Shell`), one module per
family; `builtins.py` files them into one registry by name. All in memory: they depend only
on `cmdapi` (what a command may ask of the shell), `fakefs` and `pipes`, never on `shell`.

- `text.py`: echo, printf, cat, head, wc, grep, seq
- `files.py`: ls, pwd, cd, mkdir, touch, rm, test/[
- `archive.py`: tar (what `kubectl cp` runs)
- `bulk.py`: throughput sources for benchmarks (firehose, dd, yes)
- `system.py`: the shell's own (exit, exec, export, sh/bash...) and the container's facts
  (hostname, uname, ps, date...)
- `common.py`: what they share (output lines, sizes like `32K`, the endless devices)

Unknown commands: `sh: X: not found` (bash: `bash: X: command not found`), exit 127 (the
shell decides that, `shell.py`).
"""
