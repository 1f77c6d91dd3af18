"""`ticomex render`: the executed notebooks → the HTML site and one PDF per department.

quarto renders when it is on PATH; otherwise the built-in renderer produces the same
site and PDFs from the same `_quarto.yml`. Modules, one concern each:

- `publish`: `render()`, the staging folder and the publication at once, `RenderReport`;
- `builtin`: the built-in engine, tasks of a region's departments, cached per department;
- `pool`: the worker processes, `RenderWorkers` started ahead;
- `session`: `RenderSession`, what a render process keeps between departments;
- `quarto`: the quarto engine;
- `assets`: the Vega bundle, the script, the stylesheets (colours and font) and chart data;
- `notebook`, `config`, `cache`, `html`, `pdf`: reading notebooks and `_quarto.yml`, the
  render cache's keys, the pages, the PDFs.
"""

from ticomex.render.pool import RenderWorkers
from ticomex.render.publish import RenderReport, render
from ticomex.render.session import RenderSession

__all__ = ["RenderReport", "RenderSession", "RenderWorkers", "render"]
