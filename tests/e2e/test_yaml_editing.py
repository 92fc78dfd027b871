"""The YAML editor (issue 11 defect 7): unsaved edits are not dropped without asking (in-app
links, back, reload/close), parse errors show their caret under the right column (monospace),
and Enter after `key:` indents the next line (otherwise keeps the indentation)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Problems, Ui
from tests.harness.stack import CONTEXT_NAMES

pytestmark = pytest.mark.browser

KIND = quote(CONTEXT_NAMES["kubernetes"], safe="")
OBJ = f"/c/{KIND}/configmaps/shop/frontend-config"


def start_editing(page: Any, ui: Ui) -> Any:
    page.goto(f"{ui.url}{OBJ}")
    page.get_by_test_id("tab-yaml").click()
    page.get_by_test_id("yaml-edit").click()
    editor = page.get_by_test_id("yaml-editor").locator(".cm-content")
    expect(editor).to_contain_text("frontend-config")
    return editor


def type_at_end(page: Any, editor: Any, text: str) -> None:
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def lines(editor: Any) -> list[str]:
    return [t.replace("\u00a0", " ") for t in editor.locator(".cm-line").all_inner_texts()]


def test_unsaved_edits_ask_before_leaving(page: Any, ui: Ui, problems: Problems) -> None:
    editor = start_editing(page, ui)
    asked: list[str] = []

    def answer(accept: bool) -> None:
        def on_dialog(d: Any) -> None:
            asked.append(d.type)
            d.accept() if accept else d.dismiss()

        page.once("dialog", on_dialog)

    type_at_end(page, editor, "\nextra: kept")
    # A sidebar link: dismissed, the edit stays.
    answer(False)
    page.locator('.nav-item[data-kind="pods"]').click()
    expect(page.get_by_test_id("yaml-editor")).to_contain_text("extra: kept")
    assert asked == ["confirm"]
    assert page.url.endswith(f"{OBJ}#yaml")
    # The Overview tab would unmount the editor: it asks too.
    answer(False)
    page.get_by_role("tab", name="Overview").click()
    expect(page.get_by_test_id("yaml-editor")).to_contain_text("extra: kept")
    assert asked == ["confirm", "confirm"]
    # Reload or closing the tab: the browser's own question (beforeunload).
    assert page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented }"
    )
    # Accepted: the link is followed.
    answer(True)
    page.locator('.nav-item[data-kind="pods"]').click()
    expect(page).to_have_url(re.compile(f"/c/{KIND}/pods$"))
    assert asked[-1] == "confirm"
    # Nothing unsaved any more: no question on leaving.
    assert not page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented }"
    )
    assert problems.errors == [], problems.errors


def test_yaml_error_caret_is_under_its_column(page: Any, ui: Ui, problems: Problems) -> None:
    editor = start_editing(page, ui)
    type_at_end(page, editor, "\nbroken: a: b")
    page.get_by_test_id("yaml-review").click()
    err = page.locator(".yaml-error")
    expect(err).to_contain_text("^")
    font = err.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" in font.lower(), font
    # The caret's x equals the x of the character in the quoted line above it.
    gap = err.evaluate(
        """e => {
        const text = e.firstChild; const s = text.textContent; const rows = s.split('\\n');
        const at = rows.findIndex(r => /^\\s*\\^+\\s*$/.test(r));
        const col = rows[at].indexOf('^');
        const start = (i) => rows.slice(0, i).reduce((n, r) => n + r.length + 1, 0);
        const x = (off) => { const r = document.createRange(); r.setStart(text, off);
          r.setEnd(text, off + 1); return r.getBoundingClientRect().left; };
        return Math.abs(x(start(at) + col) - x(start(at - 1) + col));
    }"""
    )
    assert gap < 1, f"caret {gap}px off its column"
    assert problems.errors == [], problems.errors


def test_enter_after_a_key_indents(page: Any, ui: Ui, problems: Problems) -> None:
    editor = start_editing(page, ui)
    type_at_end(page, editor, "\nnested:\nchild: 1\nsibling: 2\nlist:\n- name: a\nimage: b")
    got = lines(editor)
    tail = got[got.index("nested:") :]
    assert tail == [
        "nested:",
        "  child: 1",
        "  sibling: 2",
        "  list:",
        "    - name: a",
        "      image: b",
    ], tail
    assert problems.errors == [], problems.errors
