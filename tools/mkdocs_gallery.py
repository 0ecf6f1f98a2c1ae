"""MkDocs hook: the examples gallery, generated from the scripts and inputs in examples/.

Each ``examples/*.py`` contributes its docstring (title = first line) and its code; each
``examples/*.toml`` its comment header and content. The page is rebuilt on every docs build,
so the gallery cannot drift from the examples.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- gallery -->"


def _python(path: Path) -> str:
    src = path.read_text()
    doc = ast.get_docstring(ast.parse(src)) or path.stem
    title, _, rest = doc.partition("\n")
    return "\n".join([f"## {title.strip()}", "", f"`examples/{path.name}`", "", rest.strip(), "",
                      "```python", src.rstrip(), "```", ""])


def _toml(path: Path) -> str:
    src = path.read_text()
    head = [ln.lstrip("# ").rstrip() for ln in src.splitlines() if ln.startswith("#")]
    title = head[0] if head else path.stem
    return "\n".join([f"## {title}", "", f"`examples/{path.name}`", "", " ".join(head[1:]), "",
                      "```toml", src.rstrip(), "```", ""])


def gallery() -> str:
    parts = [_python(p) for p in sorted((ROOT / "examples").glob("*.py"))]
    parts += [_toml(p) for p in sorted((ROOT / "examples").glob("*.toml"))]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_path.replace("\\", "/") == "examples/index.md":
        return markdown.replace(MARKER, gallery())
    return markdown
