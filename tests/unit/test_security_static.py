"""SPA serving decisions: index.html under a base URL, files never outside the root."""

from __future__ import annotations

from pathlib import Path

from kubelantern.web.static import resolve_file, rewrite_index

INDEX = """<!doctype html><html><head>
<link rel="icon" href="/favicon.svg" type="image/svg+xml" />
<script type="module" crossorigin src="/assets/index-CQoaYZWA.js"></script>
<link rel="stylesheet" crossorigin href="/assets/index-B6DzjT21.css">
<a href="//cdn.example/x">x</a><a href="https://example.com/">y</a>
</head></html>"""


def test_index_rewritten_under_a_base_url() -> None:
    out = rewrite_index(INDEX, "/kl")
    assert 'src="/kl/assets/index-CQoaYZWA.js"' in out
    assert 'href="/kl/assets/index-B6DzjT21.css"' in out
    assert 'href="/kl/favicon.svg"' in out
    assert 'href="//cdn.example/x"' in out and 'href="https://example.com/"' in out
    assert "<script>" not in out  # nothing inline is injected
    assert rewrite_index(INDEX, "") == INDEX


def test_resolve_file_stays_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "a.js").write_text("x")
    (tmp_path / "secret").write_text("s")
    assert resolve_file(root, "assets/a.js") == (root / "assets" / "a.js").resolve()
    assert resolve_file(root, "../secret") is None
    assert resolve_file(root, "assets/../../secret") is None
    assert resolve_file(root, "assets") is None  # a folder is not a file
    assert resolve_file(root, "") is None
    assert resolve_file(root, "a\\b") is None
