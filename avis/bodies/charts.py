"""The body's monthly trend drawn on the server as SVG (see ``avis.monitoring.charts``):
an image whose numbers are in the table it points to with ``aria-describedby``."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from avis.monitoring.charts import BAR, GRID, LINES

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 600, 240, 44, 12, 14, 30


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(title: str, described_by: str, kind: str) -> list[str]:
    title_id = escape(f"{described_by}-{kind}")
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{title_id}" '
            f'aria-describedby="{escape(described_by)}">',
            f'<title id="{title_id}">{escape(title)}</title>']


def _months_axis(labels: Sequence[str], x: list[float]) -> list[str]:
    every = max(1, -(-len(labels) // 6))
    return [f'<text x="{_n(x[i])}" y="{HEIGHT - 8}" text-anchor="middle" font-size="13" '
            f'fill="#1a1a1a">{escape(label)}</text>'
            for i, label in enumerate(labels) if i % every == 0 or i == len(labels) - 1]


def answers_bars(labels: Sequence[str], counts: Sequence[int], title: str,
                 described_by: str) -> Markup:
    """One bar per month, as high as its answers."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    largest = max(counts, default=0) or 1
    slot = plot_w / max(len(counts), 1)
    parts = _frame(title, described_by, "bars")
    for tick in (0, largest):
        y = TOP + plot_h * (1 - tick / largest)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" '
                     f'stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_n(y + 5)}" text-anchor="end" font-size="13" '
                     f'fill="#1a1a1a">{tick}</text>')
    centres = []
    for index, count in enumerate(counts):
        height = plot_h * count / largest
        x = LEFT + slot * index
        centres.append(x + slot / 2)
        if count:
            parts.append(f'<rect x="{_n(x + slot * 0.15)}" y="{_n(TOP + plot_h - height)}" '
                         f'width="{_n(slot * 0.7)}" height="{_n(height)}" fill="{BAR}"/>')
    parts += _months_axis(labels, centres)
    parts.append("</svg>")
    return Markup("".join(parts))


def marks_line(labels: Sequence[str], means: Sequence[float | None], title: str,
               described_by: str, reference: float | None = None) -> Markup:
    """The mean mark per month on a 1–5 scale (a gap where a month shows none), and a
    dashed line at ``reference`` (the région's mean) when given."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(means), 1)

    def y(mark: float) -> float:
        return TOP + plot_h * (5 - mark) / 4

    parts = _frame(title, described_by, "line")
    for tick in range(1, 6):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y(tick))}" '
                     f'y2="{_n(y(tick))}" stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_n(y(tick) + 5)}" text-anchor="end" '
                     f'font-size="13" fill="#1a1a1a">{tick}</text>')
    if reference is not None:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y(reference))}" '
                     f'y2="{_n(y(reference))}" stroke="{LINES[1]}" stroke-width="2" '
                     f'stroke-dasharray="6 4"/>')
    centres = [LEFT + slot * (i + 0.5) for i in range(len(means))]
    segment: list[str] = []
    segments = []
    for index, mean in enumerate(means):
        if mean is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        point = (_n(centres[index]), _n(y(mean)))
        segment.append(",".join(point))
        parts.append(f'<circle cx="{point[0]}" cy="{point[1]}" r="3.5" fill="{LINES[0]}"/>')
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                         f'stroke="{LINES[0]}" stroke-width="2.5"/>')
    parts += _months_axis(labels, centres)
    parts.append("</svg>")
    return Markup("".join(parts))
