"""The site and PDF options, read from the project's `_quarto.yml`.

Quarto and the built-in renderer share this one file: every option lives there, this
module only reads and checks it. Keys used by the built-in renderer:

- `lang`;
- `website.title`, `website.navbar.left` / `right` (items with `href` and `text`),
  `website.page-footer` (Markdown, a string or a `left`/`center`/`right` mapping);
- `format.html.css` (files relative to the project, copied to `site/assets/` after the
  colours and font as CSS custom properties);
- `format.typst`: `papersize`, `margin` (`x`, `y`, …), `mainfont`, `fontsize`,
  `font-paths` (folders holding the fonts, embedded in the PDFs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ticomex.errors import TicomexError
from ticomex.project import CONFIG_FILE, config_option
from ticomex.vega import resolve_font_paths


@dataclass(frozen=True)
class NavItem:
    href: str
    text: str


@dataclass(frozen=True)
class SiteConfig:
    path: Path
    text: str  # the file's bytes as text: part of every cache key
    lang: str
    title: str
    navbar: tuple[NavItem, ...]
    page_footer: str
    css: tuple[Path, ...]
    typst: dict  # the `format.typst` mapping, handed to the PDF template as is
    font_paths: tuple[Path, ...]

    @property
    def font(self) -> str:
        """The one font of the PDFs, the pages and the charts (`format.typst.mainfont`)."""
        return self.typst["mainfont"]


def _get(tree: dict, dotted: str, path: Path, kind: type | tuple[type, ...]):
    node = config_option(tree, dotted, path)
    if not isinstance(node, kind):
        raise TicomexError(f"{path}: option `{dotted}` has the wrong type ({type(node).__name__})")
    return node


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def load_config(project: Path) -> SiteConfig:
    """Read and check `<project>/_quarto.yml`; a clear error names the file and the key."""
    path = Path(project) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TicomexError(f"{path}: missing (the site and PDF options live there)") from None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise TicomexError(
            f"{path}{where}: not valid YAML ({getattr(err, 'problem', err)})"
        ) from None
    if not isinstance(tree, dict):
        raise TicomexError(f"{path}: expected a mapping of options")

    navbar = []
    nav_tree = tree.get("website", {}).get("navbar", {}) or {}
    for side in ("left", "right"):
        for item in nav_tree.get(side, []) or []:
            if not isinstance(item, dict) or "href" not in item or "text" not in item:
                raise TicomexError(
                    f"{path}: website.navbar.{side}: each item needs `href` and `text`"
                )
            navbar.append(NavItem(str(item["href"]), str(item["text"])))

    footer = tree.get("website", {}).get("page-footer", "")
    if isinstance(footer, dict):
        footer = "\n\n".join(str(footer[k]) for k in ("left", "center", "right") if k in footer)

    css = []
    for name in _as_list(tree.get("format", {}).get("html", {}).get("css", [])):
        css_path = (path.parent / name).resolve()
        if not css_path.is_file():
            raise TicomexError(f"{path}: format.html.css: {name} not found")
        css.append(css_path)

    typst = _get(tree, "format.typst", path, dict)
    for key, kind in (("papersize", str), ("margin", dict), ("mainfont", str), ("fontsize", str)):
        _get(tree, f"format.typst.{key}", path, kind)
    font_paths = resolve_font_paths(_get(tree, "format.typst.font-paths", path, (list, str)), path)

    return SiteConfig(
        path=path,
        text=text,
        lang=str(_get(tree, "lang", path, str)),
        title=str(_get(tree, "website.title", path, str)),
        navbar=tuple(navbar),
        page_footer=str(footer or ""),
        css=tuple(css),
        typst=typst,
        font_paths=font_paths,
    )
