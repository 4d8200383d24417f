"""An inline SVG bar chart of invocations and failures per time bucket (no scripts, no libraries)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from cronbridge.store.views import Bucket

WIDTH, HEIGHT, LEFT, BOTTOM = 720, 160, 36, 20


def svg(buckets: list[Bucket], since: float, until: float, width: float) -> str:
    """Bars of invocations (grey) with their failures (red) stacked in front, one bar per bucket."""
    slots = max(1, round((until - since) / width))
    peak = max((b.total for b in buckets), default=0)
    scale = (HEIGHT - BOTTOM - 10) / max(peak, 1)
    bar = (WIDTH - LEFT) / slots
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        ' aria-label="invocations and failures">',
        f"<title>{sum(b.total for b in buckets)} invocations, {sum(b.failed for b in buckets)} failed</title>",
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="14" class="label" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" class="label" text-anchor="end">0</text>',
    ]
    for b in buckets:
        index = min(slots - 1, int((b.start - since) // width))
        parts.append(_bar(b, LEFT + index * bar, bar, scale))
    parts.extend(_ticks(since, until, slots, bar))
    parts.append("</svg>")
    return "".join(parts)


def _bar(b: Bucket, x: float, bar: float, scale: float) -> str:
    label = escape(f"{_stamp(b.start)}: {b.total} invocations, {b.failed} failed")
    bars = _rect("ok", x, bar, b.total * scale) + _rect("failed", x, bar, b.failed * scale)
    return f"<g><title>{label}</title>{bars}</g>"


def _rect(kind: str, x: float, bar: float, height: float) -> str:
    top = HEIGHT - BOTTOM - height
    return f'<rect class="{kind}" x="{x + 1:.1f}" y="{top:.1f}" width="{max(bar - 2, 1):.1f}" height="{height:.1f}"/>'


def _ticks(since: float, until: float, slots: int, bar: float) -> list[str]:
    marks = []
    for i in range(0, slots + 1, max(1, slots // 6)):
        instant = since + (until - since) * i / slots
        x = LEFT + i * bar
        anchor = "end" if i == slots else "start" if i == 0 else "middle"
        marks.append(f'<text x="{x:.1f}" y="{HEIGHT - 4}" class="label" text-anchor="{anchor}">')
        marks.append(f"{_stamp(instant)}</text>")
    return marks


def _stamp(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%m-%d %H:%M")
