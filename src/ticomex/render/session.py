"""What one render process keeps from a department to the next: `RenderSession`.

A render worker builds one session when it starts (`pool.start_worker`), an in-process
render builds its own; the functions that use it take it as an argument. Only the work
that costs measurably per department is kept (figures: 10 departments of one region,
8 charts and 27 Markdown blocks a sheet, about 230 ms a department):

- `typst_by_markdown`: a Markdown block's typst. The sheets share most of their text;
  pandoc on a sheet's blocks costs about 50 ms.
- `typst_templates`: the filled typst template's lines for one set of sheet options
  (pandoc, about 20 ms a sheet).
- `converters`: a `ticomex.vega.SvgConverter` per set of font folders, for the charts
  whose notebook output has no SVG (notebooks executed before outputs carried one): it
  keeps the Vega compilation of each chart kind (about 60 ms for a sheet's 8 charts) and
  the font folders given to vl-convert (about 6 ms each).
- `compilers`: a typst compiler per (root, fonts): a reused one typesets a sheet in
  25-45 ms instead of 65 ms (it reads the fonts and images once).

Not kept, as they cost under 5 ms a page: the Markdown parser and each block's HTML
(2.5 ms a sheet), the Jinja templates (5 ms a page), vl-convert's settings (none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ticomex.vega import SvgConverter


@dataclass
class RenderSession:
    """Per-process memory of the built-in renderer; a fresh one forgets everything."""

    typst_by_markdown: dict[str, str] = field(default_factory=dict)
    typst_templates: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    converters: dict[tuple[Path, ...], SvgConverter] = field(default_factory=dict)
    compilers: dict[tuple[Path, tuple[Path, ...]], object] = field(default_factory=dict)
    # pandoc, Markdown → typst: `pdf.markdown_to_typst` unless a test counts the runs.
    pandoc: Callable[..., str] | None = None

    def converter(self, font_paths: tuple[Path, ...]) -> SvgConverter:
        """This process's SVG converter for these fonts."""
        if font_paths not in self.converters:
            self.converters[font_paths] = SvgConverter(font_paths)
        return self.converters[font_paths]
