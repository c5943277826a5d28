"""A small GitHub-flavoured Markdown table formatter (``DataFrame.to_markdown`` needs ``tabulate``)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["markdown_table"]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def markdown_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    align: Sequence[str] | None = None,
) -> str:
    """Format rows as a Markdown pipe table.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        Cell values, already formatted (``str(value)`` is used; ``None`` is empty);
        ``|`` and backslashes are escaped and line breaks become spaces.
    align : sequence of {"l", "r", "c"}, optional
        Alignment of each column (default: left).

    Returns
    -------
    str
        The table, one line per row, ending with a newline.

    Raises
    ------
    ValueError
        A row or ``align`` does not have one entry per header.
    """
    width = len(headers)
    align = list(align) if align is not None else ["l"] * width
    if len(align) != width:
        raise ValueError(f"align has {len(align)} entries for {width} columns")
    for number, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"row {number} has {len(row)} cells for {width} columns")
    rules = {"l": ":---", "r": "---:", "c": ":---:"}
    try:
        separator = [rules[kind] for kind in align]
    except KeyError as error:
        raise ValueError(f"alignment must be 'l', 'r' or 'c', got {error.args[0]!r}") from None
    lines = [
        "| " + " | ".join(_cell(header) for header in headers) + " |",
        "| " + " | ".join(separator) + " |",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
