"""Tables a person can read: dates as dates, rounded numbers, lists joined, no index, a caption.

:func:`readable` turns any frame or series into a :class:`Table` that shows itself as captioned
HTML in JupyterLab and in the report (and as text elsewhere); an empty one says "none".
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

# Long text cells wrap; short ones (dates, names, numbers) never break one word per line.
STYLE = (
    "<style>.wa-table td, .wa-table th {white-space: nowrap; text-align: left; "
    "vertical-align: top} .wa-table td.wa-long {white-space: normal; min-width: 24em} "
    ".wa-table caption {caption-side: top; text-align: left; font-weight: 600; "
    "padding: 0.3em 0}</style>"
)


def cell_text(value: Any, *, digits: int = 2) -> str:
    """One value as a person writes it: ``2019-08-06`` for a timestamp, ``0.35`` for a float,
    lists joined with commas, nothing for a missing value."""
    if isinstance(value, list | tuple | set | np.ndarray):
        return ", ".join(cell_text(item, digits=digits) for item in value)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.{digits}f}"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


class Table:
    """A captioned table of text cells; shows as HTML in notebooks and as text elsewhere."""

    def __init__(self, frame: pd.DataFrame, caption: str, *, long: tuple[str, ...] = ()):
        self.frame = frame
        self.caption = caption
        self.long = long

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        if self.frame.empty:
            return f"{self.caption}: none"
        return f"{self.caption}\n{self.frame.to_string(index=False)}"

    def _repr_html_(self) -> str:
        caption = html.escape(self.caption)
        if self.frame.empty:
            return f'<p class="wa-none"><strong>{caption}</strong>: none</p>'
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        rows = []
        for values in self.frame.itertuples(index=False):
            cells = "".join(
                f'<td class="wa-long">{html.escape(v)}</td>'
                if column in self.long
                else f"<td>{html.escape(v)}</td>"
                for column, v in zip(self.frame.columns, values, strict=True)
            )
            rows.append(f"<tr>{cells}</tr>")
        return (
            f'{STYLE}<table class="wa-table"><caption>{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


def readable(
    data: pd.DataFrame | pd.Series,
    caption: str,
    *,
    rows: int | None = 20,
    columns: Mapping[str, str] | None = None,
    digits: int = 2,
    percent: tuple[str, ...] = (),
    long: tuple[str, ...] = (),
) -> Table:
    """``data`` as a :class:`Table` a person can read.

    Args:
        data: a frame, or a series (its index becomes the first column).
        caption: what the table shows (always shown; "none" follows it when empty).
        rows: show at most this many rows (None: all).
        columns: rename columns (old -> new); the others keep their names with ``_`` as spaces.
        digits: decimals of floats.
        percent: columns of shares (0.25) to show as percentages (25%).
        long: columns of long text that may wrap.
    """
    if isinstance(data, pd.Series):
        frame = data.reset_index()
    elif data.index.name is None and pd.api.types.is_integer_dtype(data.index.dtype):
        frame = data.reset_index(drop=True)  # row numbers left over from a filter or a sort
    else:
        frame = data.reset_index()  # a named index (period, topic) is a column worth showing
    if rows is not None:
        frame = frame.head(rows)
    text = pd.DataFrame(index=range(len(frame)))
    for column in frame.columns:
        values = frame[column].tolist()
        if str(column) == "year":  # 2019, not 2,019
            text[column] = ["" if pd.isna(v) else str(v) for v in values]
        elif column in percent:
            text[column] = [
                "" if pd.isna(v) else f"{100 * float(v):.{max(0, digits - 1)}f}%" for v in values
            ]
        else:
            text[column] = [cell_text(v, digits=digits) for v in values]
    names = {c: (columns or {}).get(str(c), str(c).replace("_", " ")) for c in text.columns}
    text = text.rename(columns=names)
    return Table(text, caption, long=tuple(names.get(c, c) for c in long))
