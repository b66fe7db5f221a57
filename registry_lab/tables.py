"""Plain tables for the terminal and HTML tables for notebooks, from the same rows."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

__all__ = ["html_table", "text_table"]


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(char) else 1 for char in text)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces; a cell may hold several lines."""
    split = [[cell.splitlines() or [""] for cell in row] for row in rows]
    widths = [_width(header) for header in headers]
    for row in split:
        for index, lines in enumerate(row):
            widths[index] = max(widths[index], *(_width(line) for line in lines))

    def line(cells: Sequence[str]) -> str:
        padded = (cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(cells))
        return "  ".join(padded).rstrip()

    out = [line(headers), line(["─" * width for width in widths])]
    for row in split:
        for depth in range(max(len(lines) for lines in row)):
            out.append(line([lines[depth] if depth < len(lines) else "" for lines in row]))
    return "\n".join(out)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """An HTML table; line breaks inside a cell are kept."""
    head = "".join(f'<th style="text-align:left">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:left;vertical-align:top">'
            f"{escape(cell).replace(chr(10), '<br>')}</td>"
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    title = (
        f"<caption style='text-align:left'><b>{escape(caption)}</b></caption>" if caption else ""
    )
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
