"""The simulated shell's lexer and parser: text in, a `Script` out. Pure, no IO.

Quoting, `$(...)`, `;` `&&` `||` `|` `&` and newlines, redirections (`>`, `>>`, `<`, `2>`,
`2>&1`, `>&2`). Words stay raw (quoted); `shell.Shell` expands them at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ShellSyntaxError(Exception):
    pass


@dataclass(frozen=True)
class Redirect:
    fd: int  # 0, 1, 2
    mode: str  # "<", ">", ">>", ">&"
    target: str  # raw word, or the fd number for ">&"


@dataclass
class SimpleCommand:
    words: list[str] = field(default_factory=list)  # raw (quoted) words, expanded at run time
    redirects: list[Redirect] = field(default_factory=list)


Pipeline = list[SimpleCommand]
AndOr = list[tuple[str, Pipeline]]  # [("", p1), ("&&", p2), ("||", p3)]
Script = list[AndOr]

_OPERATORS = ("&&", "||", ";", "|", "\n", "&")


def closing_paren(text: str, i: int) -> int:
    """Index of the `)` that closes the `$(` at text[i], or len(text) when none does."""
    depth, j = 0, i + 1
    while j < len(text):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens: ("word", raw) | ("op", op) | ("redir", spec). Raw words keep their quotes."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    word: list[str] = []
    in_word = False

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            tokens.append(("word", "".join(word)))
            word.clear()
            in_word = False

    while i < n:
        c = text[i]
        if c in " \t":
            end_word()
            i += 1
        elif c == "#" and not in_word:
            while i < n and text[i] != "\n":
                i += 1
        elif c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2
                continue
            word.append(text[i : i + 2])
            in_word = True
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("Unterminated quoted string")
            word.append(text[i : j + 1])
            in_word = True
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise ShellSyntaxError("Unterminated quoted string")
            word.append(text[i : j + 1])
            in_word = True
            i = j + 1
        elif c == "$" and text.startswith("$(", i):
            j = closing_paren(text, i)
            if j >= n:
                raise ShellSyntaxError('end of file unexpected (expecting ")")')
            word.append(text[i : j + 1])
            in_word = True
            i = j + 1
        elif c in "<>":
            fd = 0 if c == "<" else 1
            if in_word and "".join(word) in ("0", "1", "2"):
                fd = int("".join(word))
                word.clear()
                in_word = False
            end_word()
            if text.startswith(">>", i):
                mode, i = ">>", i + 2
            elif text.startswith(">&", i):
                mode, i = ">&", i + 2
            else:
                mode, i = c, i + 1
            tokens.append(("redir", f"{fd}{mode}"))
        elif any(text.startswith(op, i) for op in _OPERATORS):
            end_word()
            op = next(op for op in _OPERATORS if text.startswith(op, i))
            tokens.append(("op", op))
            i += len(op)
        else:
            word.append(c)
            in_word = True
            i += 1
    end_word()
    return tokens


def parse(text: str) -> Script:
    tokens = _lex(text)
    script: Script = []
    andor: AndOr = []
    pipeline: Pipeline = []
    cmd = SimpleCommand()
    link = ""
    i = 0

    def finish_cmd() -> None:
        nonlocal cmd
        if not cmd.words and not cmd.redirects:
            raise ShellSyntaxError("Syntax error: unexpected operator")
        pipeline.append(cmd)
        cmd = SimpleCommand()

    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word":
            cmd.words.append(value)
        elif kind == "redir":
            fd, mode = int(value[0]), value[1:]
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "word":
                raise ShellSyntaxError("Syntax error: newline unexpected")
            i += 1
            cmd.redirects.append(Redirect(fd, mode, tokens[i][1]))
        elif value == "|":
            finish_cmd()
        elif value in ("&&", "||"):
            finish_cmd()
            andor.append((link, pipeline))
            pipeline, link = [], value
        else:  # ";", "\n", "&" (background jobs run in the foreground here)
            if cmd.words or cmd.redirects:
                finish_cmd()
            if pipeline:
                andor.append((link, pipeline))
            elif link:
                raise ShellSyntaxError(f'Syntax error: "{value}" unexpected')
            if andor:
                script.append(andor)
            andor, pipeline, link = [], [], ""
        i += 1
    if cmd.words or cmd.redirects:
        finish_cmd()
    elif link or (pipeline and not cmd.words):
        if link or pipeline:
            raise ShellSyntaxError("Syntax error: end of file unexpected")
    if pipeline:
        andor.append((link, pipeline))
    if andor:
        script.append(andor)
    return script
