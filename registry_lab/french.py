"""Numbers as a French reader expects them: sizes in French units, thin-space thousands, plurals.

```python
format_size(1_900_000)       # '1,9 Mo'
format_number(10_000)        # '10 000' (a narrow no-break space between thousands)
plural(2, "couche")          # '2 couches'
```
"""

from __future__ import annotations

__all__ = ["format_number", "format_size", "plural"]


def format_number(value: float, decimals: int = 0) -> str:
    """``value`` with a decimal comma and a narrow no-break space between thousands."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def format_size(size: int) -> str:
    """A size in French units (powers of 1000, as Docker shows them): ``« 1,9 Mo »``.

    ```python
    format_size(512)        # '512 o'
    format_size(1_900_000)  # '1,9 Mo'
    ```
    """
    if size < 1000:
        return f"{size} o"
    value = float(size)
    for unit in ("ko", "Mo", "Go", "To"):
        value /= 1000
        if value < 1000 or unit == "To":
            break
    return f"{format_number(value, 1)} {unit}"


def plural(count: int, word: str) -> str:
    """``1 couche``, ``2 couches``: the word takes an ``s`` above one (``0 couche``)."""
    return f"{count} {word}{'s' if count > 1 else ''}"
