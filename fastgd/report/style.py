"""One stable colour, marker, line style and hatch per method and per backend.

Every figure takes its styles from here, so ``sgd`` has the same colour in
every plot and ``torch`` the same hatch in every bar chart.  Colours are from
the Okabe-Ito palette (readable by colour-blind readers).  Other names (a
user's own method, a new peer) get a style picked from a spare palette by a
CRC32 of the name, stable from one report to the next.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

import fastgd

__all__ = ["BACKEND_ORDER", "METHOD_ORDER", "Style", "backend_style", "method_style", "style_of_label"]


class Style(NamedTuple):
    """How one method or backend is drawn."""

    color: str
    marker: str
    linestyle: str | tuple[float, tuple[float, ...]]
    hatch: str
    label: str


METHOD_ORDER: tuple[str, ...] = tuple(fastgd.METHODS)
BACKEND_ORDER: tuple[str, ...] = ("fastgd", "distributed", "numpy", "sklearn", "torch")

_METHOD_STYLES: dict[str, Style] = {
    "batch": Style("#0072B2", "o", "-", "", "batch GD"),
    "sgd": Style("#D55E00", "s", "-", "", "SGD"),
    "minibatch": Style("#009E73", "^", "-", "", "mini-batch"),
    "adam": Style("#CC79A7", "D", "-", "", "Adam"),
}
_BACKEND_STYLES: dict[str, Style] = {
    "fastgd": Style("#E69F00", "o", "-", "", "fastgd"),
    "distributed": Style("#332288", "P", (0, (5, 1, 1, 1, 1, 1)), "\\\\", "fastgd distributed (dask)"),
    "numpy": Style("#56B4E9", "s", "--", "//", "NumPy"),
    "sklearn": Style("#7F7F7F", "^", "-.", "..", "scikit-learn"),
    "torch": Style("#B2182B", "D", ":", "xx", "PyTorch"),
}
_SPARE = (
    ("#882255", "#44AA99", "#999933", "#AA4499", "#117733", "#661100"),
    ("v", "X", "*", "h", "<", ">"),
    ("--", "-.", ":"),
    ("++", "oo", "--", "||", "..", "//", "xx"),
)


def _spare_style(name: str) -> Style:
    digest = zlib.crc32(name.encode("utf-8"))
    colors, markers, lines, hatches = _SPARE
    return Style(
        colors[digest % len(colors)],
        markers[(digest // 7) % len(markers)],
        lines[(digest // 49) % len(lines)],
        hatches[(digest // 147) % len(hatches)],
        name,
    )


def method_style(method: str) -> Style:
    """The style of a method (``batch``, ``sgd``, ``minibatch``, ``adam`` or another name)."""
    return _METHOD_STYLES.get(str(method)) or _spare_style(str(method))


def backend_style(backend: str) -> Style:
    """The style of a backend (``fastgd``, ``distributed``, ``numpy``, ``sklearn``, ``torch``, ...).

    A variant ``<backend>-<anything>`` (``fastgd-2threads``, ``numpy-gemv``, as
    pytest-benchmark ids name them) keeps its backend's colour and marker, with
    its own hatch and its full name as label.
    """
    name = str(backend)
    family = _BACKEND_STYLES.get(name.split("-", 1)[0])
    if name in _BACKEND_STYLES or family is None:
        return _BACKEND_STYLES.get(name) or _spare_style(name)
    return family._replace(hatch=_spare_style(name).hatch, label=name)


def style_of_label(label: str) -> Style:
    """The style whose label starts ``label`` (``"mini-batch b=32"`` -> mini-batch), longest match first."""
    known = sorted((*_METHOD_STYLES.values(), *_BACKEND_STYLES.values()), key=lambda style: -len(style.label))
    for style in known:
        if label == style.label or label.startswith(style.label + " "):
            return style
    return backend_style(label)
