"""A container's filesystem, in memory. Nothing here ever touches the real disk."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .containers import ContainerInfo

# Device files the commands treat specially (endless or bottomless streams).
DEV_NULL, DEV_ZERO, DEV_URANDOM = "/dev/null", "/dev/zero", "/dev/urandom"
DEVICES = frozenset({DEV_NULL, DEV_ZERO, DEV_URANDOM, "/dev/tty", "/dev/stdout", "/dev/stderr"})


class FsError(Exception):
    """errno-style text: 'No such file or directory', 'Is a directory', ..."""


def normalize(cwd: str, path: str) -> str:
    if path.startswith("~"):
        path = "/root" + path[1:]
    joined = posixpath.join(cwd, path) if not path.startswith("/") else path
    norm = posixpath.normpath(joined)
    return "/" if norm in ("", ".", "//") else norm.replace("//", "/")


@dataclass
class FakeFS:
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {"/"})
    max_file_size: int = 4 * 1024 * 1024
    max_total_size: int = 64 * 1024 * 1024  # a client cannot grow our memory without bound

    def _add_parents(self, path: str) -> None:
        parent = posixpath.dirname(path)
        while parent and parent not in self.dirs:
            self.dirs.add(parent)
            parent = posixpath.dirname(parent)

    def mkdir(self, path: str) -> None:
        self._add_parents(path)
        self.dirs.add(path)

    def put(self, path: str, data: bytes | str) -> None:
        self._add_parents(path)
        self.files[path] = data.encode() if isinstance(data, str) else data

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def exists(self, path: str) -> bool:
        return path in self.dirs or path in self.files or path in DEVICES

    def read(self, path: str) -> bytes:
        if path in self.dirs:
            raise FsError("Is a directory")
        if path == DEV_NULL:
            return b""
        if path not in self.files:
            raise FsError("No such file or directory")
        return self.files[path]

    def write(self, path: str, data: bytes, *, append: bool) -> None:
        if path in DEVICES:
            return
        if path in self.dirs:
            raise FsError("Is a directory")
        if posixpath.dirname(path) not in self.dirs:
            raise FsError("No such file or directory")
        old = self.files.get(path, b"") if append else b""
        total = sum(map(len, self.files.values())) - len(self.files.get(path, b""))
        size = len(old) + len(data)
        if size > self.max_file_size or total + size > self.max_total_size:
            raise FsError("No space left on device")
        self.files[path] = old + data

    def listdir(self, path: str) -> list[str]:
        if path in self.files or path in DEVICES:
            return [posixpath.basename(path)]
        if path not in self.dirs:
            raise FsError("No such file or directory")
        prefix = path.rstrip("/") + "/"
        names = {
            p[len(prefix) :].split("/", 1)[0]
            for p in list(self.files) + list(self.dirs) + list(DEVICES)
            if p.startswith(prefix) and p != path
        }
        return sorted(names)

    def size(self, path: str) -> int:
        return len(self.files.get(path, b""))


def make_filesystem(info: ContainerInfo) -> FakeFS:
    fs = FakeFS()
    for d in (
        "/bin",
        "/usr/bin",
        "/usr/local/bin",
        "/tmp",
        "/root",
        "/var/log",
        "/home",
        "/proc/1",
        "/etc",
        "/app",
        "/dev",
        "/srv",
    ):
        fs.mkdir(d)
    image = info.image.lower()
    if "alpine" in image:
        os_release = (
            'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n'
            'PRETTY_NAME="Alpine Linux v3.20"\nHOME_URL="https://alpinelinux.org/"\n'
        )
    elif "busybox" in image:
        os_release = 'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox 1.36.1"\n'
    else:
        os_release = (
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
            'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'
            'HOME_URL="https://www.debian.org/"\n'
        )
    fs.put("/etc/os-release", os_release)
    fs.put("/etc/hostname", info.pod_name + "\n")
    fs.put(
        "/etc/hosts",
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"10.244.0.17\t{info.pod_name}\n",
    )
    fs.put(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
    )
    fs.put(
        "/etc/resolv.conf",
        f"search {info.namespace}.svc.cluster.local svc.cluster.local "
        "cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
    )
    fs.put(
        "/app/README.txt",
        f"This is container {info.name!r} of pod {info.pod_name!r} in namespace "
        f"{info.namespace!r}, simulated by kubelantern.\nNothing here is a real file.\n",
    )
    fs.put(
        "/app/config.yaml",
        f"server:\n  port: {info.ports[0][0] if info.ports else 8080}\nlogLevel: info\n",
    )
    fs.put("/app/data/sample.csv", "id,name\n1,alpha\n2,beta\n3,gamma\n")
    fs.put("/proc/version", "Linux version 6.1.0-kubelantern (sim@kubelantern) #1 SMP\n")
    fs.put(
        "/proc/cpuinfo",
        "processor\t: 0\nmodel name\t: Simulated CPU\n\n"
        "processor\t: 1\nmodel name\t: Simulated CPU\n",
    )
    fs.put("/proc/meminfo", "MemTotal:        8048576 kB\nMemFree:         4024288 kB\n")
    fs.put("/proc/1/cmdline", f"/app/{info.name}\0")
    fs.put("/proc/uptime", "12345.67 23456.78\n")
    fs.put("/var/log/app.log", f"{info.name} started\n")
    fs.put("/run/secrets/kubernetes.io/serviceaccount/namespace", info.namespace)
    for shell in sorted(info.shells):
        fs.put(f"/bin/{shell}", b"\x7fELF (simulated)")
    return fs
