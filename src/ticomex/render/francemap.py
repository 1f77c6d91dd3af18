"""The index's map: France's departments, each a link to its sheet, coloured by classes
of an indicator (exports, imports, balance).

The geometry is `fr.departments.svg` of the `pygal_maps_fr` package, read from the
installed package when the index is written (nothing fetched, nothing copied into the
project): metropolitan departments, Paris and its inner ring enlarged, the overseas
departments as insets. Its coordinates are rounded to whole units of its 2000-unit wide
frame (under half a pixel at the size shown), which brings its 600 KB to about a third.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from importlib.resources import files

from ticomex.errors import TicomexError

GEOMETRY_PACKAGE = "pygal_maps_fr"
GEOMETRY_FILE = "fr.departments.svg"
SVG_NS = "{http://www.w3.org/2000/svg}"
# The map's department ids (`z<INSEE code>`) whose code differs from the release's.
RELEASE_CODES = {"2A": "20", "2B": "20", "971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9E"}
# Shapes of the map that are no department of the release (Saint-Pierre-et-Miquelon).
NOT_IN_RELEASE = {"975"}
INSET_GROUPS = {"paris-petite-couronne": "Paris et petite couronne", "dom-com": "Outre-mer"}

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOKEN = re.compile(r"[MmLlCcZzHhVv]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARITY = {"m": 2, "l": 2, "c": 6, "h": 1, "v": 1, "z": 0}


@dataclass(frozen=True)
class Shape:
    code: str | None  # the release's department code; None: no sheet
    paths: tuple[str, ...]  # `d` attributes, rounded
    transform: str | None  # the transform of the group holding it


def compact_path(d: str) -> str:
    """`d` with every point rounded to whole units, written relative to the previous
    rounded point (no drift), curves kept; commands supported: M L C H V Z, either case."""
    tokens = _TOKEN.findall(d)
    out: list[str] = []
    x = y = start_x = start_y = 0.0  # exact current point and subpath start
    rx = ry = 0  # the rounded current point, what the written path has reached
    command, i = None, 0
    while i < len(tokens):
        if not _NUMBER.fullmatch(tokens[i]):
            command = tokens[i]
            i += 1
            if command in "zZ":
                out.append("z")
                x, y = start_x, start_y
                rx, ry = round(x), round(y)
                continue
        if command is None:
            raise TicomexError(f"{GEOMETRY_FILE}: a path starts with a number")
        lower = command.lower()
        arity = _ARITY[lower]
        args = [float(v) for v in tokens[i : i + arity]]
        if len(args) < arity:
            raise TicomexError(f"{GEOMETRY_FILE}: incomplete path command {command}")
        i += arity
        relative = command.islower()
        if lower == "h":
            args, lower = ([args[0], 0.0] if relative else [args[0], y]), "l"
        elif lower == "v":
            args, lower = ([0.0, args[0]] if relative else [x, args[0]]), "l"
        points = []
        for px, py in zip(args[0::2], args[1::2]):
            points.append((x + px, y + py) if relative else (px, py))
        rounded = [(round(px), round(py)) for px, py in points]
        deltas = [f"{qx - rx},{qy - ry}" for qx, qy in rounded]
        if lower == "m":
            out.append("m" + deltas[0])
            start_x, start_y = points[0]
        else:
            out.append(("l" if lower == "l" else "c") + " ".join(deltas))
        x, y = points[-1]
        rx, ry = rounded[-1]
        if lower == "m":  # pairs after a moveto are linetos
            command = "l" if relative else "L"
    text = "".join(out)
    return text.replace(",-", "-").replace(" -", "-")


@lru_cache(maxsize=1)
def map_shapes() -> tuple[tuple[str, ...], tuple[Shape, ...]]:
    """The map's viewBox and its shapes, from the installed package (read once a process)."""
    try:
        import pygal_maps_fr  # the declared dependency that ships the geometry

        source = files(pygal_maps_fr).joinpath(GEOMETRY_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise TicomexError(f"the map's geometry ({GEOMETRY_PACKAGE}/{GEOMETRY_FILE}) is missing: {err}") from None
    root = ET.fromstring(source)
    shapes = []
    for group in root.iter(f"{SVG_NS}g"):
        transform = group.get("transform")
        for child in group.findall(f"{SVG_NS}g"):
            ident = next((c[1:] for c in (child.get("class") or "").split() if c.startswith("z")), None)
            if ident is None:
                continue
            code = None if ident in NOT_IN_RELEASE else RELEASE_CODES.get(ident, ident)
            paths = tuple(compact_path(p.get("d", "")) for p in child.iter(f"{SVG_NS}path"))
            shapes.append(Shape(code, paths, transform))
    return tuple(root.get("viewBox", "0 0 2000 1898").split()), tuple(shapes)


def quantile_classes(values: dict[str, int], count: int) -> dict[str, int]:
    """Each code's class, 0 to count - 1, by rank: as many departments in each class."""
    ranked = sorted(values, key=lambda code: (values[code], code))
    return {code: rank * count // len(ranked) for rank, code in enumerate(ranked)}


def balance_classes(values: dict[str, int]) -> dict[str, int]:
    """0, 1: deficits (the larger half, then the smaller); 2, 3: surpluses (the smaller
    half, then the larger)."""
    deficits = {c: -v for c, v in values.items() if v < 0}
    surpluses = {c: v for c, v in values.items() if v >= 0}
    classes = {c: 1 - k for c, k in quantile_classes(deficits, 2).items()} if deficits else {}
    if surpluses:
        classes.update({c: 2 + k for c, k in quantile_classes(surpluses, 2).items()})
    return classes


@dataclass(frozen=True)
class MapDepartment:
    code: str
    label: str  # "Ardèche (07)"
    href: str
    classes: dict[str, int]  # indicator → class
    title: str  # what hovering and screen readers read


def map_svg(departments: list[MapDepartment], title_id: str) -> str:
    """The map as inline SVG: one link per department shape (Corsica's two shapes and the
    enlarged Paris ring link to the same sheets), the insets labelled."""
    view_box, shapes = map_shapes()
    by_code = {d.code: d for d in departments}
    groups: dict[str | None, list[str]] = {}
    for shape in shapes:
        paths = "".join(f'<path d="{d}"/>' for d in shape.paths)
        department = by_code.get(shape.code) if shape.code else None
        if department is None:
            item = f'<g class="sans-fiche">{paths}</g>'
        else:
            data = "".join(f' data-{name}="{value}"' for name, value in sorted(department.classes.items()))
            item = (
                f'<a href="{escape(department.href)}" data-code="{department.code}"{data}>'
                f"<title>{escape(department.title)}</title>{paths}</a>"
            )
        groups.setdefault(shape.transform, []).append(item)
    body = "".join(
        f'<g transform="{escape(t)}">{"".join(items)}</g>' if t else "".join(items) for t, items in groups.items()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{" ".join(view_box)}" '
        f'role="group" aria-labelledby="{title_id}" class="carte-svg">{body}</svg>'
    )
