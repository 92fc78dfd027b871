"""The simulated container's interpreter, terminal and pipes, driven without sockets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from kubesim.streaming.commands.common import parse_size
from kubesim.streaming.containers import ContainerInfo
from kubesim.streaming.fakefs import make_filesystem
from kubesim.streaming.pipes import (
    BrokenPipe,
    Echo,
    EndOfFile,
    Interrupt,
    Line,
    LineDiscipline,
    Pipe,
)
from kubesim.streaming.process import Process, shell_program
from kubesim.streaming.protocol import TerminalSize
from kubesim.streaming.shell import Context, Shell
from kubesim.streaming.shellparse import parse


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return self.out.decode()


def make_ctx(image: str = "nginx:1.27", tty: bool = False) -> Context:
    info = ContainerInfo(
        "web-1",
        "shop",
        "uid-1",
        "app",
        image,
        env=(("GREETING", "hello there"),),
        ports=((80, "http"),),
    )
    return Context(info, make_filesystem(info), tty=tty)


async def run(
    argv: list[str],
    stdin: bytes | list[bytes] = b"",
    *,
    tty: bool = False,
    close_stdin: bool = True,
    image: str = "nginx:1.27",
    size: TerminalSize | None = None,
) -> Result:
    ctx = make_ctx(image, tty)
    out, err = bytearray(), bytearray()

    async def w_out(b: bytes) -> None:
        out.extend(b)

    async def w_err(b: bytes) -> None:
        err.extend(b)

    proc = Process(ctx, shell_program(ctx, argv), stdin=True, out=w_out, err=w_err)
    if size:
        proc.resize(size)
    task = asyncio.ensure_future(proc.run())
    for chunk in [stdin] if isinstance(stdin, bytes) else stdin:
        await asyncio.sleep(0.01)  # let the program reach its next read, like a typist
        await proc.feed(chunk)
    if close_stdin:
        proc.close_stdin()
    code = await asyncio.wait_for(task, 10)
    return Result(code, bytes(out), bytes(err))


async def sh(script: str, **kw: object) -> Result:
    return await run(["sh", "-c", script], **kw)  # type: ignore[arg-type]


async def test_echo_variants() -> None:
    assert (await run(["echo", "hello"])).text == "hello\n"
    assert (await sh("echo -n 'a  b'; echo \"$GREETING\" x")).text == "a  bhello there x\n"
    assert (await sh("echo one\\ two 'it''s' \"q\\\"\"")).text == 'one two its q"\n'


async def test_exit_codes_and_logic() -> None:
    assert (await sh("exit 3")).code == 3
    assert (await sh("false || echo alt && echo and; true && echo t")).text == "alt\nand\nt\n"
    assert (await sh("false; echo $?")).text == "1\n"
    r = await sh("nope arg")
    assert r.code == 127 and r.err == b"sh: nope: not found\n"
    r = await run(["bash", "-c", "nope"])
    assert r.err == b"bash: nope: command not found\n"


async def test_cat_files_and_stdin() -> None:
    assert (await run(["cat", "/etc/hostname"])).text == "web-1\n"
    assert b"Debian" in (await run(["cat", "/etc/os-release"])).out
    assert (await run(["cat"], b"piped\nlines\n")).text == "piped\nlines\n"
    r = await run(["cat", "/nope"])
    assert r.code == 1 and b"No such file or directory" in r.err


async def test_env_and_printenv() -> None:
    r = await run(["env"])
    assert "HOSTNAME=web-1\n" in r.text and "PATH=/usr/local" in r.text
    assert "GREETING=hello there\n" in r.text
    assert (await run(["printenv", "GREETING"])).text == "hello there\n"
    assert (await run(["printenv", "NOPE"])).code == 1


async def test_filesystem_commands() -> None:
    assert (await sh("cd /app && pwd && ls")).text == "/app\nREADME.txt\nconfig.yaml\ndata\n"
    listing = (await run(["ls", "-l", "/etc"])).text
    assert "hostname" in listing and listing.startswith("total ")
    assert (
        await sh("echo saved > /tmp/f; cat /tmp/f; echo more >> /tmp/f; wc -l /tmp/f")
    ).text == ("saved\n2 /tmp/f\n")
    assert (await sh("ls /nope")).code == 2


async def test_identity_commands() -> None:
    assert (await run(["hostname"])).text == "web-1\n"
    assert (await run(["whoami"])).text == "root\n"
    assert (await run(["id"])).text.startswith("uid=0(root)")
    assert "web-1" in (await run(["uname", "-a"])).text
    assert "UTC" in (await run(["date"])).text


async def test_pipelines_and_substitution() -> None:
    assert (await sh("echo x | cat")).text == "x\n"
    assert (await sh("yes | head -n 2")).text == "y\ny\n"
    assert (await sh("printf '%s-%d\\n' a 7 | wc -c")).text == "4\n"
    assert (await sh("env | grep HOSTNAME")).text == "HOSTNAME=web-1\n"
    assert (await run(["wc"], [b"ab c", b"d\nef "])).text == "1 3 9\n"  # a word across reads
    assert (await sh("echo $(hostname)!")).text == "web-1!\n"
    assert (await sh("echo err >&2 2>/dev/null")).err == b"err\n"
    assert (await sh("echo hidden 2>&1 >/dev/null")).out == b""


async def test_throughput_sources() -> None:
    r = await run(["firehose", "100K"])
    assert len(r.out) == 100 * 1024 and r.code == 0
    r = await run(["dd", "if=/dev/zero", "bs=4K", "count=3"])
    assert r.out == bytes(12 * 1024) and b"3+0 records out" in r.err
    assert (await sh("head -c 5000 /dev/urandom | wc -c")).text == "5000\n"
    assert parse_size("32K") == 32768 and parse_size("1M") == 1 << 20


async def test_sleep_is_async_and_capped_input() -> None:
    r = await sh("sleep 0.05 && echo woke")
    assert r.text == "woke\n"
    assert (await run(["sleep", "x"])).code == 1


async def test_non_interactive_sh_reads_script_from_stdin() -> None:
    r = await run(["sh"], b"echo one\ncd /etc\npwd\nexit 5\necho never\n")
    assert (r.text, r.code) == ("one\n/etc\n", 5)


async def test_interactive_shell_on_tty() -> None:
    keys = [b"ech\x7f\x7fcho hi\r", b"stty size; tput cols\r", b"exit 4\r"]
    r = await run(["bash"], keys, tty=True, close_stdin=False, size=TerminalSize(120, 40))
    assert r.code == 4
    assert r.out.startswith(b"root@web-1:/# ")
    assert b"\b \b" in r.out  # backspace erased on screen
    assert b"hi\r\n" in r.out  # output through ONLCR
    assert b"40 120\r\n120\r\n" in r.out
    assert r.err == b""  # stderr joins the terminal


async def test_ctrl_c_cancels_line_and_job_ctrl_d_exits() -> None:
    keys = [b"sleep 100\r", b"\x03", b"partial", b"\x03", b"echo after\r", b"\x04"]
    r = await run(["sh"], keys, tty=True, close_stdin=False)
    assert r.code == 0
    assert r.out.count(b"^C\r\n") == 2
    assert b"after\r\n" in r.out
    assert r.out.endswith(b"exit\r\n")


async def test_ctrl_c_interrupts_a_foreground_command() -> None:
    r = await run(["sleep", "100"], [b"\x03"], tty=True, close_stdin=False)
    assert r.code == 130


async def test_missing_shells_by_image() -> None:
    assert not Shell(make_ctx("gcr.io/distroless/base")).resolves("sh")
    alpine = Shell(make_ctx("alpine:3.20"))
    assert alpine.resolves("sh") and not alpine.resolves("bash")
    assert alpine.resolves("/bin/sh") and not alpine.resolves("cd")
    r = await run(["sh", "-c", "bash -c 'echo x'"], image="alpine:3.20")
    assert r.code == 127 and r.err == b"sh: bash: not found\n"
    r = await run(["sh", "-c", "which bash sh"], image="alpine:3.20")
    assert r.text == "/bin/sh\n" and r.code == 1


async def test_syntax_error() -> None:
    r = await sh("echo 'unterminated")
    assert r.code == 2 and b"Unterminated quoted string" in r.err
    with pytest.raises(Exception, match="unexpected"):
        parse("echo a && && b")


def test_line_discipline_events() -> None:
    ld = LineDiscipline()
    assert ld.feed(b"ab\x7fc\r") == [Echo(b"ab\b \bc\r\n"), Line(b"ac\n")]
    assert ld.feed(b"\x1b[C\x1b[Dx") == [Echo(b"x")]  # Left/Right are swallowed
    assert ld.feed(b"\x03") == [Echo(b"^C\r\n"), Interrupt()]
    assert ld.feed(b"\x04") == [EndOfFile()]
    assert ld.feed(b"z\x04") == [Echo(b"z"), Line(b"z")]
    assert ld.feed("é\x7f".encode()) == [Echo("é".encode() + b"\b \b")]


async def test_pipe_backpressure_and_broken_pipe() -> None:
    pipe = Pipe(limit=4)
    writer = asyncio.ensure_future(pipe.write(b"abcdefgh"))
    await asyncio.sleep(0)
    assert not writer.done()  # blocked at the limit
    assert await pipe.read(4) == b"abcd"
    await asyncio.wait_for(writer, 1)
    assert await pipe.read() == b"efgh"
    pipe.close_reader()
    with pytest.raises(BrokenPipe):
        await pipe.write(b"x")


@pytest.mark.parametrize(
    "script",
    [
        '1"$(>2"&',  # an unclosed $( inside double quotes
        "cat {=$(;2=${$aa\"b${' | ||'${=1=${echo *)}",  # an unbalanced quote inside $(...)
        "echo a |",
        "&& echo",
        "echo ${",
        "echo $(echo $(echo $(echo deep)))",
    ],
)
async def test_odd_scripts_never_crash_the_interpreter(script: str) -> None:
    r = await sh(script)
    assert 0 <= r.code <= 255  # an error code and a message, never an exception
    if "deep" in script:
        assert r.text == "deep\n"


async def test_filesystem_is_bounded() -> None:
    r = await sh("head -c 5M /dev/zero > /tmp/big")
    assert r.code != 0 and b"No space left on device" in r.err


def test_tar_argument_forms() -> None:
    from kubesim.streaming.commands.archive import _tar_args

    assert _tar_args(["cf", "-", "/etc/hostname"]) == ("c", False, "-", "/", ["/etc/hostname"])
    assert _tar_args(["--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", "/tmp"]) == (
        "x",
        False,
        "-",
        "/tmp",
        [],
    )
    assert _tar_args(["-tzf", "-"])[:2] == ("t", True)


async def test_tar_round_trip_in_memory() -> None:
    packed = await run(["tar", "cf", "-", "/app"])
    assert packed.code == 0 and b"Removing leading" in packed.err
    listing = await run(["tar", "tf", "-"], packed.out)
    assert "app/README.txt\n" in listing.text and "app/data/sample.csv\n" in listing.text
    ctx = make_ctx()
    shell = Shell(ctx)
    from kubesim.streaming.pipes import BufferWriter, NullWriter
    from kubesim.streaming.shell import IO, FileReader

    code = await shell.run_argv(
        ["tar", "-xmf", "-", "-C", "/tmp"], IO(FileReader(packed.out), NullWriter(), NullWriter())
    )
    assert code == 0
    out = BufferWriter()
    await shell.run_argv(["cat", "/tmp/app/data/sample.csv"], IO(FileReader(b""), out, out))
    assert bytes(out.data).startswith(b"id,name\n")
    bad = await run(["tar", "xf", "-"], b"not a tar archive at all")
    assert bad.code == 2 and b"does not look like a tar archive" in bad.err


async def test_exec_builtin_for_shell_detection() -> None:
    detect = "command -v bash >/dev/null && exec bash -c 'echo bash' || exec sh -c 'echo sh'"
    assert (await sh(detect)).text == "bash\n"
    assert (await sh(detect, image="alpine:3.20")).text == "sh\n"
    assert (await sh("exec sh -c 'exit 4'; echo never")).code == 4


def test_line_discipline_history() -> None:
    ld = LineDiscipline()
    ld.feed(b"ls /app\r")
    ld.feed(b"pwd\r")
    assert ld.feed(b"x\x1b[A") == [Echo(b"x\b \bpwd")]  # Up replaces the typed "x"
    assert ld.feed(b"\x1b[A") == [Echo(b"\b \b" * 3 + b"ls /app")]
    assert ld.feed(b"\x1b[A") == []  # no older line
    assert ld.feed(b"\x1bOB\r") == [Echo(b"\b \b" * 7 + b"pwd\r\n"), Line(b"pwd\n")]


async def test_each_shell_has_its_own_pid_and_subshells_share_it() -> None:
    # `$$` tells a client whether it reached the same shell again (reattached terminals).
    first = (await sh("echo $$; echo $(echo $$)")).text.split()
    second = (await sh("echo $$")).text.split()
    assert first[0] == first[1]
    assert first[0].isdigit() and second[0].isdigit()
    assert first[0] != second[0]
