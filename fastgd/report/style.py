"""One stable colour, marker, line style and hatch per method and per backend.

Every figure of the report takes its styles from here, so ``sgd`` has the same
colour in the convergence plot as in the timing plot, and ``torch`` the same
hatch in every bar chart.  Colours come from the Okabe-Ito palette (readable by
colour-blind readers).  Names not listed (a user's own optimizer, a new peer)
get a style picked deterministically from a spare palette by a CRC32 of the
name, so they are stable from one report to the next as well.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

__all__ = [
    "BACKEND_ORDER",
    "METHOD_ORDER",
    "Style",
    "backend_style",
    "method_style",
    "ordered",
    "style_of_label",
]


class Style(NamedTuple):
    """How one method or backend is drawn."""

    color: str
    marker: str
    linestyle: str | tuple[float, tuple[float, ...]]
    hatch: str
    label: str


METHOD_ORDER: tuple[str, ...] = ("batch", "sgd", "minibatch", "adam")
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

_SPARE_COLORS = ("#882255", "#44AA99", "#999933", "#AA4499", "#117733", "#661100")
_SPARE_MARKERS = ("v", "X", "*", "h", "<", ">")
_SPARE_LINESTYLES = ("--", "-.", ":")
_SPARE_HATCHES = ("++", "oo", "--", "||", "..", "//", "xx")


def _spare_style(name: str) -> Style:
    digest = zlib.crc32(name.encode("utf-8"))
    return Style(
        color=_SPARE_COLORS[digest % len(_SPARE_COLORS)],
        marker=_SPARE_MARKERS[(digest // 7) % len(_SPARE_MARKERS)],
        linestyle=_SPARE_LINESTYLES[(digest // 49) % len(_SPARE_LINESTYLES)],
        hatch=_SPARE_HATCHES[(digest // 147) % len(_SPARE_HATCHES)],
        label=name,
    )


def method_style(method: str) -> Style:
    """Return the style of a method (``batch``, ``sgd``, ``minibatch``, ``adam`` or another name)."""
    return _METHOD_STYLES.get(str(method), None) or _spare_style(str(method))


def _family(name: str) -> str:
    """``"fastgd-2threads"`` -> ``"fastgd"``: the part before the first ``-``."""
    return name.split("-", 1)[0]


def backend_style(backend: str) -> Style:
    """Return the style of a backend (``fastgd``, ``distributed``, ``numpy``, ``sklearn``, ``torch``, ...).

    A variant of a known backend (``fastgd-2threads``, ``numpy-gemv``: the backend,
    a ``-``, then anything) keeps its backend's colour and marker, with its own hatch
    and its full name as label.
    """
    name = str(backend)
    if name in _BACKEND_STYLES:
        return _BACKEND_STYLES[name]
    family = _BACKEND_STYLES.get(_family(name))
    if family is None:
        return _spare_style(name)
    return family._replace(hatch=_spare_style(name).hatch, label=name)


def ordered(names: object, preferred: tuple[str, ...]) -> list[str]:
    """Sort names with the ``preferred`` ones first, in that order, then the rest alphabetically.

    A variant ``<preferred name>-<anything>`` sorts right after its preferred name.

    Parameters
    ----------
    names : iterable of str
        The names present (duplicates are dropped).
    preferred : tuple of str
        :data:`METHOD_ORDER` or :data:`BACKEND_ORDER`.

    Returns
    -------
    list of str
    """
    unique = {str(name) for name in names}  # type: ignore[attr-defined]

    def rank(name: str) -> tuple[int, int, str]:
        for position, known in enumerate(preferred):
            if name == known:
                return (position, 0, name)
            if _family(name) == known:
                return (position, 1, name)
        return (len(preferred), 0, name)

    return sorted(unique, key=rank)


def style_of_label(label: str) -> Style:
    """The style whose label starts ``label`` (``"mini-batch b=32"`` -> mini-batch), longest match first."""
    known = sorted((*_METHOD_STYLES.values(), *_BACKEND_STYLES.values()), key=lambda style: -len(style.label))
    for style in known:
        if label == style.label or label.startswith(style.label + " "):
            return style
    return _spare_style(label)
