"""Charts drawn on the server as SVG: no JavaScript, nothing fetched.

Each chart is an image (``role="img"``) with a ``<title>`` and points with
``aria-describedby`` to the table that holds its numbers: a screen reader reads the
table, not the drawing. The drawing scales to its container (``viewBox``, width 100 %),
so it fits a 375-pixel screen. Every text put in it is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: Colours with a contrast of at least 3:1 on white (WCAG 1.4.11 for graphics).
BAR = "#1f5fa8"
LINES = ("#1f5fa8", "#b34700")
DASHES = ("", "6 4")
GRID = "#767676"


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def funnel_bars(steps: Sequence[tuple[str, int]], title: str, described_by: str) -> Markup:
    """One horizontal bar per step, as long as its count relative to the first step's,
    labelled with its name and count."""
    width, label_width, row = 600, 190, 34
    height = row * len(steps) + 10
    largest = max((count for _name, count in steps), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="100%" viewBox="0 0 {width} {height}" '
             f'aria-labelledby="{escape(described_by)}-title" '
             f'aria-describedby="{escape(described_by)}">',
             f'<title id="{escape(described_by)}-title">{escape(title)}</title>']
    room = width - label_width - 70
    for index, (name, count) in enumerate(steps):
        y = 5 + index * row
        length = room * count / largest
        parts.append(f'<text x="{label_width - 8}" y="{y + 21}" text-anchor="end" '
                     f'font-size="15" fill="#1a1a1a">{escape(name)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{_number(length)}" '
                     f'height="{row - 10}" fill="{BAR}"/>')
        parts.append(f'<text x="{_number(label_width + length + 6)}" y="{y + 21}" '
                     f'font-size="15" fill="#1a1a1a">{count:,}</text>'.replace(",", "\u202f"))
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_lines(months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                title: str, described_by: str) -> Markup:
    """Lines of percentages (0–1) per month, one per series (a gap where a month has no
    value), a 0–100 % scale and a legend."""
    width, height, left, right, top, bottom = 600, 300, 48, 12, 16, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="100%" viewBox="0 0 {width} {height}" '
             f'aria-labelledby="{escape(described_by)}-title" '
             f'aria-describedby="{escape(described_by)}">',
             f'<title id="{escape(described_by)}-title">{escape(title)}</title>']
    for tick in range(0, 101, 25):
        y = top + plot_h * (1 - tick / 100)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{_number(y)}" '
                     f'y2="{_number(y)}" stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(f'<text x="{left - 6}" y="{_number(y + 5)}" text-anchor="end" '
                     f'font-size="13" fill="#1a1a1a">{tick} %</text>')
    step = plot_w / max(len(months) - 1, 1)

    def x(index: int) -> float:
        return left + step * index if len(months) > 1 else left + plot_w / 2

    every = max(1, -(-len(months) // 6))
    for index, month in enumerate(months):
        if index % every == 0 or index == len(months) - 1:
            parts.append(f'<text x="{_number(x(index))}" y="{top + plot_h + 18}" '
                         f'text-anchor="middle" font-size="13" fill="#1a1a1a">'
                         f'{escape(month)}</text>')
    for number, (name, values) in enumerate(series):
        colour, dash = LINES[number % len(LINES)], DASHES[number % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments = []
        for index, value in enumerate(values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            point = f"{_number(x(index))},{_number(top + plot_h * (1 - value))}"
            segment.append(point)
            parts.append(f'<circle cx="{point.split(",")[0]}" cy="{point.split(",")[1]}" '
                         f'r="3" fill="{colour}"/>')
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                         f'stroke="{colour}" stroke-width="2.5"{dashed}/>')
        legend_y = height - 14
        legend_x = left + number * 260
        parts.append(f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{legend_y - 5}" '
                     f'y2="{legend_y - 5}" stroke="{colour}" stroke-width="2.5"{dashed}/>')
        parts.append(f'<text x="{legend_x + 34}" y="{legend_y}" font-size="14" '
                     f'fill="#1a1a1a">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
