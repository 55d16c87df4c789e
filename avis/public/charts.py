"""Geometry of the server-rendered SVG charts (the templates draw them).

Every chart is decoration over numbers the page also gives as text: the SVG is
``aria-hidden`` and its text equivalent sits next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from avis.scores.models import Score

#: Drawing width of the score scale, in SVG units (it scales with the page).
SCALE_WIDTH = 320
#: Horizontal margin, so that the marks 1 and 5 are not cut.
SCALE_PAD = 12
#: Width of a full distribution bar.
BAR_WIDTH = 200


def _x(mark: float) -> float:
    """Position of ``mark`` (1–5) on the scale."""
    return round(SCALE_PAD + (mark - 1) / 4 * (SCALE_WIDTH - 2 * SCALE_PAD), 1)


@dataclass(frozen=True)
class ScoreScale:
    """A 1–5 axis with the fair score, its 90 % interval and the regional mean."""

    ticks: list[tuple[int, float]]
    score: float
    low: float | None
    high: float | None
    prior: float | None
    width: int = SCALE_WIDTH


def score_scale(score: Score) -> ScoreScale | None:
    if not score.shown or score.fair_score is None:
        return None
    return ScoreScale(
        ticks=[(mark, _x(mark)) for mark in range(1, 6)],
        score=_x(score.fair_score),
        low=_x(score.fair_score_low) if score.fair_score_low is not None else None,
        high=_x(score.fair_score_high) if score.fair_score_high is not None else None,
        prior=_x(score.prior_mean) if score.prior_mean is not None else None,
    )


@dataclass(frozen=True)
class Bar:
    mark: int
    count: int
    share: float
    length: float


def distribution_bars(distribution: dict[str, int] | None) -> list[Bar]:
    """One bar per mark 5 → 1, as long as its share of the answers."""
    counts = {int(mark): int(n) for mark, n in (distribution or {}).items()}
    total = sum(counts.values())
    return [Bar(mark=mark, count=counts.get(mark, 0),
                share=counts.get(mark, 0) / total if total else 0.0,
                length=round(BAR_WIDTH * counts.get(mark, 0) / total, 1) if total else 0.0)
            for mark in range(5, 0, -1)]
