"""`tar c|x|t[z]f - [-C DIR]`: what `kubectl cp` runs in the container, archive on stdio."""

from __future__ import annotations

import posixpath

from ..cmdapi import CHUNK, IO, CommandFn, ShellApi, registrar
from ..fakefs import normalize
from .common import write_err

COMMANDS: dict[str, CommandFn] = {}
command = registrar(COMMANDS)


def _tar_args(args: list[str]) -> tuple[str, bool, str, str, list[str]]:
    """(mode c|x|t, gzip, archive, directory, operands) from GNU-style tar arguments."""
    mode, gz, archive, directory = "", False, "-", "/"
    operands: list[str] = []
    it = iter(args)
    first = True
    for a in it:
        if a.startswith("--"):
            if a.startswith("--directory="):
                directory = a.split("=", 1)[1]
            continue  # --no-same-owner, --no-same-permissions, --verbose...
        if a.startswith("-") or (first and a and set(a) <= set("cxtvzfmpoO")):
            flags = a.lstrip("-")
            for k, flag in enumerate(flags):
                if flag in "cxt":
                    mode = flag
                elif flag == "z":
                    gz = True
                elif flag == "f":
                    archive = flags[k + 1 :] or next(it, "-")
                    break
                elif flag == "C":
                    directory = flags[k + 1 :] or next(it, "/")
                    break
        else:
            operands.append(a)
        first = False
    return mode, gz, archive, directory, operands


@command("tar")
async def _tar(sh: ShellApi, args: list[str], io: IO) -> int:
    """Enough tar for `kubectl cp`: c/x/t on the in-memory filesystem, archive on stdio."""
    import io as _io
    import tarfile

    mode, gz, archive, directory, operands = _tar_args(args)
    if not mode:
        await write_err(io, "tar: You must specify one of the '-Acdtrux' options\n")
        return 2
    if archive != "-":
        await write_err(io, "tar: only archives on stdin/stdout are simulated (use f -)\n")
        return 2
    base = sh.path(directory)
    if mode == "c":
        buf = _io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
            for op in operands:
                path = sh.path(op) if op.startswith("/") else normalize(base, op)
                if not sh.fs.exists(path):
                    await write_err(io, f"tar: {op}: Cannot stat: No such file or directory\n")
                    return 2
                if op.startswith("/"):
                    await write_err(io, "tar: Removing leading `/' from member names\n")
                for p in sorted([path] + [f for f in sh.fs.files if f.startswith(path + "/")]):
                    rel = (
                        op.lstrip("/") + p[len(path) :]
                        if op.startswith("/")
                        else (posixpath.relpath(p, base))
                    )
                    info = tarfile.TarInfo(rel)
                    if sh.fs.is_dir(p):
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tf.addfile(info)
                    else:
                        data = sh.fs.read(p)
                        info.size, info.mode, info.mtime = len(data), 0o644, int(sh.ctx.started)
                        tf.addfile(info, _io.BytesIO(data))
        await io.stdout.write(buf.getvalue())
        return 0
    received = bytearray()
    while chunk := await io.stdin.read(CHUNK):
        received += chunk
        if len(received) > sh.fs.max_total_size:
            await write_err(io, "tar: archive too large for the simulated filesystem\n")
            return 2
    try:
        with tarfile.open(fileobj=_io.BytesIO(bytes(received)), mode="r:*") as tf:
            for member in tf.getmembers():
                target = normalize(base, member.name)
                if mode == "t":
                    await io.stdout.write(f"{member.name}\n".encode())
                elif member.isdir():
                    sh.fs.mkdir(target)
                elif member.isfile():
                    extracted = tf.extractfile(member)
                    content = extracted.read() if extracted else b""
                    sh.fs.mkdir(posixpath.dirname(target))
                    sh.fs.write(target, content, append=False)
    except tarfile.TarError as exc:
        await write_err(io, f"tar: This does not look like a tar archive ({exc})\n")
        return 2
    return 0
