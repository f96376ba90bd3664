"""Charts as inline SVG drawn on the server: no script, readable without colour.

Every chart has a title and a description for screen readers (``role="img"``), writes its
numbers next to the marks, and the page shows the same numbers in a table.
"""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#2f6f5e"
TRACK = "#dfe7e4"
INK = "#1d2a33"


def _frame(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> Markup:
    # Every interpolated text is escaped; numbers are numbers.
    return Markup(  # noqa: S704
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="14">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>{body}</svg>'
    )


def bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, int, int]]) -> Markup:
    """Horizontal bars of ``value / total`` per row, with ``value / total (pct %)`` written."""
    label_w, bar_w, text_w, row_h = 170, 300, 150, 30
    width = label_w + bar_w + text_w
    parts = []
    for i, (name, value, total) in enumerate(rows):
        y = 10 + i * row_h
        share = value / total if total else 0.0
        pct = round(share * 100)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{escape(name)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="20" fill="{TRACK}"/>'
            f'<rect x="{label_w}" y="{y}" width="{round(bar_w * share, 1)}" height="20" '
            f'fill="{BAR}"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 15}" fill="{INK}">'
            f"{value} / {total} ({pct}%)</text>"
        )
    return _frame(chart_id, title, desc, width, 20 + len(rows) * row_h, "".join(parts))


def funnel(chart_id: str, title: str, desc: str, steps: list[tuple[str, int]]) -> Markup:
    """A funnel: each step a centred bar as wide as its share of the first step."""
    width, row_h, bar_max = 620, 44, 420
    first = steps[0][1] if steps else 0
    parts = []
    for i, (name, value) in enumerate(steps):
        y = 10 + i * row_h
        share = value / first if first else 0.0
        w = max(2.0, round(bar_max * share, 1))
        x = 150 + (bar_max - w) / 2
        parts.append(
            f'<text x="140" y="{y + 21}" text-anchor="end" fill="{INK}">{escape(name)}</text>'
            f'<rect x="{x}" y="{y}" width="{w}" height="30" fill="{BAR}" fill-opacity="'
            f'{1 - i * 0.15:.2f}"/>'
            f'<text x="{150 + bar_max + 10}" y="{y + 21}" fill="{INK}">{value}</text>'
        )
    return _frame(chart_id, title, desc, width, 20 + len(steps) * row_h, "".join(parts))
